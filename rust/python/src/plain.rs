//! The common calls, straight from the public functions' arguments.
//!
//! Each entry takes what the Python wrapper was given, as it was given, and computes only the plainest form
//! of the call: exact `numpy.ndarray` operands (a subclass such as a masked array keeps the Python path) of
//! an aligned native dtype and layout the kernels take as they are, an exact `int` axis, a name found in a
//! table the Python layer built from its declarative catalogue. It returns `None`, writing nothing the
//! caller sees, for anything else, and the Python layer then converts the operands or raises its precise
//! error. A 16-element call so costs about as much as `np.tanh`'s (`benches/bench_small_calls.py`).

use super::{
    axis_rows, data_ptr, detached_if_large, element_strides, exact_ndarray, glu_grad_into,
    maxout_groups, new_result, prelu_pass, usable, Dtype, Job, Small,
};
use fastact_core::real::Elem;
use fastact_core::{Call, KernelId, Mode};
use numpy::npyffi::PY_ARRAY_API;
use numpy::{PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyString, PyTuple};

/// The kernel call `table` (a dict of name -> (kernel index, p0, p1) that the Python layer builds from its
/// declarative tables: glu's gates, the activations with their default parameters) holds for `name`, in
/// `mode`; None where `name` is not exactly a str key of it.
fn table_call(
    table: &Bound<'_, PyDict>,
    name: &Bound<'_, PyAny>,
    mode: Mode,
) -> PyResult<Option<Call>> {
    if !name.is_exact_instance_of::<PyString>() {
        return Ok(None);
    }
    let Some(entry) = table.get_item(name)? else {
        return Ok(None);
    };
    let (kernel, p0, p1): (usize, f64, f64) = entry.extract()?;
    let kernel = KernelId::from_index(kernel)
        .ok_or_else(|| PyValueError::new_err(format!("unknown kernel index {kernel}")))?;
    Call::new(kernel, mode, [p0, p1])
        .map(Some)
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// An exact ndarray of float32 or float64: the array and whether it is float64.
fn plain_float<'py>(a: &Bound<'py, PyAny>) -> Option<(Bound<'py, PyUntypedArray>, bool)> {
    let a = exact_ndarray(a)?;
    let wide = match usable(&a) {
        Some(Dtype::F32) => false,
        Some(Dtype::F64) => true,
        _ => return None,
    };
    Some((a, wide))
}

/// `axis` as an index into `ndim` dimensions, from an exact int in [-ndim, ndim).
fn plain_axis(axis: &Bound<'_, PyAny>, ndim: usize) -> Option<usize> {
    let axis = exact_int(axis)?;
    let ndim = ndim as isize;
    (-ndim..ndim)
        .contains(&axis)
        .then(|| axis.rem_euclid(ndim) as usize)
}

/// `apply_axis` for the public functions' common call, straight from their arguments: operands that are
/// exactly `numpy.ndarray` (or None), an `axis` that is exactly an `int` within x's dimensions (negative
/// counts from the end). Returns None, touching nothing, for any call `apply_axis` would refuse or that is
/// not of that form, and the Python layer then normalises it or raises the precise error (as `apply` does
/// for the elementwise functions). A fresh result of a reduction to 0 dimensions is returned as a NumPy
/// scalar, as NumPy's reductions return it.
#[pyfunction]
#[pyo3(signature = (op, mode, x, grad_out, out, axis, mask=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn axis_plain<'py>(
    py: Python<'py>,
    op: u8,
    mode: u8,
    x: &Bound<'py, PyAny>,
    grad_out: Option<&Bound<'py, PyAny>>,
    out: Option<&Bound<'py, PyAny>>,
    axis: &Bound<'py, PyAny>,
    mask: Option<&Bound<'py, PyAny>>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(x) = exact_ndarray(x) else {
        return Ok(None);
    };
    let operand = |a: Option<&Bound<'py, PyAny>>| match a {
        None => Some(None),
        Some(a) => exact_ndarray(a).map(Some),
    };
    let (Some(grad_out), Some(out), Some(mask)) = (operand(grad_out), operand(out), operand(mask))
    else {
        return Ok(None);
    };
    let Some(axis) = exact_int(axis) else {
        return Ok(None);
    };
    let ndim = x.ndim() as isize;
    if axis < -ndim || axis >= ndim {
        return Ok(None);
    }
    let axis = axis.rem_euclid(ndim.max(1)) as usize;
    let rows = axis_rows(
        py,
        op,
        mode,
        &x,
        grad_out.as_ref(),
        out.as_ref(),
        axis,
        mask.as_ref(),
    )?;
    let Ok(result) = rows else {
        return Ok(None);
    };
    if out.is_some() || result.ndim() > 0 {
        return Ok(Some(result.into_any()));
    }
    // SAFETY: PyArray_Return steals the reference we pass and returns a new one (a NumPy scalar for 0-d).
    let raw = unsafe { PY_ARRAY_API.PyArray_Return(py, result.into_ptr().cast()) };
    // SAFETY: an owned reference or NULL with an exception set.
    Ok(Some(unsafe { Bound::from_owned_ptr_or_err(py, raw)? }))
}

