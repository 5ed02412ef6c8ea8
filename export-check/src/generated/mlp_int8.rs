// `Mlp` exported by staticnn::export; regenerate, do not edit.
//
// Needs only `core`: `mod model { include!("this_file.rs"); }` in a `#![no_std]` crate.
// No allocation, no `unsafe`, no input panics; NaN propagates as in the runtime.
// Stack: 960 bytes of activation arrays at most (128 for the widest layer) and 576 of kernel
// scratch; weights: 1984 bytes.
// The runtime's operations in its order, bit for bit at batches of up to 4, except:
//   encoder.fc: int8 weights, each within half its row's scale (`linear_int8`)
//   SiLU: this file's exp is FreeBSD's, the runtime's the platform's (both below 1 ulp; outputs within 1e-6 relative)
//   block.0: int8 weights, each within half its row's scale (`linear_int8`)
//   GELU(tanh): this file's tanh is FreeBSD's, the runtime's the platform's (both below 1 ulp; outputs within 1e-6 relative)
//   block.2: int8 weights, each within half its row's scale (`linear_int8`)
//   Tanh: this file's tanh is FreeBSD's, the runtime's the platform's (both below 1 ulp; outputs within 1e-6 relative)
//   fc2: int8 weights, each within half its row's scale (`linear_int8`)
//   fc3: int8 weights, each within half its row's scale (`linear_int8`)
//   fc4: int8 weights, each within half its row's scale (`linear_int8`)
//   Sigmoid: this file's exp is FreeBSD's, the runtime's the platform's (both below 1 ulp; outputs within 1e-6 relative)
//   head: int8 weights, each within half its row's scale (`linear_int8`)
//   LogSoftmax: this file's exp is FreeBSD's, the runtime's the platform's (both below 1 ulp; outputs within 1e-6 relative)

/// Values per input row.
pub const IN: usize = 8;
/// Values per output row.
pub const OUT: usize = 4;

