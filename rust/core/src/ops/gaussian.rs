//! GELU in its exact (normal CDF), tanh and sigmoid forms. f64 takes x² exactly in the normal tail; the
//! exact form's f32 kernel has its own polynomials (`f32_gelu`); the tanh form carries its argument as
//! hi + lo in both precisions (its f32 derivative computes in f64: see PROMOTE_DERIVATIVE); the sigmoid form
//! carries 1.702·x as hi + lo and computes f32 in f64.

use super::{f32_careful_free, fast_as_careful, select, Kernel, Params};
use crate::math::{
    exp_split, exp_split_scaled, normal_cdf_pdf_scaled, sigmoid_pair, sigmoid_tail_scaled,
    two_prod, two_prod_finite, two_sum, unscale_tail_signed, TAIL_SCALE, TAIL_UNSCALE,
};
use crate::real::{horner, horner_split, Real};

/// Beyond |x| = 40 the normal CDF is 0 or 1 in f64 and the density underflows.
const GAUSS_SATURATED: f64 = 40.0;

/// x·Phi(x), Phi the standard normal CDF (erfc-based: no 1 + erf cancellation for x << 0).
pub struct Gelu;
impl Kernel for Gelu {
    const PROMOTE: bool = false;
    const CAREFUL: u8 = 0b01;
    fn careful_free<R: Real>(mode: u8, _p: Params<f64>) -> (f64, f64) {
        // The f32 tail e·N is normal for |x| below 13.2.
        f32_careful_free::<R>(mode, 0, 13.0)
    }
    #[inline(always)]
    fn careful<R: Real>(mode: u8, x: R, p: Params<R>) -> (R, bool) {
        if R::IS_F64 || mode != 0 {
            return fast_as_careful::<Self, R>(mode, x, p);
        }
        f32_gelu::forward_careful(x)
    }
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        if !R::IS_F64 {
            return f32_gelu::forward(x);
        }
        // Phi is computed times 2^TAIL_SCALE so that x·Phi(x) rounds once even where Phi is subnormal.
        let xc = x.clamp_nan(R::c(-GAUSS_SATURATED), R::c(GAUSS_SATURATED));
        let y = (xc * normal_cdf_pdf_scaled(xc, TAIL_SCALE).0) * R::c(TAIL_UNSCALE);
        select(x > R::c(GAUSS_SATURATED), x, y)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        if !R::IS_F64 {
            return f32_gelu::derivative(x);
        }
        let xc = x.clamp_nan(R::c(-GAUSS_SATURATED), R::c(GAUSS_SATURATED));
        let (cdf, pdf) = normal_cdf_pdf_scaled(xc, TAIL_SCALE);
        xc.mul_add(pdf, cdf) * R::c(TAIL_UNSCALE)
    }
}

/// The exact GELU in f32 arithmetic. With a = |x|:
/// - central, a < CENTRAL: Phi(x) = 1/2 + x·P(x²), so gelu(x) = x·(1/2 + x·P(x²));
/// - tail: a·Phi(-a) = e·N(a), e = exp(-a²/2) (a² as hi + lo, the lo folded into exp's reduced argument,
///   times 2^TAIL_SCALE so that subnormal results round once) and N a polynomial in t = (a - K)/(a + K);
///   gelu(x) = -e·N(a) for x < 0 and x - e·N(a) for x > 0 (gelu(x) - gelu(-x) = x).
///
/// The derivative Phi(x) + x·phi(x) is 1/2 + x·Q(x²) in the centre and, in the tail,
/// -e·g for x < 0 and 1 + e·g for x > 0, g = a/sqrt(2π) - MILLS(a), MILLS(a) = Phi(-a)·exp(a²/2) a second
/// polynomial in t. Coefficients: scripts/fit_gelu_f32.py.
pub(super) mod f32_gelu {
    use super::*;

    pub const CENTRAL: f64 = 0.75;
    /// The tails' map constant: t = (a - K)/(a + K). a - K is exact for every a >= K/2 = 0.75 (the result
    /// is no larger than a), so t rounds once; 1.5 fits the tails in eleven terms where 1 took twelve.
    pub const K: f64 = 1.5;
    /// Inputs are clamped to ±TAIL_MAX: there gelu is x or -0.0 in f32 and N's fit ends (a·Phi(-a) is below
    /// half the smallest subnormal from a = 14.9). It also keeps -a²/2 in exp's narrow range.
    pub const TAIL_MAX: f64 = 15.0;
    const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

