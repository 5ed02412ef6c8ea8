//! PyTorch's `DataLoader`: mini-batches in a freshly shuffled order each epoch. The batching
//! itself (`Cursor`) knows the width only as a value, so the typed [`DataLoader`] and the
//! width-erased one `fit` uses are one piece of code, compiled once per target type.

use rand::Rng;
use rand::seq::SliceRandom;

use super::{DataError, Dataset, DynDataset, Targets};
use crate::tensor::BatchSlice;

/// Batches over a dataset, an epoch at a time: `epoch` yields owned batches (PyTorch's
/// `for x, y in loader`); `start_epoch` and `rewind` give an [`EpochBatches`] whose
/// `next_batch` reuses the loader's buffers. Every batch comes from an epoch the caller
/// started, so a loop that forgets to start one does not compile, where it once trained its
/// second and later epochs on no batch at all.
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
    /// `epoch(rng)` or `start_epoch(rng)` (the order needs the RNG). A batch size of 0 is an
    /// error, as PyTorch's `ValueError`, and so are other counts of feature rows and targets.
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

    /// Starts an epoch (a new order when shuffling), whose batches come in buffers reused
    /// from batch to batch: `let mut batches = loader.start_epoch(&mut rng); while let
    /// Some((x, y)) = batches.next_batch() { .. }`.
    pub fn start_epoch(&mut self, rng: &mut (impl Rng + ?Sized)) -> EpochBatches<'_, 'a, W, T> {
        self.cursor.start_epoch(self.shuffle, rng);
        EpochBatches { loader: self }
    }

    /// Starts an epoch in the dataset's own order (a validation pass).
    pub fn rewind(&mut self) -> EpochBatches<'_, 'a, W, T> {
        self.cursor.rewind();
        EpochBatches { loader: self }
    }

    /// Not callable: batches belong to the epoch that `start_epoch` or `rewind` starts.
    /// Present only so that `loader.next_batch()` says what to write instead.
    #[doc(hidden)]
    pub fn next_batch(&mut self) -> Option<(&BatchSlice<W>, &T::Slice)>
    where
        Self: NextBatchNeedsEpoch,
    {
        None
    }

    /// The batches of one epoch as owned values, for a hand-written loop:
    /// `for (x, y) in loader.epoch(&mut rng) { .. }`. Batches are made one at a time.
    pub fn epoch(&mut self, rng: &mut (impl Rng + ?Sized)) -> Epoch<'_, 'a, W, T> {
        Epoch {
            batches: self.start_epoch(rng),
        }
    }
}

/// The batches of an epoch the caller started, lent one at a time from the loader's reused
/// buffers (no allocation once they have grown to a batch).
pub struct EpochBatches<'l, 'a, const W: usize, T: Targets> {
    loader: &'l mut DataLoader<'a, W, T>,
}

impl<const W: usize, T: Targets> EpochBatches<'_, '_, W, T> {
    /// The epoch's next batch; `None` once the epoch is over.
    pub fn next_batch(&mut self) -> Option<(&BatchSlice<W>, &T::Slice)> {
        let loader = &mut *self.loader;
        let (x, y) = loader
            .cursor
            .next_batch(loader.batch_size, loader.drop_last)?;
        Some((BatchSlice::try_from_slice(x).expect("whole rows"), y))
    }
}

/// The batches of one epoch, each an owned `(features, targets)` pair.
pub struct Epoch<'l, 'a, const W: usize, T: Targets> {
    batches: EpochBatches<'l, 'a, W, T>,
}

impl<const W: usize, T: Targets> Iterator for Epoch<'_, '_, W, T> {
    type Item = (crate::tensor::Batch<W>, T);

    fn next(&mut self) -> Option<Self::Item> {
        let (x, _) = self.batches.next_batch()?;
        let x = x.to_batch();
        let y = std::mem::take(&mut self.batches.loader.cursor.y);
        Some((x, T::from_owned(y)))
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

/// Implemented by nothing: the bound that makes `loader.next_batch()` a compile error that
/// says what to call instead.
#[diagnostic::on_unimplemented(
    message = "next_batch is called on the epoch `start_epoch` or `rewind` returns, not on `{Self}`",
    label = "no epoch was started",
    note = "write `let mut batches = loader.start_epoch(&mut rng);` then `while let Some((x, y)) = batches.next_batch() {{ .. }}` (or `for (x, y) in loader.epoch(&mut rng)`): each epoch is started by the loop, so none trains on an exhausted loader"
)]
pub trait NextBatchNeedsEpoch: crate::module::sealed::Sealed {}
