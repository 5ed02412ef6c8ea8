//! PyTorch's `DataLoader`: mini-batches in a freshly shuffled order each epoch. The batching
//! itself (`Cursor`) knows the width only as a value, so the typed [`DataLoader`] and the
//! width-erased one `fit` uses are one piece of code, compiled once per target type.

use rand::Rng;
use rand::seq::SliceRandom;

use super::{DataError, Dataset, DynDataset, Targets};
use crate::tensor::BatchSlice;

/// Batches over a dataset; `next_batch` reuses its buffers, `epoch` yields owned batches.
pub struct DataLoader<'a, const W: usize, T: Targets> {
    pub batch_size: usize,
    pub shuffle: bool,
    pub drop_last: bool,
    cursor: Cursor<'a, T>,
}

/// The order of one epoch, where it has got to, and the reused batch buffers.
struct Cursor<'a, T: Targets> {
    features: &'a [f32],
    width: usize,
    targets: &'a T,
    order: Vec<usize>,
    next: usize,
    x: Vec<f32>,
    y: T::Owned,
}

impl<'a, T: Targets> Cursor<'a, T> {
    fn new(features: &'a [f32], width: usize, targets: &'a T) -> Self {
        Cursor {
            features,
            width,
            targets,
            // Rewound: a loop of `next_batch` that never starts an epoch gets the dataset
            // in order once, as iterating a fresh PyTorch loader yields batches (it got none).
            order: (0..targets.len()).collect(),
            next: 0,
            x: Vec::new(),
            y: T::Owned::default(),
        }
    }

    fn num_batches(&self, batch_size: usize, drop_last: bool) -> usize {
        let n = self.targets.len();
        if drop_last {
            n / batch_size
        } else {
            n.div_ceil(batch_size)
        }
    }

    fn start_epoch(&mut self, shuffle: bool, rng: &mut (impl Rng + ?Sized)) {
        self.rewind();
        if shuffle {
            self.order.shuffle(rng);
        }
    }

    fn rewind(&mut self) {
        self.order.clear();
        self.order.extend(0..self.targets.len());
        self.next = 0;
    }

    /// The next batch's rows, flat, and targets, in the reused buffers.
    fn next_batch(&mut self, batch_size: usize, drop_last: bool) -> Option<(&[f32], &T::Slice)> {
        let remaining = self.order.len() - self.next;
        if remaining == 0 || (drop_last && remaining < batch_size) {
            return None;
        }
        let end = self.next + remaining.min(batch_size);
        let indices = &self.order[self.next..end];
        self.next = end;
        self.x.clear();
        let w = self.width;
        for &i in indices {
            self.x.extend_from_slice(&self.features[i * w..(i + 1) * w]);
        }
        self.targets.gather_into(indices, &mut self.y);
        Some((&self.x, T::view(&self.y)))
    }
}

impl<'a, const W: usize, T: Targets> DataLoader<'a, W, T> {
    /// Shuffled batches of `batch_size`, keeping a smaller last batch, each epoch from
    /// `start_epoch(rng)` or `epoch(rng)` (the order needs the RNG): `next_batch` before the
    /// first epoch gives the dataset once in order. A batch size of 0 is an error, as
    /// PyTorch's `ValueError`, and so are other counts of feature rows and targets.
    pub fn new(data: &'a Dataset<W, T>, batch_size: usize) -> Result<Self, DataError> {
        if batch_size == 0 {
            return Err(DataError::BatchSize);
        }
        data.check_rows()?;
        Ok(DataLoader {
            batch_size,
            shuffle: true,
            drop_last: false,
            cursor: Cursor::new(BatchSlice::as_slice(&data.features), W, &data.targets),
        })
    }

    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// Batches in one epoch.
    pub fn num_batches(&self) -> usize {
        self.cursor.num_batches(self.batch_size, self.drop_last)
    }

    /// Starts an epoch: a new order when shuffling.
    pub fn start_epoch(&mut self, rng: &mut (impl Rng + ?Sized)) {
        self.cursor.start_epoch(self.shuffle, rng);
    }

    /// Starts an epoch in the dataset's own order.
    pub fn rewind(&mut self) {
        self.cursor.rewind();
    }

    /// The next batch of this epoch, in buffers reused from batch to batch.
    pub fn next_batch(&mut self) -> Option<(&BatchSlice<W>, &T::Slice)> {
        let (x, y) = self.cursor.next_batch(self.batch_size, self.drop_last)?;
        Some((BatchSlice::try_from_slice(x).expect("whole rows"), y))
    }

    /// The batches of one epoch as owned values, for a hand-written loop:
    /// `for (x, y) in loader.epoch(&mut rng) { .. }`. Batches are made one at a time.
    pub fn epoch(&mut self, rng: &mut (impl Rng + ?Sized)) -> Epoch<'_, 'a, W, T> {
        self.start_epoch(rng);
        Epoch { loader: self }
    }
}

/// The batches of one epoch, each an owned `(features, targets)` pair.
pub struct Epoch<'l, 'a, const W: usize, T: Targets> {
    loader: &'l mut DataLoader<'a, W, T>,
}

impl<const W: usize, T: Targets> Iterator for Epoch<'_, '_, W, T> {
    type Item = (crate::tensor::Batch<W>, T);

    fn next(&mut self) -> Option<Self::Item> {
        let (x, _) = self.loader.next_batch()?;
        let x = x.to_batch();
        Some((x, T::from_owned(std::mem::take(&mut self.loader.cursor.y))))
    }
}

/// [`DataLoader`] over a [`DynDataset`], batches as flat rows: what `fit` and `evaluate`
/// run on, one copy for every width.
pub(crate) struct DynLoader<'a, T: Targets> {
    pub batch_size: usize,
    pub shuffle: bool,
    pub drop_last: bool,
    cursor: Cursor<'a, T>,
}

impl<'a, T: Targets> DynLoader<'a, T> {
    /// As [`DataLoader::new`]: a batch size of 0 is an error.
    pub fn new(data: &'a DynDataset<'_, T>, batch_size: usize) -> Result<Self, DataError> {
        if batch_size == 0 {
            return Err(DataError::BatchSize);
        }
        Ok(DynLoader {
            batch_size,
            shuffle: true,
            drop_last: false,
            cursor: Cursor::new(data.features(), data.width(), data.targets()),
        })
    }
    pub fn num_batches(&self) -> usize {
        self.cursor.num_batches(self.batch_size, self.drop_last)
    }
    pub fn start_epoch(&mut self, rng: &mut (impl Rng + ?Sized)) {
        self.cursor.start_epoch(self.shuffle, rng);
    }
    pub fn rewind(&mut self) {
        self.cursor.rewind();
    }
    /// The next batch: `rows × width` values and the rows' targets.
    pub fn next_batch(&mut self) -> Option<(&[f32], &T::Slice)> {
        self.cursor.next_batch(self.batch_size, self.drop_last)
    }
}
