//! Along-an-axis activations: softmax, log_softmax, softmin and logsumexp, forward and derivatives.
//!
//! An N-dimensional call is a set of *lanes*: 1-D vectors along the reduced axis, one per index of the
//! other axes. Each lane is computed by one thread with the same code (pool threads take whole lanes), so
//! results are bitwise identical for any thread count. A contiguous lane is read and written where it
//! lies; a strided one (a reduction over a non-last axis) is gathered into a per-thread buffer, computed
//! and scattered: no transposed copy of the array is made. Adjacent strided lanes (a reduction over a
//! non-last axis of a C-ordered array) are taken as panels instead (`softmax_panel`, `log_softmax_panel`,
//! `logsumexp_panel`, `grad_panel`): computed row by row across the lanes, with each lane's operations and
//! hence bits unchanged, where they lie or copied row by row (`run_panel` says when); short contiguous
//! lanes (up to `SHORT_LANE` elements) are transposed into panels too (`run_short`, `crate::transpose`),
//! and longer contiguous ones run back to back where they lie (`run_direct`; log_softmax's and logsumexp's
//! of up to 512 eight at a time, their logarithms together: `counted_group`). Masked calls, logmeanexp's
//! forward and sparsemax gather such lanes as tiles (`run_tile`), transposed element by element.
//! Derivatives give any NaN as the one quiet NaN (`grad_result`), so that its bits do not depend on the
//! loop that computed it.
//!
//! Numerics, per lane of n elements (x·sign with sign = -1 for softmin):
//! 1. m = max (NaN noted separately); 2. e_i = exp(x_i - m)·2^S (`math::exp_shifted`: x_i - m carried
//!    exactly as hi + lo, the scale 2^S keeping every term that can show in the result normal); s = Σ e_i
//!    accumulated in f64 in 16 fixed partial sums totalled in a fixed order (both compensated for f64
//!    lanes), so the order never depends on the ISA; softmax stores the terms in its output, log_softmax
//!    and logsumexp in a scratch lane, with the terms at the max (exactly 2^S) counted apart instead;
//!    3. softmax = e_i·(2^-S/s) in one fused pass, log_softmax = (x_i - m) - log1p(s - 1), logsumexp =
//!    m + log1p(s - 1): with the max term's 1 taken out of s, a dominant term keeps full relative accuracy
//!    (logsumexp([0, -40]) = 4.25e-18, not 0).
//!
//! Rows with NaN, +inf or only -inf follow PyTorch: softmax and log_softmax give NaN for the whole row,
//! logsumexp gives +inf when any element is +inf (and no NaN), -inf for an all -inf or empty row.
//!
//! quiet_softmax is softmax with an extra logit 0 (the max is taken as max(max x, 0) and exp(-max) joins
//! the sum), so a row of -inf gives 0s; logmeanexp is logsumexp - log n, taken as log(s/n) without the
//! cancellation of the two logarithms.
//!
//! sparsemax (Martins & Astudillo 2016) sorts a copy of the lane (descending) into the scratch buffer and
//! takes the threshold tau from its running sums in f64, on the lane shifted by its max: the same
//! operations, in the same order, as the NumPy reference (`_sparsemax64`), so the two agree bit for bit.
//!
//! A lane can carry a mask (`apply_lanes_masked`): the entries it leaves out are replaced by -inf (+inf
//! for softmin; for the from-output derivatives, by the output of a left-out entry) and their grad_out by
//! 0 before the lane is computed, and their results are set afterwards (0; -inf for log_softmax). A fully
//! masked row thus gives 0s (-inf for log_softmax and logsumexp) with no special case.

use std::cell::RefCell;
use std::marker::PhantomData;

use crate::math::{exp, exp_shifted, exp_shifted_scale, expm1, log1p, two_prod, two_sum};
use crate::parallel;
use crate::real::{Elem, Real};
use crate::simd::{self, Isa};
use crate::transpose::{transpose_on, Matrix};

/// Which function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RowOp {
    Softmax = 0,
    LogSoftmax = 1,
    Softmin = 2,
    LogSumExp = 3,
    QuietSoftmax = 4,
    LogMeanExp = 5,
    Sparsemax = 6,
}

impl RowOp {
    /// One value per lane (the forward reduces the axis).
    pub fn reduces(self) -> bool {
        matches!(self, RowOp::LogSumExp | RowOp::LogMeanExp)
    }
}

/// Forward, derivative from the input, or derivative from the forward's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RowMode {
    Forward = 0,
    Derivative = 1,
    FromOutput = 2,
}

/// One operand of a lane-wise call: its base pointer, its element strides over the outer (non-reduced)
/// axes, and its stride along the lane. A stride of 0 along the lane means one value per lane
/// (logsumexp's output, and its grad_out).
#[derive(Clone, Copy, Debug)]
pub struct LaneView<'a, P> {
    pub ptr: P,
    pub outer: &'a [isize],
    pub step: isize,
}

impl<P> LaneView<'_, P> {
    /// The distance between neighbouring lanes of the last outer axis (its stride; 0 without outer axes).
    fn apart(&self) -> isize {
        self.outer.last().copied().unwrap_or(0)
    }
}

impl<T> LaneView<'_, *const T> {
    /// The pointer to lane `index`'s first element (lanes row-major over `outer_shape`). Wrapping: it is
    /// only read through where the caller's contract makes it valid.
    fn lane(&self, outer_shape: &[usize], index: usize) -> *const T {
        self.ptr
            .wrapping_offset(lane_offset(index, outer_shape, self.outer))
    }
}

impl<T> LaneView<'_, *mut T> {
    /// As for the inputs' views: lane `index`'s first element.
    fn lane(&self, outer_shape: &[usize], index: usize) -> *mut T {
        self.ptr
            .wrapping_offset(lane_offset(index, outer_shape, self.outer))
    }
}

const LANES: usize = 16;

/// Bytes per cache line (x86-64 and the common aarch64 cores).
const PREFETCH_LINE: usize = 64;
/// Elements per block of `stats_stored`'s exponential loop (one burst of prefetches each).
const PREFETCH_BLOCK: usize = 256;

/// Prefetches the PREFETCH_BLOCK elements from `ahead`, a line at a time: one block of the next lane.
#[inline(always)]
fn prefetch_block<T>(ahead: *const T) {
    let line = PREFETCH_LINE / core::mem::size_of::<T>();
    for j in (0..PREFETCH_BLOCK).step_by(line) {
        prefetch(ahead.wrapping_add(j));
    }
}

/// A hint to bring the line at `p` into L2; a no-op where there is no such instruction. Never faults, so `p`
/// may point anywhere (past the array's end included): it is not dereferenced.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT1 is a hint with no architectural effect: it reads nothing into the program and
    // cannot fault, whatever the address (SSE, part of the x86-64 baseline).
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T1 }>(p.cast::<i8>())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Per-lane statistics: the max (of sign·x), whether a NaN was seen, and Σ exp(sign·x - max) split into
/// the terms equal to the max (each exactly 1: `hits` of them) and the rest (hi + lo).
#[derive(Clone, Copy)]
struct Stats {
    max: f64,
    nan: bool,
    hits: f64,
    rest: f64,
    rest_lo: f64,
}

impl Stats {
    /// Σ exp(sign·x - max).
    fn sum(&self) -> f64 {
        self.hits + (self.rest + self.rest_lo)
    }

    /// s - 1 = (hits - 1) + rest, taken exactly, s = Σ exp(sign·x - max): `log_sum` is its log1p.
    fn sum_less_one(&self) -> f64 {
        (self.hits - 1.0) + (self.rest + self.rest_lo)
    }

    /// log Σ exp(sign·x - max) = log1p(s - 1): a dominant maximum keeps the tiny rest in full. fastact's
    /// own log1p, not libm's, so that the panels can take it across lanes (`log1p_each`) with the same bits.
    #[inline(always)]
    fn log_sum(&self) -> f64 {
        log1p(self.sum_less_one())
    }

    /// The value `logsumexp` adds log Σ to, with the argument of that log1p (0 where there is none): the
    /// max, or for a NaN row NaN, for an infinite max the max itself.
    fn logsumexp_parts(&self) -> (f64, f64) {
        if self.nan {
            (f64::NAN, 0.0)
        } else if self.max.is_infinite() {
            (self.max, 0.0)
        } else {
            (self.max, self.sum_less_one())
        }
    }

    /// logsumexp with PyTorch's infinities: +inf if any +inf, -inf for all -inf or an empty row. (The panels
    /// take the same steps across lanes: `logsumexp_parts`, `log1p_each`, then the sum.)
    #[inline(always)]
    fn logsumexp(&self) -> f64 {
        let (base, arg) = self.logsumexp_parts();
        base + log1p(arg)
    }
}

/// logsumexp - log n of the lane `x` whose statistics are `st`: NaN for an empty lane (the mean of nothing),
/// the infinities as logsumexp. log(s/n), s = Σ exp(x_i - max) <= n, is log of the rounded s/n when s/n <=
/// 1/2; nearer 1 it is log1p((s - n)/n) with s - n = Σ expm1(x_i - max) (every term <= 0, so nothing
/// cancels): from the exponentials themselves, each near 1, s - n would lose the small difference (millions
/// of ULP for values within 1e-7 of each other), and log s - log n would cancel. A row of equal values c
/// gives exactly c.
#[inline(always)]
fn logmeanexp<T: Elem>(x: &[T], st: &Stats) -> f64 {
    if x.is_empty() || st.nan {
        return f64::NAN;
    }
    if st.max.is_infinite() {
        return st.max;
    }
    let count = x.len() as f64;
    let ratio = st.sum() / count;
    if ratio <= 0.5 {
        return st.max + ratio.ln();
    }
    let (mut hi, mut lo) = (0f64, 0f64);
    for &v in x {
        // x - max exactly, as hi + lo (f32 lanes: exact in f64); e^(d + d_lo) - 1 = em1 + d_lo·(1 + em1).
        let (d, d_lo) = if T::IS_F64 {
            two_sum(v.to_f64(), -st.max)
        } else {
            (v.to_f64() - st.max, 0.0)
        };
        let em1 = expm1(d);
        // d = -inf (an element at -inf): the error term is NaN, e^d - 1 is -1.
        let term = if d_lo.is_nan() {
            em1
        } else {
            d_lo.mul_add(1.0 + em1, em1)
        };
        add_term::<T>(&mut hi, &mut lo, term, 0.0);
    }
    st.max + ((hi + lo) / count).ln_1p()
}

/// max(sign·x, floor) over the lane, in 16 running maxima. NaN is ignored (`>` is false for it): it shows
/// in the sum instead, whose term is NaN.
#[inline(always)]
fn lane_max<T: Elem>(x: &[T], sign: T, floor: T) -> T {
    let mut mx = [-T::INFINITY; LANES];
    let mut chunks = x.chunks_exact(LANES);
    for c in &mut chunks {
        for j in 0..LANES {
            let v = c[j] * sign;
            mx[j] = if v > mx[j] { v } else { mx[j] };
        }
    }
    for (j, &v) in chunks.remainder().iter().enumerate() {
        let v = v * sign;
        mx[j] = if v > mx[j] { v } else { mx[j] };
    }
    let mut m = floor;
    for &v in &mx {
        m = if v > m { v } else { m };
    }
    m
}

/// 2^-S, S = `exp_shifted_scale`: the factor that takes the scale out of `exp_shifted`'s terms.
#[inline(always)]
fn unscale<T: Real>() -> f64 {
    f64::from_bits(((1023 - exp_shifted_scale::<T>()) as u64) << 52)
}

/// Whether a lane with max `m` and (scaled) sum `rest` holds a NaN: a NaN term makes the sum NaN, and only
/// an infinite max hides it (the sum is NaN or 0 anyway); only then is the lane scanned, by `scan`.
#[inline(always)]
fn has_nan<T: Elem>(m: T, rest: f64, scan: impl FnOnce() -> bool) -> bool {
    if m.to_f64().is_finite() {
        rest.is_nan()
    } else {
        scan()
    }
}

/// The statistics from the max `m` and the sums of the scaled terms: unscaled by 2^-S (exact).
#[inline(always)]
fn finish_stats<T: Elem>(m: T, nan: bool, hits: f64, rest: f64, rest_lo: f64) -> Stats {
    let unscale = unscale::<T>();
    Stats {
        max: m.to_f64(),
        nan,
        hits,
        rest: rest * unscale,
        rest_lo: rest_lo * unscale,
    }
}

/// The lane's statistics for softmax, which needs only the sum: each term exp(sign·x_i - max)·2^S is
/// written to `store` (S: `exp_shifted_scale`), `hits` is 0 and `rest` the whole sum. `floor` bounds the
/// max from below (quiet_softmax's extra logit 0; -inf otherwise).
///
/// Two simple loops (the terms, then their sum, from L1 or L2), which vectorise like the elementwise
/// kernels; fused in one loop (or in blocks through a stack buffer), LLVM vectorises the 16 f64 sums
/// badly or not at all, and it measured slower. No closures in here: a
/// closure is compiled without the trampoline's target features, and its `mul_add` would become a libm
/// call.
#[inline(always)]
fn stats_stored<T: Elem>(x: &[T], sign: T, floor: T, store: &mut [T]) -> Stats {
    let m = lane_max(x, sign, floor);
    let out = &mut store[..x.len()];
    // While the exponentials (compute-bound) run, the memory after the lane (the next row of a C-ordered
    // array) is prefetched, a cache line per line of this lane, so that the next lane's max pass reads L2
    // instead of DRAM. In fixed-size blocks (arrays, so that each block's loop has a constant trip count
    // and compiles as the plain loop would), the block's lines of the next lane prefetched at its start.
    let next = x.as_ptr_range().end;
    let (out_blocks, out_rest) = out.as_chunks_mut::<PREFETCH_BLOCK>();
    let (x_blocks, x_rest) = x.as_chunks::<PREFETCH_BLOCK>();
    for (k, (os, xs)) in out_blocks.iter_mut().zip(x_blocks).enumerate() {
        prefetch_block(next.wrapping_add(k * PREFETCH_BLOCK));
        for (o, &v) in os.iter_mut().zip(xs) {
            *o = exp_shifted(v * sign, m);
        }
    }
    for (o, &v) in out_rest.iter_mut().zip(x_rest) {
        *o = exp_shifted(v * sign, m);
    }
    let (rest, rest_lo) = sum_terms(out);
    let nan = has_nan(m, rest, || x.iter().any(|v| v.is_nan()));
    finish_stats(m, nan, 0.0, rest, rest_lo)
}

