// A ResNet-style CNN: two basic blocks (conv, BatchNorm2d, ReLU, conv, BatchNorm2d) with skip
// connections, then global pooling and a residual MLP head.
use staticnn::prelude::*;

model! {
    pub struct TinyResNet: [3, 16, 16] -> [10] {
        stem: Conv2d(8, kernel = 3, padding = 1),
        ReLU,
        block1: Residual {
            conv1: Conv2d(8, kernel = 3, padding = 1, bias = false),
            bn1: BatchNorm2d,
            ReLU,
            conv2: Conv2d(8, kernel = 3, padding = 1, bias = false),
            bn2: BatchNorm2d,
        },
        ReLU,
        pool: MaxPool2d(3, stride = 2, padding = 1),
        block2: Residual {
            Conv2d(8, kernel = 3, padding = 1, bias = false),
            BatchNorm2d,
            ReLU,
            Conv2d(8, kernel = 3, padding = 1, bias = false),
            BatchNorm2d,
        },
        ReLU,
        gap: AdaptiveAvgPool2d((1, 1)),
        Flatten,
        head: Residual { Linear(8), ReLU, inner: Residual { Linear(8), Tanh } },
        fc: Linear(10),
    }
}

fn main() {
    let m = TinyResNet::new(&mut seeded_rng(0));
    let keys: Vec<String> = staticnn::state_dict(&m).into_iter().map(|t| t.name).collect();
    for key in [
        "block1.conv1.weight",
        "block1.bn1.running_mean",
        "block2.0.weight",
        "block2.1.weight",
        "head.0.weight",
        "head.inner.0.bias",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} in {keys:?}");
    }
    let shapes: Vec<String> = m.summary().rows.into_iter().map(|r| r.output_shape).collect();
    assert_eq!(shapes[4], "[8, 8, 8]");
    let x = Batch::<768>::zeros(2);
    assert_eq!(m.forward(&x).rows(), 2);
}