/// maxout's common call straight from the public function's arguments (as `axis_plain` for the softmax
/// family): `x` (and `grad_out` for mode 1) exactly `numpy.ndarray`, `pieces` an exact positive int, `axis`
/// the last axis as an exact int. Allocates the result and runs `maxout_groups`; None, nothing allocated for
/// the caller, for anything else (the Python layer then handles it).
#[pyfunction]
#[pyo3(signature = (mode, pieces, x, grad_out, axis))]
pub(crate) fn maxout_plain<'py>(
    py: Python<'py>,
    mode: u8,
    pieces: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    grad_out: Option<&Bound<'py, PyAny>>,
    axis: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyUntypedArray>>> {
    let Some(x) = exact_ndarray(x) else {
        return Ok(None);
    };
    let grad_out = match grad_out.map(exact_ndarray) {
        Some(None) => return Ok(None),
        g => g.flatten(),
    };
    let (Some(pieces), Some(axis)) = (exact_int(pieces), exact_int(axis)) else {
        return Ok(None);
    };
    let ndim = x.ndim() as isize;
    let (Some(&width), Ok(pieces)) = (x.shape().last(), usize::try_from(pieces)) else {
        return Ok(None);
    };
    if (axis != -1 && axis != ndim - 1) || pieces == 0 || width % pieces != 0 {
        return Ok(None);
    }
    let wide = match usable(&x) {
        Some(Dtype::F32) => false,
        Some(Dtype::F64) => true,
        _ => return Ok(None),
    };
    let mut shape = Small::from(x.shape());
    if mode == 0 {
        shape[x.ndim() - 1] = width / pieces;
    }
    let out = new_result(py, &x, &shape, wide)?;
    Ok(maxout_groups(py, mode, pieces, &x, grad_out.as_ref(), &out)?.then_some(out))
}

