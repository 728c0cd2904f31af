//! Loops: from an N-dimensional strided call down to contiguous rows handed to the SIMD row functions.
//!
//! The plan for a call: drop unit axes, order axes by the output's strides (NumPy's "K" order), merge axes
//! that are contiguous with each other, and walk the result as rows. Contiguous rows go straight to the
//! vectorised row function; strided ones are gathered into blocks of `BLOCK` elements on the stack, computed
//! and scattered. Inputs that partially overlap the output are copied first, so the answer is the one the
//! caller would get with a separate output. Large calls are split into chunks of the linear index range
//! and run on the pool; since every element is computed by the same code whatever the chunking, results
//! are bitwise identical for any thread count.

use crate::half::{half_from_f64, select_half_row, Bf16, Half, F16};
use crate::math::{grad_times_unscaled, unscale_tail_signed};
use crate::ops::Kernel;
use crate::parallel;
use crate::real::{Elem, Lean64, Real};
use crate::simd::{self, Isa};
use crate::table::{exact_fn, row_fn, KernelId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// f(x)
    Forward,
    /// f'(x), times grad_out when given
    Derivative,
    /// f' written from y = f(x), times grad_out when given
    FromOutput,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The kernel has no derivative written from its output.
    NoFromOutput(&'static str),
    /// Slices of different lengths in the contiguous API.
    LengthMismatch { expected: usize, got: usize },
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::NoFromOutput(name) => {
                write!(f, "{name}'s derivative is not a function of its output; use {name}_grad(x, ...) instead")
            }
            Error::LengthMismatch { expected, got } => {
                write!(
                    f,
                    "length mismatch: expected {expected} elements, got {got}"
                )
            }
        }
    }
}

impl std::error::Error for Error {}

/// A row function: `y[i] = f(x[i])` or `y[i] = g[i]·f'(x[i])`, all slices of the same length. Public only
/// because [`Store`] names it; `Store` is sealed, so only this crate's row selection reaches `call`.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub enum RowFn<T> {
    Safe(SafeRow<T>),
    /// Compiled with target features; only ever built for an ISA that `Isa::detect` found.
    Unsafe(UnsafeRow<T>),
}

pub type SafeRow<T> = fn(&[f64; 2], &[T], Option<&[T]>, &mut [T]);
pub type UnsafeRow<T> = unsafe fn(&[f64; 2], &[T], Option<&[T]>, &mut [T]);

impl<T> RowFn<T> {
    #[inline]
    fn call(self, p: &[f64; 2], x: &[T], g: Option<&[T]>, y: &mut [T]) {
        match self {
            RowFn::Safe(f) => f(p, x, g, y),
            // SAFETY: `simd::select_row` builds `Unsafe` only for the active ISA, which `simd::active`
            // and `simd::set_active` never set above what `Isa::detect` found on this CPU.
            RowFn::Unsafe(f) => unsafe { f(p, x, g, y) },
        }
    }
}

/// The scalar exact path of a kernel: the bound below which no input needs it, and the patch itself.
pub(crate) type ExactFn = (fn([f64; 2]) -> f64, fn(Mode, f64, &[f64; 2]) -> Option<f64>);

pub(crate) fn exact_fn_of<K: Kernel>() -> Option<ExactFn> {
    if !K::HAS_EXACT {
        return None;
    }
    Some((K::exact_free_below, |mode, x, p| {
        if !K::needs_exact(x, *p) {
            return None;
        }
        Some(match mode {
            Mode::Forward => K::forward_exact(x, *p),
            Mode::Derivative => K::derivative_exact(x, *p),
            Mode::FromOutput => f64::NAN,
        })
    }))
}

#[inline(always)]
fn eval<R: Real, K: Kernel, const MODE: u8>(x: R, p: [R; 2]) -> R {
    match MODE {
        0 => K::forward(x, p),
        1 => K::derivative(x, p),
        _ => K::derivative_from_output(x, p),
    }
}

/// Elements per block of the careful-variant check (`Kernel::CAREFUL`): small enough that an
/// adversarial stretch costs little careful work beyond itself, large enough that the check's branch and
/// the two loops' remainders are noise; the check reads the block from L1 just before the kernel does.
const CAREFUL_BLOCK: usize = 4096;

/// Every CAREFUL_STRIDE-th input of a block is checked: both variants give the same bits, so the check only
/// steers speed, and a sample finds the blocks of adversarial data (whole stretches of it) at a fraction of
/// the cost of reading every input (a full check cost sigmoid 18% of its speed on ordinary inputs, this
/// sample 1-2%).
const CAREFUL_STRIDE: usize = 128;

