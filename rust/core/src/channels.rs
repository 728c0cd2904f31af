//! Per-channel passes over a C-contiguous array seen as (outer, channels, inner): PReLU with one slope per
//! channel (the forward, and the backward in one pass that writes grad_x and sums the weight's gradient in
//! float64 per channel), and the plain per-channel sums that make a bias's gradient (`channel_sums`).
//!
//! The values are those of the `leaky_relu` kernel with the channel's slope, so the bits match the
//! per-channel leaky_relu calls the Python layer falls back to. The weight sums are the terms
//! `g·x where x <= 0 or x is NaN, else +0.0` (as PyTorch), each a float64 product, added in an order that
//! depends on the shape alone: the thread count never changes a bit.
//! - Channels with runs of at least [`MIN_RUN`] contiguous elements: each run is cut at fixed offsets into
//!   pieces of at most [`PIECE`] elements; a piece is summed in 64 lanes (position i into lane i mod 64),
//!   and the pieces are added up per channel in memory order.
//! - Shorter runs (channels-last layouts): the array is read as rows of a period of the slope pattern,
//!   each column summed down a fixed block of rows, and the blocks' column sums added up per channel.
//! - Arrays of at most `SMALL` elements: one loop in memory order, each element added to its channel.
//!
//! float32 terms are exact in float64, and their sum is plain; float64 sums carry a compensation term
//! (two_sum), so both stay well within their result's rounding.

use crate::driver::Error;
use crate::math::two_sum;
use crate::ops::{Kernel, LeakyRelu};
use crate::parallel::{self, SharedMut};
use crate::real::Elem;
use crate::simd::{self, Isa};

/// Channels whose contiguous runs are at least this long are processed run by run.
pub const MIN_RUN: usize = 64;
/// The longest piece of a run summed on its own (fixed, so the sums do not depend on the threads).
pub const PIECE: usize = 16384;
/// Arrays up to this many elements take one plain loop (the channel found per element): no pattern,
/// partial sums or dispatch to set up, which cost more than the work on a few elements.
const SMALL: usize = 2048;
/// Columns per task in the short-run layout (accumulators for them stay in L1).
const COLUMNS: usize = 1024;
/// Short-run rows are at least this wide (a whole number of slope periods), so short periods still vectorise.
const MIN_WIDTH: usize = 256;
/// At most this many row blocks, and at most `SCRATCH` column sums over all of them.
const MAX_BLOCKS: usize = 64;
const SCRATCH: usize = 1 << 22;

/// The array's shape as PReLU sees it: `outer` slabs of `channels` runs of `inner` elements each.
#[derive(Clone, Copy, Debug)]
pub struct Dims {
    pub outer: usize,
    pub channels: usize,
    pub inner: usize,
}

impl Dims {
    /// A C-contiguous array of `shape` with its channels along `axis` (< shape.len()).
    pub fn around(shape: &[usize], axis: usize) -> Dims {
        Dims {
            outer: shape[..axis].iter().product(),
            channels: shape[axis],
            inner: shape[axis + 1..].iter().product(),
        }
    }

    fn len(self) -> usize {
        self.outer * self.channels * self.inner
    }

    fn check<T>(self, w: &[T], lens: &[usize]) -> Result<(), Error> {
        let n = self.len();
        if w.len() != self.channels {
            return Err(Error::LengthMismatch {
                expected: self.channels,
                got: w.len(),
            });
        }
        match lens.iter().find(|&&len| len != n) {
            Some(&got) => Err(Error::LengthMismatch { expected: n, got }),
            None => Ok(()),
        }
    }

    /// The short-run layout's row width: the slope pattern's period (channels·inner), repeated to at least
    /// `MIN_WIDTH` elements.
    fn width(self) -> usize {
        let period = (self.channels * self.inner).max(1);
        period * MIN_WIDTH.div_ceil(period)
    }

