//! A dataset whose row width is a value instead of a type. `fit`'s driver, `evaluate`,
//! splits and the examples' shared code work on it, so they are compiled once whatever the
//! widths of the models a program trains, not once per width (`dispatch_width!` over 64
//! widths made that 64 copies of the whole training path). [`Dataset`] views as one for free.

use std::borrow::Cow;

use rand::Rng;
use rand::seq::SliceRandom;

use super::{DataError, Dataset, Targets};
use crate::tensor::{BatchSlice, whole_rows};

/// Rows of `width` features, flat and row-major, and their targets; borrowed from a
/// [`Dataset`] (`as_dyn`) or owned (a split, `DynDataset::new`).
#[derive(Clone, Debug, PartialEq)]
pub struct DynDataset<'a, T: Targets> {
    features: Cow<'a, [f32]>,
    width: usize,
    targets: Cow<'a, T>,
}

impl<const W: usize, T: Targets> Dataset<W, T> {
    /// The same samples with the width as a value, borrowed.
    pub fn as_dyn(&self) -> DynDataset<'_, T> {
        DynDataset {
            features: Cow::Borrowed(BatchSlice::as_slice(&self.features)),
            width: W,
            targets: Cow::Borrowed(&self.targets),
        }
    }
}

impl<T: Targets> DynDataset<'_, T> {
    /// Whole rows of `width` values, as many as there are targets.
    pub fn new(features: Vec<f32>, width: usize, targets: T) -> Result<Self, DataError> {
        whole_rows(features.len(), width)?;
        let data = DynDataset {
            features: Cow::Owned(features),
            width,
            targets: Cow::Owned(targets),
        };
        data.check_rows()?;
        Ok(data)
    }
}

impl<'a, T: Targets> DynDataset<'a, T> {
    /// Whether there are as many feature rows as targets: `new` makes sure, but the view of a
    /// [`Dataset`] written as a struct literal (`as_dyn`) may differ, which `fit_dyn` and
    /// `evaluate_dyn` refuse, naming both counts.
    pub fn check_rows(&self) -> Result<(), DataError> {
        // A table without feature columns is width 0, its rows empty: as many as targets.
        let rows = match self.width {
            0 => self.targets.len(),
            width => self.features.len() / width,
        };
        if rows != self.targets.len() || self.features.len() != rows * self.width {
            return Err(DataError::Rows {
                features: rows,
                targets: self.targets.len(),
            });
        }
        Ok(())
    }

    /// Values per row.
    pub fn width(&self) -> usize {
        self.width
    }
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.targets.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Every row, flat.
    pub fn features(&self) -> &[f32] {
        &self.features
    }
    /// Every row, flat, to change in place (a borrowed dataset is copied first).
    pub fn features_mut(&mut self) -> &mut [f32] {
        self.features.to_mut()
    }
    pub fn targets(&self) -> &T {
        &self.targets
    }
    /// Sample `i`'s features.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.features[i * self.width..(i + 1) * self.width]
    }

    /// The samples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> DynDataset<'a, T> {
        let mut features = Vec::with_capacity(indices.len() * self.width);
        for &i in indices {
            features.extend_from_slice(self.row(i));
        }
        DynDataset {
            features: Cow::Owned(features),
            width: self.width,
            targets: Cow::Owned(select_targets(&*self.targets, indices)),
        }
    }

    /// [`Dataset::split`], for this dataset: the same samples on each side for the same RNG.
    pub fn split(
        &self,
        fraction: f32,
        stratify: bool,
        rng: &mut (impl Rng + ?Sized),
    ) -> Result<(DynDataset<'a, T>, DynDataset<'a, T>), DataError> {
        let (train, val) = split_indices(&*self.targets, fraction, stratify, rng)?;
        Ok((self.select(&train), self.select(&val)))
    }
}

/// The targets at `indices`, in that order.
pub(super) fn select_targets<T: Targets>(targets: &T, indices: &[usize]) -> T {
    let mut owned = T::Owned::default();
    targets.gather_into(indices, &mut owned);
    T::from_owned(owned)
}

/// `fraction` at the decimal value it is written as (`0.7`, not f32's 0.69999999): `0.7 × 5`
/// is 3.5, held out as 4, where the f32's 3.4999999 rounded to 3.
fn decimal(fraction: f32) -> f64 {
    // Display prints the shortest decimal that reads back as the same f32.
    fraction.to_string().parse().unwrap_or(f64::from(fraction))
}

/// How many samples each group holds out: `round(fraction · total)` in all, shared by the
/// largest remainder in proportion to the groups' sizes (scikit-learn's stratified split
/// shares its count so; ties go to the earlier group). Rounded group by group, ten classes of
/// five with a fraction of 0.1 held out one each, ten in all, twice the fraction.
fn held_out_per_group(sizes: &[usize], fraction: f32) -> Vec<usize> {
    let total: usize = sizes.iter().sum();
    let n_val = (total as f64 * decimal(fraction)).round() as usize;
    let quotas: Vec<f64> = sizes
        .iter()
        .map(|&n| n as f64 * n_val as f64 / total.max(1) as f64)
        .collect();
    let mut held: Vec<usize> = quotas.iter().map(|q| q.floor() as usize).collect();
    let remainder = |g: usize| quotas[g] - held[g] as f64;
    let mut by_remainder: Vec<usize> = (0..sizes.len()).collect();
    by_remainder.sort_by(|&a, &b| remainder(b).total_cmp(&remainder(a)).then(a.cmp(&b)));
    let mut left = n_val.saturating_sub(held.iter().sum());
    for g in by_remainder {
        if left == 0 {
            break;
        }
        if held[g] < sizes[g] {
            held[g] += 1;
            left -= 1;
        }
    }
    held
}

/// The training and validation indices of a split: shuffled, `fraction` held out (shared
/// among the classes in proportion with `stratify`). One function for both dataset types, so they split alike.
pub(super) fn split_indices<T: Targets>(
    targets: &T,
    fraction: f32,
    stratify: bool,
    rng: &mut (impl Rng + ?Sized),
) -> Result<(Vec<usize>, Vec<usize>), DataError> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(DataError::Fraction(fraction));
    }
    let len = targets.len();
    let mut groups: Vec<Vec<usize>> = if stratify {
        let mut by_class: std::collections::BTreeMap<u64, Vec<usize>> = Default::default();
        for i in 0..len {
            let class = targets
                .stratum(i)
                .ok_or(DataError::NotStratifiable { index: i })?;
            by_class.entry(class).or_default().push(i);
        }
        by_class.into_values().collect()
    } else {
        vec![(0..len).collect()]
    };
    let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
    let held_out = held_out_per_group(&sizes, fraction);
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for (group, n_val) in groups.iter_mut().zip(held_out) {
        group.shuffle(rng);
        val.extend_from_slice(&group[..n_val]);
        train.extend_from_slice(&group[n_val..]);
    }
    if train.is_empty() || val.is_empty() {
        return Err(DataError::EmptySplit { len, fraction });
    }
    // Mix the classes again so neither side is ordered by class.
    train.shuffle(rng);
    val.shuffle(rng);
    Ok((train, val))
}