    /// (Phi(x) - 1/2)/x in s = x², |x| < 0.75: max relative error 2.4e-9.
    pub const P: [f64; 5] = [
        0.398_942_279_441_667_5,
        -0.066_490_295_102_498_28,
        0.009_972_349_873_715_612,
        -0.001_181_287_204_957_638_8,
        0.000_102_942_262_479_783_34,
    ];
    /// (Phi(x) - 1/2)/x + phi(x) in s = x², |x| < 0.75: max relative error 1.5e-8.
    const Q: [f64; 5] = [
        0.797_884_548_988_146_5,
        -0.265_960_490_269_240_5,
        0.059_826_845_216_361_38,
        -0.009_426_480_188_478_687,
        0.001_005_420_451_430_607_7,
    ];
    /// a·Phi(-a)·exp(a²/2) in t = (a - K)/(a + K), a in [0.75, 15]: max relative error 1.8e-9.
    const N: [f64; 11] = [
        0.308_671_000_539_052_1,
        0.211_121_229_625_129_05,
        -0.126_297_506_025_769_53,
        -0.019_797_818_487_073_415,
        0.017_768_803_439_771_975,
        0.010_785_943_747_197_109,
        0.000_786_757_628_626_013_6,
        -0.002_367_369_899_554_728_3,
        -0.002_080_549_674_238_516,
        -0.000_896_822_690_224_102_7,
        0.001_252_596_485_902_565_7,
    ];
    /// Phi(-a)·exp(a²/2) = N(a)/a in the same t: max relative error 5.5e-9.
    pub const MILLS: [f64; 11] = [
        0.205_780_666_269_047_98,
        -0.270_813_856_501_495_2,
        0.045_868_195_198_684_44,
        0.025_132_015_771_914_06,
        -9.355_709_925_373_721e-05,
        -0.004_560_790_735_156_415,
        -0.002_035_048_619_316_536_2,
        -0.000_183_899_187_981_583_98,
        0.000_186_643_368_325_981_86,
        0.001_308_463_296_661_494_1,
        -0.000_588_372_324_490_741_6,
    ];

    /// x clamped, a = |x|, t, exp(-x²/2)·2^TAIL_SCALE as scale·(1 + m), x² rounded.
    struct Parts<R> {
        xc: R,
        a: R,
        t: R,
        scale: R,
        m: R,
        h: R,
    }

    #[inline(always)]
    fn parts<R: Real>(x: R) -> Parts<R> {
        // NaN passes the clamp. Below CENTRAL the tail is computed but not used (t >= -1 stays finite).
        let xc = x.clamp_nan(R::c(-TAIL_MAX), R::c(TAIL_MAX));
        let a = xc.abs();
        let t = (a - R::c(K)) / (a + R::c(K));
        let (h, l) = two_prod_finite(xc, xc);
        let (m, scale) = exp_split_scaled(h, l, TAIL_SCALE, -0.5);
        Parts {
            xc,
            a,
            t,
            scale,
            m,
            h,
        }
    }

    /// The forward's pieces: (the tail e·N still scaled by 2^TAIL_SCALE, the central value, whether x is
    /// central). e·N = 2^k·(N + m·N) rounds once before the (exact or final) scalings.
    #[inline(always)]
    fn forward_pieces<R: Real>(x: R) -> (R, R, bool) {
        let Parts {
            xc,
            a,
            t,
            scale,
            m,
            h,
        } = parts(x);
        let n = horner(t, &N);
        // x·(1/2 + x·P): keeps gelu(-0.0) = -0.0, and is as accurate as x/2 + x²·P here.
        let central = xc * xc.mul_add(horner(h, &P), R::c(0.5));
        (m.mul_add(n, n) * scale, central, a < R::c(CENTRAL))
    }

    #[inline(always)]
    pub fn forward<R: Real>(x: R) -> R {
        let (tail_scaled, central, is_central) = forward_pieces(x);
        // x - e·N above 0, -0.0 - e·N below (one max and one subtraction for the two branches; a NaN x
        // gives a NaN tail). Beyond TAIL_MAX e·N rounds to 0: x - 0 is then x itself (+inf too), and -0.0 -
        // 0 is -0.0 below -TAIL_MAX.
        let positive_part = if x > R::c(-0.0) { x } else { R::c(-0.0) };
        let tail = positive_part - tail_scaled * R::c(TAIL_UNSCALE);
        select(is_central, central, tail)
    }

