//! Every optimizer case of `optimizers.json` over all five steps, parameters and state; every
//! schedule of `schedulers.json`; the state round trip; gradient clipping.

mod common;

use common::{assert_close, f32s, fixture};
use serde_json::Value;
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

enum Any {
    Sgd(SGD),
    Adam(Adam),
    Rms(RMSprop),
    Ada(Adagrad),
}

impl Any {
    fn from_case(case: &Value) -> Any {
        let c = &case["config"];
        let f = |k: &str| c[k].as_f64().unwrap_or_else(|| panic!("{k}"));
        let lr = f("lr");
        match case["optimizer"].as_str().unwrap() {
            "SGD" => Any::Sgd(
                SGD::new(lr)
                    .momentum(f("momentum") as f32)
                    .dampening(f("dampening") as f32)
                    .nesterov(c["nesterov"].as_bool().unwrap())
                    .weight_decay(f("weight_decay") as f32),
            ),
            name @ ("Adam" | "AdamW") => {
                let base = if name == "Adam" {
                    Adam::new(lr)
                } else {
                    AdamW::new(lr)
                };
                Any::Adam(
                    base.betas(
                        c["betas"][0].as_f64().unwrap(),
                        c["betas"][1].as_f64().unwrap(),
                    )
                    .eps(f("eps"))
                    .weight_decay(f("weight_decay") as f32)
                    .amsgrad(c["amsgrad"].as_bool().unwrap()),
                )
            }
            "RMSprop" => Any::Rms(
                RMSprop::new(lr)
                    .alpha(f("alpha") as f32)
                    .eps(f("eps") as f32)
                    .momentum(f("momentum") as f32)
                    .centered(c["centered"].as_bool().unwrap())
                    .weight_decay(f("weight_decay") as f32),
            ),
            "Adagrad" => Any::Ada(
                Adagrad::new(lr)
                    .lr_decay(f("lr_decay"))
                    .eps(f("eps") as f32)
                    .weight_decay(f("weight_decay") as f32)
                    .initial_accumulator_value(f("initial_accumulator_value") as f32),
            ),
            other => panic!("optimizer {other}"),
        }
    }
    fn step(&mut self, m: &mut Single) -> Result<(), OptimizerError> {
        match self {
            Any::Sgd(o) => o.step(m),
            Any::Adam(o) => o.step(m),
            Any::Rms(o) => o.step(m),
            Any::Ada(o) => o.step(m),
        }
    }
    fn state(&self) -> Vec<staticnn::NamedTensor> {
        match self {
            Any::Sgd(o) => o.state(),
            Any::Adam(o) => o.state(),
            Any::Rms(o) => o.state(),
            Any::Ada(o) => o.state(),
        }
    }
    fn load_state(&mut self, m: &Single, s: &[staticnn::NamedTensor]) {
        match self {
            Any::Sgd(o) => o.load_state(m, s),
            Any::Adam(o) => o.load_state(m, s),
            Any::Rms(o) => o.load_state(m, s),
            Any::Ada(o) => o.load_state(m, s),
        }
        .unwrap()
    }
}

fn state_value(state: &[staticnn::NamedTensor], key: &str) -> Option<Vec<f32>> {
    state
        .iter()
        .find(|t| t.name == format!("p.{key}"))
        .map(|t| match &t.data {
            staticnn::TensorData::F32(v) => v.clone(),
            _ => panic!("dtype"),
        })
}

