//! Piecewise-linear and piecewise-quadratic activations. Exact or correctly rounded in the input's precision
//! (no promotion; sparse_plus widens f32 to f64 for one step), and the value at every kink and at NaN follows
//! PyTorch's CPU kernels: its backward branch tests are copied literally, so a comparison with NaN (always
//! false) picks the same branch as in PyTorch. Those PyTorch lacks (relu2, shrink, sparse_plus,
//! sparse_sigmoid) test their kinks the same way.

use super::{select, Kernel, Params};
use crate::math::{two_prod_finite, two_sum};
use crate::real::{Int, Real};

/// x·c, but a signed zero (sign of x times sign of c) where c = 0, also for x = ±inf (0·inf is NaN).
#[inline(always)]
fn scale<R: Real>(x: R, c: R) -> R {
    let sign = R::c(1.0).copysign(x) * R::c(1.0).copysign(c);
    let zero = R::c(0.0).copysign(sign);
    select(c == R::c(0.0) && !x.is_nan(), zero, x * c)
}

/// slope·x.
pub struct Identity;
impl Kernel for Identity {
    const PROMOTE: bool = false;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        scale(x, p[0])
    }
    #[inline(always)]
    fn derivative<R: Real>(_x: R, p: Params<R>) -> R {
        p[0]
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(_y: R, p: Params<R>) -> R {
        p[0]
    }
}

/// 1 where x >= threshold, else 0; NaN -> NaN. Derivative 0 (NaN at NaN).
pub struct BinaryStep;
impl Kernel for BinaryStep {
    const PROMOTE: bool = false;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        let step = select(x >= p[0], R::c(1.0), R::c(0.0));
        select(x.is_nan(), x, step)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        select(x.is_nan(), x, R::c(0.0))
    }
}

/// max(x, 0), keeping NaN and -0.0 like PyTorch's vectorised clamp_min. relu'(0) = 0, relu'(NaN) = 1.
pub struct Relu;
impl Kernel for Relu {
    const PROMOTE: bool = false;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        select(x < R::c(0.0), R::c(0.0), x)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        select(x <= R::c(0.0), R::c(0.0), R::c(1.0))
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, p: Params<R>) -> R {
        Self::derivative(y, p)
    }
}

/// x if x > 0 else negative_slope·x.
pub struct LeakyRelu;
impl Kernel for LeakyRelu {
    const PROMOTE: bool = false;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        select(x > R::c(0.0), x, scale(x, p[0]))
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, p: Params<R>) -> R {
        select(x > R::c(0.0), R::c(1.0), p[0])
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, p: Params<R>) -> R {
        Self::derivative(y, p)
    }
}

#[inline(always)]
fn clamp<R: Real>(x: R, lo: R, hi: R) -> R {
    select(x < lo, lo, select(x > hi, hi, x))
}

#[inline(always)]
fn inside<R: Real>(x: R, lo: R, hi: R) -> R {
    // PyTorch's hardtanh_backward: 0 where x <= lo or x >= hi, so NaN passes the gradient.
    select(x <= lo || x >= hi, R::c(0.0), R::c(1.0))
}

/// min(max(x, 0), 6).
pub struct Relu6;
impl Kernel for Relu6 {
    const PROMOTE: bool = false;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        clamp(x, R::c(0.0), R::c(6.0))
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        inside(x, R::c(0.0), R::c(6.0))
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, p: Params<R>) -> R {
        Self::derivative(y, p)
    }
}

/// clamp(x, min_val, max_val).
pub struct HardTanh;
impl Kernel for HardTanh {
    const PROMOTE: bool = false;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        clamp(x, p[0], p[1])
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, p: Params<R>) -> R {
        inside(x, p[0], p[1])
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, p: Params<R>) -> R {
        Self::derivative(y, p)
    }
}

