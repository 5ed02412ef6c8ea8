// `Mlp` exported by staticnn::export; regenerate, do not edit.
//
// Needs only `core`: `mod model { include!("this_file.rs"); }` in a `#![no_std]` crate.
// No allocation, no `unsafe`, no input panics; NaN propagates as in the runtime.
// Stack: 960 bytes of activation arrays at most (128 for the widest layer) and 512 of kernel
// scratch; weights: 4960 bytes.
// The runtime's operations in its order, bit for bit at batches of up to 4, except:
//   SiLU: this file's exp is FreeBSD's, the runtime's the platform's (both below 1 ulp; outputs within 1e-6 relative)
//   GELU(tanh): this file's tanh is FreeBSD's, the runtime's the platform's (both below 1 ulp; outputs within 1e-6 relative)
//   Tanh: this file's tanh is FreeBSD's, the runtime's the platform's (both below 1 ulp; outputs within 1e-6 relative)
//   Sigmoid: this file's exp is FreeBSD's, the runtime's the platform's (both below 1 ulp; outputs within 1e-6 relative)
//   LogSoftmax: this file's exp is FreeBSD's, the runtime's the platform's (both below 1 ulp; outputs within 1e-6 relative)

/// Values per input row.
pub const IN: usize = 8;
/// Values per output row.
pub const OUT: usize = 4;

/// One row through the model (eval mode: Dropout is the identity, BatchNorm uses its
/// running statistics).
pub fn forward(x: &[f32; IN]) -> [f32; OUT] {
    let x0: [f32; IN] = *x;
    let x1: [f32; 16] = kernels::linear(&x0, &ENCODER_FC_WEIGHT_T, Some(&ENCODER_FC_BIAS));
    let x2: [f32; 16] = kernels::map(x1, kernels::gelu_erf);
    let x3: [f32; 16] = kernels::layer_norm::<16, 16>(x2, f(0x3727c5ac), &ENCODER_NORM_WEIGHT, &ENCODER_NORM_BIAS);
    let x4: [f32; 16] = kernels::map(x3, kernels::silu);
    let x5: [f32; 16] = kernels::channel_affine::<16, 1>(x4, &BN_SCALE, &BN_SHIFT);
    let x6: [f32; 16] = kernels::linear(&x5, &BLOCK_0_WEIGHT_T, Some(&BLOCK_0_BIAS));
    let x7: [f32; 16] = kernels::map(x6, kernels::gelu_tanh);
    let x8: [f32; 16] = kernels::linear(&x7, &BLOCK_2_WEIGHT_T, Some(&BLOCK_2_BIAS));
    let x9: [f32; 16] = kernels::add(x8, &x5);
    let x10: [f32; 16] = kernels::map(x9, kernels::tanhf);
    let x11: [f32; 12] = kernels::linear(&x10, &FC2_WEIGHT_T, Some(&FC2_BIAS));
    let x12: [f32; 12] = kernels::map(x11, |v| kernels::leaky_relu(v, f(0x3dcccccd)));
    let x13: [f32; 12] = kernels::linear(&x12, &FC3_WEIGHT_T, None);
    let x14: [f32; 12] = kernels::map(x13, kernels::hardswish);
    let x15: [f32; 8] = kernels::linear(&x14, &FC4_WEIGHT_T, Some(&FC4_BIAS));
    let x16: [f32; 8] = kernels::map(x15, kernels::sigmoid);
    let x17: [f32; 4] = kernels::linear(&x16, &HEAD_WEIGHT_T, Some(&HEAD_BIAS));
    let x18: [f32; 4] = kernels::log_softmax(x17);
    x18
}

/// Why [`forward_batch`] refused its buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchError {
    /// The input is not a whole number of rows of `IN` values.
    Input { len: usize },
    /// The output holds fewer than `rows · OUT` values.
    Output { rows: usize, len: usize },
}

/// Every row of `x` (`rows · IN` values) through [`forward`], written into the first
/// `rows · OUT` values of `out`; returns `rows`.
pub fn forward_batch(x: &[f32], out: &mut [f32]) -> Result<usize, BatchError> {
    if !x.len().is_multiple_of(IN) {
        return Err(BatchError::Input { len: x.len() });
    }
    let rows = x.len() / IN;
    if rows.checked_mul(OUT).is_none_or(|needed| out.len() < needed) {
        return Err(BatchError::Output { rows, len: out.len() });
    }
    for (row, y) in x.chunks_exact(IN).zip(out.chunks_exact_mut(OUT)) {
        if let Ok(row) = <&[f32; IN]>::try_from(row) {
            for (y, v) in y.iter_mut().zip(forward(row)) {
                *y = v;
            }
        }
    }
    Ok(rows)
}

/// A trained value, by its exact bits.
const fn f(bits: u32) -> f32 {
    f32::from_bits(bits)
}

