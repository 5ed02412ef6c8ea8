//! Scalar logs that TensorBoard reads: an `events.out.tfevents.*` file of TFRecords, each a
//! length, its masked CRC-32C, a protobuf `Event`, and the event's masked CRC-32C.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

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

/// Writes scalars into a TensorBoard run folder.
pub struct SummaryWriter {
    file: File,
    path: PathBuf,
}

impl SummaryWriter {
    /// Creates `dir` and a new event file in it.
    pub fn new(dir: impl AsRef<Path>) -> std::io::Result<Self> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "staticnn".into());
        let path = dir.join(format!("events.out.tfevents.{}.{host}", now.as_secs()));
        let mut writer = SummaryWriter {
            file: File::create(&path)?,
            path,
        };
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

    /// Every value of every epoch, tagged `loss/train`, `loss/validation`, `accuracy/train`, ...
    pub fn add_history(&mut self, history: &History) -> std::io::Result<()> {
        for record in &history.epochs {
            let step = record.epoch as i64;
            for key in history.keys() {
                if let Some(v) = record.get(&key) {
                    let tag = match key.strip_prefix("val_") {
                        Some(base) => format!("{base}/validation"),
                        None => format!("{key}/train"),
                    };
                    self.add_scalar(&tag, v, step)?;
                }
            }
            self.add_scalar("lr", record.lr, step)?;
        }
        Ok(())
    }
}
