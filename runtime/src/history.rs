//! What `fit` returns: one record per epoch, saveable as CSV and JSON.
//!
//! Its own module, below both `train` (which fills it) and `checkpoint` (which stores it), so
//! that `checkpoint` does not depend on `train`. One vocabulary everywhere: the keys `get`
//! takes are the names `summary` prints, the CSV's columns and the TensorBoard tags.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// One epoch's numbers. Metric keys are Keras's: `accuracy`, `val_accuracy`, `mae`, ...
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based.
    pub epoch: usize,
    // Every number may be NaN or infinite (an R² of −inf on constant targets, NaN accuracy on
    // an empty set) and must survive a checkpoint's JSON.
    #[serde(with = "crate::json_float")]
    pub loss: f64,
    #[serde(with = "crate::json_float::option")]
    pub val_loss: Option<f64>,
    #[serde(with = "crate::json_float::map")]
    pub metrics: BTreeMap<String, f64>,
    #[serde(with = "crate::json_float")]
    pub lr: f64,
    #[serde(with = "crate::json_float")]
    pub seconds: f64,
}

impl EpochRecord {
    /// A CSV row: `epoch`, the value of each key (empty where it has none), `seconds`; what
    /// `History::to_csv` and `CSVLogger` write.
    pub(crate) fn csv_row<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> Vec<String> {
        let mut row = vec![self.epoch.to_string()];
        row.extend(
            keys.into_iter()
                .map(|k| self.get(k).map_or(String::new(), |v| v.to_string())),
        );
        row.push(self.seconds.to_string());
        row
    }

    /// The header of [`csv_row`](Self::csv_row)'s rows.
    pub(crate) fn csv_header<'k>(keys: impl IntoIterator<Item = &'k str>) -> Vec<&'k str> {
        let mut header = vec!["epoch"];
        header.extend(keys);
        header.push("seconds");
        header
    }

    /// `loss`, `val_loss`, `lr`, or a metric key.
    pub fn get(&self, key: &str) -> Option<f64> {
        match key {
            "loss" => Some(self.loss),
            "val_loss" => self.val_loss,
            "lr" => Some(self.lr),
            _ => self.metrics.get(key).copied(),
        }
    }

    /// `epoch=3 loss=0.4123 val_loss=...`, the plain progress line and summaries: every
    /// name printed is a key `get` and `History::series` accept.
    pub fn summary(&self) -> String {
        let mut parts = vec![
            format!("epoch={}", self.epoch),
            format!("loss={:.6}", self.loss),
        ];
        if let Some(v) = self.val_loss {
            parts.push(format!("val_loss={v:.6}"));
        }
        for (k, v) in &self.metrics {
            parts.push(format!("{k}={v:.6}"));
        }
        parts.push(format!("lr={:.3e}", self.lr));
        parts.join(" ")
    }
}

/// Every epoch of a `fit` call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub epochs: Vec<EpochRecord>,
}

impl History {
    /// The values of `key` over the epochs (missing ones skipped).
    pub fn series(&self, key: &str) -> Vec<f64> {
        self.epochs.iter().filter_map(|e| e.get(key)).collect()
    }

    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }

    /// Every key any epoch has, `loss` first (without `lr`, which every epoch has).
    pub fn keys(&self) -> Vec<String> {
        let mut keys = vec!["loss".to_string()];
        if self.epochs.iter().any(|e| e.val_loss.is_some()) {
            keys.push("val_loss".to_string());
        }
        let mut metrics: Vec<String> = self
            .epochs
            .iter()
            .flat_map(|e| e.metrics.keys().cloned())
            .collect();
        metrics.sort();
        metrics.dedup();
        keys.extend(metrics);
        keys
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("numbers and strings serialise")
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// One row per epoch: `epoch, loss, val_loss, <metrics>, lr, seconds`.
    pub fn to_csv(&self) -> String {
        let keys = self.keys();
        let mut w = csv::Writer::from_writer(Vec::new());
        let columns = || keys.iter().map(String::as_str).chain(["lr"]);
        w.write_record(EpochRecord::csv_header(columns()))
            .expect("writing to memory");
        for e in &self.epochs {
            w.write_record(e.csv_row(columns()))
                .expect("writing to memory");
        }
        String::from_utf8(w.into_inner().expect("flushing memory")).expect("csv writes UTF-8")
    }

    pub fn save_csv(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, self.to_csv())
    }

    pub fn save_json(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, self.to_json())
    }
}
