"""Fused operations for inference: ``bias_act`` (a per-feature bias, then an elementwise activation).

``bias_act(x, bias, name)`` is ``fastact.NAME(x + bias)`` without the full-size temporary ``x + bias``: the
native driver (``apply_bias_strided`` in ``rust/core/src/driver.rs``) adds the bias into a stack buffer a
block of 256 elements at a time and runs the activation's own row function (same SIMD level, same exact
patch) on it, writing straight into the output. The result is bitwise that of ``NAME(x + bias)`` computed
in x's dtype. The activation's parameters are checked by the activation's own generated checks
(``_registry.RESOLVERS``). The reference backend computes ``reference.NAME(x + bias)``.

The documentation comes from ``FUSED_CATALOGUE`` in ``_catalogue.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _axis, _interop, _registry
from ._catalogue import FUSED_CATALOGUE
from ._spec import FusedOperation

__all__ = ["FUSED_FUNCTIONS", "REFERENCE"]

_FORWARD, _GRAD = 0, 1


def _resolve(name: Any, params: dict[str, Any], function: str) -> tuple[str, int, float, float]:
    """(the activation's function name, kernel index, p0, p1) for an elementwise activation name or alias,
    its parameters checked by the activation's own checks."""
    if not isinstance(name, str):
        raise TypeError(f"{function}(): name must be an activation name (a str), got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    if key not in _registry.RESOLVERS:  # an alias that binds nothing, or not elementwise, or unknown
        key = _registry.get(name).name  # KeyError with suggestions for unknown names
        if key not in _registry.RESOLVERS:
            raise ValueError(f"{function}(): {name!r} is not an elementwise activation; {function} takes those "
                             "(e.g. 'gelu', 'silu', 'relu')")
    kernel, p0, p1 = _registry.RESOLVERS[key](**params)
    return key, kernel, p0, p1


def _operands(x: Any, bias: Any, axis: Any, dtype: Any, function: str) -> tuple[np.ndarray, np.ndarray, int, np.dtype]:
    """(x, bias as a contiguous 1-d array, axis, dtype) in the dtype the result has: the sum x + bias is
    rounded to it, as NumPy's would be (float16 and bfloat16 stay 16-bit; the kernels widen them)."""
    xa = _registry._as_input(x, "x")
    _, result = _registry._compute_dtypes(xa.dtype)  # rejects complex, object, strings
    if dtype is not None:
        _, result = _registry.requested_dtypes(dtype, function)
    work = result.newbyteorder("=")
    xc = np.require(xa, dtype=work, requirements="A")
    if xc.ndim == 0:
        raise np.exceptions.AxisError(f"{function}() needs an array with at least one axis, got a 0-d input")
    ax = _axis._axis(axis, xc.ndim, function)
    ba = _registry._as_input(bias, "bias")
    _registry._compute_dtypes(ba.dtype)
    if ba.shape != (xc.shape[ax],):
        raise ValueError(f"{function}(): bias has shape {ba.shape} but ({xc.shape[ax]},) is expected "
                         f"(x.shape[{ax}]); fastact does not broadcast")
    if dtype is not None:
        ba = _registry.cast_to(ba, result)
    return xc, np.ascontiguousarray(ba, dtype=work), ax, result


def _broadcast(bias: np.ndarray, ndim: int, ax: int) -> np.ndarray:
    shape = [1] * ndim
    shape[ax] = bias.size
    return bias.reshape(shape)


def _private_bias(bias: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The bias as the native call may read it while writing `target`: copied if they share memory."""
    return bias.copy() if np.may_share_memory(bias, target) else bias


def _grad_bias(grad_x: np.ndarray, ax: int, result: np.dtype, native: bool = False) -> np.ndarray:
    """grad_x summed over every axis but `ax` in float64, rounded to `result`. Natively (C-contiguous
    grad_x): one threaded pass, compensated for float64, its order fixed by the shape; else NumPy's pairwise
    sum. Neither depends on the thread count."""
    if native and _registry.NATIVE is not None and grad_x.dtype == result:
        sums = np.empty(grad_x.shape[ax], result)
        if _registry.NATIVE.channel_sums(grad_x, ax, sums):
            return sums
    others = tuple(d for d in range(grad_x.ndim) if d != ax)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.sum(grad_x, axis=others, dtype=np.float64).astype(result)


def _calls(name: Any, params: dict[str, Any]) -> dict[str, tuple[int, float, float]]:
    """The table the native entry looks `name` up in for a call with parameters: `name` resolved with them
    (their errors raised as the full path raises them)."""
    _, kernel, p0, p1 = _resolve(name, params, "bias_act")
    return {name: (kernel, p0, p1)}


def _make_bias_act(native: bool) -> dict[str, Callable[..., Any]]:
    use_native = native and _registry.NATIVE is not None
    plain, defaults = (_registry.NATIVE.bias_act_plain if use_native else None), _registry.DEFAULT_CALLS
    functions = _registry.PUBLIC_FUNCTIONS if use_native else _registry.REFERENCE_FUNCTIONS

    def bias_act(x: Any, bias: Any, name: str, axis: int = -1, *, out: Any = None, dtype: Any = None,
                 **params: Any) -> Any:
        if use_native and out is None and dtype is None:
            # The common call straight to the native pass (None for anything the full path must handle).
            calls = defaults if not params else _calls(name, params)
            value = plain(_FORWARD, calls, name, x, bias, axis)
            if value is not None:
                return value
        if _interop.is_dask(x) or _interop.is_dask(bias):
            from . import _dask

            return _dask.bias_act(native, x, bias, name, axis, params, dtype, out)
        key, kernel, p0, p1 = _resolve(name, params, "bias_act")
        xc, bc, ax, result = _operands(x, bias, axis, dtype, "bias_act")
        _registry.check_out(out, xc.shape, result, "bias_act")
        if not use_native:
            with np.errstate(over="ignore", invalid="ignore"):
                summed = xc + _broadcast(bc, xc.ndim, ax)
            return functions[key][_registry.FORWARD](summed, **params, out=out)
        target = _axis._direct_out(out, xc.dtype, (xc,))
        target = np.empty_like(xc) if target is None else target
        _registry.NATIVE.apply_bias(kernel, _FORWARD, xc, _private_bias(bc, target), ax, None, target, p0, p1)
        return _axis._finish(target, out, result)

    def grad_x_of(x: Any, grad_out: Any, bias: Any, name: str, axis: int, dtype: Any,
                  params: dict[str, Any]) -> tuple[np.ndarray, int, np.dtype]:
        """(grad_x in the working dtype, the axis, the result dtype)."""
        key, kernel, p0, p1 = _resolve(name, params, "bias_act_grad")
        xc, bc, ax, result = _operands(x, bias, axis, dtype, "bias_act_grad")
        gc = _axis._like(xc, grad_out, "grad_out", "bias_act_grad", None, result if dtype is not None else None)
        if not use_native:
            with np.errstate(over="ignore", invalid="ignore"):
                summed = xc + _broadcast(bc, xc.ndim, ax)
            return functions[key][_registry.DERIVATIVE](summed, gc, **params), ax, result
        grad_x = np.empty_like(xc)
        _registry.NATIVE.apply_bias(kernel, _GRAD, xc, bc, ax, gc, grad_x, p0, p1)
        return grad_x, ax, result

    def bias_act_grad(x: Any, grad_out: Any, bias: Any, name: str, axis: int = -1, *, dtype: Any = None,
                      **params: Any) -> tuple[Any, Any]:
        if use_native and dtype is None:  # the common call, as in bias_act
            calls = defaults if not params else _calls(name, params)
            value = plain(_GRAD, calls, name, x, bias, axis, grad_out)
            if value is not None:
                return value
        if _interop.is_dask(x) or _interop.is_dask(grad_out) or _interop.is_dask(bias):
            from . import _dask

            return _dask.bias_act_grad(native, x, grad_out, bias, name, axis, params, dtype)
        grad_x, ax, result = grad_x_of(x, grad_out, bias, name, axis, dtype, params)
        return _axis._finish(grad_x, None, result), _grad_bias(grad_x, ax, result, use_native)

    def bias_act_grad_x(x: Any, grad_out: Any, bias: Any, name: str, axis: int, dtype: Any,
                        params: dict[str, Any]) -> Any:
        """bias_act_grad's grad_x alone, for dask blocks (which sum grad_bias themselves)."""
        grad_x, _, result = grad_x_of(x, grad_out, bias, name, axis, dtype, params)
        return _axis._finish(grad_x, None, result)

    return {"bias_act": bias_act, "bias_act_grad": bias_act_grad, "_bias_act_grad_x": bias_act_grad_x}


#: bias_act_grad's grad_x alone, by backend (True: native), for the dask blocks.
GRAD_X: dict[bool, Callable[..., Any]] = {}


def _build(native: bool) -> dict[str, Callable[..., Any]]:
    functions = _make_bias_act(native)
    GRAD_X[native] = functions.pop("_bias_act_grad_x")
    return functions


REFERENCE: dict[str, Callable[..., Any]] = _build(native=False)
FUSED_FUNCTIONS: dict[str, Callable[..., Any]] = _build(native=True) if _registry.NATIVE is not None else REFERENCE


def _docstring(spec: FusedOperation, grad: bool) -> str:
    what = (f"Gradient of {spec.name}: {spec.grad_returns}" if grad else spec.summary)
    lines = [what, "", f"Formula: {spec.formula}", f"Derivative: {spec.derivative}", "", "Parameters:"]
    if grad:
        lines.append("    grad_out: the gradient of the loss with respect to the output, of x's shape.")
    lines += [f"    {name}: {doc}" for name, doc in spec.param_docs if not (grad and name == "out")]
    lines.append("    dtype: compute and return in this dtype, like a NumPy ufunc's dtype= (float16, float32, "
                 "float64, or bfloat16 with ml_dtypes; x and bias are cast first).")
    lines += ["", f"Conventions: {spec.conventions}"]
    if spec.notes:
        lines += ["", spec.notes]
    return "\n".join(lines)


def _document(functions: dict[str, Callable[..., Any]]) -> None:
    for spec in FUSED_CATALOGUE:
        for suffix in ("", "_grad"):
            fn = functions[spec.name + suffix]
            fn.__name__ = fn.__qualname__ = spec.name + suffix
            fn.__module__ = "fastact"
            fn.__doc__ = _docstring(spec, bool(suffix))


_document(REFERENCE)
if FUSED_FUNCTIONS is not REFERENCE:
    _document(FUSED_FUNCTIONS)
