//! The Gaussian building blocks erf, erfc, ndtr (the normal CDF) and log_ndtr, and logit (the inverse of
//! the sigmoid). The float32 erf computes in f32 (a central fit and a short tail fit, 0.90 ULP over all
//! f32 inputs); the other Gaussian ones, and every derivative, promote f32 to f64 and round once at the end,
//! taking the f32 GELU's fitted polynomials (about a third of the work of the general erfcx, under 0.7 ULP
//! over all f32 inputs); f64 takes the erfcx path. All take x² exactly wherever exp(-x²) enters, so the
//! tails keep full relative accuracy.

use super::gaussian::f32_gelu::{CENTRAL, K, MILLS, P, TAIL_MAX};
use super::{select, Kernel, Params};
use crate::math::exp_scaled;
use crate::math::{
    erf, erfc, erfcx_nonneg, exp_neg_square_scaled, exp_split_factors, gauss_scaled, log, log1p,
    log1p_or_log, normal_cdf_pdf_scaled, two_prod, TAIL_SCALE, TAIL_UNSCALE, TWO_OVER_SQRT_PI,
};
use crate::real::{horner, horner_split, Real};

/// Beyond |x| = 28, exp(-x²) underflows to 0 in f64; beyond 40 the normal CDF has saturated.
const ERF_SATURATED: f64 = 28.0;
const GAUSS_SATURATED: f64 = 40.0;
/// 1/sqrt(2π) and sqrt(2/π), rounded (mpmath).
const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;

// f32 results (R = Lean64, f64 arithmetic that only needs f32 accuracy) take the f32 GELU's fits
// (scripts/fit_gelu_f32.py) instead of the general erfcx: Phi(x) = 1/2 + x·P(x²) for |x| < CENTRAL (relative
// error 2.4e-9) and Phi(-a) = exp(-a²/2)·MILLS(t), t = (a - K)/(a + K), for a in [CENTRAL, TAIL_MAX] (5.5e-9,
// under 0.1 ULP of f32), about a third of the operations. f64 keeps the erfcx path.

/// Phi(-a)·2^TAIL_SCALE for a in [CENTRAL, TAIL_MAX] (clamped), exp's argument -a²/2 given exactly as
/// `half_square` (the caller's x² or x²/2, exact in f64 for f32 x): (the scaled tail, MILLS(a)).
#[inline(always)]
fn lean_tail<R: Real>(a: R, half_square: R) -> (R, R) {
    let t = (a - R::c(K)) / (a + R::c(K));
    let mills = horner(t, &MILLS);
    (exp_scaled(-half_square, TAIL_SCALE) * mills, mills)
}

/// Phi(x) for f32 results (see above); NaN passes, ±inf give 1 and 0.
#[inline(always)]
fn lean_ndtr<R: Real>(x: R) -> R {
    let a = x.abs().clamp_nan(R::c(CENTRAL), R::c(TAIL_MAX));
    let (tail_scaled, _) = lean_tail(a, R::c(0.5) * a * a);
    let tail = tail_scaled * R::c(TAIL_UNSCALE);
    let central = x.mul_add(horner(x * x, &P), R::c(0.5));
    let far = select(x < R::c(0.0), tail, R::c(1.0) - tail);
    select(x.abs() < R::c(CENTRAL), central, far)
}

/// Phi(-a)·exp(a²/2) for a >= 1 (clamped; NaN passes): MILLS up to TAIL_MAX, beyond it the asymptotic
/// series (1/(a·sqrt(2π)))·(1 - 1/a² + 3/a⁴ - 15/a⁶ + 105/a⁸), whose relative error there is below 1e-8
/// (+inf -> 0).
#[inline(always)]
fn lean_mills<R: Real>(a: R) -> R {
    let one = R::c(1.0);
    let near = a.clamp_nan(one, R::c(TAIL_MAX));
    let t = (near - R::c(K)) / (near + R::c(K));
    let far_a = select(a > R::c(TAIL_MAX), a, R::c(TAIL_MAX));
    let w = one / (far_a * far_a);
    let series = horner(w, &[1.0, -1.0, 3.0, -15.0, 105.0]);
    let far = series * (R::c(INV_SQRT_2PI) / far_a);
    select(a > R::c(TAIL_MAX), far, horner(t, &MILLS))
}