/// A row of a kernel with a careful variant for MODE: block by block, the fast formula where the sampled
/// inputs lie in `careful_free` (NaN counts as inside) and the careful one elsewhere. Both give the same
/// bits, so the result depends neither on the blocking nor on the sample.
#[inline(always)]
fn careful_row<T: Elem, K: Kernel, const MODE: u8>(
    p: [T; 2],
    free: (T, T),
    x: &[T],
    g: Option<&[T]>,
    y: &mut [T],
) {
    for (k, (xs, ys)) in x
        .chunks(CAREFUL_BLOCK)
        .zip(y.chunks_mut(CAREFUL_BLOCK))
        .enumerate()
    {
        let outside = xs
            .iter()
            .step_by(CAREFUL_STRIDE)
            .fold(false, |any, &v| any | (v < free.0) | (v > free.1));
        let gs = g.map(|g| &g[k * CAREFUL_BLOCK..k * CAREFUL_BLOCK + xs.len()]);
        match (outside, gs) {
            (true, None) => {
                for (out, &xi) in ys.iter_mut().zip(xs) {
                    let (v, scaled) = K::careful(MODE, xi, p);
                    *out = unscale_tail_signed(v, scaled);
                }
            }
            (true, Some(gs)) => {
                for ((out, &xi), &gi) in ys.iter_mut().zip(xs).zip(gs) {
                    let (v, scaled) = K::careful(MODE, xi, p);
                    *out = grad_times_unscaled(gi, v, scaled);
                }
            }
            (false, None) => {
                for (out, &xi) in ys.iter_mut().zip(xs) {
                    *out = eval::<T, K, MODE>(xi, p);
                }
            }
            (false, Some(gs)) => {
                for ((out, &xi), &gi) in ys.iter_mut().zip(xs).zip(gs) {
                    *out = gi * eval::<T, K, MODE>(xi, p);
                }
            }
        }
    }
}

/// The loop every trampoline compiles: branch-free per element, so it vectorises.
#[inline(always)]
pub(crate) fn row_loop<T: Elem, K: Kernel, const MODE: u8>(
    p: &[f64; 2],
    x: &[T],
    g: Option<&[T]>,
    y: &mut [T],
) {
    let n = y.len();
    let x = &x[..n];
    let promote = if MODE == 0 {
        K::PROMOTE
    } else {
        K::PROMOTE_DERIVATIVE
    };
    if promote && !T::IS_F64 {
        // The parameters in T's precision first (as PyTorch casts a scalar to the tensor's dtype), then widened.
        let p = [Lean64(T::c(p[0]).to_f64()), Lean64(T::c(p[1]).to_f64())];
        match g {
            None => {
                for (out, &xi) in y.iter_mut().zip(x) {
                    *out = T::from_f64(eval::<Lean64, K, MODE>(Lean64(xi.to_f64()), p).0);
                }
            }
            Some(g) => {
                for ((out, &xi), &gi) in y.iter_mut().zip(x).zip(&g[..n]) {
                    *out = T::from_f64(
                        gi.to_f64() * eval::<Lean64, K, MODE>(Lean64(xi.to_f64()), p).0,
                    );
                }
            }
        }
    } else {
        let p64 = *p;
        let p = [T::c(p[0]), T::c(p[1])];
        match g {
            _ if MODE < 2 && K::CAREFUL & (1 << MODE) != 0 => {
                let free = K::careful_free::<T>(MODE, p64);
                careful_row::<T, K, MODE>(p, (T::c(free.0), T::c(free.1)), x, g, y)
            }
            None => {
                for (out, &xi) in y.iter_mut().zip(x) {
                    *out = eval::<T, K, MODE>(xi, p);
                }
            }
            Some(g) => {
                for ((out, &xi), &gi) in y.iter_mut().zip(x).zip(&g[..n]) {
                    *out = gi * eval::<T, K, MODE>(xi, p);
                }
            }
        }
    }
}

/// What to compute: a kernel, a mode and its parameters. Build one with [`Call::new`].
#[derive(Clone, Copy, Debug)]
pub struct Call {
    pub kernel: KernelId,
    pub mode: Mode,
    pub params: [f64; 2],
}

impl Call {
    pub fn new(kernel: KernelId, mode: Mode, params: [f64; 2]) -> Result<Call, Error> {
        let info = kernel.info();
        if mode == Mode::FromOutput && !info.from_output {
            return Err(Error::NoFromOutput(info.name));
        }
        Ok(Call {
            kernel,
            mode,
            params,
        })
    }
}

/// An element type the elementwise driver runs on: f32 and f64, computed in their own precision, and the
/// 16-bit floats of `crate::half`, computed in f32 and rounded once to their type.
pub trait Store: sealed::Sealed + Copy + Default + Send + Sync + 'static {
    fn to_f64(self) -> f64;
    /// `v` rounded once to this type.
    fn from_f64(v: f64) -> Self;
    /// `self + other` rounded once to this type, as NumPy adds two arrays of this dtype.
    fn add(self, other: Self) -> Self;
    /// The row function of kernel `K` in `mode` on `isa`.
    fn select_row<K: Kernel>(mode: Mode, isa: Isa) -> RowFn<Self>;
    /// Whether every |x| is below `bound` (NaN is not), in one pass without early exit, so it vectorises.
    #[inline]
    fn all_abs_below(x: &[Self], bound: f64) -> bool {
        x.iter()
            .fold(true, |all, v| all & (v.to_f64().abs() < bound))
    }
}

mod sealed {
    /// Keeps `Store` implemented by this crate's types only: the driver calls the row functions it returns
    /// as if they were built for the active ISA, which only this crate's `select_row`s guarantee.
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for crate::half::F16 {}
    impl Sealed for crate::half::Bf16 {}
}

