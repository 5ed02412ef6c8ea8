//! Any bytes given to the weights loader give an error or a loaded model, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use staticnn::prelude::*;

model! {
    struct Net: [2] -> [1] {
        fc: Linear(4),
        ReLU,
        bn: BatchNorm1d,
        out: Linear(1),
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(tensors) = staticnn::checkpoint::from_bytes(data) {
        let mut model = Net::new(&mut seeded_rng(0));
        let _ = staticnn::load_state_dict(&mut model, &tensors);
    }
});