    /// `forward` for `Kernel::careful`: the tail e·N left scaled by 2^TAIL_SCALE, the driver's unscaling
    /// rounding it as the fast formula's last multiplication does (x < 0), or unscaled here without a
    /// floating-point operation (x > 0: x - tail, a subtraction, takes a subnormal operand at no cost).
    #[inline(always)]
    pub fn forward_careful<R: Real>(x: R) -> (R, bool) {
        let (tail_scaled, central, is_central) = forward_pieces(x);
        let negative = x < R::c(0.0);
        let positive_tail = x - unscale_tail_signed(tail_scaled, true);
        let tail = select(negative, -tail_scaled, positive_tail);
        (select(is_central, central, tail), negative & !is_central)
    }

    #[inline(always)]
    pub fn derivative<R: Real>(x: R) -> R {
        let Parts {
            xc,
            a,
            t,
            scale,
            m,
            h,
        } = parts(x);
        // a·phi(a) - Phi(-a) = e·g, g = a/sqrt(2π) - Phi(-a)·exp(a²/2): no division, and the polynomial's
        // error shrinks with Phi(-a)·exp(a²/2)/g where t's rounding would hurt (large a).
        let (mills_hi, mills_rest) = horner_split(t, &MILLS);
        let g = R::c(INV_SQRT_2PI).mul_add(a, -mills_hi) - mills_rest;
        let d = (m.mul_add(g, g) * scale) * R::c(TAIL_UNSCALE);
        let tail = select(xc < R::c(0.0), -d, R::c(1.0) + d);
        let central = xc.mul_add(horner(h, &Q), R::c(0.5));
        select(a < R::c(CENTRAL), central, tail)
    }
}

// 2·sqrt(2/π) and 0.044715 as hi + lo pairs (mpmath), so 2u is exact to ~2^-100 relative: in the tail
// sigmoid(2u) ~ exp(2u) turns an error of δ in 2u into a relative error of δ (|2u| ~ 700 costs 700 ULP).
const TWO_SQRT_2_OVER_PI: (f64, f64) = (1.595_769_121_605_730_8, -9.969_308_809_110_92e-17);
const CUBIC: (f64, f64) = (0.044_715, 2.196_021_142_708_559_5e-18);
const THREE_CUBIC: f64 = 0.134_145;
/// Below -30, x·sigmoid(2u) underflows in f64; above 30 it is x.
const TANH_FORM_SATURATED: f64 = 30.0;

/// A constant given as f64 hi + lo, re-split for R: hi rounded to R and the rest (folds at compile time).
#[inline(always)]
pub(super) fn split_const<R: Real>(c: (f64, f64)) -> (R, R) {
    let hi = R::c(c.0);
    (hi, R::c((c.0 - hi.to_f64()) + c.1))
}

/// 2u = 2·sqrt(2/π)·(x + 0.044715x³) as hi + lo, in R's own precision (f32 too: in the tail sigmoid(2u)
/// turns any error in 2u into a relative error of the result, |2u| ~ 100 there).
#[inline(always)]
fn two_u<R: Real>(x: R) -> (R, R) {
    let (k, k_lo) = split_const::<R>(CUBIC);
    let (c0, c0_lo) = split_const::<R>(TWO_SQRT_2_OVER_PI);
    let (x2, x2_lo) = two_prod(x, x);
    let (a, a_lo) = two_prod(k, x2);
    let a_lo = a_lo + k.mul_add(x2_lo, k_lo * x2);
    let (s, s_lo) = two_sum(R::c(1.0), a);
    let s_lo = s_lo + a_lo;
    let (c, c_lo) = two_prod(c0, x);
    let c_lo = c0_lo.mul_add(x, c_lo);
    let (u, u_lo) = two_prod(c, s);
    (u, c.mul_add(s_lo, c_lo.mul_add(s, u_lo)))
}

