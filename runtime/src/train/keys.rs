//! The keys one `fit` run writes into every epoch record, known before the first epoch, so
//! that a monitor naming anything else (`"val_los"`) is an error instead of a callback that
//! silently never fires.

/// The history keys a run produces (`loss`, `val_loss`, `accuracy`, `val_accuracy`, ..., `lr`)
/// and, for each, whether larger is better.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunKeys {
    keys: Vec<(String, bool)>,
}

impl RunKeys {
    /// The keys of a run reporting `metrics` (name, larger is better), with or without
    /// validation, in the order `History::to_csv` writes its columns.
    pub fn new<'a>(metrics: impl IntoIterator<Item = (&'a str, bool)>, validation: bool) -> Self {
        Self::with_groups(metrics, validation, 1)
    }

    /// [`RunKeys::new`] for an optimizer with `groups` parameter groups: each group after
    /// the first has its rate under `lr_pg1`, `lr_pg2`, ... (Lightning's LearningRateMonitor;
    /// group 0's is `lr`), sorted with the metrics as History's CSV columns are.
    pub fn with_groups<'a>(
        metrics: impl IntoIterator<Item = (&'a str, bool)>,
        validation: bool,
        groups: usize,
    ) -> Self {
        let mut keys = vec![("loss".to_string(), false)];
        if validation {
            keys.push(("val_loss".to_string(), false));
        }
        let mut named: Vec<(String, bool)> =
            (1..groups).map(|g| (group_rate_key(g), false)).collect();
        for (name, higher) in metrics {
            named.push((name.to_string(), higher));
            if validation {
                named.push((format!("val_{name}"), higher));
            }
        }
        // History::keys sorts the metric keys; the list a user reads should match the CSV.
        named.sort();
        named.dedup();
        keys.extend(named);
        keys.push(("lr".to_string(), false));
        RunKeys { keys }
    }

    /// Every key, in CSV column order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(k, _)| k.as_str())
    }

    /// Whether larger is better for `key`; `None` when this run does not produce it.
    pub fn higher_is_better(&self, key: &str) -> Option<bool> {
        self.keys.iter().find(|(k, _)| k == key).map(|&(_, h)| h)
    }

    /// `key`'s direction, or the error naming who asked for it and every key there is.
    pub(crate) fn check(&self, key: &str, by: &str) -> Result<bool, super::FitError> {
        self.higher_is_better(key)
            .ok_or_else(|| super::FitError::UnknownMonitor {
                by: by.to_string(),
                key: key.to_string(),
                keys: self.names().collect::<Vec<_>>().join(", "),
            })
    }
}

/// The history key of parameter group `g`'s rate (`g >= 1`; group 0's is `lr`).
pub fn group_rate_key(g: usize) -> String {
    format!("lr_pg{g}")
}