static ENCODER_FC_WEIGHT_T: [[f32; 16]; 8] = [
    [
        f(0x3d98d55a), f(0xbe826912), f(0x3ecc37a4), f(0x3ee913be), f(0xbe5123d7), f(0xbe96a98a), f(0x3f0d91f7), f(0x3ecf6376),
        f(0xbe4fc3a8), f(0xbe840ee6), f(0x3f0e57cf), f(0x3e6383a1), f(0x3eaa7459), f(0x3ec11e1f), f(0xbe0ea366), f(0x3e8f4baa),
    ],
    [
        f(0x3d04c7ea), f(0xbe43fd0b), f(0x3eaa9308), f(0x3ec3de4d), f(0xbec3a1ad), f(0xbeb66f31), f(0x3f0a7955), f(0x3e499919),
        f(0xbea13d78), f(0xbeb07a12), f(0x3eb7722a), f(0x3e8114da), f(0x3d8981e3), f(0x3ed49788), f(0xbe87a26d), f(0x3e81efac),
    ],
    [
        f(0xbd37196b), f(0xbe417588), f(0x3ebece55), f(0x3e83100c), f(0xbe88a150), f(0xbed69fb6), f(0x3dd018f3), f(0x3dd60598),
        f(0xbe9304b8), f(0xbea9eb33), f(0x3f05c648), f(0x3e947ddc), f(0x3ec4ae8e), f(0x3ea74735), f(0xbe75106b), f(0x3e0deb44),
    ],
    [
        f(0x3d9cb1e5), f(0xbeda6e8c), f(0x3e811fc6), f(0x3e94dc4e), f(0xbdea70a7), f(0xbeff7058), f(0x3e3ae7dd), f(0x3de51baa),
        f(0xbec86b5b), f(0xbed6a10b), f(0x3b0977dc), f(0x3e45683a), f(0x3ec407ea), f(0x3e8a3c0d), f(0xbece1ab9), f(0xbc2b1b46),
    ],
    [
        f(0xbe9392af), f(0x3da54389), f(0xbc96e964), f(0xbdb0f9b8), f(0xbe5858d8), f(0x3e61dc83), f(0x3e57296d), f(0xbe6c2e9f),
        f(0xbd07332d), f(0x3e56f972), f(0xbd1484fd), f(0x3e9afb25), f(0x3e1411a7), f(0x3ea82320), f(0xbdf17db1), f(0x3ecc7d1c),
    ],
    [
        f(0xbec49910), f(0xbec8cf82), f(0xbe3ab1e9), f(0xbe2ce7c3), f(0xbe91ae0c), f(0x3e673e74), f(0x3eb4c804), f(0xbe0b87b0),
        f(0xbe2b121e), f(0x3d532f3c), f(0xbde04105), f(0x3d1cd663), f(0x3cdd0d9b), f(0x3dd80d2e), f(0xbe7307f9), f(0x3eeeda38),
    ],
    [
        f(0xbed338b1), f(0xbe1738a1), f(0xbdafb71e), f(0xbe332620), f(0x3df54b7b), f(0x3e1c25b8), f(0x3da3af31), f(0xbe42d1d9),
        f(0xbe35977d), f(0x3e1f517e), f(0x3e0e7203), f(0x3e923c91), f(0x3cb58065), f(0x3ec56dcb), f(0xbe21f1c0), f(0x3e4e7d4d),
    ],
    [
        f(0xbec6e0ff), f(0xbeaa9191), f(0xbe124f9e), f(0xbdf138ea), f(0xbe881459), f(0x3da400f9), f(0x3c02461d), f(0xbe803de6),
        f(0xbd0ae7f4), f(0x3e41b410), f(0xbd68988e), f(0x3debb504), f(0x3ea64a79), f(0x3e75165a), f(0xbe602f7e), f(0x3e17f065),
    ],
];
static ENCODER_FC_BIAS: [f32; 16] = [
    f(0x3d84be88), f(0xbd34e290), f(0x3e6d7633), f(0x3d84d43c), f(0xbd39cee5), f(0x3e28120e), f(0x3dc4afca), f(0x3e39e688),
    f(0x3d5a7969), f(0x3e195610), f(0x3e3699b5), f(0xbdabbd0b), f(0x3d92c604), f(0x3e420a18), f(0x3e60d64f), f(0x3dbf5977),
];
static ENCODER_NORM_WEIGHT: [f32; 16] = [
    f(0x3edbd980), f(0x3f414417), f(0x3f21585c), f(0x3f006fca), f(0x3f802c3a), f(0x3f2fb6d1), f(0x3f73dd66), f(0x3f2fa342),
    f(0x3f16ff50), f(0x3f597a3f), f(0x3f51dd38), f(0x3f77cf9a), f(0x3f4dd280), f(0x3f39aafb), f(0x3f586a49), f(0x3f55b914),
];
static ENCODER_NORM_BIAS: [f32; 16] = [
    f(0x3dba9582), f(0x3e90053d), f(0xbe471555), f(0xbe7029d9), f(0x3be233f6), f(0xbf052d38), f(0xbd1146d1), f(0xbe17b53a),
    f(0x3ddd028e), f(0x3e1a51c2), f(0x3cddf2f2), f(0xbdbd00de), f(0x3d8caae1), f(0x3e3e86ee), f(0xbe79dcde), f(0x3e88d994),
];
static BN_SCALE: [f32; 16] = [
    f(0x4094c639), f(0x3fed0084), f(0x407ffc46), f(0x40ae5010), f(0x3fc380f3), f(0x4006fffd), f(0x3fa747b7), f(0x404392ee),
    f(0x404d4c73), f(0x3fc186ee), f(0x3fcbf3a9), f(0x40144edc), f(0x3fc2d1c5), f(0x3fcf1466), f(0x3ffad621), f(0x3fac8c79),
];
static BN_SHIFT: [f32; 16] = [
    f(0xbefdaadd), f(0xbe10dbd8), f(0x3c1d95aa), f(0x3ed0452d), f(0xbebf8e24), f(0xbe5b4084), f(0xbe585b63), f(0xbd1d95d2),
    f(0xbea835ce), f(0xbf2da086), f(0xbeea65f0), f(0x3e22206e), f(0xbeb6c778), f(0xbeb5098f), f(0xbee1ba00), f(0xbe34060c),
];
static BLOCK_0_WEIGHT_T: [[f32; 16]; 16] = [
    [
        f(0x3e34ff44), f(0xbe519e56), f(0x3e9903c1), f(0x3c3152b0), f(0x3e690d7e), f(0x3dd4cafb), f(0xbf16afad), f(0x3e7ca0d5),
        f(0xbcbf963c), f(0x3e3ca3f2), f(0xbbeb143d), f(0x3f0b205e), f(0x3e114ab8), f(0xbd2cbf75), f(0x3ebcfd6c), f(0xbe2a9e55),
    ],
    [
        f(0xbe4353c0), f(0x3d442466), f(0x3e86ec31), f(0x3eb25425), f(0xbe2dfe89), f(0xbe1d822b), f(0x3d6ff58c), f(0x3eb7820e),
        f(0x3ef912a9), f(0x3eb89da9), f(0x3e51ed05), f(0x3e6c6363), f(0xbde95798), f(0xbdd6706b), f(0x3dd4deb5), f(0xbdf07122),
    ],
    [
        f(0x3e781070), f(0xbd64a62c), f(0x3e888163), f(0xbe538113), f(0x3eed27ba), f(0x3e49d4fe), f(0xbe272d94), f(0xbe9bbcdb),
        f(0xbefc4253), f(0xbe1232eb), f(0x3e01c9a0), f(0x3dcf7893), f(0x3e87c799), f(0x3e85fe2a), f(0xbd947e6a), f(0xbee26594),
    ],
    [
        f(0x3eba0109), f(0xbd6856e6), f(0x3da0ebb5), f(0xbea0fcd8), f(0x3ef2bcfe), f(0x3e7de0b9), f(0xbdb1217b), f(0x3d5d22b9),
        f(0xbec7ad8d), f(0xbe78c73a), f(0x3ebaf677), f(0x3ee4a6a4), f(0x3ee00eb5), f(0x3ea3da43), f(0x3e84943e), f(0xbe9c9650),
    ],
    [
        f(0xbe84d8fe), f(0xbe162526), f(0x3e844a7a), f(0x3e2f244a), f(0xbbc757af), f(0xbe02b294), f(0xbedde003), f(0x3cbc1c41),
        f(0xbe518b7c), f(0x3e4ddec6), f(0xbd1ac8f3), f(0x3e10085f), f(0xbc4450ea), f(0xbe8b6a91), f(0x3c9e70bb), f(0xbe4120b0),
    ],
    [
        f(0xbeed41da), f(0x3f2020b7), f(0x3a4594d0), f(0xbd55263c), f(0xbe5cdc76), f(0xbe1dfe92), f(0x3e9b4449), f(0x3e3f6a7a),
        f(0x3eda2550), f(0xbe52d54d), f(0xbe90260e), f(0xbeb6aed1), f(0xbe07e0de), f(0xbec46a48), f(0xbe532fc6), f(0x3e1f8502),
    ],
    [
        f(0x3d90efc6), f(0xbd1fdf53), f(0xbdea282e), f(0x3d5c3cc4), f(0xbe1a52b1), f(0x3e7722d4), f(0x3e6b6c8c), f(0xbd396a0c),
        f(0xbe4f4bf7), f(0xbc656b7b), f(0xbd4993cf), f(0xbebc0f6a), f(0xbd94f2fb), f(0x3eb6ed94), f(0xbd3a0ce0), f(0x3bac5f16),
    ],
    [
        f(0x3e476ad0), f(0xbe876598), f(0xbdfb53b7), f(0xbe9eaa19), f(0x3ea91a6c), f(0x3ec0fa76), f(0xbe9bc3f0), f(0x3b24d17c),
        f(0xbd8d0dd2), f(0xbdde12ea), f(0x3eb726d6), f(0x3d84c508), f(0xbdf96b37), f(0x3d8b065f), f(0x3e121db9), f(0xbd998df2),
    ],
    [
        f(0xbe5536e1), f(0x3ea295b8), f(0xbe0dfb8e), f(0x3df3e0db), f(0xbe9ec892), f(0xbef2b037), f(0xbe059b10), f(0x3e7b885c),
        f(0x3eb135b2), f(0x3dcadd7e), f(0x3dd43f15), f(0x3e602c95), f(0xbea51e91), f(0x3cbcf605), f(0x3eadffea), f(0xbe4216ea),
    ],
    [
        f(0xbec657f5), f(0x3e94ba08), f(0x3e2cd61e), f(0xbd06282c), f(0xbea435d9), f(0xbda1162e), f(0x3e94b537), f(0x3e0876e5),
        f(0x3db9fe91), f(0x3d214935), f(0x3e85e739), f(0xbe165096), f(0xbe89e8db), f(0xbe053ec4), f(0xbe95ea50), f(0x3d060d50),
    ],
    [
        f(0x3ed45fd5), f(0x3ea39ebc), f(0xbdf79251), f(0xbdeaac3e), f(0x3e239061), f(0x3e22a934), f(0x3eb1680f), f(0xbea7fa32),
        f(0xbe950a6d), f(0xbe8e4e97), f(0x3e7c2659), f(0xbe394595), f(0xbc45f0bd), f(0xbd5c8505), f(0xbd0e5279), f(0x3d910534),
    ],
    [
        f(0x3de78b3b), f(0x3dbe8842), f(0x3e0f95a3), f(0xbd101012), f(0x3ddae6ee), f(0xbe021d67), f(0x3e5f23a7), f(0x3de3e5f5),
        f(0xbe154d68), f(0xbde81e87), f(0xbdcfc328), f(0x3ba2cc3c), f(0x3db2bc77), f(0x3dec0196), f(0xbc2dd084), f(0x3daabfe6),
    ],
    [
        f(0x3e6af0ce), f(0x3e3ddd18), f(0x3d17a0b9), f(0xbe16101a), f(0xbe613a33), f(0xbe34064b), f(0xbd944646), f(0xbe6c0b9d),
        f(0xbddeaf93), f(0xbe91d3c5), f(0xbcb41d18), f(0xbe80b84c), f(0x398b4d52), f(0x3e72b790), f(0xbe992785), f(0x3df0e633),
    ],
    [
        f(0x3df32c36), f(0x3e771f03), f(0xbd96d191), f(0xbe42d2f0), f(0xbd8e08f9), f(0xbe77bc1e), f(0x3e103ff7), f(0xbe0552c4),
        f(0xbdaf3384), f(0x3e3d8235), f(0xbed9c989), f(0xbeb22b3c), f(0xbd3db48f), f(0x3eb617a3), f(0xbea60c56), f(0x3e8a3d1e),
    ],
    [
        f(0xbe948b79), f(0x3e149ffe), f(0x3ebb5bdc), f(0x3df6493e), f(0xbe1a8552), f(0x3d22e203), f(0xbe1f2d69), f(0x3eb960f0),
        f(0x3e1776e4), f(0x3d7c12a8), f(0x3eeb9234), f(0x3e9e86fc), f(0xbe6f9724), f(0xbead6a24), f(0x3e403790), f(0xbe815b4d),
    ],
    [
        f(0x3e6cd4a3), f(0xbd92b6ca), f(0xbb5c99f4), f(0x3e2683bc), f(0x3c0b9173), f(0xbe90f770), f(0x3e8657e6), f(0xbe2f8789),
        f(0xbe3d7760), f(0x3c3a26ca), f(0xbe41eaa6), f(0xbd4dd5ab), f(0xbeb1a808), f(0x3d865fb6), f(0xbe153cb7), f(0x3e85c1f4),
    ],
];
static BLOCK_0_BIAS: [f32; 16] = [
    f(0xbc65c710), f(0xbe1c19f1), f(0xbe3e7365), f(0x3d6b8f0f), f(0x3d877cd8), f(0xbd955a51), f(0x3d0ee6b9), f(0x3e6fa375),
    f(0x3e46ee27), f(0xbd02a9e7), f(0x3caea17d), f(0x3ed8ff39), f(0xbd5a4bce), f(0xbdb5c447), f(0x3e8e6201), f(0x3e071da5),
];
static BLOCK_2_WEIGHT_T: [[f32; 16]; 16] = [
    [
        f(0xbe2b7d52), f(0xbf022249), f(0x3e75006c), f(0x3e9d3d4d), f(0xbef1397b), f(0xbec19e9b), f(0x3f103cdb), f(0xbde3707a),
        f(0xbea37547), f(0xbc5d16f7), f(0x3e0b2bea), f(0xbdd22223), f(0x3e78a4b9), f(0x3ed828d8), f(0xbef7dfab), f(0x3ea5a518),
    ],
    [
        f(0xbcfbe784), f(0x3e852ec0), f(0xbef4432b), f(0xbf16f039), f(0xbe0359ad), f(0x3e82c355), f(0xbe4c9471), f(0xbdecb836),
        f(0x3e2b6dbf), f(0x3e6ddcfb), f(0xbf04f319), f(0xbd77663d), f(0xbe7b95c1), f(0xbeb6822c), f(0x3e76acfa), f(0x3e79a547),
    ],
    [
        f(0x3e8a6c5c), f(0xbeb01205), f(0x3e8f41ee), f(0xbcd410b7), f(0x3e2e8f59), f(0xbe5358c1), f(0xbdbb4097), f(0x3e5749dd),
        f(0x3cc5f84e), f(0xbe381559), f(0xbe6eaf0f), f(0xbe378d14), f(0xbcda2ea6), f(0xbd0f3262), f(0xbda95e10), f(0xbc651039),
    ],
    [
        f(0xbd9b630f), f(0x3d19b358), f(0xbe227653), f(0x3d8617f3), f(0xbcf19846), f(0x3e8abcda), f(0xbed7423d), f(0x3e1c2934),
        f(0xbbfd5e7c), f(0x3dd268b1), f(0xbd34ecfd), f(0xbd0da9e4), f(0x3da25d27), f(0xbe32eb05), f(0x3ec0750c), f(0xbeb25599),
    ],
    [
        f(0x3ee30510), f(0xbe7e6285), f(0x3e8616f5), f(0x3d5345bf), f(0xbec5081e), f(0xbe928bc9), f(0x3e24c9eb), f(0x3dcb7b55),
        f(0xbe11a94f), f(0xbe3391b1), f(0x3e9f234a), f(0xbea90fec), f(0x3d37b4b2), f(0x3eb56582), f(0xbd766239), f(0xbe5362ab),
    ],
    [
        f(0x3eb93b96), f(0xbe707b2b), f(0x3e5d64e1), f(0x3e3e9ee4), f(0xbe8776df), f(0xbe5ca6d1), f(0xbd804794), f(0xbcc9ed19),
        f(0xbe8387a0), f(0x3d1b5d84), f(0xbe2d9484), f(0xbdf42754), f(0x3e8a8ebc), f(0x3e1a0051), f(0xbe99e74a), f(0x3e3ea0aa),
    ],
    [
        f(0xbf2010be), f(0x3e83dd9a), f(0xbe75b116), f(0x3dab4cf5), f(0xbee77765), f(0xbe5e8398), f(0xbe509bc8), f(0xbe408687),
        f(0x3e18d3fa), f(0xbe562102), f(0xbe19daf7), f(0x3f02fed7), f(0x3e9bf31f), f(0x3dc2ad9a), f(0xbe470f3a), f(0x3e186b4d),
    ],
    [
        f(0x3eabea09), f(0xbcc4714c), f(0x3c5aba6a), f(0xbe9a86e7), f(0x3e5be72d), f(0x3eb847d3), f(0xbea5922a), f(0x3e693170),
        f(0x3e370d8a), f(0x3d83125f), f(0xbe893b48), f(0xbe603cfc), f(0xbe40326f), f(0xbd77b41d), f(0xbd9743a5), f(0xbe375f1a),
    ],
    [
        f(0x3d0edc51), f(0x3f0e5fcf), f(0x3d053312), f(0xbe8d163f), f(0x3db51685), f(0x3f113560), f(0xbf116908), f(0xbdda01a3),
        f(0x3ebb14cb), f(0xbdc0e813), f(0xbee1397a), f(0xbe04ac43), f(0xbe3706f7), f(0xbe8a4983), f(0x3ea17a02), f(0xbe5de857),
    ],
    [
        f(0xbd41d279), f(0xbdc2f34e), f(0x3e90d3ca), f(0xbba4f936), f(0x3e296449), f(0x3df87d6d), f(0xbe60d280), f(0x3ed57efa),
        f(0xbce1f222), f(0x3d85174f), f(0xbe137829), f(0xbcb40bee), f(0xbea6331a), f(0xbeb83ba8), f(0x3e3ab79d), f(0xbdbc1817),
    ],
    [
        f(0x3eea93de), f(0xbe0a3dbf), f(0xbde75187), f(0xbe08fec0), f(0x3dfad17c), f(0x3e40ab79), f(0x3e31f948), f(0x3d98f670),
        f(0x3e215296), f(0xbc7870b6), f(0xbe069fb0), f(0xbef6f403), f(0x3e4bab88), f(0x3e9bb27a), f(0xbe699dcf), f(0x3e57ac86),
    ],
    [
        f(0x3ee3c4c5), f(0x3cd51e85), f(0x3e0ef129), f(0xbb26ee41), f(0x3ce20806), f(0x3d886209), f(0x3de70a19), f(0x3f2134b3),
        f(0xbd857dd6), f(0xbe461fa1), f(0xba3a6f31), f(0xbf087602), f(0x3e2c845d), f(0x3d7f69ac), f(0xbb96d8f0), f(0xbec0667d),
    ],
    [
        f(0x3e1be69a), f(0xbed2d258), f(0x3eca4b2d), f(0x3e8d3e31), f(0x3d25a114), f(0xbe4b25d4), f(0x3dfafffe), f(0x3e06258e),
        f(0x3d4915c8), f(0xbda9c1b1), f(0x3e9403bf), f(0x3d4794cf), f(0xbd0aeb03), f(0x3dbae843), f(0x3dd45c2e), f(0x3de519e3),
    ],
    [
        f(0xbe178025), f(0xbe536db4), f(0x3eb8ab52), f(0x3e971554), f(0xbe9e74ec), f(0xbe3a8ae1), f(0x3e4a5097), f(0xbe983812),
        f(0xbe5814f0), f(0xbda288e4), f(0x3ebed254), f(0x3ecef812), f(0x3e79be20), f(0xbcd93381), f(0xbe094c34), f(0x3eb97785),
    ],
    [
        f(0x3e6dbfab), f(0x3df26d89), f(0x3eb2775c), f(0xbd2fe84e), f(0xbd3d5487), f(0xbd65c717), f(0x3dee6023), f(0x3e3f9337),
        f(0xbdbd5f79), f(0xbe723e0b), f(0xbe3fc2a8), f(0xbf06236c), f(0xbde25ef1), f(0xbd2f5fae), f(0x3d9e4a97), f(0xbe4c61fc),
    ],
    [
        f(0xbebfba43), f(0x3ecc2985), f(0x3e4b4ed8), f(0x3dd295ec), f(0xbe665b0e), f(0x3d5f7327), f(0xbe633c84), f(0xbeb11829),
        f(0x3e272a56), f(0x3e4884d6), f(0x3e13afa9), f(0x3dc3e73c), f(0xbd0049c9), f(0x3dc045c9), f(0x3d964bf8), f(0x3dd738ed),
    ],
];
static BLOCK_2_BIAS: [f32; 16] = [
    f(0xbc363079), f(0x3eac0313), f(0x3df1ae68), f(0xbe10943f), f(0xbea35841), f(0x3dbcc6fc), f(0x3e40a832), f(0x3c80aec2),
    f(0x3e42f6f0), f(0xbe9bccce), f(0x3c51aac7), f(0xbb43828a), f(0x3dfe55a5), f(0xbe317a9e), f(0x3dc8eb9f), f(0x3e0bcc29),
];
static FC2_WEIGHT_T: [[f32; 12]; 16] = [
    [
        f(0x3f2bd29c), f(0x3f7ba476), f(0xbe7e0839), f(0xbf167f0d), f(0xbf438dec), f(0xbf3aeec7), f(0xbf217a5e), f(0xbf5b02e1),
        f(0x3f3eb224), f(0xbecfe56d), f(0x3f00cf70), f(0xbf93e75b),
    ],
    [
        f(0xbe904d4b), f(0x3d84237e), f(0x3e95882c), f(0x3ef02173), f(0x3e7f82c5), f(0xbe903bce), f(0x3eb45d0e), f(0x3dbb5a58),
        f(0x3ee940e4), f(0xbd05f05e), f(0xbf09868d), f(0x3e884607),
    ],
    [
        f(0x3ea8a8fb), f(0x3e369b01), f(0x3d33e7fa), f(0xbf359e94), f(0xbf135934), f(0x3ebd7b64), f(0xbea643be), f(0x3d3734da),
        f(0x3dc036e0), f(0x3dcdf989), f(0x3ee4cdb2), f(0xbee8383c),
    ],
    [
        f(0x3f0cbaf6), f(0x3e07c34a), f(0xbea5a131), f(0xbe7c0266), f(0xbe8e01d7), f(0x3dfe487c), f(0xbe9482a0), f(0xbae40bb2),
        f(0xbe9d5f8c), f(0x3e471cbe), f(0x3e43594c), f(0xbded9546),
    ],
    [
        f(0xbe925f28), f(0x3e6335d1), f(0x3e5ac0e0), f(0xbebe9d88), f(0xbe83530a), f(0xbee471a9), f(0x3de490b9), f(0xbf11394b),
        f(0x3ea4971b), f(0xbe8e7a80), f(0xbe87f117), f(0xbead50d2),
    ],
    [
        f(0xbd3a42fb), f(0xbeb76f8a), f(0x3eb76220), f(0x3f2e4c90), f(0x3d93cc75), f(0xbeac5328), f(0x3ece0f20), f(0x3e59045f),
        f(0x3ec32e80), f(0xbdd8e816), f(0xbf01e486), f(0x3e9fa0a7),
    ],
    [
        f(0x3e766c83), f(0x3d9f9576), f(0xbd9873e2), f(0xbed4f456), f(0x3da34568), f(0x3f14140e), f(0xbec4c57a), f(0x3ee9a574),
        f(0xbe88ee89), f(0x3e98ce59), f(0x3ecd0e84), f(0x3e2bb12d),
    ],
    [
        f(0x3f176717), f(0x3efe0465), f(0xbeccf0bb), f(0xbeeb802b), f(0xbf005d01), f(0x3e09ea2a), f(0xbee0512b), f(0xbeb13e3e),
        f(0x3ecab808), f(0x3c0fd747), f(0x3db7f016), f(0xbf44b3f7),
    ],
    [
        f(0xbd62b73e), f(0xbe0be634), f(0x3e95b8eb), f(0x3da2ea00), f(0xbec9dd61), f(0xbefe1f61), f(0x3e98b930), f(0xbe194200),
        f(0x3db0792b), f(0xbe451a3e), f(0xbe95c07d), f(0x3dd31126),
    ],
    [
        f(0xbc0ec40f), f(0xbe4c742d), f(0xbe72be67), f(0x3ecb315e), f(0x3e1be52c), f(0xbec624fc), f(0x3da98bb1), f(0x3d432be3),
        f(0xbdf9bd7f), f(0x3d044dfc), f(0xbed22f26), f(0xbed61220),
    ],
    [
        f(0x3edfb1d3), f(0xbda5607d), f(0x3acd7a22), f(0xbe824d2a), f(0xbd3920a7), f(0x3e7210eb), f(0xbea60d5a), f(0x3e61ee7b),
        f(0xbe94e167), f(0x3df7d773), f(0x3d785302), f(0x3e096766),
    ],
    [
        f(0xbeb3f40d), f(0xbe9afab8), f(0xbec5fce6), f(0xbe73a04c), f(0xbe88b91f), f(0x3f0e9c95), f(0xbc2f21c9), f(0xbe583e7b),
        f(0xbf0ff34d), f(0x3d398094), f(0xbe9edbda), f(0xbc37d852),
    ],
    [
        f(0x3e91e181), f(0xbe993432), f(0xbe6eddbd), f(0xbddab60e), f(0x3e8854b5), f(0x3e2d5c58), f(0xbdeb9852), f(0x3e517922),
        f(0xbdfeacac), f(0xbcf11cd6), f(0x3e8d4d91), f(0x3e2444da),
    ],
    [
        f(0x3ebbb46e), f(0x3e468913), f(0x3d7d555a), f(0xbe5e06e3), f(0x3b1e13ff), f(0x3e899307), f(0xbe9b533f), f(0xbd30eb59),
        f(0xbef92fde), f(0x3e315037), f(0x3ed9feaa), f(0x3eb87ae6),
    ],
    [
        f(0xbeac890b), f(0x3c1da893), f(0x3ec45e3c), f(0x3e9d86ea), f(0xbe8b9aae), f(0xbeea4185), f(0x3e9cba15), f(0xbed18900),
        f(0x3ebd26c9), f(0xbe870424), f(0xbeb02ea9), f(0xbe4bd6e3),
    ],
    [
        f(0xbdea0606), f(0xbdfe415b), f(0xbd49807f), f(0xbe2e254d), f(0x3cee6ece), f(0x3ef75b55), f(0x3c7d8d64), f(0x3ed4856e),
        f(0xbf11ebd4), f(0x3ec07e57), f(0x3e9b6462), f(0x3ea2dc8d),
    ],
];
static FC2_BIAS: [f32; 12] = [
    f(0xbd540804), f(0x3e20e4e3), f(0x3d8b979b), f(0x3e5fe874), f(0x3ecd105c), f(0xbb12e774), f(0x3ee28d81), f(0x3e7e76a1),
    f(0x3ee53720), f(0x3da5c787), f(0x3c7fdc24), f(0x3ecd8702),
];
static FC3_WEIGHT_T: [[f32; 12]; 12] = [
    [
        f(0x3e95ebc6), f(0xbe000b88), f(0x3e0d3a7d), f(0x3eaff3cd), f(0x3ea27419), f(0x3e17f68a), f(0xbebe1123), f(0xbe1ee42c),
        f(0xbeaa6056), f(0xbe392529), f(0x3d394ab2), f(0x3f17d4eb),
    ],
    [
        f(0x3e941d45), f(0xbeb22c18), f(0x3dd098a1), f(0x3e21cc24), f(0x3e93aa71), f(0xbe746f07), f(0xbed89f2f), f(0xbed26dc7),
        f(0xbf0e0deb), f(0xbd0f8ac1), f(0xbf091df8), f(0x3edabb0b),
    ],
    [
        f(0x3e53b2e4), f(0x3e775d6e), f(0x3ed036c1), f(0x3e963ad8), f(0x3eb6aa6d), f(0xbf20e149), f(0x3e64edd6), f(0x3e6625ce),
        f(0x3e49559a), f(0x3eeb1a92), f(0xbc7f6339), f(0x3df56b71),
    ],
    [
        f(0xbe2d4edf), f(0x3e8c0bd6), f(0x3e2d2aaa), f(0x3ed83405), f(0xbe83ec78), f(0xbec553a7), f(0x3f188a0a), f(0xbc2c854b),
        f(0x3edaa185), f(0x3eaf732c), f(0x3efb2004), f(0xbf083b5d),
    ],
    [
        f(0x3bbabced), f(0x3f1bde50), f(0xbcc0f377), f(0xbde2f8db), f(0xbdc021b4), f(0x3d752720), f(0x3e9f0a09), f(0x3e36a144),
        f(0x3f080266), f(0x3eb4b8f4), f(0x3e804c95), f(0xbd6682fb),
    ],
    [
        f(0x3f0d0c7d), f(0x3ed2c571), f(0xbea47aac), f(0xbe93e1a9), f(0x3e941a7d), f(0x3e9fdcf7), f(0x3eb53ffb), f(0x3f15aedb),
        f(0xbea9dbf1), f(0xbec77ab3), f(0xbeab4dbb), f(0x3e074c0e),
    ],
    [
        f(0xbedea50c), f(0x3f003c80), f(0x3dddb938), f(0x3e147f53), f(0xbe1501a7), f(0xbf06fc27), f(0x3d8efde4), f(0x3e36687a),
        f(0x3f0d19dc), f(0x3f05112d), f(0x3e1084d3), f(0xbe037d14),
    ],
    [
        f(0xbd80fe83), f(0x3ebcbff4), f(0xbed4732d), f(0xbe0e8488), f(0x3dd5210f), f(0x3e98101e), f(0x3efa18b2), f(0x3ed2a1f2),
        f(0x3cb68c50), f(0xbe4b815e), f(0x3e76c18c), f(0x3eb23a99),
    ],
    [
        f(0xbe282adf), f(0xbeaa6e34), f(0x3f3072f3), f(0x3eaf1314), f(0x3d7f0378), f(0xbed6a072), f(0xbe3d5534), f(0xbea74ea0),
        f(0x39201900), f(0x3f280beb), f(0xbd0e883d), f(0xbd2b6a3e),
    ],
    [
        f(0x3e4f0f3a), f(0x3e1f5146), f(0xbe8e1ab4), f(0xbe797931), f(0x3e32be83), f(0x3e5187a9), f(0x3ef81a62), f(0x3c1e6e28),
        f(0xbe212b2f), f(0xbe91ed93), f(0xbd88b7f2), f(0x3e25fcb7),
    ],
    [
        f(0x3ee98227), f(0xbe3cf574), f(0x3bd68e2e), f(0x3df66a5d), f(0x3ee791ab), f(0x3ed799cf), f(0xbe0bad1a), f(0x3dd5b8f0),
        f(0xbf04193f), f(0x3b655940), f(0xbe33fcb1), f(0x3f1cd9a3),
    ],
    [
        f(0x3e733b8c), f(0x3f06c7fa), f(0xbeb7229b), f(0x3d6127f7), f(0xbe06e5c2), f(0x3ed0ba71), f(0x3f52dee0), f(0x3f24b750),
        f(0x3e37e20c), f(0xbea6e88f), f(0x3eeffb45), f(0xbccd93ee),
    ],
];
static FC4_WEIGHT_T: [[f32; 8]; 12] = [
    [f(0xbbe1477f), f(0x3f129b76), f(0x3deda1de), f(0x3ebf0a33), f(0x3e24ace2), f(0x3dd48286), f(0xbf00039c), f(0xbeb1e672),],
    [f(0x3f728c8e), f(0xbf00f6d6), f(0x3e422a9c), f(0xbea40d60), f(0xbf3fdc35), f(0xbd21eef3), f(0x3e422187), f(0x3f0cfe2f),],
    [f(0x3c7b4fff), f(0xbe997246), f(0xbf12f523), f(0x3ca0e2f2), f(0x3ebe1526), f(0x3e44b7f9), f(0x3e281443), f(0xbe91c675),],
    [f(0xbe039dc6), f(0xbd8f0d16), f(0xbe9dc9a9), f(0xbec1e012), f(0x3da20f6d), f(0x3f3fc807), f(0x3e92de56), f(0xbe56dde4),],
    [f(0xbeb59060), f(0x3ecbebe5), f(0xbdf9831c), f(0x3f229e63), f(0xbcc524af), f(0xbd02e41b), f(0x3d2c4447), f(0xbf0c7753),],
    [f(0xbd5563b5), f(0x3f055dc8), f(0x3f261dda), f(0x3efdcf8d), f(0x3e412823), f(0xbec5da58), f(0xbe320e46), f(0xbdae5df3),],
    [f(0x3f31ab00), f(0xbe6e9cd7), f(0x3f5e0707), f(0xbe934ced), f(0xbf2ca602), f(0xbeaf8d9a), f(0xbe1c4aea), f(0x3f0a455b),],
    [f(0x3ed5183c), f(0x3eab9185), f(0x3ef88f53), f(0x3e894fdc), f(0xbf44ba48), f(0xbf0f2f4e), f(0xbea34a94), f(0xbc4f8076),],
    [f(0x3f3a2380), f(0xbf05405a), f(0xbeacadc6), f(0xbf42cc1b), f(0xbe6c1de8), f(0x3f1d8796), f(0x3e87c892), f(0x3e5b8425),],
    [f(0x3d3e24a6), f(0xbed648c3), f(0xbee9e1c1), f(0x3d1bb994), f(0x3ee94926), f(0x3f033ed2), f(0x3f11d9e1), f(0x3ce342df),],
    [f(0x3eb91a6f), f(0xbeb570aa), f(0xbd3c2900), f(0xbf1cfa28), f(0xbed1eede), f(0x3f25641b), f(0x3efbd88d), f(0x3f55672c),],
    [f(0xbef7bf63), f(0x3e48256c), f(0x3e866b5d), f(0x3ed746c1), f(0x3ebfed1a), f(0x3e513928), f(0xbf041d64), f(0xbea85f23),],
];
static FC4_BIAS: [f32; 8] = [f(0xbe68adc0), f(0xbeace1c2), f(0xbe9a33a7), f(0x3e27cea1), f(0x3e9e4e5c), f(0x3ee73055), f(0xbbd8d1e0), f(0xbeca36bf),];
static HEAD_WEIGHT_T: [[f32; 4]; 8] = [
    [f(0xbe6e6a3c), f(0x3e9ee3ad), f(0xbfa0e789), f(0x3ed4d07a),],
    [f(0xbf2a1d65), f(0xbf5a4148), f(0x3f3da4a5), f(0x3f035b41),],
    [f(0xbf8f279e), f(0xbe00f68b), f(0x3f159015), f(0x3f1b9339),],
    [f(0xbe9fd6d1), f(0xbf762f80), f(0x3f0caac6), f(0x3ed421c4),],
    [f(0x3f7d287a), f(0xbf8ddc0c), f(0x3f7b313a), f(0xbf201b79),],
    [f(0x3f5594f1), f(0x3f2459b9), f(0x3de91126), f(0xbf4a134b),],
    [f(0x3f553867), f(0x3ee3428d), f(0xbf606222), f(0xbf6e4123),],
    [f(0xbec317a5), f(0x3f1ef48d), f(0xbfa0c576), f(0xbdb91f3d),],
];
static HEAD_BIAS: [f32; 4] = [f(0xbe7afce9), f(0xbd2eee69), f(0xbe6563d0), f(0xbec52482),];