/// 0.5·x·(1 + tanh(u)), u = sqrt(2/π)(x + 0.044715x³), computed as x·sigmoid(2u) (no cancellation).
pub struct GeluTanh;
impl Kernel for GeluTanh {
    const PROMOTE: bool = false;
    // In f32 the derivative's two terms cancel over a wide range around its zero (x = -0.75): 9 ULP at
    // x = -1.13 with f32 arithmetic, 0.6 ULP computed in f64 (the speed of PyTorch's, not twice it).
    const PROMOTE_DERIVATIVE: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        if !R::IS_F64 {
            return f32_gelu_tanh_forward(x);
        }
        let xc = x.clamp_nan(R::c(-TANH_FORM_SATURATED), R::c(TANH_FORM_SATURATED));
        let (u, u_lo) = two_u(xc);
        let (s, s_neg, unscale) = sigmoid_tail_scaled(u);
        // sigmoid(u + lo) = s·(1 + sigmoid(-u)·lo) to first order.
        let y = (xc * (s * s_neg).mul_add(u_lo, s)) * unscale;
        select(
            x > R::c(TANH_FORM_SATURATED),
            x,
            select(x < R::c(-TANH_FORM_SATURATED), R::c(-0.0), y),
        )
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        let xc = x.clamp_nan(R::c(-TANH_FORM_SATURATED), R::c(TANH_FORM_SATURATED));
        if !R::PRECISE {
            // An f32 derivative computed in f64 (`Lean64`): the 29 spare bits absorb the rounding of a plain
            // 2u and of sigmoid, and f64's range holds every f32 result unscaled.
            let x2 = xc * xc;
            let two_u = (xc * R::c(TWO_SQRT_2_OVER_PI.0)) * R::c(CUBIC.0).mul_add(x2, R::c(1.0));
            let (s, s_neg) = sigmoid_pair(two_u);
            let two_du = R::c(TWO_SQRT_2_OVER_PI.0) * R::c(THREE_CUBIC).mul_add(x2, R::c(1.0));
            return (xc * s * s_neg).mul_add(two_du, s);
        }
        let (u, u_lo) = two_u(xc);
        let (s, s_neg, unscale) = sigmoid_tail_scaled(u);
        let s = (s * s_neg).mul_add(u_lo, s);
        let two_du = R::c(TWO_SQRT_2_OVER_PI.0) * R::c(THREE_CUBIC).mul_add(xc * xc, R::c(1.0));
        (xc * s * s_neg).mul_add(two_du, s) * unscale
    }
}

/// Beyond ±11 gelu_tanh(x) is x or -0.0 in f32 (|2u| > 112), and |2u| <= 113 keeps exp_split in range.
const F32_TANH_FORM_SATURATED: f64 = 11.0;

/// For f32: (x clamped, u < 0, e = exp(-|2u|) as 2^k·(1 + m) with 2u's low part in exp's reduced
/// argument, and 2^(k + TAIL_SCALE)).
#[inline(always)]
fn f32_tanh_form_parts<R: Real>(x: R) -> (R, bool, R, R) {
    let xc = x.clamp_nan(
        R::c(-F32_TANH_FORM_SATURATED),
        R::c(F32_TANH_FORM_SATURATED),
    );
    let (u, u_lo) = two_u(xc);
    let negative = u < R::c(0.0);
    let (m, scale) = exp_split(-u.abs(), select(negative, u_lo, -u_lo), TAIL_SCALE);
    (xc, negative, m, scale)
}

/// x·sigmoid(2u) in f32 as x·N/(1 + e), N = e for u < 0 (formed as 2^k·(x + x·m), one rounding) and 1
/// otherwise: three roundings in all where sigmoid, then a product, would take five.
#[inline(always)]
fn f32_gelu_tanh_forward<R: Real>(x: R) -> R {
    let (xc, negative, m, scale) = f32_tanh_form_parts(x);
    let e = (m + R::c(1.0)) * scale * R::c(TAIL_UNSCALE);
    // Beyond the clamp e rounds away against 1: x/1 is x itself above +11 (+inf too; NaN stays NaN, its u
    // not being negative), and below -11 the clamped x·e rounds to -0.0.
    let num = select(negative, xc.mul_add(m, xc) * scale, x);
    let unscale = select(negative, R::c(TAIL_UNSCALE), R::c(1.0));
    (num / (R::c(1.0) + e)) * unscale
}

/// The decimal 1.702 as hi + lo (mpmath): "quick GELU" is x·sigmoid(1.702·x) with that exact constant.
const QUICK: (f64, f64) = (1.702, 4.263_256_414_560_601e-17);

/// Pieces of x·sigmoid(z), z = 1.702·x, from e = exp(-|z|): z exactly as z + z_lo; exp(-|z + z_lo|) as
/// s·(1 + m)·2^-TAIL_SCALE (`exp_split`) and, unscaled, as e + e_lo; 1 + e as d + d_lo.
struct Quick<R> {
    xc: R,
    z: R,
    z_lo: R,
    negative: bool,
    s: R,
    m: R,
    e: R,
    e_lo: R,
    d: R,
    d_lo: R,
}