macro_rules! store_float {
    ($t:ty) => {
        impl Store for $t {
            #[inline(always)]
            fn to_f64(self) -> f64 {
                Real::to_f64(self)
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                <$t as Elem>::from_f64(v)
            }
            #[inline(always)]
            fn add(self, other: Self) -> Self {
                self + other
            }
            fn select_row<K: Kernel>(mode: Mode, isa: Isa) -> RowFn<Self> {
                simd::select_row::<$t, K>(mode, isa)
            }
            /// Compared in the element's own precision, on the active ISA (the generic pass converts each
            /// element and runs at the baseline: 15% of the sine's time at 10^5 f32, now 5%): the elements
            /// below `bound` are exactly those below `bound` rounded upward to this type, as none lies in
            /// between.
            #[inline]
            fn all_abs_below(x: &[Self], bound: f64) -> bool {
                let b = bound as $t;
                let b = if (b as f64) < bound { b.next_up() } else { b };
                simd::all_abs_below(simd::active(), x, b)
            }
        }
    };
}
store_float!(f32);
store_float!(f64);

macro_rules! store_half {
    ($t:ty) => {
        impl Store for $t {
            #[inline(always)]
            fn to_f64(self) -> f64 {
                f64::from(self.to_f32())
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                half_from_f64(v)
            }
            /// Summed in f64 and rounded to the 16-bit type: NumPy sums in f32 and rounds again; both
            /// equal the correctly rounded sum, since 24 and 53 bits are >= 2p + 2 (double rounding is
            /// innocuous for addition at that width).
            #[inline(always)]
            fn add(self, other: Self) -> Self {
                half_from_f64(self.to_f64() + other.to_f64())
            }
            fn select_row<K: Kernel>(mode: Mode, isa: Isa) -> RowFn<Self> {
                select_half_row::<$t, K>(mode, isa)
            }
        }
    };
}
store_half!(F16);
store_half!(Bf16);

/// The resolved functions of one call for element type T, on the active ISA.
#[derive(Clone, Copy)]
struct Plan<T> {
    row: RowFn<T>,
    exact: Option<ExactFn>,
    call: Call,
}

impl<T: Store> Plan<T> {
    fn new(call: Call) -> Plan<T> {
        Plan {
            row: row_fn::<T>(call.kernel, call.mode, simd::active()),
            exact: exact_fn(call.kernel),
            call,
        }
    }

    /// One contiguous row; `x` and `y` never overlap here.
    #[inline]
    fn run(&self, x: &[T], g: Option<&[T]>, y: &mut [T]) {
        self.row.call(&self.call.params, x, g, y);
        if let Some((free_below, exact)) = self.exact {
            // One vectorised pass decides whether any element needs the exact path (NaN fails `<`).
            let bound = free_below(self.call.params);
            if T::all_abs_below(x, bound) {
                return;
            }
            for i in 0..y.len() {
                if let Some(v) = exact(self.call.mode, x[i].to_f64(), &self.call.params) {
                    let scale = g.map_or(1.0, |g| g[i].to_f64());
                    y[i] = T::from_f64(scale * v);
                }
            }
        }
    }
}

/// Stack blocks for strided or aliased rows.
const BLOCK: usize = 256;

/// The blocks a strided, aliased or biased row is staged through, each filled (zeroed) the first time a
/// row of the call (or chunk) needs it and reused by the rows after: a short row does not pay for zeroing
/// all three.
#[derive(Default)]
struct Scratch<T> {
    x: Option<[T; BLOCK]>,
    g: Option<[T; BLOCK]>,
    y: Option<[T; BLOCK]>,
}

fn block<T: Store>(slot: &mut Option<[T; BLOCK]>) -> &mut [T; BLOCK] {
    slot.get_or_insert_with(|| [T::default(); BLOCK])
}

// ------------------------------------------------------------------------------------------------------
// Contiguous API (safe): for Rust callers, tests and benches.
// ------------------------------------------------------------------------------------------------------

fn check_len(expected: usize, got: usize) -> Result<(), Error> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::LengthMismatch { expected, got })
    }
}

/// `y = f(x)` (or the derivative, times `g` when given) over contiguous slices, on the pool when large.
pub fn apply<T: Store>(call: Call, x: &[T], g: Option<&[T]>, y: &mut [T]) -> Result<(), Error> {
    check_len(y.len(), x.len())?;
    // SAFETY: `x` is valid for y.len() reads (checked above) and, being a shared borrow beside the unique
    // borrow `y`, cannot overlap it.
    unsafe { apply_contiguous(call, x.as_ptr(), g, y) }
}

/// In place: `y = f(y)` (or the derivative of the values in `y`, times `g`).
pub fn apply_inplace<T: Store>(call: Call, g: Option<&[T]>, y: &mut [T]) -> Result<(), Error> {
    let x = y.as_ptr();
    // SAFETY: `x` is `y` itself, which the driver detects as an exact alias and handles by copying each
    // block before writing it.
    unsafe { apply_contiguous(call, x, g, y) }
}

