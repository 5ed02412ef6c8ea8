//! `training_step.json`: parameter groups with a frozen layer reproduced step by step, and
//! schedules handing the optimizer PyTorch's rate from the first step, by hand and inside
//! `fit`.

use serde_json::Value;
use staticnn::data::synthetic;
use staticnn::prelude::*;
use staticnn::state::{Entry, visit_named};
use staticnn::{NamedTensor, TensorData, load_state_dict, state_dict};

use crate::params::Params;
use crate::{Config, assert_close, f32s, name};

/// `{key: {"shape": [..], "values": [..]}}` as a state dict.
fn tensors(state: &Value) -> Vec<NamedTensor> {
    state
        .as_object()
        .expect("a state object")
        .iter()
        .map(|(name, t)| NamedTensor {
            name: name.clone(),
            shape: t["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect(),
            data: TensorData::F32(f32s(&t["values"])),
            learnable: true,
        })
        .collect()
}

fn f32_values(t: &NamedTensor) -> &[f32] {
    match &t.data {
        TensorData::F32(v) => v,
        TensorData::I64(_) => panic!("{} is not float32", t.name),
    }
}

/// One of PyTorch's `param_groups` dicts as a `ParamGroup` selecting `pattern`.
fn group(pattern: &str, config: &Config<'_>) -> ParamGroup {
    let mut g = ParamGroup::new(pattern);
    if let Some(lr) = config.get("lr") {
        g = g.lr(lr.as_f64().unwrap());
    }
    if let Some(wd) = config.get("weight_decay") {
        g = g.weight_decay(wd.as_f64().unwrap() as f32);
    }
    if let Some(m) = config.get("momentum") {
        g = g.momentum(m.as_f64().unwrap() as f32);
    }
    if let Some(b) = config.get("betas") {
        g = g.betas(b[0].as_f64().unwrap(), b[1].as_f64().unwrap());
    }
    g
}

/// Full-batch MSE on the case's data with its groups, frozen keys and optional LinearLR,
/// comparing each step's rates (as the optimizer sees them), loss and every parameter.
pub fn replay_groups<M: Forward<I, O> + Init, const I: usize, const O: usize>(case: &Value) {
    let name = name(case);
    let config = Config::new(name, &case["config"]);
    let patterns = case["groups"].as_array().expect("group patterns");
    let groups = config
        .get("groups")
        .and_then(Value::as_array)
        .expect("groups");
    let extra: Vec<ParamGroup> = patterns
        .iter()
        .zip(&groups[1..])
        .map(|(p, g)| {
            let g = Config::new(format!("{name} group {p}"), g);
            let built = group(p.as_str().unwrap(), &g);
            g.done();
            built
        })
        .collect();
    assert!(
        groups[0].as_object().is_some_and(|g| g.is_empty()),
        "{name}: group 0 takes the optimizer's own settings"
    );
    let lr = config.f64("lr");
    let mut optimizer = match config.str_or("optimizer", "") {
        "SGD" => {
            let sgd = SGD::new(lr)
                .unwrap()
                .momentum(config.f32_or("momentum", 0.0))
                .unwrap();
            AnyOptimizer::SGD(extra.into_iter().fold(sgd, SGD::param_group))
        }
        "Adam" => AnyOptimizer::Adam(
            extra
                .into_iter()
                .fold(Adam::new(lr).unwrap(), Adam::param_group),
        ),
        other => panic!("{name}: optimizer {other} has no parity check"),
    };
    let mut scheduler = config.get("scheduler").map(|s| {
        let s = Config::new(format!("{name} scheduler"), s);
        assert_eq!(
            s.str_or("name", ""),
            "LinearLR",
            "{name}: only LinearLR here"
        );
        let linear = LinearLR::new(
            &mut optimizer,
            s.f64("start_factor"),
            s.f64("end_factor"),
            s.f64("total_iters") as u64,
        )
        .unwrap();
        s.done();
        linear
    });
    config.done();

    let mut model = M::init(&mut seeded_rng(0));
    load_state_dict(&mut model, &tensors(&case["initial_state"])).unwrap();
    let frozen: Vec<&str> = case["frozen"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for pattern in &frozen {
        model.freeze(pattern).unwrap();
    }
    let x = Batch::<I>::from_vec(f32s(&case["input"])).unwrap();
    let y = Batch::<O>::from_vec(f32s(&case["target"])).unwrap();
    let mut criterion = MSELoss::new();
    for step in 0..case["losses"].as_array().unwrap().len() {
        model.zero_grad();
        let out = model.forward_train(&x);
        let (loss, grad) = criterion.value_and_grad(&out, &y).unwrap();
        out.backward(grad);
        for (g, expected) in case["lrs_per_step"][step]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            assert_rate(
                optimizer.group_lr(g),
                expected,
                &format!("{name} step {step} group {g}"),
            );
        }
        optimizer.step(&mut model).unwrap();
        if let Some(s) = &mut scheduler {
            s.step(&mut optimizer);
        }
        let expected_loss = case["losses"][step].as_f64().unwrap() as f32;
        assert_close(
            &[loss],
            &[expected_loss],
            &format!("{name} step {step} loss"),
        );
        let expected = tensors(&case["state_after_step"][step]);
        assert_eq!(state_dict(&model).len(), expected.len());
        for ours in state_dict(&model) {
            let theirs = expected.iter().find(|t| t.name == ours.name).unwrap();
            assert_close(
                f32_values(&ours),
                f32_values(theirs),
                &format!("{name} step {step} {}", ours.name),
            );
        }
    }
    // The frozen layers kept no optimizer state and no gradient.
    let is_frozen = |key: &str| frozen.iter().any(|p| key.starts_with(p));
    assert!(optimizer.state().iter().all(|t| !is_frozen(&t.name)));
    visit_named(&model, |key, entry| {
        if let (true, Entry::Parameter(p)) = (is_frozen(key), entry) {
            assert!(
                p.grad.iter().all(|&g| g == 0.0),
                "{name}: {key} has a gradient"
            );
        }
    });
}

staticnn::model! {
    /// What `fit` trains while a schedule runs.
    struct Pair: [2] -> [1] { fc1: Linear(4), ReLU, out: Linear(1) }
}

/// The schedule a case describes, attached to `optimizer`.
fn schedule(config: &Config<'_>, optimizer: &mut dyn LearningRate) -> Box<dyn Scheduler> {
    let linear = |c: &Config<'_>, o: &mut dyn LearningRate| {
        LinearLR::new(
            o,
            c.f64("start_factor"),
            c.f64("end_factor"),
            c.f64("total_iters") as u64,
        )
        .unwrap()
    };
    let sub = |key: &str| Config::new(key, config.get(key).expect(key));
    match config.str_or("kind", "") {
        "LinearLR" => Box::new(linear(config, optimizer)),
        "OneCycleLR" => Box::new(
            OneCycleLR::with_options(
                optimizer,
                config.f64("max_lr"),
                config.f64("total_steps") as u64,
                OneCycleOptions {
                    pct_start: config.f64("pct_start"),
                    ..Default::default()
                },
            )
            .unwrap(),
        ),
        "SequentialLR" => {
            let (w, c) = (sub("warmup"), sub("cosine"));
            let warmup = linear(&w, optimizer);
            let cosine =
                CosineAnnealingLR::new(optimizer, c.f64("T_max") as u64, c.f64("eta_min")).unwrap();
            w.done();
            c.done();
            let milestones = config
                .get("milestones")
                .and_then(Value::as_array)
                .unwrap()
                .iter()
                .map(|m| m.as_u64().unwrap())
                .collect();
            Box::new(
                SequentialLR::new(
                    optimizer,
                    vec![Box::new(warmup), Box::new(cosine)],
                    milestones,
                )
                .unwrap(),
            )
        }
        other => panic!("schedule {other} has no parity check"),
    }
}

