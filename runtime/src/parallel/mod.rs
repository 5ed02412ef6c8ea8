//! Data-parallel training steps for small networks, on several cores.
//!
//! PyTorch and the Rust peers get about nothing from a second core on a small network: each
//! product is too small to split. [`DataParallel`] splits the *batch* instead (PyTorch's
//! `DistributedDataParallel` on one machine): every thread runs its rows through its own
//! replica of the model (its own activation buffers), the loss is taken once over the whole
//! batch's output, each replica backpropagates its rows, the gradients are summed into the
//! model, and the optimizer steps the model once.
//!
//! The result is one thread's within float reassociation (the weight gradients are summed
//! part by part), and the same for a fixed thread count from run to run. With one thread
//! it is exactly the hand-written step.

mod awake;
mod error;
mod pairs;
mod settings;
pub(crate) mod split;

pub use error::{DataParallelError, StepError};

use crate::loss::Loss;
use crate::module::{Forward, Init, Module, TraceKey};
use crate::optim::Optimizer;
use crate::seed::seeded_rng;
use crate::state::{Entry, visit_named};
use crate::tensor::{Batch, BatchSlice};

/// Rows × parameters (about the multiply-adds of a forward pass) below which a step runs on
/// one thread. Measured on 2 cores: T1's step (32 rows × 337 parameters, 5 µs) and T4's
/// (100 × 221) were 2–3× slower split; T2's (64 × 235k) gains.
const SPLIT_MIN_WORK: usize = 1 << 20;

/// A model's training step split over `threads` threads by rows of the batch.
///
/// Built for a model of the `model!` macro (replicas are made with [`Init`]); the README's
/// "Two cores" section shows the loop.
pub struct DataParallel<M, const IN: usize, const OUT: usize> {
    /// One per thread but the first, whose rows the model itself takes.
    replicas: Vec<M>,
    /// The model's parameter count, which with the rows says whether a step splits.
    params: usize,
    /// The whole batch's output, gathered from the parts for the loss.
    output: Batch<OUT>,
    /// The step's threads, spinning between its parts. Shared so that [`scope`](Self::scope)
    /// can run on it while lending `self` out.
    pool: std::sync::Arc<awake::SpinningPool>,
}

impl<M, const IN: usize, const OUT: usize> DataParallel<M, IN, OUT>
where
    M: Forward<IN, OUT> + Init + Send,
{
    /// Replicas of `model`'s type for `threads` threads (1: the plain step, no replica).
    ///
    /// Refused, each by the key at fault, for what rows split over threads would silently
    /// change: buffers (BatchNorm's batch statistics would be each part's, not the batch's;
    /// PyTorch needs `SyncBatchNorm`), random streams (Dropout's masks come from one stream in
    /// row order), and a layer setting changed after construction (replicas are built from
    /// the type). A setting changed after `new` is not seen: build a new `DataParallel`.
    pub fn new(model: &M, threads: usize) -> Result<Self, DataParallelError> {
        if threads == 0 {
            return Err(DataParallelError::NoThreads);
        }
        let (buffer, rng) = first_buffer_and_rng(model);
        if let Some(key) = buffer {
            return Err(DataParallelError::BatchStatistics { key });
        }
        if let Some(key) = rng {
            return Err(DataParallelError::RandomStream { key });
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("staticnn-data-parallel-{i}"))
            // Each part is one thread's work: the products inside it must not fan out again.
            .start_handler(|_| split::mark_step_thread())
            .build()?;
        // Each thread's first product through faer's packing GEMM allocates that thread's
        // packing buffer (private-gemm keeps it in a thread-local). Made here on every thread,
        // not in whichever later step first hands a thread a product.
        pool.broadcast(|_| crate::linalg::prepare_thread());
        // The replicas' initial weights do not matter (every step sends the model's); their
        // Dropout streams come from these seeds, so a run is the same for a thread count.
        let replicas: Vec<M> = (1..threads)
            .map(|i| M::init(&mut seeded_rng(0x5eed_0000 + i as u64)))
            .collect();
        if let Some(replica) = replicas.first() {
            let difference = settings::first_difference(&model.describe(), &replica.describe());
            if let Some(layer) = difference {
                return Err(DataParallelError::Settings { layer });
            }
        }
        Ok(DataParallel {
            replicas,
            params: model.num_params(),
            output: Batch::new(),
            pool: std::sync::Arc::new(awake::SpinningPool::new(pool)),
        })
    }

    /// The number of threads a step uses.
    pub fn threads(&self) -> usize {
        self.replicas.len() + 1
    }

    /// Whether a step of `rows` rows is split. Not when it is too small (handing a part to
    /// another thread and back costs more than the part) or has fewer rows than threads:
    /// then it is the plain step, on the calling thread.
    pub fn splits(&self, rows: usize) -> bool {
        let parts = self.threads();
        parts > 1 && rows >= parts && rows.saturating_mul(self.params) >= SPLIT_MIN_WORK
    }

    /// Runs `f` on this step's threads, so that a loop of steps inside it is not posted to the
    /// pool and handed back step by step: the calling thread of every step is one of the
    /// pool's, and the others spin between steps instead of competing with a thread outside.
    pub fn scope<R: Send>(&mut self, f: impl FnOnce(&mut Self) -> R + Send) -> R
    where
        M: Sync,
    {
        let pool = std::sync::Arc::clone(&self.pool);
        pool.install(|| f(self))
    }

    /// One whole training step, PyTorch's `zero_grad / forward / loss / backward / step`
    /// over the batch `x` with `target`, in train mode; returns the loss.
    ///
    /// The replicas take the model's parameters and `requires_grad` flags at the start of
    /// every step, so a loaded state dict or a frozen layer holds here too.
    pub fn step<L, O>(
        &mut self,
        model: &mut M,
        loss: &mut L,
        optimizer: &mut O,
        x: &BatchSlice<IN>,
        target: &L::Target,
    ) -> Result<f32, StepError>
    where
        M: Sync,
        L: Loss<OUT> + Send,
        L::Target: Sync,
        O: Optimizer + Send,
    {
        model.validate(x)?;
        if !self.splits(x.rows()) {
            let value = plain_step(model, loss, x, target)?;
            optimizer.step(model)?;
            return Ok(value);
        }
        let pool = &self.pool;
        let (replicas, output) = (&mut self.replicas, &mut self.output);
        pool.install(|| {
            let value = forward_backward(model, replicas, output, loss, x, target)?;
            optimizer.step(model)?;
            Ok(value)
        })
    }
}