    /// The slope of each column of a short-run row.
    fn pattern<T: Elem>(self, w: &[T]) -> Vec<T> {
        (0..self.width())
            .map(|f| slope_of(w, (f / self.inner) % self.channels))
            .collect()
    }
}

#[inline(always)]
fn forward<T: Elem>(x: T, slope: T) -> T {
    LeakyRelu::forward(x, [slope, T::c(0.0)])
}

#[inline(always)]
fn backward<T: Elem>(x: T, g: T, slope: T) -> T {
    g * LeakyRelu::derivative(x, [slope, T::c(0.0)])
}

/// The weight-gradient term of one element: g·x in float64 where x <= 0 or NaN, else +0.0.
#[inline(always)]
fn term<T: Elem>(x: T, g: T) -> f64 {
    // Branch-free (a select on the bits): the sign of x is random in practice.
    let keep = if x > T::c(0.0) { 0 } else { u64::MAX };
    f64::from_bits((g.to_f64() * x.to_f64()).to_bits() & keep)
}

/// `hi + lo += t`: compensated for float64 input, plain for float32 (whose terms are exact).
#[inline(always)]
fn add<T: Elem>(hi: &mut f64, lo: &mut f64, t: f64) {
    if T::IS_F64 {
        let (s, e) = two_sum(*hi, t);
        *hi = s;
        *lo += e;
    } else {
        *hi += t;
    }
}

/// The compensated sum's value: `hi + lo`, or `hi` alone once it is ±inf or NaN (then `lo` is NaN, from
/// inf - inf in two_sum, while the sum itself is hi).
#[inline(always)]
fn finish(hi: f64, lo: f64) -> f64 {
    if hi.is_finite() {
        hi + lo
    } else {
        hi
    }
}

/// `y = prelu(x)` with slope `w[c]` on channel c.
pub fn prelu<T: Elem>(dims: Dims, w: &[T], x: &[T], y: &mut [T]) -> Result<(), Error> {
    dims.check(w, &[x.len(), y.len()])?;
    if x.len() <= SMALL {
        for (i, (o, &xi)) in y.iter_mut().zip(x).enumerate() {
            *o = forward(xi, w[(i / dims.inner) % dims.channels]);
        }
        return Ok(());
    }
    let y_ptr = SharedMut(y.as_mut_ptr());
    if dims.inner >= MIN_RUN {
        let run = dims.inner;
        parallel::run_ranges(x.len(), 1, 1, |first, last| {
            let y = y_ptr;
            let mut at = first;
            while at < last {
                let end = last.min((at / run + 1) * run);
                let slope = w[(at / run) % dims.channels];
                // SAFETY: at..end lies within first..last, a range of y (len n) no other task touches.
                let ys = unsafe { core::slice::from_raw_parts_mut(y.0.add(at), end - at) };
                for (o, &xi) in ys.iter_mut().zip(&x[at..end]) {
                    *o = forward(xi, slope);
                }
                at = end;
            }
        });
    } else {
        let pattern = dims.pattern(w);
        let width = pattern.len();
        parallel::run_ranges(x.len(), 1, 1, |first, last| {
            let y = y_ptr;
            let mut at = first;
            while at < last {
                let column = at % width;
                let end = last.min(at + width - column);
                // SAFETY: at..end lies within first..last, a range of y (len n) no other task touches.
                let ys = unsafe { core::slice::from_raw_parts_mut(y.0.add(at), end - at) };
                for ((o, &xi), &slope) in ys.iter_mut().zip(&x[at..end]).zip(&pattern[column..]) {
                    *o = forward(xi, slope);
                }
                at = end;
            }
        });
    }
    Ok(())
}

