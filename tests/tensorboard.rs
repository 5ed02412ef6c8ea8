//! The TensorBoard log: records framed with masked CRC-32C, read back by TensorBoard's own
//! event reader where Python has the `tensorboard` package (`.ci/run` installs it).

use staticnn::tensorboard::SummaryWriter;
use staticnn::train::{EpochRecord, History};

fn history() -> History {
    let epoch = |e: usize, loss: f64, val: f64| EpochRecord {
        epoch: e,
        loss,
        val_loss: Some(val),
        metrics: [("accuracy".to_string(), 0.5 + e as f64 / 10.0)].into(),
        lr: 0.01,
        seconds: 0.1,
    };
    History {
        epochs: vec![epoch(1, 0.9, 1.0), epoch(2, 0.5, 0.7), epoch(3, 0.25, 0.4)],
    }
}

#[test]
fn records_are_framed_with_their_lengths_and_checksums() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = SummaryWriter::new(dir.path()).unwrap();
    w.add_history(&history()).unwrap();
    let bytes = std::fs::read(w.path()).unwrap();
    let mut at = 0;
    let mut records = 0;
    while at < bytes.len() {
        let len = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
        at += 12 + len + 4;
        records += 1;
    }
    assert_eq!(at, bytes.len());
    // A file-version record, then loss, val loss, accuracy and lr for each of 3 epochs.
    assert_eq!(records, 1 + 3 * 4);
}

#[test]
fn tensorboard_reads_the_scalars() {
    let probe = std::process::Command::new("python3")
        .args([
            "-c",
            "from tensorboard.backend.event_processing import event_accumulator",
        ])
        .status();
    if !matches!(probe, Ok(s) if s.success()) {
        eprintln!("skipped: python3 with the tensorboard package is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    SummaryWriter::new(dir.path())
        .unwrap()
        .add_history(&history())
        .unwrap();
    let script = r#"
import sys
from tensorboard.backend.event_processing import event_accumulator
acc = event_accumulator.EventAccumulator(sys.argv[1])
acc.Reload()
tags = sorted(acc.Tags()["scalars"])
print(",".join(tags))
print(",".join(f"{e.step}:{e.value:.2f}" for e in acc.Scalars("loss/validation")))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("accuracy/train,loss/train,loss/validation,lr")
    );
    assert_eq!(lines.next(), Some("1:1.00,2:0.70,3:0.40"));
}