#[test]
fn every_optimizer_over_five_steps() {
    let data = fixture("optimizers.json");
    let initial = f32s(&data["initial_param"]);
    let grads: Vec<Vec<f32>> = data["grads"].as_array().unwrap().iter().map(f32s).collect();
    let cases = data["optimizers"].as_array().unwrap();
    assert!(cases.len() >= 11);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let mut opt = Any::from_case(case);
        let mut model = Single(Parameter::new(initial.clone(), &[initial.len()]));
        for (t, g) in grads.iter().enumerate() {
            model.0.grad.copy_from_slice(g);
            opt.step(&mut model).expect("the optimizer's own model");
            let expected = f32s(&case["params_after_step"][t]);
            assert_close(&model.0.value, &expected, &format!("{name} step {t}"));
            let state = opt.state();
            for (key, value) in case["state_after_step"][t].as_object().unwrap() {
                if key == "step" {
                    continue;
                }
                let ours = state_value(&state, key).unwrap_or_else(|| panic!("{name}: no {key}"));
                assert_close(&ours, &f32s(value), &format!("{name} step {t} state {key}"));
            }
        }
    }
}

#[test]
fn state_round_trip_continues_exactly() {
    let data = fixture("optimizers.json");
    let initial = f32s(&data["initial_param"]);
    let grads: Vec<Vec<f32>> = data["grads"].as_array().unwrap().iter().map(f32s).collect();
    for case in data["optimizers"].as_array().unwrap() {
        let mut straight = Any::from_case(case);
        let mut a = Single(Parameter::new(initial.clone(), &[initial.len()]));
        for g in &grads {
            a.0.grad.copy_from_slice(g);
            straight.step(&mut a).unwrap();
        }
        let mut first = Any::from_case(case);
        let mut b = Single(Parameter::new(initial.clone(), &[initial.len()]));
        for g in &grads[..2] {
            b.0.grad.copy_from_slice(g);
            first.step(&mut b).unwrap();
        }
        let mut resumed = Any::from_case(case);
        resumed.load_state(&b, &first.state());
        for g in &grads[2..] {
            b.0.grad.copy_from_slice(g);
            resumed.step(&mut b).unwrap();
        }
        assert_eq!(a.0.value, b.0.value, "{}", case["name"]);
    }
}

/// An optimizer that only carries learning rates, for the schedules.
#[allow(non_snake_case)]
fn Lr(lr: f64) -> SGD {
    SGD::new(lr)
}

#[test]
fn every_schedule_over_twelve_epochs() {
    let data = fixture("schedulers.json");
    let base = data["base_lr"].as_f64().unwrap();
    for case in data["schedulers"].as_array().unwrap() {
        let c = &case["config"];
        let f = |k: &str| c[k].as_f64().unwrap();
        let mut opt = Lr(base);
        let mut sched: Box<dyn Scheduler> = match case["name"].as_str().unwrap() {
            "StepLR" => Box::new(StepLR::new(&mut opt, f("step_size") as u64, f("gamma"))),
            "ExponentialLR" => Box::new(ExponentialLR::new(&mut opt, f("gamma"))),
            "CosineAnnealingLR" => Box::new(CosineAnnealingLR::new(
                &mut opt,
                f("T_max") as u64,
                f("eta_min"),
            )),
            "LinearLR" => Box::new(LinearLR::new(
                &mut opt,
                f("start_factor"),
                f("end_factor"),
                f("total_iters") as u64,
            )),
            "OneCycleLR" => Box::new(
                OneCycleLR::new(&mut opt, f("max_lr"), f("total_steps") as u64)
                    .pct_start(f("pct_start")),
            ),
            other => panic!("scheduler {other}"),
        };
        for (e, expected) in case["lr_per_epoch"].as_array().unwrap().iter().enumerate() {
            let expected = expected.as_f64().unwrap();
            // The rate the optimizer would step with, from the epoch the schedule is attached.
            let lr = opt.lr();
            assert!(
                (lr - expected).abs() <= 1e-12 + 1e-5 * expected.abs(),
                "{} epoch {e}: {lr} vs {expected}",
                case["name"]
            );
            assert_eq!(lr, sched.lr());
            sched.step(&mut opt);
        }
    }
}

#[test]
fn multistep_and_plateau() {
    let mut opt = Lr(1.0);
    let mut s = MultiStepLR::new(&mut opt, vec![2, 4], 0.1);
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
