//! I1 of benches/protocol.rs for the exported binary classifier: nanoseconds per `forward`
//! at batch 1, the median of five runs of 100,000 calls (`--quick`: one run of 6,250). Also
//! prints the fastest of 25 runs, the better estimate on a machine busy with other work.
//!
//! `cargo bench -p staticnn-export-check`

use std::time::Instant;

use staticnn_export_check::binary_classifier::forward;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (runs, calls) = if quick { (1, 6_250) } else { (5, 100_000) };
    let ns = |runs: usize| -> Vec<f64> {
        let mut t: Vec<f64> = (0..runs)
            .map(|_| time(calls) * 1e9 / calls as f64)
            .collect();
        t.sort_by(f64::total_cmp);
        t
    };
    let i1 = ns(runs);
    let median = i1[i1.len() / 2];
    println!("exported binary classifier, batch 1: {median:.1} ns/call (median of {runs})");
    if !quick {
        let fastest = ns(25)[0];
        println!("fastest of 25 runs: {fastest:.1} ns/call");
    }
    println!("{{\"I1_exported\": {median:.1}}}");
}

/// Seconds for `calls` calls of `forward`.
fn time(calls: usize) -> f64 {
    let x = [0.3f32, -0.7];
    let mut sink = 0.0f32;
    let start = Instant::now();
    for _ in 0..calls {
        sink += forward(std::hint::black_box(&x))[0];
    }
    let t = start.elapsed().as_secs_f64();
    std::hint::black_box(sink);
    t
}
