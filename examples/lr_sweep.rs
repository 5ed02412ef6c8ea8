//! One network trained with SGD at several learning rates; their training-loss curves on one
//! chart show too small (slow), about right, and too large (unstable or stuck).
//!
//! `cargo run --release --example lr_sweep -- lr_sweep.svg`

use staticnn::data::synthetic;
use staticnn::plot::{Chart, Series};
use staticnn::prelude::*;

model! {
    pub struct Net: [2] -> [1] {
        Linear(16),
        ReLU,
        Linear(16),
        ReLU,
        Linear(1),
    }
}

const RATES: [f64; 5] = [0.001, 0.01, 0.1, 1.0, 5.0];

/// The training loss per epoch at each learning rate.
fn sweep(epochs: usize) -> Vec<(f64, Vec<f64>)> {
    let data = synthetic::moons(1000, 0.2, &mut seeded_rng(1));
    RATES
        .iter()
        .map(|&lr| {
            let mut model = Net::new(&mut seeded_rng(2));
            let mut options = FitOptions::new(epochs, 32)
                .seed(3)
                .progress(Progress::Quiet);
            let history = fit(
                &mut model,
                &mut BCEWithLogitsLoss::new(),
                &mut SGD::new(lr).expect("the rates above are valid"),
                &data,
                None,
                &mut options,
            )
            .expect("moons fit BCE");
            (lr, history.series("loss"))
        })
        .collect()
}

fn chart(results: &[(f64, Vec<f64>)]) -> Chart {
    let mut chart = Chart::new(
        "Learning-rate sweep (SGD on two moons)",
        "epoch",
        "training loss",
    )
    .log_y(true);
    for (lr, losses) in results {
        chart = chart.series(Series::from_values(&format!("lr = {lr}"), losses));
    }
    chart
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "lr_sweep.svg".into());
    let results = sweep(40);
    for (lr, losses) in &results {
        println!(
            "lr={lr:<6} final_loss={:.4}",
            losses.last().copied().unwrap_or(f64::NAN)
        );
    }
    if let Err(e) = chart(&results).save_svg(&path) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    let best = results
        .iter()
        .min_by(|a, b| a.1.last().partial_cmp(&b.1.last()).expect("finite losses"))
        .map_or(f64::NAN, |r| r.0);
    println!("chart={path} best_lr={best}");
}

#[cfg(test)]
mod tests {
    #[test]
    fn sweep_draws_one_curve_per_rate() {
        let results = super::sweep(3);
        assert_eq!(results.len(), super::RATES.len());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sweep.svg");
        super::chart(&results).save_svg(&path).unwrap();
        let svg = std::fs::read_to_string(path).unwrap();
        assert!(svg.contains("lr = 0.001") && svg.contains("Learning-rate sweep"));
    }
}
