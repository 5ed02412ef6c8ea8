//! Seeded toy datasets, as scikit-learn makes them: two moons, two circles, spirals, and
//! noisy linear regression.

use std::f32::consts::PI;

use rand::{Rng, RngExt};

use super::Dataset;
use crate::tensor::Batch;

/// A standard normal draw (Box–Muller).
pub fn normal(rng: &mut (impl Rng + ?Sized)) -> f32 {
    let u1: f32 = rng.random::<f32>().max(f32::MIN_POSITIVE);
    let u2: f32 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}

/// Two interleaving half circles, labels 0 and 1 as float targets (for BCE), `n` samples.
pub fn moons(n: usize, noise: f32, rng: &mut (impl Rng + ?Sized)) -> Dataset<2, Batch<1>> {
    let mut x = Batch::new();
    let mut y = Batch::new();
    for i in 0..n {
        let upper = i < n.div_ceil(2);
        let t = PI * rng.random::<f32>();
        let (px, py, label) = if upper {
            (t.cos(), t.sin(), 0.0)
        } else {
            (1.0 - t.cos(), 0.5 - t.sin(), 1.0)
        };
        x.push_row(&[px + noise * normal(rng), py + noise * normal(rng)]);
        y.push_row(&[label]);
    }
    Dataset {
        features: x,
        targets: y,
    }
}

/// A small circle (label 1) inside a large one (label 0).
pub fn circles(
    n: usize,
    noise: f32,
    factor: f32,
    rng: &mut (impl Rng + ?Sized),
) -> Dataset<2, Batch<1>> {
    let mut x = Batch::new();
    let mut y = Batch::new();
    for i in 0..n {
        let inner = i >= n / 2;
        let t = 2.0 * PI * rng.random::<f32>();
        let r = if inner { factor } else { 1.0 };
        x.push_row(&[
            r * t.cos() + noise * normal(rng),
            r * t.sin() + noise * normal(rng),
        ]);
        y.push_row(&[if inner { 1.0 } else { 0.0 }]);
    }
    Dataset {
        features: x,
        targets: y,
    }
}

/// `classes` interleaved spiral arms of `per_class` points each (CS231n's spiral data).
pub fn spirals(
    per_class: usize,
    classes: usize,
    noise: f32,
    rng: &mut (impl Rng + ?Sized),
) -> Dataset<2, Vec<usize>> {
    let mut x = Batch::new();
    let mut y = Vec::new();
    for class in 0..classes {
        for i in 0..per_class {
            let r = i as f32 / per_class.max(2).saturating_sub(1) as f32;
            let t = class as f32 * 4.0 + 4.0 * r + noise * normal(rng);
            x.push_row(&[r * t.sin(), r * t.cos()]);
            y.push(class);
        }
    }
    Dataset {
        features: x,
        targets: y,
    }
}

/// `y = x·w + b + ε` with `x ~ N(0, 1)`, `ε ~ N(0, noise²)`; returns the data and the true
/// `(w, b)`, drawn from U(-2, 2).
pub fn linear_regression<const W: usize>(
    n: usize,
    noise: f32,
    rng: &mut (impl Rng + ?Sized),
) -> (Dataset<W, Batch<1>>, [f32; W], f32) {
    let mut w = [0.0; W];
    for v in &mut w {
        *v = rng.random::<f32>() * 4.0 - 2.0;
    }
    let b = rng.random::<f32>() * 4.0 - 2.0;
    let mut x = Batch::new();
    let mut y = Batch::new();
    for _ in 0..n {
        let mut row = [0.0; W];
        for v in &mut row {
            *v = normal(rng);
        }
        let target = row.iter().zip(&w).map(|(a, b)| a * b).sum::<f32>() + b + noise * normal(rng);
        x.push_row(&row);
        y.push_row(&[target]);
    }
    (
        Dataset {
            features: x,
            targets: y,
        },
        w,
        b,
    )
}