/// The lane's statistics with the terms at the max (each exactly 1) counted apart from the rest, for
/// log_softmax and logsumexp; `scratch` (the lane's length) receives the other terms, scaled, and 0 at
/// the max. The count is an integer sum (its order is immaterial), so the loop vectorises as
/// `stats_stored`'s does.
#[inline(always)]
fn stats_counted<T: Elem>(x: &[T], sign: T, scratch: &mut [T]) -> Stats {
    let m = lane_max(x, sign, -T::INFINITY);
    let out = &mut scratch[..x.len()];
    let mut count = 0usize;
    // A u32 count per 2^30 terms: it cannot overflow, and it vectorises as 8 lanes (a usize as 4).
    // With the next lane prefetched as in `stats_stored`.
    let next = x.as_ptr_range().end;
    let mut done = 0usize;
    for (xs, os) in x.chunks(1 << 30).zip(out.chunks_mut(1 << 30)) {
        let mut part = 0u32;
        let (out_blocks, out_rest) = os.as_chunks_mut::<PREFETCH_BLOCK>();
        let (x_blocks, x_rest) = xs.as_chunks::<PREFETCH_BLOCK>();
        for (k, (ob, xb)) in out_blocks.iter_mut().zip(x_blocks).enumerate() {
            prefetch_block(next.wrapping_add(done + k * PREFETCH_BLOCK));
            for (o, &v) in ob.iter_mut().zip(xb) {
                part = part.wrapping_add(counted_term(v, sign, m, o));
            }
        }
        for (o, &v) in out_rest.iter_mut().zip(x_rest) {
            part = part.wrapping_add(counted_term(v, sign, m, o));
        }
        done += xs.len();
        count += part as usize;
    }
    let (rest, rest_lo) = sum_terms(out);
    let nan = has_nan(m, rest, || x.iter().any(|v| v.is_nan()));
    finish_stats(m, nan, count as f64, rest, rest_lo)
}

/// One term of `stats_counted`: writes exp(sign·v - m)·2^S, or 0 where sign·v is the max; returns 1 there.
#[inline(always)]
fn counted_term<T: Elem>(v: T, sign: T, m: T, o: &mut T) -> u32 {
    let at_max = v * sign == m;
    let e = exp_shifted(v * sign, m);
    *o = if at_max { T::c(0.0) } else { e };
    u32::from(at_max)
}

/// Σ terms in f64 as hi + lo, in the 16 fixed partial sums.
#[inline(always)]
fn sum_terms<T: Elem>(terms: &[T]) -> (f64, f64) {
    let mut hi = [0f64; LANES];
    let mut lo = [0f64; LANES];
    let mut es = terms.chunks_exact(LANES);
    for e in &mut es {
        for j in 0..LANES {
            add_term::<T>(&mut hi[j], &mut lo[j], e[j].to_f64(), 0.0);
        }
    }
    for (j, &e) in es.remainder().iter().enumerate() {
        add_term::<T>(&mut hi[j], &mut lo[j], e.to_f64(), 0.0);
    }
    total::<T>(&hi, &lo)
}

/// Adds v + v_lo to one of the 16 fixed partial sums (hi + lo), compensated for f64 lanes; f32 terms are
/// exact in f64 and the plain f64 sum of a lane's values is already far below f32's rounding. The sums are
/// local arrays of the callers, so LLVM keeps them in registers.
#[inline(always)]
fn add_term<T: Elem>(hi: &mut f64, lo: &mut f64, v: f64, v_lo: f64) {
    if T::IS_F64 {
        let (s, err) = two_sum(*hi, v);
        *hi = s;
        *lo += err + v_lo;
    } else {
        *hi += v;
    }
}

/// The total of the partial sums as hi + lo, summed in a fixed order: compensated for f64 lanes, plainly
/// for f32 lanes (whose lo parts are 0; the f64 sum of 16 partial sums is far below f32's rounding, as the
/// partial sums themselves), and there pairwise (`pairwise_total`). `PanelTotals::new` takes the same steps
/// across many lanes at once: a change here must be made there too (tests/rows.rs compares the two).
#[inline(always)]
fn total<T: Elem>(hi: &[f64; LANES], lo: &[f64; LANES]) -> (f64, f64) {
    if !T::IS_F64 {
        return (pairwise_total(*hi), 0.0);
    }
    let (mut s, mut s_lo) = (0f64, 0f64);
    for j in 0..LANES {
        let (t, err) = two_sum(s, hi[j]);
        s = t;
        s_lo += err + lo[j];
    }
    two_sum(s, s_lo)
}

/// Σ sums in halves: sum j + sum j + 8, then j + j + 4, j + j + 2, j + j + 1. Four dependent additions
/// where a running sum takes sixteen: a lane of a few dozen elements waited on that chain (1.02-1.16×
/// faster on lanes of 40-128 float32).
#[inline(always)]
fn pairwise_total(mut sums: [f64; LANES]) -> f64 {
    let mut half = LANES / 2;
    while half > 0 {
        for j in 0..half {
            sums[j] += sums[j + half];
        }
        half /= 2;
    }
    sums[0]
}

/// a_i·b_i (or a_i) in f64 as hi + lo: exact for f32 operands, two_prod for f64.
#[inline(always)]
fn dot_term<T: Elem>(a: &[T], b: Option<&[T]>, i: usize) -> (f64, f64) {
    let av = a[i].to_f64();
    match b {
        Some(b) if T::IS_F64 => two_prod(av, b[i].to_f64()),
        Some(b) => (av * b[i].to_f64(), 0.0),
        None => (av, 0.0),
    }
}

/// Σ a_i·b_i (without b: Σ a_i) in f64 (Dot2-compensated for f64 lanes).
#[inline(always)]
fn dot<T: Elem>(a: &[T], b: Option<&[T]>) -> f64 {
    let mut hi = [0f64; LANES];
    let mut lo = [0f64; LANES];
    // Whole chunks first: a fixed lane index per step, which LLVM vectorises.
    let full = a.len() / LANES * LANES;
    for base in (0..full).step_by(LANES) {
        for j in 0..LANES {
            let (v, v_lo) = dot_term(a, b, base + j);
            add_term::<T>(&mut hi[j], &mut lo[j], v, v_lo);
        }
    }
    for i in full..a.len() {
        let (v, v_lo) = dot_term(a, b, i);
        add_term::<T>(&mut hi[i - full], &mut lo[i - full], v, v_lo);
    }
    let (s, s_lo) = total::<T>(&hi, &lo);
    s + s_lo
}

/// Writes softmax(sign·x) into `y` (with `QUIET`, quiet_softmax(x)): one pass for the max, one for exp
/// and the sum, one to scale.
#[inline(always)]
fn softmax_into<T: Elem, const QUIET: bool>(x: &[T], sign: T, y: &mut [T]) {
    let y = &mut y[..x.len()];
    let floor = if QUIET { T::c(0.0) } else { -T::INFINITY };
    let st = stats_stored(x, sign, floor, y);
    if st.nan || st.max.is_infinite() {
        // NaN, +inf, or only -inf in the row: PyTorch's NaN row (quiet_softmax's max is never -inf).
        y.fill(T::NAN);
        return;
    }
    let (inv_hi, inv_lo) = inverse_sum::<T, QUIET>(&st);
    for v in y.iter_mut() {
        *v = v.mul_add(inv_hi, *v * inv_lo);
    }
}

/// 2^-S/s as hi + lo in T, s the lane's sum (with `QUIET`, plus quiet_softmax's exp(0 - max)): softmax is
/// then e·hi + e·lo in one fused step, rounding about once, without f64 conversions. The terms e carry the
/// factor 2^S, which this takes back (exactly: a power of two, in f64's range).
#[inline(always)]
fn inverse_sum<T: Elem, const QUIET: bool>(st: &Stats) -> (T, T) {
    let extra = if QUIET { (-st.max).exp() } else { 0.0 };
    let inv = 1.0 / (st.sum() + extra) * unscale::<T>();
    let inv_hi = T::from_f64(inv);
    (inv_hi, T::from_f64(inv - inv_hi.to_f64()))
}

/// A panel's n rows: row i holds position i of w adjacent lanes, w adjacent elements at `base + i·stride`.
/// A copied panel has stride w; a panel read where it lies, the array's stride along the lanes.
#[derive(Clone, Copy)]
struct Rows<'a, T> {
    base: *const T,
    stride: isize,
    n: usize,
    w: usize,
    life: PhantomData<&'a [T]>,
}

impl<'a, T> Rows<'a, T> {
    /// `data` as rows of w (a copied panel, or one row of per-lane values).
    fn packed(data: &'a [T], w: usize) -> Self {
        Self {
            base: data.as_ptr(),
            stride: w as isize,
            n: data.len() / w.max(1),
            w,
            life: PhantomData,
        }
    }

    /// # Safety
    /// For i < n, the w elements at `base + i·stride` are readable, and nothing writes them while 'a lasts.
    unsafe fn strided(base: *const T, stride: isize, n: usize, w: usize) -> Self {
        Self {
            base,
            stride,
            n,
            w,
            life: PhantomData,
        }
    }

    /// Row i.
    #[inline(always)]
    fn row(&self, i: usize) -> &'a [T] {
        assert!(i < self.n);
        // SAFETY: row i < n is readable and unwritten for 'a (the constructors' contracts).
        unsafe { core::slice::from_raw_parts(self.base.offset(i as isize * self.stride), self.w) }
    }

    /// The rows in order.
    #[inline(always)]
    fn iter(&self) -> impl Iterator<Item = &'a [T]> + '_ {
        (0..self.n).map(move |i| self.row(i))
    }
}

/// A panel's n output rows, as `Rows`; distinct rows do not overlap.
struct RowsMut<'a, T> {
    base: *mut T,
    stride: isize,
    n: usize,
    w: usize,
    life: PhantomData<&'a mut [T]>,
}

impl<'a, T> RowsMut<'a, T> {
    /// The first n·w elements of `data` as n rows of w.
    fn packed(data: &'a mut [T], n: usize, w: usize) -> Self {
        assert!(n * w <= data.len());
        Self {
            base: data.as_mut_ptr(),
            stride: w as isize,
            n,
            w,
            life: PhantomData,
        }
    }

    /// # Safety
    /// For i < n, the w elements at `base + i·stride` are writable, no two rows overlap (|stride| >= w when
    /// n > 1), and nothing else reads or writes them while 'a lasts.
    unsafe fn strided(base: *mut T, stride: isize, n: usize, w: usize) -> Self {
        Self {
            base,
            stride,
            n,
            w,
            life: PhantomData,
        }
    }

    /// The rows in order, each once.
    #[inline(always)]
    fn iter_mut(&mut self) -> impl Iterator<Item = &mut [T]> + '_ {
        let (base, stride, w) = (self.base, self.stride, self.w);
        // SAFETY: row i < n is writable and referred to by nothing else (the constructors' contracts), and
        // each row is handed out once, for the borrow of `self`.
        (0..self.n).map(move |i| unsafe {
            core::slice::from_raw_parts_mut(base.offset(i as isize * stride), w)
        })
    }

    /// The rows, read-only, for the borrow of `self`.
    #[inline(always)]
    fn rows(&self) -> Rows<'_, T> {
        // SAFETY: readable as they are writable, and `&self` keeps them unwritten meanwhile.
        unsafe { Rows::strided(self.base, self.stride, self.n, self.w) }
    }
}

/// Each lane's max(sign·x, floor) of a panel of `maxima.len()` lanes (row by row): `lane_max`'s value (a
/// max is exact and both skip NaN, the running max never being NaN; at most the sign of a zero max can
/// differ, which no result shows, x - max being ±0 either way).
#[inline(always)]
fn panel_max<T: Elem>(x: Rows<'_, T>, sign: T, floor: T, maxima: &mut [T]) {
    maxima.fill(floor);
    for row in x.iter() {
        for (m, &v) in maxima.iter_mut().zip(row) {
            // Stored plus 0.0 (a -0.0 max becomes +0.0; see above): a plain `if v > m` or maxNum, whose
            // value is the loaded m where v is not larger, LLVM turned into masked stores (vmaskmovps,
            // microcoded on Zen 3: 18% of short lanes' softmax panels).
            *m = (v * sign).max_num(*m) + T::c(0.0);
        }
    }
}

/// `add_term` of v + v_lo into a panel's partial sum (h, l); with `fresh` (rows 0..16 of the panel, each
/// sum's first term) into 0 + 0, the bits of zeroing the sums first without the stores (at 16 bytes per
/// lane and row, the zeroing cost 7% of short lanes' softmax).
#[inline(always)]
fn accumulate<T: Elem>(fresh: bool, h: &mut f64, l: &mut f64, v: f64, v_lo: f64) {
    if !T::IS_F64 {
        // f32 lanes: no lo part (`add_term`); none is written or read (`PanelTotals::new`).
        *h = if fresh { 0.0 } else { *h } + v;
        return;
    }
    let (mut hi, mut lo) = if fresh { (0.0, 0.0) } else { (*h, *l) };
    add_term::<T>(&mut hi, &mut lo, v, v_lo);
    (*h, *l) = (hi, lo);
}

