//! Activations built on exp, expm1 and log1p, computed in the input's precision. Where a product would form
//! ±inf·0 at x = ±inf, the input is clamped to a range where the result has already saturated, so every
//! function returns its mathematical limit at ±inf.

use super::{f32_careful_free, fast_as_careful, select, Kernel, Params};
use crate::math::{
    exp, exp_parts_scaled, exp_scaled, expm1, log1p, scaled_exp_neg_abs, sigmoid, sigmoid_pair,
    two_prod, TAIL_RESCALE, TAIL_SCALE, TAIL_UNSCALE,
};
use crate::real::Real;

/// Beyond |x| = 2000 every function of this family has saturated in f64 (exp(-2000) = 0).
const SATURATED: f64 = 2000.0;
/// Below -FAR_TAIL, log1p(e^z) = e^z to 2^-60 relative.
const FAR_TAIL: f64 = 42.0;

/// 1/(1 + exp(-x)).
pub struct Sigmoid;
impl Kernel for Sigmoid {
    const PROMOTE: bool = false;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        sigmoid(x)
    }
    const CAREFUL: u8 = 0b11;
    fn careful_free<R: Real>(_mode: u8, _p: Params<f64>) -> (f64, f64) {
        // exp(-|x|) is normal for |x| below 87.33 (f32) and 708.39 (f64); beyond, it is subnormal or 0
        // (and so are sigmoid(x) below and sigmoid'(x) on both sides).
        let bound = if R::IS_F64 { 708.0 } else { 87.0 };
        (-bound, bound)
    }
    /// Both modes with e = exp(-|x|)·2^TAIL_SCALE (|x| clamped to `tail_clamp`, where e rounds to 0 anyway)
    /// and 1 + e as one fma: the forward (e or 2^TAIL_SCALE)/(1 + e) and the derivative e/(1 + e)², both
    /// scaled by 2^TAIL_SCALE.
    #[inline(always)]
    fn careful<R: Real>(mode: u8, x: R, _p: Params<R>) -> (R, bool) {
        let (e_scaled, one_plus) = scaled_exp_neg_abs(x);
        if mode == 0 {
            let num = if x < R::c(0.0) {
                e_scaled
            } else {
                R::c(TAIL_RESCALE)
            };
            (num / one_plus, true)
        } else {
            (e_scaled / (one_plus * one_plus), true)
        }
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        // e/(1 + e)², e = exp(-|x|): one quotient, symmetric in x.
        let e = exp(-x.abs());
        let one_plus = R::c(1.0) + e;
        e / (one_plus * one_plus)
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, _p: Params<R>) -> R {
        y * (R::c(1.0) - y)
    }
}

