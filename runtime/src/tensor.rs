//! The batch type: a dynamic number of rows, each of a width `W` fixed at compile time.
//!
//! [`Batch<W>`] owns its rows (like `Vec`); [`BatchSlice<W>`] borrows them (like a slice), so a
//! `&Batch<W>` coerces to `&BatchSlice<W>` wherever a layer asks for its input. Rows are stored
//! row-major, one sample after another, which is PyTorch's `[N, W]` layout; an image is one row
//! in NCHW order.

use std::ops::{Deref, DerefMut};

use faer::{MatMut, MatRef};

/// A batch whose size does not fit its declared width.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    /// A row with the wrong number of values.
    #[error("row {row} has width {found}, but the batch width is {expected}")]
    RowWidth {
        row: usize,
        expected: usize,
        found: usize,
    },
    /// A flat buffer whose length is not a whole number of rows.
    #[error(
        "{len} values do not make whole rows of width {width} ({len} is not a multiple of {width})"
    )]
    Length { len: usize, width: usize },
    /// Two batches that must have as many rows as each other do not.
    #[error("{what}: expected {expected} rows, found {found}")]
    Rows {
        what: &'static str,
        expected: usize,
        found: usize,
    },
}

/// How many rows of `width` values `len` flat values make; the [`ShapeError::Length`] error
/// unless they are whole rows (a width of 0 holds only the empty buffer). What every
/// width-erased buffer is checked with.
pub(crate) fn whole_rows(len: usize, width: usize) -> Result<usize, ShapeError> {
    match len.checked_div(width) {
        Some(rows) if len.is_multiple_of(width) => Ok(rows),
        None if len == 0 => Ok(0),
        _ => Err(ShapeError::Length { len, width }),
    }
}

/// An owned batch of rows of width `W`.
#[derive(Clone, PartialEq, Default)]
pub struct Batch<const W: usize> {
    data: Vec<f32>,
}

/// A borrowed batch of rows of width `W`: what layers take and return.
#[derive(PartialEq)]
#[repr(transparent)]
pub struct BatchSlice<const W: usize> {
    data: [f32],
}

impl<const W: usize> BatchSlice<W> {
    const NONZERO_WIDTH: () = assert!(W > 0, "a batch width must be at least 1");

    /// Views a flat row-major buffer as rows of width `W`.
    pub fn try_from_slice(data: &[f32]) -> Result<&Self, ShapeError> {
        let () = Self::NONZERO_WIDTH;
        whole_rows(data.len(), W)?;
        Ok(Self::view(data))
    }

    /// Views a buffer that holds whole rows by construction.
    pub(crate) fn view(data: &[f32]) -> &Self {
        let () = Self::NONZERO_WIDTH;
        debug_assert!(data.len().is_multiple_of(W));
        // SAFETY: `BatchSlice<W>` is `#[repr(transparent)]` over `[f32]`, so a pointer to
        // `[f32]` (with its length metadata) is a valid pointer to `BatchSlice<W>`, and the
        // returned reference keeps the lifetime of `data`. This is the `std::path::Path` idiom.
        unsafe { &*(data as *const [f32] as *const Self) }
    }

    pub(crate) fn view_mut(data: &mut [f32]) -> &mut Self {
        let () = Self::NONZERO_WIDTH;
        debug_assert!(data.len().is_multiple_of(W));
        // SAFETY: as in `view`; the exclusive borrow of `data` moves into the result.
        unsafe { &mut *(data as *mut [f32] as *mut Self) }
    }

    /// The number of rows (samples).
    pub fn rows(&self) -> usize {
        self.data.len() / W
    }

    /// The width of every row.
    pub const fn width(&self) -> usize {
        W
    }

    /// All values, row after row.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// All values, row after row, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Row `i`, or `None` past the end.
    pub fn row(&self, i: usize) -> Option<&[f32; W]> {
        self.data
            .get(i * W..(i + 1) * W)
            .map(|r| r.try_into().expect("a row slice has width W"))
    }