/// How many lanes of a panel `PanelTotals` takes at once.
const TOTALS_BLOCK: usize = 64;

/// `total` of the partial sums of lanes `start..end` of a panel (`his`, `los`: 16 rows of w, sum j
/// holding positions j mod 16), formed for up to TOTALS_BLOCK lanes at once: the same operations per lane,
/// in the same order, vectorised across the lanes (lane by lane, each total gathered 16 strided values
/// through a call to `array::from_fn`, which cost as much as the terms for lanes of a few dozen).
///
/// Only the first `used` = min(n, 16) partial sums of lanes of n are read (the panels write no others):
/// `total`'s steps for the others add +0.0 to each, which leaves s and s_lo as they are. (Neither is ever
/// -0.0, both starting at +0.0, and a sum that overflowed or met a NaN already has a NaN s_lo.) For f32
/// lanes the totals are formed in `his` itself, in the block's columns, overwriting the partial sums.
struct PanelTotals {
    start: usize,
    end: usize,
    rest: [f64; TOTALS_BLOCK],
    rest_lo: [f64; TOTALS_BLOCK],
}

impl PanelTotals {
    #[inline(always)]
    fn new<T: Elem>(his: &mut [f64], los: &[f64], start: usize, used: usize) -> Self {
        let w = his.len() / LANES;
        let len = TOTALS_BLOCK.min(w - start);
        let mut rest = [0f64; TOTALS_BLOCK];
        let mut rest_lo = [0f64; TOTALS_BLOCK];
        if T::IS_F64 {
            for j in 0..used.min(LANES) {
                let hi = &his[j * w + start..][..len];
                let lo = &los[j * w + start..][..len];
                for (((s, s_lo), &h), &l) in rest.iter_mut().zip(rest_lo.iter_mut()).zip(hi).zip(lo)
                {
                    let (t, err) = two_sum(*s, h);
                    *s = t;
                    *s_lo += err + l;
                }
            }
            for (s, s_lo) in rest.iter_mut().zip(rest_lo.iter_mut()).take(len) {
                (*s, *s_lo) = two_sum(*s, *s_lo);
            }
        } else {
            // `pairwise_total` of the block's lanes at once, in place (f32 lanes have no lo parts:
            // `accumulate` writes none): row j gets row j + half added, half = 8, 4, 2, 1, the totals ending
            // in row 0. Where a row was never written (j >= `used`), `pairwise_total` adds its +0.0, and the
            // step is skipped (s + 0.0 = s, s never being -0.0).
            let mut written = used.min(LANES);
            let mut half = LANES / 2;
            while half > 0 {
                for j in 0..half.min(written.saturating_sub(half)) {
                    let (low, high) = his.split_at_mut((j + half) * w);
                    for (s, &t) in low[j * w + start..][..len]
                        .iter_mut()
                        .zip(&high[start..][..len])
                    {
                        *s += t;
                    }
                }
                written = written.min(half);
                half /= 2;
            }
            rest[..len].copy_from_slice(&his[start..][..len]);
        }
        Self {
            start,
            end: start + len,
            rest,
            rest_lo,
        }
    }

    /// The lanes of every block of a panel of w lanes, block by block.
    fn blocks(w: usize) -> core::iter::StepBy<core::ops::Range<usize>> {
        (0..w).step_by(TOTALS_BLOCK)
    }

    /// Lane k's total as (hi, lo), k in `start..end`.
    #[inline(always)]
    fn total(&self, k: usize) -> (f64, f64) {
        (self.rest[k - self.start], self.rest_lo[k - self.start])
    }

    /// The statistics of lane k (in `start..end`) of the panel `x`, from its max `m` and its count of
    /// terms at the max: `has_nan` and `finish_stats` as the contiguous lane takes them.
    #[inline(always)]
    fn stats<T: Elem>(&self, x: Rows<'_, T>, k: usize, m: T, hits: f64) -> Stats {
        let (rest, rest_lo) = self.total(k);
        let nan = has_nan(m, rest, || x.iter().any(|r| r[k].is_nan()));
        finish_stats(m, nan, hits, rest, rest_lo)
    }
}

/// softmax(sign·x) (with `QUIET`, quiet_softmax) of w adjacent lanes at once, for lanes along a non-last
/// axis: `x` and `y` hold the panel row by row (n rows of w lanes, as the lanes lie in memory), so every
/// loop runs along a row, contiguous and vectorised across the lanes. Each lane gets `softmax_into`'s very
/// operations: the same terms, the same 16 partial sums (position i into sum i mod 16), the same total and
/// scale, hence the same bits as the lane read contiguously. `params` holds 2w values, `sums` at least
/// 2·16·w.
#[inline(always)]
fn softmax_panel<T: Elem, const QUIET: bool>(
    x: Rows<'_, T>,
    sign: T,
    y: &mut RowsMut<'_, T>,
    params: &mut [T],
    sums: &mut [f64],
) {
    let (maxima, inv_lo) = params.split_at_mut(params.len() / 2);
    let w = maxima.len();
    panel_max(
        x,
        sign,
        if QUIET { T::c(0.0) } else { -T::INFINITY },
        maxima,
    );
    let (his, rest) = sums.split_at_mut(LANES * w);
    let los = &mut rest[..LANES * w];
    for (i, (xr, yr)) in x.iter().zip(y.iter_mut()).enumerate() {
        // Two loops, the terms and then their sums, as `stats_stored`: fused, the f64 sums made LLVM
        // vectorise the exponentials at f64's width (4 f32 lanes on AVX2 instead of 8).
        for ((&v, o), &m) in xr.iter().zip(yr.iter_mut()).zip(maxima.iter()) {
            *o = exp_shifted(v * sign, m);
        }
        let j = i % LANES;
        let hi = &mut his[j * w..(j + 1) * w];
        let lo = &mut los[j * w..(j + 1) * w];
        for (&e, (h, l)) in yr.iter().zip(hi.iter_mut().zip(lo.iter_mut())) {
            accumulate::<T>(i < LANES, h, l, e.to_f64(), 0.0);
        }
    }
    // Per lane: the statistics, and 1/s in place of the max (hi) and in inv_lo.
    let mut bad = false;
    for start in PanelTotals::blocks(w) {
        let totals = PanelTotals::new::<T>(his, los, start, x.n);
        // A lane is NaN where its max is infinite or, with a finite max, its sum is NaN: `has_nan`'s test,
        // whose scan only an infinite max needs (and that lane is NaN anyway; the max is never NaN). Without
        // QUIET the loop vectorises (as a scalar loop it took 10% of lanes of 16); quiet_softmax's
        // exp(-max) is libm's, lane by lane.
        let lanes = maxima[start..totals.end]
            .iter_mut()
            .zip(&mut inv_lo[start..totals.end]);
        for ((m, lo), (&rest, &rest_lo)) in lanes.zip(totals.rest.iter().zip(&totals.rest_lo)) {
            let st = finish_stats(*m, false, 0.0, rest, rest_lo);
            let nan_lane = st.max.is_infinite() || st.rest.is_nan();
            let (hi, inv_lo) = inverse_sum::<T, QUIET>(&st);
            (*m, *lo) = if nan_lane {
                (T::NAN, T::NAN)
            } else {
                (hi, inv_lo)
            };
            bad |= nan_lane;
        }
    }
    let inv_hi = &*maxima;
    for yr in y.iter_mut() {
        for ((v, &hi), &lo) in yr.iter_mut().zip(inv_hi).zip(&*inv_lo) {
            *v = v.mul_add(hi, *v * lo);
        }
    }
    if bad {
        for yr in y.iter_mut() {
            for (v, h) in yr.iter_mut().zip(inv_hi) {
                *v = if h.is_nan() { T::NAN } else { *v };
            }
        }
    }
}

/// `stats_counted` of w adjacent lanes at once (`x` row by row, w = `maxima.len()`), for log_softmax and
/// logsumexp along a non-last axis: the max of each lane into `maxima`, then per row the terms, counted
/// at the max and otherwise added straight into the lane's partial sums (position i into sum i mod 16, the
/// same adds in the same order as `sum_terms` over `stats_counted`'s scratch lane, whose terms at the max
/// are 0), so each lane's statistics, formed by `PanelTotals::stats`, have the contiguous lane's bits.
/// `sums` holds (2·16 + 1)·w: the partial sums (hi, lo), then the counts (exact in f64 below 2^53);
/// `terms` (w values) is scratch.
#[inline(always)]
fn panel_counted<T: Elem>(
    x: Rows<'_, T>,
    sign: T,
    maxima: &mut [T],
    sums: &mut [f64],
    terms: &mut [T],
) {
    let w = maxima.len();
    panel_max(x, sign, -T::INFINITY, maxima);
    let sums = &mut sums[..(2 * LANES + 1) * w];
    let (his, rest) = sums.split_at_mut(LANES * w);
    let (los, counts) = rest.split_at_mut(LANES * w);
    counts.fill(0.0);
    let terms = &mut terms[..w];
    for (i, xr) in x.iter().enumerate() {
        // The terms in T, then the counts and sums in f64: two loops, as in `softmax_panel`.
        for ((&v, o), &m) in xr.iter().zip(terms.iter_mut()).zip(maxima.iter()) {
            let e = exp_shifted(v * sign, m);
            *o = if v * sign == m { T::c(0.0) } else { e };
        }
        let j = i % LANES;
        let hi = &mut his[j * w..(j + 1) * w];
        let lo = &mut los[j * w..(j + 1) * w];
        let lanes = xr
            .iter()
            .zip(maxima.iter())
            .zip(counts.iter_mut())
            .zip(&*terms);
        for ((((&v, &m), c), &term), (h, l)) in lanes.zip(hi.iter_mut().zip(lo.iter_mut())) {
            *c += if v * sign == m { 1.0 } else { 0.0 };
            accumulate::<T>(i < LANES, h, l, term.to_f64(), 0.0);
        }
    }
}

/// log_softmax of w adjacent lanes (`x`, `y` row by row, w = `params.len()` / 2) with `lane`'s operations
/// per lane, hence its bits: the statistics by `panel_counted`, then (x - max) - log Σ along each row.
/// `sums` holds (2·16 + 3)·w.
#[inline(always)]
fn log_softmax_panel<T: Elem>(
    x: Rows<'_, T>,
    y: &mut RowsMut<'_, T>,
    params: &mut [T],
    sums: &mut [f64],
) {
    let w = params.len() / 2;
    let (maxima, terms) = params.split_at_mut(w);
    panel_counted(x, T::c(1.0), maxima, sums, terms);
    let (partial, rest) = sums.split_at_mut(2 * LANES * w);
    let (his, los) = partial.split_at_mut(LANES * w);
    let (counts, rest) = rest.split_at_mut(w);
    let (max64, shifts) = rest[..2 * w].split_at_mut(w);
    let mut bad = false;
    for start in PanelTotals::blocks(w) {
        let totals = PanelTotals::new::<T>(his, los, start, x.n);
        for k in start..totals.end {
            let st = totals.stats(x, k, maxima[k], counts[k]);
            if st.nan || st.max.is_infinite() {
                // A NaN lane (the contiguous lane's NaN row), marked by a NaN max and filled below.
                bad = true;
                (max64[k], shifts[k]) = (f64::NAN, 0.0);
            } else {
                (max64[k], shifts[k]) = (st.max, st.sum_less_one());
            }
        }
    }
    // Each lane's log Σ (`Stats::log_sum`), across the lanes.
    log1p_each(shifts);
    for (xr, yr) in x.iter().zip(y.iter_mut()) {
        let lanes = xr.iter().zip(yr.iter_mut());
        for ((&v, o), (&m, &shift)) in lanes.zip(max64.iter().zip(shifts.iter())) {
            *o = if T::IS_F64 {
                // As `lane`: x - m exactly as d + d_lo (m and shift are f64 here, converted exactly).
                let (d, d_lo) = two_sum(v, -T::from_f64(m));
                let d_lo = if d_lo.is_nan() { T::c(0.0) } else { d_lo };
                (d - T::from_f64(shift)) + d_lo
            } else {
                T::from_f64((v.to_f64() - m) - shift)
            };
        }
    }
    if bad {
        for yr in y.iter_mut() {
            for (v, m) in yr.iter_mut().zip(max64.iter()) {
                *v = if m.is_nan() { T::NAN } else { *v };
            }
        }
    }
}

/// logsumexp of w adjacent lanes (`x` row by row, w = `params.len()` / 2) into `y[..w]`, one value per
/// lane, with `lane`'s operations per lane. `sums` holds (2·16 + 3)·w.
#[inline(always)]
fn logsumexp_panel<T: Elem>(x: Rows<'_, T>, y: &mut [T], params: &mut [T], sums: &mut [f64]) {
    let w = params.len() / 2;
    let (maxima, terms) = params.split_at_mut(w);
    panel_counted(x, T::c(1.0), maxima, sums, terms);
    let (partial, rest) = sums.split_at_mut(2 * LANES * w);
    let (his, los) = partial.split_at_mut(LANES * w);
    let (counts, rest) = rest.split_at_mut(w);
    let (bases, args) = rest[..2 * w].split_at_mut(w);
    for start in PanelTotals::blocks(w) {
        let totals = PanelTotals::new::<T>(his, los, start, x.n);
        for k in start..totals.end {
            let st = totals.stats(x, k, maxima[k], counts[k]);
            (bases[k], args[k]) = st.logsumexp_parts();
        }
    }
    // `Stats::logsumexp`'s steps, the log1p across the lanes.
    log1p_each(args);
    for ((o, &base), &log_sum) in y.iter_mut().zip(&*bases).zip(&*args) {
        *o = T::from_f64(base + log_sum);
    }
}

