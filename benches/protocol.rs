//! The benchmark protocol of DESIGN.md: training throughput (samples/s) after one warm-up
//! epoch, median of five timed epochs, on random data made once up front; inference latency
//! and throughput. `cargo bench --bench protocol -- [--threads N] [--json PATH] [--quick]`.
//!
//! Under `cargo test` (no `--bench` argument) it runs `--quick`, so the suite keeps it working.

use std::time::Instant;

use rand::RngExt;
use staticnn::parallel::DataParallel;
use staticnn::prelude::*;

model! {
    /// T1 and I1: 2→16→16→1.
    pub struct Tiny: [2] -> [1] { Linear(16), ReLU, Linear(16), ReLU, Linear(1) }
}
model! {
    /// T2 and I2: 784→256→128→10.
    pub struct Mnist: [784] -> [10] { Linear(256), ReLU, Linear(128), ReLU, Linear(10) }
}
model! {
    /// T3: 784→1024→1024→10.
    pub struct Wide: [784] -> [10] { Linear(1024), ReLU, Linear(1024), ReLU, Linear(10) }
}
model! {
    /// T4: 20→10→1.
    pub struct Seed: [20] -> [1] { Linear(10), ReLU, Linear(1) }
}

struct Settings {
    threads: usize,
    json: Option<String>,
    quick: bool,
    /// `--only T4`: one task, for profiling.
    only: Option<String>,
    /// `--repeat 50` with `--only`: the task measured that many times, so a profiler sees
    /// enough of a task whose run is a few milliseconds.
    repeat: usize,
}

impl Settings {
    fn runs(&self, task: &str) -> bool {
        self.only.as_deref().is_none_or(|o| o == task)
    }
}

fn settings() -> Settings {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    Settings {
        threads: value("--threads").and_then(|t| t.parse().ok()).unwrap_or(1),
        json: value("--json"),
        // `cargo bench` passes `--bench`; `cargo test` does not, and gets the quick run.
        quick: args.iter().any(|a| a == "--quick") || !args.iter().any(|a| a == "--bench"),
        only: value("--only"),
        repeat: value("--repeat").and_then(|r| r.parse().ok()).unwrap_or(1),
    }
}

fn random<const W: usize>(rows: usize, rng: &mut SeededRng) -> Batch<W> {
    Batch::from_vec(
        (0..rows * W)
            .map(|_| rng.random::<f32>() * 2.0 - 1.0)
            .collect(),
    )
    .expect("whole rows")
}

