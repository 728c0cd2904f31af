//! tanh and the activations built on it, and softsign. tanh runs in the input's precision; tanhshrink
//! promotes f32 to f64 (x - tanh x cancels), softsign too (its 1 + |x| would round).

use super::{select, Kernel, Params};
use crate::math::{tanh, tanh_derivative, tanh_series, two_prod, two_sum};
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
        // x - tanh(x) cancels for |x| < 1: there x³·S(x²), with S = (x - tanh x)/x³ as a series.
        let a = x.clamp_nan(R::c(-1.0), R::c(1.0));
        let w = a * a;
        let series = (w * a) * tanh_series(w);
        select(x.abs() < R::c(1.0), series, x - tanh(x))
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
        // 1/d² with d = 1 + |x| and d² both taken exactly (hi + lo), then one correction step.
        let (d, d_lo) = two_sum(R::c(1.0), x.abs());
        let (sq, sq_lo) = two_prod(d, d);
        let sq_lo = (R::c(2.0) * d).mul_add(d_lo, sq_lo);
        let q = R::c(1.0) / sq;
        let q = (-(q * sq_lo)).mul_add(q, q);
        // d² overflows (|x| > 1e154 in f64): the derivative underflows to 0.
        select(sq.is_infinite(), R::c(0.0), q)
    }
}