/// log1p of each value in place, in a loop LLVM vectorises: lane by lane, a call to libm's log1p took a
/// quarter of the time of short lanes' log_softmax and logsumexp.
#[inline(always)]
fn log1p_each(values: &mut [f64]) {
    for v in values {
        *v = log1p(*v);
    }
}

/// A derivative's value in T, with any NaN as the one quiet NaN: the sign and payload of a NaN from
/// operands that are both NaN, or from a negated NaN (`-p` folded into a negated multiply-add or not),
/// depend on how LLVM orders and fuses the operations, which differs between the lane and panel loops
/// and between ISA levels; the bits must not.
#[inline(always)]
fn grad_result<T: Elem>(v: f64) -> T {
    T::from_f64(if v.is_nan() { f64::NAN } else { v })
}

/// softmax's (softmin's, with `sgn` = -1) vector-Jacobian product at one element: sgn·p·(g - Σ g·p).
#[inline(always)]
fn vjp_term<T: Elem>(sgn: f64, p: T, g: T, total: f64) -> T {
    grad_result(sgn * p.to_f64() * (g.to_f64() - total))
}

/// `dot(a, b)` (without b: Σ a) of each lane of a panel (`a`, `b` row by row, w lanes), into `sums[..w]`
/// as the f64 total: the same dot terms in the same 16 partial sums (position i into sum i mod 16) and
/// the same total as the contiguous lane's `dot`. `sums` holds (2·16 + 1)·w.
#[inline(always)]
fn panel_dot<T: Elem>(a: Rows<'_, T>, b: Option<Rows<'_, T>>, sums: &mut [f64]) {
    let w = a.w;
    let (totals, rest) = sums.split_at_mut(w);
    let (his, rest) = rest.split_at_mut(LANES * w);
    let los = &mut rest[..LANES * w];
    for (i, ar) in a.iter().enumerate() {
        let j = i % LANES;
        let hi = &mut his[j * w..(j + 1) * w];
        let lo = &mut los[j * w..(j + 1) * w];
        let br = b.map(|b| b.row(i));
        for (k, (h, l)) in hi.iter_mut().zip(lo.iter_mut()).enumerate() {
            let (v, v_lo) = dot_term(ar, br, k);
            accumulate::<T>(i < LANES, h, l, v, v_lo);
        }
    }
    for start in PanelTotals::blocks(w) {
        let block = PanelTotals::new::<T>(his, los, start, a.n);
        for (k, t) in totals[start..block.end].iter_mut().enumerate() {
            let (s, s_lo) = block.total(start + k);
            *t = s + s_lo;
        }
    }
}

/// The derivatives of w adjacent lanes (`x`, `g`, `y` row by row; `g` holds one value per lane for
/// logsumexp), with `lane`'s operations per lane: softmax (`softmax_panel`, into `y`) or, from the
/// output, exp(y) or y itself as p, the per-lane sums by `panel_dot`, then the same elementwise formula.
/// `params` holds 2w values, `sums` (2·16 + 3)·w.
#[inline(always)]
fn grad_panel<T: Elem, const OP: u8, const MODE: u8>(
    x: Rows<'_, T>,
    g: Rows<'_, T>,
    y: &mut RowsMut<'_, T>,
    params: &mut [T],
    sums: &mut [f64],
) {
    let w = params.len() / 2;
    let from_output = MODE == RowMode::FromOutput as u8;
    let sign = T::c(if OP == RowOp::Softmin as u8 {
        -1.0
    } else {
        1.0
    });
    // p = softmax(x) into y (from the output: exp(y) for log_softmax; softmax's own output is x).
    if !from_output {
        if OP == RowOp::QuietSoftmax as u8 {
            softmax_panel::<T, true>(x, sign, y, params, sums);
        } else {
            softmax_panel::<T, false>(x, sign, y, params, sums);
        }
    } else if OP == RowOp::LogSoftmax as u8 {
        for (yr, xr) in y.iter_mut().zip(x.iter()) {
            for (p, &v) in yr.iter_mut().zip(xr) {
                *p = exp(v);
            }
        }
    } else {
        for (yr, xr) in y.iter_mut().zip(x.iter()) {
            yr.copy_from_slice(xr);
        }
    }
    if OP == RowOp::LogSumExp as u8 || OP == RowOp::LogMeanExp as u8 {
        let g = g.row(0);
        for yr in y.iter_mut() {
            for (v, &gs) in yr.iter_mut().zip(&g[..w]) {
                *v = grad_result(v.to_f64() * gs.to_f64());
            }
        }
        return;
    }
    if OP == RowOp::LogSoftmax as u8 {
        panel_dot(g, None, sums);
        let totals = &sums[..w];
        for (yr, gr) in y.iter_mut().zip(g.iter()) {
            for ((o, &gi), &total) in yr.iter_mut().zip(gr).zip(totals) {
                *o = grad_result((-o.to_f64()).mul_add(total, gi.to_f64()));
            }
        }
        return;
    }
    panel_dot(g, Some(y.rows()), sums);
    let totals = &sums[..w];
    let sgn = sign.to_f64();
    for (yr, gr) in y.iter_mut().zip(g.iter()) {
        for ((o, &gi), &total) in yr.iter_mut().zip(gr).zip(totals) {
            *o = grad_result(sgn * o.to_f64() * (gi.to_f64() - total));
        }
    }
}

/// What a sparsemax lane is, apart from ordinary: its threshold, or a special row.
enum Threshold {
    /// Finite max `max` and threshold `tau`: y_i = max((x_i - max) - tau, 0).
    Finite { max: f64, tau: f64 },
    /// Exactly one +inf (and no NaN): the limit, 1 at that entry and 0 elsewhere.
    OneHot,
    /// NaN in the row, more than one +inf, or only -inf: NaN throughout.
    Nan,
}

/// sparsemax's threshold for the lane `x` (non-empty), using `sorted` (the lane's length) as scratch.
#[inline(always)]
fn sparsemax_threshold<T: Elem>(x: &[T], sorted: &mut [T]) -> Threshold {
    let (mut max, mut plus, mut nan) = (f64::NEG_INFINITY, 0usize, false);
    for &v in x {
        let v = v.to_f64();
        nan |= v.is_nan();
        plus += usize::from(v == f64::INFINITY);
        max = if v > max { v } else { max };
    }
    if nan || plus > 1 || max == f64::NEG_INFINITY {
        return Threshold::Nan;
    }
    if plus == 1 {
        return Threshold::OneHot;
    }
    // Only entries >= max - 1 can be in the support (the max term alone gives max - tau <= 1, so tau >=
    // max - 1, and the support is {x > tau}): those are the candidates, sorted. The entries left out fail
    // the support test in the full sorted row too, so the sums below are the reference's over its first
    // entries. For logits of unit scale that is a few entries per thousand instead of a sort of the lane.
    let cutoff = max - 1.0;
    let mut count = 0;
    for &v in x {
        if v.to_f64() >= cutoff {
            sorted[count] = v;
            count += 1;
        }
    }
    let sorted = &mut sorted[..count];
    // Descending; no NaN is left here, total_cmp only fixes an order for ±0 (equal in the sums).
    sorted.sort_unstable_by(|a, b| b.to_f64().total_cmp(&a.to_f64()));
    // The support is every k with 1 + k·z_(k) > Σ_{j<=k} z_(j) (a prefix of the sorted lane); -inf entries
    // never qualify. Sums run in order, as NumPy's cumsum.
    let (mut sum, mut size) = (0f64, 0usize);
    for (k, &v) in sorted.iter().enumerate() {
        let z = v.to_f64() - max;
        sum += z;
        size += usize::from(1.0 + (k + 1) as f64 * z > sum);
    }
    // size >= 1: the max qualifies (1 + 0 > 0). tau takes the running sum over the first `size` entries,
    // as the reference does (the qualifying k are those entries unless rounding breaks a tie).
    let mut head = 0f64;
    for &v in &sorted[..size] {
        head += v.to_f64() - max;
    }
    let tau = (head - 1.0) / size as f64;
    Threshold::Finite { max, tau }
}

/// sparsemax of the lane into `y`, or its derivative (the support: y > 0, from the forward's threshold
/// or, from the output, from `x` = y itself) times `g`: g_i - mean_{j in S} g_j on S, 0 off it.
#[inline(always)]
fn sparsemax_lane<T: Elem, const MODE: u8>(x: &[T], g: &[T], y: &mut [T], scratch: &mut [T]) {
    let n = x.len();
    let y = &mut y[..n];
    if MODE == RowMode::FromOutput as u8 {
        if x.iter().any(|v| v.is_nan()) {
            y.fill(T::NAN);
            return;
        }
        sparsemax_vjp(x.iter().map(|v| v.to_f64() > 0.0), g, y);
        return;
    }
    match sparsemax_threshold(x, scratch) {
        Threshold::Nan => y.fill(T::NAN),
        Threshold::OneHot if MODE == RowMode::Forward as u8 => {
            for (o, &v) in y.iter_mut().zip(x) {
                *o = T::c(if v.to_f64() == f64::INFINITY {
                    1.0
                } else {
                    0.0
                });
            }
        }
        Threshold::OneHot => sparsemax_vjp(x.iter().map(|v| v.to_f64() == f64::INFINITY), g, y),
        Threshold::Finite { max, tau } if MODE == RowMode::Forward as u8 => {
            for (o, &v) in y.iter_mut().zip(x) {
                let d = (v.to_f64() - max) - tau;
                // As NumPy's maximum(d, 0): d where d >= 0 (so -0.0 stays -0.0).
                *o = T::from_f64(if d >= 0.0 { d } else { 0.0 });
            }
        }
        Threshold::Finite { max, tau } => {
            sparsemax_vjp(x.iter().map(|v| (v.to_f64() - max) - tau > 0.0), g, y)
        }
    }
}

/// g_i - mean_{j in S} g_j on the support S, 0 off it, into `out`; the mean in f64 (compensated for f64).
#[inline(always)]
fn sparsemax_vjp<T: Elem>(support: impl Iterator<Item = bool> + Clone, g: &[T], out: &mut [T]) {
    let (mut hi, mut lo, mut count) = (0f64, 0f64, 0usize);
    for (s, &gi) in support.clone().zip(g) {
        if s {
            add_term::<T>(&mut hi, &mut lo, gi.to_f64(), 0.0);
            count += 1;
        }
    }
    let mean = (hi + lo) / count as f64;
    for ((o, s), &gi) in out.iter_mut().zip(support).zip(g) {
        *o = if s {
            T::from_f64(gi.to_f64() - mean)
        } else {
            T::c(0.0)
        };
    }
}

/// One lane. `x` is the forward's input (or output, for FromOutput), `g` the lane of grad_out (empty for
/// forwards), `g_scalar` logsumexp's per-lane grad_out, `y` the output lane (one element for logsumexp's
/// forward), `scratch` a buffer of the lane's length.
#[inline(always)]
fn lane<T: Elem, const OP: u8, const MODE: u8>(
    x: &[T],
    g: &[T],
    g_scalar: T,
    y: &mut [T],
    scratch: &mut [T],
) {
    let n = x.len();
    let sign = if OP == RowOp::Softmin as u8 {
        T::c(-1.0)
    } else {
        T::c(1.0)
    };
    let quiet = OP == RowOp::QuietSoftmax as u8;
    if OP == RowOp::Sparsemax as u8 {
        sparsemax_lane::<T, MODE>(x, g, y, scratch);
        return;
    }
    match (OP, MODE) {
        (3, 0) => {
            y[0] = T::from_f64(stats_counted(x, sign, scratch).logsumexp());
        }
        (5, 0) => {
            let st = stats_counted(x, sign, scratch);
            y[0] = T::from_f64(logmeanexp(x, &st));
        }
        (3 | 5, _) => {
            // d logsumexp / dx = d logmeanexp / dx = softmax(x), times the lane's grad_out.
            softmax_into::<T, false>(x, sign, y);
            let gs = g_scalar.to_f64();
            for v in y[..n].iter_mut() {
                *v = grad_result(v.to_f64() * gs);
            }
        }
        (1, 0) => {
            // The terms go to y, which the result then overwrites: one lane less in L2 than with the
            // scratch (x, y and the scratch: 384 KiB for a 32000-float32 row, L2 being 512 KiB on Zen 3).
            let y = &mut y[..n];
            let st = stats_counted(x, sign, y);
            if st.nan || st.max.is_infinite() {
                y.fill(T::NAN);
                return;
            }
            log_softmax_out(x, st.max, st.log_sum(), y);
        }
        (_, 0) if quiet => softmax_into::<T, true>(x, sign, y),
        (_, 0) => softmax_into::<T, false>(x, sign, y),
        (1, mode) => {
            // g - softmax(x)·Σg; from the output y = log_softmax(x): softmax = exp(y).
            // softmax goes to y, which the result overwrites element by element (no scratch lane in L2).
            let total = dot(g, None);
            let y = &mut y[..n];
            if mode == RowMode::Derivative as u8 {
                softmax_into::<T, false>(x, sign, y);
            } else {
                for (p, &v) in y.iter_mut().zip(x) {
                    *p = exp(v);
                }
            }
            for (o, &gi) in y.iter_mut().zip(g) {
                *o = grad_result((-o.to_f64()).mul_add(total, gi.to_f64()));
            }
        }
        (_, mode) => {
            // softmax and quiet_softmax: p·(g - Σ g·p); softmin: the same with the sign flipped. The
            // derivative computes p into y, which the result overwrites element by element.
            let (y, sgn) = (&mut y[..n], sign.to_f64());
            if mode == RowMode::Derivative as u8 {
                if quiet {
                    softmax_into::<T, true>(x, sign, y);
                } else {
                    softmax_into::<T, false>(x, sign, y);
                }
                let total = dot(g, Some(y));
                for (o, &gi) in y.iter_mut().zip(g) {
                    *o = vjp_term(sgn, *o, gi, total);
                }
            } else {
                let total = dot(g, Some(x));
                for ((o, &pi), &gi) in y.iter_mut().zip(x).zip(g) {
                    *o = vjp_term(sgn, pi, gi, total);
                }
            }
        }
    }
}

