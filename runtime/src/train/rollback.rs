//! What an epoch may change, copied at its start so that a failure anywhere inside it
//! (training or validation) puts everything back: weights and buffers, every Dropout's RNG,
//! the optimizer's state (Adam's moments and step counts) and each group's rate, the
//! scheduler, the shuffling RNG and the step count. A failed epoch leaves no trace.
//!
//! The copies are made once per epoch, outside the loop over batches.

use crate::module::Module;
use std::collections::BTreeMap;

use crate::optim::{DynOptimizer, Scheduler};
use crate::seed::SeededRng;
use crate::state::{EntryMut, NamedTensor, load_state_dict, state_dict, visit_named_mut};

pub(super) struct EpochStart {
    weights: Vec<NamedTensor>,
    module_rngs: Vec<SeededRng>,
    optimizer: Vec<NamedTensor>,
    lrs: Vec<f64>,
    // `optim::schedule::SchedulerState`.
    scheduler: Option<BTreeMap<String, f64>>,
    rng: SeededRng,
    global_step: usize,
}

fn module_rngs(model: &mut (impl Module + ?Sized)) -> Vec<SeededRng> {
    let mut rngs = Vec::new();
    visit_named_mut(model, |_, entry| {
        if let EntryMut::Rng(rng) = entry {
            rngs.push(rng.clone());
        }
    });
    rngs
}

impl EpochStart {
    pub fn take(
        model: &mut dyn Module,
        optimizer: &dyn DynOptimizer,
        scheduler: Option<&dyn Scheduler>,
        rng: &SeededRng,
        global_step: usize,
    ) -> Self {
        EpochStart {
            weights: state_dict(model),
            module_rngs: module_rngs(model),
            optimizer: optimizer.state_dyn(),
            lrs: (0..optimizer.num_groups())
                .map(|g| optimizer.group_lr(g))
                .collect(),
            scheduler: scheduler.map(|s| s.state()),
            rng: rng.clone(),
            global_step,
        }
    }

    /// Puts everything back as it was when `take` ran.
    pub fn restore(
        self,
        model: &mut dyn Module,
        optimizer: &mut dyn DynOptimizer,
        scheduler: Option<&mut (dyn Scheduler + 'static)>,
        rng: &mut SeededRng,
        global_step: &mut usize,
    ) {
        load_state_dict(model, &self.weights).expect("the model's own state");
        let mut saved = self.module_rngs.into_iter();
        visit_named_mut(model, |_, entry| {
            if let EntryMut::Rng(rng) = entry {
                *rng = saved
                    .next()
                    .expect("the model's own RNGs, in visiting order");
            }
        });
        // An optimizer that had not stepped yet exported nothing; importing nothing returns
        // it to that state.
        optimizer
            .load_state_dyn(&*model, &self.optimizer)
            .expect("the optimizer's own state for the same parameters");
        for (g, &lr) in self.lrs.iter().enumerate() {
            optimizer.set_group_lr(g, lr);
        }
        if let (Some(s), Some(state)) = (scheduler, &self.scheduler) {
            s.load_state(state).expect("the scheduler's own state");
        }
        *rng = self.rng;
        *global_step = self.global_step;
        model.zero_grad();
    }
}