fn assert_rate(ours: f64, expected: &Value, what: &str) {
    let expected = expected.as_f64().unwrap();
    assert!(
        (ours - expected).abs() <= 1e-12 + 1e-9 * expected.abs(),
        "{what}: the optimizer used {ours}, PyTorch {expected}"
    );
}

/// As many groups as the case gives starting rates, one parameter each: the rate of every
/// group at every step, as the optimizer steps with it.
pub fn schedule_by_hand(case: &Value) {
    let name = name(case);
    let lrs: Vec<f64> = case["group_lrs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let mut optimizer = lrs[1..]
        .iter()
        .enumerate()
        .fold(SGD::new(lrs[0]).unwrap(), |o, (k, &lr)| {
            o.param_group(ParamGroup::new(format!("p{}", k + 1).as_str()).lr(lr))
        });
    let mut model = Params(
        (0..lrs.len())
            .map(|_| staticnn::Parameter::new(vec![0.5], &[1]))
            .collect(),
    );
    let config = Config::new(name, &case["config"]);
    let mut sched = schedule(&config, &mut optimizer);
    config.done();
    for (step, expected) in case["lrs_per_step"].as_array().unwrap().iter().enumerate() {
        let expected = expected.as_array().unwrap();
        assert_eq!(
            expected.len(),
            lrs.len(),
            "{name} step {step}: one rate per group"
        );
        for (g, e) in expected.iter().enumerate() {
            assert_rate(
                optimizer.group_lr(g),
                e,
                &format!("{name} step {step} group {g}"),
            );
        }
        optimizer.step(&mut model).unwrap();
        sched.step(&mut optimizer);
    }
}

/// The same schedule stepped by `fit` once per epoch: each epoch's recorded rate.
pub fn schedule_in_fit(case: &Value) {
    let name = name(case);
    let data = synthetic::moons(64, 0.2, &mut seeded_rng(3));
    let expected = case["lrs_per_step"].as_array().unwrap();
    let mut model = Pair::new(&mut seeded_rng(0));
    let mut optimizer = SGD::new(case["group_lrs"][0].as_f64().unwrap()).unwrap();
    let config = Config::new(name, &case["config"]);
    let sched = schedule(&config, &mut optimizer);
    config.done();
    let mut options = FitOptions::new(expected.len(), 32).progress(Progress::Quiet);
    options.scheduler = Some((sched, Every::Epoch));
    let history = fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut optimizer,
        &data,
        None,
        &mut options,
    )
    .unwrap();
    assert_eq!(history.epochs.len(), expected.len(), "{name}: epochs");
    for (epoch, (record, e)) in history.epochs.iter().zip(expected).enumerate() {
        assert_rate(record.lr, &e[0], &format!("{name} in fit, epoch {epoch}"));
    }
}