/// log_softmax's last pass: y = (x - max) - shift, shift = log Σ exp(x - max), rounding once.
#[inline(always)]
fn log_softmax_out<T: Elem>(x: &[T], max: f64, shift: f64, y: &mut [T]) {
    if T::IS_F64 {
        let (m, shift) = (T::from_f64(max), T::from_f64(shift));
        for (o, &v) in y.iter_mut().zip(x) {
            let (d, d_lo) = two_sum(v, -m);
            // An element at -inf: d = -inf and its (NaN) error term is dropped.
            let d_lo = if d_lo.is_nan() { T::c(0.0) } else { d_lo };
            *o = (d - shift) + d_lo;
        }
    } else {
        // f32: x - m is exact in f64, so the result rounds once.
        for (o, &v) in y.iter_mut().zip(x) {
            *o = T::from_f64((v.to_f64() - max) - shift);
        }
    }
}

type LaneFn<T> = unsafe fn(&[T], &[T], T, &mut [T], &mut [T]);
type SafeLaneFn<T> = fn(&[T], &[T], T, &mut [T], &mut [T]);

/// The lane loops, per ISA level.
mod levels {
    use super::*;

    crate::simd::isa_trampolines!([T: Elem, const OP: u8, const MODE: u8]
        (x: &[T], g: &[T], gs: T, y: &mut [T], s: &mut [T]) => lane::<T, OP, MODE>(x, g, gs, y, s));
}

/// `$levels::<T, OP, MODE>` (a module of `isa_trampolines!`) for `isa`, as the `unsafe fn` pointer type
/// `$unsafe_fn`: the portable variant is coerced from its safe type `$safe_fn` (safe to call anyway).
macro_rules! select_isa {
    ($levels:ident, $isa:expr, $safe_fn:ty => $unsafe_fn:ty) => {
        match $isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => $levels::avx512::<T, OP, MODE>,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => $levels::avx2::<T, OP, MODE>,
            _ => {
                let f: $safe_fn = $levels::portable::<T, OP, MODE>;
                f as $unsafe_fn
            }
        }
    };
}

fn select_lane<T: Elem, const OP: u8, const MODE: u8>(isa: Isa) -> LaneFn<T> {
    select_isa!(levels, isa, SafeLaneFn<T> => LaneFn<T>)
}

fn lane_fn<T: Elem>(op: RowOp, mode: RowMode, isa: Isa) -> LaneFn<T> {
    macro_rules! by_mode {
        ($op:expr) => {
            match mode {
                RowMode::Forward => select_lane::<T, { $op }, 0>(isa),
                RowMode::Derivative => select_lane::<T, { $op }, 1>(isa),
                RowMode::FromOutput => select_lane::<T, { $op }, 2>(isa),
            }
        };
    }
    match op {
        RowOp::Softmax => by_mode!(0),
        RowOp::LogSoftmax => by_mode!(1),
        RowOp::Softmin => by_mode!(2),
        RowOp::LogSumExp => by_mode!(3),
        RowOp::QuietSoftmax => by_mode!(4),
        RowOp::LogMeanExp => by_mode!(5),
        RowOp::Sparsemax => by_mode!(6),
    }
}

