//! Vectorisable elementary functions, written once over [`Real`].
//!
//! Every function is `#[inline(always)]` so that it is compiled into the caller's `#[target_feature]`
//! trampoline, and branch-free so that LLVM vectorises the loop around it. The stated errors are for the
//! precision they are instantiated at (tested against mpmath for f64, exhaustively against the f64 kernels
//! for f32). Each polynomial has an f64 length and a shorter f32 length, chosen so that truncation stays
//! far below half an ULP on the reduced range; they are Taylor series unless said otherwise, so the
//! coefficients need no provenance beyond 1/n!.

use crate::real::{horner, Int, Real};

const LOG2E: f64 = core::f64::consts::LOG2_E;
// ln 2 split so that k·LN2_HI is exact for |k| < 2^20 (f64) / 2^8 (f32) (Cody and Waite).
const LN2_HI_F64: f64 = 6.931_471_803_691_238e-1;
const LN2_LO_F64: f64 = 1.908_214_929_270_587_7e-10;
const LN2_HI_F32: f64 = 0.693_359_375;
const LN2_LO_F32: f64 = -2.121_944_400_546_905_8e-4;

#[inline(always)]
fn ln2_parts<R: Real>() -> (R, R) {
    if R::IS_F64 {
        (R::c(LN2_HI_F64), R::c(LN2_LO_F64))
    } else {
        (R::c(LN2_HI_F32), R::c(LN2_LO_F32))
    }
}

/// 1/(n + first)! for n = 0..N (const-evaluated; the divisions are exact up to 1/22!'s rounding).
const fn inverse_factorials<const N: usize>(first: u32) -> [f64; N] {
    let mut out = [0.0; N];
    let mut factorial = 1.0;
    let mut k = 1;
    while k <= first {
        factorial *= k as f64;
        k += 1;
    }
    let mut i = 0;
    while i < N {
        out[i] = 1.0 / factorial;
        factorial *= (first + i as u32 + 1) as f64;
        i += 1;
    }
    out
}

/// 1/n! for n = 0..=13: e^r on |r| <= ln2/2, truncation < 5e-18.
const EXP_TAYLOR: [f64; 14] = inverse_factorials(0);

/// e^r on |r| <= ln2/2 for float32: 1 + r + r²·q(r) with q of degree 4 fitted for minimax relative error
/// (scripts/fit_exp.py), 3.1e-9 = 2^-28.3 relative: one FMA fewer than the degree-7 Taylor polynomial
/// with a smaller truncation error.
const EXP_MINIMAX_F32: [f64; 7] = [
    1.0,
    1.0,
    0.499999934320991,
    0.16666520398846812,
    0.041668390789671314,
    0.00836874512709951,
    0.0013814539879032812,
];

/// 1/(n+1)! for n = 0..=13: (e^r - 1)/r, so that e^r - 1 keeps full relative accuracy near 0.
const EXPM1_TAYLOR: [f64; 14] = inverse_factorials(1);

/// (e^r - 1)/r on |r| <= ln2/2 for float32: the same fit as `EXP_MINIMAX_F32` (e^r = 1 + r + r²·q(r) is
/// (e^r - 1)/r = 1 + r·q(r)), so r·(1 + r·q) is e^r - 1 to 3.1e-9 relative to e^r: one FMA fewer than the
/// seven Taylor terms, whose truncation (7.0e-9) it also beats.
const EXPM1_MINIMAX_F32: [f64; 6] = [
    1.0,
    EXP_MINIMAX_F32[2],
    EXP_MINIMAX_F32[3],
    EXP_MINIMAX_F32[4],
    EXP_MINIMAX_F32[5],
    EXP_MINIMAX_F32[6],
];

/// The first N coefficients of a series (const-evaluated).
const fn prefix<const N: usize, const M: usize>(c: &[f64; M]) -> [f64; N] {
    let mut out = [0.0; N];
    let mut i = 0;
    while i < N {
        out[i] = c[i];
        i += 1;
    }
    out
}

/// c[i]·s^(i + 1) for i = 0..N (const-evaluated; exact for a power of two s): the coefficients of s·p(s·r),
/// so that a polynomial in r = s·t is evaluated in t without forming s·t.
const fn rescaled<const N: usize>(c: &[f64; N], s: f64) -> [f64; N] {
    let mut out = [0.0; N];
    let mut power = s;
    let mut i = 0;
    while i < N {
        out[i] = c[i] * power;
        power *= s;
        i += 1;
    }
    out
}

/// Integer-valued `Bits` to float (|k| < 2^(MANT-1)), by the same magic number as rounding.
#[inline(always)]
fn int_to_real<R: Real>(k: R::Bits) -> R {
    R::from_bits(R::ROUND_MAGIC.to_bits().wrapping_add(k)) - R::ROUND_MAGIC
}

/// e^x. Max error: 1 ULP; valid range: all inputs. Results below the normal range are correctly
/// scaled subnormals (two-step scaling), above it +inf; NaN -> NaN.
#[inline(always)]
pub fn exp<R: Real>(x: R) -> R {
    exp_scaled(x, 0)
}

/// e^x · 2^extra, rounded once. With extra = TAIL_SCALE, a tiny e^x stays normal, so a product such as
/// x·e^x can be formed at full precision and scaled back by 2^-TAIL_SCALE with a single rounding.
/// Valid range: |extra| <= 64.
#[inline(always)]
pub fn exp_scaled<R: Real>(x: R, extra: i32) -> R {
    // Adding -0.0 folds away at compile time.
    exp_parts_scaled(x, R::c(-0.0), extra)
}

/// e^(hi + lo) · 2^extra for |lo| <= ulp(hi): lo joins the small reduced argument, so it costs no
/// rounding of its own (hi + lo need not be representable). Same error and range as `exp_scaled`.
#[inline(always)]
pub fn exp_parts_scaled<R: Real>(hi: R, lo: R, extra: i32) -> R {
    let (lo_clamp, hi_clamp) = if R::IS_F64 {
        (-810.0, 710.0)
    } else {
        (-150.0, 89.0)
    };
    let xc = hi.clamp_nan(R::c(lo_clamp), R::c(hi_clamp));
    // A clamped hi has saturated the result; its lo (up to half an ULP of a huge hi) must not count.
    // (-0.0 rather than 0.0, so that a constant lo = -0.0 folds the select and the addition away.)
    let lo = if xc == hi { lo } else { R::c(-0.0) };
    let (r, bits) = reduce_ln2(xc, lo, 2 * R::BIAS + extra);
    let p = if R::PRECISE {
        horner(r, &EXP_TAYLOR)
    } else {
        horner(r, &EXP_MINIMAX_F32)
    };
    // Two steps, 2^floor(K/2)·2^ceil(K/2) for K = k + extra: 2^K itself may be out of range where the
    // result is not (subnormal results, or e^x just below the overflow threshold).
    let half = bits >> 1;
    p * pow2_field::<R>(half) * pow2_field::<R>(bits.wrapping_sub(half))
}

