//! GELU in its exact (normal CDF) and tanh forms. The exact form runs in the input's precision (the normal
//! tail takes x² exactly); the tanh form promotes f32 to f64, since its rounded cubic argument u would cost
//! |u| ULP in the tail.

use super::{select, Kernel, Params};
use crate::math::{normal_cdf_pdf_scaled, sigmoid_pair, TAIL_SCALE, TAIL_UNSCALE};
use crate::real::Real;

/// Beyond |x| = 40 the normal CDF is 0 or 1 in f64 and the density underflows.
const GAUSS_SATURATED: f64 = 40.0;

/// x·Phi(x), Phi the standard normal CDF (erfc-based: no 1 + erf cancellation for x << 0).
pub struct Gelu;
impl Kernel for Gelu {
    const PROMOTE: bool = false;
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

const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
const GELU_TANH_CUBIC: f64 = 0.044_715;
/// Below -30, x·sigmoid(2u) underflows in f64; above 30 it is x.
const TANH_FORM_SATURATED: f64 = 30.0;

/// 0.5·x·(1 + tanh(u)), u = sqrt(2/π)(x + 0.044715x³), computed as x·sigmoid(2u) (no cancellation).
pub struct GeluTanh;
impl Kernel for GeluTanh {
    const PROMOTE: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, _p: Params<R>) -> R {
        let x2 = x * x;
        let two_u = R::c(2.0 * SQRT_2_OVER_PI) * x * R::c(GELU_TANH_CUBIC).mul_add(x2, R::c(1.0));
        let y = x * sigmoid_pair(two_u).0;
        select(x < R::c(-TANH_FORM_SATURATED), R::c(-0.0), y)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, _p: Params<R>) -> R {
        let xc = x.clamp_nan(R::c(-TANH_FORM_SATURATED), R::c(TANH_FORM_SATURATED));
        let x2 = xc * xc;
        let two_u = R::c(2.0 * SQRT_2_OVER_PI) * xc * R::c(GELU_TANH_CUBIC).mul_add(x2, R::c(1.0));
        let two_du = R::c(2.0 * SQRT_2_OVER_PI) * R::c(3.0 * GELU_TANH_CUBIC).mul_add(x2, R::c(1.0));
        let (s, s_neg) = sigmoid_pair(two_u);
        (xc * s * s_neg).mul_add(two_du, s)
    }
}