/// prelu's and prelu_grad's common call straight from the public functions' arguments (as `axis_plain`):
/// `x`, `weight` (and `grad_out`, `out` where given) exactly `numpy.ndarray`, `axis` an exact int within x's
/// dimensions. Mode 0 returns prelu(x) (in `out`, or a new array); mode 1 (no `out`) returns the tuple
/// (grad_x, weight gradient in x's dtype). None, nothing written, for anything `prelu_channels` declines or
/// that is not of that form.
#[pyfunction]
#[pyo3(signature = (mode, x, weight, grad_out, out, axis))]
pub(crate) fn prelu_plain<'py>(
    py: Python<'py>,
    mode: u8,
    x: &Bound<'py, PyAny>,
    weight: &Bound<'py, PyAny>,
    grad_out: Option<&Bound<'py, PyAny>>,
    out: Option<&Bound<'py, PyAny>>,
    axis: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let (Some(x), Some(weight), Some(axis)) =
        (exact_ndarray(x), exact_ndarray(weight), exact_int(axis))
    else {
        return Ok(None);
    };
    let operand = |a: Option<&Bound<'py, PyAny>>| match a {
        None => Some(None),
        Some(a) => exact_ndarray(a).map(Some),
    };
    let (Some(grad_out), Some(out)) = (operand(grad_out), operand(out)) else {
        return Ok(None);
    };
    let ndim = x.ndim() as isize;
    if axis < -ndim || axis >= ndim || (mode == 1 && out.is_some()) {
        return Ok(None);
    }
    let axis = axis.rem_euclid(ndim) as usize;
    let wide = match usable(&x) {
        Some(Dtype::F32) => false,
        Some(Dtype::F64) => true,
        _ => return Ok(None),
    };
    let new_out = out.is_none();
    let target = match out {
        Some(out) => out,
        None => new_result(py, &x, x.shape(), wide)?,
    };
    if mode == 0 {
        let done = prelu_pass(py, 0, axis, &x, &weight, None, &target, None, new_out)?;
        return Ok(done.then(|| target.into_any()));
    }
    // The weight gradient in x's dtype (the float64 sums rounded once, natively); mode 1 has no out=.
    let sums = new_result(py, &x, &[weight.len()], wide)?;
    let (grad_out, sums_ref) = (grad_out.as_ref(), Some(&sums));
    if !prelu_pass(py, 1, axis, &x, &weight, grad_out, &target, sums_ref, true)? {
        return Ok(None);
    }
    Ok(Some(PyTuple::new(py, [target, sums])?.into_any()))
}

/// crelu's and crelu_grad's common small call (`fastact_core::crelu`, up to `crelu::SMALL` elements of x)
/// straight from the public functions' arguments: `x` (and `grad_out` for mode 1) exactly `numpy.ndarray`,
/// C-contiguous, aligned, native float32/float64 of one dtype, `grad_out` of crelu's output shape, `axis` an
/// exact int within x's dimensions. Returns a new array: crelu(x) (twice x's length along axis), or the
/// gradient (x's shape). None for anything else (larger arrays included: the general path splits them across
/// threads).
#[pyfunction]
#[pyo3(signature = (mode, x, grad_out, axis))]
pub(crate) fn crelu_plain<'py>(
    py: Python<'py>,
    mode: u8,
    x: &Bound<'py, PyAny>,
    grad_out: Option<&Bound<'py, PyAny>>,
    axis: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyUntypedArray>>> {
    let (Some(x), Some(axis)) = (exact_ndarray(x), exact_int(axis)) else {
        return Ok(None);
    };
    let grad_out = match (mode, grad_out.map(exact_ndarray)) {
        (0, None) => None,
        (1, Some(Some(g))) => Some(g),
        _ => return Ok(None),
    };
    let ndim = x.ndim() as isize;
    let dtype = usable(&x);
    let wide = match dtype {
        Some(Dtype::F32) => false,
        Some(Dtype::F64) => true,
        _ => return Ok(None),
    };
    if axis < -ndim || axis >= ndim || !x.is_c_contiguous() || x.len() > fastact_core::crelu::SMALL
    {
        return Ok(None);
    }
    let axis = axis.rem_euclid(ndim) as usize;
    let mut doubled = Small::from(x.shape());
    doubled[axis] *= 2;
    if let Some(g) = &grad_out {
        if usable(g) != dtype || !g.is_c_contiguous() || g.shape() != doubled.as_slice() {
            return Ok(None);
        }
    }
    let block: usize = x.shape()[axis..].iter().product();
    let n = x.len();
    if block == 0 {
        return Ok(None);
    }
    let out = new_result(py, &x, if mode == 0 { &doubled } else { x.shape() }, wide)?;
    fn typed<T: Elem>(
        block: usize,
        n: usize,
        x: &Bound<'_, PyUntypedArray>,
        g: Option<&Bound<'_, PyUntypedArray>>,
        out: &Bound<'_, PyUntypedArray>,
    ) -> Result<(), fastact_core::Error> {
        // SAFETY: x (and g) were checked to be C-contiguous, aligned arrays of T with n (2n) elements; `out`
        // is a new C-contiguous array of T with 2n (n) elements, so it shares no memory with them; the
        // calling frame keeps all three alive, and the GIL is held throughout (no other Python code runs).
        unsafe {
            let xs = core::slice::from_raw_parts(data_ptr(x) as *const T, n);
            match g {
                None => {
                    let ys = core::slice::from_raw_parts_mut(data_ptr(out) as *mut T, 2 * n);
                    fastact_core::crelu::crelu(block, xs, ys)
                }
                Some(g) => {
                    let gs = core::slice::from_raw_parts(data_ptr(g) as *const T, 2 * n);
                    let ys = core::slice::from_raw_parts_mut(data_ptr(out) as *mut T, n);
                    fastact_core::crelu::crelu_grad(block, xs, gs, ys)
                }
            }
        }
    }
    let done = if wide {
        typed::<f64>(block, n, &x, grad_out.as_ref(), &out)
    } else {
        typed::<f32>(block, n, &x, grad_out.as_ref(), &out)
    };
    Ok(done.is_ok().then_some(out))
}