/// relu6(x + 3)/6, rounded once: x + 3 is taken exactly (hi + lo) and the quotient corrected by its
/// remainder, all in the input's precision.
pub struct HardSigmoid;
impl HardSigmoid {
    /// Whether (alpha, beta) are PyTorch's (1/6, 1/2), 1/6 rounded to f64 or f32 (whichever precision the
    /// caller rounded it in): then the exact relu6(x + 3)/6.
    #[inline(always)]
    fn pytorch<R: Real>(p: Params<R>) -> bool {
        let alpha = p[0].to_f64();
        (alpha == 1.0 / 6.0 || alpha == f64::from((1.0f64 / 6.0) as f32)) && p[1] == R::c(0.5)
    }
}
impl Kernel for HardSigmoid {
    const PROMOTE: bool = false;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        if !Self::pytorch(p) {
            // alpha·x + beta rounded once and clamped to [0, 1]; with alpha = 0 the constant, ±inf included
            // (not the NaN of 0·inf), NaN still NaN.
            let t = p[0].mul_add(x, p[1]);
            let t = select(p[0] == R::c(0.0) && x.is_infinite(), p[1], t);
            return t.clamp_nan(R::c(0.0), R::c(1.0));
        }
        // (xc + 3)/6 on x clamped to [-3, 3] (NaN passes): q ~ s/6 by a multiplication (a division costs
        // several times more), then one correction step from the exact remainder plus the rounding of
        // xc + 3, taken by Fast2Sum (|xc| <= 3 has 3's exponent or less). Correctly rounded over all f32
        // inputs (exhaustive sweep); +0.0 at and below -3.
        let xc = x.clamp_nan(R::c(-3.0), R::c(3.0));
        let three = R::c(3.0);
        let s = xc + three;
        let s_lo = xc - (s - three);
        let q = s * R::c(1.0 / 6.0);
        let rem = (-q).mul_add(R::c(6.0), s) + s_lo;
        rem.mul_add(R::c(1.0 / 6.0), q)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, p: Params<R>) -> R {
        if !Self::pytorch(p) {
            // alpha strictly inside (0, 1), 0 at the kinks and outside (PyTorch's convention for the default).
            let t = p[0].mul_add(x, p[1]);
            return select(t > R::c(0.0) && t < R::c(1.0), p[0], R::c(0.0));
        }
        select(x > R::c(-3.0) && x < R::c(3.0), R::c(1.0 / 6.0), R::c(0.0))
    }
}

/// x·relu6(x + 3)/6; hard_swish(x <= -3) = -0.0 (PyTorch's x·0/6, and the limit at -inf).
pub struct HardSwish;
impl Kernel for HardSwish {
    const PROMOTE: bool = false;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        // xc·(xc + 3)/6 rounded once on x clamped to [-3, 3] (NaN passes): xc + 3 (by Fast2Sum, as in
        // hard_sigmoid) and the product are taken exactly (hi + lo), then divided by 6 through a
        // multiplication by 1/6 and one exact remainder step (no division instruction).
        let xc = x.clamp_nan(R::c(-3.0), R::c(3.0));
        let three = R::c(3.0);
        let s = xc + three;
        let s_lo = xc - (s - three);
        let (p, p_lo) = two_prod_finite(xc, s);
        let p_lo = xc.mul_add(s_lo, p_lo);
        let sixth = R::c(1.0 / 6.0);
        let q = p * sixth;
        // The remainder is taken negated, 6q - p - p_lo (exact), and added back negated: where it is +0 the
        // negation makes it -0, so q = -0 (x = -0.0, and x <= -3 where the product is -3·0) stays -0.
        let rem_neg = q.mul_add(R::c(6.0), -p) - p_lo;
        let mid = (-rem_neg).mul_add(sixth, q);
        select(x > three, x, mid)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        // (2x + 3)/6 = (x + 1.5)/3, rather than x/3 + 0.5, which cancels near x = -1.5; x + 1.5 is taken
        // exactly (hi + lo) and divided by 3 like the forward divides by 6.
        let (s, s_lo) = two_sum(x, R::c(1.5));
        let third = R::c(1.0 / 3.0);
        let q = s * third;
        let rem = (-q).mul_add(R::c(3.0), s) + s_lo;
        let mid = rem.mul_add(third, q);
        // PyTorch's kinks: 0 at x = -3, 1 at x = 3; NaN fails both tests and gets 1, as in PyTorch.
        select(
            x <= R::c(-3.0),
            R::c(0.0),
            select(x < R::c(3.0), mid, R::c(1.0)),
        )
    }
}

/// x - lambd above lambd, x + lambd below -lambd, 0 between; NaN -> NaN.
pub struct Softshrink;
impl Kernel for Softshrink {
    const PROMOTE: bool = false;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        let l = p[0];
        // Inside the band x·0: -0.0 for negative x, as in PyTorch.
        let y = select(x > l, x - l, select(x < -l, x + l, x * R::c(0.0)));
        select(x.is_nan(), x, y)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, p: Params<R>) -> R {
        select(x >= -p[0] && x <= p[0], R::c(0.0), R::c(1.0))
    }
}

/// 0 for -lambd <= x <= lambd, else x.
pub struct Hardshrink;
impl Kernel for Hardshrink {
    const PROMOTE: bool = false;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        select(x >= -p[0] && x <= p[0], R::c(0.0), x)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, p: Params<R>) -> R {
        select(x >= -p[0] && x <= p[0], R::c(0.0), R::c(1.0))
    }
}

/// value where x <= threshold, else x.
pub struct Threshold;
impl Kernel for Threshold {
    const PROMOTE: bool = false;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        select(x <= p[0], p[1], x)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, p: Params<R>) -> R {
        select(x <= p[0], R::c(0.0), R::c(1.0))
    }
}

/// max(0, x)²: +0.0 for x <= 0 (-0.0 included), one rounding above; NaN -> NaN.
pub struct Relu2;
impl Kernel for Relu2 {
    const PROMOTE: bool = false;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        select(x <= R::c(0.0), R::c(0.0), x * x)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        // relu's test x <= 0 -> 0: 0 at x = 0, NaN at NaN (2·NaN).
        select(x <= R::c(0.0), R::c(0.0), R::c(2.0) * x)
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, _p: Params<R>) -> R {
        // 2·sqrt(y): sqrt is correctly rounded and the doubling exact. y <= 0 -> 0, as relu's from-output test.
        select(y <= R::c(0.0), R::c(0.0), R::c(2.0) * y.sqrt())
    }
}

