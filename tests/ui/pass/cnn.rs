use staticnn::prelude::*;

model! {
    /// The shapes of DESIGN.md's example, computed by the macro.
    pub struct SmallCnn: [1, 28, 28] -> [10] {
        conv1: Conv2d(8, kernel = 3, padding = 1),
        ReLU,
        pool1: MaxPool2d(2),
        bn: BatchNorm2d(8),
        conv2: Conv2d(8, 16, kernel = (3, 3), stride = 2, padding = 1, bias = false),
        ReLU,
        pool2: AvgPool2d(kernel_size = 7),
        gap: AdaptiveAvgPool2d(1),
        Flatten,
        fc: Linear(10),
    }
}

model! {
    pub struct TextClassifier: [6] -> [2] {
        emb: Embedding(100, 4),
        Flatten,
        Linear(2),
    }
}

fn main() {
    let m = SmallCnn::new(&mut seeded_rng(0));
    let shapes: Vec<String> = m.summary().rows.into_iter().map(|r| r.output_shape).collect();
    assert_eq!(shapes[..4], ["[8, 28, 28]", "[8, 28, 28]", "[8, 14, 14]", "[8, 14, 14]"]);
    assert_eq!(shapes[4], "[16, 7, 7]");
    assert_eq!(shapes[6..], ["[16, 1, 1]", "[16, 1, 1]", "[16]", "[10]"]);
    let t = TextClassifier::new(&mut seeded_rng(0));
    assert_eq!(t.summary().rows[0].output_shape, "[6, 4]");
    let y = t.forward(&Batch::from_rows(&[[1.0, 2.0, 3.0, 99.0, 0.0, 5.0]]));
    assert_eq!(y.rows(), 1);
}