/// (erf(|x|)'s central value 2·y·P(y²) with y = x·sqrt 2, 2·Phi(-|x|·sqrt 2)·2^TAIL_SCALE, whether central)
/// for f32 results: erf = 2·Phi(x·sqrt 2) - 1 without the cancellation.
#[inline(always)]
fn lean_erf_parts<R: Real>(x: R) -> (R, R, bool) {
    let y = x * R::c(core::f64::consts::SQRT_2);
    let a = y.abs().clamp_nan(R::c(CENTRAL), R::c(TAIL_MAX));
    // a²/2 = x² exactly where a = |x|·sqrt 2 (not clamped); the clamped bound's own square otherwise.
    let half_square = select(y.abs() > R::c(TAIL_MAX), R::c(0.5) * a * a, x * x);
    let (tail_scaled, _) = lean_tail(a, half_square);
    let central = R::c(2.0) * y * horner(R::c(2.0) * (x * x), &P);
    (central, R::c(2.0) * tail_scaled, y.abs() < R::c(CENTRAL))
}

/// (2/sqrt(π))·exp(-x²), rounded once even where it is subnormal.
#[inline(always)]
fn erf_derivative<R: Real>(x: R) -> R {
    let xc = x.clamp_nan(R::c(-ERF_SATURATED), R::c(ERF_SATURATED));
    let e = exp_neg_square_scaled(xc, TAIL_SCALE);
    e.mul_add(R::c(TWO_OVER_SQRT_PI.0), e * R::c(TWO_OVER_SQRT_PI.1)) * R::c(TAIL_UNSCALE)
}

/// erf(x)/x in s = x², |x| < F32_ERF_CENTRAL (s < 0.5625): max relative error 1.6e-9 (0.03 ULP),
/// E(0) = 2/sqrt(π) exactly (scripts/fit_erf_f32.py).
const ERF_CENTRAL: [f64; 6] = [
    core::f64::consts::FRAC_2_SQRT_PI,
    -0.3761262473682896,
    0.11283437037086075,
    -0.02683709594988834,
    0.005118749294789098,
    -0.0006778003856931086,
];
/// Below |x| = 0.75 the f32 erf takes the polynomial (where its Horner sum, not damped by s, starts to cost
/// more than the tail's rounding); above, 1 - erfc, erfc <= 0.29.
const F32_ERF_CENTRAL: f64 = 0.75;
/// Beyond |x| = 4.5, erfc(x) < 2^-31 and erf(x) rounds to ±1 in f32: the f32 path clamps there, which also
/// keeps the tail's exponential normal.
const F32_ERF_SATURATED: f64 = 4.5;

/// Q(a) = 1 + ln(erfc(a))/a for a in [F32_ERF_CENTRAL, F32_ERF_SATURATED], monomial in a, fitted for the
/// error it makes in erf = 1 - exp(a·(Q(a) - 1)) (scripts/fit_erf_f32.py --tail): 0.05 ULP of erf with the
/// coefficients rounded to f32.
const ERF_LOG_TAIL: [f64; 7] = [
    -0.12856088369244525,
    -0.6355261210113201,
    -0.10558567982189045,
    0.023174532417576024,
    -0.0033523653816447366,
    0.00024852405958536677,
    -3.5280521954780913e-06,
];

/// erf in f32 arithmetic. With a = |x|:
/// - central, a < 0.75: x·E(x²) as fma(x, E_0, x·rest), E_0 + rest from `horner_split`, rounding about once;
/// - tail, a >= 0.75: erf(a) = 1 - erfc(a), erfc(a) = exp(a·Q(a) - a) (`ERF_LOG_TAIL`; the same form as
///   njuffa's faithfully rounded erff, which ONNX Runtime's MLAS uses), with the argument as hi + lo (the lo
///   exact while -a - hi is, a <= 1.2, where erfc is large enough for the argument's rounding to show) and
///   exp's 2^k·(1 + r·q) folded into 1 - erfc = (1 - 2^k) - (2^k·r)·q: both brackets exact, one rounding.
///
/// No division, and no exact a² (the Mills-ratio form before it took both).
#[inline(always)]
fn f32_erf<R: Real>(x: R) -> R {
    let xc = x.clamp_nan(R::c(-F32_ERF_SATURATED), R::c(F32_ERF_SATURATED));
    let a = xc.abs();
    // erfc(a) = exp(a·Q(a) - a) = (1 + r·q)·s, s = 2^k: 1 - erfc = (1 - s) - (s·r)·q, with s·r exact and
    // 1 - s exact while erfc shows in the result (k >= -24).
    let big_q = horner(a, &ERF_LOG_TAIL);
    let arg = big_q.mul_add(a, -a);
    let arg_lo = big_q.mul_add(a, -a - arg);
    let (r, q, s) = exp_split_factors(arg, arg_lo, 0);
    let tail = (-(s * r)).mul_add(q, R::c(1.0) - s).copysign(xc);
    let (e_hi, e_rest) = horner_split(xc * xc, &ERF_CENTRAL);
    // Odd: the sign of x, -0.0 included (x·e_rest may be +0.0 there). x is scaled by 2^32 (exactly; only
    // lanes below 0.75 are used) so that x·e_rest does not lose bits to underflow near the smallest normals.
    let xs = xc * R::c(4_294_967_296.0);
    let central = (xs.mul_add(e_hi, xs * e_rest) * R::c(1.0 / 4_294_967_296.0)).copysign(xc);
    select(a < R::c(F32_ERF_CENTRAL), central, tail)
}