/// The layer code, as the runtime computes it.
#[allow(dead_code)]
mod kernels {
// The layer computations of an exported model, each written as the runtime computes it
// (runtime/src/layers/*), in the same order of operations wherever the runtime's is a plain
// loop, so that those layers give the runtime's bits. Only `core`; no allocation (every
// activation is a fixed-size array on the stack); no `unsafe`; every index is bounded by
// constants of the model, so no input can make one go out of range.

/// `y = W·x + b` as the runtime's `Linear` computes each output at batches up to 4: eight
/// partial sums over chunks of 8 inputs, added in order, plus the sum of the remaining
/// inputs, plus the bias (`0.0` without one). Every output keeps that order exactly; the
/// loops run over outputs innermost, so the compiler computes several outputs per SIMD
/// instruction from `Wᵀ`, stored so at export (the runtime keeps PyTorch's `[out, in]` and
/// transposes eight partial-sum registers instead). `wt` is `Wᵀ`, `[in][out]`.
///
/// `W` is `f32`, or `i8` for [`linear_int8`]'s quantized weights.
#[inline(always)]
pub fn linear<const I: usize, const O: usize, W: Weight>(
    x: &[f32; I],
    wt: &[[W; O]; I],
    b: Option<&[f32; O]>,
) -> [f32; O] {
    // The neutral element of `f32: Sum`, which starts the runtime's sums (-0.0 today).
    let zero: f32 = core::iter::empty::<f32>().sum();
    // lanes[k][o]: partial sum k of output o, started, as the runtime's are, at the neutral
    // element, which the compiler then drops: the first product is the partial sum exactly.
    let mut lanes = [[zero; O]; 8];
    let (xc, wc) = (x.chunks_exact(8), wt.chunks_exact(8));
    let (xr, wr) = (xc.remainder(), wc.remainder());
    for (xs, ws) in xc.zip(wc) {
        for ((lane, &xv), row) in lanes.iter_mut().zip(xs).zip(ws) {
            for (l, w) in lane.iter_mut().zip(W::widen(row)) {
                *l += xv * w;
            }
        }
    }
    let mut sum = [zero; O];
    for lane in &lanes {
        for (s, l) in sum.iter_mut().zip(lane) {
            *s += l;
        }
    }
    let mut tail = [zero; O];
    for (&xv, row) in xr.iter().zip(wr) {
        for (t, w) in tail.iter_mut().zip(W::widen(row)) {
            *t += xv * w;
        }
    }
    let mut y = [0.0f32; O];
    for (i, y) in y.iter_mut().enumerate() {
        let bias = match b {
            Some(b) => b[i],
            None => 0.0,
        };
        *y = bias + (sum[i] + tail[i]);
    }
    y
}

/// A stored weight: `f32`, or `i8` of [`linear_int8`].
pub trait Weight: Copy {
    /// A row of weights as f32 (for `i8`, the integers themselves, exactly).
    fn widen<const O: usize>(row: &[Self; O]) -> [f32; O];
}

impl Weight for f32 {
    #[inline(always)]
    fn widen<const O: usize>(row: &[f32; O]) -> [f32; O] {
        *row
    }
}

impl Weight for i8 {
    /// The whole row at once: built with AVX2 or AVX-512 the conversion vectorises, and the
    /// int8 file runs about as fast as the f32 one. (SSE2 has no byte-widening instruction;
    /// there LLVM builds each value from a byte load and an insert, several times slower.)
    #[inline(always)]
    fn widen<const O: usize>(row: &[i8; O]) -> [f32; O] {
        row.map(f32::from)
    }
}

/// `Linear` with int8 weights: `qt[i][o]` stands for the weight `scale[o] · qt[i][o]`, so
/// `y[o] = b[o] + scale[o] · Σᵢ qt[i][o]·x[i]`, the sum in `linear`'s order. Not the
/// runtime's bits: each weight is off by at most `scale[o] / 2`, so each output by at most
/// `scale[o] / 2 · Σ|x|` (plus f32 rounding). The sum of `q·x`, with `|q|` up to 127, can
/// overflow to infinity for inputs above about 1e36 where the f32 layer's does not.
#[inline(always)]
pub fn linear_int8<const I: usize, const O: usize>(
    x: &[f32; I],
    qt: &[[i8; O]; I],
    scale: &[f32; O],
    b: Option<&[f32; O]>,
) -> [f32; O] {
    let mut y = linear(x, qt, None);
    for (i, y) in y.iter_mut().enumerate() {
        let bias = match b {
            Some(b) => b[i],
            None => 0.0,
        };
        *y = bias + scale[i] * *y;
    }
    y
}

/// Applies `f` to every value, in place.
#[inline(always)]
pub fn map<const N: usize>(mut x: [f32; N], f: impl Fn(f32) -> f32) -> [f32; N] {
    for v in x.iter_mut() {
        *v = f(*v);
    }
    x
}

/// `max(0, x)`; NaN passes through.
#[inline(always)]
pub fn relu(x: f32) -> f32 {
    if x <= 0.0 { 0.0 } else { x }
}

#[inline(always)]
pub fn leaky_relu(x: f32, negative_slope: f32) -> f32 {
    if x <= 0.0 { negative_slope * x } else { x }
}

#[inline(always)]
pub fn hardswish(x: f32) -> f32 {
    x * (x + 3.0).clamp(0.0, 6.0) / 6.0
}

/// `x + body(x)`, the body's output first as in the runtime.
#[inline(always)]
pub fn add<const N: usize>(mut y: [f32; N], x: &[f32; N]) -> [f32; N] {
    for (y, x) in y.iter_mut().zip(x) {
        *y += x;
    }
    y
}

/// BatchNorm in eval form: `x·scale + shift` per channel of `L` values, where the exporter
/// computed `scale` and `shift` from the running statistics exactly as the runtime does.
#[inline(always)]
pub fn channel_affine<const N: usize, const L: usize>(
    mut x: [f32; N],
    scale: &[f32],
    shift: &[f32],
) -> [f32; N] {
    for ((plane, &scale), &shift) in x.chunks_exact_mut(L).zip(scale).zip(shift) {
        for v in plane.iter_mut() {
            *v = *v * scale + shift;
        }
    }
    x
}

/// The runtime's rule for an index: a whole number below `num`; anything else (negative,
/// fractional, NaN, too large) gives a row of NaN.
#[inline(always)]
fn index(v: f32, num: usize) -> Option<usize> {
    let i = v as usize;
    (v >= 0.0 && i as f32 == v && i < num).then_some(i)
}

/// Each of the `L` input values looks up a row of `D` values in `table` (`[num][D]`).
#[inline(always)]
pub fn embedding<const L: usize, const O: usize, const D: usize>(
    x: &[f32; L],
    table: &[[f32; D]],
) -> [f32; O] {
    let mut y = [0.0f32; O];
    for (&v, out) in x.iter().zip(y.chunks_exact_mut(D)) {
        match index(v, table.len()).and_then(|i| table.get(i)) {
            Some(row) => out.copy_from_slice(row),
            None => out.fill(f32::NAN),
        }
    }
    y
}

/// A pooling or convolution window along one axis.
#[derive(Clone, Copy)]
pub struct Window {
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub dilation: usize,
}

/// The input positions along one axis that output `o` reads, padding skipped (the
/// runtime's `taps`).
#[inline(always)]
fn taps(w: Window, size: usize, o: usize) -> core::iter::StepBy<core::ops::Range<usize>> {
    let (first, d) = (o * w.stride, w.dilation);
    let hi = (w.padding + size)
        .saturating_sub(first)
        .div_ceil(d)
        .min(w.kernel);
    let lo = w.padding.saturating_sub(first).div_ceil(d).min(hi);
    (first + lo * d - w.padding..first + hi * d - w.padding).step_by(d)
}

/// The sizes of a pooling layer.
#[derive(Clone, Copy)]
pub struct Pool {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub out_height: usize,
    pub out_width: usize,
    pub rows: Window,
    pub cols: Window,
    pub count_include_pad: bool,
}

/// Max of each window; NaN wins so it is not hidden; a window wholly in the padding is -inf.
#[inline(always)]
pub fn max_pool<const I: usize, const O: usize>(x: &[f32; I], g: &Pool) -> [f32; O] {
    let mut y = [0.0f32; O];
    let mut outputs = y.iter_mut();
    for c in 0..g.channels {
        let plane = c * g.height * g.width;
        for oh in 0..g.out_height {
            for ow in 0..g.out_width {
                let mut value = f32::NEG_INFINITY;
                for r in taps(g.rows, g.height, oh) {
                    for q in taps(g.cols, g.width, ow) {
                        let v = x[plane + r * g.width + q];
                        if v > value || v.is_nan() {
                            value = v;
                        }
                    }
                }
                if let Some(out) = outputs.next() {
                    *out = value;
                }
            }
        }
    }
    y
}

/// Mean of each window, divided as PyTorch's `count_include_pad` says.
#[inline(always)]
pub fn avg_pool<const I: usize, const O: usize>(x: &[f32; I], g: &Pool) -> [f32; O] {
    let mut y = [0.0f32; O];
    let mut outputs = y.iter_mut();
    for c in 0..g.channels {
        let plane = c * g.height * g.width;
        for oh in 0..g.out_height {
            for ow in 0..g.out_width {
                let (rows, cols) = (taps(g.rows, g.height, oh), taps(g.cols, g.width, ow));
                let divisor = if g.count_include_pad {
                    let clipped = |w: Window, size: usize, o: usize| {
                        let first = o * w.stride;
                        (first + w.kernel).min(size + 2 * w.padding) - first
                    };
                    (clipped(g.rows, g.height, oh) * clipped(g.cols, g.width, ow)) as f32
                } else {
                    (rows.clone().count() * cols.clone().count()) as f32
                };
                let sum = rows
                    .flat_map(|r| cols.clone().map(move |q| plane + r * g.width + q))
                    .map(|i| x[i])
                    .sum::<f32>();
                if let Some(out) = outputs.next() {
                    *out = sum / divisor;
                }
            }
        }
    }
    y
}

/// Each channel of `I / O` values becomes its mean.
#[inline(always)]
pub fn adaptive_avg_pool<const I: usize, const O: usize, const PLANE: usize>(
    x: &[f32; I],
) -> [f32; O] {
    let mut y = [0.0f32; O];
    for (y, p) in y.iter_mut().zip(x.chunks_exact(PLANE)) {
        *y = p.iter().sum::<f32>() / PLANE as f32;
    }
    y
}

/// The sizes of a convolution.
#[derive(Clone, Copy)]
pub struct Conv {
    pub in_channels: usize,
    pub height: usize,
    pub width: usize,
    pub out_channels: usize,
    pub out_height: usize,
    pub out_width: usize,
    pub rows: Window,
    pub cols: Window,
}

/// `a·b + c` rounded once, as a fused multiply-add: the product of two f32 is exact in f64,
/// so only the sum rounds (twice, f64 then f32, which is once but in rare ties).
#[inline(always)]
fn fma(a: f32, b: f32, c: f32) -> f32 {
    (f64::from(a) * f64::from(b) + f64::from(c)) as f32
}

/// Direct cross-correlation; `weight` is `[C_out][C_in·kh·kw]`. Each output sums its taps
/// in im2col's order with fused multiply-adds, as faer's kernels do on CPUs with FMA (the
/// runtime's Conv2d is one faer product per image); elsewhere the last bits can differ.
#[inline(always)]
pub fn conv2d<const I: usize, const O: usize, const K: usize>(
    x: &[f32; I],
    g: &Conv,
    weight: &[[f32; K]],
    bias: Option<&[f32]>,
) -> [f32; O] {
    let mut y = [0.0f32; O];
    let mut outputs = y.iter_mut();
    let (kh, kw) = (g.rows.kernel, g.cols.kernel);
    for (oc, w) in weight.iter().enumerate().take(g.out_channels) {
        // Without a bias the runtime's product replaces the output (no `0.0 +`).
        let b = bias.and_then(|b| b.get(oc)).copied();
        for oh in 0..g.out_height {
            for ow in 0..g.out_width {
                let mut acc = 0.0f32;
                for ic in 0..g.in_channels {
                    let plane = ic * g.height * g.width;
                    for ki in 0..kh {
                        let Some(ih) = (oh * g.rows.stride + ki * g.rows.dilation)
                            .checked_sub(g.rows.padding)
                            .filter(|&ih| ih < g.height)
                        else {
                            continue;
                        };
                        for kj in 0..kw {
                            let Some(iw) = (ow * g.cols.stride + kj * g.cols.dilation)
                                .checked_sub(g.cols.padding)
                                .filter(|&iw| iw < g.width)
                            else {
                                continue;
                            };
                            acc = fma(
                                w[(ic * kh + ki) * kw + kj],
                                x[plane + ih * g.width + iw],
                                acc,
                            );
                        }
                    }
                }
                if let Some(out) = outputs.next() {
                    *out = match b {
                        Some(b) => b + acc,
                        None => acc,
                    };
                }
            }
        }
    }
    y
}

// The transcendental functions an exported model needs, in plain `core` Rust so that the
// exported file has no dependency. `erf` is the `libm` crate's (FreeBSD's s_erf.c), ported
// line for line, so GELU(approximate="none") gives the runtime's bits; `exp`, `expm1`, `log`
// and `tanh` are FreeBSD's too, where the runtime calls the platform's (glibc): both are
// below one ulp in f64, so after rounding to f32 they differ in rare last bits at most.
// `sqrt` is correctly rounded (an integer square root), as IEEE requires of every `sqrt`.

const LN2_HI: f64 = 0.6931471803691238;
const LN2_LO: f64 = 1.9082149292705877e-10;
const INV_LN2: f64 = core::f64::consts::LOG2_E;

fn high_word(x: f64) -> u32 {
    (x.to_bits() >> 32) as u32
}

/// `x · 2^n`.
fn scalbn(x: f64, mut n: i32) -> f64 {
    let x1p1023 = f64::from_bits(0x7fe0_0000_0000_0000);
    let x1p53 = f64::from_bits(0x4340_0000_0000_0000);
    let x1p_1022 = f64::from_bits(0x0010_0000_0000_0000);
    let mut y = x;
    if n > 1023 {
        y *= x1p1023;
        n -= 1023;
        if n > 1023 {
            y *= x1p1023;
            n -= 1023;
            if n > 1023 {
                n = 1023;
            }
        }
    } else if n < -1022 {
        y *= x1p_1022 * x1p53;
        n += 1022 - 53;
        if n < -1022 {
            y *= x1p_1022 * x1p53;
            n += 1022 - 53;
            if n < -1022 {
                n = -1022;
            }
        }
    }
    y * f64::from_bits(((0x3ff + n) as u64) << 52)
}

/// `e^x` (FreeBSD e_exp.c).
pub fn exp(mut x: f64) -> f64 {
    const P1: f64 = 0.16666666666666602;
    const P2: f64 = -0.0027777777777015593;
    const P3: f64 = 6.613756321437934e-05;
    const P4: f64 = -1.6533902205465252e-06;
    const P5: f64 = 4.1381367970572385e-08;
    let hx = high_word(x) & 0x7fff_ffff;
    let negative = x.to_bits() >> 63 != 0;
    if hx >= 0x4086_232b {
        if x.is_nan() {
            return x;
        }
        if x > 709.782712893384 {
            return x * f64::from_bits(0x7fe0_0000_0000_0000);
        }
        if x < -745.1332191019411 {
            return 0.0;
        }
    }
    let (hi, lo, k);
    if hx > 0x3fd6_2e42 {
        if hx >= 0x3ff0_a2b2 {
            k = (INV_LN2 * x + if negative { -0.5 } else { 0.5 }) as i32;
        } else {
            k = if negative { -1 } else { 1 };
        }
        hi = x - f64::from(k) * LN2_HI;
        lo = f64::from(k) * LN2_LO;
        x = hi - lo;
    } else if hx > 0x3e30_0000 {
        k = 0;
        hi = x;
        lo = 0.0;
    } else {
        return 1.0 + x;
    }
    let xx = x * x;
    let c = x - xx * (P1 + xx * (P2 + xx * (P3 + xx * (P4 + xx * P5))));
    let y = 1.0 + (x * c / (2.0 - c) - lo + hi);
    if k == 0 { y } else { scalbn(y, k) }
}

/// `e^x` in f32, computed in f64 and rounded once.
pub fn expf(x: f32) -> f32 {
    exp(f64::from(x)) as f32
}

/// `e^x − 1` (FreeBSD s_expm1.c).
pub fn expm1(mut x: f64) -> f64 {
    const Q1: f64 = -0.03333333333333313;
    const Q2: f64 = 0.0015873015872548146;
    const Q3: f64 = -7.93650757867488e-05;
    const Q4: f64 = 4.008217827329362e-06;
    const Q5: f64 = -2.0109921818362437e-07;
    let hx = high_word(x) & 0x7fff_ffff;
    let negative = x.to_bits() >> 63 != 0;
    if hx >= 0x4043_687a {
        if x.is_nan() {
            return x;
        }
        if negative {
            return -1.0;
        }
        if x > 709.782712893384 {
            return x * f64::from_bits(0x7fe0_0000_0000_0000);
        }
    }
    let (k, c);
    if hx > 0x3fd6_2e42 {
        let (hi, lo);
        if hx < 0x3ff0_a2b2 {
            if negative {
                hi = x + LN2_HI;
                lo = -LN2_LO;
                k = -1;
            } else {
                hi = x - LN2_HI;
                lo = LN2_LO;
                k = 1;
            }
        } else {
            k = (INV_LN2 * x + if negative { -0.5 } else { 0.5 }) as i32;
            let t = f64::from(k);
            hi = x - t * LN2_HI;
            lo = t * LN2_LO;
        }
        x = hi - lo;
        c = (hi - x) - lo;
    } else if hx < 0x3c90_0000 {
        return x;
    } else {
        c = 0.0;
        k = 0;
    }
    let hfx = 0.5 * x;
    let hxs = x * hfx;
    let r1 = 1.0 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))));
    let t = 3.0 - r1 * hfx;
    let mut e = hxs * ((r1 - t) / (6.0 - x * t));
    if k == 0 {
        return x - (x * e - hxs);
    }
    e = x * (e - c) - c;
    e -= hxs;
    if k == -1 {
        return 0.5 * (x - e) - 0.5;
    }
    if k == 1 {
        if x < -0.25 {
            return -2.0 * (e - (x + 0.5));
        }
        return 1.0 + 2.0 * (x - e);
    }
    let twopk = f64::from_bits(((0x3ff + k) as u64) << 52);
    if !(0..=56).contains(&k) {
        let mut y = x - e + 1.0;
        if k == 1024 {
            y = y * 2.0 * f64::from_bits(0x7fe0_0000_0000_0000);
        } else {
            y *= twopk;
        }
        return y - 1.0;
    }
    let uf = f64::from_bits(((0x3ff - k) as u64) << 52);
    if k < 20 {
        (x - e + (1.0 - uf)) * twopk
    } else {
        (x - (e + uf) + 1.0) * twopk
    }
}

