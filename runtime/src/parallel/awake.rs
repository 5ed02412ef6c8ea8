//! Keeps a data-parallel step's threads awake between the parts they are handed.
//!
//! A split step hands work to the other threads several times (the weights out, the forward
//! pass, the backward pass, the gradients back, the optimizer's long tensors), with short
//! stretches on the calling thread in between (the loss, the short tensors). An idle rayon
//! worker yields a few dozen times and then sleeps on a futex, and the next part must wake
//! it: on a 2-core KVM guest (Intel Xeon, AVX-512) that put a fifth of T2's two-thread step
//! in the kernel (`futex_wait`, `finish_task_switch`), and the step ran slower than on one
//! thread. So every thread of the pool runs a [`spin`] job for the pool's life, which takes
//! each part as soon as it is posted, as OpenMP's threads spin between parallel regions
//! under PyTorch or MKL (`KMP_BLOCKTIME`: 200 ms). After [`IDLE`] without work a spinner
//! parks until the next step wakes it ([`SpinningPool::install`]), so a program that has stopped
//! stepping does not keep a core busy; parking and waking allocate nothing (std's futex
//! `Mutex` and `Condvar` on Linux).
//!
//! Past [`PURE_SPIN`] without work a spinner yields its core to the OS between looks, as
//! rayon's idle loop does, so that it does not compete for long with a thread outside the
//! pool (a loop calling `step` from the main thread, another program).
//!
//! A wake can cross a spinner that has just found no work and is about to park (the step
//! posts its job after waking). So a parked spinner also looks for work on its own, after
//! [`FIRST_LOOK`] and then at doubling intervals up to [`LAST_LOOK`]: a step's `install`
//! waits that long at worst, and nothing can wait forever. A `join` half that no spinner
//! takes (all parked, as after a stretch of more than [`IDLE`] on the calling thread within a
//! step) is run by the thread that posted it: the rest of that step runs on one thread.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a thread spins with nothing to do before it parks: far longer than a step's
/// stretches on one thread (tens of microseconds for T2's loss and short tensors), short
/// enough that a loop that stops stepping frees its cores at once, for a person's eye.
const IDLE: Duration = Duration::from_millis(5);

/// How long a spinner without work spins without yielding its core: longer than a step's
/// stretches on the calling thread, so a part posted after one is taken at once.
const PURE_SPIN: Duration = Duration::from_micros(200);

/// A parked spinner's first look for work on its own, and the longest interval between two.
const FIRST_LOOK: Duration = Duration::from_millis(1);
const LAST_LOOK: Duration = Duration::from_millis(64);

/// What the spinners of one pool share with the steps.
#[derive(Default)]
struct Shared {
    /// Spinners parked now; a step wakes them only when there are some.
    parked: AtomicUsize,
    /// Set when the pool goes away: every spinner returns.
    stop: AtomicBool,
    /// Bumped by every wake, under the lock the parked spinners wait on.
    wakes: Mutex<u64>,
    woken: Condvar,
}

/// A rayon pool whose threads spin between the jobs a step posts; every job from outside
/// goes through [`install`](Self::install), which wakes parked spinners first.
pub(crate) struct SpinningPool {
    shared: Arc<Shared>,
    pool: rayon::ThreadPool,
}

impl SpinningPool {
    /// Starts a spinner on every thread of `pool` (none on a pool of one thread, which a
    /// step never splits over). The rayon jobs a step posts to the pool (its `install`, a
    /// `join`'s second half) are then run by the spinners.
    pub(crate) fn new(pool: rayon::ThreadPool) -> Self {
        let shared = Arc::new(Shared::default());
        if pool.current_num_threads() > 1 {
            let for_spinners = Arc::clone(&shared);
            pool.spawn_broadcast(move |_| spin(&for_spinners));
        }
        SpinningPool { shared, pool }
    }

    /// rayon's `install` on the pool, after waking the parked spinners: a parked spinner
    /// holds its thread, so rayon's own wake-up would not run the job. An atomic load when
    /// none is parked.
    pub(crate) fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        if self.shared.parked.load(Ordering::Acquire) > 0 {
            let mut wakes = self.shared.wakes.lock().unwrap_or_else(|e| e.into_inner());
            *wakes += 1;
            self.shared.woken.notify_all();
        }
        self.pool.install(f)
    }
}

impl Drop for SpinningPool {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        let _wakes = self.shared.wakes.lock().unwrap_or_else(|e| e.into_inner());
        self.shared.woken.notify_all();
    }
}

/// Runs whatever is posted to the pool, yielding its core past [`PURE_SPIN`] and parking
/// past [`IDLE`] without any, until the pool goes away.
fn spin(shared: &Shared) {
    let mut last_work = Instant::now();
    let mut look = FIRST_LOOK;
    while !shared.stop.load(Ordering::Acquire) {
        match rayon::yield_now() {
            Some(rayon::Yield::Executed) => {
                last_work = Instant::now();
                look = FIRST_LOOK;
            }
            Some(rayon::Yield::Idle) => {
                let idle = last_work.elapsed();
                if idle < PURE_SPIN {
                    std::hint::spin_loop();
                } else if idle < IDLE {
                    std::thread::yield_now();
                } else if park(shared, look) {
                    last_work = Instant::now();
                    look = FIRST_LOOK;
                } else {
                    look = (look * 2).min(LAST_LOOK);
                }
            }
            None => return,
        }
    }
}

/// Waits for the next wake by [`SpinningPool::install`] (or the stop) for at most `look`; whether it came.
fn park(shared: &Shared, look: Duration) -> bool {
    let wakes = shared.wakes.lock().unwrap_or_else(|e| e.into_inner());
    let seen = *wakes;
    shared.parked.fetch_add(1, Ordering::AcqRel);
    let (wakes, _) = shared
        .woken
        .wait_timeout_while(wakes, look, |w| {
            *w == seen && !shared.stop.load(Ordering::Acquire)
        })
        .unwrap_or_else(|e| e.into_inner());
    shared.parked.fetch_sub(1, Ordering::AcqRel);
    *wakes != seen
}
