use staticnn::prelude::*;

model! {
    struct EveryLayer: [3, 4] -> [5] {
        bn_cl: BatchNorm1d(3, eps = 1e-3),
        ln: LayerNorm(4),
        Flatten,
        fc: Linear(12, 10),
        LeakyReLU(negative_slope = -0.5),
        bn: BatchNorm1d(momentum = 0.2),
        Sigmoid,
        Linear(8, bias = false),
        Tanh,
        GELU,
        GELU(approximate = "tanh"),
        ReLU,
        drop: Dropout(p = 0.3),
        head: Linear(5),
        Softmax,
        LogSoftmax,
    }
}

// PyTorch's `inplace` flags and softmax `dim`, as a ported line writes them: accepted,
// without effect (the features are the only dimension a softmax runs over here).
model! {
    struct InPlace: [4] -> [4] {
        ReLU(inplace = true),
        LeakyReLU(0.1, true),
        Dropout(0.2, inplace = true),
        SiLU(true),
        Hardswish(inplace = false),
        Softmax(dim = 1),
        LogSoftmax(-1),
    }
}

model! {
    struct Images: [2, 3, 3] -> [18] {
        BatchNorm2d(2),
        Flatten,
    }
}

fn main() {
    let m = EveryLayer::new(&mut seeded_rng(3));
    assert_eq!(m.summary().rows.len(), 16);
    assert_eq!(InPlace::new(&mut seeded_rng(3)).summary().rows.len(), 7);
    let i = Images::new(&mut seeded_rng(3));
    assert_eq!(i.summary().rows[1].output_shape, "[18]");
}