/// The contiguous calls as one-axis strided calls.
///
/// # Safety
/// `x` is valid for `y.len()` reads and either is `y`'s own memory or does not overlap it.
unsafe fn apply_contiguous<T: Store>(
    call: Call,
    x: *const T,
    g: Option<&[T]>,
    y: &mut [T],
) -> Result<(), Error> {
    if let Some(g) = g {
        check_len(y.len(), g.len())?;
    }
    let unit: &[isize] = &[1];
    let view_g = g.map(|g| View {
        ptr: g.as_ptr(),
        strides: unit,
    });
    let view_y = ViewMut {
        ptr: y.as_mut_ptr(),
        strides: unit,
    };
    // SAFETY: the views describe the slices (and `x`, per this function's contract) over one axis of
    // y.len() elements; `y` is a unique borrow, so nothing else touches it during the call.
    unsafe {
        apply_strided(
            call,
            &[y.len()],
            View {
                ptr: x,
                strides: unit,
            },
            view_g,
            view_y,
        )
    };
    Ok(())
}

// ------------------------------------------------------------------------------------------------------
// Strided API: what the Python bindings call with NumPy's pointers and strides.
// ------------------------------------------------------------------------------------------------------

/// A read-only strided operand: base pointer and one stride per axis, in elements (may be negative/zero).
#[derive(Clone, Copy, Debug)]
pub struct View<'a, T> {
    pub ptr: *const T,
    pub strides: &'a [isize],
}

/// The output operand.
#[derive(Clone, Copy, Debug)]
pub struct ViewMut<'a, T> {
    pub ptr: *mut T,
    pub strides: &'a [isize],
}

/// An axis after planning: its length and the stride of x, g, y and the bias on it (the bias's is 0
/// except on the bias axis; all 0 without a bias).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Axis {
    len: usize,
    strides: [isize; 4],
}

/// Raw pointers of one call, shared by the chunks that run on the pool.
#[derive(Clone, Copy)]
struct Ptrs<T> {
    x: *const T,
    g: *const T,
    y: *mut T,
    /// The bias added to x before the kernel (a fused `f(x + bias)`), or null.
    b: *const T,
    has_g: bool,
    /// x (or g) is the very same memory as y, element for element: read each block before writing it.
    aliased: bool,
}

// SAFETY: chunks handed to other threads write disjoint sets of output elements (the output was checked
// to have no internal overlap before going parallel), and read inputs that nothing writes during the call
// except the exactly aliased elements, which only the chunk owning them reads and writes (the bias never
// overlaps the output, by `apply_bias_strided`'s contract).
unsafe impl<T> Send for Ptrs<T> {}
// SAFETY: see `Send`; the struct is only read.
unsafe impl<T> Sync for Ptrs<T> {}

/// Sorted, merged axes (outermost first); an empty shape becomes a single element.
fn plan_axes(shape: &[usize], strides: [&[isize]; 4]) -> Vec<Axis> {
    let mut axes: Vec<Axis> = (0..shape.len())
        .filter(|&i| shape[i] != 1)
        .map(|i| Axis {
            len: shape[i],
            strides: [strides[0][i], strides[1][i], strides[2][i], strides[3][i]],
        })
        .collect();
    // Output strides decide the order (NumPy's K order), x's break ties; stable sort keeps C order else.
    axes.sort_by(|a, b| {
        let key = |ax: &Axis| (ax.strides[2].unsigned_abs(), ax.strides[0].unsigned_abs());
        key(b).cmp(&key(a))
    });
    let mut merged: Vec<Axis> = Vec::with_capacity(axes.len());
    for axis in axes {
        if let Some(outer) = merged.last_mut() {
            let contiguous =
                (0..4).all(|k| outer.strides[k] == axis.strides[k] * axis.len as isize);
            if contiguous {
                outer.len *= axis.len;
                outer.strides = axis.strides;
                continue;
            }
        }
        merged.push(axis);
    }
    if merged.is_empty() {
        merged.push(Axis {
            len: 1,
            strides: [1, 1, 1, 0],
        });
    }
    merged
}

/// The element count of a call whose operands all lie in C order, each one contiguous run of memory
/// (axes of length 1 may have any stride), or None.
fn one_run(shape: &[usize], strides: [&[isize]; 3]) -> Option<usize> {
    let mut n = 1usize;
    for (d, &len) in shape.iter().enumerate().rev() {
        if len != 1 && strides.iter().any(|s| s[d] != n as isize) {
            return None;
        }
        n *= len;
    }
    Some(n)
}

/// Byte-free extent of operand `k`: (lowest, highest) element offset reached from its base.
fn extent(axes: &[Axis], k: usize) -> (isize, isize) {
    axes.iter().fold((0, 0), |(lo, hi), ax| {
        let reach = (ax.len as isize - 1) * ax.strides[k];
        (lo + reach.min(0), hi + reach.max(0))
    })
}

/// Whether two operands' memory ranges intersect.
fn ranges_overlap<T>(a: *const T, ea: (isize, isize), b: *const T, eb: (isize, isize)) -> bool {
    let size = core::mem::size_of::<T>() as isize;
    let (a0, a1) = (a as isize + ea.0 * size, a as isize + (ea.1 + 1) * size);
    let (b0, b1) = (b as isize + eb.0 * size, b as isize + (eb.1 + 1) * size);
    a0 < b1 && b0 < a1
}

