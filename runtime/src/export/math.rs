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