/// Median of `timed` runs of `epoch` after one warm-up, as seconds.
fn median_seconds(timed: usize, mut epoch: impl FnMut()) -> f64 {
    epoch();
    let mut times: Vec<f64> = (0..timed)
        .map(|_| {
            let start = Instant::now();
            epoch();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// `passes` times over `x` in consecutive batches of the explicit loop (one pass is an epoch;
/// T4's epoch is 2,000 passes over its one batch): PyTorch's five lines on one thread, or the
/// same step split by rows over `parallel`'s threads.
#[allow(clippy::too_many_arguments)] // the protocol's step, spelled out
fn train_epoch<M, L, O, T, const I: usize, const OUT: usize>(
    model: &mut M,
    loss: &mut L,
    optimizer: &mut O,
    x: &Batch<I>,
    y: &T,
    batch: usize,
    slice: impl Fn(&T, usize, usize) -> &L::Target + Sync,
    passes: usize,
    parallel: Option<&mut DataParallel<M, I, OUT>>,
) where
    M: Forward<I, OUT> + Init + Send + Sync,
    L: Loss<OUT> + Send,
    L::Target: Sync,
    O: Optimizer + Send,
    T: Sync + ?Sized,
{
    let rows = x.rows();
    let batches = (0..passes).flat_map(|_| {
        (0..rows)
            .step_by(batch)
            .map(move |start| (start, (start + batch).min(rows)))
    });
    let Some(parallel) = parallel else {
        for (start, end) in batches {
            model.zero_grad();
            let out = model.forward_train(x.slice_rows(start, end));
            let (_, grad) = loss
                .value_and_grad(&out, slice(y, start, end))
                .expect("targets fit");
            // The input needs no gradient, as in PyTorch for data that does not require grad.
            out.backward_params(grad);
            optimizer.step(model).expect("the optimizer's own model");
        }
        return;
    };
    // The whole epoch on the step's threads, so that no step waits for one to wake.
    parallel.scope(|parallel| {
        for (start, end) in batches {
            parallel
                .step(
                    model,
                    loss,
                    optimizer,
                    x.slice_rows(start, end),
                    slice(y, start, end),
                )
                .expect("a step");
        }
    });
}

/// The data-parallel driver for `threads > 1`; `None` runs the plain loop.
fn data_parallel<M, const I: usize, const OUT: usize>(
    model: &M,
    threads: usize,
) -> Option<DataParallel<M, I, OUT>>
where
    M: Forward<I, OUT> + Init + Send,
{
    (threads > 1).then(|| DataParallel::new(model, threads).expect("threads"))
}

fn rows<const K: usize>(y: &Batch<K>, start: usize, end: usize) -> &BatchSlice<K> {
    y.slice_rows(start, end)
}

#[allow(clippy::ptr_arg)] // the slicer must take the target type as stored
fn classes(y: &Vec<usize>, start: usize, end: usize) -> &[usize] {
    &y[start..end]
}

const TASKS: [&str; 6] = ["T1", "T2", "T3", "T4", "I1", "I2"];

/// Runs each task in a fresh process of this binary, so that one task's thread pool (rayon
/// keeps its workers spinning for a while) does not slow the next.
fn run_isolated(s: &Settings) -> Vec<(String, f64)> {
    let exe = std::env::current_exe().expect("the benchmark's own path");
    TASKS
        .iter()
        .map(|task| {
            let out = std::process::Command::new(&exe)
                .args([
                    "--bench",
                    "--threads",
                    &s.threads.to_string(),
                    "--only",
                    task,
                ])
                .output()
                .expect("running one task");
            let text = String::from_utf8_lossy(&out.stdout);
            let value = text
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{{\"{task}\": ")))
                .and_then(|rest| rest.split([',', '}']).next())
                .and_then(|v| v.trim().parse().ok())
                .expect("the task's value");
            (task.to_string(), value)
        })
        .collect()
}

fn unit(task: &str) -> &'static str {
    if task == "I1" { "ns/call" } else { "samples/s" }
}

fn report(s: &Settings, results: &[(String, f64)]) {
    println!(
        "staticnn protocol, {} thread(s){}",
        s.threads,
        if s.quick { ", quick" } else { "" }
    );
    println!("| task | value | unit |\n|---|---:|---|");
    for (task, value) in results {
        println!("| {task} | {value:.0} | {} |", unit(task));
    }
    let mut json: Vec<String> = results
        .iter()
        .map(|(t, v)| format!("\"{t}\": {v:.1}"))
        .collect();
    json.push(format!("\"threads\": {}", s.threads));
    let json = format!("{{{}}}", json.join(", "));
    println!("{json}");
    if let Some(path) = &s.json {
        std::fs::write(path, json + "\n").expect("writing the JSON file");
    }
}

/// How `--limits` stores the operands of its products.
#[derive(Clone, Copy, Debug)]
enum Layout {
    /// As the step does: row-major batches, weights `out × in` row-major as `Linear` keeps them.
    RowMajor,
    /// Column-major matrices, as the limits first quoted in the speed issue were measured.
    ColumnMajor,
}

fn view(layout: Layout, data: &[f32], rows: usize, cols: usize) -> faer::MatRef<'_, f32> {
    match layout {
        Layout::RowMajor => faer::MatRef::from_row_major_slice(data, rows, cols),
        Layout::ColumnMajor => faer::MatRef::from_column_major_slice(data, rows, cols),
    }
}