/// Whether distinct indices of the output may share memory (a broadcast or self-overlapping `out`).
fn may_self_overlap(axes: &[Axis]) -> bool {
    let mut sorted: Vec<(usize, usize)> = axes
        .iter()
        .map(|a| (a.strides[2].unsigned_abs(), a.len))
        .collect();
    sorted.sort_unstable();
    let mut reach = 0usize; // largest offset spanned by the inner axes so far
    for (stride, len) in sorted {
        if len > 1 && stride <= reach {
            return true;
        }
        reach += stride * (len - 1);
    }
    false
}

/// Gather a strided operand into a new contiguous buffer laid out in the planned axis order.
///
/// # Safety
/// Every element of the operand described by `ptr` and stride `k` of `axes` must be readable.
unsafe fn gather_all<T: Store>(ptr: *const T, axes: &[Axis], k: usize) -> Vec<T> {
    let total: usize = axes.iter().map(|a| a.len).product();
    let mut out = Vec::with_capacity(total);
    let mut index = vec![0usize; axes.len()];
    let mut offset = 0isize;
    for _ in 0..total {
        // SAFETY: `offset` is the offset of an index inside the shape, readable by the caller's contract.
        out.push(unsafe { *ptr.offset(offset) });
        for d in (0..axes.len()).rev() {
            index[d] += 1;
            offset += axes[d].strides[k];
            if index[d] < axes[d].len {
                break;
            }
            offset -= axes[d].strides[k] * axes[d].len as isize;
            index[d] = 0;
        }
    }
    out
}

/// Apply `call` over an N-dimensional strided call.
///
/// # Safety
/// For every index `i` inside `shape`, `x.ptr + Σ i_k·x.strides[k]` (and the same for `g`) must be valid
/// for reads of `T`, and the same offsets of `y` valid for writes; no other thread may write any of that
/// memory during the call. `x.strides`, `g.strides` and `y.strides` must have `shape.len()` entries.
/// Inputs may overlap the output in any way.
pub unsafe fn apply_strided<T: Store>(
    call: Call,
    shape: &[usize],
    x: View<'_, T>,
    g: Option<View<'_, T>>,
    y: ViewMut<'_, T>,
) {
    // SAFETY: forwarded from this function's contract; there is no bias.
    unsafe { apply_impl(call, shape, x, None, g, y) }
}

/// The fused `y = f(x + bias)` (or `g·f'(x + bias)`), `bias` running along axis `axis` of `shape`: each
/// block of x is added to the bias in a stack buffer of `BLOCK` elements and handed to the same row
/// function (and exact patch) as [`apply_strided`], so the result is bitwise that of `f` on the sum
/// rounded to `T`, without a full-size temporary.
///
/// # Safety
/// As [`apply_strided`]; besides, `bias` holds `shape[axis]` elements (`axis < shape.len()`) and does not
/// overlap the output.
pub unsafe fn apply_bias_strided<T: Store>(
    call: Call,
    shape: &[usize],
    x: View<'_, T>,
    bias: &[T],
    axis: usize,
    g: Option<View<'_, T>>,
    y: ViewMut<'_, T>,
) {
    let mut strides = vec![0isize; shape.len()];
    strides[axis] = 1;
    let b = View {
        ptr: bias.as_ptr(),
        strides: &strides,
    };
    // SAFETY: forwarded from this function's contract; `b` reaches bias[i] at index i of `axis`.
    unsafe { apply_impl(call, shape, x, Some(b), g, y) }
}

