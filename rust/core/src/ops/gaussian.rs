//! GELU in its exact (normal CDF) and tanh forms. Both promote f32 to f64 (see each kernel for why); at f64
//! the normal tail takes x² exactly and the tanh form's argument is carried as hi + lo.

use super::{select, Kernel, Params};
use crate::math::{
    normal_cdf_pdf_scaled, sigmoid_tail_scaled, two_prod, two_sum, TAIL_SCALE, TAIL_UNSCALE,
};
use crate::real::Real;

/// Beyond |x| = 40 the normal CDF is 0 or 1 in f64 and the density underflows.
const GAUSS_SATURATED: f64 = 40.0;

/// x·Phi(x), Phi the standard normal CDF (erfc-based: no 1 + erf cancellation for x << 0).
pub struct Gelu;
impl Kernel for Gelu {
    // f32 in f64: the erfcx series needs f64 anyway (Clenshaw loses 13 ULP in f32), the derivative cancels
    // near its zero, and the far tail's chain of f32 products reached 4.6 ULP in the exhaustive sweep.
    const PROMOTE: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        // Phi is computed times 2^TAIL_SCALE so that x·Phi(x) rounds once even where Phi is subnormal.
        let xc = x.clamp_nan(R::c(-GAUSS_SATURATED), R::c(GAUSS_SATURATED));
        let y = (xc * normal_cdf_pdf_scaled(xc, TAIL_SCALE).0) * R::c(TAIL_UNSCALE);
        select(x > R::c(GAUSS_SATURATED), x, y)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        let xc = x.clamp_nan(R::c(-GAUSS_SATURATED), R::c(GAUSS_SATURATED));
        let (cdf, pdf) = normal_cdf_pdf_scaled(xc, TAIL_SCALE);
        xc.mul_add(pdf, cdf) * R::c(TAIL_UNSCALE)
    }
}

// 2·sqrt(2/π) and 0.044715 as hi + lo pairs (mpmath), so 2u is exact to ~2^-100 relative: in the tail
// sigmoid(2u) ~ exp(2u) turns an error of δ in 2u into a relative error of δ (|2u| ~ 700 costs 700 ULP).
const TWO_SQRT_2_OVER_PI: (f64, f64) = (1.595_769_121_605_730_8, -9.969_308_809_110_92e-17);
const CUBIC: (f64, f64) = (0.044_715, 2.196_021_142_708_559_5e-18);
const THREE_CUBIC: f64 = 0.134_145;
/// Below -30, x·sigmoid(2u) underflows in f64; above 30 it is x.
const TANH_FORM_SATURATED: f64 = 30.0;

/// 2u = 2·sqrt(2/π)·(x + 0.044715x³) as hi + lo; f32 kernels (computing in f64) need no lo part.
#[inline(always)]
fn two_u<R: Real>(x: R) -> (R, R) {
    if !R::PRECISE {
        let u = R::c(TWO_SQRT_2_OVER_PI.0) * x * R::c(CUBIC.0).mul_add(x * x, R::c(1.0));
        return (u, R::c(0.0));
    }
    let (x2, x2_lo) = two_prod(x, x);
    let (a, a_lo) = two_prod(R::c(CUBIC.0), x2);
    let a_lo = a_lo + R::c(CUBIC.0).mul_add(x2_lo, R::c(CUBIC.1) * x2);
    let (s, s_lo) = two_sum(R::c(1.0), a);
    let s_lo = s_lo + a_lo;
    let (c, c_lo) = two_prod(R::c(TWO_SQRT_2_OVER_PI.0), x);
    let c_lo = R::c(TWO_SQRT_2_OVER_PI.1).mul_add(x, c_lo);
    let (u, u_lo) = two_prod(c, s);
    (u, c.mul_add(s_lo, c_lo.mul_add(s, u_lo)))
}

/// 0.5·x·(1 + tanh(u)), u = sqrt(2/π)(x + 0.044715x³), computed as x·sigmoid(2u) (no cancellation).
pub struct GeluTanh;
impl Kernel for GeluTanh {
    const PROMOTE: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
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
        let (u, u_lo) = two_u(xc);
        let (s, s_neg, unscale) = sigmoid_tail_scaled(u);
        let s = (s * s_neg).mul_add(u_lo, s);
        let two_du = R::c(TWO_SQRT_2_OVER_PI.0) * R::c(THREE_CUBIC).mul_add(xc * xc, R::c(1.0));
        (xc * s * s_neg).mul_add(two_du, s) * unscale
    }
}
