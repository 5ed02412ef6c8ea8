//! What a dataset can hold as targets: class indices or rows of values.

use crate::tensor::{Batch, BatchSlice};

/// A column of targets, one per sample.
pub trait Targets: Clone {
    /// The targets of one mini-batch, owned and reused between batches.
    type Owned: Default;
    /// What a loss takes: `[usize]` or `BatchSlice<K>`.
    type Slice: ?Sized + TargetSlice;

    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Writes the targets at `indices` into `out`, reusing its allocation.
    fn gather_into(&self, indices: &[usize], out: &mut Self::Owned);
    fn from_owned(owned: Self::Owned) -> Self;
    fn view(owned: &Self::Owned) -> &Self::Slice;
    fn as_slice(&self) -> &Self::Slice;
    /// The class of sample `i` for a stratified split, if it has one.
    fn stratum(&self, i: usize) -> Option<u64> {
        self.as_slice().label(i).map(|c| c as u64)
    }
}

/// Per-sample access for metrics.
pub trait TargetSlice {
    fn rows(&self) -> usize;
    /// The class index of sample `i`, for class-index targets.
    fn class(&self, i: usize) -> Option<usize>;
    /// The values of sample `i`, for value targets.
    fn values(&self, i: usize) -> Option<&[f32]>;
    /// The class of sample `i`: its class index, or a single value of exactly 0 or 1 (a
    /// binary target).
    fn label(&self, i: usize) -> Option<usize> {
        self.class(i).or_else(|| match self.values(i) {
            Some([v]) if *v == 0.0 || *v == 1.0 => Some(*v as usize),
            _ => None,
        })
    }
}

impl Targets for Vec<usize> {
    type Owned = Vec<usize>;
    type Slice = [usize];

    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn gather_into(&self, indices: &[usize], out: &mut Vec<usize>) {
        out.clear();
        out.extend(indices.iter().map(|&i| self[i]));
    }
    fn from_owned(owned: Vec<usize>) -> Self {
        owned
    }
    fn view(owned: &Vec<usize>) -> &[usize] {
        owned
    }
    fn as_slice(&self) -> &[usize] {
        self
    }
}

impl<const K: usize> Targets for Batch<K> {
    type Owned = Batch<K>;
    type Slice = BatchSlice<K>;

    fn len(&self) -> usize {
        self.rows()
    }
    fn gather_into(&self, indices: &[usize], out: &mut Batch<K>) {
        out.resize_rows(0);
        for &i in indices {
            out.push_row(self.row(i).expect("index in range"));
        }
    }
    fn from_owned(owned: Batch<K>) -> Self {
        owned
    }
    fn view(owned: &Batch<K>) -> &BatchSlice<K> {
        owned
    }
    fn as_slice(&self) -> &BatchSlice<K> {
        self
    }
}

impl TargetSlice for [usize] {
    fn rows(&self) -> usize {
        self.len()
    }
    fn class(&self, i: usize) -> Option<usize> {
        self.get(i).copied()
    }
    fn values(&self, _: usize) -> Option<&[f32]> {
        None
    }
}

impl<const K: usize> TargetSlice for BatchSlice<K> {
    fn rows(&self) -> usize {
        BatchSlice::rows(self)
    }
    fn class(&self, _: usize) -> Option<usize> {
        None
    }
    fn values(&self, i: usize) -> Option<&[f32]> {
        self.row(i).map(|r| &r[..])
    }
}