/// [`apply_strided`] with an optional bias operand, read-only and not overlapping y.
#[allow(clippy::needless_range_loop)] // k indexes the operands of several parallel arrays
///
/// # Safety
/// As [`apply_bias_strided`] (with the bias's reach described by its strides).
unsafe fn apply_impl<T: Store>(
    call: Call,
    shape: &[usize],
    x: View<'_, T>,
    b: Option<View<'_, T>>,
    g: Option<View<'_, T>>,
    y: ViewMut<'_, T>,
) {
    if shape.contains(&0) {
        return;
    }
    let g_strides = g.map_or(x.strides, |g| g.strides);
    if let Some(n) = one_run(shape, [x.strides, g_strides, y.strides]) {
        let span = (0, n as isize - 1);
        let apart = |p: *const T| !ranges_overlap(p, span, y.ptr.cast_const(), span);
        let inline = parallel::chunking(n, call.kernel.info().cost, parallel::num_threads()).0 == 1;
        if inline && apart(x.ptr) && g.is_none_or(|g| apart(g.ptr)) {
            // The common small call, straight to the row function: what the plan below comes to (merged
            // axes, one chunk), without its allocations.
            // SAFETY: every operand is n contiguous elements (its strides, just checked, and the caller's
            // contract), neither x nor g overlaps y, and the bias (which never overlaps y) reaches bias[i]
            // at index i of its axis.
            unsafe {
                run_contiguous(
                    &Plan::<T>::new(call),
                    shape,
                    n,
                    x.ptr,
                    g.map(|g| g.ptr),
                    y.ptr,
                    b,
                )
            };
            return;
        }
    }
    let no_bias = vec![0isize; shape.len()];
    let b_strides = b.map_or(no_bias.as_slice(), |b| b.strides);
    let mut axes = plan_axes(shape, [x.strides, g_strides, y.strides, b_strides]);
    let y_extent = extent(&axes, 2);
    let mut ptrs = Ptrs {
        x: x.ptr,
        g: g.map_or(core::ptr::null(), |g| g.ptr),
        y: y.ptr,
        b: b.map_or(core::ptr::null(), |b| b.ptr),
        has_g: g.is_some(),
        aliased: false,
    };

    // Inputs that overlap the output other than element for element are copied first. (Operands are
    // indexed 0 = x, 1 = g, 2 = y throughout, hence the index loops.)
    let mut keep_alive: Vec<Vec<T>> = Vec::new();
    let mut relocated = [false; 2];
    for k in 0..2 {
        let ptr = if k == 0 { ptrs.x } else { ptrs.g };
        if k == 1 && !ptrs.has_g {
            continue;
        }
        if !ranges_overlap(ptr, extent(&axes, k), ptrs.y as *const T, y_extent) {
            continue;
        }
        let same = core::ptr::eq(ptr, ptrs.y) && axes.iter().all(|a| a.strides[k] == a.strides[2]);
        if same {
            ptrs.aliased = true;
            continue;
        }
        // SAFETY: the caller guarantees every element of this operand is readable.
        let copy = unsafe { gather_all(ptr, &axes, k) };
        if k == 0 {
            ptrs.x = copy.as_ptr();
        } else {
            ptrs.g = copy.as_ptr();
        }
        relocated[k] = true;
        keep_alive.push(copy);
    }
    if relocated.iter().any(|&r| r) {
        // Relocated operands are contiguous in the planned order: rewrite their strides.
        let mut step = 1isize;
        for axis in axes.iter_mut().rev() {
            for k in 0..2 {
                if relocated[k] {
                    axis.strides[k] = step;
                }
            }
            step *= axis.len as isize;
        }
    }

    let plan = Plan::<T>::new(call);
    let total: usize = axes.iter().map(|a| a.len).product();
    let threads = if may_self_overlap(&axes) {
        1
    } else {
        parallel::num_threads()
    };
    let (chunks, per_chunk) = parallel::chunking(total, call.kernel.info().cost, threads);
    if chunks > 1 {
        // SAFETY: the chunks cover disjoint index ranges of an output without self-overlap (see `Ptrs`),
        // and the caller's contract covers every offset `run_range` forms.
        parallel::run_chunks(chunks, threads, |c| unsafe {
            run_range(
                &plan,
                &axes,
                ptrs,
                c * per_chunk,
                ((c + 1) * per_chunk).min(total),
            )
        });
    } else {
        // SAFETY: the caller's contract covers every offset in the shape.
        unsafe { run_range(&plan, &axes, ptrs, 0, total) }
    }
    drop(keep_alive);
}

/// A call whose operands are each n contiguous elements in C order, apart from y, x and g not overlapping
/// it: one row, or with a bias one row per run of constant bias (x's rows along the bias axis when it is
/// the last, else the runs after it), as the general plan forms them.
///
/// # Safety
/// As described: x, g readable and y writable for n elements; `b` (strides: 1 on the bias axis, 0
/// elsewhere) readable at every index of `shape` and not overlapping y.
unsafe fn run_contiguous<T: Store>(
    plan: &Plan<T>,
    shape: &[usize],
    n: usize,
    x: *const T,
    g: Option<*const T>,
    y: *mut T,
    b: Option<View<'_, T>>,
) {
    let Some(b) = b else {
        // SAFETY: the caller's contract.
        unsafe {
            let xs = core::slice::from_raw_parts(x, n);
            let gs = g.map(|g| core::slice::from_raw_parts(g, n));
            plan.run(xs, gs, core::slice::from_raw_parts_mut(y, n));
        }
        return;
    };
    let axis = b.strides.iter().position(|&s| s != 0).unwrap_or(0);
    let channels = shape.get(axis).copied().unwrap_or(1);
    let after: usize = shape.iter().skip(axis + 1).product();
    // Rows along the bias (step 1) when it runs along the last non-trivial axis, else runs of `after`
    // elements that share one bias value (step 0).
    let (len, step) = if after == 1 {
        (channels, 1)
    } else {
        (after, 0)
    };
    let g = g.unwrap_or(core::ptr::null());
    let mut scratch = Scratch::default();
    for row in 0..n / len {
        let at = row * len;
        let bias_at = if step == 1 { 0 } else { row % channels };
        // SAFETY: indices at..at + len of x, g and y are inside their n elements, and the bias's
        // elements bias_at.. (step 1: len of them) inside its `channels` (the caller's contract).
        unsafe {
            run_row(
                plan,
                x.add(at),
                if g.is_null() { g } else { g.add(at) },
                y.add(at),
                b.ptr.add(bias_at),
                [1, 1, 1, step],
                len,
                false,
                &mut scratch,
            )
        };
    }
}

