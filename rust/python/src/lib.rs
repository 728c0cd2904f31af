//! `fastact._fastact`: the thin PyO3 layer over `fastact-core`.
//!
//! It only turns NumPy arrays into pointers and strides, allocates outputs, releases the GIL and maps
//! errors. One entry point, `apply`, serves every kernel; the public functions with their signatures and
//! docstrings are generated in Python from the catalogue (`python/fastact/_catalogue.py`).
//!
//! `apply` is the fast path: it accepts only what it can compute without conversion (aligned,
//! native-endian float32/float64/float16/bfloat16 ndarrays, matching `grad_out` and `out`) and returns
//! `None` for anything else, so that the Python layer normalises the input (lists, integers, byte-swapped
//! or misaligned arrays) or raises the precise error, in one place for both backends. The 16-bit floats
//! compute in f32 inside the kernels (`fastact_core::half`); the along-an-axis functions take f32/f64 only.

use fastact_core::channels::Dims;
use fastact_core::real::Elem;
use fastact_core::{
    apply_bias_strided, apply_lanes_masked, apply_strided, parallel, simd, Bf16, Call, KernelId,
    LaneView, Mode, RowMode, RowOp, Store, View, ViewMut, F16, KERNELS,
};
use numpy::npyffi::{self, NPY_ORDER, NPY_TYPES, PY_ARRAY_API};
use numpy::{
    IxDyn, PyArray, PyArrayDescrMethods, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::marker::Ungil;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

mod plain;

/// Calls at least this large release the GIL (NumPy uses 500; a GIL round trip costs ~1 µs).
const DETACH_MIN_ELEMENTS: usize = 8192;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dtype {
    F32,
    F64,
    F16,
    Bf16,
}

/// An array the fast path can use as-is: its dtype, or None.
fn usable(array: &Bound<'_, PyUntypedArray>) -> Option<Dtype> {
    let descr = array.dtype();
    let dtype = match descr.num() {
        n if n == NPY_TYPES::NPY_FLOAT as i32 => Dtype::F32,
        n if n == NPY_TYPES::NPY_DOUBLE as i32 => Dtype::F64,
        n if n == NPY_TYPES::NPY_HALF as i32 => Dtype::F16,
        // ml_dtypes' bfloat16 is a user-defined dtype: its number is assigned at registration, so it is
        // recognised by its type's name (a Python call, made only for dtypes no other arm matched).
        n if n >= NPY_TYPES::NPY_USERDEF as i32
            && descr.itemsize() == 2
            && descr.typeobj().name().is_ok_and(|name| name == "bfloat16") =>
        {
            Dtype::Bf16
        }
        _ => return None,
    };
    if descr.is_native_byteorder() == Some(false) || !array.is_aligned() {
        return None;
    }
    let itemsize = descr.itemsize() as isize;
    array
        .strides()
        .iter()
        .all(|s| s % itemsize == 0)
        .then_some(dtype)
}

fn flags(array: &Bound<'_, PyUntypedArray>) -> i32 {
    // SAFETY: `array` is a live ndarray and we hold the GIL; reading its flags field is what NumPy's
    // PyArray_FLAGS macro does.
    unsafe { (*npyffi::_PyArray_GET_ITEM_DATA(array.as_array_ptr())).flags }
}

fn data_ptr(array: &Bound<'_, PyUntypedArray>) -> *mut u8 {
    // SAFETY: as in `flags`, for the data pointer (PyArray_DATA).
    unsafe {
        (*npyffi::_PyArray_GET_ITEM_DATA(array.as_array_ptr()))
            .data
            .cast()
    }
}

fn element_strides(array: &Bound<'_, PyUntypedArray>) -> Small<isize> {
    let itemsize = array.dtype().itemsize() as isize;
    array.strides().iter().map(|s| s / itemsize).collect()
}

/// A shape or stride list: up to `INLINE` entries (nearly every array) on the stack, more on the heap, so
/// that a small call does not pay an allocation for each of its lists.
#[derive(Clone)]
enum Small<T> {
    Inline([T; Small::<()>::INLINE], usize),
    Heap(Vec<T>),
}

impl Small<()> {
    const INLINE: usize = 8;
}

impl<T: Copy + Default> Small<T> {
    fn as_slice(&self) -> &[T] {
        self
    }

    /// Removes entry `i`, returning it (as `Vec::remove`).
    fn remove(&mut self, i: usize) -> T {
        match self {
            Small::Inline(items, len) => {
                let value = items[i];
                items.copy_within(i + 1..*len, i);
                *len -= 1;
                value
            }
            Small::Heap(items) => items.remove(i),
        }
    }
}

impl<T: Copy + Default> FromIterator<T> for Small<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut items = [T::default(); Small::<()>::INLINE];
        let mut iter = iter.into_iter();
        let mut len = 0;
        while let Some(value) = iter.next() {
            if len == Small::<()>::INLINE {
                return Small::Heap(items.into_iter().chain([value]).chain(iter).collect());
            }
            items[len] = value;
            len += 1;
        }
        Small::Inline(items, len)
    }
}

impl<T: Copy + Default> From<&[T]> for Small<T> {
    fn from(items: &[T]) -> Self {
        items.iter().copied().collect()
    }
}

impl<T> core::ops::Deref for Small<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            Small::Inline(items, len) => &items[..*len],
            Small::Heap(items) => items,
        }
    }
}

impl<T> core::ops::DerefMut for Small<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        match self {
            Small::Inline(items, len) => &mut items[..*len],
            Small::Heap(items) => items,
        }
    }
}

/// `a` as an array if its type is exactly `numpy.ndarray`. A subclass takes the Python path, which refuses
/// masked arrays and views the others (memmap, matrix) as plain arrays.
fn exact_ndarray<'py>(a: &Bound<'py, PyAny>) -> Option<Bound<'py, PyUntypedArray>> {
    if !a.is_exact_instance_of::<PyUntypedArray>() {
        return None;
    }
    a.cast::<PyUntypedArray>().ok().cloned()
}