/// x·sigmoid(x).
pub struct Silu;
impl Kernel for Silu {
    const PROMOTE: bool = false;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        // x/(1 + e) for x >= 0 and x·e/(1 + e) below, e = exp(-|x|): one quotient. On the negative side e
        // is kept scaled by 2^TAIL_SCALE, so x·e stays normal where e alone would be subnormal; the
        // quotient is scaled back with a single rounding.
        let xc = x.clamp_nan(R::c(-SATURATED), R::INFINITY);
        let e_scaled = exp_scaled(-xc.abs(), TAIL_SCALE);
        let e = e_scaled * R::c(TAIL_UNSCALE);
        let negative = xc < R::c(0.0);
        let q = select(negative, xc * e_scaled, xc) / (R::c(1.0) + e);
        select(negative, q * R::c(TAIL_UNSCALE), q)
    }
    const CAREFUL: u8 = 0b01;
    fn careful_free<R: Real>(mode: u8, _p: Params<f64>) -> (f64, f64) {
        // exp(-|x|) is normal for |x| below 87.33 (f32).
        f32_careful_free::<R>(mode, 0, 87.0)
    }
    /// The forward without subnormal operations (f32): x clamped to -110 (`tail_clamp`; beyond, x·e^x
    /// rounds to -0.0 as the fast formula's does), 1 + e as one fma of the scaled e, the negative side's
    /// quotient left scaled.
    #[inline(always)]
    fn careful<R: Real>(mode: u8, x: R, p: Params<R>) -> (R, bool) {
        if R::IS_F64 || mode != 0 {
            return fast_as_careful::<Self, R>(mode, x, p);
        }
        let xc = x.clamp_nan(R::c(-110.0), R::INFINITY);
        let (e_scaled, one_plus) = scaled_exp_neg_abs(xc);
        let negative = xc < R::c(0.0);
        (select(negative, xc * e_scaled, xc) / one_plus, negative)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        // silu'(x) = sigmoid(x)·(1 + x·sigmoid(-x)) over the common denominator (1 + e)², e = exp(-|x|):
        //   x >= 0: ((1 + e) + x·e)/(1 + e)²  (all terms positive)
        //   x <  0: e·((1 + x) + e)/(1 + e)²  (1 + x is exact on [-2, -0.5], so only the true zero
        //           crossing at x = -1.278 cancels, not a rounded sigmoid as in 1 + x·sigmoid(-x)).
        // 1 + e is carried as hi + lo and 1/(1 + e)² corrected once; e is kept scaled by 2^TAIL_SCALE
        // on the negative side so subnormal results round once.
        let xc = x.clamp_nan(R::c(-SATURATED), R::c(SATURATED));
        let e_scaled = exp_scaled(-xc.abs(), TAIL_SCALE);
        let e = e_scaled * R::c(TAIL_UNSCALE);
        let one = R::c(1.0);
        let d = one + e;
        let d_lo = (one - d) + e; // exact (Fast2Sum: 1 >= e)
        let (sq, sq_lo) = two_prod(d, d);
        let sq_lo = (R::c(2.0) * d).mul_add(d_lo, sq_lo);
        let q = one / sq;
        let q = (-(q * sq_lo)).mul_add(q, q);
        let negative = xc < R::c(0.0);
        let num = if negative {
            // e·(1 + x) exactly inside the fma, plus e·e: one rounding fewer than e·((1 + x) + e).
            e_scaled.mul_add(one + xc, e_scaled * e)
        } else {
            d + xc.mul_add(e, d_lo)
        };
        let unscale = if negative { R::c(TAIL_UNSCALE) } else { one };
        (num * q) * unscale
    }
}

/// x·sigmoid(beta·x): silu with a slope (TensorFlow's `silu(features, beta)`).
pub struct Swish;

/// beta·x as hi + lo, clamped to ±SATURATED (where the lo no longer matters), with x clamped to the finite
/// range first: (x finite, z, z_lo, e·2^TAIL_SCALE on the negative side, e) with e = exp(-|z + lo|).
#[inline(always)]
fn swish_parts<R: Real>(x: R, beta: R) -> (R, R, R, R, R) {
    let max = R::c(if R::IS_F64 {
        f64::MAX
    } else {
        f64::from(f32::MAX)
    });
    let xf = x.clamp_nan(-max, max);
    let (z, z_lo) = two_prod(beta, xf);
    let saturated = z.abs() > R::c(SATURATED);
    let zc = z.clamp_nan(R::c(-SATURATED), R::c(SATURATED));
    let lo = select(saturated, R::c(0.0), z_lo);
    // exp(-|z + lo|): the lo moves toward zero where z > 0.
    let lo_toward_zero = select(zc > R::c(0.0), -lo, lo);
    let e_scaled = exp_parts_scaled(-zc.abs(), lo_toward_zero, TAIL_SCALE);
    (xf, zc, lo, e_scaled, e_scaled * R::c(TAIL_UNSCALE))
}