/// glu's common call: `x` an exact C-contiguous ndarray of float32/float64 of even length along `axis`, the
/// last axis as an exact int, `gate` a key of `gates` (gate name -> (kernel, p0, p1)). Computes a·gate(b) for
/// the halves [a | b] of that axis as one forward pass weighted by a, as `apply` would on the two half
/// views, into a new array. None for anything else.
#[pyfunction]
pub(crate) fn glu_plain<'py>(
    py: Python<'py>,
    gates: &Bound<'py, PyDict>,
    gate: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    axis: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyUntypedArray>>> {
    let Some((x, wide, call)) = glu_operands(gates, gate, x, axis)? else {
        return Ok(None);
    };
    let ndim = x.ndim();
    let width = x.shape()[ndim - 1];
    if width % 2 != 0 {
        return Ok(None);
    }
    let dtype = if wide { Dtype::F64 } else { Dtype::F32 };
    let h = width / 2;
    let mut shape = Small::from(x.shape());
    shape[ndim - 1] = h;
    let out = new_result(py, &x, &shape, wide)?;
    let strides = element_strides(&x);
    let a = data_ptr(&x) as *const u8;
    // b starts h elements along the last axis after a: within x's buffer (h < width, or h = 0 and nothing is
    // read); wrapping_offset keeps the address arithmetic defined whatever the stride's sign.
    let step = strides[ndim - 1] * x.dtype().itemsize() as isize;
    let b = a.wrapping_offset(step * h as isize);
    let job = Job {
        call,
        dtype,
        x: (b, strides.clone()),
        g: Some((a, strides)),
        y: (data_ptr(&out), element_strides(&out)),
        shape,
        bias: None,
    };
    let total = job.shape.iter().product();
    // SAFETY: `x` and `out` stay referenced by this frame until the job returns; the two views describe x's
    // halves (in-shape offsets within its buffer), `out` is a new array of their shape and dtype, writeable
    // and disjoint from x.
    detached_if_large(py, total, move || unsafe { job.run() });
    Ok(Some(out))
}

/// `a` as an isize if its type is exactly `int` (not bool, not a NumPy integer) and it fits.
fn exact_int(a: &Bound<'_, PyAny>) -> Option<isize> {
    if a.is_exact_instance_of::<PyInt>() {
        a.extract::<isize>().ok()
    } else {
        None
    }
}

