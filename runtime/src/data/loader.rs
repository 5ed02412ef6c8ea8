//! PyTorch's `DataLoader`: mini-batches in a freshly shuffled order each epoch.

use rand::Rng;
use rand::seq::SliceRandom;

use super::{DataError, Dataset, Targets};
use crate::tensor::{Batch, BatchSlice};

/// Batches over a dataset; `next_batch` reuses its buffers, `epoch` yields owned batches.
pub struct DataLoader<'a, const W: usize, T: Targets> {
    data: &'a Dataset<W, T>,
    pub batch_size: usize,
    pub shuffle: bool,
    pub drop_last: bool,
    order: Vec<usize>,
    cursor: usize,
    x: Batch<W>,
    y: T::Owned,
}

impl<'a, const W: usize, T: Targets> DataLoader<'a, W, T> {
    /// Shuffled batches of `batch_size`, keeping a smaller last batch. A batch size of 0 is
    /// an error, as PyTorch's `ValueError`.
    pub fn new(data: &'a Dataset<W, T>, batch_size: usize) -> Result<Self, DataError> {
        if batch_size == 0 {
            return Err(DataError::BatchSize);
        }
        Ok(DataLoader {
            data,
            batch_size,
            shuffle: true,
            drop_last: false,
            order: (0..data.len()).collect(),
            cursor: data.len(),
            x: Batch::new(),
            y: T::Owned::default(),
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
        let n = self.data.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// Starts an epoch: a new order when shuffling.
    pub fn start_epoch(&mut self, rng: &mut (impl Rng + ?Sized)) {
        self.rewind();
        if self.shuffle {
            self.order.shuffle(rng);
        }
    }

    /// Starts an epoch in the dataset's own order.
    pub fn rewind(&mut self) {
        self.order.clear();
        self.order.extend(0..self.data.len());
        self.cursor = 0;
    }

    /// The next batch of this epoch, in buffers reused from batch to batch.
    pub fn next_batch(&mut self) -> Option<(&BatchSlice<W>, &T::Slice)> {
        let remaining = self.order.len() - self.cursor;
        if remaining == 0 || (self.drop_last && remaining < self.batch_size) {
            return None;
        }
        let end = self.cursor + remaining.min(self.batch_size);
        let indices = &self.order[self.cursor..end];
        self.cursor = end;
        self.x.resize_rows(0);
        for &i in indices {
            self.x
                .push_row(self.data.features.row(i).expect("index in range"));
        }
        self.data.targets.gather_into(indices, &mut self.y);
        Some((&self.x, T::view(&self.y)))
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
    type Item = (Batch<W>, T);

    fn next(&mut self) -> Option<Self::Item> {
        let (x, _) = self.loader.next_batch()?;
        let x = x.to_batch();
        Some((x, T::from_owned(std::mem::take(&mut self.loader.y))))
    }
}