/// PReLU's backward: `grad_x = g·prelu'(x)`, and `sums[c]` = the float64 weight gradient of channel c.
pub fn prelu_grad<T: Elem>(
    dims: Dims,
    w: &[T],
    x: &[T],
    g: &[T],
    grad_x: &mut [T],
    sums: &mut [f64],
) -> Result<(), Error> {
    dims.check(w, &[x.len(), g.len(), grad_x.len()])?;
    if sums.len() != dims.channels {
        return Err(Error::LengthMismatch {
            expected: dims.channels,
            got: sums.len(),
        });
    }
    channel_pass(dims, w, x, Some(g), grad_x, sums);
    Ok(())
}

/// `sums[c]` = the float64 sum of channel c's elements of `x` (everything but the channel axis), in the
/// same shape-fixed order and compensation as prelu_grad's weight sums: a bias's gradient.
pub fn channel_sums<T: Elem>(dims: Dims, x: &[T], sums: &mut [f64]) -> Result<(), Error> {
    if x.len() != dims.len() || sums.len() != dims.channels {
        return Err(Error::LengthMismatch {
            expected: dims.len(),
            got: x.len(),
        });
    }
    channel_pass(dims, &[], x, None, &mut [], sums);
    Ok(())
}

/// Adds each `(channel, (hi, lo))` partial sum into its channel's total, in the order given, and writes
/// the totals into `sums`.
fn fold<T: Elem>(sums: &mut [f64], partials: impl Iterator<Item = (usize, (f64, f64))>) {
    let mut totals = vec![(0.0, 0.0); sums.len()];
    for (c, (h, e)) in partials {
        let (hi, lo) = &mut totals[c];
        add::<T>(hi, lo, h);
        *lo += e;
    }
    for (s, (hi, lo)) in sums.iter_mut().zip(totals) {
        *s = finish(hi, lo);
    }
}

/// The slope of channel c, or 0 without slopes (plain sums).
#[inline(always)]
fn slope_of<T: Elem>(w: &[T], c: usize) -> T {
    w.get(c).copied().unwrap_or(T::c(0.0))
}

/// With `g`, prelu_grad (grad_x written, weight terms summed); without, x's channel sums (grad_x unused).
fn channel_pass<T: Elem>(
    dims: Dims,
    w: &[T],
    x: &[T],
    g: Option<&[T]>,
    grad_x: &mut [T],
    sums: &mut [f64],
) {
    if x.len() > SMALL {
        if dims.inner >= MIN_RUN {
            pass_runs(dims, w, x, g, grad_x, sums);
        } else {
            pass_columns(dims, w, x, g, grad_x, sums);
        }
        return;
    }
    // Each element is its own partial (its lo +0.0, which adds nothing: lo is never -0.0).
    let terms = x.iter().enumerate().map(|(i, &xi)| {
        let c = (i / dims.inner) % dims.channels;
        let t = match g {
            Some(g) => {
                grad_x[i] = backward(xi, g[i], w[c]);
                term(xi, g[i])
            }
            None => xi.to_f64(),
        };
        (c, (t, 0.0))
    });
    fold::<T>(sums, terms);
}

/// The slope of every element of a stretch: one for all, or one each.
#[derive(Clone, Copy)]
enum Slopes<'a, T> {
    One(T),
    Each(&'a [T]),
}

/// The backward's inner loop, per ISA level (`LeakyRelu`'s derivative has no FMA to contract, so every
/// level gives the same bits).
mod levels {
    use super::*;

    crate::simd::isa_trampolines!([T: Elem] (x: &[T], g: Option<&[T]>, slopes: Slopes<'_, T>, gx: &mut [T],
        hi: &mut [f64], lo: &mut [f64]) => stretch(x, g, slopes, gx, hi, lo));

