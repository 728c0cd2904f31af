//! tanh and the activations built on it, and softsign. All promote f32 to f64.

use super::{select, Kernel, Params};
use crate::math::tanh;
use crate::real::{horner, Real};

pub struct Tanh;
impl Kernel for Tanh {
    const PROMOTE: bool = true;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        tanh(x)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        let t = tanh(x);
        (R::c(1.0) - t) * (R::c(1.0) + t)
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, _p: Params<R>) -> R {
        (R::c(1.0) - y) * (R::c(1.0) + y)
    }
}

/// Taylor series of (x - tanh x)/x³ in x² (coefficients 2^2n(2^2n - 1)|B_2n|/(2n)!): used for |x| < 0.1,
/// where x - tanh(x) cancels; truncation < 1e-18 relative there.
const TANHSHRINK_TAYLOR: [f64; 7] = [
    1.0 / 3.0,
    -2.0 / 15.0,
    17.0 / 315.0,
    -62.0 / 2835.0,
    1382.0 / 155_925.0,
    -21844.0 / 6_081_075.0,
    929_569.0 / 638_512_875.0,
];

/// x - tanh(x).
pub struct Tanhshrink;
impl Kernel for Tanhshrink {
    const PROMOTE: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        let series = x * x * x * horner(x * x, &TANHSHRINK_TAYLOR);
        select(x.abs() < R::c(0.1), series, x - tanh(x))
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        let t = tanh(x);
        t * t
    }
}

/// x/(1 + |x|); ±1 at ±inf.
pub struct Softsign;
impl Kernel for Softsign {
    const PROMOTE: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        let big = R::c(f64::MAX);
        let xc = x.clamp_nan(-big, big);
        xc / (R::c(1.0) + xc.abs())
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        let d = R::c(1.0) + x.abs();
        R::c(1.0) / (d * d)
    }
}