/// The scale of `exp_shifted`: 2^32 (f32), 2^59 (f64).
#[inline(always)]
pub fn exp_shifted_scale<R: Real>() -> i32 {
    if R::IS_F64 {
        59
    } else {
        32
    }
}

/// e^(x - max)·2^S, S = `exp_shifted_scale`, for x <= max (both finite, or x = -inf): the kernel of softmax
/// and logsumexp. x - max is taken exactly as hi + lo (two_sum), lo joining the reduced argument. Max
/// error: that of `exp`, normal results throughout (no subnormal rounding); exactly 0 where e^(x - max) <
/// 2^-158 (f32) / 2^-1081 (f64), far below what a quotient by a sum >= 1 can show, and exactly 2^S at x =
/// max. NaN in, NaN out.
///
/// Cheaper than `exp` by its generality: no upper clamp (x - max <= 0), one scale step instead of two, and
/// the underflow is the scale itself: S is chosen so that the clamp's k gives the exponent field 0, i.e.
/// the float 0.0.
#[inline(always)]
pub fn exp_shifted<R: Real>(x: R, max: R) -> R {
    // The clamp: round(L·log2 e) + BIAS + S = 0 for L = -110 (k = -159, f32) and -750 (k = -1082, f64).
    let floor = if R::IS_F64 { -750.0 } else { -110.0 };
    let (hi, lo) = two_sum(x, -max);
    // Where hi is clamped the result is 0, and lo may be huge (half an ULP of a huge hi) or NaN (x = -inf):
    // it is dropped there, which keeps the polynomial finite (p·0 = 0). Elsewhere |hi| <= -floor, so lo is
    // tiny. One compare serves both selects; NaN passes (`<` is false for it).
    let under = hi < R::c(floor);
    let hi = if under { R::c(floor) } else { hi };
    let lo = if under { R::c(0.0) } else { lo };
    let (r, bits) = reduce_ln2(hi, lo, R::BIAS + exp_shifted_scale::<R>());
    let p = if R::PRECISE {
        horner(r, &EXP_TAYLOR)
    } else {
        horner(r, &EXP_MINIMAX_F32)
    };
    p * pow2_field::<R>(bits)
}

/// e^(hi + lo)·2^extra as (m, s) with e^(hi + lo) = (1 + m)·s·2^-extra, m = e^r - 1 and s a power of two, for
/// callers that keep hi + extra·ln 2 in the normal range and form a product v·e^(hi + lo) as fma(m, v, v)·s:
/// that rounds once where v·(1 + m) would round twice. Max error of m: 2^-26 relative to 1 + m (f32),
/// 2^-55 (f64).
#[inline(always)]
pub fn exp_split<R: Real>(hi: R, lo: R, extra: i32) -> (R, R) {
    let (r, q, s) = exp_split_factors(hi, lo, extra);
    (r * q, s)
}

/// `exp_split` of scale·(hi + lo) for a power of two `scale` (negative too) without forming the products:
/// the same (m, s) bit for bit, the scale folded into the reduction's and the polynomial's constants.
#[inline(always)]
pub fn exp_split_scaled<R: Real>(hi: R, lo: R, extra: i32, scale: f64) -> (R, R) {
    let (r, bits) = reduce_ln2_scaled(hi, lo, R::BIAS + extra, scale);
    let m = if R::PRECISE {
        r * horner(r, &rescaled(&EXPM1_TAYLOR, scale))
    } else {
        r * horner(r, &rescaled(&EXPM1_MINIMAX_F32, scale))
    };
    (m, pow2_field::<R>(bits))
}

/// `exp_split` with m left as the unrounded product r·q: (r, q, s), e^(hi + lo)·2^extra = (1 + r·q)·s. A
/// caller forming v·e^(hi + lo) as fma(r, q·v, v)·s avoids m's own rounding (up to half an ULP of m, i.e.
/// 2^-26 relative to 1 + m in f32, the largest error of `exp_split`).
#[inline(always)]
pub fn exp_split_factors<R: Real>(hi: R, lo: R, extra: i32) -> (R, R, R) {
    let (r, bits) = reduce_ln2(hi, lo, R::BIAS + extra);
    let q = if R::PRECISE {
        horner(r, &EXPM1_TAYLOR)
    } else {
        horner(r, &EXPM1_MINIMAX_F32)
    };
    (r, q, pow2_field::<R>(bits))
}

/// Cody and Waite's reduction hi + lo = k·ln 2 + r, |r| <= ln 2 / 2 (lo is added to r). Returns r and the
/// bits of the float ROUND_MAGIC + offset + k, in which the magic addition rounded k. ROUND_MAGIC's bits end
/// in more zeros than a float has exponent bits, so those bits shifted up into the exponent field
/// (`pow2_field`) give 2^(offset + k - BIAS): with offset = BIAS + extra a scale factor 2^(k + extra) costs one
/// shift instead of a subtraction, an addition and a shift.
#[inline(always)]
fn reduce_ln2<R: Real>(hi: R, lo: R, offset: i32) -> (R, R::Bits) {
    reduce_ln2_scaled(hi, lo, offset, 1.0)
}

/// `reduce_ln2` of scale·(hi + lo) for a power of two `scale`, returning r/scale: the same k and, scaled by
/// `scale`, the same r bit for bit (every constant is rescaled exactly), one multiplication fewer.
#[inline(always)]
fn reduce_ln2_scaled<R: Real>(hi: R, lo: R, offset: i32, scale: f64) -> (R, R::Bits) {
    let magic = R::ROUND_MAGIC + R::c(f64::from(offset));
    let shifted = hi.mul_add(R::c(LOG2E * scale), magic);
    let kf = shifted - magic;
    let (ln2_hi, ln2_lo) = ln2_parts::<R>();
    let inv = R::c(1.0 / scale);
    (
        (-kf).mul_add(ln2_lo * inv, (-kf).mul_add(ln2_hi * inv, hi)) + lo,
        shifted.to_bits(),
    )
}

/// The float whose exponent field is the low exponent bits of `field` and whose mantissa is 0: 2^(field -
/// BIAS) for field in [1, 2·BIAS].
#[inline(always)]
fn pow2_field<R: Real>(field: R::Bits) -> R {
    R::from_bits(field << R::MANT)
}

