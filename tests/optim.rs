//! Schedules and clipping beyond the fixtures (the optimizers' and schedules' PyTorch parity,
//! with the state round trip, is the generated suite in `parity/`): MultiStepLR,
//! ReduceLROnPlateau and its state, gradient clipping.

use staticnn::module::{Module, Parameter, Visitor, VisitorMut};
use staticnn::optim::*;

/// One parameter vector, as the fixture's single tensor.
struct Single(Parameter);
impl Module for Single {
    fn visit(&self, v: &mut dyn Visitor) {
        v.parameter("p", &self.0);
    }
    fn visit_mut(&mut self, v: &mut dyn VisitorMut) {
        v.parameter("p", &mut self.0);
    }
    fn set_training(&mut self, _: bool) {}
}

/// An optimizer that only carries learning rates, for the schedules.
#[allow(non_snake_case)]
fn Lr(lr: f64) -> SGD {
    SGD::new(lr).unwrap()
}

#[test]
fn multistep_and_plateau() {
    let mut opt = Lr(1.0);
    let mut s = MultiStepLR::new(&mut opt, vec![2, 4], 0.1).unwrap();
    let mut seen = vec![s.lr()];
    for _ in 0..5 {
        s.step(&mut opt);
        seen.push(opt.lr());
    }
    let expected = [1.0, 1.0, 0.1, 0.1, 0.01, 0.01];
    for (a, b) in seen.iter().zip(expected) {
        assert!((a - b).abs() < 1e-12, "{seen:?}");
    }

    // patience 2: the third epoch without improvement cuts the rate; cooldown 1 then waits.
    let mut opt = Lr(1.0);
    let mut p = ReduceLROnPlateau::new(&mut opt)
        .patience(2)
        .factor(0.5)
        .unwrap()
        .cooldown(1);
    let losses = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95];
    let lrs: Vec<f64> = losses
        .iter()
        .map(|&l| {
            p.step_with(Some(l), &mut opt);
            opt.lr()
        })
        .collect();
    assert_eq!(lrs, [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25]);
    let saved = p.state();
    let mut q = ReduceLROnPlateau::new(&mut Lr(9.0))
        .patience(2)
        .factor(0.5)
        .unwrap()
        .cooldown(1);
    q.load_state(&saved).unwrap();
    assert_eq!(q.lr(), 0.25);

    let mut opt = Lr(1.0);
    let mut p = ReduceLROnPlateau::new(&mut opt)
        .mode(PlateauMode::Max)
        .patience(0)
        .min_lr(0.3);
    for acc in [0.5, 0.4, 0.3, 0.2] {
        p.step_with(Some(acc), &mut opt);
    }
    assert_eq!(opt.lr(), 0.3, "min_lr holds");
}

#[test]
fn clipping() {
    let mut m = Single(Parameter::new(vec![0.0; 4], &[4]));
    m.0.grad = vec![3.0, 4.0, 0.0, 0.0];
    let norm = clip_grad_norm(&mut m, 1.0);
    assert!((norm - 5.0).abs() < 1e-6);
    let clipped: f32 = m.0.grad.iter().map(|g| g * g).sum::<f32>().sqrt();
    assert!((clipped - 1.0).abs() < 1e-5, "{clipped}");
    m.0.grad = vec![0.3, 0.4, 0.0, 0.0];
    assert!((clip_grad_norm(&mut m, 1.0) - 0.5).abs() < 1e-6);
    assert_eq!(
        m.0.grad,
        vec![0.3, 0.4, 0.0, 0.0],
        "below the limit nothing changes"
    );
    m.0.grad = vec![-2.0, 0.5, 3.0, -0.1];
    clip_grad_value(&mut m, 1.0);
    assert_eq!(m.0.grad, vec![-1.0, 0.5, 1.0, -0.1]);
}

