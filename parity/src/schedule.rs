//! One schedule case: the rate the optimizer steps with in each epoch, from the epoch the
//! schedule is attached (PyTorch's constructor writes the first rate); or, where PyTorch
//! raised (`raises`, at construction or at a step), the constructor's refusal.

use serde_json::{Value, json};
use staticnn::optim::*;

use crate::{Config, name};

fn boxed<S: Scheduler + 'static>(
    schedule: Result<S, ScheduleError>,
) -> Result<Box<dyn Scheduler>, ScheduleError> {
    schedule.map(|s| Box::new(s) as Box<dyn Scheduler>)
}

pub fn check(file: &Value, case: &Value) {
    let name = name(case);
    assert_eq!(
        file["optimizer"], "SGD(lr=base_lr)",
        "{name}: the schedules run on a plain SGD"
    );
    let base = file["base_lr"].as_f64().expect("base_lr");
    let config = Config::new(name, &case["config"]);
    let int = |key: &str| config.f64(key) as u64;
    let mut optimizer = SGD::new(base).unwrap();
    let built: Result<Box<dyn Scheduler>, ScheduleError> = match name {
        "StepLR" => boxed(StepLR::new(
            &mut optimizer,
            int("step_size"),
            config.f64_or("gamma", 0.1),
        )),
        "MultiStepLR" => {
            let milestones = config
                .get("milestones")
                .and_then(Value::as_array)
                .map(|m| m.iter().map(|v| v.as_u64().unwrap()).collect())
                .expect("milestones");
            boxed(MultiStepLR::new(
                &mut optimizer,
                milestones,
                config.f64_or("gamma", 0.1),
            ))
        }
        "ExponentialLR" => boxed(ExponentialLR::new(&mut optimizer, config.f64("gamma"))),
        "CosineAnnealingLR" => boxed(CosineAnnealingLR::new(
            &mut optimizer,
            int("T_max"),
            config.f64_or("eta_min", 0.0),
        )),
        "LinearLR" => boxed(LinearLR::new(
            &mut optimizer,
            config.f64_or("start_factor", 1.0 / 3.0),
            config.f64_or("end_factor", 1.0),
            config.f64_or("total_iters", 5.0) as u64,
        )),
        "OneCycleLR" => {
            // staticnn's one cycle: cosine, two phases, no momentum cycling.
            config.only("anneal_strategy", json!("cos"));
            config.only("three_phase", json!(false));
            config.only("cycle_momentum", json!(false));
            boxed(OneCycleLR::with_options(
                &mut optimizer,
                config.f64("max_lr"),
                int("total_steps"),
                OneCycleOptions {
                    pct_start: config.f64_or("pct_start", 0.3),
                    div_factor: config.f64_or("div_factor", 25.0),
                    final_div_factor: config.f64_or("final_div_factor", 1e4),
                },
            ))
        }
        other => panic!("schedule {other} has no parity check"),
    };
    config.done();
    let mut schedule = match (built, case.get("raises")) {
        (Ok(schedule), None) => schedule,
        (Err(refused), Some(_)) => return eprintln!("{name}: refused: {refused}"),
        (Ok(_), Some(raised)) => panic!("{name}: PyTorch raised {raised}; staticnn accepted"),
        (Err(refused), None) => panic!("{name}: PyTorch accepted; staticnn refused: {refused}"),
    };
    for (epoch, expected) in case["lr_per_epoch"].as_array().unwrap().iter().enumerate() {
        let expected = expected.as_f64().unwrap();
        let lr = optimizer.lr();
        assert!(
            (lr - expected).abs() <= 1e-12 + 1e-5 * expected.abs(),
            "{name} epoch {epoch}: the optimizer steps with {lr}, PyTorch with {expected}"
        );
        assert_eq!(
            lr,
            schedule.lr(),
            "{name} epoch {epoch}: the schedule's own rate"
        );
        schedule.step(&mut optimizer);
    }
}
