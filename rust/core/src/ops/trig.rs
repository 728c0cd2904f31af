//! The SIREN activation sin(w0·x). Promotes f32 to f64; arguments beyond the vector range reduction
//! (|w0·x| >= 2^19) take the scalar path through the platform's correctly reduced `sin`/`cos`.

use super::{Kernel, Params};
use crate::math::{sin_quadrant, TRIG_VECTOR_LIMIT};
use crate::real::Real;

pub struct Sine;
impl Kernel for Sine {
    const PROMOTE: bool = true;
    const HAS_EXACT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        sin_quadrant(p[0] * x, 0)
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, p: Params<R>) -> R {
        p[0] * sin_quadrant(p[0] * x, 1)
    }
    fn needs_exact(x: f64, p: Params<f64>) -> bool {
        // NaN and ±inf arguments take the exact path too.
        (p[0] * x).abs().partial_cmp(&TRIG_VECTOR_LIMIT) != Some(core::cmp::Ordering::Less)
    }
    fn exact_free_below(p: Params<f64>) -> f64 {
        TRIG_VECTOR_LIMIT / p[0].abs()
    }
    fn forward_exact(x: f64, p: Params<f64>) -> f64 {
        (p[0] * x).sin()
    }
    fn derivative_exact(x: f64, p: Params<f64>) -> f64 {
        p[0] * (p[0] * x).cos()
    }
}