/// The error function.
pub struct Erf;
impl Kernel for Erf {
    const PROMOTE: bool = false;
    const PROMOTE_DERIVATIVE: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        if !R::IS_F64 {
            return f32_erf(x);
        }
        erf(x)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        erf_derivative(x)
    }
}

/// The complementary error function 1 - erf(x), without the cancellation for x >> 0.
pub struct Erfc;
impl Kernel for Erfc {
    const PROMOTE: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        if !R::PRECISE {
            let (central, tail2_scaled, is_central) = lean_erf_parts(x);
            let tail2 = tail2_scaled * R::c(TAIL_UNSCALE);
            let far = select(x < R::c(0.0), R::c(2.0) - tail2, tail2);
            return select(is_central, R::c(1.0) - central, far);
        }
        erfc(x)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        -erf_derivative(x)
    }
}

/// The standard normal CDF Phi(x) = erfc(-x/sqrt 2)/2.
pub struct Ndtr;
impl Kernel for Ndtr {
    const PROMOTE: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        if !R::PRECISE {
            return lean_ndtr(x);
        }
        // Times 2^TAIL_SCALE, so that subnormal tails round once; Phi is 1 above 40 and 0 below -40.
        let xc = x.clamp_nan(R::c(-GAUSS_SATURATED), R::c(GAUSS_SATURATED));
        normal_cdf_pdf_scaled(xc, TAIL_SCALE).0 * R::c(TAIL_UNSCALE)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        let xc = x.clamp_nan(R::c(-GAUSS_SATURATED), R::c(GAUSS_SATURATED));
        (gauss_scaled(xc, TAIL_SCALE) * R::c(INV_SQRT_2PI)) * R::c(TAIL_UNSCALE)
    }
}

/// log Phi(x). For x >= -1, log1p(-Phi(-x)) (Phi(-x) <= 0.85, accurate in the right tail, where the result is
/// -Phi(-x)); below, -x²/2 + log(erfcx(|x|/sqrt 2)/2) with x² exact, so the far left tail, ~ -x²/2, keeps
/// full relative accuracy.
pub struct LogNdtr;
impl Kernel for LogNdtr {
    const PROMOTE: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        let minus_one = R::c(-1.0);
        if !R::PRECISE {
            // Left of -1: -x²/2 (exact) + log(MILLS(-x)); right: log1p(-Phi(-x)), = -Phi(-x) where tiny.
            let left = (R::c(-0.5) * (x * x)) + log(lean_mills(-x));
            let right = log1p(-lean_ndtr(-x.clamp_nan(minus_one, R::INFINITY)));
            return select(x < minus_one, left, right);
        }
        // Right of -1 (NaN passes): Phi(-x) times 2^TAIL_SCALE; where it is below 2^-60 the result is -Phi(-x)
        // itself, scaled back with one rounding.
        let xr = x.clamp_nan(minus_one, R::c(GAUSS_SATURATED));
        let t_scaled = normal_cdf_pdf_scaled(-xr, TAIL_SCALE).0;
        let t = t_scaled * R::c(TAIL_UNSCALE);
        let right = select(
            t < R::c(2f64.powi(-60)),
            -t_scaled * R::c(TAIL_UNSCALE),
            log1p(-t),
        );
        // Left of -1: log(erfcx(z)/2), z = |x|/sqrt 2, minus x²/2 taken as hi + lo.
        let xl = select(x < minus_one, x, minus_one);
        let (h, l) = two_prod(xl, xl);
        let z = xl.abs() * R::c(core::f64::consts::FRAC_1_SQRT_2);
        let tail_log = log(R::c(0.5) * erfcx_nonneg(z));
        let left = select(
            h.is_infinite(),
            -R::INFINITY,
            h.mul_add(R::c(-0.5), tail_log + l * R::c(-0.5)),
        );
        select(x < minus_one, left, right)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        // phi(x)/Phi(x): for x < -1, sqrt(2/π)/erfcx(|x|/sqrt 2) (the exponentials cancel; -> +inf at -inf);
        // otherwise the quotient itself, Phi(x) >= 0.158, phi kept scaled so its subnormal tail rounds once.
        let minus_one = R::c(-1.0);
        if !R::PRECISE {
            let left = R::c(1.0) / (R::c(1.0 / INV_SQRT_2PI) * lean_mills(-x));
            let xr = x.clamp_nan(minus_one, R::c(GAUSS_SATURATED));
            let pdf = gauss_scaled(xr, 0) * R::c(INV_SQRT_2PI);
            let right = select(x > R::c(GAUSS_SATURATED), R::c(0.0), pdf / lean_ndtr(xr));
            return select(x < minus_one, left, right);
        }
        let xl = select(x < minus_one, x, minus_one);
        let z = xl.abs() * R::c(core::f64::consts::FRAC_1_SQRT_2);
        let left = R::c(SQRT_2_OVER_PI) / erfcx_nonneg(z);
        let xr = x.clamp_nan(minus_one, R::c(GAUSS_SATURATED));
        let (cdf, pdf) = normal_cdf_pdf_scaled(xr, TAIL_SCALE);
        let right = pdf / cdf; // both carry 2^TAIL_SCALE
        let right = select(x > R::c(GAUSS_SATURATED), R::c(0.0), right);
        select(x < minus_one, left, right)
    }
}