    /// The rows in order.
    pub fn iter_rows(&self) -> impl ExactSizeIterator<Item = &[f32; W]> + '_ {
        self.data
            .chunks_exact(W)
            .map(|r| r.try_into().expect("a row slice has width W"))
    }

    /// Copies the rows into a `Vec` of arrays.
    pub fn to_rows(&self) -> Vec<[f32; W]> {
        self.iter_rows().copied().collect()
    }

    /// Copies the rows into an owned batch.
    pub fn to_batch(&self) -> Batch<W> {
        Batch {
            data: self.data.to_vec(),
        }
    }

    /// A `[rows, W]` faer view.
    pub fn as_mat(&self) -> MatRef<'_, f32> {
        MatRef::from_row_major_slice(&self.data, self.rows(), W)
    }

    /// A `[rows, W]` mutable faer view.
    pub fn as_mat_mut(&mut self) -> MatMut<'_, f32> {
        let rows = self.rows();
        MatMut::from_row_major_slice_mut(&mut self.data, rows, W)
    }

    /// Rows `start..end` as a batch of their own.
    pub fn slice_rows(&self, start: usize, end: usize) -> &Self {
        Self::view(&self.data[start * W..end * W])
    }
}

impl<const W: usize> Batch<W> {
    /// An empty batch (no rows).
    pub fn new() -> Self {
        let () = BatchSlice::<W>::NONZERO_WIDTH;
        Batch { data: Vec::new() }
    }

    /// `rows` rows of zeros.
    pub fn zeros(rows: usize) -> Self {
        let () = BatchSlice::<W>::NONZERO_WIDTH;
        // Allocated, then filled, rather than `vec![0.0; n]`: that asks for zeroed memory,
        // which glibc's `calloc` (2.36, measured with callgrind) serves past its per-thread
        // cache, through the arena, at 3× the instructions of `malloc`; at batch 1 that was
        // 15 % of a small network's forward.
        let mut data = Vec::with_capacity(rows * W);
        data.resize(rows * W, 0.0);
        Batch { data }
    }

    /// A batch from rows whose width the compiler already checked.
    pub fn from_rows(rows: &[[f32; W]]) -> Self {
        let () = BatchSlice::<W>::NONZERO_WIDTH;
        Batch {
            data: rows.as_flattened().to_vec(),
        }
    }

    /// A batch from a flat row-major `Vec`; its length must be a multiple of `W`.
    pub fn from_vec(data: Vec<f32>) -> Result<Self, ShapeError> {
        BatchSlice::<W>::try_from_slice(&data)?;
        Ok(Batch { data })
    }

    /// A batch from a flat row-major slice; its length must be a multiple of `W`.
    pub fn from_slice(data: &[f32]) -> Result<Self, ShapeError> {
        Ok(BatchSlice::<W>::try_from_slice(data)?.to_batch())
    }

    /// A batch from rows of any length; a row whose width is not `W` is an error naming it.
    pub fn from_nested<R: AsRef<[f32]>>(rows: &[R]) -> Result<Self, ShapeError> {
        let () = BatchSlice::<W>::NONZERO_WIDTH;
        let mut data = Vec::with_capacity(rows.len() * W);
        for (row, values) in rows.iter().enumerate() {
            let values = values.as_ref();
            if values.len() != W {
                return Err(ShapeError::RowWidth {
                    row,
                    expected: W,
                    found: values.len(),
                });
            }
            data.extend_from_slice(values);
        }
        Ok(Batch { data })
    }

    /// The flat row-major values.
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    /// Sets the number of rows, keeping the allocation when it is large enough. New values
    /// are zero; kept values are left as they were.
    pub fn resize_rows(&mut self, rows: usize) {
        self.data.resize(rows * W, 0.0);
    }