/// Compute linear indices [start, end) of the planned iteration space.
#[allow(clippy::needless_range_loop)] // k indexes the operands of several parallel arrays
///
/// # Safety
/// As `apply_strided`, for the offsets of these indices.
unsafe fn run_range<T: Store>(
    plan: &Plan<T>,
    axes: &[Axis],
    ptrs: Ptrs<T>,
    start: usize,
    end: usize,
) {
    let (outer, inner) = axes.split_at(axes.len() - 1);
    let row = inner[0];
    let mut index = vec![0usize; outer.len()];
    let mut rem = start / row.len;
    for d in (0..outer.len()).rev() {
        index[d] = rem % outer[d].len;
        rem /= outer[d].len;
    }
    let mut offset = [0isize; 4];
    for (d, &i) in index.iter().enumerate() {
        for k in 0..4 {
            offset[k] += i as isize * outer[d].strides[k];
        }
    }
    let mut col = start % row.len;
    let mut pos = start;
    let mut scratch = Scratch::default();
    while pos < end {
        let len = (row.len - col).min(end - pos);
        let at = |k: usize| offset[k] + col as isize * row.strides[k];
        // SAFETY: the offsets are those of indices inside the shape (caller's contract).
        unsafe {
            run_row(
                plan,
                ptrs.x.offset(at(0)),
                if ptrs.has_g {
                    ptrs.g.offset(at(1))
                } else {
                    core::ptr::null()
                },
                ptrs.y.offset(at(2)),
                if ptrs.b.is_null() {
                    core::ptr::null()
                } else {
                    ptrs.b.offset(at(3))
                },
                row.strides,
                len,
                ptrs.aliased,
                &mut scratch,
            )
        };
        pos += len;
        col = 0;
        for d in (0..outer.len()).rev() {
            index[d] += 1;
            for k in 0..4 {
                offset[k] += outer[d].strides[k];
            }
            if index[d] < outer[d].len {
                break;
            }
            for k in 0..4 {
                offset[k] -= outer[d].strides[k] * outer[d].len as isize;
            }
            index[d] = 0;
        }
    }
}

/// One row of `len` elements at the given pointers with the given strides. A contiguous row without a
/// bias goes straight to the row function; otherwise x (plus the bias, rounded to T as NumPy's `x + b` is)
/// is loaded `BLOCK` elements at a time into a stack buffer, and the kernel writes straight into y when
/// y's row is contiguous.
///
/// # Safety
/// `x + i·sx`, `g + i·sg`, `b + i·sb` readable and `y + i·sy` writable for i < len (g and b only when
/// non-null); x and g either do not overlap y or (when `aliased`) are the same elements as y; b never
/// overlaps y.
#[allow(clippy::too_many_arguments)]
unsafe fn run_row<T: Store>(
    plan: &Plan<T>,
    x: *const T,
    g: *const T,
    y: *mut T,
    b: *const T,
    strides: [isize; 4],
    len: usize,
    aliased: bool,
    scratch: &mut Scratch<T>,
) {
    let has_g = !g.is_null();
    let contiguous = strides[0] == 1 && strides[2] == 1 && (!has_g || strides[1] == 1);
    if contiguous && b.is_null() && !aliased {
        // SAFETY: contiguous rows of `len` valid elements; y does not overlap x or g (not aliased, and
        // partial overlaps were copied away), so the shared and the unique borrow are disjoint.
        unsafe {
            let xs = core::slice::from_raw_parts(x, len);
            let gs = has_g.then(|| core::slice::from_raw_parts(g, len));
            let ys = core::slice::from_raw_parts_mut(y, len);
            plan.run(xs, gs, ys);
        }
        return;
    }
    // Writing y directly is sound unless g is y itself (then g's block must be copied before y is written).
    // An aliased x is fine: its block is read into `bx` before the kernel writes the same elements.
    let direct = strides[2] == 1 && !(aliased && has_g);
    let bx = block(&mut scratch.x);
    let mut done = 0;
    while done < len {
        let n = (len - done).min(BLOCK);
        let at = done as isize;
        // SAFETY: indices done..done + n < len are readable by the contract (b only when non-null).
        unsafe {
            let bias = (!b.is_null()).then(|| (b.offset(at * strides[3]), strides[3]));
            load_block(&mut bx[..n], x.offset(at * strides[0]), strides[0], bias)
        };
        let gs = if !has_g {
            None
        } else if strides[1] == 1 && !aliased {
            // SAFETY: n contiguous readable elements of g, which does not overlap y (not aliased).
            Some(unsafe { core::slice::from_raw_parts(g.offset(at), n) })
        } else {
            let bg = block(&mut scratch.g);
            for (i, slot) in bg[..n].iter_mut().enumerate() {
                // SAFETY: index done + i < len, readable by the contract; read before y is written.
                *slot = unsafe { *g.offset((at + i as isize) * strides[1]) };
            }
            Some(&bg[..n])
        };
        if direct {
            // SAFETY: n contiguous writable elements of y; nothing borrowed overlaps them (`bx` and `bg`
            // are stack copies, a direct `gs` only exists when g does not overlap y).
            let ys = unsafe { core::slice::from_raw_parts_mut(y.offset(at), n) };
            plan.run(&bx[..n], gs, ys);
        } else {
            let by = block(&mut scratch.y);
            plan.run(&bx[..n], gs, &mut by[..n]);
            for (i, &v) in by[..n].iter().enumerate() {
                // SAFETY: index done + i < len, writable by the contract.
                unsafe { *y.offset((at + i as isize) * strides[2]) = v };
            }
        }
        done += n;
    }
}

