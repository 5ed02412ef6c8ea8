// PyTorch's `Softmax(dim = 0)` normalises over the batch; staticnn's runs over each row's
// features only, so any other `dim` is refused rather than ignored.
use staticnn::prelude::*;

model! {
    struct Net: [4] -> [4] {
        Softmax(dim = 0),
    }
}

// `-1` must be the integer PyTorch takes (`dim = -1.0` is its TypeError).
model! {
    struct Float: [4] -> [4] {
        LogSoftmax(dim = -1.0),
    }
}

fn main() {}