/// `tanh x` (FreeBSD s_tanh.c).
pub fn tanh(x: f64) -> f64 {
    let negative = x.to_bits() >> 63 != 0;
    let x = f64::from_bits(x.to_bits() & !(1 << 63));
    let w = high_word(x);
    let t = if w > 0x3fe1_93ea {
        if w > 0x4034_0000 {
            1.0 - 0.0 / x
        } else {
            let t = expm1(2.0 * x);
            1.0 - 2.0 / (t + 2.0)
        }
    } else if w > 0x3fd0_58ae {
        let t = expm1(2.0 * x);
        t / (t + 2.0)
    } else if w >= 0x0010_0000 {
        let t = expm1(-2.0 * x);
        -t / (t + 2.0)
    } else {
        x
    };
    if negative { -t } else { t }
}

/// `ln x` (FreeBSD e_log.c).
pub fn log(mut x: f64) -> f64 {
    const LG1: f64 = 0.6666666666666735;
    const LG2: f64 = 0.3999999999940942;
    const LG3: f64 = 0.2857142874366239;
    const LG4: f64 = 0.22222198432149784;
    const LG5: f64 = 0.1818357216161805;
    const LG6: f64 = 0.15313837699209373;
    const LG7: f64 = 0.14798198605116586;
    let mut ui = x.to_bits();
    let mut hx = (ui >> 32) as u32;
    let mut k: i32 = 0;
    if hx < 0x0010_0000 || hx >> 31 != 0 {
        if ui << 1 == 0 {
            return -1.0 / (x * x);
        }
        if hx >> 31 != 0 {
            return f64::NAN;
        }
        k -= 54;
        x *= f64::from_bits(0x4350_0000_0000_0000);
        ui = x.to_bits();
        hx = (ui >> 32) as u32;
    } else if hx >= 0x7ff0_0000 {
        return x;
    } else if hx == 0x3ff0_0000 && ui << 32 == 0 {
        return 0.0;
    }
    hx += 0x3ff0_0000 - 0x3fe6_a09e;
    k += (hx >> 20) as i32 - 0x3ff;
    hx = (hx & 0x000f_ffff) + 0x3fe6_a09e;
    ui = (u64::from(hx) << 32) | (ui & 0xffff_ffff);
    x = f64::from_bits(ui);
    let f = x - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let dk = f64::from(k);
    s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI
}

