use staticnn::prelude::*;

model! {
    pub struct Block: [8] -> [8] {
        Linear(8),
        LayerNorm,
        GELU,
    }
}

model! {
    pub struct Tower: [4] -> [3] {
        stem: Linear(8),
        b1: Block,
        b2: Block,
        head: Linear(3),
    }
}

model! {
    pub struct Outer: [4] -> [1] {
        tower: Tower,
        Tanh,
        Linear(1),
    }
}

fn main() {
    let mut m = Outer::new(&mut seeded_rng(1));
    let x = Batch::<4>::from_rows(&[[1.0, 2.0, 3.0, 4.0]]);
    m.forward_train(&x).backward(&Batch::from_rows(&[[1.0]]));
    let keys: Vec<_> = staticnn::state_dict(&m).into_iter().map(|t| t.name).collect();
    assert!(keys.contains(&"tower.b2.0.weight".to_string()), "{keys:?}");
}
