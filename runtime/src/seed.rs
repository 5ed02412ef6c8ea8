//! The one RNG a run is seeded with: initialisation, shuffling and dropout all draw from it
//! (or from generators seeded from it), so one seed reproduces a run.

use rand::SeedableRng;

/// A small, fast generator whose state can be saved (PCG-64 MCG).
pub type SeededRng = rand_pcg::Pcg64Mcg;

/// PyTorch's `torch.manual_seed(seed)`, as a value you pass on.
pub fn seeded_rng(seed: u64) -> SeededRng {
    SeededRng::seed_from_u64(seed)
}
