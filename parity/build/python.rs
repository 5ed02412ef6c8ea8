//! Which Python packages the interop tests can use. A test whose packages are missing is
//! `#[ignore]`d with the reason (cfg `python_<name>` unset); under `CI=true` a missing
//! package fails the build naming it, so CI never passes an interop test it did not run.

use std::process::Command;

/// (cfg name, import line, packages to name in messages)
const PROBES: &[(&str, &str, &str)] = &[
    (
        "python_safetensors",
        "import safetensors.numpy, numpy",
        "safetensors and numpy",
    ),
    (
        "python_tensorboard",
        "from tensorboard.backend.event_processing import event_accumulator",
        "tensorboard",
    ),
];

pub fn probe() {
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-env-changed=PATH");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    for (cfg, import, packages) in PROBES {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        let found = Command::new("python3")
            .args(["-c", import])
            .status()
            .is_ok_and(|s| s.success());
        if found {
            println!("cargo::rustc-cfg={cfg}");
        } else if ci {
            panic!(
                "CI=true, but python3 cannot `{import}`: install {packages} (`.ci/run` does) \
                 so the interop tests run"
            );
        }
    }
}