/// The error function (FreeBSD s_erf.c, as the `libm` crate has it).
pub fn erf(x: f64) -> f64 {
    const ERX: f64 = 0.8450629115104675;
    const EFX8: f64 = 1.0270333367641007;
    const PP: [f64; 5] = [
        0.12837916709551256,
        -0.3250421072470015,
        -0.02848174957559851,
        -0.005770270296489442,
        -2.3763016656650163e-05,
    ];
    const QQ: [f64; 5] = [
        0.39791722395915535,
        0.0650222499887673,
        0.005081306281875766,
        0.00013249473800432164,
        -3.960228278775368e-06,
    ];
    const PA: [f64; 7] = [
        -0.0023621185607526594,
        0.41485611868374833,
        -0.3722078760357013,
        0.31834661990116175,
        -0.11089469428239668,
        0.035478304325618236,
        -0.002166375594868791,
    ];
    const QA: [f64; 6] = [
        0.10642088040084423,
        0.540397917702171,
        0.07182865441419627,
        0.12617121980876164,
        0.01363708391202905,
        0.011984499846799107,
    ];
    const RA: [f64; 8] = [
        -0.009864944034847148,
        -0.6938585727071818,
        -10.558626225323291,
        -62.375332450326006,
        -162.39666946257347,
        -184.60509290671104,
        -81.2874355063066,
        -9.814329344169145,
    ];
    const SA: [f64; 8] = [
        19.651271667439257,
        137.65775414351904,
        434.56587747522923,
        645.3872717332679,
        429.00814002756783,
        108.63500554177944,
        6.570249770319282,
        -0.0604244152148581,
    ];
    const RB: [f64; 7] = [
        -0.0098649429247001,
        -0.799283237680523,
        -17.757954917754752,
        -160.63638485582192,
        -637.5664433683896,
        -1025.0951316110772,
        -483.5191916086514,
    ];
    const SB: [f64; 7] = [
        30.33806074348246,
        325.7925129965739,
        1536.729586084437,
        3199.8582195085955,
        2553.0504064331644,
        474.52854120695537,
        -22.44095244658582,
    ];
    let bits = high_word(x);
    let negative = bits >> 31 != 0;
    let ix = bits & 0x7fff_ffff;
    if ix >= 0x7ff0_0000 {
        return 1.0 - 2.0 * f64::from(u8::from(negative)) + 1.0 / x;
    }
    if ix < 0x3feb_0000 {
        if ix < 0x3e30_0000 {
            return 0.125 * (8.0 * x + EFX8 * x);
        }
        let z = x * x;
        let r = PP[0] + z * (PP[1] + z * (PP[2] + z * (PP[3] + z * PP[4])));
        let s = 1.0 + z * (QQ[0] + z * (QQ[1] + z * (QQ[2] + z * (QQ[3] + z * QQ[4]))));
        return x + x * (r / s);
    }
    let y = if ix < 0x4018_0000 {
        let ax = f64::from_bits(x.to_bits() & !(1 << 63));
        let erfc = if ix < 0x3ff4_0000 {
            let s = ax - 1.0;
            let p = PA[0]
                + s * (PA[1] + s * (PA[2] + s * (PA[3] + s * (PA[4] + s * (PA[5] + s * PA[6])))));
            let q = 1.0
                + s * (QA[0] + s * (QA[1] + s * (QA[2] + s * (QA[3] + s * (QA[4] + s * QA[5])))));
            1.0 - ERX - p / q
        } else {
            let s = 1.0 / (ax * ax);
            let (r, big_s);
            if ix < 0x4006_db6d {
                r = RA[0]
                    + s * (RA[1]
                        + s * (RA[2]
                            + s * (RA[3] + s * (RA[4] + s * (RA[5] + s * (RA[6] + s * RA[7]))))));
                big_s = 1.0
                    + s * (SA[0]
                        + s * (SA[1]
                            + s * (SA[2]
                                + s * (SA[3]
                                    + s * (SA[4] + s * (SA[5] + s * (SA[6] + s * SA[7])))))));
            } else {
                r = RB[0]
                    + s * (RB[1]
                        + s * (RB[2] + s * (RB[3] + s * (RB[4] + s * (RB[5] + s * RB[6])))));
                big_s = 1.0
                    + s * (SB[0]
                        + s * (SB[1]
                            + s * (SB[2] + s * (SB[3] + s * (SB[4] + s * (SB[5] + s * SB[6]))))));
            }
            let z = f64::from_bits(ax.to_bits() & 0xffff_ffff_0000_0000);
            exp(-z * z - 0.5625) * exp((z - ax) * (z + ax) + r / big_s) / ax
        };
        1.0 - erfc
    } else {
        1.0 - f64::from_bits(0x0010_0000_0000_0000)
    };
    if negative { -y } else { y }
}