    /// `f(input row, output row)` for every row, written back into this batch's own
    /// allocation as rows of `V` values: a width-changing layer at small batches allocates
    /// nothing. Each output row is made on the stack, so its input row is whole while `f`
    /// reads it; rows go first to last when they shrink and last to first when they grow,
    /// so no output row lands on an input row still to be read.
    pub(crate) fn map_rows_in_place<const V: usize>(
        self,
        mut f: impl FnMut(&[f32; W], &mut [f32; V]),
    ) -> Batch<V> {
        let rows = self.rows();
        let mut data = self.data;
        let mut out = [0.0f32; V];
        let mut one = |data: &mut [f32], r: usize| {
            let x: &[f32; W] = data[r * W..(r + 1) * W]
                .try_into()
                .expect("a row is W values");
            f(x, &mut out);
            data[r * V..(r + 1) * V].copy_from_slice(&out);
        };
        if V <= W {
            (0..rows).for_each(|r| one(&mut data, r));
            data.truncate(rows * V);
        } else {
            data.resize(rows * V, 0.0);
            (0..rows).rev().for_each(|r| one(&mut data, r));
        }
        Batch { data }
    }

    /// Appends one row.
    pub fn push_row(&mut self, row: &[f32; W]) {
        self.data.extend_from_slice(row);
    }

    /// Makes this batch a copy of `src`, reusing the allocation.
    pub fn copy_from(&mut self, src: &BatchSlice<W>) {
        self.data.clear();
        self.data.extend_from_slice(src.as_slice());
    }
}

impl<const W: usize> Batch<W> {
    /// Not callable: an inference output has nothing to backpropagate. Present only so that
    /// `model.forward(&x).backward(..)` says what to write instead.
    #[doc(hidden)]
    pub fn backward(&self, _grad_output: &BatchSlice<W>)
    where
        Self: crate::module::BackwardNeedsTrace,
    {
    }
}

impl<const W: usize> BatchSlice<W> {
    /// Not callable, as [`Batch::backward`].
    #[doc(hidden)]
    pub fn backward(&self, _grad_output: &BatchSlice<W>)
    where
        Self: crate::module::BackwardNeedsTrace,
    {
    }
}

impl<const W: usize> Deref for Batch<W> {
    type Target = BatchSlice<W>;
    fn deref(&self) -> &BatchSlice<W> {
        BatchSlice::view(&self.data)
    }
}

impl<const W: usize> DerefMut for Batch<W> {
    fn deref_mut(&mut self) -> &mut BatchSlice<W> {
        BatchSlice::view_mut(&mut self.data)
    }
}

/// So that a function taking `&impl AsRef<BatchSlice<W>>` takes a slice as well as a batch.
impl<const W: usize> AsRef<BatchSlice<W>> for BatchSlice<W> {
    fn as_ref(&self) -> &BatchSlice<W> {
        self
    }
}

impl<const W: usize> AsRef<BatchSlice<W>> for Batch<W> {
    fn as_ref(&self) -> &BatchSlice<W> {
        self
    }
}

impl<const W: usize> std::fmt::Debug for BatchSlice<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Batch<{W}>[{} rows] ", self.rows())?;
        f.debug_list().entries(self.iter_rows()).finish()
    }
}

impl<const W: usize> std::fmt::Debug for Batch<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl<const W: usize> From<Vec<[f32; W]>> for Batch<W> {
    fn from(rows: Vec<[f32; W]>) -> Self {
        Batch::from_rows(&rows)
    }
}

impl<const W: usize> TryFrom<Vec<f32>> for Batch<W> {
    type Error = ShapeError;
    fn try_from(data: Vec<f32>) -> Result<Self, ShapeError> {
        Batch::from_vec(data)
    }
}

impl<const W: usize> TryFrom<Vec<Vec<f32>>> for Batch<W> {
    type Error = ShapeError;
    fn try_from(rows: Vec<Vec<f32>>) -> Result<Self, ShapeError> {
        Batch::from_nested(&rows)
    }
}