type PanelFn<T> = unsafe fn(Rows<'_, T>, Rows<'_, T>, &mut RowsMut<'_, T>, &mut [T], &mut [f64]);
type SafePanelFn<T> = fn(Rows<'_, T>, Rows<'_, T>, &mut RowsMut<'_, T>, &mut [T], &mut [f64]);

/// One panel for OP in MODE: `softmax_panel` (softmax, softmin, quiet_softmax), `log_softmax_panel` or
/// `logsumexp_panel` for the forwards, `grad_panel` for the derivatives.
#[inline(always)]
fn panel<T: Elem, const OP: u8, const MODE: u8>(
    x: Rows<'_, T>,
    g: Rows<'_, T>,
    y: &mut RowsMut<'_, T>,
    params: &mut [T],
    sums: &mut [f64],
) {
    if MODE != RowMode::Forward as u8 {
        return grad_panel::<T, OP, MODE>(x, g, y, params, sums);
    }
    match OP {
        1 => log_softmax_panel(x, y, params, sums),
        3 => {
            // One row: the per-lane values.
            if let Some(out) = y.iter_mut().next() {
                logsumexp_panel(x, out, params, sums)
            }
        }
        4 => softmax_panel::<T, true>(x, T::c(1.0), y, params, sums),
        2 => softmax_panel::<T, false>(x, T::c(-1.0), y, params, sums),
        _ => softmax_panel::<T, false>(x, T::c(1.0), y, params, sums),
    }
}

/// The panel loops, per ISA level.
mod panel_levels {
    use super::*;

    crate::simd::isa_trampolines!([T: Elem, const OP: u8, const MODE: u8]
        (x: Rows<'_, T>, g: Rows<'_, T>, y: &mut RowsMut<'_, T>, p: &mut [T], s: &mut [f64])
        => panel::<T, OP, MODE>(x, g, y, p, s));
}

fn select_panel<T: Elem, const OP: u8, const MODE: u8>(isa: Isa) -> PanelFn<T> {
    select_isa!(panel_levels, isa, SafePanelFn<T> => PanelFn<T>)
}

/// The panel function, for every call but logmeanexp's forward (its expm1 pass stays per lane) and
/// sparsemax (a sort per lane).
fn panel_fn<T: Elem>(op: RowOp, mode: RowMode, isa: Isa) -> Option<PanelFn<T>> {
    macro_rules! by_mode {
        ($op:expr) => {
            match mode {
                RowMode::Forward => select_panel::<T, { $op }, 0>(isa),
                RowMode::Derivative => select_panel::<T, { $op }, 1>(isa),
                RowMode::FromOutput => select_panel::<T, { $op }, 2>(isa),
            }
        };
    }
    match (op, mode) {
        (RowOp::LogMeanExp, RowMode::Forward) | (RowOp::Sparsemax, _) => None,
        // Not an entry point (logsumexp's derivative takes the input), and `grad_panel` has no case for it.
        (RowOp::LogSumExp | RowOp::LogMeanExp, RowMode::FromOutput) => None,
        (RowOp::Softmax, _) => Some(by_mode!(0)),
        (RowOp::LogSoftmax, _) => Some(by_mode!(1)),
        (RowOp::Softmin, _) => Some(by_mode!(2)),
        (RowOp::LogSumExp, _) => Some(by_mode!(3)),
        (RowOp::QuietSoftmax, _) => Some(by_mode!(4)),
        (RowOp::LogMeanExp, _) => Some(by_mode!(5)),
    }
}

/// How many lanes `counted_group` takes at once.
const GROUP: usize = 8;

/// The longest lanes `counted_group` takes: longer ones spread their log1p over more elements (lanes of 500
/// gained 1.00-1.08×; of 1000 and 32000, 0.97-1.01×), and a group of them outgrows L2 between its passes.
const GROUP_LANE: usize = 512;

/// log_softmax (OP 1) or logsumexp (OP 3) of up to GROUP lanes, one per row of `x`, into the rows of `y`
/// (of n; of one value for logsumexp), with `lane`'s operations per lane, hence its bits, except that the
/// lanes' log1p are taken together (`log1p_each`, vectorised across them). Lane by lane, each lane waited
/// on its own log1p (f64, two divisions and an 11-term polynomial): a fifth of lanes of 64-128 elements.
/// The other ops have no logarithm: `group_fn` gives none for them. MODE is always the forward's; it is
/// there for `select_isa!`, whose trampolines take OP and MODE.
#[inline(always)]
fn counted_group<T: Elem, const OP: u8, const MODE: u8>(
    x: Rows<'_, T>,
    y: &mut RowsMut<'_, T>,
    scratch: &mut [T],
) {
    // Unused entries stay 0 (log1p(0) = 0), so `log1p_each` runs whole vectors.
    let (mut bases, mut args) = ([0f64; GROUP], [0f64; GROUP]);
    let mut nan = [false; GROUP];
    for (k, yk) in y.iter_mut().take(GROUP).enumerate() {
        if OP == RowOp::LogSumExp as u8 {
            (bases[k], args[k]) = stats_counted(x.row(k), T::c(1.0), scratch).logsumexp_parts();
        } else {
            // As `lane`: the terms go to the output lane, which the result then overwrites.
            let st = stats_counted(x.row(k), T::c(1.0), yk);
            nan[k] = st.nan || st.max.is_infinite();
            (bases[k], args[k]) = (st.max, if nan[k] { 0.0 } else { st.sum_less_one() });
        }
    }
    log1p_each(&mut args);
    for (k, yk) in y.iter_mut().take(GROUP).enumerate() {
        if OP == RowOp::LogSumExp as u8 {
            yk[0] = T::from_f64(bases[k] + args[k]);
        } else if nan[k] {
            yk.fill(T::NAN);
        } else {
            log_softmax_out(x.row(k), bases[k], args[k], yk);
        }
    }
}

/// The group loops, per ISA level.
mod group_levels {
    use super::*;

    crate::simd::isa_trampolines!([T: Elem, const OP: u8, const MODE: u8]
        (x: Rows<'_, T>, y: &mut RowsMut<'_, T>, s: &mut [T]) => counted_group::<T, OP, MODE>(x, y, s));
}

type GroupFn<T> = unsafe fn(Rows<'_, T>, &mut RowsMut<'_, T>, &mut [T]);
type SafeGroupFn<T> = fn(Rows<'_, T>, &mut RowsMut<'_, T>, &mut [T]);

fn select_group<T: Elem, const OP: u8, const MODE: u8>(isa: Isa) -> GroupFn<T> {
    select_isa!(group_levels, isa, SafeGroupFn<T> => GroupFn<T>)
}

/// `counted_group` for the forwards of log_softmax and logsumexp over lanes of up to GROUP_LANE elements;
/// None for every other call.
fn group_fn<T: Elem>(op: RowOp, mode: RowMode, n: usize, isa: Isa) -> Option<GroupFn<T>> {
    if n > GROUP_LANE {
        return None;
    }
    match (op, mode) {
        (RowOp::LogSoftmax, RowMode::Forward) => Some(select_group::<T, 1, 0>(isa)),
        (RowOp::LogSumExp, RowMode::Forward) => Some(select_group::<T, 3, 0>(isa)),
        _ => None,
    }
}

/// Lanes per copied panel for lanes of n elements: whole cache lines of each row, as many as keep a panel
/// within 2^21 elements (the input and output panels stay in L3; fewer, longer rows made the strided
/// copies faster than 2^20), 16 lines at most.
fn panel_width<T>(n: usize) -> usize {
    let line = tile_width::<T>();
    ((1usize << 21) / n.max(1) / line).clamp(1, 16) * line
}

/// Lanes per panel read where it lies, at most: its statistics take (2·16 + 3)·4096 f64 (1.1 MB).
const DIRECT_WIDTH: usize = 4096;
/// A panel is read where it lies when its rows are at least this many bytes (long runs of each row stream
/// well on every pass) ...
const DIRECT_ROW_BYTES: usize = 2048;
/// ... or when the whole panel is at most this many bytes (it stays in L2 between the passes). Narrower
/// panels of longer lanes are copied: on the 2-core EPYC, softmax over axis 0 of (4096, 1000) float32
/// read in place in panels of 64-512 lanes ran at 0.4-0.6x the copied panels' speed (rows of 256 bytes
/// to 2 KB, each on its own page, re-read on every pass), and (32000, 4096) in panels of 64 lanes at
/// 0.47x; in panels of 1000 or 4096 lanes (whole rows of 4 or 16 KB) both ran at 2x. On two threads, rows
/// of 2 KB (512-lane chunks of (32000, 4096)) ran level with the copies or up to 1.26x faster.
const DIRECT_PANEL_BYTES: usize = 1 << 20;

/// Contiguous lanes of at most this many elements are computed as panels (`run_short`), transposed. On
/// the 2-core EPYC, one thread, against lane by lane: lanes of 4-16 elements 1.1-4x faster (first panels),
/// then with the vectorised transposes and panel loops of 24 elements 1.5-2.3x, of 32 1.4-2x, of 48
/// 0.86-1.17x, of 64 0.66-1.19x. Since the lanes total their partial sums pairwise and log_softmax and
/// logsumexp take their logarithms eight lanes at a time (`pairwise_total`, `counted_group`), lanes of 32
/// (two whole 16-element chunks) run 0.98-1.28x as fast lane by lane as in panels (three runs); lanes of
/// 24 and 28 run 0.84-1.09x as fast.
const SHORT_LANE: usize = 31;

/// Lanes per transposed panel of short lanes of n elements: about 4096 elements, 16 to 512 lanes.
fn short_width(n: usize) -> usize {
    (4096 / n.max(1)).clamp(16, 512)
}

/// How many contiguous lanes from `lane_index` (before `last`, at most `width`) `run_short` can take as
/// one panel: lanes of one row of the last outer axis, so that each operand's lanes lie at a constant
/// distance from each other (its last outer stride). 1 when the lanes are strided or masked.
fn short_len<T>(
    p: &SendPtrs<'_, T>,
    outer_shape: &[usize],
    lane_index: usize,
    last: usize,
    width: usize,
) -> usize {
    let Some(&row_len) = outer_shape.last() else {
        return 1;
    };
    if p.x.step != 1 || p.mask.is_some() {
        return 1;
    }
    row_span(row_len, lane_index, last, width)
}

/// How many lanes from `lane_index`, at most `width` and before `last`, lie in the same row of the last
/// outer axis (of `row_len` lanes): those a tile or panel can take together.
fn row_span(row_len: usize, lane_index: usize, last: usize, width: usize) -> usize {
    width
        .min(last - lane_index)
        .min(row_len - lane_index % row_len)
}

/// Approximate single-thread cost per element, in the kernel table's unit (tenths of a nanosecond).
const ROW_COST: usize = 12;

/// One thread's buffers, kept from call to call and typed per use (`typed`): x's, grad_out's and the
/// output's lanes or panels where they are copied or gathered, a lane's scratch (a panel's partial sums),
/// and a panel's per-lane parameters.
struct Buffers {
    x: Vec<f64>,
    g: Vec<f64>,
    y: Vec<f64>,
    scratch: Vec<f64>,
    params: Vec<f64>,
}

impl Buffers {
    /// The five buffers, in the order of the fields.
    fn parts(&mut self) -> [&mut Vec<f64>; 5] {
        [
            &mut self.x,
            &mut self.g,
            &mut self.y,
            &mut self.scratch,
            &mut self.params,
        ]
    }
}

thread_local! {
    static BUFFERS: RefCell<Buffers> = const {
        RefCell::new(Buffers {
            x: Vec::new(),
            g: Vec::new(),
            y: Vec::new(),
            scratch: Vec::new(),
            params: Vec::new(),
        })
    };
}

/// The element offset of lane `index` (row-major over `outer_shape`) for an operand's outer strides.
fn lane_offset(mut index: usize, outer_shape: &[usize], strides: &[isize]) -> isize {
    let mut offset = 0isize;
    for d in (0..outer_shape.len()).rev() {
        let len = outer_shape[d];
        offset += (index % len) as isize * strides[d];
        index /= len;
    }
    offset
}

/// # Safety
/// `buf` holds at least `n` elements of `T` (it is an f64 buffer reinterpreted; f64 is at least as wide
/// and as aligned as any `T` here).
unsafe fn typed<T: Elem>(buf: &mut Vec<f64>, n: usize) -> &mut [T] {
    if buf.len() < n {
        buf.resize(n, 0.0);
    }
    // SAFETY: `buf` has at least n f64 slots, so at least n·8 bytes aligned to 8; T is f32 or f64.
    unsafe { core::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<T>(), n) }
}

/// Apply `op` in `mode` over lanes of length `n` along an axis, for every index of `outer_shape`.
///
/// `x` is the forward's input (its output for FromOutput); `g` is grad_out (for derivatives; a lane
/// stride of 0 for logsumexp: one value per lane); `y` the output (lane stride 0 for logsumexp's forward).
///
/// # Safety
/// For every lane index and every position k < n, `ptr + lane_offset + k·step` must be valid for reads
/// (x, g) or writes (y), as must the single per-lane element of step-0 operands; `outer` slices have
/// `outer_shape.len()` entries. Inputs may be the very same memory as the output (same pointer and
/// strides) but must not overlap it otherwise; no other thread may write this memory during the call.
#[allow(clippy::too_many_arguments)]
pub unsafe fn apply_lanes<T: Elem>(
    op: RowOp,
    mode: RowMode,
    outer_shape: &[usize],
    n: usize,
    x: LaneView<'_, *const T>,
    g: Option<LaneView<'_, *const T>>,
    y: LaneView<'_, *mut T>,
) {
    // SAFETY: the caller's contract is this one's, without a mask.
    unsafe { apply_lanes_masked(op, mode, outer_shape, n, x, g, None, y) }
}

/// `outer_shape` without its size-1 axes, with neighbouring axes merged where each of the operands'
/// outer strides (`strides`) steps evenly across both (stride[d] = stride[d + 1]·shape[d + 1]), and the
/// operands' strides for the result. Lane k of the result is lane k of `outer_shape`, at the same offset.
fn simplify_outer<const K: usize>(
    outer_shape: &[usize],
    strides: [&[isize]; K],
) -> (Vec<usize>, [Vec<isize>; K]) {
    let mut shape: Vec<usize> = Vec::with_capacity(outer_shape.len());
    let mut out: [Vec<isize>; K] = core::array::from_fn(|_| Vec::with_capacity(outer_shape.len()));
    for (d, &len) in outer_shape.iter().enumerate() {
        if len == 1 {
            continue;
        }
        let merge = shape.last().is_some()
            && out
                .iter()
                .zip(&strides)
                .all(|(o, s)| o.last() == Some(&(s[d] * len as isize)));
        if merge {
            let last = shape.len() - 1;
            shape[last] *= len;
            for (o, s) in out.iter_mut().zip(&strides) {
                o[last] = s[d];
            }
        } else {
            shape.push(len);
            for (o, s) in out.iter_mut().zip(&strides) {
                o.push(s[d]);
            }
        }
    }
    (shape, out)
}

/// What a mask puts in place of the entries it leaves out: (x or y, grad_out, result). `None` for the
/// result of a per-lane forward (logsumexp), which has no masked positions.
fn mask_fills<T: Elem>(op: RowOp, mode: RowMode) -> (T, T, Option<T>) {
    let zero = T::c(0.0);
    let input = match (op, mode) {
        (RowOp::LogSoftmax, RowMode::FromOutput) => -T::INFINITY, // log_softmax's output there
        (_, RowMode::FromOutput) => zero,                         // softmax's and softmin's
        (RowOp::Softmin, _) => T::INFINITY,                       // softmin weighs -x
        _ => -T::INFINITY,
    };
    let result = match (op, mode) {
        (_, RowMode::Forward) if op.reduces() => None,
        (RowOp::LogSoftmax, RowMode::Forward) => Some(-T::INFINITY),
        _ => Some(zero),
    };
    (input, zero, result)
}

/// As `apply_lanes`, with an optional mask: a `u8` per element of x (NumPy's bool; any non-zero byte
/// keeps the entry), laid out by its own strides (0 strides allowed: a broadcast mask). Masked lanes take
/// the same tiles and panels as unmasked ones when the mask's lanes are adjacent too (else one by one), the
/// mask applied in the copies.
///
/// # Safety
/// As `apply_lanes`; and for every lane and position k < n, the mask's `ptr + lane_offset + k·step` is
/// readable and not written during the call.
#[allow(clippy::too_many_arguments)]
pub unsafe fn apply_lanes_masked<T: Elem>(
    op: RowOp,
    mode: RowMode,
    outer_shape: &[usize],
    n: usize,
    x: LaneView<'_, *const T>,
    g: Option<LaneView<'_, *const T>>,
    mask: Option<LaneView<'_, *const u8>>,
    y: LaneView<'_, *mut T>,
) {
    let lanes: usize = outer_shape.iter().product();
    // Lanes of length 0 have nothing to read or write, except logsumexp's per-lane result (-inf). NumPy
    // gives empty arrays zero strides, which must not be taken for the per-lane (step 0) convention:
    // that wrote one element past an empty output (found by valgrind).
    let per_lane_out = op.reduces() && mode == RowMode::Forward;
    if lanes == 0 || (n == 0 && !per_lane_out) {
        return;
    }
    // The outer axes, simplified: size-1 axes dropped and neighbours merged where every operand steps
    // evenly across them. The lanes, their order and their offsets stay the same; tiles and panels group
    // lanes along the last outer axis only, so (N, 1, 8) or (N, 3, 8) over the last axis become N or 3N
    // lanes 8 apart instead of rows of 1 or 3 lanes.
    let strides = || {
        [
            Some(x.outer),
            g.map(|v| v.outer),
            mask.map(|v| v.outer),
            Some(y.outer),
        ]
        .into_iter()
        .flatten()
    };
    let merges = |d: usize| strides().all(|o| o[d] == o[d + 1] * outer_shape[d + 1] as isize);
    if (0..outer_shape.len().saturating_sub(1)).any(|d| outer_shape[d] == 1 || merges(d))
        || (outer_shape.len() > 1 && outer_shape[outer_shape.len() - 1] == 1)
    {
        let (shape, [x_outer, g_outer, mask_outer, y_outer]) = simplify_outer(
            outer_shape,
            [
                x.outer,
                g.map_or(x.outer, |v| v.outer),
                mask.map_or(x.outer, |v| v.outer),
                y.outer,
            ],
        );
        // SAFETY: the same lanes at the same offsets, in the same order; the caller's contract covers them.
        return unsafe {
            apply_lanes_masked(
                op,
                mode,
                &shape,
                n,
                LaneView {
                    outer: &x_outer,
                    ..x
                },
                g.map(|v| LaneView {
                    outer: &g_outer,
                    ..v
                }),
                mask.map(|v| LaneView {
                    outer: &mask_outer,
                    ..v
                }),
                LaneView {
                    outer: &y_outer,
                    ..y
                },
            )
        };
    }
    let f = lane_fn::<T>(op, mode, simd::active());
    let group = group_fn::<T>(op, mode, n, simd::active());
    let panel = panel_fn::<T>(op, mode, simd::active());
    let ptrs = SendPtrs {
        x,
        g,
        mask,
        y,
        fills: mask_fills(op, mode),
    };
    let run = |first: usize, last: usize| {
        BUFFERS.with(|cell| {
            let bufs = &mut *cell.borrow_mut();
            let mut lane_index = first;
            while lane_index < last {
                if let Some(pf) = panel {
                    // SAFETY: the caller's contract covers the lanes up to `last`.
                    let t = unsafe { run_panel(pf, &ptrs, outer_shape, n, lane_index, last, bufs) };
                    if t > 1 {
                        lane_index += t;
                        continue;
                    }
                }
                if let (Some(pf), true) = (panel, n <= SHORT_LANE) {
                    let t = short_len(&ptrs, outer_shape, lane_index, last, short_width(n));
                    if t > 1 {
                        // SAFETY: the caller's contract covers the t lanes.
                        unsafe { run_short(pf, &ptrs, outer_shape, n, lane_index, t, bufs) };
                        lane_index += t;
                        continue;
                    }
                }
                let t = direct_len(&ptrs, outer_shape, lane_index, last);
                if t > 1 {
                    // SAFETY: the caller's contract covers the t lanes.
                    unsafe { run_direct((f, group), &ptrs, outer_shape, n, lane_index, t, bufs) };
                    lane_index += t;
                    continue;
                }
                let t = tile_len(&ptrs, outer_shape, lane_index, last, tile_width::<T>());
                if t > 1 {
                    // SAFETY: as below, for the t lanes of the tile.
                    unsafe { run_tile(f, &ptrs, outer_shape, n, lane_index, t, bufs) };
                } else {
                    // SAFETY: the caller's contract covers every lane and position; buffers hold n elements.
                    unsafe { run_lane(f, &ptrs, outer_shape, n, lane_index, bufs) };
                }
                lane_index += t.max(1);
            }
        });
    };
    let threads = parallel::num_threads();
    let lane_cost = ROW_COST.saturating_mul(n.max(1));
    if threads <= 1 || lanes == 1 || lanes.saturating_mul(lane_cost) < parallel::PARALLEL_WORK {
        run(0, lanes);
        return;
    }
    // Whole lanes per task: about four tasks per thread, none under MIN_CHUNK_WORK.
    let per_chunk = lanes
        .div_ceil(4 * threads)
        .max(parallel::MIN_CHUNK_WORK / lane_cost)
        .max(1);
    let chunks = lanes.div_ceil(per_chunk);
    parallel::run_chunks(chunks, threads, |c| {
        run(c * per_chunk, ((c + 1) * per_chunk).min(lanes))
    });
}

struct SendPtrs<'a, T> {
    x: LaneView<'a, *const T>,
    g: Option<LaneView<'a, *const T>>,
    mask: Option<LaneView<'a, *const u8>>,
    y: LaneView<'a, *mut T>,
    /// `mask_fills(op, mode)`.
    fills: (T, T, Option<T>),
}
impl<T> SendPtrs<'_, T> {
    /// The mask's lane `lane_index` (its first byte and its step), if there is a mask.
    fn mask_lane(&self, outer_shape: &[usize], lane_index: usize) -> Option<(*const u8, isize)> {
        self.mask.map(|m| (m.lane(outer_shape, lane_index), m.step))
    }
}

// SAFETY: lanes handed to different threads write disjoint output lanes (the caller guarantees no
// overlap between lanes of the output, which has distinct positions per index) and read inputs nothing
// writes during the call, except exactly aliased lanes, which only the lane's own thread touches.
unsafe impl<T> Sync for SendPtrs<'_, T> {}

/// Lanes per tile: one cache line of elements.
const fn tile_width<T>() -> usize {
    64 / core::mem::size_of::<T>()
}

/// How many lanes from `lane_index` can be gathered as one tile: strided lanes whose neighbours along the
/// last outer axis are adjacent in memory (a reduction over a non-last axis of a C-ordered array), so each
/// step along the lanes reads one cache line for `width` lanes instead of one line per lane.
fn tile_len<T>(
    p: &SendPtrs<'_, T>,
    outer_shape: &[usize],
    lane_index: usize,
    last: usize,
    width: usize,
) -> usize {
    let adjacent = |outer: &[isize]| outer.last() == Some(&1);
    let Some(&row_len) = outer_shape.last() else {
        return 1;
    };
    if p.x.step == 1
        || p.mask.is_some_and(|m| !adjacent(m.outer))
        || !adjacent(p.x.outer)
        || !adjacent(p.y.outer)
        || p.g.is_some_and(|g| !adjacent(g.outer))
    {
        return 1;
    }
    row_span(row_len, lane_index, last, width)
}

/// Rows per block of the tile transposes: both sides of a block stay in L1.
const TRANSPOSE_BLOCK: usize = 16;

