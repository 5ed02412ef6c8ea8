//! The TensorBoard log: records framed with masked CRC-32C, read back by TensorBoard's own
//! event reader where Python has the `tensorboard` package (`.ci/run` installs it).

use staticnn::tensorboard::{Scalar, SummaryWriter, read_scalars};
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
fn tags_are_the_history_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = SummaryWriter::new(dir.path()).unwrap();
    let history = history();
    w.add_history(&history).unwrap();
    let scalars = read_scalars(w.path()).unwrap();
    let mut tags: Vec<&str> = scalars.iter().map(|s| s.tag.as_str()).collect();
    tags.sort();
    tags.dedup();
    let mut keys = history.keys();
    keys.push("lr".into());
    keys.sort();
    assert_eq!(tags, keys);
    for s in &scalars {
        let want = history.epochs[s.step as usize - 1].get(&s.tag).unwrap();
        assert_eq!(s.value, want as f32, "{s:?}");
    }
}

/// TensorBoard's own writers name files `events.out.tfevents.{secs:010}.{host}.{pid}.{n}`;
/// two writers opened in the same second must not share (and truncate) one file.
#[test]
fn two_writers_in_one_folder_in_the_same_second_both_keep_their_events() {
    let dir = tempfile::tempdir().unwrap();
    // Retry until both writers were opened within one wall-clock second.
    let (mut a, mut b) = loop {
        let before = std::time::SystemTime::now();
        let a = SummaryWriter::new(dir.path()).unwrap();
        let b = SummaryWriter::new(dir.path()).unwrap();
        let secs =
            |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        if secs(before) == secs(std::time::SystemTime::now()) {
            break (a, b);
        }
    };
    assert_ne!(a.path(), b.path());
    let name = |w: &SummaryWriter| w.path().file_name().unwrap().to_str().unwrap().to_string();
    let parts: Vec<String> = name(&a).split('.').map(String::from).collect();
    assert_eq!(&parts[..3], ["events", "out", "tfevents"], "{}", name(&a));
    assert_eq!(parts[3].len(), 10, "seconds as %010d: {}", name(&a));
    assert!(
        name(&a).ends_with(&format!(
            ".{}.{}",
            std::process::id(),
            parts.last().unwrap()
        )),
        "{}",
        name(&a)
    );
    // Interleaved writes, as two runs logging at once.
    for step in 1..=3 {
        a.add_scalar("loss", step as f64, step).unwrap();
        b.add_scalar("loss", 10.0 * step as f64, step).unwrap();
    }
    let expect = |scale: f32| {
        (1..=3)
            .map(|step| Scalar {
                tag: "loss".into(),
                step,
                value: scale * step as f32,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(read_scalars(a.path()).unwrap(), expect(1.0));
    assert_eq!(read_scalars(b.path()).unwrap(), expect(10.0));
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert!(files >= 2);
}
