//! Matrix products on faer, with the parallelism chosen by size.
//!
//! faer's rayon path costs tens of microseconds a call, which is more than a whole small
//! product takes, so products below [`PARALLEL_MIN_FLOPS`] always run on the calling thread.

use std::sync::atomic::{AtomicUsize, Ordering};

use faer::{Accum, MatMut, MatRef, Par};

/// Multiply-adds below which a product runs sequentially. Measured on 2 cores: T2's largest
/// product (64×784×256, 12.8M) is slower split over two threads, T3's (256×784×1024, 205M)
/// is 1.6× faster.
pub const PARALLEL_MIN_FLOPS: usize = 1 << 25;

static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets how many threads large products may use (1 turns parallelism off).
pub fn set_num_threads(threads: usize) {
    THREADS.store(threads.max(1), Ordering::Relaxed);
}

/// The number of threads large products may use: [`set_num_threads`]'s value, or every
/// available core until it is called.
pub fn num_threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        // Asked once: `available_parallelism` reads the cgroup files, allocating, on every
        // call, and this is asked for every product.
        0 => *AVAILABLE.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        n => n,
    }
}

static AVAILABLE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// The parallelism for an `m × k` by `k × n` product.
pub fn par_for(m: usize, n: usize, k: usize) -> Par {
    // A data-parallel step's thread is one part of the work already: its products stay on it.
    if crate::parallel::split::on_step_thread() {
        return Par::Seq;
    }
    let threads = num_threads();
    if threads > 1 && m.saturating_mul(n).saturating_mul(k) >= PARALLEL_MIN_FLOPS {
        Par::rayon(threads)
    } else {
        Par::Seq
    }
}

/// `dst = lhs · rhs` (`Accum::Replace`) or `dst += lhs · rhs` (`Accum::Add`).
pub fn matmul(dst: MatMut<'_, f32>, accum: Accum, lhs: MatRef<'_, f32>, rhs: MatRef<'_, f32>) {
    let par = par_for(dst.nrows(), dst.ncols(), lhs.ncols());
    faer::linalg::matmul::matmul(dst, accum, lhs, rhs, 1.0f32, par);
    clear_upper_vector_state();
}

/// Runs one product through faer's packing GEMM on the calling thread, so that the
/// per-thread buffer it allocates on a thread's first such product exists before a hot loop
/// (measured: a data-parallel step's second thread allocated it, 960 MiB reserved on this
/// 480 MiB-L3 machine, in whichever step first handed it a product).
pub(crate) fn prepare_thread() {
    // 17³ multiply-adds: past nano-gemm's 16³, no dimension of 1, so faer's packing GEMM.
    const N: usize = 17;
    let (a, b, mut c) = ([0.0f32; N * N], [0.0f32; N * N], [0.0f32; N * N]);
    let dst = MatMut::from_row_major_slice_mut(&mut c, N, N);
    let (lhs, rhs) = (
        MatRef::from_row_major_slice(&a, N, N),
        MatRef::from_row_major_slice(&b, N, N),
    );
    matmul(dst, Accum::Replace, lhs, rhs);
}

/// Ends the dirty upper vector state that faer's AVX-512 kernels return with.
///
/// Measured on an Intel Xeon (AVX-512): the loss right after a forward pass ran 20–30×
/// slower than on its own, because every SSE-encoded instruction that follows (plain loops,
/// libm's `exp`) paid for the dirty upper halves of the vector registers; one `vzeroupper`
/// after the product restores full speed. It costs about a cycle, so every product ends with it.
#[inline]
fn clear_upper_vector_state() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: `vzeroupper` is an AVX instruction and AVX was detected just above. It
        // zeroes bits 128 and up of the vector registers; LLVM models the intrinsic as
        // clobbering them, so no value the compiler keeps in a register survives it wrongly.
        unsafe { std::arch::x86_64::_mm256_zeroupper() }
    }
}
