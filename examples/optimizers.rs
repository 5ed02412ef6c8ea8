//! SGD, SGD with momentum, Adam, AdamW and RMSprop on the same network, data and seed; their
//! training-loss curves on one chart.
//!
//! `cargo run --release --example optimizers -- optimizers.svg`

use staticnn::data::synthetic;
use staticnn::plot::{Chart, Series};
use staticnn::prelude::*;

model! {
    pub struct Net: [2] -> [3] {
        Linear(32),
        ReLU,
        Linear(32),
        ReLU,
        Linear(3),
    }
}

fn contenders() -> Result<Vec<(&'static str, AnyOptimizer)>, OptimizerError> {
    Ok(vec![
        ("SGD lr 0.05", AnyOptimizer::SGD(SGD::new(0.05)?)),
        (
            "SGD momentum 0.9 lr 0.05",
            AnyOptimizer::SGD(SGD::new(0.05)?.momentum(0.9)?),
        ),
        ("Adam lr 0.005", AnyOptimizer::Adam(Adam::new(0.005)?)),
        ("AdamW lr 0.005", AnyOptimizer::Adam(AdamW::new(0.005)?)),
        (
            "RMSprop lr 0.005",
            AnyOptimizer::RMSprop(RMSprop::new(0.005)?),
        ),
    ])
}

fn race(epochs: usize) -> Vec<(&'static str, Vec<f64>)> {
    let data = synthetic::spirals(200, 3, 0.2, &mut seeded_rng(1));
    contenders()
        .expect("rates PyTorch accepts")
        .into_iter()
        .map(|(name, mut optimizer)| {
            let mut model = Net::new(&mut seeded_rng(2));
            let mut options = FitOptions::new(epochs, 32)
                .seed(3)
                .progress(Progress::Quiet);
            let history = fit(
                &mut model,
                &mut CrossEntropyLoss::new(),
                &mut optimizer,
                &data,
                None,
                &mut options,
            )
            .expect("spirals fit cross-entropy");
            (name, history.series("loss"))
        })
        .collect()
}

fn chart(results: &[(&str, Vec<f64>)]) -> Chart {
    let mut chart = Chart::new("Optimizers on three spirals", "epoch", "training loss").log_y(true);
    for (name, losses) in results {
        chart = chart.series(Series::from_values(name, losses));
    }
    chart
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "optimizers.svg".into());
    let results = race(60);
    for (name, losses) in &results {
        println!(
            "{name:<26} final_loss={:.4}",
            losses.last().copied().unwrap_or(f64::NAN)
        );
    }
    if let Err(e) = chart(&results).save_svg(&path) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    println!("chart={path}");
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_optimizer_lowers_the_loss() {
        for (name, losses) in super::race(5) {
            assert!(losses.last() < losses.first(), "{name}: {losses:?}");
        }
    }
}