/// The correctly rounded square root: the integer square root of the significand, scaled
/// so that the root has 62–63 bits, with a sticky bit so the one rounding to 53 bits is right.
pub fn sqrt(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 || x == f64::INFINITY {
        return x;
    }
    let bits = x.to_bits();
    let field = (bits >> 52) as i32;
    let fraction = bits & ((1 << 52) - 1);
    // x = m · 2^e with m a whole number.
    let (mut m, mut e) = if field == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), field - 1075)
    };
    if e & 1 != 0 {
        m <<= 1;
        e -= 1;
    }
    let length = 64 - m.leading_zeros() as i32;
    let s = (126 - length) / 2;
    let n = u128::from(m) << (2 * s);
    let r = n.isqrt();
    let sticky = u128::from(r * r != n);
    let root = ((r << 1) | sticky) as f64;
    // sqrt(x) = sqrt(n) · 2^(e/2 − s) = root · 2^(e/2 − s − 1), a normal number times an
    // exact power of two.
    root * f64::from_bits(((e / 2 - s - 1 + 1023) as u64) << 52)
}

/// `1 / (1 + e^-x)`, split by sign as the runtime does so that `exp` never overflows.
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + expf(-x))
    } else {
        let e = expf(x);
        e / (1.0 + e)
    }
}

