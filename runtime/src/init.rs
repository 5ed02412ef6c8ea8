//! PyTorch's default initialisations, drawn from a caller's seeded RNG.

use rand::{Rng, RngExt};

/// `n` values from U(-bound, bound).
pub fn uniform(rng: &mut impl Rng, n: usize, bound: f32) -> Vec<f32> {
    (0..n)
        .map(|_| {
            let u: f32 = rng.random();
            (2.0 * u - 1.0) * bound
        })
        .collect()
}

/// The bound PyTorch's `Linear` and `Conv2d` use for both weight and bias:
/// `kaiming_uniform_(a = sqrt(5))` works out to `1 / sqrt(fan_in)`.
pub fn default_bound(fan_in: usize) -> f32 {
    if fan_in == 0 {
        0.0
    } else {
        1.0 / (fan_in as f32).sqrt()
    }
}
