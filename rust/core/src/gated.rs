//! GLU's backward in one pass over its operands: for rows x = [a | b] and grad_out g,
//! grad_a = g·gate(b) and grad_b = (g·a)·gate'(b), a block of each row at a time, so that a, b and g are read
//! from memory once and both halves of the gradient written once (three separate passes read b twice, g
//! twice and write grad_b twice). Each block runs the gate's own row functions with their grad_out product,
//! so the bits are those of the separate passes.

use crate::driver::{apply, Call, Error, Mode, Store};
use crate::parallel::{self, SharedMut};
use crate::real::Elem;
use crate::table::KernelId;

/// Elements per block: the blocks in use (a, b, g, g·a, the gradient halves) stay within L2 (80 KiB of f32,
/// 160 KiB of f64), and the two kernel calls per block cost little beside it (each call's dispatch is a few
/// hundred ns: 512-element blocks made glu_grad 1.4x slower, EPYC, benches/bench_gated.py).
const BLOCK: usize = 4096;

/// GLU's gradient for rows of `2h` elements: `x` holds the rows [a | b] one after the other, `g` the rows of
/// grad_out (`h` elements each), and `out` receives [g·gate(b) | (g·a)·gate'(b)] in x's layout, where gate
/// is `gate` with `params`. Threads take blocks of rows (the active thread count); the bits do not depend
/// on it.
pub fn glu_grad_rows<T: Store + Elem>(
    gate: KernelId,
    params: [f64; 2],
    h: usize,
    x: &[T],
    g: &[T],
    out: &mut [T],
) -> Result<(), Error> {
    let rows = g.len().checked_div(h).unwrap_or(0);
    if x.len() != out.len() || x.len() != 2 * g.len() || rows * h != g.len() {
        return Err(Error::LengthMismatch {
            expected: 2 * g.len(),
            got: x.len().max(out.len()),
        });
    }
    let forward = Call::new(gate, Mode::Forward, params)?;
    let derivative = Call::new(gate, Mode::Derivative, params)?;
    let per_row = h.div_ceil(BLOCK);
    let blocks = rows * per_row;
    let out_ptr = SharedMut(out.as_mut_ptr());
    parallel::run_ranges(blocks, BLOCK, 2 * gate.info().cost, |first, last| {
        let mut ga = vec![T::c(0.0); BLOCK.min(h)]; // zeroing a whole block costs more than 16 elements' work
        for block in first..last {
            let (row, start) = (block / per_row, (block % per_row) * BLOCK);
            let len = BLOCK.min(h - start);
            let a = &x[row * 2 * h + start..][..len];
            let b = &x[row * 2 * h + h + start..][..len];
            let gr = &g[row * h + start..][..len];
            for ((p, &gi), &ai) in ga.iter_mut().zip(gr).zip(a) {
                *p = gi * ai;
            }
            let out = out_ptr;
            // SAFETY: these two ranges of `out` (the block's columns of the row's two halves) lie within it
            // (row < rows, start + len <= h) and belong to this block alone, which this task alone runs; no
            // other reference to them exists while the task holds them.
            let (grad_a, grad_b) = unsafe {
                (
                    core::slice::from_raw_parts_mut(out.0.add(row * 2 * h + start), len),
                    core::slice::from_raw_parts_mut(out.0.add(row * 2 * h + h + start), len),
                )
            };
            // The lengths match by construction, so neither call can fail.
            let _ = apply(forward, b, Some(gr), grad_a);
            let _ = apply(derivative, b, Some(&ga[..len]), grad_b);
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_agree_with_the_separate_passes() {
        for (gate, params) in [
            (KernelId::sigmoid, [0.0, 0.0]),
            (KernelId::gelu_tanh, [0.0, 0.0]),
        ] {
            for &(rows, h) in &[(3usize, 5usize), (2, 1300), (2, 2 * BLOCK + 7), (1, 0)] {
                let x: Vec<f32> = (0..rows * 2 * h)
                    .map(|i| ((i as f32) * 0.37).sin() * 6.0)
                    .collect();
                let g: Vec<f32> = (0..rows * h).map(|i| ((i as f32) * 0.11).cos()).collect();
                let mut out = vec![0f32; x.len()];
                glu_grad_rows(gate, params, h, &x, &g, &mut out).expect("lengths match");
                for r in 0..rows {
                    let (a, b) = x[r * 2 * h..(r + 1) * 2 * h].split_at(h);
                    let gr = &g[r * h..(r + 1) * h];
                    let mut want_a = vec![0f32; h];
                    apply(
                        Call::new(gate, Mode::Forward, params).expect("valid"),
                        b,
                        Some(gr),
                        &mut want_a,
                    )
                    .expect("lengths match");
                    let ga: Vec<f32> = gr.iter().zip(a).map(|(g, a)| g * a).collect();
                    let mut want_b = vec![0f32; h];
                    apply(
                        Call::new(gate, Mode::Derivative, params).expect("valid"),
                        b,
                        Some(&ga),
                        &mut want_b,
                    )
                    .expect("lengths match");
                    let got = &out[r * 2 * h..(r + 1) * 2 * h];
                    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&got[..h]), bits(&want_a));
                    assert_eq!(bits(&got[h..]), bits(&want_b));
                }
            }
        }
        let mut out = [0f32; 4];
        assert!(glu_grad_rows(
            KernelId::sigmoid,
            [0.0, 0.0],
            2,
            &[0.0; 4],
            &[0.0; 3],
            &mut out
        )
        .is_err());
    }
}
