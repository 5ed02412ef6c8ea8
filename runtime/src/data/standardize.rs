//! Standardisation of features (scikit-learn's `StandardScaler`): fitted on the training
//! split only, applied to every split, saved beside a checkpoint.

use serde::{Deserialize, Serialize};

use crate::tensor::{BatchSlice, ShapeError, whole_rows};

/// Per-feature mean and standard deviation (population, ddof = 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Standardizer {
    /// Learns the statistics of `x`. A constant feature gets std 1 so it maps to 0.
    pub fn fit<const W: usize>(x: &BatchSlice<W>) -> Self {
        Self::fit_rows(x.as_slice(), W)
    }

    /// [`Standardizer::fit`] on whole rows of `width` values, flat (one copy for all widths);
    /// values past the last whole row are not counted.
    pub fn fit_rows(x: &[f32], width: usize) -> Self {
        let rows = || x.chunks_exact(width.max(1));
        let n = rows().len().max(1) as f64;
        let mut mean = vec![0.0f64; width];
        for row in rows() {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0f64; width];
        for row in rows() {
            for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (f64::from(v) - m).powi(2);
            }
        }
        Standardizer {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std: var
                .iter()
                .map(|&s| {
                    let sd = (s / n).sqrt() as f32;
                    if sd > 0.0 { sd } else { 1.0 }
                })
                .collect(),
        }
    }

    /// `(x − mean) / std`, in place; an error if `W` is not the width it was fitted on.
    pub fn transform<const W: usize>(&self, x: &mut BatchSlice<W>) -> Result<(), ShapeError> {
        self.transform_rows(x.as_mut_slice(), W)
    }

    /// [`Standardizer::transform`] on whole rows of `width` values, flat.
    pub fn transform_rows(&self, x: &mut [f32], width: usize) -> Result<(), ShapeError> {
        if self.mean.len() != width || self.std.len() != width {
            return Err(ShapeError::RowWidth {
                row: 0,
                expected: self.mean.len(),
                found: width,
            });
        }
        // A partial last row would be left unscaled by the loop below: refuse it first.
        whole_rows(x.len(), width)?;
        for row in x.chunks_exact_mut(width.max(1)) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (*v - m) / s;
            }
        }
        Ok(())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain numbers serialise")
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}