#[inline(always)]
fn quick<R: Real>(x: R) -> Quick<R> {
    // Beyond ±LIMIT the forward is x or -0.0 and the derivative 1 or 0 (f64: 442·e^-752.3 < 2^-1076;
    // f32: 75·e^-127.6 < 2^-177), and 2^(k + TAIL_SCALE) = s stays normal for |z| <= 1.702·LIMIT.
    let limit = if R::IS_F64 { 442.0 } else { 75.0 };
    let xc = x.clamp_nan(R::c(-limit), R::c(limit));
    let (c, c_lo) = split_const::<R>(QUICK);
    let (z, z_lo) = two_prod_finite(c, xc);
    let z_lo = c_lo.mul_add(xc, z_lo);
    let negative = z < R::c(0.0);
    // In the tail exp(-|z|) turns an error δ in z into a relative error δ: z_lo goes into exp's argument.
    let (m, s) = exp_split(-z.abs(), select(negative, z_lo, -z_lo), TAIL_SCALE);
    let su = s * R::c(TAIL_UNSCALE); // a power of two: exact
    let sm = su * m;
    let e = su + sm;
    let e_lo = (su - e) + sm; // Fast2Sum: |m| < 1/2
    let one = R::c(1.0);
    let d = one + e;
    let d_lo = ((one - d) + e) + e_lo; // Fast2Sum: 1 >= e
    Quick {
        xc,
        z,
        z_lo,
        negative,
        s,
        m,
        e,
        e_lo,
        d,
        d_lo,
    }
}

/// (n + n_lo)/(d + d_lo) for d in [1, 4]: n·(1/d), corrected once from the exact remainder (one division;
/// not where the remainder is 0: q + 0 would turn -0.0 into +0.0).
#[inline(always)]
fn quotient_dd<R: Real>(n: R, n_lo: R, d: R, d_lo: R) -> R {
    let inv = R::c(1.0) / d;
    let q = n * inv;
    let rem = (-q).mul_add(d, n) + (n_lo - q * d_lo);
    select(rem == R::c(0.0), q, rem.mul_add(inv, q))
}

/// x·sigmoid(1.702·x), "quick GELU" (the sigmoid approximation of GELU in Hendrycks and Gimpel's paper).
pub struct GeluSigmoid;
impl Kernel for GeluSigmoid {
    const PROMOTE: bool = false;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        // x/(1 + e) for x >= 0 and x·e/(1 + e) below, e = exp(-|z|): for x < 0 the numerator is
        // s·(x + x·m) (hi + lo, s applied last), 1 + e is hi + lo, and the quotient is corrected once.
        let q = quick(x);
        let n = q.xc.mul_add(q.m, q.xc);
        let n_lo = q.xc.mul_add(q.m, q.xc - n); // x - n is exact (Sterbenz: 1 + m in [0.7, 1.42])
        let y = quotient_dd(
            select(q.negative, n, q.xc),
            select(q.negative, n_lo, R::c(0.0)),
            q.d,
            q.d_lo,
        );
        // s·y is exact (a power of two, and s·y < 2^74), so a subnormal result rounds once more at most.
        let y = select(q.negative, (y * q.s) * R::c(TAIL_UNSCALE), y);
        select(x > q.xc, x, y)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        // d/dx x·sigmoid(z) = silu'(z) = sigmoid(z)·(1 + z·sigmoid(-z)), over the common denominator
        // (1 + e)² (as silu', ops/exponential.rs):
        //   x >= 0: ((1 + e) + z·e)/(1 + e)², all terms positive;
        //   x <  0: e·((1 + z) + e)/(1 + e)², which cancels only at the true zero crossing (z = -1.2785):
        //           (1 + z) + e + z_lo is carried as hi + lo, so only exp's error is left there.
        let q = quick(x);
        let one = R::c(1.0);
        let p = q.z.mul_add(q.e, q.d_lo + q.z.mul_add(q.e_lo, q.z_lo * q.e));
        let pos = q.d + p;
        let pos_lo = (q.d - pos) + p; // Fast2Sum: z·e <= 0.28 < 1 + e
        let (a, a_lo) = two_sum(one, q.z);
        let (t, t_lo) = two_sum(a, q.e);
        let t_lo = t_lo + ((a_lo + q.z_lo) + q.e_lo);
        let neg = t.mul_add(q.m, t);
        let neg_lo = t.mul_add(q.m, t - neg) + t_lo.mul_add(q.m, t_lo);
        let (sq, sq_lo) = two_prod_finite(q.d, q.d);
        let sq_lo = (R::c(2.0) * q.d).mul_add(q.d_lo, sq_lo);
        let g = quotient_dd(
            select(q.negative, neg, pos),
            select(q.negative, neg_lo, pos_lo),
            sq,
            sq_lo,
        );
        select(q.negative, (g * q.s) * R::c(TAIL_UNSCALE), g)
    }
}