pub fn silu(x: f32) -> f32 {
    x * sigmoid(x)
}

pub fn tanhf(x: f32) -> f32 {
    tanh(f64::from(x)) as f32
}

/// GELU with the exact normal CDF, in f64 as the runtime computes it.
pub fn gelu_erf(x: f32) -> f32 {
    let x = f64::from(x);
    (0.5 * x * (1.0 + erf(x * core::f64::consts::FRAC_1_SQRT_2))) as f32
}

/// GELU's tanh approximation, in f64 as the runtime computes it.
pub fn gelu_tanh(x: f32) -> f32 {
    let x = f64::from(x);
    (0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044_715 * x * x * x)))) as f32
}

/// Softmax over the whole row, the max subtracted first, the sum in f64 (as the runtime).
pub fn softmax<const N: usize>(x: [f32; N]) -> [f32; N] {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut out = [0.0f32; N];
    let mut sum = 0.0f64;
    for (o, &v) in out.iter_mut().zip(&x) {
        let e = expf(v - max);
        *o = e;
        sum += f64::from(e);
    }
    let inv = (1.0 / sum) as f32;
    for o in out.iter_mut() {
        *o *= inv;
    }
    out
}

/// Log-softmax over the whole row (as the runtime).
pub fn log_softmax<const N: usize>(x: [f32; N]) -> [f32; N] {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = x.iter().map(|&v| exp(f64::from(v - max))).sum();
    let log_sum = log(sum) as f32;
    let mut out = [0.0f32; N];
    for (o, &v) in out.iter_mut().zip(&x) {
        *o = (v - max) - log_sum;
    }
    out
}

/// LayerNorm over each group of `D` values: mean and biased variance in f64 (as the runtime).
pub fn layer_norm<const N: usize, const D: usize>(
    x: [f32; N],
    eps: f32,
    weight: &[f32; D],
    bias: &[f32; D],
) -> [f32; N] {
    let mut out = [0.0f32; N];
    for (xg, yg) in x.chunks_exact(D).zip(out.chunks_exact_mut(D)) {
        let mean = xg.iter().map(|&v| f64::from(v)).sum::<f64>() / D as f64;
        let var = xg
            .iter()
            .map(|&v| {
                let d = f64::from(v) - mean;
                d * d
            })
            .sum::<f64>()
            / D as f64;
        let invstd = (1.0 / sqrt(var + f64::from(eps))) as f32;
        let mean = mean as f32;
        for (((y, &x), &w), &b) in yg.iter_mut().zip(xg).zip(weight).zip(bias) {
            *y = (x - mean) * invstd * w + b;
        }
    }
    out
}
}