impl Kernel for Swish {
    const PROMOTE: bool = false;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        // As silu: x/(1 + e) for z >= 0 and x·e/(1 + e) below, e = exp(-|z|), z = beta·x exact (a rounded z
        // would cost |z| ULP in the tail). x = ±inf gives x where z >= 0 (beta = 0 included) and a zero of
        // x's sign where z < 0, the limits.
        let (xf, z, _, e_scaled, e) = swish_parts(x, p[0]);
        let negative = z < R::c(0.0);
        let q = select(negative, xf * e_scaled, xf) / (R::c(1.0) + e);
        let y = select(negative, q * R::c(TAIL_UNSCALE), q);
        select(x.is_infinite() && !negative, x, y)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, p: Params<R>) -> R {
        // d/dx x·sigmoid(beta·x) = silu'(z), z = beta·x: silu's derivative (see Silu) with z + lo in the
        // terms where z appears, e already exp(-|z + lo|).
        let (_, z, lo, e_scaled, e) = swish_parts(x, p[0]);
        let one = R::c(1.0);
        let d = one + e;
        let d_lo = (one - d) + e;
        let (sq, sq_lo) = two_prod(d, d);
        let sq_lo = (R::c(2.0) * d).mul_add(d_lo, sq_lo);
        let q = one / sq;
        let q = (-(q * sq_lo)).mul_add(q, q);
        let negative = z < R::c(0.0);
        let num = if negative {
            e_scaled.mul_add((one + z) + lo, e_scaled * e)
        } else {
            d + z.mul_add(e, lo.mul_add(e, d_lo))
        };
        let unscale = if negative { R::c(TAIL_UNSCALE) } else { one };
        (num * q) * unscale
    }
}

/// log(1 + exp(beta·x))/beta, and x where beta·x > threshold (PyTorch's linear region).
pub struct Softplus;
impl Kernel for Softplus {
    const PROMOTE: bool = false;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        let (beta, threshold) = (p[0], p[1]);
        // z = beta·x exactly (hi + lo): for z << 0 the result is ~exp(z), whose relative error would be
        // |z| times that of a rounded z.
        let (z, z_lo) = two_prod(beta, x);
        let zero = R::c(0.0);
        let z_lo_toward_zero = select(z > zero, -z_lo, z_lo);
        // e^-|z| times 2^TAIL_SCALE: where it is subnormal (z < -87 in f32) so would be log1p(e) and, for
        // beta < 1, even the normal result e/beta would lose its low bits.
        let e_scaled = exp_parts_scaled(-z.abs(), z_lo_toward_zero, TAIL_SCALE);
        let e = e_scaled * R::c(TAIL_UNSCALE);
        // Far below 0, log1p(e) = e to 2^-60: e/beta from the scaled e, rounded once. One division for
        // both branches: the numerator is selected first.
        let far = z < R::c(-FAR_TAIL);
        let num = select(far, e_scaled, select(z > zero, z, zero) + log1p(e));
        let q = num / beta;
        let soft = select(far, q * R::c(TAIL_UNSCALE), q);
        select(z > threshold, x, soft)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, p: Params<R>) -> R {
        let (z, z_lo) = two_prod(p[0], x);
        let (s, s_neg) = sigmoid_pair(z);
        // sigmoid(z + lo) = s + s·(1 - s)·lo to first order.
        select(z > p[1], R::c(1.0), (s * s_neg).mul_add(z_lo, s))
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, p: Params<R>) -> R {
        // -expm1(-(z + lo)) = -expm1(-z) + e^-z·lo with beta·y = z + lo exactly (a rounded z would cost
        // |z| ULP where e^-z is large).
        let (z, z_lo) = two_prod(p[0], y);
        let em1 = expm1(-z);
        let corrected = select(
            em1.is_infinite(),
            -em1,
            (em1 + R::c(1.0)).mul_add(z_lo, -em1),
        );
        select(z > p[1], R::c(1.0), corrected)
    }
}