/// Gather t adjacent strided lanes of n elements (lane k at base + k, position i at i·step) into `out`
/// lane after lane, in blocks of rows so that reads and writes both stay within a few cache lines.
///
/// # Safety
/// Every `base + i·step + k` (i < n, k < t) is readable; `out` holds t·n elements.
unsafe fn gather_tile<T: Elem>(base: *const T, step: isize, n: usize, t: usize, out: &mut [T]) {
    for i0 in (0..n).step_by(TRANSPOSE_BLOCK) {
        let i1 = (i0 + TRANSPOSE_BLOCK).min(n);
        for k in 0..t {
            for i in i0..i1 {
                // SAFETY: per the contract.
                out[k * n + i] = unsafe { *base.offset(i as isize * step + k as isize) };
            }
        }
    }
}

/// As `gather_tile`, with `fill` in place of the entries the mask tile (laid out as the lanes: lane k at
/// mask base + k, position i at i·mask step) leaves out, in the same pass.
///
/// # Safety
/// As `gather_tile`, and every mask `base + i·step + k` (i < n, k < t) is readable.
unsafe fn gather_tile_masked<T: Elem>(
    base: *const T,
    step: isize,
    mask: Option<(*const u8, isize)>,
    fill: T,
    n: usize,
    t: usize,
    out: &mut [T],
) {
    let Some((mask_base, mask_step)) = mask else {
        // SAFETY: the caller's contract.
        return unsafe { gather_tile(base, step, n, t, out) };
    };
    for i0 in (0..n).step_by(TRANSPOSE_BLOCK) {
        let i1 = (i0 + TRANSPOSE_BLOCK).min(n);
        for k in 0..t {
            for i in i0..i1 {
                // SAFETY: per the contract; the mask read as a byte (any NumPy bool is sound).
                let (v, keep) = unsafe {
                    (
                        *base.offset(i as isize * step + k as isize),
                        *mask_base.offset(i as isize * mask_step + k as isize) != 0,
                    )
                };
                out[k * n + i] = if keep { v } else { fill };
            }
        }
    }
}

/// Computes adjacent strided lanes from `lane_index` (before `last`) as one panel and returns how many it
/// took: at most 1 when they are not adjacent (`tile_len`), and nothing is computed then. A panel is read
/// and written where it lies when no operand is masked or is the output's memory and its rows are wide or
/// it is small (`DIRECT_ROW_BYTES`, `DIRECT_PANEL_BYTES`); else it is copied into buffers row by row (each
/// row's lanes adjacent in memory), grad_out's lanes (or per-lane values) likewise, with the mask's fills,
/// and the result copied back the same way.
///
/// # Safety
/// As `apply_lanes`, for the lanes from `lane_index` to `last`.
unsafe fn run_panel<T: Elem>(
    f: PanelFn<T>,
    p: &SendPtrs<'_, T>,
    outer_shape: &[usize],
    n: usize,
    lane_index: usize,
    last: usize,
    bufs: &mut Buffers,
) -> usize {
    let [bx, bg, by, bsums, bparams] = bufs.parts();
    let size = core::mem::size_of::<T>();
    let wide = tile_len(p, outer_shape, lane_index, last, DIRECT_WIDTH);
    if wide <= 1 {
        return wide;
    }
    let x_base = p.x.lane(outer_shape, lane_index);
    let y_base = p.y.lane(outer_shape, lane_index);
    let g_base = p.g.map(|g| g.lane(outer_shape, lane_index));
    // One value per lane for logsumexp's output and grad_out (step 0), else the panel's n rows.
    let rows_of = |step: isize| if step == 0 { 1 } else { n };
    let y_rows = rows_of(p.y.step);
    let mask = p.mask_lane(outer_shape, lane_index);
    let y_in = y_base as *const T;
    let aliased = core::ptr::eq(x_base, y_in) || g_base.is_some_and(|g| core::ptr::eq(g, y_in));
    let direct = mask.is_none()
        && !aliased
        && (wide * size >= DIRECT_ROW_BYTES || n * wide * size <= DIRECT_PANEL_BYTES);
    let t = if direct {
        wide
    } else {
        tile_len(p, outer_shape, lane_index, last, panel_width::<T>(n))
    };
    let (params, sums) = panel_scratch::<T>(bparams, bsums, t);
    if direct {
        // SAFETY: lane k of the panel is at base + k (adjacent, see `tile_len`), position i at i·step, so
        // row i is t adjacent elements, valid per the contract (step-0 operands: the t per-lane values).
        // No input is the output's memory (checked above; the contract rules out other overlaps), output
        // rows do not overlap each other (distinct positions per index: |step| >= t), other threads take
        // other lanes, and nothing writes the inputs during the call.
        unsafe {
            let x = Rows::strided(x_base, p.x.step, n, t);
            let g = match (g_base, p.g) {
                (Some(g_base), Some(g)) => Rows::strided(g_base, g.step, rows_of(g.step), t),
                _ => Rows::packed(&[], t),
            };
            let mut y = RowsMut::strided(y_base, p.y.step, y_rows, t);
            // `f` was selected for the active ISA, which never exceeds what the CPU supports.
            f(x, g, &mut y, params, sums);
        }
        return t;
    }
    // SAFETY: `typed` sizes each buffer.
    let (xs, ys) = unsafe { (typed::<T>(bx, t * n), typed::<T>(by, t * y_rows)) };
    // SAFETY: the rows as above, copied before anything is written (so an aliased output is safe).
    unsafe { copy_rows(x_base, p.x.step, t, xs) };
    let (x_fill, g_fill, y_fill) = p.fills;
    // The mask's panel: adjacent lanes too (`tile_len`), row i at base + i·step, readable per the contract.
    // Its left-out entries take the fills in the copies (as `lane_slice` does for a lane) and in the result.
    // SAFETY: the mask's rows of t bytes, per the comment above.
    unsafe { mask_rows(xs, t, mask, Some(x_fill)) };
    let gs: &[T] = match (g_base, p.g) {
        (Some(g_base), Some(g)) => {
            let g_rows = rows_of(g.step);
            // SAFETY: `typed` sizes the buffer.
            let buf = unsafe { typed::<T>(bg, t * g_rows) };
            // SAFETY: as for x, for grad_out's rows (or its per-lane values).
            unsafe { copy_rows(g_base, g.step, t, buf) };
            if g_rows == n {
                // SAFETY: as for x.
                unsafe { mask_rows(buf, t, mask, Some(g_fill)) };
            }
            buf
        }
        _ => &[],
    };
    let mut y = RowsMut::packed(ys, y_rows, t);
    // SAFETY: `f` was selected for the active ISA, which never exceeds what the CPU supports.
    unsafe {
        f(
            Rows::packed(xs, t),
            Rows::packed(gs, t),
            &mut y,
            params,
            sums,
        )
    };
    if y_rows == n {
        // SAFETY: as for x.
        unsafe { mask_rows(ys, t, mask, y_fill) };
    }
    for (i, row) in ys.chunks_exact(t).enumerate() {
        // SAFETY: positions i of the t output lanes (with step 0: their t per-lane values), adjacent
        // (`tile_len`) and writable per the contract; nothing else refers to them meanwhile (inputs were
        // copied, other threads write other lanes).
        unsafe { core::slice::from_raw_parts_mut(y_base.offset(i as isize * p.y.step), t) }
            .copy_from_slice(row);
    }
    t
}

/// Computes t short contiguous lanes from `lane_index` (`short_len`) as one panel: transposed into a buffer
/// (row i holding position i of each lane), grad_out likewise (or its per-lane values), the panel function
/// applied, and the result transposed back. Lane by lane, the per-lane steps (a call, the statistics, a
/// logarithm) cost more than the few elements; across a panel they vectorise. The bits are the lane's
/// (the panels take each lane's operations).
///
/// # Safety
/// As `apply_lanes`, for the t lanes from `lane_index` (which `short_len` accepted), without a mask.
unsafe fn run_short<T: Elem>(
    f: PanelFn<T>,
    p: &SendPtrs<'_, T>,
    outer_shape: &[usize],
    n: usize,
    lane_index: usize,
    t: usize,
    bufs: &mut Buffers,
) {
    let [bx, bg, by, bsums, bparams] = bufs.parts();
    let rows_of = |step: isize| if step == 0 { 1 } else { n };
    // SAFETY: `typed` sizes the buffer.
    let xs = unsafe { typed::<T>(bx, t * n) };
    let (params, sums) = panel_scratch::<T>(bparams, bsums, t);
    // SAFETY (the gathers): lane k is at base + k·apart, its position i at i·step, all readable per the
    // contract; every input is copied before anything is written, so an aliased output is safe.
    let isa = simd::active();
    let gather = |base: *const T, apart: isize, step: isize, rows: usize, out: &mut [T]| {
        if step == 1 {
            let (src, dst) = (
                Matrix {
                    base,
                    stride: apart,
                },
                Matrix {
                    base: out.as_mut_ptr(),
                    stride: t as isize,
                },
            );
            // SAFETY: see above; `out` holds rows·t elements.
            return unsafe { transpose_on(isa, src, dst, t, rows) };
        }
        for k in 0..t {
            for i in 0..rows {
                // SAFETY: see above.
                out[i * t + k] = unsafe { *base.offset(k as isize * apart + i as isize * step) };
            }
        }
    };
    gather(
        p.x.lane(outer_shape, lane_index),
        p.x.apart(),
        p.x.step,
        n,
        xs,
    );
    let gs: &[T] = match p.g {
        Some(g) => {
            let rows = rows_of(g.step);
            // SAFETY: `typed` sizes the buffer.
            let buf = unsafe { typed::<T>(bg, t * rows) };
            gather(
                g.lane(outer_shape, lane_index),
                g.apart(),
                g.step,
                rows,
                buf,
            );
            buf
        }
        None => &[],
    };
    let y_rows = rows_of(p.y.step);
    // SAFETY: `typed` sizes the buffer.
    let ys = unsafe { typed::<T>(by, t * y_rows) };
    // SAFETY: `f` was selected for the active ISA, which never exceeds what the CPU supports.
    unsafe {
        f(
            Rows::packed(xs, t),
            Rows::packed(gs, t),
            &mut RowsMut::packed(ys, y_rows, t),
            params,
            sums,
        )
    };
    let y_base = p.y.lane(outer_shape, lane_index);
    let y_apart = p.y.apart();
    if p.y.step == 1 {
        let src = Matrix {
            base: ys.as_ptr(),
            stride: t as isize,
        };
        let dst = Matrix {
            base: y_base,
            stride: y_apart,
        };
        // SAFETY: output lane k < t holds y_rows positions at y_base + k·y_apart, writable per the
        // contract and referred to by nothing else meanwhile (as below); `ys` is this thread's buffer.
        return unsafe { transpose_on(isa, src, dst, y_rows, t) };
    }
    for k in 0..t {
        for i in 0..y_rows {
            // SAFETY: position i of output lane k (its per-lane value for step 0), writable per the contract;
            // nothing else refers to it meanwhile (inputs were copied, other threads write other lanes).
            unsafe { *y_base.offset(k as isize * y_apart + i as isize * p.y.step) = ys[i * t + k] };
        }
    }
}

/// A panel function's `params` (2t values) and `sums` ((2·16 + 3)·t, the most any panel's statistics take)
/// for a panel of t lanes.
fn panel_scratch<'a, T: Elem>(
    params: &'a mut Vec<f64>,
    sums: &'a mut Vec<f64>,
    t: usize,
) -> (&'a mut [T], &'a mut [f64]) {
    // SAFETY: `typed` sizes each buffer.
    unsafe {
        (
            typed::<T>(params, 2 * t),
            typed::<f64>(sums, (2 * LANES + 3) * t),
        )
    }
}

/// `fill` in place of each entry of `rows` (whole rows of t) whose mask byte is 0, the mask's row i being
/// t adjacent bytes at `base + i·step`. Nothing to do without a mask or a fill.
///
/// # Safety
/// With a mask and a fill, every mask row for i < rows.len() / t is readable.
unsafe fn mask_rows<T: Elem>(
    rows: &mut [T],
    t: usize,
    mask: Option<(*const u8, isize)>,
    fill: Option<T>,
) {
    let (Some((base, step)), Some(fill)) = (mask, fill) else {
        return;
    };
    for (i, row) in rows.chunks_exact_mut(t).enumerate() {
        // SAFETY: per the contract.
        let keep = unsafe { core::slice::from_raw_parts(base.offset(i as isize * step), t) };
        for (v, &k) in row.iter_mut().zip(keep) {
            *v = if k != 0 { *v } else { fill };
        }
    }
}

/// Copies rows of t adjacent elements, row i at `base + i·step`, into `out` (whole rows of t).
///
/// # Safety
/// Every row `base + i·step .. + t` for i < out.len() / t is readable and not written during the call.
unsafe fn copy_rows<T: Elem>(base: *const T, step: isize, t: usize, out: &mut [T]) {
    for (i, row) in out.chunks_exact_mut(t).enumerate() {
        // SAFETY: per the contract.
        row.copy_from_slice(unsafe {
            core::slice::from_raw_parts(base.offset(i as isize * step), t)
        });
    }
}

