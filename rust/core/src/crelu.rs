//! CReLU, [relu(x), relu(-x)] side by side along an axis, and its gradient, for arrays small enough that the
//! elementwise path would not split them across threads either (`SMALL`): one pass of plain loops, where the
//! general path takes a negation and two relu passes (three for the gradient). The bits are those of that
//! path: relu(v) = v < 0 ? 0 : v (NaN and -0.0 kept), relu'(v) = v <= 0 ? 0 : 1 (1 for NaN), and the gradient
//! g+·relu'(x) - g-·relu'(-x) rounded as NumPy's subtract rounds it.

use crate::driver::Error;
use crate::real::Elem;

/// The largest x (elements) these loops take: below `parallel::PARALLEL_WORK` for a kernel of cost 1, so
/// the relu passes they replace would have run inline.
pub const SMALL: usize = 1 << 16;

#[inline(always)]
fn relu<T: Elem>(v: T) -> T {
    if v < T::c(0.0) {
        T::c(0.0)
    } else {
        v
    }
}

#[inline(always)]
fn relu_slope<T: Elem>(v: T) -> T {
    if v <= T::c(0.0) {
        T::c(0.0)
    } else {
        T::c(1.0)
    }
}

fn check(block: usize, x: usize, y: usize, factor: usize) -> Result<(), Error> {
    if block == 0 || !x.is_multiple_of(block) || y != factor * x || x > SMALL {
        return Err(Error::LengthMismatch {
            expected: factor * x,
            got: y,
        });
    }
    Ok(())
}

/// `y` = [relu(x_b), relu(-x_b)] for each block x_b of `block` elements of `x` (C order: the axis and the
/// dimensions after it), so `y` holds twice as many elements.
pub fn crelu<T: Elem>(block: usize, x: &[T], y: &mut [T]) -> Result<(), Error> {
    check(block, x.len(), y.len(), 2)?;
    for (xb, yb) in x.chunks_exact(block).zip(y.chunks_exact_mut(2 * block)) {
        let (positive, negative) = yb.split_at_mut(block);
        for ((p, n), &v) in positive.iter_mut().zip(negative.iter_mut()).zip(xb) {
            *p = relu(v);
            *n = relu(-v);
        }
    }
    Ok(())
}

/// `y` = g+·relu'(x) - g-·relu'(-x) per block, with `g` holding [g+, g-] for each block as `crelu`'s output
/// does (twice x's elements).
pub fn crelu_grad<T: Elem>(block: usize, x: &[T], g: &[T], y: &mut [T]) -> Result<(), Error> {
    check(block, x.len(), g.len(), 2)?;
    check(block, x.len(), y.len(), 1)?;
    for ((xb, gb), yb) in x
        .chunks_exact(block)
        .zip(g.chunks_exact(2 * block))
        .zip(y.chunks_exact_mut(block))
    {
        let (g_positive, g_negative) = gb.split_at(block);
        for (((o, &v), &gp), &gn) in yb.iter_mut().zip(xb).zip(g_positive).zip(g_negative) {
            *o = gp * relu_slope(v) - gn * relu_slope(-v);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_side_by_side_with_special_values() {
        let x = [1.5f32, -2.0, f32::NAN, -0.0, 0.0, f32::INFINITY];
        let mut y = [9.0f32; 12];
        crelu(3, &x, &mut y).unwrap_or_else(|e| panic!("{e}"));
        let want = [
            1.5f32,
            0.0,
            f32::NAN,
            0.0,
            2.0,
            f32::NAN,
            -0.0,
            0.0,
            f32::INFINITY,
            0.0,
            -0.0,
            0.0,
        ];
        for (got, want) in y.iter().zip(want) {
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{got} {want}"
            );
        }
        let g = [
            1.0f32, 2.0, 3.0, 10.0, 20.0, 30.0, 1.0, 2.0, 3.0, 10.0, 20.0, 30.0,
        ];
        let mut d = [9.0f32; 6];
        crelu_grad(3, &x, &g, &mut d).unwrap_or_else(|e| panic!("{e}"));
        // relu'(NaN) = 1 on both sides: 3 - 30; at ±0 both slopes are 0.
        assert_eq!(d, [1.0, -20.0, -27.0, 0.0, 0.0, 3.0]);
        assert!(crelu(4, &x, &mut y).is_err() && crelu_grad(3, &x, &g[..6], &mut d).is_err());
    }
}