/// PyTorch's `zero_grad / forward / loss / backward` on the calling thread.
fn plain_step<M, L, const IN: usize, const OUT: usize>(
    model: &mut M,
    loss: &mut L,
    x: &BatchSlice<IN>,
    target: &L::Target,
) -> Result<f32, StepError>
where
    M: Forward<IN, OUT>,
    L: Loss<OUT>,
{
    model.train();
    model.zero_grad();
    let out = model.forward_train(x);
    let (value, grad) = loss.value_and_grad(&out, target)?;
    out.backward_params(grad);
    Ok(value)
}

/// The split step's forward, loss and backward, on the pool's threads; the model ends with
/// the whole batch's gradients.
fn forward_backward<M, L, const IN: usize, const OUT: usize>(
    model: &mut M,
    replicas: &mut [M],
    output: &mut Batch<OUT>,
    loss: &mut L,
    x: &BatchSlice<IN>,
    target: &L::Target,
) -> Result<f32, StepError>
where
    M: Forward<IN, OUT> + Send + Sync,
    L: Loss<OUT> + Send,
    L::Target: Sync,
{
    let key = TraceKey(());
    model.train();
    model.zero_grad();
    let rows = x.rows();
    let parts = replicas.len() + 1;
    let bounds = |part: usize| (part * rows / parts, (part + 1) * rows / parts);
    for replica in replicas.iter_mut() {
        replica.train();
        pairs::each_pair(model, replica, &mut pairs::send_weights)?;
    }
    on_every_part(model, replicas, &|m: &mut M, part| {
        let (lo, hi) = bounds(part);
        m.forward_train_raw(x.slice_rows(lo, hi));
    });
    output.resize_rows(rows);
    for (part, m) in std::iter::once(&*model).chain(replicas.iter()).enumerate() {
        let (lo, hi) = bounds(part);
        output.as_mut_slice()[lo * OUT..hi * OUT].copy_from_slice(m.last_output().as_slice());
    }
    let (value, grad) = loss.value_and_grad(output, target)?;
    // A loss of the user's own could return other rows; `slice_rows` would cut them.
    crate::module::same_row_count(rows, grad.rows());
    on_every_part(model, replicas, &|m: &mut M, part| {
        let (lo, hi) = bounds(part);
        m.backward_params_raw(x.slice_rows(lo, hi), grad.slice_rows(lo, hi), &key);
    });
    for replica in replicas.iter_mut() {
        pairs::each_pair(model, replica, &mut pairs::add_gradient)?;
    }
    Ok(value)
}

/// `f(model, 0)` and `f(replica, i + 1)` for every replica, each on a thread of the pool.
fn on_every_part<M: Send>(model: &mut M, replicas: &mut [M], f: &(dyn Fn(&mut M, usize) + Sync)) {
    rayon::join(|| f(model, 0), || on_replicas(replicas, 1, f));
}

fn on_replicas<M: Send>(replicas: &mut [M], first: usize, f: &(dyn Fn(&mut M, usize) + Sync)) {
    match replicas {
        [] => {}
        [one] => f(one, first),
        _ => {
            let mid = replicas.len() / 2;
            let (a, b) = replicas.split_at_mut(mid);
            rayon::join(
                || on_replicas(a, first, f),
                || on_replicas(b, first + mid, f),
            );
        }
    }
}

/// The state-dict keys of the model's first buffer and first random stream, if it has them.
fn first_buffer_and_rng<M: Module>(model: &M) -> (Option<String>, Option<String>) {
    let (mut buffer, mut rng) = (None, None);
    visit_named(model, |key, entry| match entry {
        Entry::Buffer(_) if buffer.is_none() => buffer = Some(key.to_string()),
        Entry::Rng(_) if rng.is_none() => rng = Some(key.to_string()),
        _ => {}
    });
    (buffer, rng)
}