/// Everything the kernel needs, detached from Python objects so it can cross into `py.detach`.
struct Job {
    call: Call,
    dtype: Dtype,
    shape: Small<usize>,
    x: (*const u8, Small<isize>),
    g: Option<(*const u8, Small<isize>)>,
    y: (*mut u8, Small<isize>),
    /// The fused bias (`Job::with_bias`): its axis and its contiguous elements, added to x first.
    bias: Option<(usize, *const u8)>,
}

// SAFETY: the pointers refer to arrays whose Python objects the calling frame keeps alive for the whole
// call; moving the job to the thread that runs it (itself, after releasing the GIL) changes no ownership.
unsafe impl Send for Job {}

impl Job {
    /// # Safety
    /// The pointers and strides must describe live arrays of the job's dtype and shape (x and g readable,
    /// y writable; the bias contiguous with shape[axis] elements, apart from y), as built by `apply` and
    /// `Job::with_bias` below.
    unsafe fn run(&self) {
        match self.dtype {
            // SAFETY: forwarded from this function's contract.
            Dtype::F32 => unsafe { self.run_typed::<f32>() },
            // SAFETY: forwarded from this function's contract.
            Dtype::F64 => unsafe { self.run_typed::<f64>() },
            // SAFETY: forwarded; F16 is a transparent u16, NumPy's float16 layout.
            Dtype::F16 => unsafe { self.run_typed::<F16>() },
            // SAFETY: forwarded; Bf16 is a transparent u16, ml_dtypes' bfloat16 layout.
            Dtype::Bf16 => unsafe { self.run_typed::<Bf16>() },
        }
    }

    unsafe fn run_typed<T: Store>(&self) {
        let x = View {
            ptr: self.x.0.cast::<T>(),
            strides: &self.x.1,
        };
        let g = self.g.as_ref().map(|(p, s)| View {
            ptr: p.cast::<T>(),
            strides: s,
        });
        let y = ViewMut {
            ptr: self.y.0.cast::<T>(),
            strides: &self.y.1,
        };
        let Some((axis, bias)) = self.bias else {
            // SAFETY: NumPy guarantees that every in-shape offset of an array is inside its buffer; `apply`
            // checked that the three arrays have this shape and dtype, that y is writeable, and keeps them
            // alive.
            unsafe { apply_strided(self.call, &self.shape, x, g, y) };
            return;
        };
        // SAFETY: `with_bias` checked that the bias is a contiguous aligned array of shape[axis] elements of
        // T (a zero-length axis reads nothing), not overlapping y; the caller keeps it alive, and the other
        // operands as above (`with_bias` checked them as `apply` does).
        unsafe {
            let bias = core::slice::from_raw_parts(bias.cast::<T>(), self.shape[axis]);
            apply_bias_strided(self.call, &self.shape, x, bias, axis, g, y)
        };
    }
}

/// Compute `kernel` in `mode` (0 forward, 1 derivative, 2 derivative from output) on `x`.
///
/// Returns the result (the `out` array when given, a scalar for 0-d input without `out`), or `None` when
/// the input needs the Python slow path.
#[pyfunction]
#[pyo3(signature = (kernel, mode, x, grad_out, out, p0, p1))]
#[allow(clippy::too_many_arguments)]
fn apply<'py>(
    py: Python<'py>,
    kernel: usize,
    mode: u8,
    x: &Bound<'py, PyAny>,
    grad_out: Option<&Bound<'py, PyAny>>,
    out: Option<&Bound<'py, PyAny>>,
    p0: f64,
    p1: f64,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let kernel_id = KernelId::from_index(kernel)
        .ok_or_else(|| PyValueError::new_err(format!("unknown kernel index {kernel}")))?;
    let mode = match mode {
        0 => Mode::Forward,
        1 => Mode::Derivative,
        2 => Mode::FromOutput,
        _ => return Err(PyValueError::new_err(format!("unknown mode {mode}"))),
    };
    let call =
        Call::new(kernel_id, mode, [p0, p1]).map_err(|e| PyValueError::new_err(e.to_string()))?;

    // Exact ndarrays only: a subclass goes through the Python layer, which refuses masked arrays and views
    // the others (memmap, matrix) as plain arrays.
    let Some(xa) = exact_ndarray(x) else {
        return Ok(None);
    };
    let xa = &xa;
    let Some(dtype) = usable(xa) else {
        return Ok(None);
    };
    let shape = Small::from(xa.shape());

    let ga = match grad_out {
        None => None,
        Some(g) => match exact_ndarray(g) {
            Some(ga) if usable(&ga) == Some(dtype) && ga.shape() == shape.as_slice() => Some(ga),
            _ => return Ok(None),
        },
    };
    let ya: Bound<'py, PyUntypedArray> = match out {
        Some(o) => match exact_ndarray(o) {
            Some(oa)
                if usable(&oa) == Some(dtype)
                    && oa.shape() == shape.as_slice()
                    && flags(&oa) & npyffi::NPY_ARRAY_WRITEABLE != 0 =>
            {
                oa
            }
            _ => return Ok(None),
        },
        None => {
            // SAFETY: `xa` is a live ndarray; NewLikeArray returns a new reference (or NULL with an
            // exception set), keeping x's memory order (NumPy's order "K") and dtype (descr NULL).
            let raw = unsafe {
                PY_ARRAY_API.PyArray_NewLikeArray(
                    py,
                    xa.as_array_ptr(),
                    NPY_ORDER::NPY_KEEPORDER,
                    core::ptr::null_mut(),
                    0,
                )
            };
            // SAFETY: `raw` is an owned reference or NULL, which from_owned_ptr_or_err turns into the error.
            let obj = unsafe { Bound::from_owned_ptr_or_err(py, raw)? };
            obj.cast_into::<PyUntypedArray>()?
        }
    };

    let job = Job {
        call,
        dtype,
        x: (data_ptr(xa) as *const u8, element_strides(xa)),
        g: ga
            .as_ref()
            .map(|ga| (data_ptr(ga) as *const u8, element_strides(ga))),
        y: (data_ptr(&ya), element_strides(&ya)),
        shape,
        bias: None,
    };
    let total = job.shape.iter().product();
    // SAFETY: `xa`, `ga` and `ya` stay referenced by this frame until the job returns, so their buffers stay
    // alive; `Job::run`'s contract holds by construction above.
    detached_if_large(py, total, move || unsafe { job.run() });

    if out.is_some() || xa.ndim() > 0 {
        return Ok(Some(ya.into_any()));
    }
    // SAFETY: PyArray_Return steals the reference we pass and returns a new one (a NumPy scalar for 0-d).
    let raw = unsafe { PY_ARRAY_API.PyArray_Return(py, ya.into_ptr().cast()) };
    // SAFETY: an owned reference or NULL with an exception set.
    Ok(Some(unsafe { Bound::from_owned_ptr_or_err(py, raw)? }))
}