/// ONNX's Shrink: x + bias below -lambd, x - bias above lambd, +0.0 on [-lambd, lambd]; NaN -> NaN.
pub struct Shrink;
impl Kernel for Shrink {
    const PROMOTE: bool = false;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        let (lambd, bias) = (p[0], p[1]);
        let y = select(x < -lambd, x + bias, select(x > lambd, x - bias, R::c(0.0)));
        select(x.is_nan(), x, y)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, p: Params<R>) -> R {
        // softshrink's test: 0 on the closed interval, 1 outside it and at NaN.
        select(x >= -p[0] && x <= p[0], R::c(0.0), R::c(1.0))
    }
}

/// (1 + clamp(x, -1, 1))/2, correctly rounded: the sum rounds once and halving is exact. NaN passes.
#[inline(always)]
fn half_of_one_plus<R: Real>(x: R) -> R {
    (R::c(1.0) + x.clamp_nan(R::c(-1.0), R::c(1.0))) * R::c(0.5)
}

/// hi + lo rounded to odd, for hi = fl(hi + lo) >= 0: hi, or its neighbour towards lo where lo != 0 and
/// hi's last bit is 0. Rounding that once more to a format at least two bits narrower gives hi + lo
/// correctly rounded (Boldo and Melquiond, "Emulation of FMA and correctly rounded sums", 2008).
#[inline(always)]
fn round_to_odd_nonneg<R: Real>(hi: R, lo: R) -> R {
    let bits = hi.to_bits();
    let one = R::Bits::from_i32(1);
    let even = (bits & one) == R::Bits::from_i32(0);
    let up = R::from_bits(bits.wrapping_add(one));
    let down = R::from_bits(bits.wrapping_sub(one));
    select(
        even && lo != R::c(0.0),
        select(lo > R::c(0.0), up, down),
        hi,
    )
}

/// (xc + 1)² on x clamped to [-1, 1] (NaN passes) as sum + lo: xc + 1 exact as s + s_lo (Fast2Sum: |xc| <= 1),
/// s² exact as sq + sq_lo, the rest of the square in the tail.
#[inline(always)]
fn one_plus_squared<R: Real>(x: R) -> (R, R) {
    let xc = x.clamp_nan(R::c(-1.0), R::c(1.0));
    let one = R::c(1.0);
    let s = one + xc;
    let s_lo = xc - (s - one);
    let (sq, sq_lo) = two_prod_finite(s, s);
    let tail = (R::c(2.0) * s).mul_add(s_lo, sq_lo) + s_lo * s_lo;
    let sum = sq + tail;
    (sum, (sq - sum) + tail) // Fast2Sum: |tail| <= |sq|
}

/// 0 for x <= -1, (x + 1)²/4 for -1 < x < 1, x for x >= 1 (JAX's sparse_plus).
pub struct SparsePlus;
impl Kernel for SparsePlus {
    const PROMOTE: bool = false;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        // (x + 1)²/4; the quarter is exact. f32 computes the square in f64 (widened in the vector registers):
        // there x + 1 is exact wherever the result is not 1/4 to f32 precision (|x| >= 2^-29), so sum + lo is
        // the exact square, rounded to odd and then to f32 once: correctly rounded. f64 rounds sum + lo once
        // (nearly correctly rounded). +0.0 at and below -1.
        let sum = if R::IS_F64 {
            one_plus_squared(x).0
        } else {
            let (sum, lo) = one_plus_squared(x.to_f64());
            R::c(round_to_odd_nonneg(sum, lo))
        };
        select(x >= R::c(1.0), x, sum * R::c(0.25))
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        // sparse_sigmoid: continuous, so the kinks need no convention; NaN -> NaN.
        half_of_one_plus(x)
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, _p: Params<R>) -> R {
        // (x + 1)/2 = sqrt(y) while y < 1, 1 above: sqrt(clamp(y, 0, 1)), correctly rounded; NaN passes.
        y.clamp_nan(R::c(0.0), R::c(1.0)).sqrt()
    }
}

/// 0 for x <= -1, (x + 1)/2 for -1 < x < 1, 1 for x >= 1 (JAX's sparse_sigmoid, sparse_plus' derivative).
pub struct SparseSigmoid;
impl Kernel for SparseSigmoid {
    const PROMOTE: bool = false;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        half_of_one_plus(x)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        // hard_sigmoid's test: 1/2 strictly inside, 0 at x = ±1, outside and at NaN.
        select(x > R::c(-1.0) && x < R::c(1.0), R::c(0.5), R::c(0.0))
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, _p: Params<R>) -> R {
        select(y > R::c(0.0) && y < R::c(1.0), R::c(0.5), R::c(0.0))
    }
}
