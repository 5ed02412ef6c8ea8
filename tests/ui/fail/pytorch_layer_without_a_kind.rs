// torch.nn layers staticnn has no kind for are named so, not answered with the nearest kind
// (`ELU` is not `GELU`, `ReLU6` not `ReLU`), nor taken for a model type when given arguments.
use staticnn::prelude::*;

model! {
    struct A: [4] -> [4] { ELU }
}

model! {
    struct B: [4] -> [4] { ReLU6 }
}

model! {
    struct C: [4] -> [4] { Conv1d(4, 4, 1) }
}

fn main() {}