/// The span of bytes an array's elements occupy: [lowest, highest] byte addresses (None when empty).
fn byte_span(array: &Bound<'_, PyUntypedArray>) -> Option<(usize, usize)> {
    if array.shape().contains(&0) {
        return None;
    }
    let base = data_ptr(array) as usize;
    let (mut lo, mut hi) = (base, base);
    for (&len, &stride) in array.shape().iter().zip(array.strides()) {
        let reach = stride.unsigned_abs() * (len - 1);
        if stride < 0 {
            lo -= reach;
        } else {
            hi += reach;
        }
    }
    Some((lo, hi + array.dtype().itemsize() - 1))
}

/// Why `out` cannot be written element by element (read-only, or a zero stride making elements share memory),
/// or None when it can.
fn unwritable(out: &Bound<'_, PyUntypedArray>) -> Option<&'static str> {
    if flags(out) & npyffi::NPY_ARRAY_WRITEABLE == 0 {
        return Some("out is read-only");
    }
    let shared = !out.shape().contains(&0)
        && out
            .shape()
            .iter()
            .zip(out.strides())
            .any(|(&len, &st)| len > 1 && st == 0);
    shared.then_some("out has overlapping elements")
}

/// Whether two operands share no byte at all (an empty one shares nothing).
fn disjoint(a: &Bound<'_, PyUntypedArray>, b: &Bound<'_, PyUntypedArray>) -> bool {
    match (byte_span(a), byte_span(b)) {
        (Some((a_lo, a_hi)), Some((b_lo, b_hi))) => a_hi < b_lo || b_hi < a_lo,
        _ => true,
    }
}

/// `run()`, with the GIL released while it runs when the call covers `elements` >= DETACH_MIN_ELEMENTS (below,
/// the hand-off costs more than other Python threads gain).
fn detached_if_large<T: Ungil>(
    py: Python<'_>,
    elements: usize,
    run: impl Ungil + FnOnce() -> T,
) -> T {
    if elements >= DETACH_MIN_ELEMENTS {
        py.detach(run)
    } else {
        run()
    }
}

/// Whether two operands share memory other than element for element (same start and strides).
fn overlaps_badly(a: &Bound<'_, PyUntypedArray>, b: &Bound<'_, PyUntypedArray>) -> bool {
    let same_elements =
        data_ptr(a) == data_ptr(b) && a.strides() == b.strides() && a.shape() == b.shape();
    !(disjoint(a, b) || same_elements)
}

/// The fused `out = f(x + bias)` (mode 0) or `out = grad_out·f'(x + bias)` (mode 1), `bias` along `axis`.
/// The Python layer (`fastact._fused`) normalises the operands; anything else is a ValueError here (never
/// undefined behaviour): see `Job::with_bias`.
#[pyfunction]
#[pyo3(signature = (kernel, mode, x, bias, axis, grad_out, out, p0, p1))]
#[allow(clippy::too_many_arguments)]
fn apply_bias<'py>(
    py: Python<'py>,
    kernel: usize,
    mode: u8,
    x: &Bound<'py, PyUntypedArray>,
    bias: &Bound<'py, PyUntypedArray>,
    axis: usize,
    grad_out: Option<&Bound<'py, PyUntypedArray>>,
    out: &Bound<'py, PyUntypedArray>,
    p0: f64,
    p1: f64,
) -> PyResult<()> {
    let bad = |what: &str| PyValueError::new_err(format!("apply_bias: {what}"));
    let kernel_id = KernelId::from_index(kernel).ok_or_else(|| bad("unknown kernel"))?;
    let mode = match mode {
        0 => Mode::Forward,
        1 => Mode::Derivative,
        _ => return Err(bad("unknown mode")),
    };
    let call = Call::new(kernel_id, mode, [p0, p1]).map_err(|e| bad(&e.to_string()))?;
    let job = Job::with_bias(call, x, bias, axis, grad_out, out, false).map_err(bad)?;
    let elements = job.shape.iter().product();
    // SAFETY: `Job::with_bias` checked the operands; x, bias, grad_out and out are kept alive by this frame.
    detached_if_large(py, elements, move || unsafe { job.run() });
    Ok(())
}