/// What glu's and glu_grad's entries take: `x` an exact C-contiguous float32/float64 ndarray with at least
/// one axis, `axis` its last as an exact int, `gate` a key of `gates`. (x, whether float64, the gate's
/// forward call), or None. C-contiguous only: a new result is C-ordered, which is then x's own order
/// (NumPy's "K"); other layouts take the Python path, which keeps theirs.
#[allow(clippy::type_complexity)]
fn glu_operands<'py>(
    gates: &Bound<'py, PyDict>,
    gate: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    axis: &Bound<'py, PyAny>,
) -> PyResult<Option<(Bound<'py, PyUntypedArray>, bool, Call)>> {
    let Some((x, wide)) = plain_float(x) else {
        return Ok(None);
    };
    let ndim = x.ndim();
    if ndim == 0 || plain_axis(axis, ndim) != Some(ndim - 1) || !x.is_c_contiguous() {
        return Ok(None);
    }
    Ok(table_call(gates, gate, Mode::Forward)?.map(|call| (x, wide, call)))
}

/// glu_grad's common call: `x` and `grad_out` exact C-contiguous ndarrays of one dtype (float32/float64),
/// `axis` the last axis as an exact int, `gate` a key of `gates` (gate name -> (kernel, p0, p1)). Returns a
/// new array of x's shape holding [g·gate(b) | (g·a)·gate'(b)], computed by `glu_grad_rows`; None for
/// anything else.
#[pyfunction]
pub(crate) fn glu_grad_plain<'py>(
    py: Python<'py>,
    gates: &Bound<'py, PyDict>,
    gate: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    grad_out: &Bound<'py, PyAny>,
    axis: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyUntypedArray>>> {
    let Some(grad_out) = exact_ndarray(grad_out) else {
        return Ok(None);
    };
    let Some((x, wide, call)) = glu_operands(gates, gate, x, axis)? else {
        return Ok(None);
    };
    let out = new_result(py, &x, x.shape(), wide)?;
    let done = glu_grad_into(py, call.kernel, call.params, &x, &grad_out, &out)?;
    Ok(done.then_some(out))
}

/// bias_act's and bias_act_grad's common call: `x`, `bias` (and `grad_out` for mode 1) exact ndarrays of one
/// dtype (float32/float64), `axis` an exact int within x's dimensions, `name` a key of `activations` (name ->
/// (kernel, p0, p1)). Mode 0 returns f(x + bias) in a new array like x; mode 1 (x C-contiguous) the tuple
/// (grad_x, grad_bias), grad_bias the per-channel sums of grad_x rounded to x's dtype, as
/// `channel_sums` forms them. None for anything else (what `Job::with_bias` refuses included).
#[pyfunction]
#[pyo3(signature = (mode, activations, name, x, bias, axis, grad_out=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn bias_act_plain<'py>(
    py: Python<'py>,
    mode: u8,
    activations: &Bound<'py, PyDict>,
    name: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    bias: &Bound<'py, PyAny>,
    axis: &Bound<'py, PyAny>,
    grad_out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let (Some((x, wide)), Some(bias)) = (plain_float(x), exact_ndarray(bias)) else {
        return Ok(None);
    };
    let Some(axis) = plain_axis(axis, x.ndim()) else {
        return Ok(None);
    };
    let (mode, grad_out) = match (mode, grad_out.map(exact_ndarray)) {
        (0, None) => (Mode::Forward, None),
        (1, Some(Some(g))) if x.is_c_contiguous() => (Mode::Derivative, Some(g)),
        _ => return Ok(None),
    };
    let Some(call) = table_call(activations, name, mode)? else {
        return Ok(None);
    };
    let out = new_result(py, &x, x.shape(), wide)?;
    let Ok(job) = Job::with_bias(call, &x, &bias, axis, grad_out.as_ref(), &out, true) else {
        return Ok(None);
    };
    // SAFETY: x, bias, grad_out and out, which `Job::with_bias` checked, are kept alive by this frame.
    detached_if_large(py, x.len(), move || unsafe { job.run() });
    if mode == Mode::Forward {
        return Ok(Some(out.into_any()));
    }
    let sums = new_result(py, &x, &[bias.len()], wide)?;
    if !super::channel_sums(py, &out, axis, &sums)? {
        return Ok(None);
    }
    Ok(Some(PyTuple::new(py, [out, sums])?.into_any()))
}