/// log(x/(1 - x)), on x clamped to [eps, 1 - eps] when eps >= 0 (PyTorch's logit; eps < 0 stands for
/// eps=None, no clamping). Computed in the input's precision, so that 1 - eps rounds as PyTorch rounds it
/// and clamped inputs give PyTorch's values.
pub struct Logit;
impl Kernel for Logit {
    const PROMOTE: bool = false;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        let eps = p[0];
        let one = R::c(1.0);
        let xc = select(eps >= R::c(0.0), x.clamp_nan(eps, one - eps), x);
        // From 1/4 up, 2x - 1 is exact and log1p((2x - 1)/(1 - x)) keeps full relative accuracy through the
        // zero at x = 1/2; 1 - x is carried as d + d_lo (Fast2Sum, exact) and the quotient corrected once, as
        // log1p amplifies its error by up to 1.6 there. Below 1/4 the result is below log(1/3) and
        // log(x/(1 - x)) loses nothing.
        let d = one - xc;
        let d_lo = (one - d) - xc;
        let n = R::c(2.0) * xc - one;
        // One reciprocal serves both quotients; each is corrected once from its exact residual (an fma), so
        // it rounds about as a division would (one division where three cost a third of the time).
        let r = one / d;
        let q0 = n * r;
        // (not at x = 1, where q = +inf and the correction would be NaN)
        let q = select(
            d == R::c(0.0),
            q0,
            ((-q0).mul_add(d, n) - q0 * d_lo).mul_add(r, q0),
        );
        let z0 = xc * r;
        let z = (-z0).mul_add(d, xc).mul_add(r, z0);
        log1p_or_log(xc >= R::c(0.25), q, z)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, p: Params<R>) -> R {
        // 1/(x(1 - x)); 0 outside [eps, 1 - eps] with eps, NaN outside [0, 1] without (PyTorch's
        // logit_backward).
        let eps = p[0];
        let one = R::c(1.0);
        let zero = R::c(0.0);
        // x(1 - x) with 1 - x = d + d_lo exactly (Fast2Sum) and the product as p + p_lo, then one correction
        // of the reciprocal: a plain 1/(x·(1 - x)) rounds three times (up to 2 ULP in f32).
        let d = one - x;
        let d_lo = (one - d) - x;
        let prod = x * d;
        let prod_lo = x.mul_add(d, -prod) + x * d_lo;
        let r = one / prod;
        let value = select(
            r.is_infinite() || r == zero,
            r,
            r.mul_add((-prod).mul_add(r, one) - prod_lo * r, r),
        );
        let clamped = eps >= zero;
        let (lo, hi) = (select(clamped, eps, zero), select(clamped, one - eps, one));
        let outside = x < lo || x > hi;
        select(outside, select(clamped, zero, R::NAN), value)
    }
}