/// Everyday helpers, PyTorch's names: `x.argmax(1)`, `x.softmax(1)`, `x.sigmoid()`,
/// `torch.randn`. Softmax and sigmoid are the layers' own functions, bit for bit.
impl<const W: usize> BatchSlice<W> {
    /// The column of each row's largest value (`x.argmax(dim=1)`): the first on ties, and a
    /// NaN counts as the largest, as in PyTorch.
    pub fn argmax(&self) -> Vec<usize> {
        self.iter_rows()
            .map(|row| {
                let mut best = 0;
                for (i, &v) in row.iter().enumerate() {
                    if row[best].is_nan() {
                        break;
                    }
                    if v.is_nan() || v > row[best] {
                        best = i;
                    }
                }
                best
            })
            .collect()
    }

    /// Each row's softmax (`x.softmax(dim=1)`), the max subtracted first.
    pub fn softmax(&self) -> Batch<W> {
        crate::module::Forward::<W, W>::forward(&crate::layers::Softmax::new(), self)
    }

    /// `x.sigmoid()`, elementwise: a logit as a probability.
    pub fn sigmoid(&self) -> Batch<W> {
        crate::module::Forward::<W, W>::forward(&crate::layers::Sigmoid::default(), self)
    }
}

impl<const W: usize> Batch<W> {
    /// `torch.randn(rows, W)`: standard normal values from `rng` (Box–Muller; the same seed
    /// gives the same batch, not PyTorch's numbers).
    pub fn randn(rows: usize, rng: &mut (impl rand::Rng + ?Sized)) -> Self {
        let data = (0..rows * W)
            .map(|_| crate::data::synthetic::normal(rng))
            .collect();
        Batch { data }
    }
}

impl Batch<1> {
    /// Class labels as one float column (`torch.tensor(labels, dtype=float)[:, None]`), the
    /// targets BCE takes for labels 0 and 1.
    pub fn from_labels(labels: &[usize]) -> Self {
        Batch {
            data: labels.iter().map(|&l| l as f32).collect(),
        }
    }
}

/// Rows and columns printed in full up to this many values, as PyTorch's `threshold`.
const PRINT_THRESHOLD: usize = 1000;
/// Rows and columns kept at each end when abbreviating, as PyTorch's `edgeitems`.
const EDGE_ITEMS: usize = 3;

/// PyTorch's print: four decimals, aligned columns, `...` for the middle of a batch of more
/// than 1000 values (3 rows and columns kept at each end).
impl<const W: usize> std::fmt::Display for BatchSlice<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows = self.rows();
        let abbreviate = rows * W > PRINT_THRESHOLD;
        let keep = |n: usize| -> Vec<Option<usize>> {
            if abbreviate && n > 2 * EDGE_ITEMS {
                (0..EDGE_ITEMS)
                    .map(Some)
                    .chain([None])
                    .chain((n - EDGE_ITEMS..n).map(Some))
                    .collect()
            } else {
                (0..n).map(Some).collect()
            }
        };
        let (row_ids, col_ids) = (keep(rows), keep(W));
        let cell = |r: usize, c: usize| format!("{:.4}", self.as_slice()[r * W + c]);
        let width = row_ids
            .iter()
            .flatten()
            .flat_map(|&r| col_ids.iter().flatten().map(move |&c| (r, c)))
            .map(|(r, c)| cell(r, c).len())
            .max()
            .unwrap_or(0);
        f.write_str("[")?;
        for (i, r) in row_ids.iter().enumerate() {
            if i > 0 {
                f.write_str(",\n ")?;
            }
            let Some(r) = *r else {
                f.write_str("...")?;
                continue;
            };
            f.write_str("[")?;
            for (j, c) in col_ids.iter().enumerate() {
                if j > 0 {
                    f.write_str(", ")?;
                }
                match c {
                    Some(c) => write!(f, "{:>width$}", cell(r, *c))?,
                    None => write!(f, "{:>width$}", "...")?,
                }
            }
            f.write_str("]")?;
        }
        f.write_str("]")
    }
}

impl<const W: usize> std::fmt::Display for Batch<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&**self, f)
    }
}

/// Resizes a width-agnostic scratch buffer to hold `len` values without giving back capacity.
pub(crate) fn resize(buf: &mut Vec<f32>, len: usize) {
    buf.resize(len, 0.0);
}