/// e^x - 1. Max error: 1 ULP; valid range: all inputs; -0.0 kept, NaN -> NaN.
///
/// e^x - 1 = 2^k·(e^r - 1) + (2^k - 1), evaluated as 2·(h·(e^r - 1) + (h - 1/2)) with h = 2^(k-1) so that
/// h stays finite up to the overflow threshold.
#[inline(always)]
pub fn expm1<R: Real>(x: R) -> R {
    let (lo, hi) = if R::IS_F64 {
        (-40.0, 709.8)
    } else {
        (-20.0, 88.73)
    };
    let xc = x.clamp_nan(R::c(lo), R::c(hi));
    let (r, bits) = reduce_ln2(xc, R::c(-0.0), R::BIAS - 1);
    let q = if R::PRECISE {
        horner(r, &EXPM1_TAYLOR)
    } else {
        horner(r, &EXPM1_MINIMAX_F32)
    };
    let em1 = r * q;
    let half_scale = pow2_field::<R>(bits);
    let y = R::c(2.0) * half_scale.mul_add(em1, half_scale - R::c(0.5));
    let y = if x > R::c(hi) { R::INFINITY } else { y };
    if x == R::c(0.0) {
        x
    } else {
        y
    }
}

/// 2/(2n+1) for n = 1..=11: the atanh series behind log(1+f) = 2·atanh(f/(2+f)); |s| <= 0.1716.
const LOG_ATANH: [f64; 11] = [
    2.0 / 3.0,
    2.0 / 5.0,
    2.0 / 7.0,
    2.0 / 9.0,
    2.0 / 11.0,
    2.0 / 13.0,
    2.0 / 15.0,
    2.0 / 17.0,
    2.0 / 19.0,
    2.0 / 21.0,
    2.0 / 23.0,
];

/// u = 2^k·(1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)), for u positive and normal: (k, f), f exact.
#[inline(always)]
fn log_reduce<R: Real>(u: R) -> (R::Bits, R) {
    let one = R::c(1.0);
    let sqrt_half = R::c(core::f64::consts::FRAC_1_SQRT_2).to_bits();
    let iu = u
        .to_bits()
        .wrapping_add(one.to_bits().wrapping_sub(sqrt_half));
    let k = (iu >> R::MANT).wrapping_sub(R::Bits::from_i32(R::BIAS));
    let mant_mask = (R::Bits::from_i32(1) << R::MANT).wrapping_sub(R::Bits::from_i32(1));
    (
        k,
        R::from_bits((iu & mant_mask).wrapping_add(sqrt_half)) - one,
    )
}

/// k·ln 2 + ln(1 + f) + c for |c| far below ulp: the atanh series on f of `log_reduce` (fdlibm's scheme).
#[inline(always)]
fn log_finish<R: Real>(kf: R, f: R, c: R) -> R {
    let s = f / (R::c(2.0) + f);
    let z = s * s;
    let hfsq = R::c(0.5) * f * f;
    let r = z * if R::PRECISE {
        horner(z, &LOG_ATANH)
    } else {
        horner(z, &prefix::<5, 11>(&LOG_ATANH))
    };
    let (ln2_hi, ln2_lo) = ln2_parts::<R>();
    kf * ln2_hi + (f - (hfsq - (s * (hfsq + r) + (kf * ln2_lo + c))))
}

