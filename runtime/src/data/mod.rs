//! Data: an in-memory dataset of features and targets, a shuffling loader, train/validation
//! splits, standardisation, CSV and IDX readers, and seeded toy datasets.

mod csv_file;
mod dyn_dataset;
mod idx;
mod loader;
mod standardize;
pub mod synthetic;
mod targets;

pub use csv_file::{Column, CsvError, CsvTable, read_csv};
pub use dyn_dataset::DynDataset;
pub use idx::{IdxError, read_idx_images, read_idx_labels};
pub(crate) use loader::DynLoader;
pub use loader::{DataLoader, Epoch, EpochBatches, NextBatchNeedsEpoch};
pub use standardize::Standardizer;
pub use targets::{TargetSlice, Targets};

use rand::Rng;

use crate::tensor::{Batch, BatchSlice, ShapeError};

/// Features of width `W`, one row per sample, and their targets: class indices
/// (`Vec<usize>`) or values (`Batch<K>`, for binary labels and regression).
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<const W: usize, T> {
    pub features: Batch<W>,
    pub targets: T,
}

/// A dataset that cannot be built or split as asked.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DataError {
    #[error("{features} feature rows but {targets} targets")]
    Rows { features: usize, targets: usize },
    #[error("a validation fraction must be in (0, 1), got {0}")]
    Fraction(f32),
    #[error("a split of {len} samples with fraction {fraction} leaves one side empty")]
    EmptySplit { len: usize, fraction: f32 },
    #[error("only class or 0/1 targets can be stratified; sample {index} is not one")]
    NotStratifiable { index: usize },
    #[error(transparent)]
    Shape(#[from] ShapeError),
    #[error("batch_size is 0; a batch holds at least one sample")]
    BatchSize,
    #[error("validation_batch_size is 0; a batch holds at least one sample")]
    ValidationBatchSize,
    /// A pass that would see no batch, whose loss would be a mean over nothing: PyTorch's
    /// losses give NaN there and Keras refuses the epoch.
    #[error(
        "the {which} data gives no batch: {rows} rows in batches of {batch_size}{}",
        if *drop_last { " with drop_last, which drops a last batch smaller than batch_size" } else { "" }
    )]
    NoBatches {
        which: &'static str,
        rows: usize,
        batch_size: usize,
        drop_last: bool,
    },
}

impl<const W: usize, T: Targets> Dataset<W, T> {
    /// Pairs features with targets; their counts must agree.
    pub fn new(features: Batch<W>, targets: T) -> Result<Self, DataError> {
        let data = Dataset { features, targets };
        data.check_rows()?;
        Ok(data)
    }

    /// Whether there is a target per feature row, as `new` makes sure. The fields are public,
    /// so a dataset written as a struct literal may have other counts: the loader, `fit` and
    /// `evaluate` ask this first and refuse it (PyTorch's `TensorDataset`: "Size mismatch
    /// between tensors"), where the batches would leave the rows without targets out.
    pub fn check_rows(&self) -> Result<(), DataError> {
        self.as_dyn().check_rows()
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.features.rows()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The samples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Self {
        let mut features = Batch::new();
        for &i in indices {
            features.push_row(self.features.row(i).expect("index in range"));
        }
        Dataset {
            features,
            targets: dyn_dataset::select_targets(&self.targets, indices),
        }
    }

    /// Shuffles, then holds out `fraction` of the samples for validation (unlike Keras, which
    /// takes the last samples unshuffled). With `stratify`, each class keeps its proportion.
    pub fn split(
        &self,
        fraction: f32,
        stratify: bool,
        rng: &mut (impl Rng + ?Sized),
    ) -> Result<(Self, Self), DataError> {
        let (train, val) = dyn_dataset::split_indices(&self.targets, fraction, stratify, rng)?;
        Ok((self.select(&train), self.select(&val)))
    }

    /// The features of all samples.
    pub fn x(&self) -> &BatchSlice<W> {
        &self.features
    }
}