/// min(x, 0) - log1p(exp(-|x|)) = -softplus(-x).
pub struct LogSigmoid;
impl Kernel for LogSigmoid {
    const PROMOTE: bool = false;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        let zero = R::c(0.0);
        select(x < zero, x, zero) - log1p(exp(-x.abs()))
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        sigmoid(-x)
    }
}

/// x if x > 0 else alpha·expm1(x). PyTorch's backward: alpha·exp(x) where x <= 0, else 1.
pub struct Elu;
impl Kernel for Elu {
    const PROMOTE: bool = false;
    const FROM_OUTPUT: bool = true;
    const CAREFUL: u8 = 0b10;
    fn careful_free<R: Real>(mode: u8, p: Params<f64>) -> (f64, f64) {
        scaled_exp_tail_free::<R>(mode, p[0])
    }
    #[inline(always)]
    fn careful<R: Real>(mode: u8, x: R, p: Params<R>) -> (R, bool) {
        if R::IS_F64 || mode != 1 {
            return fast_as_careful::<Self, R>(mode, x, p);
        }
        scaled_exp_tail_careful(x, p[0], R::c(1.0))
    }
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        select(x > R::c(0.0), x, p[0] * expm1(x))
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, p: Params<R>) -> R {
        // alpha·e^x with e^x kept normal until the product (one rounding in the subnormal range).
        select(
            x <= R::c(0.0),
            (p[0] * exp_scaled(x, TAIL_SCALE)) * R::c(TAIL_UNSCALE),
            R::c(1.0),
        )
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, p: Params<R>) -> R {
        select(y <= R::c(0.0), y + p[0], R::c(1.0))
    }
}

/// The careful-free range of a derivative c·e^x (x <= 0) computed as (c·(e^x·2^TAIL_SCALE))·2^-TAIL_SCALE
/// (elu, selu): f32 only, above x = -87.3 - ln c (the result normal) and -131 (the scaled e^x normal). The
/// careful variant clamps x at -130, where c·e^x rounds to 0 only for c < 2^36: beyond, no careful blocks.
fn scaled_exp_tail_free<R: Real>(mode: u8, c: f64) -> (f64, f64) {
    if R::IS_F64 || mode != 1 || !(c > 0.0 && c < 6.8e10) {
        return (f64::NEG_INFINITY, f64::INFINITY);
    }
    ((-87.0 - c.ln()).max(-130.0), f64::INFINITY)
}

/// The careful f32 derivative c·e^x (x <= 0), `above` (x > 0), of `scaled_exp_tail_free`: x clamped at
/// -130, the product c·(e^x·2^TAIL_SCALE) left scaled; the same bits as the fast formula's.
#[inline(always)]
fn scaled_exp_tail_careful<R: Real>(x: R, c: R, above: R) -> (R, bool) {
    let tail = x <= R::c(0.0);
    let xc = if x < R::c(-130.0) { R::c(-130.0) } else { x };
    (select(tail, c * exp_scaled(xc, TAIL_SCALE), above), tail)
}

/// x/d as hi + lo: a rounded quotient would cost |x/d| ULP in the exponential (x/alpha = -70 in f32: 40 ULP).
#[inline(always)]
fn quotient<R: Real>(x: R, d: R) -> (R, R) {
    let q = x / d;
    let rem = (-q).mul_add(d, x); // exact remainder
    (
        q,
        if q.abs() < R::INFINITY {
            rem / d
        } else {
            R::c(0.0)
        },
    )
}