/// # Safety
/// As `apply_lanes`, for the `t` lanes from `lane_index` (which `tile_len` accepted).
unsafe fn run_tile<T: Elem>(
    f: LaneFn<T>,
    p: &SendPtrs<'_, T>,
    outer_shape: &[usize],
    n: usize,
    lane_index: usize,
    t: usize,
    bufs: &mut Buffers,
) {
    let [bx, bg, by, bs, _] = bufs.parts();
    let x_base = p.x.lane(outer_shape, lane_index);
    let y_base = p.y.lane(outer_shape, lane_index);
    // SAFETY: `typed` sizes each buffer; lanes k < t of the tile are at base + k (adjacent, see
    // `tile_len`) and positions i < n at i·step, all valid per the contract. Inputs are copied into the
    // buffers before anything is written, so an aliased output is safe.
    let xs = unsafe { typed::<T>(bx, t * n) };
    // The mask's tile: adjacent lanes too (`tile_len`), readable per the contract.
    let mask = p.mask_lane(outer_shape, lane_index);
    let (x_fill, g_fill, y_fill) = p.fills;
    // SAFETY: see above, for x's tile and the mask's.
    unsafe { gather_tile_masked(x_base, p.x.step, mask, x_fill, n, t, xs) };
    let mut g_scalars = [T::c(0.0); 64];
    let gs: &[T] = match p.g {
        None => &[],
        Some(g) => {
            let g_base = g.lane(outer_shape, lane_index);
            if g.step == 0 {
                for (k, v) in g_scalars.iter_mut().take(t).enumerate() {
                    // SAFETY: the per-lane element of lane k.
                    *v = unsafe { *g_base.add(k) };
                }
                &[]
            } else {
                // SAFETY: see above.
                let buf = unsafe { typed::<T>(bg, t * n) };
                // SAFETY: see above, for grad_out's tile and the mask's.
                unsafe { gather_tile_masked(g_base, g.step, mask, g_fill, n, t, buf) };
                buf
            }
        }
    };
    let y_len = if p.y.step == 0 { 1 } else { n };
    // SAFETY: `typed` sizes the buffers.
    let ys = unsafe { typed::<T>(by, t * y_len) };
    // SAFETY: as above.
    let scratch = unsafe { typed::<T>(bs, n) };
    for k in 0..t {
        let g_lane = if gs.is_empty() {
            &[][..]
        } else {
            &gs[k * n..(k + 1) * n]
        };
        // SAFETY: `f` was selected for the active ISA, which never exceeds what the CPU supports.
        unsafe {
            f(
                &xs[k * n..(k + 1) * n],
                g_lane,
                g_scalars[k],
                &mut ys[k * y_len..(k + 1) * y_len],
                scratch,
            )
        };
    }
    if let (Some((m_base, m_step)), Some(fill), false) = (mask, y_fill, p.y.step == 0) {
        // The masked results are set on the way out, in the scatter's pass.
        for i0 in (0..n).step_by(TRANSPOSE_BLOCK) {
            let i1 = (i0 + TRANSPOSE_BLOCK).min(n);
            for k in 0..t {
                for i in i0..i1 {
                    // SAFETY: position i of output lane k, and of the mask's lane k (readable, contract).
                    unsafe {
                        let keep = *m_base.offset(i as isize * m_step + k as isize) != 0;
                        *y_base.offset(i as isize * p.y.step + k as isize) =
                            if keep { ys[k * n + i] } else { fill };
                    }
                }
            }
        }
    } else if p.y.step == 0 {
        for (k, &v) in ys[..t].iter().enumerate() {
            // SAFETY: the per-lane output element of lane k.
            unsafe { *y_base.add(k) = v };
        }
    } else {
        for i0 in (0..n).step_by(TRANSPOSE_BLOCK) {
            let i1 = (i0 + TRANSPOSE_BLOCK).min(n);
            for k in 0..t {
                for i in i0..i1 {
                    // SAFETY: position i of output lane k.
                    unsafe { *y_base.offset(i as isize * p.y.step + k as isize) = ys[k * n + i] };
                }
            }
        }
    }
}

/// # Safety
/// As `apply_lanes`, for this lane.
unsafe fn run_lane<T: Elem>(
    f: LaneFn<T>,
    p: &SendPtrs<'_, T>,
    outer_shape: &[usize],
    n: usize,
    lane_index: usize,
    bufs: &mut Buffers,
) {
    let [bx, bg, by, bs, _] = bufs.parts();
    let x_base = p.x.lane(outer_shape, lane_index);
    let y_base = p.y.lane(outer_shape, lane_index);
    let y_len = if p.y.step == 0 { 1 } else { n };
    let mask = p.mask_lane(outer_shape, lane_index);
    let (x_fill, g_fill, y_fill) = p.fills;
    // The caller guarantees these n positions (or the one per-lane element) are valid. A lane that is the
    // output's own memory is read into a buffer before anything is written.
    let x_aliases = core::ptr::eq(x_base, y_base as *const T);
    // SAFETY: x's lane is readable (contract); copied when it is the output's memory or masked.
    let x_lane: &[T] = unsafe { lane_slice(x_base, p.x.step, n, x_aliases, mask, x_fill, bx) };
    let (g_lane, g_scalar): (&[T], T) = match p.g {
        None => (&[], T::c(0.0)),
        Some(g) => {
            let g_base = g.lane(outer_shape, lane_index);
            if g.step == 0 {
                // SAFETY: the one per-lane element of grad_out is readable (contract).
                (&[], unsafe { *g_base })
            } else {
                let aliases = core::ptr::eq(g_base, y_base as *const T);
                (
                    // SAFETY: grad_out's lane is readable (contract); copied when it is the output's memory
                    // or masked.
                    unsafe { lane_slice(g_base, g.step, n, aliases, mask, g_fill, bg) },
                    T::c(0.0),
                )
            }
        }
    };
    // SAFETY: `typed` sizes the buffer to n elements.
    let scratch = unsafe { typed::<T>(bs, n) };
    if p.y.step == 1 {
        // SAFETY: the output lane is writable (contract), and no input slice refers to it: aliased inputs
        // were copied above, and the caller rules out any other overlap.
        let out = unsafe { core::slice::from_raw_parts_mut(y_base, y_len) };
        // SAFETY: `f` was selected for the active ISA, which never exceeds what the CPU supports.
        unsafe { f(x_lane, g_lane, g_scalar, out, scratch) };
        // SAFETY: the mask's lane is readable (contract).
        unsafe { fill_masked(out, mask, y_fill) };
    } else {
        // SAFETY: `typed` sizes the buffer to y_len elements.
        let out = unsafe { typed::<T>(by, y_len) };
        // SAFETY: as above, for the ISA of `f`.
        unsafe { f(x_lane, g_lane, g_scalar, out, scratch) };
        if y_len == n {
            // SAFETY: the mask's lane is readable (contract).
            unsafe { fill_masked(out, mask, y_fill) };
        }
        let step = p.y.step;
        for (k, &v) in out.iter().enumerate() {
            // SAFETY: position k of the output lane is writable (contract).
            unsafe { *y_base.offset(k as isize * step) = v };
        }
    }
}

/// How many lanes from `lane_index` (before `last`) `run_direct` can take: those `short_len` accepts (x's
/// contiguous, unmasked, in one row of the last outer axis), with y's and any grad_out's lanes contiguous or
/// one value per lane (step 0: logsumexp's output, its derivative's grad_out). 1 otherwise: a reversed or
/// strided output lane is not a slice.
fn direct_len<T>(
    p: &SendPtrs<'_, T>,
    outer_shape: &[usize],
    lane_index: usize,
    last: usize,
) -> usize {
    let slice_or_value = |step: isize| step == 0 || step == 1;
    if !slice_or_value(p.y.step) || p.g.is_some_and(|g| !slice_or_value(g.step)) {
        return 1;
    }
    short_len(p, outer_shape, lane_index, last, usize::MAX)
}

/// `run_lane` for t lanes from `lane_index` that `direct_len` accepted, without its per-lane bookkeeping
/// (the lane offsets, the mask, the copies): each lane read and written where it lies, one after the other,
/// the neighbours at their operands' last outer stride; with `group` (log_softmax's and logsumexp's
/// forwards, `group_fn`), GROUP lanes at a time. A lane whose input is the output's own memory still goes
/// through `run_lane` (copied first). Per lane, that bookkeeping cost 10-15% of lanes of 64 elements.
///
/// # Safety
/// As `apply_lanes`, for the t lanes from `lane_index`.
unsafe fn run_direct<T: Elem>(
    (f, group): (LaneFn<T>, Option<GroupFn<T>>),
    p: &SendPtrs<'_, T>,
    outer_shape: &[usize],
    n: usize,
    lane_index: usize,
    t: usize,
    bufs: &mut Buffers,
) {
    let (x0, y0) = (
        p.x.lane(outer_shape, lane_index),
        p.y.lane(outer_shape, lane_index),
    );
    let g0 =
        p.g.map(|g| (g.lane(outer_shape, lane_index), g.apart(), g.step));
    let y_len = if p.y.step == 0 { 1 } else { n };
    let (x_apart, y_apart) = (p.x.apart(), p.y.apart());
    let lane = |k: usize| {
        (
            x0.wrapping_offset(k as isize * x_apart),
            y0.wrapping_offset(k as isize * y_apart),
        )
    };
    let aliased = |k: usize| {
        let (xk, yk) = lane(k);
        core::ptr::eq(xk, yk as *const T)
            || g0.is_some_and(|(g, apart, _)| {
                core::ptr::eq(g.wrapping_offset(k as isize * apart), yk as *const T)
            })
    };
    let mut k = 0;
    while k < t {
        let (xk, yk) = lane(k);
        let size = GROUP.min(t - k);
        if let Some(group) = group.filter(|_| !(k..k + size).any(aliased)) {
            // SAFETY: `typed` sizes the buffer to n elements.
            let scratch = unsafe { typed::<T>(&mut bufs.scratch, n) };
            // SAFETY: as below, for the `size` lanes from k, at their last outer stride from each other;
            // the output lanes do not overlap each other (nor does the output: the caller's contract).
            unsafe {
                let x = Rows::strided(xk, x_apart, size, n);
                let mut y = RowsMut::strided(yk, y_apart, size, y_len);
                // `group` was selected for the active ISA, which never exceeds what the CPU supports.
                group(x, &mut y, scratch);
            }
            k += size;
            continue;
        }
        if aliased(k) {
            // SAFETY: the caller's contract covers this lane.
            unsafe { run_lane(f, p, outer_shape, n, lane_index + k, bufs) };
            k += 1;
            continue;
        }
        // SAFETY: `typed` sizes the buffer to n elements.
        let scratch = unsafe { typed::<T>(&mut bufs.scratch, n) };
        // SAFETY: lane k's n elements of each operand are valid per the contract (at their last outer
        // stride from lane 0's, `direct_len`), the inputs unwritten during the call; the output lane is
        // not an input's memory (checked above; the caller rules out any other overlap).
        unsafe {
            let x = core::slice::from_raw_parts(xk, n);
            let (g, g_scalar): (&[T], T) = match g0 {
                Some((g, apart, 0)) => (&[], *g.wrapping_offset(k as isize * apart)),
                Some((g, apart, _)) => (
                    core::slice::from_raw_parts(g.wrapping_offset(k as isize * apart), n),
                    T::c(0.0),
                ),
                None => (&[], T::c(0.0)),
            };
            let y = core::slice::from_raw_parts_mut(yk, y_len);
            // `f` was selected for the active ISA, which never exceeds what the CPU supports.
            f(x, g, g_scalar, y, scratch);
        }
        k += 1;
    }
}

/// The lane as a slice: where it lies when contiguous, not the output's memory and not masked, else copied
/// into `buf`, with `fill` in place of the entries the mask (base, step) leaves out.
///
/// # Safety
/// `base + k·step` and the mask's `base + k·step` are readable for k < n, and the lane stays unwritten
/// while the slice lives unless `copy` is set.
unsafe fn lane_slice<T: Elem>(
    base: *const T,
    step: isize,
    n: usize,
    copy: bool,
    mask: Option<(*const u8, isize)>,
    fill: T,
    buf: &mut Vec<f64>,
) -> &[T] {
    if step == 1 && !copy && mask.is_none() {
        // SAFETY: contiguous and readable per the contract.
        return unsafe { core::slice::from_raw_parts(base, n) };
    }
    // SAFETY: `typed` resizes the buffer to n elements.
    let out = unsafe { typed::<T>(buf, n) };
    if let (1, Some((mask_base, 1))) = (step, mask) {
        // Both contiguous: one select per element, which vectorises.
        // SAFETY: readable per the contract, n elements each.
        let (src, keep) = unsafe {
            (
                core::slice::from_raw_parts(base, n),
                core::slice::from_raw_parts(mask_base, n),
            )
        };
        for ((o, &v), &k) in out.iter_mut().zip(src).zip(keep) {
            *o = if k != 0 { v } else { fill };
        }
        return out;
    }
    for (k, o) in out.iter_mut().enumerate() {
        // SAFETY: readable per the contract.
        *o = unsafe { *base.offset(k as isize * step) };
    }
    // SAFETY: the mask's lane is readable (contract).
    unsafe { fill_masked(out, mask, Some(fill)) };
    out
}

/// Writes `fill` where the mask (base, step) leaves an entry out; nothing without a mask or a fill.
///
/// # Safety
/// The mask's `base + k·step` is readable for k < `lane.len()`.
unsafe fn fill_masked<T: Elem>(lane: &mut [T], mask: Option<(*const u8, isize)>, fill: Option<T>) {
    let (Some((base, step)), Some(fill)) = (mask, fill) else {
        return;
    };
    if step == 1 {
        // SAFETY: readable per the contract, lane.len() bytes.
        let keep = unsafe { core::slice::from_raw_parts(base, lane.len()) };
        for (v, &k) in lane.iter_mut().zip(keep) {
            *v = if k != 0 { *v } else { fill };
        }
        return;
    }
    for (k, v) in lane.iter_mut().enumerate() {
        // SAFETY: readable per the contract; read as a byte, so any bit pattern of a NumPy bool is sound.
        let keep = unsafe { *base.offset(k as isize * step) } != 0;
        *v = if keep { *v } else { fill };
    }
}
