//! Scalar logs that TensorBoard reads: an `events.out.tfevents.*` file of TFRecords, each a
//! length, its masked CRC-32C, a protobuf `Event`, and the event's masked CRC-32C.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use prost::Message;

use crate::train::History;

#[derive(Clone, PartialEq, prost::Message)]
struct Event {
    #[prost(double, tag = "1")]
    wall_time: f64,
    #[prost(int64, tag = "2")]
    step: i64,
    #[prost(oneof = "What", tags = "3, 5")]
    what: Option<What>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum What {
    #[prost(string, tag = "3")]
    FileVersion(String),
    #[prost(message, tag = "5")]
    Summary(Summary),
}

#[derive(Clone, PartialEq, prost::Message)]
struct Summary {
    #[prost(message, repeated, tag = "1")]
    value: Vec<SummaryValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct SummaryValue {
    #[prost(string, tag = "1")]
    tag: String,
    #[prost(float, tag = "2")]
    simple_value: f32,
}

fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    (crc.rotate_right(15)).wrapping_add(0xa282_ead8)
}

/// How many writers this process has opened: the last part of the file name, as in
/// TensorBoard's own `EventFileWriter` (`_global_uid`).
static WRITERS: AtomicU64 = AtomicU64::new(0);

/// The machine's name, as Python's `socket.gethostname()` gives it on Linux.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "localhost".into())
}

/// Writes scalars into a TensorBoard run folder.
pub struct SummaryWriter {
    file: File,
    path: PathBuf,
}

impl SummaryWriter {
    /// Creates `dir` and a new event file in it, named as TensorBoard's own writer names
    /// its files: `events.out.tfevents.{secs:010}.{host}.{pid}.{counter}`. Host, process and
    /// a per-process counter make the name unique per writer, so two writers in one folder in
    /// the same second each keep their events (TensorBoard reads every file of a folder); the
    /// file is created only if it does not exist, so nothing is ever overwritten.
    pub fn new(dir: impl AsRef<Path>) -> std::io::Result<Self> {
        Self::new_at(dir.as_ref())
    }

    fn new_at(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let (host, pid) = (hostname(), std::process::id());
        let (path, file) = loop {
            let counter = WRITERS.fetch_add(1, Ordering::Relaxed);
            let name = format!(
                "events.out.tfevents.{:010}.{host}.{pid}.{counter}",
                now.as_secs()
            );
            let path = dir.join(name);
            match File::options().write(true).create_new(true).open(&path) {
                Ok(file) => break (path, file),
                // Another process with a reused pid wrote here this second: next counter.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        };
        let mut writer = SummaryWriter { file, path };
        writer.write_event(Event {
            wall_time: now.as_secs_f64(),
            step: 0,
            what: Some(What::FileVersion("brain.Event:2".into())),
        })?;
        Ok(writer)
    }

    /// The event file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write_event(&mut self, event: Event) -> std::io::Result<()> {
        let data = event.encode_to_vec();
        let len = (data.len() as u64).to_le_bytes();
        let mut record = Vec::with_capacity(data.len() + 16);
        record.extend_from_slice(&len);
        record.extend_from_slice(&masked_crc(&len).to_le_bytes());
        record.extend_from_slice(&data);
        record.extend_from_slice(&masked_crc(&data).to_le_bytes());
        self.file.write_all(&record)?;
        self.file.flush()
    }

    /// PyTorch's `writer.add_scalar(tag, value, step)`.
    pub fn add_scalar(&mut self, tag: &str, value: f64, step: i64) -> std::io::Result<()> {
        let wall_time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        self.write_event(Event {
            wall_time,
            step,
            what: Some(What::Summary(Summary {
                value: vec![SummaryValue {
                    tag: tag.to_string(),
                    simple_value: value as f32,
                }],
            })),
        })
    }

    /// Every value of every epoch, tagged with its history key (`loss`, `val_loss`,
    /// `accuracy`, `val_accuracy`, ..., `lr`): the names `History::series`, the printed
    /// summary and the CSV columns use, so one vocabulary finds a number everywhere.
    pub fn add_history(&mut self, history: &History) -> std::io::Result<()> {
        let keys = history.keys();
        for record in &history.epochs {
            let step = record.epoch as i64;
            for key in &keys {
                if let Some(v) = record.get(key) {
                    self.add_scalar(key, v, step)?;
                }
            }
            self.add_scalar("lr", record.lr, step)?;
        }
        Ok(())
    }
}

/// One scalar read back from an event file.
#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    pub tag: String,
    pub step: i64,
    pub value: f32,
}

/// An event file that is not what [`SummaryWriter`] writes.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: record at byte {at}: {what}", path.display())]
    Record {
        path: PathBuf,
        at: usize,
        what: &'static str,
    },
}

/// Every scalar of an event file, in the order written, each record's length and data
/// checked against their CRCs (what TensorBoard's reader checks).
pub fn read_scalars(path: impl AsRef<Path>) -> Result<Vec<Scalar>, ReadError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |at, what| ReadError::Record {
        path: path.to_path_buf(),
        at,
        what,
    };
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
    };
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len_bytes = bytes
            .get(at..at + 8)
            .ok_or_else(|| bad(at, "truncated length"))?;
        if word(at + 8) != Some(masked_crc(len_bytes)) {
            return Err(bad(at, "length CRC mismatch"));
        }
        let len = u64::from_le_bytes(len_bytes.try_into().expect("8 bytes"));
        let start = at + 12;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| start.checked_add(l))
            .filter(|&e| e + 4 <= bytes.len())
            .ok_or_else(|| bad(at, "truncated data"))?;
        let data = &bytes[start..end];
        if word(end) != Some(masked_crc(data)) {
            return Err(bad(at, "data CRC mismatch"));
        }
        let event = Event::decode(data).map_err(|_| bad(at, "not an Event"))?;
        if let Some(What::Summary(summary)) = event.what {
            out.extend(summary.value.into_iter().map(|v| Scalar {
                tag: v.tag,
                step: event.step,
                value: v.simple_value,
            }));
        }
        at = end + 4;
    }
    Ok(out)
}