/// `out[i] = x[i·sx]`, or `x[i·sx] + b[i·sb]` with a bias `(b, sb)`, with loops the compiler vectorises
/// for the common strides.
///
/// # Safety
/// `x + i·sx` (and `b + i·sb`) readable for i < out.len().
#[inline(always)]
unsafe fn load_block<T: Store>(
    out: &mut [T],
    x: *const T,
    sx: isize,
    bias: Option<(*const T, isize)>,
) {
    let n = out.len();
    let Some((b, sb)) = bias else {
        for (i, o) in out.iter_mut().enumerate() {
            // SAFETY: i < n, readable by the contract.
            *o = unsafe { *x.offset(i as isize * sx) };
        }
        return;
    };
    match (sx, sb) {
        (1, 1) => {
            // SAFETY: n contiguous readable elements each (contract); `out` is a stack buffer.
            let (xs, bs) = unsafe {
                (
                    core::slice::from_raw_parts(x, n),
                    core::slice::from_raw_parts(b, n),
                )
            };
            for ((o, &xi), &bi) in out.iter_mut().zip(xs).zip(bs) {
                *o = xi.add(bi);
            }
        }
        (1, 0) => {
            // SAFETY: as above for x; b is one readable element (contract, i = 0).
            let (xs, bias) = unsafe { (core::slice::from_raw_parts(x, n), *b) };
            for (o, &xi) in out.iter_mut().zip(xs) {
                *o = xi.add(bias);
            }
        }
        _ => {
            for (i, o) in out.iter_mut().enumerate() {
                let i = i as isize;
                // SAFETY: i < n, readable by the contract.
                *o = unsafe { (*x.offset(i * sx)).add(*b.offset(i * sb)) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{self, Isa};
    use crate::table::KernelId;

    /// Values to compare on: ordinary ones and the ranges where the fast formulas meet subnormals.
    fn values() -> Vec<f64> {
        let mut v: Vec<f64> = (-2000..=2000).map(|i| i as f64 * 0.01).collect();
        for i in 0..4000 {
            let t = i as f64 / 4000.0;
            v.push(-80.0 - 40.0 * t); // f32 tails
            v.push(80.0 + 40.0 * t);
            v.push(-700.0 - 60.0 * t); // f64 tails
            v.push(700.0 + 60.0 * t);
        }
        v.extend([
            0.0,
            -0.0,
            1e30,
            -1e30,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1e-40,
            -1e-40,
        ]);
        v
    }

    /// `values` laid out so that every sampled slot of every block holds `probe` (the others the values),
    /// and the positions of the values.
    fn laid_out(probe: f64) -> (Vec<f64>, Vec<usize>) {
        let values = values();
        let (mut x, mut at) = (Vec::new(), Vec::new());
        let mut next = values.iter();
        'fill: loop {
            for i in 0..CAREFUL_BLOCK {
                if i % CAREFUL_STRIDE == 0 {
                    x.push(probe);
                } else if let Some(&v) = next.next() {
                    at.push(x.len());
                    x.push(v);
                } else {
                    break 'fill;
                }
            }
        }
        (x, at)
    }

    fn check<T: Store + PartialEq + core::fmt::Debug>(to: fn(f64) -> T, bits: fn(T) -> u64) {
        let saved = simd::active();
        for isa in [Isa::Portable, Isa::Avx2, Isa::Avx512] {
            if isa > Isa::detect() {
                continue;
            }
            simd::set_active(isa);
            for (&kernel, mode, with_g) in KernelId::ALL.iter().flat_map(|k| {
                // Forward with a grad_out too: the gated functions use it for g·f(b).
                [
                    (k, Mode::Forward, false),
                    (k, Mode::Forward, true),
                    (k, Mode::Derivative, false),
                    (k, Mode::Derivative, true),
                ]
            }) {
                let call =
                    Call::new(kernel, mode, kernel.info().sample_params).expect("mode exists");
                // Probes far outside every kernel's careful-free range, and inside every one.
                let (x_careful, at) = laid_out(-1e30);
                let (x_fast, at_fast) = laid_out(0.5);
                assert_eq!(at, at_fast);
                let g: Vec<T> = (0..x_fast.len())
                    .map(|i| to(1.0 - (i % 7) as f64 * 0.3))
                    .collect();
                let run = |x: &[f64]| {
                    let x: Vec<T> = x.iter().map(|&v| to(v)).collect();
                    let mut y = vec![T::default(); x.len()];
                    apply(call, &x, with_g.then_some(&g[..]), &mut y).expect("lengths match");
                    y
                };
                let (careful, fast) = (run(&x_careful), run(&x_fast));
                for &i in &at {
                    assert_eq!(
                        bits(careful[i]),
                        bits(fast[i]),
                        "{} {mode:?} (grad_out: {with_g}) at {:e} ({isa:?}): careful {:?}, fast {:?}",
                        kernel.info().name,
                        x_fast[i],
                        careful[i],
                        fast[i]
                    );
                }
            }
        }
        simd::set_active(saved);
    }

    #[test]
    fn careful_blocks_give_the_fast_blocks_bits() {
        check::<f32>(|v| v as f32, |v| u64::from(v.to_bits()));
        check::<f64>(|v| v, f64::to_bits);
    }
}
