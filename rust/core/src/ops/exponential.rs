//! Activations built on exp, expm1 and log1p. All promote f32 to f64. Where a product would form
//! ±inf·0 at x = ±inf, the input is clamped to a range where the result has already saturated, so every
//! function returns its mathematical limit at ±inf.

use super::{select, Kernel, Params};
use crate::math::{exp, expm1, log1p, sigmoid_pair};
use crate::real::Real;

/// Beyond |x| = 2000 every function of this family has saturated in f64 (exp(-2000) = 0).
const SATURATED: f64 = 2000.0;

/// 1/(1 + exp(-x)).
pub struct Sigmoid;
impl Kernel for Sigmoid {
    const PROMOTE: bool = true;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        sigmoid_pair(x).0
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        let (s, s_neg) = sigmoid_pair(x);
        s * s_neg
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, _p: Params<R>) -> R {
        y * (R::c(1.0) - y)
    }
}

/// x·sigmoid(x).
pub struct Silu;
impl Kernel for Silu {
    const PROMOTE: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        let xc = x.clamp_nan(R::c(-SATURATED), R::INFINITY);
        xc * sigmoid_pair(xc).0
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        let xc = x.clamp_nan(R::c(-SATURATED), R::c(SATURATED));
        let (s, s_neg) = sigmoid_pair(xc);
        s * xc.mul_add(s_neg, R::c(1.0))
    }
}

/// log(1 + exp(beta·x))/beta, and x where beta·x > threshold (PyTorch's linear region).
pub struct Softplus;
impl Kernel for Softplus {
    const PROMOTE: bool = true;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        let (beta, threshold) = (p[0], p[1]);
        let z = beta * x;
        let zero = R::c(0.0);
        let soft = (select(z > zero, z, zero) + log1p(exp(-z.abs()))) / beta;
        select(z > threshold, x, soft)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, p: Params<R>) -> R {
        let z = p[0] * x;
        select(z > p[1], R::c(1.0), sigmoid_pair(z).0)
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, p: Params<R>) -> R {
        let z = p[0] * y;
        select(z > p[1], R::c(1.0), -expm1(-z))
    }
}

/// min(x, 0) - log1p(exp(-|x|)) = -softplus(-x).
pub struct LogSigmoid;
impl Kernel for LogSigmoid {
    const PROMOTE: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        let zero = R::c(0.0);
        select(x < zero, x, zero) - log1p(exp(-x.abs()))
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        sigmoid_pair(x).1
    }
}

/// x if x > 0 else alpha·expm1(x). PyTorch's backward: alpha·exp(x) where x <= 0, else 1.
pub struct Elu;
impl Kernel for Elu {
    const PROMOTE: bool = true;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        select(x > R::c(0.0), x, p[0] * expm1(x))
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, p: Params<R>) -> R {
        select(x <= R::c(0.0), p[0] * exp(x), R::c(1.0))
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, p: Params<R>) -> R {
        select(y <= R::c(0.0), y + p[0], R::c(1.0))
    }
}

/// max(0, x) + min(0, alpha·expm1(x/alpha)).
pub struct Celu;
impl Kernel for Celu {
    const PROMOTE: bool = true;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        select(x > R::c(0.0), x, p[0] * expm1(x / p[0]))
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, p: Params<R>) -> R {
        select(x <= R::c(0.0), exp(x / p[0]), R::c(1.0))
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, p: Params<R>) -> R {
        select(y <= R::c(0.0), y / p[0] + R::c(1.0), R::c(1.0))
    }
}

// SELU's constants (Klambauer et al., 2017), as PyTorch spells them.
const SELU_ALPHA: f64 = 1.673_263_242_354_377_284_817_042_991_671_7;
const SELU_SCALE: f64 = 1.050_700_987_355_480_493_419_334_985_294_6;

/// scale·(x if x > 0 else alpha·expm1(x)).
pub struct Selu;
impl Kernel for Selu {
    const PROMOTE: bool = true;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        R::c(SELU_SCALE) * select(x > R::c(0.0), x, R::c(SELU_ALPHA) * expm1(x))
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        select(x <= R::c(0.0), R::c(SELU_SCALE * SELU_ALPHA) * exp(x), R::c(SELU_SCALE))
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, _p: Params<R>) -> R {
        select(y <= R::c(0.0), y + R::c(SELU_SCALE * SELU_ALPHA), R::c(SELU_SCALE))
    }
}

/// tanh(softplus(x)) from e = exp(-|x|) without cancellation, and 1 - tanh(softplus(x))².
#[inline(always)]
fn mish_parts<R: Real>(x: R) -> (R, R, R) {
    let one = R::c(1.0);
    let two = R::c(2.0);
    let e = exp(-x.abs());
    // x > 0: tanh(sp) = (1 + 2e)/(1 + 2e + 2e²), 1 - tanh² = 4e²(1+e)²/(1 + 2e + 2e²)².
    let den = two * e * (one + e) + one;
    let t_pos = (two * e + one) / den;
    let sech2_pos = (two * e * (one + e) / den) * (two / den);
    // x <= 0: with n = e(e + 2), tanh(sp) = n/(n + 2).
    let n = e * (e + two);
    let t_neg = n / (n + two);
    let sech2_neg = (one - t_neg) * (one + t_neg);
    let positive = x > R::c(0.0);
    let sig = one / (one + e);
    let sigmoid = select(positive, sig, e * sig);
    (select(positive, t_pos, t_neg), select(positive, sech2_pos, sech2_neg), sigmoid)
}

/// x·tanh(softplus(x)).
pub struct Mish;
impl Kernel for Mish {
    const PROMOTE: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        let xc = x.clamp_nan(R::c(-SATURATED), R::INFINITY);
        xc * mish_parts(xc).0
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        let xc = x.clamp_nan(R::c(-SATURATED), R::c(SATURATED));
        let (t, sech2, sigmoid) = mish_parts(xc);
        (xc * sigmoid).mul_add(sech2, t)
    }
}