/// One row through the model (eval mode: Dropout is the identity, BatchNorm uses its
/// running statistics).
pub fn forward(x: &[f32; IN]) -> [f32; OUT] {
    let x0: [f32; IN] = *x;
    let x1: [f32; 16] = kernels::linear_int8(&x0, &ENCODER_FC_WEIGHT_T_INT8, &ENCODER_FC_WEIGHT_SCALE, Some(&ENCODER_FC_BIAS));
    let x2: [f32; 16] = kernels::map(x1, kernels::gelu_erf);
    let x3: [f32; 16] = kernels::layer_norm::<16, 16>(x2, f(0x3727c5ac), &ENCODER_NORM_WEIGHT, &ENCODER_NORM_BIAS);
    let x4: [f32; 16] = kernels::map(x3, kernels::silu);
    let x5: [f32; 16] = kernels::channel_affine::<16, 1>(x4, &BN_SCALE, &BN_SHIFT);
    let x6: [f32; 16] = kernels::linear_int8(&x5, &BLOCK_0_WEIGHT_T_INT8, &BLOCK_0_WEIGHT_SCALE, Some(&BLOCK_0_BIAS));
    let x7: [f32; 16] = kernels::map(x6, kernels::gelu_tanh);
    let x8: [f32; 16] = kernels::linear_int8(&x7, &BLOCK_2_WEIGHT_T_INT8, &BLOCK_2_WEIGHT_SCALE, Some(&BLOCK_2_BIAS));
    let x9: [f32; 16] = kernels::add(x8, &x5);
    let x10: [f32; 16] = kernels::map(x9, kernels::tanhf);
    let x11: [f32; 12] = kernels::linear_int8(&x10, &FC2_WEIGHT_T_INT8, &FC2_WEIGHT_SCALE, Some(&FC2_BIAS));
    let x12: [f32; 12] = kernels::map(x11, |v| kernels::leaky_relu(v, f(0x3dcccccd)));
    let x13: [f32; 12] = kernels::linear_int8(&x12, &FC3_WEIGHT_T_INT8, &FC3_WEIGHT_SCALE, None);
    let x14: [f32; 12] = kernels::map(x13, kernels::hardswish);
    let x15: [f32; 8] = kernels::linear_int8(&x14, &FC4_WEIGHT_T_INT8, &FC4_WEIGHT_SCALE, Some(&FC4_BIAS));
    let x16: [f32; 8] = kernels::map(x15, kernels::sigmoid);
    let x17: [f32; 4] = kernels::linear_int8(&x16, &HEAD_WEIGHT_T_INT8, &HEAD_WEIGHT_SCALE, Some(&HEAD_BIAS));
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

static ENCODER_FC_WEIGHT_T_INT8: [[i8; 16]; 8] = [
    [23, -76, 127, 127, -68, -75, 127, 127, -66, -78, 127, 93, 110, 115, -44, 76,],
    [10, -57, 106, 107, -127, -91, 124, 62, -102, -104, 82, 106, 22, 127, -84, 69,],
    [-14, -56, 119, 71, -89, -107, 23, 33, -93, -101, 119, 122, 127, 100, -76, 38,],
    [24, -127, 80, 81, -38, -127, 42, 35, -127, -127, 0, 81, 127, 83, -127, -3,],
    [-89, 24, -6, -24, -70, 56, 48, -72, -11, 64, -8, 127, 48, 100, -37, 109,],
    [-118, -117, -58, -47, -95, 57, 81, -43, -54, 16, -25, 16, 9, 32, -75, 127,],
    [-127, -44, -27, -49, 40, 39, 18, -60, -58, 47, 32, 120, 7, 118, -50, 55,],
    [-120, -99, -45, -33, -88, 20, 2, -79, -11, 57, -13, 48, 107, 73, -69, 40,],
];
static ENCODER_FC_WEIGHT_SCALE: [f32; 16] = [
    f(0x3b54e276), f(0x3b5c26da), f(0x3b4dd34b), f(0x3b6ae991), f(0x3b452c05), f(0x3b80b99f), f(0x3b8eaf56), f(0x3b510581),
    f(0x3b49ff5a), f(0x3b5851ae), f(0x3b8f76bc), f(0x3b1c338c), f(0x3b463b04), f(0x3b564410), f(0x3b4fba2d), f(0x3b70bbaf),
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
static BLOCK_0_WEIGHT_T_INT8: [[i8; 16]; 16] = [
    [48, -42, 104, 4, 61, 28, -127, 87, -6, 65, -2, 127, 41, -14, 127, -48,],
    [-52, 10, 91, 127, -46, -41, 13, 126, 125, 127, 57, 54, -33, -35, 36, -34,],
    [66, -11, 93, -75, 124, 53, -35, -107, -127, -50, 35, 24, 77, 87, -25, -127,],
    [100, -12, 27, -115, 127, 66, -19, 19, -101, -86, 101, 104, 127, 106, 89, -88,],
    [-71, -30, 90, 62, -2, -34, -93, 8, -53, 71, -10, 33, -3, -90, 7, -54,],
    [-127, 127, 0, -19, -58, -41, 65, 66, 110, -73, -78, -83, -39, -127, -71, 45,],
    [19, -8, -40, 20, -40, 65, 50, -16, -52, -5, -14, -86, -21, 118, -16, 2,],
    [53, -54, -43, -113, 88, 101, -66, 1, -18, -38, 99, 15, -35, 22, 49, -22,],
    [-57, 64, -48, 43, -83, -127, -28, 86, 89, 35, 29, 51, -94, 8, 117, -54,],
    [-106, 59, 59, -12, -86, -21, 63, 47, 23, 14, 72, -34, -78, -43, -101, 9,],
    [114, 65, -42, -42, 43, 43, 75, -115, -75, -98, 68, -42, -4, -18, -12, 20,],
    [31, 19, 49, -13, 29, -34, 47, 39, -38, -40, -28, 1, 25, 38, -4, 24,],
    [63, 38, 13, -53, -59, -47, -16, -81, -28, -100, -6, -59, 0, 78, -103, 34,],
    [33, 49, -26, -69, -19, -65, 30, -46, -22, 65, -117, -81, -13, 118, -112, 78,],
    [-80, 29, 127, 44, -40, 11, -34, 127, 38, 22, 127, 72, -68, -112, 65, -73,],
    [63, -15, -1, 59, 2, -76, 57, -60, -48, 4, -52, -12, -101, 22, -50, 75,],
];
static BLOCK_0_WEIGHT_SCALE: [f32; 16] = [
    f(0x3b6f201a), f(0x3ba1637e), f(0x3b3cd587), f(0x3b33bb9c), f(0x3b74a64b), f(0x3b74996a), f(0x3b97df6c), f(0x3b3ad69d),
    f(0x3b7e3ed1), f(0x3b3a11cd), f(0x3b6d6d0e), f(0x3b8c38d0), f(0x3b61d25a), f(0x3b45f634), f(0x3b3e7a61), f(0x3b642df0),
];
static BLOCK_0_BIAS: [f32; 16] = [
    f(0xbc65c710), f(0xbe1c19f1), f(0xbe3e7365), f(0x3d6b8f0f), f(0x3d877cd8), f(0xbd955a51), f(0x3d0ee6b9), f(0x3e6fa375),
    f(0x3e46ee27), f(0xbd02a9e7), f(0x3caea17d), f(0x3ed8ff39), f(0xbd5a4bce), f(0xbdb5c447), f(0x3e8e6201), f(0x3e071da5),
];
static BLOCK_2_WEIGHT_T_INT8: [[i8; 16]; 16] = [
    [-34, -116, 64, 66, -127, -85, 126, -22, -111, -7, 33, -24, 95, 127, -127, 109,],
    [-6, 59, -127, -127, -35, 57, -45, -23, 58, 125, -127, -14, -96, -107, 63, 82,],
    [55, -79, 74, -6, 46, -46, -20, 42, 8, -97, -57, -43, -10, -11, -22, -5,],
    [-15, 9, -42, 14, -8, 61, -94, 31, -3, 55, -11, -8, 31, -53, 99, -118,],
    [90, -57, 70, 11, -104, -64, 36, 20, -49, -94, 76, -79, 18, 107, -16, -70,],
    [73, -54, 58, 40, -71, -48, -14, -5, -89, 20, -41, -28, 106, 45, -79, 63,],
    [-127, 59, -64, 18, -122, -49, -46, -38, 52, -112, -37, 122, 119, 29, -51, 50,],
    [68, -5, 4, -65, 58, 81, -72, 46, 62, 34, -66, -52, -73, -18, -19, -61,],
    [7, 127, 9, -59, 24, 127, -127, -21, 127, -51, -108, -31, -70, -81, 83, -73,],
    [-10, -22, 75, -1, 45, 27, -49, 84, -10, 35, -35, -5, -127, -108, 48, -31,],
    [93, -31, -30, -29, 33, 42, 39, 15, 55, -8, -32, -115, 78, 91, -60, 71,],
    [90, 6, 37, -1, 7, 15, 25, 127, -23, -104, 0, -127, 66, 19, -1, -127,],
    [31, -94, 105, 59, 11, -44, 27, 26, 17, -44, 71, 12, -13, 27, 27, 38,],
    [-30, -47, 96, 64, -83, -41, 44, -60, -73, -43, 91, 96, 95, -8, -35, 122,],
    [47, 27, 93, -9, -12, -13, 26, 38, -32, -127, -46, -125, -43, -13, 20, -67,],
    [-76, 91, 53, 22, -61, 12, -50, -70, 57, 105, 35, 23, -12, 28, 19, 36,],
];
static BLOCK_2_WEIGHT_SCALE: [f32; 16] = [
    f(0x3ba15365), f(0x3b8f7ecd), f(0x3b762f8a), f(0x3b98207a), f(0x3b731fba), f(0x3b925a14), f(0x3b928e24), f(0x3ba279a6),
    f(0x3b3c8de7), f(0x3af42658), f(0x3b85ff17), f(0x3b898914), f(0x3b27821e), f(0x3b59dc91), f(0x3b79d352), f(0x3b41ea52),
];
static BLOCK_2_BIAS: [f32; 16] = [
    f(0xbc363079), f(0x3eac0313), f(0x3df1ae68), f(0xbe10943f), f(0xbea35841), f(0x3dbcc6fc), f(0x3e40a832), f(0x3c80aec2),
    f(0x3e42f6f0), f(0xbe9bccce), f(0x3c51aac7), f(0xbb43828a), f(0x3dfe55a5), f(0xbe317a9e), f(0x3dc8eb9f), f(0x3e0bcc29),
];
static FC2_WEIGHT_T_INT8: [[i8; 12]; 16] = [
    [127, 127, -79, -105, -127, -127, -127, -127, 127, -127, 119, -127,],
    [-53, 8, 93, 84, 41, -49, 71, 14, 78, -10, -127, 29,],
    [62, 23, 14, -127, -96, 64, -65, 7, 16, 31, 106, -50,],
    [104, 17, -103, -44, -46, 22, -58, 0, -52, 61, 45, -13,],
    [-54, 29, 68, -67, -43, -78, 22, -84, 55, -87, -63, -37,],
    [-9, -46, 114, 122, 12, -59, 81, 31, 65, -33, -120, 34,],
    [46, 10, -24, -74, 13, 101, -77, 68, -46, 93, 95, 18,],
    [112, 64, -127, -82, -83, 23, -88, -51, 68, 3, 21, -84,],
    [-10, -18, 93, 14, -66, -86, 60, -22, 15, -60, -69, 11,],
    [-2, -26, -75, 71, 25, -67, 17, 7, -21, 10, -97, -46,],
    [83, -10, 0, -46, -8, 41, -65, 33, -50, 38, 14, 15,],
    [-67, -39, -123, -43, -44, 97, -2, -31, -96, 14, -73, -1,],
    [54, -39, -74, -19, 44, 29, -23, 30, -21, -9, 65, 18,],
    [69, 25, 20, -39, 0, 47, -61, -6, -83, 54, 101, 40,],
    [-64, 1, 122, 55, -45, -80, 62, -61, 63, -82, -81, -22,],
    [-22, -16, -16, -30, 5, 84, 3, 62, -97, 118, 72, 35,],
];
static FC2_WEIGHT_SCALE: [f32; 12] = [
    f(0x3bad2cf6), f(0x3bfd9fb5), f(0x3b4e8dd7), f(0x3bb70cad), f(0x3bc5181c), f(0x3bbc6796), f(0x3ba2bfde), f(0x3bdcbc5a),
    f(0x3bc03289), f(0x3b51887e), f(0x3b8a9bc5), f(0x3c15117e),
];
static FC2_BIAS: [f32; 12] = [
    f(0xbd540804), f(0x3e20e4e3), f(0x3d8b979b), f(0x3e5fe874), f(0x3ecd105c), f(0xbb12e774), f(0x3ee28d81), f(0x3e7e76a1),
    f(0x3ee53720), f(0x3da5c787), f(0x3c7fdc24), f(0x3ecd8702),
];
static FC3_WEIGHT_T_INT8: [[i8; 12]; 12] = [
    [67, -26, 25, 103, 89, 30, -57, -31, -76, -35, 11, 123,],
    [67, -73, 19, 48, 81, -48, -65, -81, -127, -7, -127, 89,],
    [48, 50, 75, 88, 100, -127, 34, 44, 45, 89, -4, 25,],
    [-39, 57, 31, 127, -72, -78, 92, -2, 98, 66, 116, -110,],
    [1, 127, -4, -33, -26, 12, 48, 35, 122, 68, 59, -12,],
    [127, 86, -59, -87, 81, 63, 55, 115, -76, -75, -79, 27,],
    [-100, 104, 20, 44, -41, -107, 11, 35, 126, 101, 33, -27,],
    [-15, 77, -76, -42, 29, 60, 75, 81, 5, -38, 57, 72,],
    [-38, -69, 127, 103, 17, -85, -29, -64, 0, 127, -8, -9,],
    [47, 32, -51, -73, 49, 41, 75, 2, -36, -55, -16, 34,],
    [105, -38, 1, 36, 127, 85, -21, 21, -118, 1, -42, 127,],
    [55, 110, -66, 17, -37, 82, 127, 127, 41, -63, 111, -5,],
];
static FC3_WEIGHT_SCALE: [f32; 12] = [
    f(0x3b8e28cf), f(0x3b9d1881), f(0x3bb1d6a0), f(0x3b59e7d5), f(0x3b696474), f(0x3ba22594), f(0x3bd487f0), f(0x3ba60357),
    f(0x3b8f2c44), f(0x3ba95ea8), f(0x3b8a325d), f(0x3b9e15cf),
];
static FC4_WEIGHT_T_INT8: [[i8; 8]; 12] = [
    [-1, 127, 17, 62, 27, 18, -111, -53,],
    [127, -112, 28, -53, -124, -7, 42, 84,],
    [2, -66, -84, 3, 61, 33, 37, -43,],
    [-17, -15, -45, -63, 13, 127, 64, -32,],
    [-48, 88, -18, 106, -4, -5, 9, -84,],
    [-7, 116, 95, 83, 31, -66, -39, -13,],
    [93, -52, 127, -48, -111, -58, -34, 82,],
    [56, 74, 71, 45, -127, -95, -71, -2,],
    [97, -115, -49, -127, -38, 104, 59, 33,],
    [6, -93, -67, 6, 75, 87, 127, 4,],
    [48, -79, -7, -102, -68, 110, 110, 127,],
    [-65, 43, 38, 70, 62, 35, -115, -50,],
];
static FC4_WEIGHT_SCALE: [f32; 8] = [f(0x3bf47579), f(0x3b93c2fc), f(0x3bdfc694), f(0x3bc454c5), f(0x3bc646d6), f(0x3bc14a9c), f(0x3b92ffe1), f(0x3bd71557),];
static FC4_BIAS: [f32; 8] = [f(0xbe68adc0), f(0xbeace1c2), f(0xbe9a33a7), f(0x3e27cea1), f(0x3e9e4e5c), f(0x3ee73055), f(0xbbd8d1e0), f(0xbeca36bf),];
static HEAD_WEIGHT_T_INT8: [[i8; 4]; 8] = [
    [-26, 36, -127, 57,],
    [-75, -98, 75, 70,],
    [-127, -14, 59, 83,],
    [-35, -110, 56, 57,],
    [112, -127, 99, -85,],
    [95, 74, 11, -108,],
    [95, 51, -89, -127,],
    [-43, 71, -127, -12,],
];
static HEAD_WEIGHT_SCALE: [f32; 4] = [f(0x3c10482e), f(0x3c0efa00), f(0x3c222be1), f(0x3bf02166),];
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