    /// With `g`: `gx[i] = g[i]·prelu'(x[i])`, and the weight term of element i added to `hi/lo[i]`.
    /// Without: x[i] itself added (a plain channel sum; `gx` and the slopes are not used).
    #[inline(always)]
    fn stretch<T: Elem>(
        x: &[T],
        g: Option<&[T]>,
        slopes: Slopes<'_, T>,
        gx: &mut [T],
        hi: &mut [f64],
        lo: &mut [f64],
    ) {
        let n = hi.len();
        let (x, hi, lo) = (&x[..n], &mut hi[..n], &mut lo[..n]);
        let Some(g) = g else {
            for i in 0..n {
                add::<T>(&mut hi[i], &mut lo[i], x[i].to_f64());
            }
            return;
        };
        let (g, gx) = (&g[..n], &mut gx[..n]);
        match slopes {
            Slopes::One(slope) => {
                for i in 0..n {
                    gx[i] = backward(x[i], g[i], slope);
                    add::<T>(&mut hi[i], &mut lo[i], term(x[i], g[i]));
                }
            }
            Slopes::Each(slopes) => {
                let slopes = &slopes[..n];
                for i in 0..n {
                    gx[i] = backward(x[i], g[i], slopes[i]);
                    add::<T>(&mut hi[i], &mut lo[i], term(x[i], g[i]));
                }
            }
        }
    }
}

/// [`levels`]' loop on `isa`.
#[inline(always)]
fn accumulate<T: Elem>(
    isa: Isa,
    x: &[T],
    g: Option<&[T]>,
    slopes: Slopes<'_, T>,
    gx: &mut [T],
    (hi, lo): (&mut [f64], &mut [f64]),
) {
    match isa {
        // SAFETY: `isa` is the active level, which `simd::active` never sets above what `Isa::detect` found
        // on this CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { levels::avx512(x, g, slopes, gx, hi, lo) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { levels::avx2(x, g, slopes, gx, hi, lo) },
        _ => levels::portable(x, g, slopes, gx, hi, lo),
    }
}

/// One piece of a run: grad_x written, the terms summed in `LANES` accumulators (the loop the compiler
/// vectorises, as in the short-run layout), folded in a fixed order.
#[inline(always)]
fn piece<T: Elem>(slope: T, x: &[T], g: Option<&[T]>, gx: &mut [T]) -> (f64, f64) {
    const LANES: usize = 64;
    let (mut hi, mut lo) = ([0.0; LANES], [0.0; LANES]);
    let isa = simd::active();
    for (k, xs) in x.chunks(LANES).enumerate() {
        let (at, len) = (k * LANES, xs.len());
        let gs = g.map(|g| &g[at..][..len]);
        let o = if gs.is_some() {
            &mut gx[at..][..len]
        } else {
            &mut [][..]
        };
        accumulate(
            isa,
            xs,
            gs,
            Slopes::One(slope),
            o,
            (&mut hi[..len], &mut lo[..len]),
        );
    }
    let (mut h, mut e) = (0.0, 0.0);
    for (hi, lo) in hi.into_iter().zip(lo) {
        add::<T>(&mut h, &mut e, hi);
        e += lo;
    }
    (h, e)
}

/// `channel_pass` over runs of at least `MIN_RUN` elements: fixed pieces, each one task's, their sums
/// added per channel in memory order.
fn pass_runs<T: Elem>(
    dims: Dims,
    w: &[T],
    x: &[T],
    g: Option<&[T]>,
    grad_x: &mut [T],
    sums: &mut [f64],
) {
    let run = dims.inner;
    let per_run = run.div_ceil(PIECE);
    let pieces = dims.outer * dims.channels * per_run;
    let mut partial = vec![(0.0, 0.0); pieces];
    let (gx_ptr, partial_ptr) = (
        SharedMut(grad_x.as_mut_ptr()),
        SharedMut(partial.as_mut_ptr()),
    );
    parallel::run_ranges(pieces, PIECE.min(run), 2, |first, last| {
        let (gx, partial) = (gx_ptr, partial_ptr);
        for p in first..last {
            let (r, k) = (p / per_run, p % per_run);
            let start = r * run + k * PIECE;
            let len = PIECE.min(run - k * PIECE);
            // SAFETY: piece p covers grad_x[start..start + len] (within the run r, so within grad_x, which
            // holds x's elements where there is a g) and partial[p]; pieces are disjoint and each belongs to
            // one task.
            let (out, slot) = unsafe {
                (
                    if g.is_some() {
                        core::slice::from_raw_parts_mut(gx.0.add(start), len)
                    } else {
                        &mut [][..]
                    },
                    &mut *partial.0.add(p),
                )
            };
            let gs = g.map(|g| &g[start..][..len]);
            *slot = piece(slope_of(w, r % dims.channels), &x[start..][..len], gs, out);
        }
    });
    let channel = |p: usize| (p / per_run) % dims.channels;
    fold::<T>(
        sums,
        partial
            .into_iter()
            .enumerate()
            .map(|(p, v)| (channel(p), v)),
    );
}