impl Job {
    /// The job of a fused bias call. Checks what `apply_bias_strided` needs and says what is wrong
    /// otherwise: x, bias, grad_out and out of one aligned native dtype (float32, float64, float16,
    /// bfloat16), bias 1-d and contiguous with x.shape[axis] elements, grad_out (the derivative only) and
    /// out of x's shape, out writeable without zero strides, not overlapping bias, and not overlapping x or
    /// grad_out except element for element. An `out` the caller has just allocated like x (`new_out`) is
    /// all of that by construction.
    fn with_bias(
        call: Call,
        x: &Bound<'_, PyUntypedArray>,
        bias: &Bound<'_, PyUntypedArray>,
        axis: usize,
        grad_out: Option<&Bound<'_, PyUntypedArray>>,
        out: &Bound<'_, PyUntypedArray>,
        new_out: bool,
    ) -> Result<Job, &'static str> {
        let Some(dtype) = usable(x) else {
            return Err("x must be an aligned native float array");
        };
        let shape = x.shape();
        if axis >= shape.len() {
            return Err("axis out of range");
        }
        let contiguous = bias.shape().first().is_some_and(|&n| n <= 1)
            || bias.strides().first() == Some(&(bias.dtype().itemsize() as isize));
        if usable(bias) != Some(dtype) || bias.shape() != [shape[axis]] || !contiguous {
            return Err(
                "bias must be a contiguous 1-d array of x.shape[axis] elements and x's dtype",
            );
        }
        match (call.mode, grad_out) {
            (Mode::Forward, None) => {}
            (Mode::Derivative, Some(g)) if usable(g) == Some(dtype) && g.shape() == shape => {}
            _ => {
                return Err(
                    "grad_out must be given with the derivative only, of x's shape and dtype",
                )
            }
        }
        if !new_out {
            if usable(out) != Some(dtype) || out.shape() != shape {
                return Err("out must have x's shape and dtype");
            }
            if let Some(why) = unwritable(out) {
                return Err(why);
            }
            if overlaps_badly(x, out) || grad_out.is_some_and(|g| overlaps_badly(g, out)) {
                return Err("out overlaps an input");
            }
            if !disjoint(bias, out) {
                return Err("out overlaps the bias");
            }
        }
        Ok(Job {
            call,
            dtype,
            shape: Small::from(shape),
            x: (data_ptr(x) as *const u8, element_strides(x)),
            g: grad_out.map(|g| (data_ptr(g) as *const u8, element_strides(g))),
            y: (data_ptr(out), element_strides(out)),
            bias: Some((axis, data_ptr(bias) as *const u8)),
        })
    }
}

/// A new array of `x`'s dtype: like `x` (its memory order, NumPy's "K"), or C-ordered of `shape` where that
/// differs (a reduction's result). Its elements are not initialised: the caller's kernel writes every one.
fn new_result<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyUntypedArray>,
    shape: &[usize],
    wide: bool,
) -> PyResult<Bound<'py, PyUntypedArray>> {
    if shape == x.shape() {
        // SAFETY: `x` is a live ndarray; NewLikeArray returns a new reference (or NULL with an exception
        // set), keeping x's memory order and dtype (descr NULL).
        let raw = unsafe {
            PY_ARRAY_API.PyArray_NewLikeArray(
                py,
                x.as_array_ptr(),
                NPY_ORDER::NPY_KEEPORDER,
                core::ptr::null_mut(),
                0,
            )
        };
        // SAFETY: `raw` is an owned reference or NULL, which from_owned_ptr_or_err turns into the error.
        let obj = unsafe { Bound::from_owned_ptr_or_err(py, raw)? };
        return Ok(obj.cast_into::<PyUntypedArray>()?);
    }
    // SAFETY: an uninitialised array of a plain float type (no Python objects in it); every element is
    // written by the kernel before the array is handed back (the caller's contract above).
    Ok(unsafe {
        if wide {
            PyArray::<f64, IxDyn>::new(py, shape, false)
                .as_untyped()
                .clone()
        } else {
            PyArray::<f32, IxDyn>::new(py, shape, false)
                .as_untyped()
                .clone()
        }
    })
}

/// Along-an-axis functions (softmax 0, log_softmax 1, softmin 2, logsumexp 3, quiet_softmax 4,
/// logmeanexp 5, sparsemax 6) in `mode` over `axis` of `x`, written into `out` (None: a new array, like x
/// where the result has x's shape) and returned, with an optional boolean `mask` of x's
/// shape (any strides, 0 included: a broadcast view; not for logmeanexp and sparsemax). The Python layer normalises the operands first; anything else is a ValueError here
/// (never undefined behaviour): same dtype (float32/float64, aligned, native), `out` writeable and of the
/// result's shape (logsumexp's forward: x's shape without `axis`), `grad_out` of x's shape (logsumexp: of the
/// reduced shape), no partial overlap between `out` and an input, no zero strides in `out`.
#[pyfunction]
#[pyo3(signature = (op, mode, x, grad_out, out, axis, mask=None))]
#[allow(clippy::too_many_arguments)]
fn apply_axis<'py>(
    py: Python<'py>,
    op: u8,
    mode: u8,
    x: &Bound<'py, PyUntypedArray>,
    grad_out: Option<&Bound<'py, PyUntypedArray>>,
    out: Option<&Bound<'py, PyUntypedArray>>,
    axis: usize,
    mask: Option<&Bound<'py, PyUntypedArray>>,
) -> PyResult<Bound<'py, PyUntypedArray>> {
    axis_rows(py, op, mode, x, grad_out, out, axis, mask)?
        .map_err(|what| PyValueError::new_err(format!("apply_axis: {what}")))
}

