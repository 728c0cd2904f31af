"""Along-an-axis activations: softmax, log_softmax, softmin, logsumexp, quiet_softmax, logmeanexp, sparsemax,
the GLU family, maxout, PReLU and CReLU.

The softmax family (where= masks included), logsumexp, logmeanexp and sparsemax run on the native lane
kernels (``rust/core/src/rows.rs``) when they are loaded; GLU runs its gate's elementwise kernel with the
product fused in (the backward a block of each row at a time, ``rust/core/src/gated.rs``), PReLU the native
leaky_relu kernel once per channel (a strided view each, no temporaries) and CReLU the native relu kernel on
the two halves of its output; maxout native over the last axis (``rust/core/src/maxout.rs``), else NumPy,
piece by piece (elementwise maxima of strided views). Every
function has a pure-NumPy reference in :data:`REFERENCE` (used by ``fastact.reference`` and as the
fallback), written for stability: max-shifted exponentials, and log1p of the sum without the max term, so a
dominant term keeps full relative accuracy (``logsumexp([0, -40])`` is 4.25e-18, not 0).

Conventions (PyTorch's): a row holding NaN, +inf, or only -inf gives NaN throughout for softmax,
log_softmax and softmin (softmin: -inf, or only +inf); logsumexp gives +inf when the row holds +inf (and no
NaN), -inf for a row of -inf or an empty axis. ``axis`` may be any axis, negative allowed; reductions over a
non-last axis read the array where it lies.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import numpy as np

from . import _interop, _kernels_numpy, _registry
from ._catalogue import AXIS_CATALOGUE
from ._spec import CHECKS, AxisActivation

__all__ = ["AXIS_FUNCTIONS", "GATES", "REFERENCE", "namespace"]

_OPS = {"softmax": 0, "log_softmax": 1, "softmin": 2, "logsumexp": 3, "quiet_softmax": 4, "logmeanexp": 5,
        "sparsemax": 6}
#: The row functions that take where= (a mask of the entries that take part).
_MASKED = ("softmax", "log_softmax", "softmin", "logsumexp")
#: The one-value-per-row functions (keepdims=, grad_out of the reduced shape, no _grad_from_output).
_REDUCING = ("logsumexp", "logmeanexp")
_FORWARD, _GRAD, _FROM_OUTPUT = 0, 1, 2
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


# ---------------------------------------------------------------------------------------------------------
# Operands
# ---------------------------------------------------------------------------------------------------------


def _float_input(value: Any, name: str, dtype: Any, function: str) -> tuple[np.ndarray, np.dtype, np.dtype]:
    """(array in its compute dtype, compute dtype, result dtype), as the elementwise functions do; ``dtype``
    (a dtype= argument, or None) overrides the input's."""
    if dtype is None and type(value) is np.ndarray and (value.dtype is _F32 or value.dtype is _F64) \
            and value.flags.aligned:
        return value, value.dtype, value.dtype
    xa = _registry._as_input(value, name)
    compute, result = _registry._compute_dtypes(xa.dtype)  # also rejects complex, object and strings
    if dtype is not None:
        compute, result = _registry.requested_dtypes(dtype, function)
        xa = _registry.cast_to(xa, result)
    if xa.dtype is not compute or not xa.flags.aligned:  # (np.require alone costs a microsecond)
        xa = np.require(xa, dtype=compute.newbyteorder("="), requirements="A")
    return xa, compute, result


def _axis(axis: Any, ndim: int, function: str) -> int:
    try:
        index = operator.index(axis)
    except TypeError:
        raise TypeError(f"{function}(): axis must be an integer, got {type(axis).__name__}") from None
    if ndim == 0:
        raise np.exceptions.AxisError(f"{function}() needs an array with at least one axis, got a 0-d input")
    if not -ndim <= index < ndim:
        raise np.exceptions.AxisError(index, ndim)
    return index % ndim


def _like(a: np.ndarray, b: Any, name: str, function: str, shape: tuple[int, ...] | None = None,
          cast: np.dtype | None = None) -> np.ndarray:
    """`b` as an array of `a`'s compute dtype and `shape` (default: a's); no broadcasting. With `cast` (the
    dtype= asked for), rounded to it first, as the input was."""
    ba = _registry._as_input(b, name)
    _registry._compute_dtypes(ba.dtype)  # rejects complex, object, strings
    if cast is not None:
        ba = _registry.cast_to(ba, cast)
    want = a.shape if shape is None else shape
    if ba.shape != want:
        raise ValueError(
            f"{function}(): {name} has shape {ba.shape} but {want} is expected; fastact does not broadcast"
        )
    if ba.dtype is a.dtype and ba.flags.aligned:
        return ba
    return np.require(ba, dtype=a.dtype.newbyteorder("="), requirements="A")


def _mask(where: Any, shape: tuple[int, ...], function: str) -> np.ndarray | None:
    """where= as a read-only boolean view of `shape` (NumPy broadcasting, no copy), or None."""
    if where is None:
        return None
    mask = np.asarray(where)
    if mask.dtype != np.bool_:
        raise TypeError(
            f"{function}(): where must be a boolean array (True = the entry takes part), got dtype {mask.dtype}; "
            "pass a comparison such as x > 0, or where.astype(bool)"
        )
    if mask.shape == shape:
        return mask  # (broadcast_to would cost ten microseconds for the same view; the kernels only read it)
    try:
        return np.broadcast_to(mask, shape)
    except ValueError:
        raise ValueError(
            f"{function}(): where has shape {mask.shape}, which does not broadcast to the input's shape {shape}"
        ) from None


def _finish(value: np.ndarray, out: np.ndarray | None, result: np.dtype) -> Any:
    """Deliver `value` (computed in the compute dtype) into `out` or as the result dtype."""
    if out is not None:
        if value is not out:
            np.copyto(out, value, casting="unsafe")
        return out
    if value.dtype != result:
        value = value.astype(result)
    return value[()] if value.ndim == 0 else value


def _direct_out(out: np.ndarray | None, compute: np.dtype, inputs: tuple[np.ndarray, ...],
                disjoint: bool = False) -> np.ndarray | None:
    """`out` itself when the native kernel may write it directly: compute dtype, aligned, native, no
    zero strides, and either disjoint from every input or the very same memory element for element (with
    ``disjoint``, only the former: for functions that write part of out before reading all of an input)."""
    if out is None or out.dtype != compute or not out.flags.aligned or not out.dtype.isnative:
        return None
    if any(s == 0 and n > 1 for s, n in zip(out.strides, out.shape)):
        return None
    for a in inputs:
        same = (a.__array_interface__["data"][0] == out.__array_interface__["data"][0]
                and a.strides == out.strides and a.shape == out.shape)
        if (disjoint or not same) and np.may_share_memory(a, out):
            return None
    return out


# ---------------------------------------------------------------------------------------------------------
# NumPy references for the softmax family
# ---------------------------------------------------------------------------------------------------------