/// max(0, x) + min(0, alpha·expm1(x/alpha)).
pub struct Celu;
impl Kernel for Celu {
    const PROMOTE: bool = false;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        let (t, t_lo) = quotient(x, p[0]);
        // expm1(t + lo) = expm1(t) + e^t·lo; no correction where it is 0 (keeps -0.0) or e is infinite.
        let e = expm1(t);
        let corrected = select(
            t_lo == R::c(0.0) || e.is_infinite(),
            e,
            (e + R::c(1.0)).mul_add(t_lo, e),
        );
        // For |t| below a quarter ULP of 1, alpha·expm1(t) = x·(1 + t/2 + ...) rounds to x; computing it
        // would round t twice where t is subnormal.
        let tiny = if R::IS_F64 {
            2f64.powi(-55)
        } else {
            2f64.powi(-26)
        };
        let negative = select(t.abs() < R::c(tiny), x, p[0] * corrected);
        select(x > R::c(0.0), x, negative)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, p: Params<R>) -> R {
        let (t, t_lo) = quotient(x, p[0]);
        let e = exp(t);
        let corrected = select(t_lo == R::c(0.0) || e.is_infinite(), e, e.mul_add(t_lo, e));
        select(x <= R::c(0.0), corrected, R::c(1.0))
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, p: Params<R>) -> R {
        // (y + alpha)/alpha, not y/alpha + 1: as y -> -alpha the sum is exact (Sterbenz), so only the
        // division rounds.
        select(y <= R::c(0.0), (y + p[0]) / p[0], R::c(1.0))
    }
}

// SELU's constants (Klambauer et al., 2017): scale as PyTorch spells it, and scale·alpha with
// alpha = 1.6732632423543772848170429916717, the exact product 1.7580993408473768599402175208123
// (mpmath) rounded once, plus the remainder for exact sums.
const SELU_SCALE: f64 = 1.050_700_987_355_480_493_419_334_985_294_6;
const SELU_SCALE_LO: f64 = 3.987_484_766_715_414_4e-17; // the decimal minus SELU_SCALE as f64 (mpmath)
const SELU_SCALE_ALPHA: f64 = 1.758_099_340_847_376_8;
const SELU_SCALE_ALPHA_LO: f64 = 1.415_351_938_008_45e-17;

/// scale·(x if x > 0 else alpha·expm1(x)).
pub struct Selu;
impl Kernel for Selu {
    const PROMOTE: bool = false;
    const FROM_OUTPUT: bool = true;
    const CAREFUL: u8 = 0b10;
    fn careful_free<R: Real>(mode: u8, _p: Params<f64>) -> (f64, f64) {
        scaled_exp_tail_free::<R>(mode, SELU_SCALE_ALPHA)
    }
    #[inline(always)]
    fn careful<R: Real>(mode: u8, x: R, p: Params<R>) -> (R, bool) {
        if R::IS_F64 || mode != 1 {
            return fast_as_careful::<Self, R>(mode, x, p);
        }
        scaled_exp_tail_careful(x, R::c(SELU_SCALE_ALPHA), R::c(SELU_SCALE))
    }
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        // scale·x with scale as hi + lo in one rounding: a rounded-up f32 scale would overflow to inf for
        // x > 3.24e38, where the exact product still rounds to the largest float.
        let hi = R::c(SELU_SCALE);
        let lo = R::c(SELU_SCALE - hi.to_f64() + SELU_SCALE_LO);
        select(
            x > R::c(0.0),
            select(x.is_infinite(), x, x.mul_add(hi, x * lo)), // inf·lo could be -inf
            R::c(SELU_SCALE_ALPHA) * expm1(x),
        )
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        let tail = (R::c(SELU_SCALE_ALPHA) * exp_scaled(x, TAIL_SCALE)) * R::c(TAIL_UNSCALE);
        select(x <= R::c(0.0), tail, R::c(SELU_SCALE))
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, _p: Params<R>) -> R {
        // y + scale·alpha cancels as y -> -scale·alpha: add the constant as hi + lo, so the sum is exact
        // to the last bit (y + hi is exact there by Sterbenz's lemma).
        let hi = R::c(SELU_SCALE_ALPHA);
        let lo = R::c(SELU_SCALE_ALPHA - hi.to_f64() + SELU_SCALE_ALPHA_LO);
        select(y <= R::c(0.0), (y + hi) + lo, R::c(SELU_SCALE))
    }
}