/// The body of `apply_axis`: `Ok(Err(reason))` where the call is refused (nothing written), `Err` only for a
/// failed allocation.
#[allow(clippy::too_many_arguments)]
fn axis_rows<'py>(
    py: Python<'py>,
    op: u8,
    mode: u8,
    x: &Bound<'py, PyUntypedArray>,
    grad_out: Option<&Bound<'py, PyUntypedArray>>,
    out: Option<&Bound<'py, PyUntypedArray>>,
    axis: usize,
    mask: Option<&Bound<'py, PyUntypedArray>>,
) -> PyResult<Result<Bound<'py, PyUntypedArray>, &'static str>> {
    let bad = |what: &'static str| Ok(Err(what));
    let op = match op {
        0 => RowOp::Softmax,
        1 => RowOp::LogSoftmax,
        2 => RowOp::Softmin,
        3 => RowOp::LogSumExp,
        4 => RowOp::QuietSoftmax,
        5 => RowOp::LogMeanExp,
        6 => RowOp::Sparsemax,
        _ => return bad("unknown op"),
    };
    let mode = match mode {
        0 => RowMode::Forward,
        1 => RowMode::Derivative,
        2 if !op.reduces() => RowMode::FromOutput,
        _ => return bad("unknown mode"),
    };
    let dtype = usable(x);
    let wide = match dtype {
        Some(Dtype::F32) => false,
        Some(Dtype::F64) => true,
        _ => return bad("x must be an aligned native float32/float64 array"),
    };
    let shape = Small::from(x.shape());
    if axis >= shape.len() {
        return bad("axis out of range");
    }
    let mut reduced = shape.clone();
    let n = reduced.remove(axis);
    let lse = op.reduces();
    let out_shape = if lse && mode == RowMode::Forward {
        &reduced
    } else {
        &shape
    };
    // A new result is of the right shape and dtype, writeable and apart from every input by construction.
    let given = out.is_some();
    let out = match out {
        Some(out) => out.clone(),
        None => new_result(py, x, out_shape, wide)?,
    };
    let out = &out;
    if given && (usable(out) != dtype || out.shape() != out_shape.as_slice()) {
        return bad("out must have the result's shape and x's dtype");
    }
    if let Some(why) = unwritable(out).filter(|_| given) {
        return bad(why);
    }
    if mode == RowMode::Forward {
        if grad_out.is_some() {
            return bad("forwards take no grad_out");
        }
    } else {
        let g_shape = if lse { &reduced } else { &shape };
        match grad_out {
            Some(g) if usable(g) == dtype && g.shape() == g_shape.as_slice() => {}
            _ => return bad("grad_out must have the expected shape and x's dtype"),
        }
    }
    if given && (overlaps_badly(x, out) || grad_out.is_some_and(|g| overlaps_badly(g, out))) {
        return bad("out overlaps an input");
    }
    if let Some(m) = mask {
        let is_bool = m.dtype().kind() == b'b' && m.dtype().itemsize() == 1;
        if !is_bool || m.shape() != shape.as_slice() {
            return bad("mask must be a bool array of x's shape");
        }
        if matches!(op, RowOp::LogMeanExp | RowOp::Sparsemax) {
            return bad("logmeanexp and sparsemax take no mask");
        }
        if given && !disjoint(m, out) {
            return bad("out overlaps the mask");
        }
    }

    let split = |a: &Bound<'py, PyUntypedArray>, per_lane: bool| -> (Small<isize>, isize) {
        let mut strides = element_strides(a);
        if per_lane {
            (strides, 0)
        } else {
            let step = strides.remove(axis);
            (strides, step)
        }
    };
    let (x_outer, x_step) = split(x, false);
    let (y_outer, y_step) = split(out, lse && mode == RowMode::Forward);
    let g_parts = grad_out.map(|g| (data_ptr(g) as usize, split(g, lse)));
    let m_parts = mask.map(|m| (data_ptr(m) as usize, split(m, false)));
    let (x_ptr, y_ptr) = (data_ptr(x) as usize, data_ptr(out) as usize);

    let run = move || {
        #[allow(clippy::too_many_arguments)]
        fn typed<T: fastact_core::real::Elem>(
            op: RowOp,
            mode: RowMode,
            reduced: &[usize],
            n: usize,
            x: (usize, &[isize], isize),
            g: Option<(usize, &[isize], isize)>,
            m: Option<(usize, &[isize], isize)>,
            y: (usize, &[isize], isize),
        ) {
            let xv = LaneView {
                ptr: x.0 as *const T,
                outer: x.1,
                step: x.2,
            };
            let gv = g.map(|g| LaneView {
                ptr: g.0 as *const T,
                outer: g.1,
                step: g.2,
            });
            let mv = m.map(|m| LaneView {
                ptr: m.0 as *const u8,
                outer: m.1,
                step: m.2,
            });
            let yv = LaneView {
                ptr: y.0 as *mut T,
                outer: y.1,
                step: y.2,
            };
            // SAFETY: the arrays were checked above to have these shapes and one dtype, `out` to be
            // writeable without overlapping elements and not to overlap an input except element for
            // element; the mask to be a 1-byte bool array of x's shape, not overlapping `out`; NumPy
            // guarantees every in-shape offset lies in its buffer; the calling frame keeps the arrays alive.
            unsafe { apply_lanes_masked::<T>(op, mode, reduced, n, xv, gv, mv, yv) }
        }
        let x = (x_ptr, x_outer.as_slice(), x_step);
        let g = g_parts.as_ref().map(|(p, (o, s))| (*p, o.as_slice(), *s));
        let m = m_parts.as_ref().map(|(p, (o, s))| (*p, o.as_slice(), *s));
        let y = (y_ptr, y_outer.as_slice(), y_step);
        if wide {
            typed::<f64>(op, mode, &reduced, n, x, g, m, y)
        } else {
            typed::<f32>(op, mode, &reduced, n, x, g, m, y)
        }
    };
    detached_if_large(py, shape.iter().product(), run);
    Ok(Ok(out.clone()))
}

/// GLU's backward in one pass (`fastact_core::gated`): `x` of shape (..., 2h) holding [a | b], `grad_out` of
/// shape (..., h), `out` of x's shape receiving [g·gate(b) | (g·a)·gate'(b)], the gate being kernel `kernel`
/// with parameters (p0, p1). All three C-contiguous, aligned, native float32 or float64 of one dtype, `out`
/// writeable and sharing no memory with the others; for anything else it returns False and touches nothing
/// (the Python layer then takes its three separate passes, which give the same bits).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn glu_grad_rows<'py>(
    py: Python<'py>,
    kernel: usize,
    p0: f64,
    p1: f64,
    x: &Bound<'py, PyUntypedArray>,
    grad_out: &Bound<'py, PyUntypedArray>,
    out: &Bound<'py, PyUntypedArray>,
) -> PyResult<bool> {
    let gate = KernelId::from_index(kernel)
        .ok_or_else(|| PyValueError::new_err(format!("unknown kernel index {kernel}")))?;
    glu_grad_into(py, gate, [p0, p1], x, grad_out, out)
}

