//! Activations built on a square root: squareplus. Computed in the input's precision, with sqrt(x² + b)
//! carried as hi + lo so that results round about once, and without overflow or underflow of x² + b: huge
//! and tiny arguments are scaled by a power of two first.

use super::{select, Kernel, Params};
use crate::math::{two_prod_finite, two_sum};
use crate::real::Real;

/// x, b and sqrt(x² + b) scaled by 2^-k: |x|·2^-k as `a`, the root as `s + s_lo` (|s_lo| <= ulp(s)), its
/// reciprocal `inv` (rounded), `u + u_lo` = (s + |x|)·2^-k, `unscale` = 2^k and `scale` = 2^-k.
struct Root<R> {
    a: R,
    s: R,
    s_lo: R,
    inv: R,
    u: R,
    u_lo: R,
    unscale: R,
    scale: R,
}

/// Beyond |x| = BIG or b = BIG², x² + b could overflow: both are scaled by 2^-DOWN (b twice). Below
/// |x| = SMALL and b = SMALL², x² would lose bits to underflow (b = 0 and a subnormal x must still give
/// squareplus(x) = x): both are scaled up by 2^UP. Either way x² + b stays normal and finite, and what the
/// scaling rounds (b·2^-2·DOWN when |x| alone is huge, x·2^-DOWN when b alone is) is below 2^-60 of x² + b.
/// (f32, f64) exponents: BIG = 2^50 / 2^400, DOWN = 80 / 600, SMALL = 2^-50 / 2^-400, UP = 100 / 600.
#[inline(always)]
fn root<R: Real>(x: R, b: R) -> Root<R> {
    let (big, down, small, up) = if R::IS_F64 {
        (
            2f64.powi(400),
            2f64.powi(-600),
            2f64.powi(-400),
            2f64.powi(600),
        )
    } else {
        (
            2f64.powi(50),
            2f64.powi(-80),
            2f64.powi(-50),
            2f64.powi(100),
        )
    };
    let abs_x = x.abs();
    let large = abs_x > R::c(big) || b > R::c(big * big);
    let tiny = abs_x < R::c(small) && b < R::c(small * small);
    let scale = select(large, R::c(down), select(tiny, R::c(up), R::c(1.0)));
    let unscale = select(
        large,
        R::c(1.0 / down),
        select(tiny, R::c(1.0 / up), R::c(1.0)),
    );
    let a = abs_x * scale;
    let bs = (b * scale) * scale;
    // x² + b exactly as t + t_lo, then s = sqrt(t) corrected by one Newton step on the exact residual.
    let (sq, sq_lo) = two_prod_finite(a, a);
    let (t, t_lo) = two_sum(sq, bs);
    let s = t.sqrt();
    // s = 0 only for x = b = 0, where the step would be 0·inf.
    let inv = R::c(1.0) / s;
    let residual = (-s).mul_add(s, t) + (t_lo + sq_lo);
    let s_lo = select(s == R::c(0.0), R::c(0.0), residual * (R::c(0.5) * inv));
    // s + |x| by Fast2Sum: s >= |x| (sqrt(fl(x²)) = |x|, and b >= 0).
    let u = s + a;
    let u_lo = (a - (u - s)) + s_lo;
    Root {
        a,
        s,
        s_lo,
        inv,
        u,
        u_lo,
        unscale,
        scale,
    }
}

/// squareplus(x) for finite x from its root: (s + x)/2 for x >= 0; b/(2(s - x)) = (b/4)/((s + |x|)/2) below
/// 0, which does not cancel. Returned as hi + lo (lo is 0 for x >= 0), hi rounded once.
#[inline(always)]
fn value<R: Real>(x: R, b: R, r: &Root<R>) -> (R, R) {
    let half = R::c(0.5) * r.unscale;
    let positive = (r.u + r.u_lo) * half;
    // q/(h + h_lo) with h = (s + |x|)/2 unscaled (at most the largest float: s and |x| are): q·(1/h),
    // corrected once from the exact remainder. h >= sqrt(b)/2, so 1/h is finite unless b = 0, where y = 0.
    let q = b * R::c(0.25);
    let h = r.u * half;
    let h_lo = r.u_lo * half;
    let inv_h = R::c(1.0) / h;
    let y0 = q * inv_h;
    let rem = (-y0).mul_add(h, q) - y0 * h_lo;
    let y_lo = select(q == R::c(0.0), R::c(0.0), rem * inv_h);
    let y0 = select(q == R::c(0.0), R::c(0.0), y0);
    let negative = x < R::c(0.0);
    let hi = select(negative, y0 + y_lo, positive);
    let lo = select(negative, y_lo - (hi - y0), R::c(0.0));
    (hi, lo)
}

