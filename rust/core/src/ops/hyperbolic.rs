//! tanh and the activations built on it, and softsign. tanh runs in the input's precision; tanhshrink
//! promotes f32 to f64 (x - tanh x cancels), softsign too (its 1 + |x| would round).

use super::{select, Kernel, Params};
use crate::math::{tanh, tanh_derivative, tanh_series};
use crate::real::Real;

pub struct Tanh;
impl Kernel for Tanh {
    const PROMOTE: bool = false;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        tanh(x)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        tanh_derivative(x)
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, _p: Params<R>) -> R {
        (R::c(1.0) - y) * (R::c(1.0) + y)
    }
}

/// x - tanh(x).
pub struct Tanhshrink;
impl Kernel for Tanhshrink {
    const PROMOTE: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        // x - tanh(x) cancels near 0: the Taylor series of (x - tanh x)/x³ takes over there.
        let series = x * x * x * tanh_series(x * x);
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
