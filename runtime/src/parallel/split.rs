//! Elementwise passes (optimizer updates, gradient sums, weight copies) split across the
//! threads of a data-parallel step. Each value's operations are the same however the slices
//! are cut, so the result is the same bits as one pass.

use std::cell::Cell;

/// Pieces shorter than this are not worth handing to another thread (about 10 µs of work).
const MIN_PIECE: usize = 1 << 15;

thread_local! {
    static STEP_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Marks the calling thread as one of a data-parallel step's: its products stay on it and
/// its long elementwise passes split over the step's threads.
pub(crate) fn mark_step_thread() {
    STEP_THREAD.with(|s| s.set(true));
}

/// Whether the calling thread runs a data-parallel step.
pub(crate) fn on_step_thread() -> bool {
    STEP_THREAD.with(|s| s.get())
}

/// Slices that can be cut at the same place: one slice, or a pair of such (nest pairs for
/// more: `(p, (g, (m, v)))`).
pub(crate) trait Slices: Sized + Send {
    fn len(&self) -> usize;
    fn split_at(self, mid: usize) -> (Self, Self);
}

impl Slices for &mut [f32] {
    fn len(&self) -> usize {
        <[f32]>::len(self)
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        self.split_at_mut(mid)
    }
}

impl Slices for &[f32] {
    fn len(&self) -> usize {
        <[f32]>::len(self)
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        <[f32]>::split_at(self, mid)
    }
}

impl<A: Slices, B: Slices> Slices for (A, B) {
    fn len(&self) -> usize {
        self.0.len().min(self.1.len())
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        let ((a0, a1), (b0, b1)) = (self.0.split_at(mid), self.1.split_at(mid));
        ((a0, b0), (a1, b1))
    }
}

/// `f(slices)`: on a data-parallel step's thread and for long slices, as `f` on pieces run
/// by the step's threads; anywhere else, one call on the calling thread.
pub(crate) fn elementwise<S: Slices>(slices: S, f: &(impl Fn(S) + Sync)) {
    // The length first: a slice too short to cut (every tensor of a small network) never
    // reaches the thread-local lookup, which the plain step would pay per tensor.
    let pieces = if slices.len() >= 2 * MIN_PIECE && on_step_thread() {
        rayon::current_num_threads().min(slices.len() / MIN_PIECE)
    } else {
        1
    };
    in_pieces(slices, pieces, f);
}

fn in_pieces<S: Slices>(slices: S, pieces: usize, f: &(impl Fn(S) + Sync)) {
    if pieces < 2 {
        return f(slices);
    }
    let first = pieces / 2;
    let mid = slices.len() * first / pieces;
    let (a, b) = slices.split_at(mid);
    rayon::join(
        || in_pieces(a, first, f),
        || in_pieces(b, pieces - first, f),
    );
}