/// (x + sqrt(x² + b))/2, b >= 0: a smooth relu (relu itself for b = 0, up to the sign of zero).
pub struct Squareplus;
impl Kernel for Squareplus {
    const PROMOTE: bool = false;
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn forward<R: Real>(x: R, p: Params<R>) -> R {
        let b = p[0];
        let r = root(x, b);
        let (y, _) = value(x, b, &r);
        // The limits at ±inf (the formula gives NaN at -inf); NaN passes (x < 0 is false for NaN).
        select(x == R::INFINITY, x, select(x == -R::INFINITY, R::c(0.0), y))
    }
    #[inline(always)]
    fn derivative<R: Real>(x: R, p: Params<R>) -> R {
        // (1 + x/sqrt(x² + b))/2 = squareplus(x)/sqrt(x² + b): no cancellation for x << 0, where 1 + x/s
        // would lose everything. For x >= 0 it is 1/2 + (|x|/s)/2, the ratio corrected once.
        let b = p[0];
        let r = root(x, b);
        let ratio0 = r.a * r.inv;
        let ratio_lo = ((-ratio0).mul_add(r.s, r.a) - ratio0 * r.s_lo) * r.inv;
        let half_ratio = R::c(0.5) * ratio0;
        let sum = R::c(0.5) + half_ratio;
        let sum_lo = (R::c(0.5) - sum) + half_ratio; // Fast2Sum: 1/2 >= ratio/2
        let positive = sum + (sum_lo + R::c(0.5) * ratio_lo);
        // x < 0: (y + y_lo)/(s + s_lo) unscaled: (y + y_lo)·(1/s), corrected once from the exact remainder.
        // s >= sqrt(b), so 1/s is finite unless b = 0, where y = 0 and so is the derivative.
        let (y, y_lo) = value(x, b, &r);
        let (s, s_lo, inv) = (r.s * r.unscale, r.s_lo * r.unscale, r.inv * r.scale);
        let g0 = y * inv;
        let rem = (-g0).mul_add(s, y) + (y_lo - g0 * s_lo);
        let g = select(y == R::c(0.0), R::c(0.0), rem.mul_add(inv, g0));
        // x = 0 with b = 0 (where s = 0): 0, as relu'(0), so that the from-output form (y = 0 -> 0) agrees.
        let d = select(
            r.s == R::c(0.0),
            R::c(0.0),
            select(x < R::c(0.0), g, positive),
        );
        select(
            x == R::INFINITY,
            R::c(1.0),
            select(x == -R::INFINITY, R::c(0.0), d),
        )
    }
    #[inline(always)]
    fn derivative_from_output<R: Real>(y: R, p: Params<R>) -> R {
        // With s = sqrt(x² + b) = y + (b/4)/y, the derivative y/s is y/(y + z), z = (b/4)/y: every term
        // positive. z and the sum are carried as hi + lo and the quotient corrected once.
        let q = p[0] * R::c(0.25);
        let z = q / y;
        let z_lo = (-z).mul_add(y, q) / y;
        let (d, d_lo) = two_sum(y, z);
        let d_lo = d_lo + z_lo;
        let g0 = y / d;
        let g = g0 + ((-g0).mul_add(d, y) - g0 * d_lo) / d;
        // y = 0 (x = -inf, or b = 0 and x <= 0) -> 0; |y| = inf -> 1; a tiny y whose z overflows -> 0
        // (y²/(b/4) is below the smallest float there). NaN passes.
        let g = select(z.is_infinite(), R::c(0.0), g);
        select(
            y == R::c(0.0),
            R::c(0.0),
            select(y.is_infinite(), R::c(1.0), g),
        )
    }
}
