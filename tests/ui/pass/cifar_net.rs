// The textbook CIFAR net: pools floor as in PyTorch (32 → 30 → 15 → 13 → 6), and PyTorch's
// ceil_mode, padding and dilation.
use staticnn::prelude::*;

model! {
    pub struct CifarNet: [3, 32, 32] -> [10] {
        conv1: Conv2d(16, 3),
        ReLU,
        MaxPool2d(2),
        conv2: Conv2d(32, 3),
        ReLU,
        MaxPool2d(2),
        Flatten,
        fc: Linear(10),
    }
}

model! {
    pub struct Pools: [2, 13, 11] -> [2, 4, 3] {
        max: MaxPool2d(2, ceil_mode = true),
        avg: AvgPool2d(3, stride = 2, padding = 1, count_include_pad = false),
        dilated: MaxPool2d(kernel_size = 2, stride = 1, dilation = 2, padding = 1),
    }
}

fn main() {
    let net = CifarNet::new(&mut seeded_rng(0));
    let shapes: Vec<String> = net.summary().rows.into_iter().map(|r| r.output_shape).collect();
    assert_eq!(
        shapes,
        ["[16, 30, 30]", "[16, 30, 30]", "[16, 15, 15]", "[32, 13, 13]", "[32, 13, 13]", "[32, 6, 6]", "[1152]", "[10]"]
    );
    let pools = Pools::new(&mut seeded_rng(0));
    let shapes: Vec<String> = pools.summary().rows.into_iter().map(|r| r.output_shape).collect();
    assert_eq!(shapes, ["[2, 7, 6]", "[2, 4, 3]", "[2, 4, 3]"]);
}