fn view_mut(layout: Layout, data: &mut [f32], rows: usize, cols: usize) -> faer::MatMut<'_, f32> {
    match layout {
        Layout::RowMajor => faer::MatMut::from_row_major_slice_mut(data, rows, cols),
        Layout::ColumnMajor => faer::MatMut::from_column_major_slice_mut(data, rows, cols),
    }
}

/// The faer-products-alone limit of a training task: per step, every product its network's
/// forward and backward need (no input gradient for the first layer), nothing else, through
/// faer as the step calls it (`staticnn::linalg::matmul`: the same split over threads), where
/// the step runs some small products in its own kernels instead (`Linear`'s AVX-512 chains,
/// its small-batch and one-output paths).
fn matmul_limit(layout: Layout, widths: &[usize], batch: usize, samples: usize) -> f64 {
    use faer::Accum;
    use staticnn::linalg::matmul;
    let values =
        |len: usize| -> Vec<f32> { (0..len).map(|i| ((i * 7) % 11) as f32 / 11.0).collect() };
    let layers: Vec<(usize, usize)> = widths.windows(2).map(|w| (w[0], w[1])).collect();
    let weights: Vec<Vec<f32>> = layers.iter().map(|&(i, o)| values(o * i)).collect();
    let mut grads: Vec<Vec<f32>> = layers.iter().map(|&(i, o)| vec![0.0; o * i]).collect();
    let acts: Vec<Vec<f32>> = widths.iter().map(|&w| values(batch * w)).collect();
    let mut outs: Vec<Vec<f32>> = widths.iter().map(|&w| vec![0.0; batch * w]).collect();
    let steps = samples.div_ceil(batch);
    let t = median_seconds(5, || {
        for _ in 0..steps {
            for (l, &(inw, outw)) in layers.iter().enumerate() {
                let w = view(layout, &weights[l], outw, inw);
                let x = view(layout, &acts[l], batch, inw);
                let out = view_mut(layout, &mut outs[l + 1], batch, outw);
                matmul(out, Accum::Replace, x, w.transpose());
            }
            for (l, &(inw, outw)) in layers.iter().enumerate().rev() {
                // The gradient at the layer's output stands in as the next activation.
                let g = view(layout, &acts[l + 1], batch, outw);
                let x = view(layout, &acts[l], batch, inw);
                let dw = view_mut(layout, &mut grads[l], outw, inw);
                matmul(dw, Accum::Add, g.transpose(), x);
                if l > 0 {
                    let w = view(layout, &weights[l], outw, inw);
                    let dx = view_mut(layout, &mut outs[l], batch, inw);
                    matmul(dx, Accum::Replace, g, w);
                }
            }
        }
        std::hint::black_box(&outs);
        std::hint::black_box(&grads);
    });
    (steps * batch) as f64 / t
}

fn main() {
    let s = settings();
    if std::env::args().any(|a| a == "--limits") {
        staticnn::set_num_threads(s.threads);
        for layout in [Layout::RowMajor, Layout::ColumnMajor] {
            println!(
                "faer products alone, {} thread(s), {layout:?} operands: T1 {:.0}, T2 {:.0}, T3 {:.0}, T4 {:.0} samples/s",
                s.threads,
                matmul_limit(layout, &[2, 16, 16, 1], 32, 8192),
                matmul_limit(layout, &[784, 256, 128, 10], 64, 8192),
                matmul_limit(layout, &[784, 1024, 1024, 10], 256, 4096),
                matmul_limit(layout, &[20, 10, 1], 100, 200_000)
            );
        }
        return;
    }
    if s.only.is_none() && !s.quick {
        let results = run_isolated(&s);
        report(&s, &results);
    } else {
        for _ in 0..s.repeat {
            measure(&s);
        }
    }
}

