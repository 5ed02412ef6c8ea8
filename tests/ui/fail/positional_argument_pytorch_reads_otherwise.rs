// PyTorch's positional order, ported: MaxPool2d's fifth argument is `return_indices` there and
// Conv2d's seventh `groups`, so staticnn takes `ceil_mode` and `bias` by keyword only.
use staticnn::prelude::*;

model! {
    struct Net: [1, 8, 8] -> [32] {
        Conv2d(1, 2, 3, 1, 1, 1, false),
        MaxPool2d(2, 2, 0, 1, true),
        Flatten,
    }
}

fn main() {}