/// `glu_grad_rows` for a resolved gate kernel with its parameters.
fn glu_grad_into<'py>(
    py: Python<'py>,
    gate: KernelId,
    [p0, p1]: [f64; 2],
    x: &Bound<'py, PyUntypedArray>,
    grad_out: &Bound<'py, PyUntypedArray>,
    out: &Bound<'py, PyUntypedArray>,
) -> PyResult<bool> {
    let dtype = usable(x);
    if !matches!(dtype, Some(Dtype::F32 | Dtype::F64))
        || usable(grad_out) != dtype
        || usable(out) != dtype
    {
        return Ok(false);
    }
    let shape = x.shape();
    let Some((&width, lead)) = shape.split_last() else {
        return Ok(false);
    };
    let h = width / 2;
    let g_shape: Vec<usize> = lead.iter().copied().chain([h]).collect();
    if width % 2 != 0
        || grad_out.shape() != g_shape.as_slice()
        || out.shape() != shape
        || !(x.is_c_contiguous() && grad_out.is_c_contiguous() && out.is_c_contiguous())
        || unwritable(out).is_some()
    {
        return Ok(false);
    }
    if !disjoint(x, out) || !disjoint(grad_out, out) {
        return Ok(false);
    }
    let n = x.len();
    let (x_ptr, g_ptr, y_ptr) = (
        data_ptr(x) as usize,
        data_ptr(grad_out) as usize,
        data_ptr(out) as usize,
    );
    let wide = dtype == Some(Dtype::F64);
    let run = move || {
        fn typed<T: Store + fastact_core::real::Elem>(
            gate: KernelId,
            p: [f64; 2],
            h: usize,
            n: usize,
            ptrs: (usize, usize, usize),
        ) -> Result<(), fastact_core::Error> {
            // SAFETY: the three arrays were checked above to be C-contiguous with these element counts (x and
            // out n, grad_out n/2) and this dtype, aligned; out is writeable and shares no byte with x or
            // grad_out; the calling frame keeps them alive for the call.
            let (x, g, y) = unsafe {
                (
                    core::slice::from_raw_parts(ptrs.0 as *const T, n),
                    core::slice::from_raw_parts(ptrs.1 as *const T, n / 2),
                    core::slice::from_raw_parts_mut(ptrs.2 as *mut T, n),
                )
            };
            fastact_core::gated::glu_grad_rows(gate, p, h, x, g, y)
        }
        let ptrs = (x_ptr, g_ptr, y_ptr);
        if wide {
            typed::<f64>(gate, [p0, p1], h, n, ptrs)
        } else {
            typed::<f32>(gate, [p0, p1], h, n, ptrs)
        }
    };
    detached_if_large(py, n, run).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(true)
}

/// maxout over consecutive groups of `pieces` along the last axis (`fastact_core::maxout`): mode 0 writes the
/// maxima of `x` (shape (..., m·pieces)) into `out` (shape (..., m)); mode 1 routes `grad_out` (shape (..., m))
/// to each group's first maximum in `out` (x's shape). All C-contiguous, aligned, native float32 or float64 of
/// one dtype, `out` writeable and sharing no memory with the others; for anything else it returns False and
/// touches nothing (the Python layer then works with NumPy, giving the same bits).
#[pyfunction]
#[pyo3(signature = (mode, pieces, x, grad_out, out))]
fn maxout_groups<'py>(
    py: Python<'py>,
    mode: u8,
    pieces: usize,
    x: &Bound<'py, PyUntypedArray>,
    grad_out: Option<&Bound<'py, PyUntypedArray>>,
    out: &Bound<'py, PyUntypedArray>,
) -> PyResult<bool> {
    let dtype = usable(x);
    let operands_ok = matches!(dtype, Some(Dtype::F32 | Dtype::F64))
        && usable(out) == dtype
        && grad_out.is_none_or(|g| usable(g) == dtype && g.is_c_contiguous())
        && x.is_c_contiguous()
        && out.is_c_contiguous()
        && unwritable(out).is_none();
    let Some((&width, lead)) = x.shape().split_last() else {
        return Ok(false);
    };
    if !operands_ok || pieces == 0 || width % pieces != 0 {
        return Ok(false);
    }
    let reduced: Vec<usize> = lead.iter().copied().chain([width / pieces]).collect();
    let shapes_ok = match (mode, grad_out) {
        (0, None) => out.shape() == reduced.as_slice(),
        (1, Some(g)) => g.shape() == reduced.as_slice() && out.shape() == x.shape(),
        _ => false,
    };
    if !shapes_ok || !disjoint(x, out) || !grad_out.is_none_or(|g| disjoint(g, out)) {
        return Ok(false);
    }
    let (n, m) = (x.len(), out.len());
    let ptrs = (
        data_ptr(x) as usize,
        grad_out.map_or(0, |g| data_ptr(g) as usize),
        data_ptr(out) as usize,
    );
    let wide = dtype == Some(Dtype::F64);
    let run = move || {
        fn typed<T: fastact_core::real::Elem + Send + Sync>(
            mode: u8,
            k: usize,
            n: usize,
            m: usize,
            ptrs: (usize, usize, usize),
        ) -> Result<(), fastact_core::Error> {
            // SAFETY: the arrays were checked above to be C-contiguous, aligned, of this dtype, with these
            // element counts (x n, out m, grad_out n/k where given); out is writeable and shares no byte with
            // the others; the calling frame keeps them alive for the call.
            unsafe {
                let x = core::slice::from_raw_parts(ptrs.0 as *const T, n);
                let out = core::slice::from_raw_parts_mut(ptrs.2 as *mut T, m);
                if mode == 0 {
                    fastact_core::maxout::maxout_groups(k, x, out)
                } else {
                    let g = core::slice::from_raw_parts(ptrs.1 as *const T, n / k);
                    fastact_core::maxout::maxout_grad_groups(k, x, g, out)
                }
            }
        }
        if wide {
            typed::<f64>(mode, pieces, n, m, ptrs)
        } else {
            typed::<f32>(mode, pieces, n, m, ptrs)
        }
    };
    detached_if_large(py, n, run).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(true)
}

/// Whether `s` can take `len` per-channel sums: a contiguous writeable 1-d array of float64 or of `dtype`
/// (x's: the sums rounded to it).
fn sums_target(s: &Bound<'_, PyUntypedArray>, dtype: Option<Dtype>, len: usize) -> bool {
    (usable(s) == Some(Dtype::F64) || usable(s) == dtype)
        && s.is_c_contiguous()
        && s.ndim() == 1
        && s.len() == len
        && unwritable(s).is_none()
}