/// `channel_pass` over short runs: rows of the slope pattern's period, each column summed down a fixed
/// block of rows (tasks take (block, column span) pairs), the blocks' sums added per channel.
fn pass_columns<T: Elem>(
    dims: Dims,
    w: &[T],
    x: &[T],
    g: Option<&[T]>,
    grad_x: &mut [T],
    sums: &mut [f64],
) {
    let n = x.len();
    let pattern = dims.pattern(w);
    let width = pattern.len();
    let rows = n.div_ceil(width);
    let blocks = rows.min(MAX_BLOCKS).min((SCRATCH / width).max(1)).max(1);
    let per_block = rows.div_ceil(blocks);
    let blocks = rows.div_ceil(per_block);
    let spans = width.div_ceil(COLUMNS);
    let mut partial = vec![(0.0, 0.0); blocks * width];
    let (gx_ptr, partial_ptr) = (
        SharedMut(grad_x.as_mut_ptr()),
        SharedMut(partial.as_mut_ptr()),
    );
    parallel::run_ranges(
        blocks * spans,
        per_block * COLUMNS.min(width),
        2,
        |first, last| {
            let (gx, partial) = (gx_ptr, partial_ptr);
            let (mut hi, mut lo) = ([0.0; COLUMNS], [0.0; COLUMNS]);
            let isa = simd::active();
            for task in first..last {
                let (b, s) = (task / spans, task % spans);
                let (c0, c1) = (s * COLUMNS, width.min((s + 1) * COLUMNS));
                let (hi, lo) = (&mut hi[..c1 - c0], &mut lo[..c1 - c0]);
                hi.fill(0.0);
                lo.fill(0.0);
                for r in b * per_block..rows.min((b + 1) * per_block) {
                    let start = r * width + c0;
                    let len = (c1 - c0).min(n.saturating_sub(start));
                    let out = if g.is_some() {
                        // SAFETY: row r's columns c0..c0 + len lie within grad_x (start + len <= n, and
                        // grad_x holds n elements where there is a g); each (row, column span) belongs to
                        // one task, as the (block, span) pairs do.
                        unsafe { core::slice::from_raw_parts_mut(gx.0.add(start), len) }
                    } else {
                        &mut [][..]
                    };
                    let slopes = Slopes::Each(&pattern[c0..][..len]);
                    let acc = (&mut hi[..len], &mut lo[..len]);
                    let gs = g.map(|g| &g[start..][..len]);
                    accumulate(isa, &x[start..][..len], gs, slopes, out, acc);
                }
                // SAFETY: partial[b·width + c0 .. b·width + c1] is this (block, span)'s alone.
                let slots = unsafe {
                    core::slice::from_raw_parts_mut(partial.0.add(b * width + c0), c1 - c0)
                };
                for (slot, (&h, &e)) in slots.iter_mut().zip(hi.iter().zip(lo.iter())) {
                    *slot = (h, e);
                }
            }
        },
    );
    let channel = |i: usize| ((i % width) / dims.inner) % dims.channels;
    fold::<T>(
        sums,
        partial
            .into_iter()
            .enumerate()
            .map(|(i, v)| (channel(i), v)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64) * 4.0 - 2.0
            })
            .collect()
    }

    #[test]
    fn matches_a_plain_loop_in_both_layouts() {
        for &(outer, channels, inner) in &[
            (3, 5, 100),
            (7, 3, 1),
            (2, 300, 2),
            (1, 1, 40000),
            (5, 4, 17),
            (2, 5, 3),
            (1, 1, 16),
        ] {
            let dims = Dims {
                outer,
                channels,
                inner,
            };
            let n = dims.len();
            let (mut x, g) = (data(n, 1), data(n, 2));
            x[inner % n] = f64::NEG_INFINITY; // channel 1 where there is one: its sum is ±inf
            x[0] = f64::NAN;
            x[1] = -0.0;
            let w: Vec<f64> = (0..channels).map(|c| 0.1 * c as f64 - 0.2).collect();
            let (mut y, mut gx, mut sums) = (vec![0.0; n], vec![0.0; n], vec![0.0; channels]);
            prelu(dims, &w, &x, &mut y).expect("lengths match");
            prelu_grad(dims, &w, &x, &g, &mut gx, &mut sums).expect("lengths match");
            let mut want = vec![0.0; channels];
            for i in 0..n {
                let c = (i / inner) % channels;
                let y_want = if x[i] > 0.0 { x[i] } else { w[c] * x[i] };
                assert_eq!(y[i].to_bits(), y_want.to_bits(), "y[{i}]");
                assert_eq!(gx[i], g[i] * if x[i] > 0.0 { 1.0 } else { w[c] });
                want[c] += if x[i] > 0.0 { 0.0 } else { g[i] * x[i] };
            }
            assert!(sums[0].is_nan() && want[0].is_nan());
            for c in 1..channels {
                let close = (sums[c] - want[c]).abs() <= 1e-12 * (1.0 + want[c].abs());
                assert!(
                    close || sums[c] == want[c],
                    "{c}: {} vs {}",
                    sums[c],
                    want[c]
                );
            }
        }
    }

    #[test]
    fn channel_sums_match_a_plain_loop() {
        for &(outer, channels, inner) in &[(3, 5, 1000), (700, 3, 1), (4, 2, 3), (1, 1, 50000)] {
            let dims = Dims {
                outer,
                channels,
                inner,
            };
            let x = data(dims.len(), 5);
            let mut sums = vec![0.0; channels];
            channel_sums(dims, &x, &mut sums).expect("lengths match");
            let mut want = vec![0.0; channels];
            for (i, &v) in x.iter().enumerate() {
                want[(i / inner) % channels] += v;
            }
            for c in 0..channels {
                assert!(
                    (sums[c] - want[c]).abs() <= 1e-10 * (1.0 + want[c].abs()),
                    "{c}"
                );
            }
        }
    }

    #[test]
    fn sums_do_not_depend_on_the_threads() {
        for &(outer, channels, inner) in &[(8, 16, 4096), (4096, 24, 1), (1, 1, 1 << 20)] {
            let dims = Dims {
                outer,
                channels,
                inner,
            };
            let n = dims.len();
            let (x, g) = (data(n, 3), data(n, 4));
            let w = vec![0.25f32; channels];
            let (x, g): (Vec<f32>, Vec<f32>) = (
                x.iter().map(|&v| v as f32).collect(),
                g.iter().map(|&v| v as f32).collect(),
            );
            let mut runs = Vec::new();
            for threads in [1, 3] {
                parallel::set_num_threads(threads);
                let (mut gx, mut sums) = (vec![0.0f32; n], vec![0.0; channels]);
                prelu_grad(dims, &w, &x, &g, &mut gx, &mut sums).expect("lengths match");
                runs.push(sums.iter().map(|s| s.to_bits()).collect::<Vec<_>>());
            }
            parallel::set_num_threads(0);
            assert_eq!(runs[0], runs[1]);
        }
    }
}