/// Pieces of mish from e = exp(-|x|), without cancellation: (tanh(softplus(x))·f, 1 - tanh(softplus(x))²,
/// sigmoid(x)·f, 1/f), with f = 2^TAIL_SCALE for x <= 0 (see `sigmoid_tail_scaled`) and 1 otherwise.
#[inline(always)]
fn mish_parts<R: Real>(x: R) -> (R, R, R, R) {
    let one = R::c(1.0);
    let two = R::c(2.0);
    let e_scaled = exp_scaled(-x.abs(), TAIL_SCALE);
    let e = e_scaled * R::c(TAIL_UNSCALE);
    // x > 0: tanh(sp) = (1 + 2e)/(1 + 2e + 2e²), 1 - tanh² = 4e²(1+e)²/(1 + 2e + 2e²)².
    let den = two * e * (one + e) + one;
    let t_pos = (two * e + one) / den;
    let half_sech = two * e * (one + e) / den;
    let sech2_pos = half_sech * half_sech;
    // x <= 0: with n = e(e + 2), tanh(sp) = n/(n + 2).
    let n = e.mul_add(e, two * e);
    let t_neg_scaled = e_scaled.mul_add(e, two * e_scaled) / (n + two);
    let t_neg = t_neg_scaled * R::c(TAIL_UNSCALE);
    let sech2_neg = (one - t_neg) * (one + t_neg);
    let inv = one / (one + e);
    let positive = x > R::c(0.0);
    (
        select(positive, t_pos, t_neg_scaled),
        select(positive, sech2_pos, sech2_neg),
        select(positive, inv, e_scaled * inv),
        select(positive, one, R::c(TAIL_UNSCALE)),
    )
}

/// x·tanh(softplus(x)).
pub struct Mish;
impl Kernel for Mish {
    const PROMOTE: bool = false;
    // The derivative cancels near its zero crossing (f32: up to 8 ULP): computed in f64.
    const PROMOTE_DERIVATIVE: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        let xc = x.clamp_nan(R::c(-SATURATED), R::INFINITY);
        let (t, _, _, unscale) = mish_parts(xc);
        (xc * t) * unscale
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        let xc = x.clamp_nan(R::c(-SATURATED), R::c(SATURATED));
        if R::IS_F64 && !R::PRECISE {
            return mish_derivative_promoted(xc);
        }
        let (t, sech2, sigmoid, unscale) = mish_parts(xc);
        (xc * sigmoid).mul_add(sech2, t) * unscale
    }
}

/// mish'(x) = tanh(sp) + x·sigmoid(x)·sech²(sp) as one quotient, for the float32 derivative computed in
/// f64 (`Lean64`: f64's range keeps float32's subnormal results normal, so no scaling), with e = exp(-|x|):
/// - x > 0: [(1 + 2e)·d + 4x·e²(1 + e)]/d², d = 1 + 2e(1 + e);
/// - x <= 0: [n(n + 2) + 4x·e(1 + e)]/(n + 2)², n = e(e + 2) (then (1 + e)² = n + 1).
///
/// One division where `mish_parts` takes four. Near the zero crossing (x ≈ -1.19) the numerator cancels, as
/// the sum of the terms does in any form; f64's margin keeps the float32 result within the table's bound.
#[inline(always)]
fn mish_derivative_promoted<R: Real>(x: R) -> R {
    let (one, two, four) = (R::c(1.0), R::c(2.0), R::c(4.0));
    let e = exp_scaled(-x.abs(), 0);
    let four_x_e = four * x * e;
    let one_e = one + e;
    let d = (two * e).mul_add(one_e, one);
    let n = e.mul_add(e, two * e);
    let positive = x > R::c(0.0);
    let num_pos = two.mul_add(e, one).mul_add(d, four_x_e * e * one_e);
    let num_neg = n.mul_add(n + two, four_x_e * one_e);
    let den = select(positive, d, n + two);
    select(positive, num_pos, num_neg) / (den * den)
}