/// Writes float64 sums to `ptr`: as they are (`exact`, a float64 array) or rounded to T as NumPy's astype
/// rounds (overflow to ±inf).
///
/// # Safety
/// `ptr` addresses `wide.len()` writeable elements of f64 (`exact`) or T that nothing else refers to.
unsafe fn store_sums<T: Elem>(wide: &[f64], ptr: usize, exact: bool) {
    if exact {
        // SAFETY: per the contract.
        unsafe { core::slice::from_raw_parts_mut(ptr as *mut f64, wide.len()) }
            .copy_from_slice(wide);
        return;
    }
    // SAFETY: per the contract.
    let sums = unsafe { core::slice::from_raw_parts_mut(ptr as *mut T, wide.len()) };
    for (s, &v) in sums.iter_mut().zip(wide) {
        *s = T::from_f64(v);
    }
}

/// PReLU with one slope per channel along `axis` (`fastact_core::prelu`): mode 0 writes prelu(x) into `out`;
/// mode 1 writes grad_out·prelu'(x) into `out` and the float64 weight gradient into `sums` (one per weight).
/// `weight` holds one slope, or one per channel (x.shape[axis]). x, grad_out and out C-contiguous, aligned,
/// native float32 or float64 of one dtype, weight contiguous of that dtype, sums contiguous float64 (or x's
/// dtype: the float64 sums rounded to it, overflow to ±inf, as NumPy's astype), out and
/// sums writeable and sharing no memory with the others; for anything else it returns False and touches
/// nothing (the Python layer then takes its per-channel path).
#[pyfunction]
#[pyo3(signature = (mode, axis, x, weight, grad_out, out, sums))]
#[allow(clippy::too_many_arguments)]
fn prelu_channels<'py>(
    py: Python<'py>,
    mode: u8,
    axis: usize,
    x: &Bound<'py, PyUntypedArray>,
    weight: &Bound<'py, PyUntypedArray>,
    grad_out: Option<&Bound<'py, PyUntypedArray>>,
    out: &Bound<'py, PyUntypedArray>,
    sums: Option<&Bound<'py, PyUntypedArray>>,
) -> PyResult<bool> {
    prelu_pass(py, mode, axis, x, weight, grad_out, out, sums, false)
}

/// `prelu_channels`; `new_outputs` says that the caller has just allocated `out` like x (and `sums` of x's
/// dtype and the weight's length), so that the checks on them hold by construction.
#[allow(clippy::too_many_arguments)]
fn prelu_pass<'py>(
    py: Python<'py>,
    mode: u8,
    axis: usize,
    x: &Bound<'py, PyUntypedArray>,
    weight: &Bound<'py, PyUntypedArray>,
    grad_out: Option<&Bound<'py, PyUntypedArray>>,
    out: &Bound<'py, PyUntypedArray>,
    sums: Option<&Bound<'py, PyUntypedArray>>,
    new_outputs: bool,
) -> PyResult<bool> {
    let dtype = usable(x);
    let shape = x.shape();
    let contiguous = |a: &Bound<'py, PyUntypedArray>| a.is_c_contiguous() && a.ndim() == 1;
    let out_ok = new_outputs
        || (usable(out) == dtype
            && out.is_c_contiguous()
            && out.shape() == shape
            && unwritable(out).is_none()
            && disjoint(x, out)
            && disjoint(weight, out));
    let operands_ok = matches!(dtype, Some(Dtype::F32 | Dtype::F64))
        && axis < shape.len()
        && x.is_c_contiguous()
        && out_ok
        && usable(weight) == dtype
        && contiguous(weight)
        && (weight.len() == 1 || weight.len() == shape[axis]);
    let grad_ok = match (mode, grad_out, sums) {
        (0, None, None) => true,
        (1, Some(g), Some(s)) => {
            usable(g) == dtype
                && g.is_c_contiguous()
                && g.shape() == shape
                && (new_outputs
                    || (disjoint(g, out)
                        && sums_target(s, dtype, weight.len())
                        && [x, weight, g, out].iter().all(|a| disjoint(a, s))))
        }
        _ => false,
    };
    if !operands_ok || !grad_ok {
        return Ok(false);
    }
    let n = x.len();
    let dims = if weight.len() == 1 {
        Dims {
            outer: 1,
            channels: 1,
            inner: n,
        }
    } else {
        Dims::around(shape, axis)
    };
    let ptrs = [x, weight, out]
        .map(|a| data_ptr(a) as usize)
        .into_iter()
        .chain([grad_out, sums].map(|a| a.map_or(0, |a| data_ptr(a) as usize)))
        .collect::<Vec<_>>();
    let wide = dtype == Some(Dtype::F64);
    let exact = sums.is_some_and(|s| usable(s) == Some(Dtype::F64));
    let run = move || {
        fn typed<T: Elem + Send + Sync>(
            dims: Dims,
            n: usize,
            ptrs: &[usize],
            exact: bool,
        ) -> Result<(), fastact_core::Error> {
            // SAFETY: the arrays were checked above to be C-contiguous, aligned, of this dtype, with these
            // element counts (x, out and grad_out n, weight and sums dims.channels); out and sums are
            // writeable and share no byte with any other operand; the calling frame keeps them alive.
            unsafe {
                let x = core::slice::from_raw_parts(ptrs[0] as *const T, n);
                let w = core::slice::from_raw_parts(ptrs[1] as *const T, dims.channels);
                let out = core::slice::from_raw_parts_mut(ptrs[2] as *mut T, n);
                if ptrs[3] == 0 {
                    fastact_core::channels::prelu(dims, w, x, out)
                } else {
                    let g = core::slice::from_raw_parts(ptrs[3] as *const T, n);
                    let mut wide_sums = vec![0.0; dims.channels];
                    fastact_core::channels::prelu_grad(dims, w, x, g, out, &mut wide_sums)?;
                    store_sums::<T>(&wide_sums, ptrs[4], exact);
                    Ok(())
                }
            }
        }
        if wide {
            typed::<f64>(dims, n, &ptrs, exact)
        } else {
            typed::<f32>(dims, n, &ptrs, exact)
        }
    };
    detached_if_large(py, n, run).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(true)
}

