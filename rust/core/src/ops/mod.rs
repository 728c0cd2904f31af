//! The activations, one zero-sized type each, grouped by family. Each implements [`Kernel`]: a forward,
//! its derivative, and (where it exists) the derivative written from the output. The table in
//! `crate::table` lists them; nothing else needs to know they exist.

mod algebraic;
mod exponential;
mod gaussian;
mod hyperbolic;
mod piecewise;
mod special;
mod trig;

pub use algebraic::Squareplus;
pub use exponential::{Celu, Elu, LogSigmoid, Mish, Selu, Sigmoid, Silu, Softplus, Swish};
pub use gaussian::{Gelu, GeluSigmoid, GeluTanh};
pub use hyperbolic::{Softsign, Tanh, Tanhshrink};
pub use piecewise::{
    BinaryStep, HardSigmoid, HardSwish, HardTanh, Hardshrink, Identity, LeakyRelu, Relu, Relu2,
    Relu6, Shrink, Softshrink, SparsePlus, SparseSigmoid, Threshold,
};
pub use special::{Erf, Erfc, LogNdtr, Logit, Ndtr};
pub use trig::Sine;

use crate::real::Real;

/// A kernel's numeric parameters in table order (unused slots are 0).
pub type Params<R> = [R; 2];

pub trait Kernel: Send + Sync + 'static {
    /// f32 inputs are widened to f64, computed, and rounded once: accuracy ~0.5 ULP at half the lanes.
    const PROMOTE: bool;
    /// The same for the derivatives alone (those whose formula cancels near a zero crossing).
    const PROMOTE_DERIVATIVE: bool = Self::PROMOTE;
    /// Whether `derivative_from_output` is meaningful.
    const FROM_OUTPUT: bool = false;
    /// Whether some inputs need the scalar exact path (see `needs_exact`).
    const HAS_EXACT: bool = false;

    fn forward<R: Real>(x: R, p: Params<R>) -> R;
    fn derivative<R: Real>(x: R, p: Params<R>) -> R;
    fn derivative_from_output<R: Real>(y: R, p: Params<R>) -> R {
        let _ = (y, p);
        R::NAN
    }
    /// Inputs the vector path cannot handle (sine's huge arguments); patched afterwards, one by one.
    fn needs_exact(x: f64, p: Params<f64>) -> bool {
        let _ = (x, p);
        false
    }
    /// Every |x| below this is handled by the vector path (a cheap vectorised pre-check of a whole row).
    fn exact_free_below(p: Params<f64>) -> f64 {
        let _ = p;
        f64::INFINITY
    }
    /// Which modes have a careful variant (`careful`) for the inputs outside `careful_free`: bit 0 the
    /// forward, bit 1 the derivative.
    const CAREFUL: u8 = 0;
    /// Mode `mode`'s (0 forward, 1 derivative) inputs in [lo, hi] give no subnormal intermediate or
    /// result. Outside, the fast formula may produce one, and an operation with a subnormal result costs
    /// several times a normal one on current x86 cores (3x a whole sigmoid on AMD Zen 5); a block of inputs
    /// that leaves the range is computed by `careful` instead, which gives the same bits without such
    /// operations and costs more per element. NaN counts as inside.
    fn careful_free<R: Real>(mode: u8, p: Params<f64>) -> (f64, f64) {
        let _ = (mode, p);
        (f64::NEG_INFINITY, f64::INFINITY)
    }
    /// The careful variant of mode `mode` as (v, scaled): the result is v·2^-TAIL_SCALE where `scaled`, v
    /// elsewhere (`math::unscale_tail_signed` takes the scale out without a subnormal operation).
    #[inline(always)]
    fn careful<R: Real>(mode: u8, x: R, p: Params<R>) -> (R, bool) {
        fast_as_careful::<Self, R>(mode, x, p)
    }
    fn forward_exact(x: f64, p: Params<f64>) -> f64 {
        Self::forward(x, p)
    }
    fn derivative_exact(x: f64, p: Params<f64>) -> f64 {
        Self::derivative(x, p)
    }
}

/// The careful-free range of an f32 careful variant that covers mode `covered` only: (-bound, bound) for f32
/// in that mode, the whole line elsewhere (no careful blocks: f64 and the other mode keep the fast formula).
pub(crate) fn f32_careful_free<R: Real>(mode: u8, covered: u8, bound: f64) -> (f64, f64) {
    if R::IS_F64 || mode != covered {
        (f64::NEG_INFINITY, f64::INFINITY)
    } else {
        (-bound, bound)
    }
}

/// The fast formula as a careful result (unscaled): the default `careful`, and the fallback for the modes
/// and types a careful variant does not cover (the driver never asks there, as `careful_free` leaves them
/// no careful blocks).
#[inline(always)]
pub(crate) fn fast_as_careful<K: Kernel + ?Sized, R: Real>(
    mode: u8,
    x: R,
    p: Params<R>,
) -> (R, bool) {
    let v = if mode == 0 {
        K::forward(x, p)
    } else {
        K::derivative(x, p)
    };
    (v, false)
}

/// `if cond { a } else { b }`, named for readability in kernels.
#[inline(always)]
pub(crate) fn select<R: Real>(cond: bool, a: R, b: R) -> R {
    if cond {
        a
    } else {
        b
    }
}
