//! I1 of benches/protocol.rs for the exported binary classifier: nanoseconds per `forward`
//! at batch 1, the median of five runs of 100,000 calls (`--quick`: one run of 6,250). Also
//! prints the fastest of 25 runs, the better estimate on a machine busy with other work. The
//! f32 and int8 files are timed in turn, so they share the machine's state.
//!
//! `cargo bench -p staticnn-export-check`

use std::time::Instant;

use staticnn_export_check::{binary_classifier, binary_classifier_int8};

type Forward = fn(&[f32; 2]) -> [f32; 1];

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (runs, calls) = if quick { (1, 6_250) } else { (5, 100_000) };
    let files: [(&str, Forward); 2] = [
        ("f32", binary_classifier::forward),
        ("int8", binary_classifier_int8::forward),
    ];
    let ns = |runs: usize| -> [Vec<f64>; 2] {
        let mut t = [Vec::new(), Vec::new()];
        for _ in 0..runs {
            for (times, (_, forward)) in t.iter_mut().zip(files) {
                times.push(time(forward, calls) * 1e9 / calls as f64);
            }
        }
        t.iter_mut().for_each(|t| t.sort_by(f64::total_cmp));
        t
    };
    let medians = ns(runs).map(|t| t[t.len() / 2]);
    let fastest = (!quick).then(|| ns(25).map(|t| t[0]));
    for (i, (name, _)) in files.iter().enumerate() {
        print!(
            "exported binary classifier ({name}), batch 1: {:.1} ns/call (median of {runs})",
            medians[i]
        );
        if let Some(fastest) = &fastest {
            print!("; fastest of 25 runs: {:.1} ns/call", fastest[i]);
        }
        println!();
    }
    println!(
        "{{\"I1_exported\": {:.1}, \"I1_exported_int8\": {:.1}}}",
        medians[0], medians[1]
    );
}

/// Seconds for `calls` calls of `forward`.
fn time(forward: Forward, calls: usize) -> f64 {
    let x = [0.3f32, -0.7];
    let mut sink = 0.0f32;
    let start = Instant::now();
    for _ in 0..calls {
        sink += forward(std::hint::black_box(&x))[0];
    }
    let t = start.elapsed().as_secs_f64();
    std::hint::black_box(sink);
    t
}