/// Keras's ReduceLROnPlateau(patience=2, factor=0.5, min_delta=0, cooldown=1) on a scripted
/// `val_loss`, the rates written from Keras's `on_epoch_end`: epoch 3 is the first bad one
/// (wait 1), epoch 4 the second (wait 2 >= patience: cut to 0.5, cooldown 1); epoch 5's
/// cooldown ends before it is judged, so it is bad (wait 1) and epoch 6 cuts to 0.25; epoch 7
/// improves; epochs 8 and 9 are bad and 9 cuts to 0.125. PyTorch's rule, with the same
/// settings, first cuts at epoch 5 (more than 2 bad epochs).
#[test]
fn keras_plateau_counts_as_keras_does() {
    let values = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85];
    let keras = [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125];
    let mut opt = Lr(1.0);
    let mut p = ReduceLROnPlateau::keras(&mut opt)
        .patience(2)
        .factor(0.5)
        .unwrap()
        .min_delta(0.0)
        .cooldown(1);
    let mut seen = Vec::new();
    for v in values {
        p.step_with(Some(v), &mut opt);
        seen.push(opt.lr());
    }
    assert_eq!(seen, keras);

    let mut opt = Lr(1.0);
    let mut torch = ReduceLROnPlateau::new(&mut opt)
        .patience(2)
        .factor(0.5)
        .unwrap()
        .threshold(0.0, ThresholdMode::Abs)
        .cooldown(1);
    let mut first_cut = None;
    for (epoch, v) in values.into_iter().enumerate() {
        torch.step_with(Some(v), &mut opt);
        if opt.lr() < 1.0 && first_cut.is_none() {
            first_cut = Some(epoch + 1);
        }
    }
    assert_eq!(first_cut, Some(5));

    // At min_lr Keras stops cutting; the rate never goes below it.
    let mut opt = Lr(0.1);
    let mut p = ReduceLROnPlateau::keras(&mut opt).patience(1).min_lr(0.05);
    for _ in 0..5 {
        p.step_with(Some(1.0), &mut opt);
    }
    assert_eq!(opt.lr(), 0.05);
}

/// OneCycleLR through the end of its cycle against PyTorch (`fixtures/one_cycle_end.json`,
/// written by `generate_one_cycle_end.py`): the rate after the `total_steps`-th step, which
/// PyTorch allows, is its cosine past the end of the last phase, where a clamp held it at the
/// minimum (4e-7 against PyTorch's 0.028 at four steps).
#[test]
fn one_cycle_matches_pytorch_through_the_last_step() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/one_cycle_end.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let data: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = data["one_cycle"].as_array().unwrap();
    assert!(cases.len() >= 4, "the fixture's cases");
    for case in cases {
        let c = &case["config"];
        let f = |k: &str| c[k].as_f64().unwrap();
        let total = c["total_steps"].as_u64().unwrap();
        let mut opt = Lr(0.01);
        let options = OneCycleOptions {
            pct_start: f("pct_start"),
            div_factor: f("div_factor"),
            final_div_factor: f("final_div_factor"),
        };
        let mut s = OneCycleLR::with_options(&mut opt, f("max_lr"), total, options).unwrap();
        let expected: Vec<f64> = case["lr_after_steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(expected.len() as u64, total + 1);
        let mut seen = vec![opt.lr()];
        for _ in 0..total {
            s.step(&mut opt);
            seen.push(opt.lr());
        }
        for (step, (a, b)) in seen.iter().zip(&expected).enumerate() {
            assert!(
                (a - b).abs() <= 1e-12 * b.abs(),
                "{c}: step {step}: {a} against PyTorch's {b}"
            );
        }
        assert_eq!(s.steps_left(), Some(0));
    }
}