/// ln(1 + x). Max error: 1 ULP; valid range: all inputs (x = -1 -> -inf, x < -1 -> NaN).
///
/// 1+x = 2^k·m with m in [sqrt(2)/2, sqrt(2)); the rounding of 1+x is compensated by c (fdlibm's scheme).
#[inline(always)]
pub fn log1p<R: Real>(x: R) -> R {
    let one = R::c(1.0);
    let u = one + x;
    let (k, f) = log_reduce(u);
    let c = if k >= R::Bits::from_i32(2) {
        one - (u - x)
    } else {
        x - (u - one)
    } / u;
    let y = log_finish(int_to_real::<R>(k), f, c);
    let y = if u == R::c(0.0) { -R::INFINITY } else { y };
    let y = if x < -one { R::NAN } else { y };
    let y = if x == R::INFINITY { x } else { y };
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// ln(x). Max error: 1 ULP; valid range: all inputs (±0 -> -inf, x < 0 -> NaN, +inf -> +inf); subnormal x
/// is scaled into the normal range first.
#[inline(always)]
pub fn log<R: Real>(x: R) -> R {
    let (min_normal, up, up_exp) = if R::IS_F64 {
        (2f64.powi(-1022), 2f64.powi(64), 64.0)
    } else {
        (2f64.powi(-126), 2f64.powi(32), 32.0)
    };
    let subnormal = x < R::c(min_normal);
    let u = if subnormal { x * R::c(up) } else { x };
    let (k, f) = log_reduce(u);
    let kf = int_to_real::<R>(k) - if subnormal { R::c(up_exp) } else { R::c(0.0) };
    let y = log_finish(kf, f, R::c(0.0));
    let y = if x == R::c(0.0) { -R::INFINITY } else { y };
    let y = if x < R::c(0.0) { R::NAN } else { y };
    let y = if x == R::INFINITY { x } else { y };
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// `log1p(q)` where `from_one`, else `log(r)`, chosen per lane with one logarithm instead of two: each lane
/// gets exactly the operations (and bits) of the function it picks. Max error and special values: those of
/// `log1p` and `log`.
#[inline(always)]
pub fn log1p_or_log<R: Real>(from_one: bool, q: R, r: R) -> R {
    let one = R::c(1.0);
    let (min_normal, up, up_exp) = if R::IS_F64 {
        (2f64.powi(-1022), 2f64.powi(64), 64.0)
    } else {
        (2f64.powi(-126), 2f64.powi(32), 32.0)
    };
    let u1 = one + q;
    let subnormal = r < R::c(min_normal);
    let ur = if subnormal { r * R::c(up) } else { r };
    let (k, f) = log_reduce(if from_one { u1 } else { ur });
    let kf = int_to_real::<R>(k);
    let c1 = if k >= R::Bits::from_i32(2) {
        one - (u1 - q)
    } else {
        q - (u1 - one)
    } / u1;
    // `log1p` and `log`'s own last steps, lane by lane.
    let (arg, kf, c) = if from_one {
        (q, kf, c1)
    } else {
        (
            r,
            kf - if subnormal { R::c(up_exp) } else { R::c(0.0) },
            R::c(0.0),
        )
    };
    let y = log_finish(kf, f, c);
    let (zero_at, nan_below) = if from_one { (u1, -one) } else { (r, R::c(0.0)) };
    let y = if zero_at == R::c(0.0) {
        -R::INFINITY
    } else {
        y
    };
    let y = if arg < nan_below { R::NAN } else { y };
    let y = if arg == R::INFINITY { arg } else { y };
    if arg.is_nan() {
        arg
    } else {
        y
    }
}

/// The power of two that keeps exponential tails normal until their final product (see `exp_scaled`).
pub const TAIL_SCALE: i32 = 64;
pub const TAIL_UNSCALE: f64 = 5.421_010_862_427_522e-20; // 2^-64
pub const TAIL_RESCALE: f64 = 18_446_744_073_709_551_616.0; // 2^64

// S(w) = (x - tanh x)/x³, w = x² in [0, 1]: Chebyshev series in 2w - 1, produced by scripts/fit_tanh.py
// (interpolation at 100 nodes in mpmath); 17 terms: 2.3e-16 relative, the first 9: 4.9e-10.
const TANH_CHEB: [f64; 17] = [
    0.2818488857749562,
    -0.047122638677218234,
    0.003991759006663886,
    -0.0003386499281351341,
    2.8735498984712573e-05,
    -2.4383546300653712e-06,
    2.0690754790098488e-07,
    -1.755722893917482e-08,
    1.4898262877011115e-09,
    -1.2641985760552622e-10,
    1.072741200962132e-11,
    -9.102792125922746e-13,
    7.72421385648844e-14,
    -6.5544152690220434e-15,
    5.561777588888565e-16,
    -4.719470567338577e-17,
    4.004727280082805e-18,
];

// T(w) = (S(w) - 1/3)/w on [0, 1] for f32, monomial for Horner's rule (one fma a term where Clenshaw takes
// two), least squares reweighted towards minimax (`t_f32` in scripts/fit_tanh.py): degree 7, 5.4e-9 relative.
const TANH_T_F32: [f64; 8] = [
    -0.13333333261765384,
    0.05396816206795282,
    -0.021867527422538943,
    0.008847049443123084,
    -0.003525101259458869,
    0.0012996717145190534,
    -0.00037428332556712057,
    5.7872619952331574e-05,
];
/// 1/3 as hi + lo in f32.
const THIRD_F32: (f64, f64) = (0.3333333432674408, -9.934107481068821e-9);

/// (x - tanh x)/x³ for |x| <= 1, as a function of w = x². Max error: 0.6 ULP (f32), 1 ULP (f64).
#[inline(always)]
pub fn tanh_series<R: Real>(w: R) -> R {
    if R::PRECISE {
        clenshaw(w.mul_add(R::c(2.0), R::c(-1.0)), &TANH_CHEB)
    } else {
        // 1/3 + w·T(w) with 1/3 as hi + lo: Horner's rounding errors only touch the small w·T term, so S
        // rounds about once (the full series evaluated in f32 would be off by up to 2 ULP).
        let t = horner(w, &TANH_T_F32);
        R::c(THIRD_F32.0) + w.mul_add(t, R::c(THIRD_F32.1))
    }
}

// S(w) on w = x² in [0, 0.75²] for the float32 tanh² (`tanh_lean_parts`): degree 6, monomial, 1.8e-9
// relative (the `TANH_S_F32` fit of scripts/fit_tanh.py).
const TANH_S_F32: [f64; 7] = [
    0.33333333272014537,
    -0.13333322621402205,
    0.0539651698270484,
    -0.02183579714369147,
    0.008684770574222758,
    -0.003090010582514282,
    0.0006965826882020931,
];

// S(w) on w = x² in [0, 0.6²] for the float32 tanh: degree 4, monomial, 9.0e-8 relative (the
// `TANH_NEAR_F32` fit of scripts/fit_tanh.py). Two terms fewer than `TANH_S_F32`; the complement takes over
// from 0.6 instead of 0.75, where it is off by up to 1.21 ULP (near 0.6) instead of 1.09 (near 0.76).
const TANH_NEAR_F32: [f64; 5] = [
    0.3333333033533645,
    -0.13332915594651687,
    0.05387398015597023,
    -0.021111097281728372,
    0.0062693108134297135,
];

/// tanh(x). Max error: 1 ULP (f64), 2 ULP (f32); valid range: all inputs; tanh(±inf) = ±1, -0.0 kept,
/// NaN -> NaN.
///
/// |x| < 1: x - x³·S(x²) (see `TANH_CHEB`, no cancellation); above: 1 - 2/(expm1(2|x|) + 2). f32 (and
/// `Lean64`) take `tanh_lean`.
#[inline(always)]
pub fn tanh<R: Real>(x: R) -> R {
    if !R::PRECISE {
        return tanh_lean(x);
    }
    let sat = if R::PRECISE { 20.0 } else { 10.0 };
    let a = x.abs().clamp_nan(R::c(0.0), R::c(sat));
    let two = R::c(2.0);
    let far = R::c(1.0) - two / (expm1(two * a) + two);
    let near_a = a.clamp_nan(R::c(0.0), R::c(1.0));
    let w = near_a * near_a;
    let near = (-(w * near_a)).mul_add(tanh_series(w), near_a);
    let t = if a < R::c(1.0) { near } else { far };
    t.copysign(x)
}

/// tanh(x) to f32 accuracy, in fewer operations than `tanh`'s f64 design. Max error: 1.3 ULP (f32; 1.21
/// measured over all inputs, NumPy's SVML np.tanh 1.37).
///
/// |x| < 0.6: |x| - |x|³·S(x²) with the degree-4 fit `TANH_NEAR_F32`; above, 1 - `tanh_complement_lean`.
#[inline(always)]
fn tanh_lean<R: Real>(x: R) -> R {
    let a = x.abs().clamp_nan(R::c(0.0), R::c(9.25));
    let w = a * a;
    let near = (-(a * w)).mul_add(horner(w, &TANH_NEAR_F32), a);
    let t = if a < R::c(0.6) {
        near
    } else {
        R::c(1.0) - tanh_complement_lean(a)
    };
    t.copysign(x)
}

/// tanh(|x|) to f32 accuracy as (its value if |x| < 0.75, q = 1 - tanh|x| otherwise, whether |x| < 0.75).
/// Near 0: |x| - |x|³·S(x²) with the short fit `TANH_S_F32`; above, `tanh_complement_lean`.
#[inline(always)]
fn tanh_lean_parts<R: Real>(x: R) -> (R, R, bool) {
    let a = x.abs().clamp_nan(R::c(0.0), R::c(9.25));
    let w = a * a;
    let near = (-(a * w)).mul_add(horner(w, &TANH_S_F32), a);
    (near, tanh_complement_lean(a), a < R::c(0.75))
}

/// q = 1 - tanh|x| = 2/(e^2|x| + 1) to f32 accuracy where q <= 0.37 (|x| >= 0.75), with e^2|x| = 2^k·(1 + m)
/// kept apart (`m` to 2^-26 relative), so that q = 2·2^-k/((1 + 2^-k) + m) rounds twice (1 + 2^-k is exact
/// while q matters, k <= 23) instead of carrying the exponential's own rounding. Beyond |x| = 9.25, q <
/// 2^-25 (tanh rounds to ±1 in f32), so |x| is clamped there; NaN passes.
#[inline(always)]
pub fn tanh_complement_lean<R: Real>(x: R) -> R {
    let a = x.abs().clamp_nan(R::c(0.0), R::c(9.25));
    // 2|x| = k·ln 2 + 2h, and e^2h - 1 = 2h·P(2h) = h·P2(h) with P2's coefficients rescaled.
    let (h, bits) = reduce_ln2_scaled(a, R::c(-0.0), R::BIAS, 2.0);
    const P2: [f64; 6] = rescaled(&EXPM1_MINIMAX_F32, 2.0);
    // The exponent field of 2^-k: 2·BIAS - (BIAS + k), in the same low bits that `pow2_field` keeps.
    let inv_scale = pow2_field::<R>(R::Bits::from_i32(2 * R::BIAS).wrapping_sub(bits));
    // e^2|x| + 1 = 2^k·(1 + 2^-k + m), m = h·P2(h) folded into the one FMA.
    (R::c(2.0) * inv_scale) / h.mul_add(horner(h, &P2), R::c(1.0) + inv_scale)
}

/// tanh(x)². Max error: 1 ULP (f64), 2 ULP (f32). f32 takes 1 - q·(2 - q) away from 0 (q = 1 - tanh|x|,
/// see `tanh_lean_parts`): one rounding after the product, where squaring 1 - q would add tanh's own
/// rounding twice.
#[inline(always)]
pub fn tanh_squared<R: Real>(x: R) -> R {
    if R::PRECISE {
        let t = tanh(x);
        return t * t;
    }
    let (near, q, is_near) = tanh_lean_parts(x);
    if is_near {
        near * near
    } else {
        (-q).mul_add(R::c(2.0) - q, R::c(1.0))
    }
}

/// 1 - tanh(x)² = 4e/(1 + e)², e = exp(-2|x|): full relative accuracy where tanh(x) rounds to ±1.
/// Max error: 3 ULP; valid range: all inputs.
#[inline(always)]
pub fn tanh_derivative<R: Real>(x: R) -> R {
    let e = exp(R::c(-2.0) * x.abs());
    let one_plus = R::c(1.0) + e;
    R::c(4.0) * e / (one_plus * one_plus)
}

/// `tanh_derivative` for `Kernel::careful` (f32): e = exp(-2|x|) kept scaled by 2^TAIL_SCALE and rounded on
/// the scaled subnormal grid as the fast formula's e is rounded, |2x| clamped at `tail_clamp` (4e rounds to
/// 0 beyond): (4e/(1 + e)²·2^TAIL_SCALE, true), the bits of `tanh_derivative` once unscaled.
#[inline(always)]
pub fn tanh_derivative_careful<R: Real>(x: R) -> (R, bool) {
    // -2|x| as the fast formula forms it (a NaN keeps its bits), then clamped.
    let t = R::c(-2.0) * x.abs();
    let floor = R::c(-tail_clamp::<R>());
    let t = if t < floor { floor } else { t };
    let e_scaled = on_scaled_subnormal_grid(exp_scaled(t, TAIL_SCALE));
    let one_plus = e_scaled.mul_add(R::c(TAIL_UNSCALE), R::c(1.0));
    (R::c(4.0) * e_scaled / (one_plus * one_plus), true)
}

/// The stable logistic pieces from e = exp(-|x|): (sigmoid(x), sigmoid(-x)). Each keeps full relative
/// accuracy (2 ULP), including subnormal results; NaN -> NaN.
#[inline(always)]
pub fn sigmoid_pair<R: Real>(x: R) -> (R, R) {
    let e = exp(-x.abs());
    let inv = R::c(1.0) / (R::c(1.0) + e);
    let big = inv;
    let small = e * inv;
    if x < R::c(0.0) {
        (small, big)
    } else {
        (big, small)
    }
}

/// (sigmoid(x)·f, sigmoid(-x), 1/f) with f = 2^TAIL_SCALE for x < 0 and 1 otherwise: the scaled value
/// stays normal where sigmoid(x) is subnormal, so a product such as x·sigmoid(x) keeps full precision until
/// the final multiplication by 1/f, which rounds once.
#[inline(always)]
pub fn sigmoid_tail_scaled<R: Real>(x: R) -> (R, R, R) {
    let one = R::c(1.0);
    let e_scaled = exp_scaled(-x.abs(), TAIL_SCALE);
    let e = e_scaled * R::c(TAIL_UNSCALE);
    let inv = one / (one + e);
    let negative = x < R::c(0.0);
    (
        if negative { e_scaled * inv } else { inv },
        if negative { inv } else { e * inv },
        if negative { R::c(TAIL_UNSCALE) } else { one },
    )
}

/// sigmoid(x) alone: one quotient (e or 1)/(1 + e) instead of a quotient and a product. Max error: 2 ULP.
#[inline(always)]
pub fn sigmoid<R: Real>(x: R) -> R {
    let e = exp(-x.abs());
    let num = if x < R::c(0.0) { e } else { R::c(1.0) };
    num / (R::c(1.0) + e)
}

/// (exp(-|x|)·2^TAIL_SCALE, 1 + exp(-|x|)) with |x| clamped to `tail_clamp` (where exp(-|x|) rounds to 0
/// anyway), for careful variants (`Kernel::careful`): the scaled exponential stays normal, and 1 + e is one
/// fma of it, the unscaled e never formed. Where e is normal, 1 + e has the bits of the plain sum.
#[inline(always)]
pub fn scaled_exp_neg_abs<R: Real>(x: R) -> (R, R) {
    let a = x.abs();
    let a = if a > R::c(tail_clamp::<R>()) {
        R::c(tail_clamp::<R>())
    } else {
        a
    };
    let e_scaled = exp_scaled(-a, TAIL_SCALE);
    (e_scaled, e_scaled.mul_add(R::c(TAIL_UNSCALE), R::c(1.0)))
}

/// |x| beyond which exp(-|x|) is negligible with room to spare (f32: 110·e^-110 < 2^-151, below half the
/// smallest subnormal even times |x| as in silu; f64: e^-746 < 2^-1076), while exp(-|x|)·2^TAIL_SCALE is
/// still normal.
#[inline(always)]
pub fn tail_clamp<R: Real>() -> f64 {
    if R::IS_F64 {
        746.0
    } else {
        110.0
    }
}

/// The smallest normal of R.
#[inline(always)]
fn min_normal<R: Real>() -> R {
    R::from_bits(R::Bits::from_i32(1) << R::MANT)
}

/// fma(a, b, addend) with the addend's bits taken away in the integer domain and `sign` put back: where the
/// addend is ±2^e·(the smallest normal) and |a·b| below it, the fma lands in [2^e·m, 2^(e+1)·m), spaced as
/// the subnormals times 2^e, and what is left is the bits of a·b rounded there (`unscale_tail_signed`,
/// `grad_times_unscaled`); with a zero addend, a·b itself.
#[inline(always)]
fn fma_off_addend<R: Real>(a: R, b: R, addend: R, sign: R::Bits) -> R {
    R::from_bits(
        a.mul_add(b, addend)
            .to_bits()
            .wrapping_sub(addend.to_bits())
            | sign,
    )
}

/// v·2^-TAIL_SCALE where `scaled`, v itself elsewhere, rounded once, without a floating-point operation that
/// has a subnormal result (on AMD Zen 5 one such multiplication per vector made sigmoid 3x slower): where
/// the result is subnormal, fma(v, 2^-TAIL_SCALE, ±m) with m the smallest normal (v's sign) lies in
/// [m, 2m) in magnitude, whose spacing is the subnormals' (m's mantissa is even, so ties round as the
/// subnormal would); subtracting m's bits leaves the magnitude's, and v's sign is put back. Elsewhere the
/// addend is 0 and the fma is the plain product.
#[inline(always)]
pub fn unscale_tail_signed<R: Real>(v: R, scaled: bool) -> R {
    let small = scaled & (v.abs() < R::c(TAIL_RESCALE) * min_normal::<R>());
    let addend = if small {
        min_normal::<R>().copysign(v)
    } else {
        R::c(0.0)
    };
    let factor = if scaled {
        R::c(TAIL_UNSCALE)
    } else {
        R::c(1.0)
    };
    fma_off_addend(v, factor, addend, v.to_bits() & R::c(-0.0).to_bits())
}

/// v·2^-TAIL_SCALE rounded as `unscale_tail_signed` rounds it, scaled back by 2^TAIL_SCALE (exactly, and
/// normal): v itself where the unscaled value is normal, else v rounded to the subnormals' spacing times
/// 2^TAIL_SCALE by adding and taking away ±b, b = 2^TAIL_SCALE times the smallest normal (the sum lies in
/// [b, 2b), whose spacing that is; the difference is exact, and v's sign is kept on a zero). For careful
/// variants that must round a scaled intermediate where the fast formula rounds a subnormal one.
#[inline(always)]
pub fn on_scaled_subnormal_grid<R: Real>(v: R) -> R {
    let big = R::c(TAIL_RESCALE) * min_normal::<R>();
    let c = big.copysign(v);
    // A value that rounds to zero keeps its sign (c - c alone would be +0.0).
    if v.abs() < big {
        ((v + c) - c).copysign(v)
    } else {
        v
    }
}

/// g·d for d = `unscale_tail_signed(v, scaled)`, with the bits of the plain product g·d, without a
/// floating-point operation on a subnormal. Where d is subnormal it is kept as r = d·2^TAIL_SCALE (v rounded
/// to the scaled subnormals' spacing by adding and taking away ±b, b = 2^TAIL_SCALE times the smallest
/// normal, both exact or rounding as d's own unscaling does); where g·d is subnormal it is fma(g, r, ±b) - ±b
/// in the integer domain (the `unscale_tail_signed` construction, one rounding), else (g·r)·2^-TAIL_SCALE.
#[inline(always)]
pub fn grad_times_unscaled<R: Real>(g: R, v: R, scaled: bool) -> R {
    let big = R::c(TAIL_RESCALE) * min_normal::<R>();
    let r = on_scaled_subnormal_grid(v);
    let product = g * r;
    // The plain unscaled product only where it is normal (clamped to ±b elsewhere), told apart by its
    // result: a select on `|product| < b` itself lets LLVM drop the clamp, the clamped lanes going unused.
    let magnitude = product.abs();
    let normal = (if magnitude < big { big } else { magnitude }) * R::c(TAIL_UNSCALE);
    let small = normal <= min_normal::<R>();
    let addend = if small {
        big.copysign(product)
    } else {
        R::c(0.0)
    };
    let tiny = fma_off_addend(g, r, addend, product.to_bits() & R::c(-0.0).to_bits());
    let unscaled = if small {
        tiny
    } else {
        normal.copysign(product)
    };
    if scaled {
        unscaled
    } else {
        g * v
    }
}

/// The exact product a·b = hi + lo (FMA-based), valid while a·b does not underflow; lo = 0 when the
/// product is ±inf or NaN (fma(a, b, -inf) would be NaN).
#[inline(always)]
pub fn two_prod<R: Real>(a: R, b: R) -> (R, R) {
    let hi = a * b;
    let lo = a.mul_add(b, -hi);
    (
        hi,
        if hi.abs() < R::INFINITY {
            lo
        } else {
            R::c(0.0)
        },
    )
}

/// `two_prod` for callers that guarantee a finite product (clamped inputs): no infinity check.
#[inline(always)]
pub fn two_prod_finite<R: Real>(a: R, b: R) -> (R, R) {
    let hi = a * b;
    (hi, a.mul_add(b, -hi))
}

/// exp(-x²/2)·2^extra with x² taken exactly, so the result keeps full relative accuracy in the far tail.
/// Max error: 1 ULP; valid range: |x| <= 40 (callers clamp).
#[inline(always)]
pub fn gauss_scaled<R: Real>(x: R, extra: i32) -> R {
    let (hi, lo) = two_prod_finite(x, x);
    let half = R::c(-0.5);
    exp_parts_scaled(hi * half, lo * half, extra)
}

// erfcx(z) = exp(z²)·erfc(z) on z in [0, 8]: Chebyshev series in s = 1.25·t + 0.25, t = (z - 2)/(z + 2);
// produced by scripts/fit_erfcx.py (interpolation at 200 nodes in mpmath), max relative error 1.3e-15.
const ERFCX_CHEB: [f64; 25] = [
    0.44322577331224317,
    -0.45569548759724554,
    0.09192668362297564,
    -0.009439450291821737,
    -0.00016197092144024344,
    0.00012983603332468425,
    2.2530987158227847e-06,
    -2.357058743939442e-06,
    -1.635735467612283e-07,
    4.2327699536774023e-08,
    7.810105529293833e-09,
    -2.886260622833881e-10,
    -2.5269738828099474e-10,
    -2.556433589505996e-11,
    3.9800799129836285e-12,
    1.447592746750428e-12,
    1.139336022669828e-13,
    -2.9002094884750114e-14,
    -9.494566805831036e-15,
    -8.276151296383674e-16,
    1.8231207521266546e-16,
    7.049399327638765e-17,
    8.498676166243004e-18,
    -8.628995106139388e-19,
    -5.473054848431011e-19,
];

/// (2n-1)!!·(-1)^n for n = 0..=20: the asymptotic series of erfcx, accurate to 6e-20 for z >= 8.
const ERFCX_ASYMPTOTIC: [f64; 21] = {
    let mut c = [0.0; 21];
    let mut n = 0;
    let mut v = 1.0;
    while n < 21 {
        c[n] = v;
        v *= -((2 * n + 1) as f64);
        n += 1;
    }
    c
};

/// a + b = hi + lo exactly (Knuth's two-sum).
#[inline(always)]
pub fn two_sum<R: Real>(a: R, b: R) -> (R, R) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// Clenshaw's recurrence for the Chebyshev series `c` at s.
#[inline(always)]
fn clenshaw<R: Real, const N: usize>(s: R, c: &[f64; N]) -> R {
    let two_s = s + s;
    let mut b1 = R::c(0.0);
    let mut b2 = R::c(0.0);
    let mut i = N - 1;
    while i > 0 {
        let b0 = two_s.mul_add(b1, R::c(c[i]) - b2);
        b2 = b1;
        b1 = b0;
        i -= 1;
    }
    s.mul_add(b1, R::c(c[0]) - b2)
}

/// Scaled complementary error function erfcx(z) = exp(z²)·erfc(z) for z >= 0.
/// Max error: 8 ULP (f64); valid range: z >= 0, +inf -> 0, NaN -> NaN.
#[inline(always)]
pub fn erfcx_nonneg<R: Real>(z: R) -> R {
    // Only the f64 GELU uses this (float32 GELU has its own polynomials, ops/gaussian.rs).
    erfcx_series::<R, 25, 21>(z, &ERFCX_CHEB, &ERFCX_ASYMPTOTIC)
}

#[inline(always)]
fn erfcx_series<R: Real, const N: usize, const M: usize>(
    z: R,
    cheb: &[f64; N],
    asymptotic: &[f64; M],
) -> R {
    // Clenshaw recurrence for z < 8.
    let zc = z.clamp_nan(R::c(0.0), R::c(8.0));
    let t = (zc - R::c(2.0)) / (zc + R::c(2.0));
    let s = t.mul_add(R::c(1.25), R::c(0.25));
    let near = clenshaw(s, cheb);
    // Asymptotic series for z >= 8.
    let za = if z < R::c(8.0) { R::c(8.0) } else { z };
    let v = R::c(0.5) / (za * za);
    let far = horner(v, asymptotic) * (R::c(0.564_189_583_547_756_3) / za);
    let far = if za == R::INFINITY { R::c(0.0) } else { far };
    if z < R::c(8.0) {
        near
    } else {
        far
    }
}

/// The standard normal CDF and density at x, each with full relative accuracy and both multiplied by
/// 2^extra (so that tails stay normal for a following product): (Phi(x)·2^extra, phi(x)·2^extra).
/// Max error: 8 ULP (f64); valid range: x in [-40, 40] (callers clamp; both saturate there).
#[inline(always)]
pub fn normal_cdf_pdf_scaled<R: Real>(x: R, extra: i32) -> (R, R) {
    let e = gauss_scaled(x, extra);
    let z = x.abs() * R::c(core::f64::consts::FRAC_1_SQRT_2);
    let tail = R::c(0.5) * e * erfcx_nonneg(z); // Phi(-|x|) = erfc(|x|/sqrt 2)/2
    let one = R::pow2i(R::Bits::from_i32(extra));
    let cdf = if x < R::c(0.0) { tail } else { one - tail };
    (cdf, e * R::c(0.398_942_280_401_432_7))
}

/// Beyond |x| = ERFC_SATURATED, erfc(x) is 0 (x > 0) or 2 in f64, and x² stays far from overflow.
const ERFC_SATURATED: f64 = 28.0;

/// 2/sqrt(π) with its remainder (mpmath), for the series and the derivative.
pub const TWO_OVER_SQRT_PI: (f64, f64) =
    (core::f64::consts::FRAC_2_SQRT_PI, 1.533_545_961_316_588e-17);

/// erf(x)/x = 2/sqrt(π)·Σ (-1)^n x^(2n)/(n!(2n+1)) in s = x², without the leading 2/sqrt(π): the Taylor
/// series, 14 terms for |x| <= ERF_SERIES_MAX (the 15th is below 2^-60 of the sum).
const ERF_SERIES: [f64; 14] = {
    let mut c = [0.0; 14];
    let mut n = 0;
    let mut factorial = 1.0;
    while n < 14 {
        if n > 0 {
            factorial *= n as f64;
        }
        let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
        c[n] = sign / (factorial * (2 * n + 1) as f64);
        n += 1;
    }
    c
};
const ERF_SERIES_MAX: f64 = 0.5;

/// exp(-x²)·2^extra with x² taken exactly (callers keep |x| <= ERFC_SATURATED).
#[inline(always)]
pub fn exp_neg_square_scaled<R: Real>(x: R, extra: i32) -> R {
    let (hi, lo) = two_prod_finite(x, x);
    exp_parts_scaled(-hi, -lo, extra)
}

/// erfc(x) = exp(-x²)·erfcx(x) for x >= 0 and 2 - erfc(-x) below (no cancellation: the result is in
/// [1, 2]). Tails that are subnormal round once (exp carried times 2^TAIL_SCALE). Max error: 8 ULP (f64, the
/// kernel table's bound; 5.5 measured against mpmath); valid range: all inputs, erfc(+inf) = 0,
/// erfc(-inf) = 2, NaN -> NaN.
#[inline(always)]
pub fn erfc<R: Real>(x: R) -> R {
    let a = x.abs().clamp_nan(R::c(0.0), R::c(ERFC_SATURATED));
    let tail = (exp_neg_square_scaled(a, TAIL_SCALE) * erfcx_nonneg(a)) * R::c(TAIL_UNSCALE);
    let tail = if x.abs() > R::c(ERFC_SATURATED) {
        R::c(0.0)
    } else {
        tail
    };
    if x < R::c(0.0) {
        R::c(2.0) - tail
    } else {
        tail
    }
}

/// erf(x): the Taylor series for |x| <= 1/2 (full relative accuracy near 0, -0.0 kept) and ±(1 - erfc(|x|))
/// beyond, where erf >= 0.52 so the subtraction loses nothing. Max error: 2 ULP (f64, the kernel table's
/// bound; 1.0 measured against mpmath); valid range: all inputs, ±inf -> ±1.
#[inline(always)]
pub fn erf<R: Real>(x: R) -> R {
    let a = x.abs();
    let xs = x.clamp_nan(R::c(-ERF_SERIES_MAX), R::c(ERF_SERIES_MAX));
    let series = horner(xs * xs, &ERF_SERIES);
    // x·(c_hi + c_lo)·series: c_lo folds in as one more fma.
    let near = (xs * series).mul_add(
        R::c(TWO_OVER_SQRT_PI.0),
        xs * series * R::c(TWO_OVER_SQRT_PI.1),
    );
    let far = (R::c(1.0) - erfc(a)).copysign(x);
    if a <= R::c(ERF_SERIES_MAX) {
        near
    } else {
        far
    }
}

// π/2 = P1 + P2 + P3 with 33-bit P1, P2, so k·P1 and k·P2 are exact for |k| < 2^20 (Cody and Waite).
const PIO2_1: f64 = 1.570_796_326_734_125_6;
const PIO2_2: f64 = 6.077_100_506_303_966e-11;
const PIO2_3: f64 = 2.022_266_248_795_950_6e-21;
/// Below this |a| the three-part reduction is exact enough; above it callers use the scalar exact path.
pub const TRIG_VECTOR_LIMIT: f64 = 524_288.0;

/// (-1)^n / (2n+3)! for n = 0..=7: sin(r) = r + r·z·P(z), z = r², |r| <= π/4, truncation < 1e-20.
const SIN_TAYLOR: [f64; 8] = [
    -1.0 / 6.0,
    1.0 / 120.0,
    -1.0 / 5040.0,
    1.0 / 362_880.0,
    -1.0 / 39_916_800.0,
    1.0 / 6_227_020_800.0,
    -1.0 / 1_307_674_368_000.0,
    1.0 / 355_687_428_096_000.0,
];
/// -1/6 as hi + lo (mpmath), and the sine series after its leading term: (-1)^n/(2n+5)! for n = 0..=6.
const SIN_LEAD: (f64, f64) = (-0.166_666_666_666_666_66, -9.251_858_538_542_97e-18);
const SIN_TAIL: [f64; 8] = {
    let mut c = [0.0; 8];
    let mut i = 0;
    while i < 7 {
        c[i] = SIN_TAYLOR[i + 1];
        i += 1;
    }
    c
};

/// (-1)^n / (2n+4)! for n = 0..=7: cos(r) = 1 - z/2 + z²·Q(z).
const COS_TAYLOR: [f64; 8] = [
    1.0 / 24.0,
    -1.0 / 720.0,
    1.0 / 40320.0,
    -1.0 / 3_628_800.0,
    1.0 / 479_001_600.0,
    -1.0 / 87_178_291_200.0,
    1.0 / 20_922_789_888_000.0,
    -1.0 / 6_402_373_705_728_000.0,
];

/// sin(a + quarter_turns·π/2). Max error: 1 ULP; valid range: |a| < TRIG_VECTOR_LIMIT (f64 layout only:
/// an f32 instantiation would lose accuracy in the reduction, so f32 kernels promote to `Lean64`). Outside it the result is meaningless: callers patch
/// those lanes with the scalar exact path.
#[inline(always)]
pub fn sin_quadrant<R: Real>(a: R, quarter_turns: i32) -> R {
    if !R::PRECISE {
        return sin_quadrant_lean(a, quarter_turns);
    }
    let (kf, k) = (a * R::c(core::f64::consts::FRAC_2_PI)).round_int();
    // r = a - k·π/2 as r + r_lo: k·P1 and k·P2 are exact, the subtractions' errors are recovered.
    let r1 = a - kf * R::c(PIO2_1);
    let w = kf * R::c(PIO2_2);
    let t = r1 - w;
    let lo = ((r1 - t) - w) - kf * R::c(PIO2_3);
    let r = if lo == R::c(0.0) { t } else { t + lo }; // keeps sin(-0.0) = -0.0
    let r_lo = (t - r) + lo;
    let z = r * r;
    let cos_p = horner(z, &COS_TAYLOR);
    // sin(r + r_lo) = r + (r³P(z) + r_lo·cos r) and cos(r + r_lo) = (1 - z/2) + (z²Q(z) + err - r·r_lo):
    // every small term is summed first, so each result rounds once (|r_lo| < 2^-50·|r|).
    let half_z = R::c(0.5) * z;
    let head = R::c(1.0) - half_z;
    let head_lo = (R::c(1.0) - head) - half_z; // exact by Fast2Sum (1 >= z/2)
                                               // r², r³ and the leading -r³/6 are carried as hi + lo, so the tails are exact to ~2^-60 and the results
                                               // are within 0.51 ULP (glibc's scalar sin is correctly rounded; this stays close).
    let z_lo = r.mul_add(r, -z);
    let (c, c_lo) = two_prod(r, z);
    let c_lo = r.mul_add(z_lo, c_lo);
    let (t, t_lo) = two_prod(c, R::c(SIN_LEAD.0));
    let t_lo = c.mul_add(R::c(SIN_LEAD.1), c_lo.mul_add(R::c(SIN_LEAD.0), t_lo));
    let rest = (c * z).mul_add(horner(z, &prefix::<7, 8>(&SIN_TAIL)), r_lo * head);
    let (s, s_lo) = two_sum(r, t);
    let sin_r = s + (s_lo + (t_lo + rest));
    let (z2, z2_lo) = two_prod(z, z);
    let cos_small = z2.mul_add(
        cos_p,
        z2_lo.mul_add(cos_p, (-r).mul_add(r_lo, head_lo - R::c(0.5) * z_lo)),
    );
    let cos_r = head + cos_small;
    // r + tail is +0 for r = -0: keep r there, so sin(-0.0) = -0.0.
    let sin_r = if r == R::c(0.0) { r } else { sin_r };
    by_quadrant(sin_r, cos_r, k, quarter_turns)
}

/// `sin_quadrant` for f32 results computed in f64 (`Lean64`): 29 spare bits absorb every rounding, so the
/// reduction is three FMAs (exact to ~2^-80 absolute for |a| < TRIG_VECTOR_LIMIT, where a = w0·x of two
/// f32 is exact), r is a single double and each series is one plain polynomial (truncation below 2^-36
/// relative on |r| <= π/4; one term fewer, 2^-28, measured 0.529 ULP instead of 0.5001 over all f32): about
/// half the operations of the f64 path.
#[inline(always)]
fn sin_quadrant_lean<R: Real>(a: R, quarter_turns: i32) -> R {
    let (kf, k) = (a * R::c(core::f64::consts::FRAC_2_PI)).round_int();
    let r = (-kf).mul_add(
        R::c(PIO2_3),
        (-kf).mul_add(R::c(PIO2_2), (-kf).mul_add(R::c(PIO2_1), a)),
    );
    let z = r * r;
    // r·(1 + z·S) rather than r + r·z·S keeps sin(-0.0) = -0.0.
    let sin_r = r * z.mul_add(horner(z, &prefix::<5, 8>(&SIN_TAYLOR)), R::c(1.0));
    let cos_r = z.mul_add(
        z.mul_add(horner(z, &prefix::<5, 8>(&COS_TAYLOR)), R::c(-0.5)),
        R::c(1.0),
    );
    by_quadrant(sin_r, cos_r, k, quarter_turns)
}

/// sin(r + (k + quarter_turns)·π/2) from sin r and cos r.
#[inline(always)]
fn by_quadrant<R: Real>(sin_r: R, cos_r: R, k: R::Bits, quarter_turns: i32) -> R {
    let q = k.wrapping_add(R::Bits::from_i32(quarter_turns));
    let zero = R::Bits::from_i32(0);
    let v = if q & R::Bits::from_i32(1) == zero {
        sin_r
    } else {
        cos_r
    };
    if q & R::Bits::from_i32(2) == zero {
        v
    } else {
        -v
    }
}
