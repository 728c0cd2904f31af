//! tanh and the activations built on it, and softsign, all in the input's precision: where a formula
//! cancels or rounds twice (x - tanh x, 1 + |x|), it is rewritten or compensated instead.

use super::{f32_careful_free, fast_as_careful, select, Kernel, Params};
use crate::math::{
    sigmoid_pair, tanh, tanh_complement_lean, tanh_derivative, tanh_derivative_careful,
    tanh_series, tanh_squared, two_prod, two_sum,
};
use crate::real::Real;

pub struct Tanh;
impl Kernel for Tanh {
    const PROMOTE: bool = false;
    const FROM_OUTPUT: bool = true;
    const CAREFUL: u8 = 0b10;
    fn careful_free<R: Real>(mode: u8, _p: Params<f64>) -> (f64, f64) {
        // The derivative's exp(-2|x|) is normal for |x| below 43.6 (f32).
        f32_careful_free::<R>(mode, 1, 43.0)
    }
    #[inline(always)]
    fn careful<R: Real>(mode: u8, x: R, p: Params<R>) -> (R, bool) {
        if R::IS_F64 || mode != 1 {
            return fast_as_careful::<Self, R>(mode, x, p);
        }
        tanh_derivative_careful(x)
    }
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
    const PROMOTE: bool = false;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        // x - tanh(x) cancels for |x| < 1: there x³·S(x²), with S = (x - tanh x)/x³ as a series. Above,
        // x - tanh x = (|x| - 1) + 2·sigmoid(-2|x|) (with the sign of x): |x| - 1 is exact and both terms
        // are positive, so nothing cancels.
        let a = x.abs();
        let near_a = a.clamp_nan(R::c(0.0), R::c(1.0));
        // x³ as hi + lo, so the result rounds about once more than S.
        let (w, w_lo) = two_prod(near_a, near_a);
        let (cube, cube_lo) = two_prod(w, near_a);
        let cube_lo = w_lo.mul_add(near_a, cube_lo);
        let series = tanh_series(w);
        let near = cube.mul_add(series, cube_lo * series);
        // 2·sigmoid(-2|x|) = 1 - tanh|x|: f32 takes the float32 tanh's own complement (q <= 0.27 here).
        let complement = if R::PRECISE {
            R::c(2.0) * sigmoid_pair(R::c(2.0) * a.clamp_nan(R::c(0.0), R::c(64.0))).1
        } else {
            tanh_complement_lean(a)
        };
        let far = (a - R::c(1.0)) + complement;
        select(a < R::c(1.0), near, far).copysign(x)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        tanh_squared(x)
    }
}

/// x/(1 + |x|); ±1 at ±inf.
pub struct Softsign;
impl Kernel for Softsign {
    const PROMOTE: bool = false;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        // q = x/d with d = 1 + |x| carried exactly (d + d_lo): one reciprocal, then one correction step
        // from the exact residual x - q·d - q·d_lo, so the result rounds about once.
        // Beyond 2^100 the result rounds to ±1 in both precisions; clamping keeps ±inf out of x·(1/d).
        let big = R::c(1.2676506002282294e30);
        let xc = x.clamp_nan(-big, big);
        let (d, d_lo) = two_sum(R::c(1.0), xc.abs());
        let inv = R::c(1.0) / d;
        let q = xc * inv;
        let residual = (-q).mul_add(d, xc) - q * d_lo;
        // Keep q where there is no residual: q + 0 would turn -0.0 into +0.0.
        select(residual == R::c(0.0), q, residual.mul_add(inv, q))
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        // 1/d² with d = 1 + |x| and d² both taken exactly (hi + lo), then one correction step. Where d²
        // would overflow, d is scaled by a power of two first and the result unscaled twice.
        let a = x.abs();
        let (limit, step) = if R::IS_F64 {
            (2f64.powi(300), 2f64.powi(-600))
        } else {
            (2f64.powi(32), 2f64.powi(-70))
        };
        let scale = select(a > R::c(limit), R::c(step), R::c(1.0));
        let (d, d_lo) = two_sum(R::c(1.0), a);
        let (d, d_lo) = (d * scale, d_lo * scale);
        let (sq, sq_lo) = two_prod(d, d);
        let sq_lo = (R::c(2.0) * d).mul_add(d_lo, sq_lo);
        let q = R::c(1.0) / sq;
        let q = (-(q * sq_lo)).mul_add(q, q);
        let q = (q * scale) * scale;
        // x = ±inf: d² is inf even scaled, and the derivative is 0.
        select(sq.is_infinite(), R::c(0.0), q)
    }
}