/// The refusals PyTorch has no case for (the parity suite's `schedule_edges.json` checks those
/// it raises on): each names the schedule, the argument and its value, and leaves the
/// optimizer's rate as it was.
#[test]
fn a_refused_schedule_names_its_argument_and_changes_no_rate() {
    let mut opt = Lr(0.01);
    let refusals = [
        OneCycleLR::new(&mut opt, -0.1, 10).unwrap_err(),
        OneCycleLR::new(&mut opt, f64::NAN, 10).unwrap_err(),
        OneCycleLR::with_options(
            &mut opt,
            0.1,
            10,
            OneCycleOptions {
                div_factor: f64::INFINITY,
                ..Default::default()
            },
        )
        .unwrap_err(),
        ReduceLROnPlateau::new(&mut opt).factor(1.0).unwrap_err(),
        ReduceLROnPlateau::new(&mut opt)
            .factor(f64::NAN)
            .unwrap_err(),
        StepLR::new(&mut opt, 0, 0.5).unwrap_err(),
        ExponentialLR::new(&mut opt, f64::NAN).unwrap_err(),
        OneCycleLR::with_options(
            &mut opt,
            0.1,
            10,
            OneCycleOptions {
                final_div_factor: 1e-320,
                ..Default::default()
            },
        )
        .unwrap_err(),
    ];
    let named: Vec<_> = refusals.iter().map(|e| (e.schedule, e.argument)).collect();
    assert_eq!(
        named,
        [
            ("OneCycleLR", "max_lr"),
            ("OneCycleLR", "max_lr"),
            ("OneCycleLR", "div_factor"),
            ("ReduceLROnPlateau", "factor"),
            ("ReduceLROnPlateau", "factor"),
            ("StepLR", "step_size"),
            ("ExponentialLR", "gamma"),
            ("OneCycleLR", "final_div_factor"),
        ]
    );
    let text = refusals[5].to_string();
    assert!(text.contains("StepLR: step_size = 0"), "{text}");
    assert_eq!(opt.lr(), 0.01, "a refused schedule writes no rate");
}

/// A OneCycleLR inside a SequentialLR bounds the sequence where its cycle ends before the
/// milestone that would replace it, and not where the milestone comes first.
#[test]
fn a_sequence_is_defined_until_a_cycle_inside_it_ends() {
    let mut opt = Lr(0.1);
    let sequence = |opt: &mut SGD, first_total: u64, second_total: u64| {
        let first = OneCycleLR::new(opt, 0.1, first_total).unwrap();
        let second = OneCycleLR::new(opt, 0.1, second_total).unwrap();
        SequentialLR::new(opt, vec![Box::new(first), Box::new(second)], vec![5]).unwrap()
    };
    // The first cycle steps to its epoch 4 before the milestone: a total of 4 is enough.
    let mut s = sequence(&mut opt, 4, 10);
    assert_eq!(s.steps_left(), Some(15));
    assert_eq!(s.steps_from_start(), Some(15));
    for left in (0..15).rev() {
        s.step(&mut opt);
        assert_eq!(s.steps_left(), Some(left));
    }
    // A total of 3 ends the sequence at epoch 3, inside the first cycle.
    assert_eq!(sequence(&mut opt, 3, 10).steps_left(), Some(3));
    // A schedule without an end after the milestone: the sequence goes on.
    let first = OneCycleLR::new(&mut opt, 0.1, 4).unwrap();
    let decay = ExponentialLR::new(&mut opt, 0.9).unwrap();
    let s = SequentialLR::new(&mut opt, vec![Box::new(first), Box::new(decay)], vec![5]).unwrap();
    assert_eq!(s.steps_left(), None);
}

/// A milestone of 0 puts the second schedule in effect from the first epoch, as PyTorch's
/// SequentialLR does (torch 2.15, base 0.1: 0.1, 0.05, 0.025, 0.0125); the first schedule's
/// first rate was written instead.
#[test]
fn a_milestone_of_zero_starts_with_the_second_schedule() {
    let mut opt = Lr(0.1);
    let warmup = LinearLR::new(&mut opt, 0.1, 1.0, 5).unwrap();
    let decay = ExponentialLR::new(&mut opt, 0.5).unwrap();
    let mut s =
        SequentialLR::new(&mut opt, vec![Box::new(warmup), Box::new(decay)], vec![0]).unwrap();
    let mut rates = Vec::new();
    for _ in 0..4 {
        rates.push(opt.lr());
        assert_eq!(opt.lr(), s.lr());
        s.step(&mut opt);
    }
    let pytorch = [0.1, 0.05, 0.025, 0.0125];
    for (ours, theirs) in rates.iter().zip(pytorch) {
        assert!((ours - theirs).abs() < 1e-12, "{rates:?}");
    }
}