fn measure(s: &Settings) {
    staticnn::set_num_threads(s.threads);
    let mut rng = seeded_rng(0);
    let (timed, scale) = if s.quick { (1, 16) } else { (5, 1) };
    let mut results: Vec<(String, f64)> = Vec::new();

    if s.runs("T1") {
        let n = 8192 / scale;
        let (x, y) = (
            random::<2>(n, &mut rng),
            random::<1>(n, &mut rng).into_vec(),
        );
        let y =
            Batch::<1>::from_vec(y.iter().map(|v| f32::from(*v > 0.0)).collect()).expect("rows");
        let mut m = Tiny::new(&mut rng);
        let (mut l, mut o) = (BCEWithLogitsLoss::new(), Adam::new(1e-3).unwrap());
        let mut p = data_parallel(&m, s.threads);
        let t = median_seconds(timed, || {
            train_epoch(&mut m, &mut l, &mut o, &x, &y, 32, rows, 1, p.as_mut())
        });
        results.push(("T1".to_string(), n as f64 / t));
    }

    if s.runs("T2") {
        let n = 8192 / scale;
        let x = random::<784>(n, &mut rng);
        let y: Vec<usize> = (0..n).map(|i| i % 10).collect();
        let mut m = Mnist::new(&mut rng);
        let (mut l, mut o) = (CrossEntropyLoss::new(), Adam::new(1e-3).unwrap());
        let mut p = data_parallel(&m, s.threads);
        let t = median_seconds(timed, || {
            train_epoch(&mut m, &mut l, &mut o, &x, &y, 64, classes, 1, p.as_mut())
        });
        results.push(("T2".to_string(), n as f64 / t));
    }

    if s.runs("T3") {
        let n = 4096 / scale;
        let x = random::<784>(n, &mut rng);
        let y: Vec<usize> = (0..n).map(|i| i % 10).collect();
        let mut m = Wide::new(&mut rng);
        let (mut l, mut o) = (
            CrossEntropyLoss::new(),
            SGD::new(0.01).unwrap().momentum(0.9).unwrap(),
        );
        let mut p = data_parallel(&m, s.threads);
        let t = median_seconds(timed, || {
            train_epoch(&mut m, &mut l, &mut o, &x, &y, 256, classes, 1, p.as_mut())
        });
        results.push(("T3".to_string(), n as f64 / t));
    }

    // T4: full batch of 100, 2000 steps an epoch
    if s.runs("T4") {
        let steps = 2000 / scale;
        let (x, y) = (random::<20>(100, &mut rng), random::<1>(100, &mut rng));
        let mut m = Seed::new(&mut rng);
        let (mut l, mut o) = (MSELoss::new(), Adam::new(0.01).unwrap());
        let mut p = data_parallel(&m, s.threads);
        let t = median_seconds(timed, || {
            train_epoch(&mut m, &mut l, &mut o, &x, &y, 100, rows, steps, p.as_mut())
        });
        results.push(("T4".to_string(), (100 * steps) as f64 / t));
    }

    // I1: ns per forward of T1's net at batch 1, eval
    if s.runs("I1") {
        let calls = 100_000 / scale;
        let mut m = Tiny::new(&mut rng);
        m.eval();
        let x1 = random::<2>(1, &mut rng);
        let mut sink = 0.0f32;
        let t = median_seconds(timed, || {
            for _ in 0..calls {
                sink += m.forward(std::hint::black_box(&x1)).as_slice()[0];
            }
        });
        std::hint::black_box(sink);
        results.push(("I1".to_string(), t * 1e9 / calls as f64));
    }

    // I2: T2's net, batch 256, eval
    if s.runs("I2") {
        let mut m = Mnist::new(&mut rng);
        m.eval();
        let x = random::<784>(256, &mut rng);
        let reps = 64 / scale.min(16);
        let t = median_seconds(timed, || {
            for _ in 0..reps {
                std::hint::black_box(m.forward(&x));
            }
        });
        results.push(("I2".to_string(), (256 * reps) as f64 / t));
    }

    report(s, &results);
}