def _shifted(
    x: np.ndarray, axis: int, sign: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(d, err, e, rest, max) along `axis` (keepdims): d + err = sign·x - max exactly (err 0 where not
    finite), e = exp(d)·(1 + err), rest = Σ e without one max term.

    The rounding error of d is applied to e, since exp turns an absolute error in d into a relative one in
    e (|d| ~ 700 would cost hundreds of ULP)."""
    z = x * sign if sign != 1.0 else x
    if z.shape[axis] == 0:
        m = np.full(z.shape[:axis] + (1,) + z.shape[axis + 1:], -np.inf, dtype=z.dtype)
        return z, z, z, np.zeros_like(m), m
    m = np.max(z, axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", over="ignore"):
        d, err = _kernels_numpy._two_sum(z, -m)  # err is 0 where d is not finite
        e = np.exp(d)
        e = e + e * err
        first = np.argmax(z, axis=axis, keepdims=True)
        e_rest = e.copy()
        np.put_along_axis(e_rest, first, 0.0, axis=axis)
        rest = np.sum(e_rest, axis=axis, keepdims=True)
    return d, err, e, rest, m


def _bad_rows(m: np.ndarray, d: np.ndarray, axis: int) -> np.ndarray:
    """Rows PyTorch answers with NaN: a NaN, a +inf maximum, or only -inf."""
    return np.isinf(m) | np.isnan(d).any(axis=axis, keepdims=True)


def _ref_softmax(x: np.ndarray, axis: int, sign: float = 1.0) -> np.ndarray:
    d, _, e, rest, m = _shifted(x, axis, sign)
    with np.errstate(invalid="ignore"):
        y = e / (1.0 + rest)
    return np.where(_bad_rows(m, d, axis), np.nan, y).astype(x.dtype)


def _ref_log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    d, err, _, rest, m = _shifted(x, axis, 1.0)
    with np.errstate(invalid="ignore"):
        y = (d - np.log1p(rest)) + err
    return np.where(_bad_rows(m, d, axis), np.nan, y).astype(x.dtype)


def _ref_logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    _, _, _, rest, m = _shifted(x, axis, 1.0)
    with np.errstate(invalid="ignore"):
        value = np.where(np.isinf(m), m, m + np.log1p(rest))
        value = np.where(np.isnan(x).any(axis=axis, keepdims=True), np.nan, value)
    return np.squeeze(value, axis=axis).astype(x.dtype)


def _ref_quiet_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """exp(x_i - m) / (exp(-m) + Σ exp(x_j - m)), m = max(max x, 0): the extra logit 0 keeps m finite for a
    row of -inf (which gives 0s); NaN or +inf in the row gives NaN."""
    if x.shape[axis] == 0:
        return x.copy()
    m = np.max(x, axis=axis, keepdims=True, initial=0.0)
    with np.errstate(invalid="ignore", over="ignore"):
        d, err = _kernels_numpy._two_sum(x, -m)
        e = np.exp(d)
        e = e + e * err
        y = e / (np.exp(-m) + np.sum(e, axis=axis, keepdims=True))
    bad = np.isinf(m) | np.isnan(x).any(axis=axis, keepdims=True)
    return np.where(bad, np.nan, y).astype(x.dtype)


def _ref_logmeanexp(x: np.ndarray, axis: int) -> np.ndarray:
    """m + log(s/n), s = Σ exp(x - m) <= n: log of the rounded s/n when s/n <= 1/2, else log1p((s - n)/n)
    with s - n = Σ expm1(x - m) (terms <= 0: nothing cancels; a row of equal values gives exactly that
    value); NaN for an empty axis. As rows.rs (logmeanexp)."""
    n = x.shape[axis]
    if n == 0:
        return np.full(x.shape[:axis] + x.shape[axis + 1:], np.nan, x.dtype)
    d, err, _, rest, m = _shifted(x, axis, 1.0)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        ratio = (1.0 + rest) / n
        em1 = np.expm1(d)
        em1 = em1 + err * (1.0 + em1)  # e^(d + err) - 1; err is 0 where d is not finite
        near = np.log1p(np.sum(em1, axis=axis, keepdims=True) / n)
        log_mean = np.where(ratio > 0.5, near, np.log(ratio))
        value = np.where(np.isinf(m), m, m + log_mean)
        value = np.where(np.isnan(x).any(axis=axis, keepdims=True), np.nan, value)
    return np.squeeze(value, axis=axis).astype(x.dtype)


def _ref_softmax_vjp(p: np.ndarray, g: np.ndarray, axis: int, sign: float) -> np.ndarray:
    p64, g64 = p.astype(np.float64), g.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        total = np.sum(g64 * p64, axis=axis, keepdims=True)
        return (sign * p64 * (g64 - total)).astype(p.dtype)


def _ref_log_softmax_vjp(p: np.ndarray, g: np.ndarray, axis: int) -> np.ndarray:
    g64 = g.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        return (g64 - p.astype(np.float64) * np.sum(g64, axis=axis, keepdims=True)).astype(p.dtype)


def _mask_fills(op: str, mode: int) -> tuple[float, float | None]:
    """What where= puts in place of the entries it leaves out: (in x, or y for the from-output derivatives;
    in the result, None for logsumexp's value). grad_out's left-out entries become 0. As mask_fills in
    rows.rs."""
    if mode == _FROM_OUTPUT:
        fill = -np.inf if op == "log_softmax" else 0.0
    else:
        fill = np.inf if op == "softmin" else -np.inf
    if mode != _FORWARD:
        return fill, 0.0
    return fill, (None if op in _REDUCING else -np.inf if op == "log_softmax" else 0.0)


def _reference(op: str, mode: int, x: np.ndarray, g: np.ndarray | None, axis: int,
               mask: np.ndarray | None = None) -> np.ndarray:
    """float32 is computed in float64 and rounded once, like the elementwise references. A mask replaces the
    entries it leaves out before (and sets their results after), as the native lanes do."""
    x64 = x.astype(np.float64)
    g64 = None if g is None else g.astype(np.float64)
    if mask is None:
        return _reference64(op, mode, x64, g64, axis).astype(x.dtype)
    fill, result_fill = _mask_fills(op, mode)
    x64 = np.where(mask, x64, fill)
    if g64 is not None and g64.shape == x64.shape:
        g64 = np.where(mask, g64, 0.0)
    value = _reference64(op, mode, x64, g64, axis)
    if result_fill is not None:
        value = np.where(mask, value, result_fill)
    return value.astype(x.dtype)


def _reference64(op: str, mode: int, x: np.ndarray, g: np.ndarray | None, axis: int) -> np.ndarray:
    sign = -1.0 if op == "softmin" else 1.0
    if mode == _FORWARD:
        if op == "logsumexp":
            return _ref_logsumexp(x, axis)
        if op == "logmeanexp":
            return _ref_logmeanexp(x, axis)
        if op == "quiet_softmax":
            return _ref_quiet_softmax(x, axis)
        if op == "sparsemax":
            return _sparsemax64(x, axis)
        return _ref_log_softmax(x, axis) if op == "log_softmax" else _ref_softmax(x, axis, sign)
    assert g is not None
    if op == "sparsemax":
        return _sparsemax_vjp64(_sparsemax64(x, axis) if mode == _GRAD else x, g, axis)
    if op == "quiet_softmax":
        p = _ref_quiet_softmax(x, axis) if mode == _GRAD else x
        return _ref_softmax_vjp(p, g, axis, 1.0)
    if op in _REDUCING:
        p = _ref_softmax(x, axis)
        with np.errstate(invalid="ignore", over="ignore"):
            return (p.astype(np.float64) * np.expand_dims(g, axis).astype(np.float64)).astype(x.dtype)
    if op == "log_softmax":
        p = _ref_softmax(x, axis) if mode == _GRAD else np.exp(x)
        return _ref_log_softmax_vjp(p, g, axis)
    p = _ref_softmax(x, axis, sign) if mode == _GRAD else x
    return _ref_softmax_vjp(p, g, axis, sign)


# ---------------------------------------------------------------------------------------------------------
# The softmax family and logsumexp
# ---------------------------------------------------------------------------------------------------------


def _plain_call(x: Any, axis: Any, dtype: Any) -> bool:
    """Whether a call is the common one that goes straight to a native kernel, which checks the rest itself
    (layout, the other operands, overlap) and declines what the full path must handle: a float32/float64
    ndarray, an int axis in range, no dtype=."""
    return (dtype is None and type(x) is np.ndarray and (x.dtype is _F32 or x.dtype is _F64)
            and type(axis) is int and -x.ndim <= axis < x.ndim)


def _row_call(op: str, mode: int, x: Any, grad_out: Any, axis: Any, keepdims: bool, out: Any, dtype: Any,
              function: str, native: bool, where: Any = None) -> Any:
    # (The public functions first offer the call to the native entry, `_plain_entry`.)
    if _interop.is_dask(x) or _interop.is_dask(grad_out) or _interop.is_dask(where):
        return _lazy_rows(op, mode, x, grad_out, axis, keepdims, out, dtype, function, native, where)
    xc, compute, result = _float_input(x, "x" if mode != _FROM_OUTPUT else "y", dtype, function)
    ax = _axis(axis, xc.ndim, function)
    mask = _mask(where, xc.shape, function)
    reduced = xc.shape[:ax] + xc.shape[ax + 1:]
    kept = xc.shape[:ax] + (1,) + xc.shape[ax + 1:]
    lse = op in _REDUCING
    gc = None
    if mode != _FORWARD:
        if grad_out is None:
            raise TypeError(f"{function}() needs grad_out (the Jacobian of {op} is not diagonal)")
        g_shape = (kept if keepdims else reduced) if lse else xc.shape
        gc = _like(xc, grad_out, "grad_out", function, g_shape, result if dtype is not None else None)
        if lse:
            gc = gc.reshape(reduced)
    if lse and mode == _FORWARD:
        out_shape = kept if keepdims else reduced
    else:
        out_shape = xc.shape
    _registry.check_out(out, out_shape, result, function)
    if not (native and _registry.NATIVE is not None):
        value = _reference(op, mode, xc, gc, ax, mask)
        if lse and mode == _FORWARD and keepdims:
            value = value.reshape(kept)
        return _finish(value, out, result)
    inputs = (xc,) if gc is None else (xc, gc)
    target = _direct_out(out, compute, inputs)
    if target is not None and mask is not None and np.may_share_memory(mask, target):
        target = None
    if target is None:  # x's memory order where the result has its shape, as the native kernel allocates
        target = np.empty_like(xc) if out_shape == xc.shape else np.empty(out_shape, dtype=compute)
    # keepdims: the kernel writes the reduced view of the kept array (dropping a unit axis is always a view).
    kernel_out = np.squeeze(target, axis=ax) if (lse and mode == _FORWARD and keepdims) else target
    _registry.NATIVE.apply_axis(_OPS[op], mode, xc, gc, kernel_out, ax, mask)
    return _finish(target, out, result)


def _lazy_rows(op: str, mode: int, x: Any, grad_out: Any, axis: Any, keepdims: bool, out: Any, dtype: Any,
               function: str, native: bool, where: Any = None) -> Any:
    """_row_call for dask arrays: a lazy dask array, the axis in one chunk (see _dask.py); a where= mask is
    broadcast to x's shape and chunked as x."""
    kwargs: dict[str, Any] = {"dtype": dtype}
    arrays: list[tuple[Any, str]] = [(x, "same")]
    if op in _REDUCING:
        kwargs["keepdims"] = keepdims
    if mode != _FORWARD:
        role = "const" if grad_out is None else "reduced" if op in _REDUCING and not keepdims else "same"
        arrays.append((grad_out, role))
    if where is not None:
        arrays.append((where, "where"))
    return _dask_call(function, native, arrays, axis, kwargs, out)


def _decline(*args: Any) -> None:
    return None


def _plain_entry(native: bool) -> Callable[..., Any]:
    """What the along-an-axis functions offer their call to first: the native module's `axis_plain`, which
    computes the common call (float32/float64 ndarrays, an int axis, where= None or a bool array of x's shape;
    no dtype= or keepdims) straight from the arguments and declines (None, nothing written) whatever
    `_row_call` must handle: another type, an unaligned or byte-swapped input, an out= to cast into or that
    overlaps an input, a grad_out of another dtype or shape. On 16 elements it costs 1.4x np.tanh, the full
    path 2-3x. The reference functions (and a missing native module) get a stand-in that always declines."""
    if native and _registry.NATIVE is not None:
        return _registry.NATIVE.axis_plain
    return _decline


def _make_row_functions(op: str, native: bool) -> dict[str, Callable[..., Any]]:
    if op in _MASKED:
        return _make_masked_row_functions(op, native)
    functions: dict[str, Callable[..., Any]] = {}
    plain, index = _plain_entry(native), _OPS[op]
    if op in _REDUCING:
        def forward(x: Any, axis: int = -1, *, keepdims: bool = False, out: Any = None, dtype: Any = None) -> Any:
            value = plain(index, _FORWARD, x, None, out, axis) if dtype is None and not keepdims else None
            if value is not None:
                return value
            return _row_call(op, _FORWARD, x, None, axis, keepdims, out, dtype, op, native)

        def grad(x: Any, grad_out: Any, axis: int = -1, *, keepdims: bool = False, out: Any = None,
                 dtype: Any = None) -> Any:
            value = plain(index, _GRAD, x, grad_out, out, axis) if dtype is None and not keepdims else None
            if value is not None:
                return value
            return _row_call(op, _GRAD, x, grad_out, axis, keepdims, out, dtype, f"{op}_grad", native)

        functions[op], functions[f"{op}_grad"] = forward, grad
    else:
        def forward(x: Any, axis: int = -1, *, out: Any = None, dtype: Any = None) -> Any:  # type: ignore[misc]
            value = plain(index, _FORWARD, x, None, out, axis) if dtype is None else None
            if value is not None:
                return value
            return _row_call(op, _FORWARD, x, None, axis, False, out, dtype, op, native)

        def grad(  # type: ignore[misc]
            x: Any, grad_out: Any, axis: int = -1, *, out: Any = None, dtype: Any = None
        ) -> Any:
            value = plain(index, _GRAD, x, grad_out, out, axis) if dtype is None else None
            if value is not None:
                return value
            return _row_call(op, _GRAD, x, grad_out, axis, False, out, dtype, f"{op}_grad", native)

        def from_output(y: Any, grad_out: Any, axis: int = -1, *, out: Any = None, dtype: Any = None) -> Any:
            value = plain(index, _FROM_OUTPUT, y, grad_out, out, axis) if dtype is None else None
            if value is not None:
                return value
            return _row_call(op, _FROM_OUTPUT, y, grad_out, axis, False, out, dtype, f"{op}_grad_from_output", native)

        functions[op], functions[f"{op}_grad"] = forward, grad
        functions[f"{op}_grad_from_output"] = from_output
    return functions


def _make_masked_row_functions(op: str, native: bool) -> dict[str, Callable[..., Any]]:
    """As _make_row_functions, with where= (None: every entry takes part)."""
    functions: dict[str, Callable[..., Any]] = {}
    plain, index = _plain_entry(native), _OPS[op]
    if op in _REDUCING:
        def forward(x: Any, axis: int = -1, *, keepdims: bool = False, where: Any = None, out: Any = None,
                    dtype: Any = None) -> Any:
            value = plain(index, _FORWARD, x, None, out, axis, where) if dtype is None and not keepdims else None
            if value is not None:
                return value
            return _row_call(op, _FORWARD, x, None, axis, keepdims, out, dtype, op, native, where)

        def grad(x: Any, grad_out: Any, axis: int = -1, *, keepdims: bool = False, where: Any = None,
                 out: Any = None, dtype: Any = None) -> Any:
            value = plain(index, _GRAD, x, grad_out, out, axis, where) if dtype is None and not keepdims else None
            if value is not None:
                return value
            return _row_call(op, _GRAD, x, grad_out, axis, keepdims, out, dtype, f"{op}_grad", native, where)

        functions[op], functions[f"{op}_grad"] = forward, grad
        return functions

    def forward_m(x: Any, axis: int = -1, *, where: Any = None, out: Any = None, dtype: Any = None) -> Any:
        value = plain(index, _FORWARD, x, None, out, axis, where) if dtype is None else None
        if value is not None:
            return value
        return _row_call(op, _FORWARD, x, None, axis, False, out, dtype, op, native, where)

    def grad_m(x: Any, grad_out: Any, axis: int = -1, *, where: Any = None, out: Any = None,
               dtype: Any = None) -> Any:
        value = plain(index, _GRAD, x, grad_out, out, axis, where) if dtype is None else None
        if value is not None:
            return value
        return _row_call(op, _GRAD, x, grad_out, axis, False, out, dtype, f"{op}_grad", native, where)

    def from_output_m(y: Any, grad_out: Any, axis: int = -1, *, where: Any = None, out: Any = None,
                      dtype: Any = None) -> Any:
        value = plain(index, _FROM_OUTPUT, y, grad_out, out, axis, where) if dtype is None else None
        if value is not None:
            return value
        return _row_call(op, _FROM_OUTPUT, y, grad_out, axis, False, out, dtype, f"{op}_grad_from_output",
                         native, where)

    functions[op], functions[f"{op}_grad"], functions[f"{op}_grad_from_output"] = forward_m, grad_m, from_output_m
    return functions


# ---------------------------------------------------------------------------------------------------------
# GLU family
# ---------------------------------------------------------------------------------------------------------

#: glu's gates: name -> (elementwise activation, its keyword arguments).
GATES: dict[str, tuple[str, dict[str, Any]]] = {
    "sigmoid": ("sigmoid", {}),
    "silu": ("silu", {}),
    "gelu": ("gelu", {"approximate": "none"}),
    "gelu_tanh": ("gelu", {"approximate": "tanh"}),
    "relu": ("relu", {}),
}


def _gate(gate: Any, function: str, grad: bool, native: bool) -> Callable[..., Any]:
    if not isinstance(gate, str) or gate not in GATES:
        raise ValueError(f"{function}(): gate={gate!r} is not allowed; expected one of {', '.join(map(repr, GATES))}")
    name, kwargs = GATES[gate]
    table = _registry.PUBLIC_FUNCTIONS if native else _registry.REFERENCE_FUNCTIONS
    fn = table[name][_GRAD if grad else _FORWARD]
    return lambda v, *args, **kw: fn(v, *args, **kwargs, **kw)


def _halves(xc: np.ndarray, axis: Any, function: str) -> tuple[int, np.ndarray, np.ndarray]:
    ax = _axis(axis, xc.ndim, function)
    size = xc.shape[ax]
    if size % 2:
        raise ValueError(f"{function}(): axis {ax} has odd size {size}; glu splits it into two equal halves")
    a, b = _split_in_two(xc, ax)
    return ax, a, b


def _split_in_two(a: np.ndarray, ax: int) -> tuple[np.ndarray, np.ndarray]:
    """The two halves of an even-sized axis, as views: np.split's result, in a tenth of its time."""
    half = a.shape[ax] // 2
    if ax == a.ndim - 1:
        return a[..., :half], a[..., half:]
    lead = (slice(None),) * ax
    return a[lead + (slice(None, half),)], a[lead + (slice(half, None),)]


def _fused_product(function: tuple[str, dict[str, Any]], mode: int, v: np.ndarray, w: np.ndarray,
                   out: np.ndarray | None) -> np.ndarray | None:
    """w·f(v) (mode 0) or w·f'(v) (mode 1) for f = (elementwise activation, its keyword arguments), in one
    native pass that rounds as f(v) then a product would (the kernels' grad_out product,
    with no NumPy warning for inf·0); None where the native module cannot take the operands as they are."""
    native = _registry.NATIVE
    if native is None:
        return None
    kernel, p0, p1 = _resolve(function)
    return native.apply(kernel, mode, v, w, out, p0, p1)


def _resolve(function: tuple[str, dict[str, Any]]) -> tuple[int, float, float]:
    """(kernel index, p0, p1) of an elementwise activation with its keyword arguments."""
    name, kwargs = function
    return _registry.RESOLVERS[name](**kwargs)


_IDENTITY: tuple[str, dict[str, Any]] = ("identity", {})
_RELU: tuple[str, dict[str, Any]] = ("relu", {})


#: gate name -> (kernel index, p0, p1): the table glu's native entries look the gate up in.
_GATE_KERNELS: dict[str, tuple[int, float, float]] = {gate: _resolve(function) for gate, function in GATES.items()}


def _make_glu(native: bool) -> dict[str, Callable[..., Any]]:
    use_native = native and _registry.NATIVE is not None
    native_module = _registry.NATIVE if use_native else None
    glu_plain = native_module.glu_plain if native_module is not None else None
    glu_grad_plain = native_module.glu_grad_plain if native_module is not None else None

    def glu(x: Any, axis: int = -1, *, gate: str = "sigmoid", out: Any = None, dtype: Any = None) -> Any:
        if use_native and out is None and dtype is None:
            # The common call (float ndarray, even last axis), a·gate(b) in one native pass, straight from
            # the arguments (None for anything else).
            value = glu_plain(_GATE_KERNELS, gate, x, axis)
            if value is not None:
                return value
        if _interop.is_dask(x):
            return _dask_call("glu", native, [(x, "same")], axis, {"gate": gate, "dtype": dtype}, out)
        xc, compute, result = _float_input(x, "x", dtype, "glu")
        gate_fn = _gate(gate, "glu", False, native)
        ax, a, b = _halves(xc, axis, "glu")
        _registry.check_out(out, a.shape, result, "glu")
        target = _direct_out(out, compute, (xc,)) if out is not None else None
        if native:  # a·gate(b) in one pass (no gate temporary, no second pass for the product)
            value = _fused_product(GATES[gate], _FORWARD, b, a, target)
            if value is not None:
                return _finish(value, out, result)
        value = gate_fn(b, out=target if target is not None else np.empty(a.shape, compute))
        with np.errstate(invalid="ignore", over="ignore"):
            np.multiply(value, a, out=value)
        return _finish(value, out, result)

    def glu_grad(x: Any, grad_out: Any, axis: int = -1, *, gate: str = "sigmoid", out: Any = None,
                 dtype: Any = None) -> Any:
        if use_native and out is None and dtype is None:  # the common call, as in glu
            value = glu_grad_plain(_GATE_KERNELS, gate, x, grad_out, axis)
            if value is not None:
                return value
        if _interop.is_dask(x) or _interop.is_dask(grad_out):
            arrays = [(x, "same"), (grad_out, "same")]
            return _dask_call("glu_grad", native, arrays, axis, {"gate": gate, "dtype": dtype}, out)
        xc, compute, result = _float_input(x, "x", dtype, "glu_grad")
        gate_fn = _gate(gate, "glu_grad", False, native)
        gate_grad = _gate(gate, "glu_grad", True, native)
        ax, a, b = _halves(xc, axis, "glu_grad")
        gc = _like(xc, grad_out, "grad_out", "glu_grad", a.shape, result if dtype is not None else None)
        _registry.check_out(out, xc.shape, result, "glu_grad")
        # Straight into out= where it shares no memory with x or grad_out (the halves are written one after
        # the other, so even out=x would overwrite a before the second half reads it).
        target = _direct_out(out, compute, (xc, gc), disjoint=True)
        value = target if target is not None else np.empty(xc.shape, compute)
        function = GATES[gate]
        if native and ax == xc.ndim - 1 and _registry.NATIVE is not None:
            # One pass a block at a time (rust/core/src/gated.rs) where the operands are C-contiguous rows.
            if _registry.NATIVE.glu_grad_rows(*_resolve(function), xc, gc, value):
                return _finish(value, out, result)
        grad_a, grad_b = _split_in_two(value, ax)
        # d/da = g·gate(b) and d/db = (g·a)·gate'(b), each product in the same native pass as its function.
        if (native and _fused_product(function, _FORWARD, b, gc, grad_a) is not None
                and _fused_product(_IDENTITY, _FORWARD, a, gc, grad_b) is not None
                and _fused_product(function, _GRAD, b, grad_b, grad_b) is not None):
            return _finish(value, out, result)
        with np.errstate(invalid="ignore", over="ignore"):
            gate_fn(b, out=grad_a)  # d/da = g·gate(b)
            np.multiply(grad_a, gc, out=grad_a)
            gate_grad(b, np.multiply(gc, a), out=grad_b)  # d/db = g·a·gate'(b)
        return _finish(value, out, result)

    return {"glu": glu, "glu_grad": glu_grad}


# ---------------------------------------------------------------------------------------------------------
# maxout and PReLU
# ---------------------------------------------------------------------------------------------------------


def _pieces(pieces: Any, size: int, ax: int, function: str) -> int:
    try:
        k = operator.index(pieces)
    except TypeError:
        raise TypeError(f"{function}(): pieces must be an integer, got {type(pieces).__name__}") from None
    if k < 1 or size % k:
        raise ValueError(f"{function}(): pieces={k} must be >= 1 and divide the size {size} of axis {ax}")
    return k


def _grouped(xc: np.ndarray, ax: int, k: int) -> np.ndarray:
    return xc.reshape(xc.shape[:ax] + (xc.shape[ax] // k, k) + xc.shape[ax + 1:])


#: Up to this many pieces maxout works piece by piece (k strided views, elementwise): NumPy's reductions
#: over a short axis are ~20x slower than that at k = 2 (benches/bench_gated.py); beyond it, over the axis.
_MAXOUT_PAIRWISE = 16


def _kept_where(keep: np.ndarray, v: np.ndarray) -> np.ndarray:
    """v where keep, +0.0 elsewhere, by a bit mask: bit for bit (NaN and inf kept, never the -0.0 or NaN
    of 0·v), and several times quicker than np.where."""
    ints = np.dtype(np.uint32 if v.dtype.itemsize == 4 else np.uint64)
    mask = keep.astype(ints)
    np.negative(mask, out=mask)
    return np.bitwise_and(v.view(ints), mask, out=mask).view(v.dtype)


def _pieces_of(groups: np.ndarray, ax: int) -> Callable[[int], np.ndarray]:
    """j -> the view of piece j of every group (groups from _grouped: the pieces on axis ax + 1)."""
    lead = (slice(None),) * (ax + 1)
    return lambda j: groups[lead + (j,)]


def _make_maxout(native: bool) -> dict[str, Callable[..., Any]]:
    def _native_groups(mode: int, k: int, xc: np.ndarray, gc: np.ndarray | None, ax: int, target: np.ndarray) -> bool:
        """The native kernel (rust/core/src/maxout.rs, same bits) where it takes the operands: groups along
        the last axis of C-contiguous arrays; False otherwise."""
        return (native and ax == xc.ndim - 1 and _registry.NATIVE is not None
                and _registry.NATIVE.maxout_groups(mode, k, xc, gc, target))

    use_native = native and _registry.NATIVE is not None

    def maxout(x: Any, pieces: int, axis: int = -1, *, out: Any = None, dtype: Any = None) -> Any:
        if use_native and dtype is None and out is None:
            # The common call (float ndarray, last axis, int pieces), straight to the native kernel, which
            # checks everything else itself and declines with None.
            value = _registry.NATIVE.maxout_plain(_FORWARD, pieces, x, None, axis)
            if value is not None:
                return value
        if _interop.is_dask(x):
            return _dask_call("maxout", native, [(x, "same")], axis, {"pieces": pieces, "dtype": dtype}, out)
        xc, _, result = _float_input(x, "x", dtype, "maxout")
        ax = _axis(axis, xc.ndim, "maxout")
        k = _pieces(pieces, xc.shape[ax], ax, "maxout")
        shape = xc.shape[:ax] + (xc.shape[ax] // k,) + xc.shape[ax + 1:]
        _registry.check_out(out, shape, result, "maxout")
        target = _direct_out(out, xc.dtype, (xc,))
        value = target if target is not None else np.empty(shape, xc.dtype)
        if xc.size and _native_groups(_FORWARD, k, xc, None, ax, value):
            return _finish(value, out, result)
        groups = _grouped(xc, ax, k)
        if 1 < k <= _MAXOUT_PAIRWISE and groups.size:
            piece = _pieces_of(groups, ax)
            np.maximum(piece(0), piece(1), out=value)
            for j in range(2, k):
                np.maximum(value, piece(j), out=value)
        elif groups.size:
            np.max(groups, axis=ax + 1, out=value)
        return _finish(value, out, result)

    def maxout_grad(x: Any, grad_out: Any, pieces: int, axis: int = -1, *, out: Any = None,
                    dtype: Any = None) -> Any:
        if use_native and dtype is None and out is None:  # the common call, as in maxout
            value = _registry.NATIVE.maxout_plain(_GRAD, pieces, x, grad_out, axis)
            if value is not None:
                return value
        if _interop.is_dask(x) or _interop.is_dask(grad_out):
            arrays = [(x, "same"), (grad_out, "same")]
            return _dask_call("maxout_grad", native, arrays, axis, {"pieces": pieces, "dtype": dtype}, out)
        xc, compute, result = _float_input(x, "x", dtype, "maxout_grad")
        ax = _axis(axis, xc.ndim, "maxout_grad")
        k = _pieces(pieces, xc.shape[ax], ax, "maxout_grad")
        shape = xc.shape[:ax] + (xc.shape[ax] // k,) + xc.shape[ax + 1:]
        gc = _like(xc, grad_out, "grad_out", "maxout_grad", shape, result if dtype is not None else None)
        _registry.check_out(out, xc.shape, result, "maxout_grad")
        target = _direct_out(out, compute, (xc, gc), disjoint=True)
        value = target if target is not None else np.empty(xc.shape, compute)
        if xc.size and _native_groups(_GRAD, k, xc, gc, ax, value):
            return _finish(value, out, result)
        groups = _grouped(xc, ax, k)
        if 1 < k <= _MAXOUT_PAIRWISE and groups.size:
            # The running maximum and where it was first reached, piece by piece: a later piece takes over
            # only if strictly greater, or NaN where the maximum so far is not (so the first NaN wins).
            # Arithmetic and bit masks throughout: NumPy's masked copies and np.where run 5x slower.
            piece = _pieces_of(groups, ax)
            best = piece(0).copy()
            first = np.zeros(shape, np.uint8)
            for j in range(1, k):
                xj = piece(j)
                take = np.less_equal(xj, best)
                take |= np.isnan(best)
                np.invert(take, out=take)  # xj > best, or xj NaN while best is not
                np.maximum(best, xj, out=best)  # NaN propagates: nothing takes over from a NaN
                np.maximum(first, take.view(np.uint8) * np.uint8(j), out=first)  # j exceeds every index so far
            gpiece = _pieces_of(_grouped(value, ax, k), ax)
            for j in range(k):
                gpiece(j)[...] = _kept_where(first == j, gc)
            return _finish(value, out, result)
        value = np.zeros(groups.shape, compute)
        if groups.size:
            # The first maximum of each group (a NaN counts as the maximum, as in torch.max) gets grad_out.
            first = np.argmax(groups, axis=ax + 1)
            np.put_along_axis(value, np.expand_dims(first, ax + 1), np.expand_dims(gc, ax + 1), axis=ax + 1)
        return _finish(value.reshape(xc.shape), out, result)

    return {"maxout": maxout, "maxout_grad": maxout_grad}


def _weight(xc: np.ndarray, weight: Any, axis: Any, function: str, cast: np.dtype | None) -> tuple[int, np.ndarray]:
    if xc.ndim == 0:
        raise np.exceptions.AxisError(f"{function}() needs an array with at least one axis, got a 0-d input")
    ax = _axis(axis, xc.ndim, function)
    w = _registry._as_input(weight, "weight")
    _registry._compute_dtypes(w.dtype)
    if cast is not None:  # dtype= given: rounded to it first, as the input was
        w = _registry.cast_to(w, cast)
    w = w.astype(xc.dtype).reshape(-1) if w.ndim <= 1 else w
    if w.ndim != 1 or w.size not in (1, xc.shape[ax]):
        raise ValueError(
            f"{function}(): weight must hold 1 value or one per channel ({xc.shape[ax]} along axis {ax}), "
            f"got shape {np.shape(weight)}"
        )
    shape = [1] * xc.ndim
    shape[ax] = w.size
    return ax, w.reshape(shape)


def _prelu_native(mode: int, xc: np.ndarray, gc: np.ndarray | None, w: np.ndarray, ax: int,
                  target: np.ndarray, sums: np.ndarray | None = None) -> bool:
    """PReLU natively: x if x > 0 else w_c·x, or its derivative times grad_out (and, given `sums`, the
    float64 weight gradient in the same pass). C-contiguous operands take one threaded pass; others one
    leaky_relu call per channel (a strided view each, no temporaries), without the sums. False if neither
    applies."""
    if _registry.NATIVE.prelu_channels(mode, ax, xc, w.reshape(-1), gc, target, sums):
        return True
    if sums is not None:
        return False
    kernel = _registry._KERNEL_INDEX["leaky_relu"]
    slopes = w.reshape(-1)
    for c, slope in enumerate(slopes):
        idx = (slice(None),) * ax + (slice(c, c + 1) if slopes.size > 1 else slice(None),)
        g = None if gc is None else gc[idx]
        if _registry.NATIVE.apply(kernel, mode, xc[idx], g, target[idx], float(slope), 0.0) is None:
            return False
    return True


def _prelu_weight_sums(xc: np.ndarray, gc: np.ndarray, ax: int, size: int) -> np.ndarray:
    """d/dweight in float64, not yet rounded: for each channel c, the sum over everything but the channel axis
    of g·x where x <= 0 (NaN x included, as torch); one sum over all channels for a single weight."""
    # Both factors are zeroed (+0.0, by a bit mask) where x > 0, so those terms are +0.0 whatever g holds
    # (inf, NaN), then multiplied in float64 in one pass: the terms of np.where(x > 0, 0.0, g·x), bit for bit,
    # in 0.6x its time (no float64 copies of x and g, no np.where).
    keep = np.less_equal(xc, 0)
    keep |= np.isnan(xc)
    with np.errstate(invalid="ignore", over="ignore"):
        terms = np.multiply(_kept_where(keep, gc), _kept_where(keep, xc), dtype=np.float64)
        sums = np.sum(terms, axis=tuple(d for d in range(xc.ndim) if d != ax))
        return np.sum(sums, keepdims=True) if size == 1 else sums


def prelu_weight_partial(x: Any, grad_out: Any, weight: Any, axis: int = 1, dtype: Any = None) -> np.ndarray:
    """prelu_grad's weight gradient over part of the input, in float64 and not rounded: what the dask blocks
    of prelu_grad add up."""
    xc, _, result = _float_input(x, "x", dtype, "prelu_grad")
    ax, w = _weight(xc, weight, axis, "prelu_grad", result if dtype is not None else None)
    gc = _like(xc, grad_out, "grad_out", "prelu_grad", None, result if dtype is not None else None)
    return _prelu_weight_sums(xc, gc, ax, w.size)


def _make_prelu(native: bool) -> dict[str, Callable[..., Any]]:
    use_native = native and _registry.NATIVE is not None

    def prelu(x: Any, weight: Any, axis: int = 1, *, out: Any = None, dtype: Any = None) -> Any:
        if use_native and dtype is None:
            # The common call (float ndarrays, an int axis), straight to the native kernel, which checks
            # everything else itself and declines with None.
            value = _registry.NATIVE.prelu_plain(_FORWARD, x, weight, None, out, axis)
            if value is not None:
                return value
        if _interop.is_dask(x) or _interop.is_dask(weight):
            return _dask_call("prelu", native, [(x, "same"), (weight, "weight")], axis, {"dtype": dtype}, out)
        xc, compute, result = _float_input(x, "x", dtype, "prelu")
        ax, w = _weight(xc, weight, axis, "prelu", result if dtype is not None else None)
        _registry.check_out(out, xc.shape, result, "prelu")
        if use_native and xc.size:
            target = _direct_out(out, compute, (xc,))
            target = np.empty(xc.shape, compute) if target is None else target
            if _prelu_native(_FORWARD, xc, None, w, ax, target):
                return _finish(target, out, result)
        with np.errstate(invalid="ignore", over="ignore"):
            value = np.where(xc > 0, xc, w * xc).astype(xc.dtype)
        return _finish(value, out, result)

    def prelu_grad(x: Any, grad_out: Any, weight: Any, axis: int = 1, *, dtype: Any = None) -> tuple[Any, Any]:
        if use_native and dtype is None:  # the common call, as in prelu: (grad_x, weight gradient)
            value = _registry.NATIVE.prelu_plain(_GRAD, x, weight, grad_out, None, axis)
            if value is not None:
                return value
        if _interop.is_dask(x) or _interop.is_dask(grad_out) or _interop.is_dask(weight):
            arrays = [(x, "same"), (grad_out, "same"), (weight, "weight")]
            return _dask_call("prelu_grad", native, arrays, axis, {"dtype": dtype}, None)
        xc, compute, result = _float_input(x, "x", dtype, "prelu_grad")
        ax, w = _weight(xc, weight, axis, "prelu_grad", result if dtype is not None else None)
        gc = _like(xc, grad_out, "grad_out", "prelu_grad", None, result if dtype is not None else None)
        grad_x = np.empty(xc.shape, compute)
        sums = np.empty(w.size, np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            if not (use_native and xc.size and _prelu_native(_GRAD, xc, gc, w, ax, grad_x, sums)):
                if not (use_native and xc.size and _prelu_native(_GRAD, xc, gc, w, ax, grad_x)):
                    grad_x = np.where(xc > 0, gc, w * gc).astype(xc.dtype)
                sums = _prelu_weight_sums(xc, gc, ax, w.size)
            sums = sums.astype(result)  # a sum beyond float32: inf, silently
        return _finish(grad_x, None, result), sums

    return {"prelu": prelu, "prelu_grad": prelu_grad}


# ---------------------------------------------------------------------------------------------------------
# sparsemax's reference and CReLU
# ---------------------------------------------------------------------------------------------------------


def _sparsemax64(x: np.ndarray, axis: int) -> np.ndarray:
    """sparsemax of a float64 array along `axis` (Martins & Astudillo 2016, Algorithm 1): the row shifted by
    its max (sparsemax is shift-invariant, and the cumulative sums then start at 0), sorted descending; the
    support is the k with 1 + k·z_(k) > Σ_{j<=k} z_(j), tau = (Σ_{j<=k} z_(j) - 1)/k, y = max(z - tau, 0).
    A row with NaN, with more than one +inf or with only -inf gives NaN; one +inf (the limit) a one-hot row.
    The native lane (rows.rs, sparsemax_threshold) does the same operations in the same order."""
    if x.size == 0:
        return x.copy()
    z = np.moveaxis(x, axis, -1)
    n = z.shape[-1]
    with np.errstate(invalid="ignore", over="ignore"):
        m = np.max(z, axis=-1, keepdims=True)  # NaN if the row holds one
        shifted = np.where(np.isfinite(m), z - m, 0.0)
        ordered = -np.sort(-shifted, axis=-1)
        sums = np.cumsum(ordered, axis=-1)
        support = 1.0 + np.arange(1, n + 1) * ordered > sums  # -inf entries never qualify
        size = np.sum(support, axis=-1, keepdims=True)  # >= 1: the max qualifies (1 + 0 > 0)
        tau = (np.take_along_axis(sums, size - 1, axis=-1) - 1.0) / size
        y = np.maximum(shifted - tau, 0.0)
        plus = np.sum(z == np.inf, axis=-1, keepdims=True)
        y = np.where(plus == 1, (z == np.inf).astype(np.float64), y)
        y = np.where(np.isnan(m) | (plus > 1) | (m == -np.inf), np.nan, y)
    return np.moveaxis(y, -1, axis)


def _sparsemax_vjp64(y: np.ndarray, g: np.ndarray, axis: int) -> np.ndarray:
    """g_i - mean_{j in S} g_j on the support S = {y > 0}, 0 off it; NaN rows of y give NaN."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        support = y > 0
        mean = np.sum(np.where(support, g, 0.0), axis=axis, keepdims=True) / np.sum(support, axis=axis,
                                                                                    keepdims=True)
        value = np.where(support, g - mean, 0.0)
        return np.where(np.isnan(y).any(axis=axis, keepdims=True), np.nan, value)


def _make_crelu(native: bool) -> dict[str, Callable[..., Any]]:
    """relu(x) and relu(-x) side by side along the axis, by the relu kernels (native ones when loaded) on
    the two halves of the output: no temporaries in the forward."""
    table = _registry.PUBLIC_FUNCTIONS if native else _registry.REFERENCE_FUNCTIONS
    relu, relu_grad = table["relu"][_FORWARD], table["relu"][_GRAD]

    def doubled(xc: np.ndarray, axis: Any, function: str) -> tuple[int, tuple[int, ...]]:
        ax = _axis(axis, xc.ndim, function)
        return ax, xc.shape[:ax] + (2 * xc.shape[ax],) + xc.shape[ax + 1:]

    use_native = native and _registry.NATIVE is not None

    def crelu(x: Any, axis: int = -1, *, out: Any = None, dtype: Any = None) -> Any:
        if use_native and out is None and dtype is None:
            # A small common call, in one native pass (None for anything else, larger arrays included).
            value = _registry.NATIVE.crelu_plain(_FORWARD, x, None, axis)
            if value is not None:
                return value
        if use_native and out is None and _plain_call(x, axis, dtype):  # straight to the relu kernel
            kernel, p0, p1 = _resolve(_RELU)
            ax = axis % x.ndim
            target = np.empty(x.shape[:ax] + (2 * x.shape[ax],) + x.shape[ax + 1:], x.dtype)
            positive, negative = _split_in_two(target, ax)
            if _registry.NATIVE.apply(kernel, _FORWARD, x, None, positive, p0, p1) is not None:
                np.negative(x, out=negative)
                if _registry.NATIVE.apply(kernel, _FORWARD, negative, None, negative, p0, p1) is not None:
                    return target
        if _interop.is_dask(x):
            return _dask_call("crelu", native, [(x, "same")], axis, {"dtype": dtype}, out)
        xc, compute, result = _float_input(x, "x", dtype, "crelu")
        ax, shape = doubled(xc, axis, "crelu")
        _registry.check_out(out, shape, result, "crelu")
        target = _direct_out(out, compute, (xc,))
        target = np.empty(shape, compute) if target is None else target
        positive, negative = _split_in_two(target, ax)
        relu(xc, out=positive)
        np.negative(xc, out=negative)
        relu(negative, out=negative)
        return _finish(target, out, result)

    def crelu_grad(x: Any, grad_out: Any, axis: int = -1, *, out: Any = None, dtype: Any = None) -> Any:
        if use_native and out is None and dtype is None:  # as in crelu
            value = _registry.NATIVE.crelu_plain(_GRAD, x, grad_out, axis)
            if value is not None:
                return value
        if (use_native and out is None and _plain_call(x, axis, dtype) and type(grad_out) is np.ndarray
                and grad_out.dtype is x.dtype):
            kernel, p0, p1 = _resolve(_RELU)
            ax = axis % x.ndim
            if grad_out.shape == x.shape[:ax] + (2 * x.shape[ax],) + x.shape[ax + 1:]:
                g_positive, g_negative = _split_in_two(grad_out, ax)
                target, negated = np.empty(x.shape, x.dtype), np.negative(x)
                if (_registry.NATIVE.apply(kernel, _GRAD, negated, g_negative, negated, p0, p1) is not None
                        and _registry.NATIVE.apply(kernel, _GRAD, x, g_positive, target, p0, p1) is not None):
                    with np.errstate(invalid="ignore", over="ignore"):
                        return np.subtract(target, negated, out=target)
        if _interop.is_dask(x) or _interop.is_dask(grad_out):
            return _dask_call("crelu_grad", native, [(x, "same"), (grad_out, "same")], axis, {"dtype": dtype}, out)
        xc, compute, result = _float_input(x, "x", dtype, "crelu_grad")
        ax, shape = doubled(xc, axis, "crelu_grad")
        if grad_out is None:
            raise TypeError("crelu_grad() needs grad_out (of crelu's output shape, twice x's along axis)")
        gc = _like(xc, grad_out, "grad_out", "crelu_grad", shape, result if dtype is not None else None)
        _registry.check_out(out, xc.shape, result, "crelu_grad")
        g_positive, g_negative = _split_in_two(gc, ax)
        target = _direct_out(out, compute, (xc, gc))
        target = np.empty(xc.shape, compute) if target is None else target
        # d/dx [relu(x), relu(-x)]·[g+, g-] = relu'(x)·g+ - relu'(-x)·g-
        negated = np.negative(xc)
        from_negative = relu_grad(negated, g_negative, out=negated)
        relu_grad(xc, g_positive, out=target)
        with np.errstate(invalid="ignore", over="ignore"):
            np.subtract(target, from_negative, out=target)
        return _finish(target, out, result)

    return {"crelu": crelu, "crelu_grad": crelu_grad}


def _make_rrelu(native: bool) -> dict[str, Callable[..., Any]]:
    """PyTorch's F.rrelu: leaky_relu with the mean slope in evaluation; in training each x <= 0 gets its own
    slope drawn uniformly from [lower, upper] by NumPy's default generator (PCG64) seeded with ``seed``, one
    draw per element in C order of x's shape, so that ``rrelu_grad`` can draw the same slopes again."""
    table = _registry.PUBLIC_FUNCTIONS if native else _registry.REFERENCE_FUNCTIONS
    leaky, leaky_grad = table["leaky_relu"][_FORWARD], table["leaky_relu"][_GRAD]

    def check(lower: Any, upper: Any, training: Any, function: str) -> float:
        finite, expected = CHECKS["finite"]
        for name, v in (("lower", lower), ("upper", upper)):
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) or not finite(v):
                _registry._bad_param(function, name, v, expected)
        if lower > upper:
            raise ValueError(f"{function}(): lower={lower!r} > upper={upper!r}; the slopes are drawn from "
                             "[lower, upper], so lower must not exceed upper")
        if not isinstance(training, (bool, np.bool_)):
            raise TypeError(f"{function}(): training must be True or False, got {training!r}")
        return (float(lower) + float(upper)) / 2

    def slopes_for(xc: np.ndarray, lower: float, upper: float, seed: Any) -> np.ndarray:
        draws = np.random.default_rng(seed).uniform(float(lower), float(upper), size=xc.shape).astype(xc.dtype)
        return np.where(xc <= 0, draws, xc.dtype.type(1))  # NaN: slope 1 (PyTorch's x <= 0 test)

    def no_dask(function: str) -> TypeError:
        return TypeError(f"{function}(training=True) does not take dask arrays: each chunk would draw its own "
                         "slopes. Compute the array first (x.compute()), or use training=False.")

    def rrelu(x: Any, lower: float = 0.125, upper: float = 1.0 / 3.0, training: bool = False, seed: Any = None, *,
              return_slopes: bool = False, out: Any = None, dtype: Any = None) -> Any:
        slope = check(lower, upper, training, "rrelu")
        if not training:
            if seed is not None:
                raise ValueError("rrelu(): seed is only used with training=True (evaluation uses the mean slope)")
            y = leaky(x, negative_slope=slope, out=out, dtype=dtype)
            if not return_slopes:
                return y
            xc, _, result = _float_input(x, "x", dtype, "rrelu")
            return y, np.where(xc > 0, 1.0, slope).astype(result)
        if _interop.is_dask(x):
            raise no_dask("rrelu")
        xc, compute, result = _float_input(x, "x", dtype, "rrelu")
        _registry.check_out(out, xc.shape, result, "rrelu")
        slopes = slopes_for(xc, lower, upper, seed)
        with np.errstate(invalid="ignore", over="ignore"):
            value = np.multiply(xc, slopes)
        y = _finish(value, out, result)
        return (y, _finish(slopes, None, result)) if return_slopes else y

    def rrelu_grad(x: Any, grad_out: Any = None, lower: float = 0.125, upper: float = 1.0 / 3.0,
                   training: bool = False, seed: Any = None, *, slopes: Any = None, out: Any = None,
                   dtype: Any = None) -> Any:
        slope = check(lower, upper, training, "rrelu_grad")
        if not training:
            if seed is not None or slopes is not None:
                raise ValueError("rrelu_grad(): seed and slopes are only used with training=True (evaluation uses "
                                 "the mean slope)")
            return leaky_grad(x, grad_out, negative_slope=slope, out=out, dtype=dtype)
        if _interop.is_dask(x) or _interop.is_dask(grad_out):
            raise no_dask("rrelu_grad")
        xc, compute, result = _float_input(x, "x", dtype, "rrelu_grad")
        _registry.check_out(out, xc.shape, result, "rrelu_grad")
        if slopes is not None:
            s = _like(xc, slopes, "slopes", "rrelu_grad", None, result if dtype is not None else None)
        elif seed is not None and not isinstance(seed, np.random.Generator):
            s = slopes_for(xc, lower, upper, seed)
        else:
            raise ValueError(
                "rrelu_grad(training=True) needs the slopes the forward drew: pass slopes= (from rrelu(..., "
                "return_slopes=True)) or the same integer seed= the forward used (a Generator object has moved on)")
        if grad_out is None:
            return _finish(np.array(s, copy=True), out, result)
        gc = _like(xc, grad_out, "grad_out", "rrelu_grad", None, result if dtype is not None else None)
        with np.errstate(invalid="ignore", over="ignore"):
            value = np.multiply(gc, s)
        return _finish(value, out, result)

    return {"rrelu": rrelu, "rrelu_grad": rrelu_grad}


def _dask_call(function: str, native: bool, arrays: list[tuple[Any, str]], axis: Any, kwargs: dict[str, Any],
               out: Any) -> Any:
    """A function of this module called with a dask array: a lazy dask array (``_dask.py``)."""
    from . import _dask

    return _dask.along_axis(function, native, arrays, axis, kwargs, out)


def _build(native: bool) -> dict[str, Callable[..., Any]]:
    functions: dict[str, Callable[..., Any]] = {}
    for op in _OPS:
        functions.update(_make_row_functions(op, native))
    functions.update(_make_glu(native))
    functions.update(_make_maxout(native))
    functions.update(_make_prelu(native))
    functions.update(_make_crelu(native))
    functions.update(_make_rrelu(native))
    return functions


REFERENCE: dict[str, Callable[..., Any]] = _build(native=False)
AXIS_FUNCTIONS: dict[str, Callable[..., Any]] = _build(native=True) if _registry.NATIVE is not None else REFERENCE


# ---------------------------------------------------------------------------------------------------------
# Docstrings, registry entries and namespaces
# ---------------------------------------------------------------------------------------------------------


def _docstring(spec: AxisActivation, suffix: str) -> str:
    what = {"": spec.summary, "_grad": f"Vector-Jacobian product of {spec.name}: the gradient a backward pass needs.",
            "_grad_from_output": f"The gradient of {spec.name} written from its output y = {spec.name}(x)."}[suffix]
    lines = [what, "", f"Formula: {spec.formula}", f"Derivative: {spec.derivative}"]
    if suffix == "_grad_from_output" and spec.from_output:
        lines.append(f"From the output: {spec.from_output}")
    lines += [f"Range: {spec.output_range}", f"Properties: {', '.join(spec.properties)}", "",
              "Parameters:"]
    if suffix:
        lines.append("    grad_out: the gradient of the loss with respect to the output, of the output's shape (x's; "
                     "the reduced shape for logsumexp and logmeanexp; twice x's along axis for crelu). Required: "
                     "the Jacobian is not diagonal.")
    lines += [f"    {name}: {doc}" for name, doc in spec.param_docs]
    lines.append("    dtype: compute and return in this dtype, like a NumPy ufunc's dtype= (float16, float32, "
                 "float64, or bfloat16 with ml_dtypes; the input is cast first).")
    defaults = ", ".join(f"{k}={v!r}" for k, v in spec.params if v is not None)
    if defaults:
        lines.append(f"Defaults: {defaults}")
    lines += ["", f"Conventions: {spec.conventions}"]
    if spec.notes:
        lines += ["", spec.notes]
    if spec.aliases:
        lines += ["", "Aliases: " + ", ".join(_registry.alias_text(spec, a) for a in spec.aliases)]
    return "\n".join(lines)


def _document(functions: dict[str, Callable[..., Any]]) -> None:
    for spec in AXIS_CATALOGUE:
        for suffix in ("", "_grad", "_grad_from_output"):
            fn = functions.get(spec.name + suffix)
            if fn is not None:
                fn.__name__ = fn.__qualname__ = spec.name + suffix
                fn.__module__ = "fastact"
                fn.__doc__ = _docstring(spec, suffix)


_document(REFERENCE)
if AXIS_FUNCTIONS is not REFERENCE:
    _document(AXIS_FUNCTIONS)


def namespace(functions: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Every public name (aliases included) -> function."""
    out = dict(functions)
    for spec in AXIS_CATALOGUE:
        for alias in spec.alias_names:
            for suffix in ("", "_grad", "_grad_from_output"):
                if spec.name + suffix in functions:
                    out[alias + suffix] = functions[spec.name + suffix]
    return out


for _spec in AXIS_CATALOGUE:
    _registry._REGISTRY[_spec.name] = _registry.Entry(
        name=_spec.name,
        forward=AXIS_FUNCTIONS[_spec.name],
        grad=AXIS_FUNCTIONS[_spec.name + "_grad"],
        grad_from_output=AXIS_FUNCTIONS.get(_spec.name + "_grad_from_output"),
        params=MappingProxyType(_spec.defaults),
        formula=_spec.formula,
        derivative=_spec.derivative,
        output_range=_spec.output_range,
        properties=_spec.properties,
        reference=REFERENCE[_spec.name],
        reference_grad=REFERENCE[_spec.name + "_grad"],
        aliases=_spec.alias_names,
        conventions=_spec.conventions,
    )
    for _alias in _spec.alias_names:
        _registry._ALIASES[_alias] = _spec.name