/// `sums[c]` = the sum over everything but `axis` of x's channel c (`fastact_core::channels::channel_sums`:
/// float64, compensated for float64 input, in an order fixed by the shape, so the same for any thread
/// count), rounded to sums' dtype: float64, or x's. x C-contiguous, aligned, native float32 or float64;
/// sums contiguous, writeable, of x.shape[axis] elements, sharing no memory with x. False (nothing
/// written) for anything else.
#[pyfunction]
fn channel_sums<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyUntypedArray>,
    axis: usize,
    sums: &Bound<'py, PyUntypedArray>,
) -> PyResult<bool> {
    let dtype = usable(x);
    let shape = x.shape();
    let ok = matches!(dtype, Some(Dtype::F32 | Dtype::F64))
        && axis < shape.len()
        && x.is_c_contiguous()
        && sums_target(sums, dtype, shape[axis])
        && disjoint(x, sums);
    if !ok {
        return Ok(false);
    }
    let dims = Dims::around(shape, axis);
    let (n, wide, exact) = (
        x.len(),
        dtype == Some(Dtype::F64),
        usable(sums) == Some(Dtype::F64),
    );
    let (x_ptr, s_ptr) = (data_ptr(x) as usize, data_ptr(sums) as usize);
    let run = move || {
        fn typed<T: Elem + Send + Sync>(
            dims: Dims,
            n: usize,
            (x_ptr, s_ptr): (usize, usize),
            exact: bool,
        ) -> Result<(), fastact_core::Error> {
            let mut wide_sums = vec![0.0; dims.channels];
            // SAFETY: x was checked above to be C-contiguous, aligned, of this dtype, with n elements; the
            // calling frame keeps it alive for the call.
            let x = unsafe { core::slice::from_raw_parts(x_ptr as *const T, n) };
            fastact_core::channels::channel_sums(dims, x, &mut wide_sums)?;
            // SAFETY: sums was checked (`sums_target`) to be contiguous and writeable, of dims.channels
            // elements of float64 (exact) or T, sharing no byte with x.
            unsafe { store_sums::<T>(&wide_sums, s_ptr, exact) };
            Ok(())
        }
        if wide {
            typed::<f64>(dims, n, (x_ptr, s_ptr), exact)
        } else {
            typed::<f32>(dims, n, (x_ptr, s_ptr), exact)
        }
    };
    detached_if_large(py, n, run).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(true)
}

/// The kernel table: (name, parameters, cost, promote, from_output, (ulp f32 fwd, f32 grad, f64 fwd, f64 grad)).
#[pyfunction]
fn kernels(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyTuple>>> {
    KERNELS
        .iter()
        .map(|k| (k.name, k.params, k.cost, k.promote, k.from_output, k.ulp).into_pyobject(py))
        .collect()
}

/// The SIMD level kernels run with: "avx512", "avx2", or "sse2"/"neon".
#[pyfunction]
fn simd_level() -> &'static str {
    simd::active().name()
}

/// The best SIMD level this CPU supports.
#[pyfunction]
fn best_simd_level() -> &'static str {
    simd::Isa::detect().name()
}

/// Switch SIMD level (clamped to what the CPU has); returns the level now in use.
#[pyfunction]
fn set_simd_level(name: &str) -> PyResult<&'static str> {
    let isa = simd::Isa::parse(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown SIMD level {name:?}; expected 'portable', 'avx2' or 'avx512'"
        ))
    })?;
    Ok(simd::set_active(isa).name())
}

#[pyfunction]
fn get_num_threads() -> usize {
    parallel::num_threads()
}

/// Set the number of threads large calls use; 0 restores the default.
#[pyfunction]
fn set_num_threads(n: usize) {
    parallel::set_num_threads(n)
}

#[pymodule]
fn _fastact(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(apply, m)?)?;
    m.add_function(wrap_pyfunction!(apply_axis, m)?)?;
    m.add_function(wrap_pyfunction!(plain::axis_plain, m)?)?;
    m.add_function(wrap_pyfunction!(apply_bias, m)?)?;
    m.add_function(wrap_pyfunction!(glu_grad_rows, m)?)?;
    m.add_function(wrap_pyfunction!(maxout_groups, m)?)?;
    m.add_function(wrap_pyfunction!(plain::maxout_plain, m)?)?;
    m.add_function(wrap_pyfunction!(prelu_channels, m)?)?;
    m.add_function(wrap_pyfunction!(plain::prelu_plain, m)?)?;
    m.add_function(wrap_pyfunction!(plain::crelu_plain, m)?)?;
    m.add_function(wrap_pyfunction!(plain::glu_plain, m)?)?;
    m.add_function(wrap_pyfunction!(plain::glu_grad_plain, m)?)?;
    m.add_function(wrap_pyfunction!(plain::bias_act_plain, m)?)?;
    m.add_function(wrap_pyfunction!(channel_sums, m)?)?;
    m.add_function(wrap_pyfunction!(kernels, m)?)?;
    m.add_function(wrap_pyfunction!(simd_level, m)?)?;
    m.add_function(wrap_pyfunction!(best_simd_level, m)?)?;
    m.add_function(wrap_pyfunction!(set_simd_level, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add("DETACH_MIN_ELEMENTS", DETACH_MIN_ELEMENTS)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Small;

    #[test]
    fn small_lists_behave_as_vectors() {
        for len in [0usize, 1, 7, 8, 9, 20] {
            let want: Vec<isize> = (0..len as isize).map(|i| 3 * i - 5).collect();
            let mut got: Small<isize> = want.iter().copied().collect();
            assert_eq!(got.as_slice(), want.as_slice(), "{len} entries");
            assert_eq!(
                matches!(got, Small::Inline(..)),
                len <= 8,
                "{len} entries inline"
            );
            let mut want = want;
            for i in [len / 2, 0] {
                if i < want.len() {
                    assert_eq!(got.remove(i), want.remove(i));
                    assert_eq!(&*got, want.as_slice());
                }
            }
            got.iter_mut().for_each(|v| *v += 1);
            assert_eq!(Small::from(&*got).as_slice(), &*got);
        }
    }
}
