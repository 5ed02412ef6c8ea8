//! What issue 15 added to the DSL, by finite differences: residual blocks declared with
//! `model!` (nested, and a ResNet basic block in eval mode), pools with `ceil_mode`, padding
//! and dilation, SiLU and Hardswish. Their PyTorch parity is in the generated suite
//! (`parity/`, from `fixtures/dsl_layers.json`).

use rand::SeedableRng;
use staticnn::GradCheck;
use staticnn::prelude::*;

model! {
    struct ResidualMlp: [6] -> [6] {
        block: Residual { Linear(6), ReLU, Linear(6) },
    }
}

model! {
    /// A ResNet basic block.
    struct BasicBlock: [3, 5, 5] -> [3, 5, 5] {
        block: Residual {
            Conv2d(3, kernel = 3, padding = 1, bias = false),
            BatchNorm2d,
            ReLU,
            Conv2d(3, kernel = 3, padding = 1, bias = false),
            BatchNorm2d,
        },
    }
}

// The pools of the parity cases, declared with their PyTorch output shapes.
model! { struct MaxCeilPad: [2, 7, 9] -> [2, 4, 5] { MaxPool2d(3, stride = 2, padding = 1, ceil_mode = true) } }
model! { struct MaxFloorOdd: [3, 5, 7] -> [3, 2, 3] { MaxPool2d(2) } }
model! { struct MaxCeilDropped: [2, 5, 6] -> [2, 3, 4] { MaxPool2d(2, stride = 2, padding = 1, ceil_mode = true) } }
model! { struct MaxDilated: [2, 7, 6] -> [2, 5, 4] { MaxPool2d(3, stride = 1, padding = 1, dilation = 2) } }
model! { struct MaxRect: [1, 8, 7] -> [1, 5, 3] { MaxPool2d((3, 2), stride = (2, 3), padding = (1, 0), ceil_mode = true) } }
model! { struct AvgCeilPad: [2, 7, 9] -> [2, 4, 5] { AvgPool2d(3, stride = 2, padding = 1, ceil_mode = true) } }
model! { struct AvgExclude: [2, 7, 9] -> [2, 4, 5] { AvgPool2d(3, stride = 2, padding = 1, ceil_mode = true, count_include_pad = false) } }
model! { struct AvgFloorOdd: [3, 5, 7] -> [3, 2, 3] { AvgPool2d(2) } }
model! { struct AvgOverhang: [2, 5, 5] -> [2, 3, 3] { AvgPool2d(2, stride = 2, ceil_mode = true) } }

fn gradcheck<M: Forward<IN, OUT>, const IN: usize, const OUT: usize>(name: &str, module: &mut M) {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(3);
    for rows in [1, 3] {
        // Distinct values away from zero, so no max ties and no ReLU kinks straddled.
        let values = (0..rows * IN)
            .map(|i| {
                let v: f32 = rand::RngExt::random::<f32>(&mut rng) * 4.0 - 2.0;
                v + if v < 0.0 { -0.05 } else { 0.05 } + i as f32 * 1e-3
            })
            .collect();
        let x = Batch::<IN>::from_vec(values).unwrap();
        let report = GradCheck::default()
            .run(module, &x)
            .unwrap_or_else(|e| panic!("{name} at batch {rows}: {e}"));
        assert!(report.values_checked >= rows * IN, "{name}: {report:?}");
    }
}

model! {
    struct NestedResiduals: [4] -> [2] {
        fc: Linear(5),
        outer: Residual { Linear(5), Tanh, inner: Residual { SiLU, Linear(5) } },
        head: Linear(2),
    }
}

#[test]
fn finite_differences() {
    let rng = &mut seeded_rng(1);
    gradcheck("ResidualMlp", &mut ResidualMlp::new(rng));
    gradcheck("NestedResiduals", &mut NestedResiduals::new(rng));
    let mut block = BasicBlock::new(rng);
    block.eval();
    gradcheck("BasicBlock (eval)", &mut block);
    gradcheck("MaxCeilPad", &mut MaxCeilPad::new(rng));
    gradcheck("MaxFloorOdd", &mut MaxFloorOdd::new(rng));
    gradcheck("MaxCeilDropped", &mut MaxCeilDropped::new(rng));
    gradcheck("MaxDilated", &mut MaxDilated::new(rng));
    gradcheck("MaxRect", &mut MaxRect::new(rng));
    gradcheck("AvgCeilPad", &mut AvgCeilPad::new(rng));
    gradcheck("AvgExclude", &mut AvgExclude::new(rng));
    gradcheck("AvgFloorOdd", &mut AvgFloorOdd::new(rng));
    gradcheck("AvgOverhang", &mut AvgOverhang::new(rng));
    gradcheck::<_, 6, 6>("SiLU", &mut SiLU::new());
    gradcheck::<_, 6, 6>("Hardswish", &mut Hardswish::new());
}
