"""dask arrays in, lazy dask arrays out (the ``fastact[dask]`` extra; imported only when a dask array arrives).

Every block is computed by the very NumPy-array function the caller would have got, so a block's result has
the same bits as the same rows computed in memory, and errors (bad parameters, dtypes, shapes) are raised
when the graph is built, by the same code, on zero-size stand-ins.

* Elementwise functions: ``map_blocks`` over the input's chunks (and grad_out's, rechunked to match).
* Along an axis (softmax, log_softmax, softmin, logsumexp, glu, maxout, prelu and their gradients): the axis
  is first rechunked to a single chunk, the other axes keep their chunks (as ``dask.array.apply_along_axis``
  does), then ``map_blocks``. Why not a blockwise max/sum reduction over the axis' chunks: the row kernels'
  accuracy comes from seeing the whole row at once (the max shift with its rounding error carried into each
  exponential, float64 or compensated sums, log1p of the sum without the max term, PyTorch's NaN/inf rules),
  and a row computed in one piece gives the same bits as in memory. The cost: one row (all of the axis,
  times the other axes' chunk sizes) must fit in a worker's memory, which holds for softmax over a
  vocabulary or over attention keys.
* prelu_grad's weight gradient is a sum over everything but the channel axis: a float64 partial sum per
  block, summed by dask, rounded once to the result dtype (equal to the in-memory result up to the order of
  the float64 additions).
* bias_act and bias_act_grad: ``map_blocks`` over x's chunks with the bias cut along the same chunks of its
  axis (no rechunking: each element needs only its own bias value); bias_act_grad's grad_bias is summed
  like prelu_grad's weight gradient.

``out=`` cannot be combined with a dask input (the result is a new lazy array): TypeError.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import dask.array as da
import numpy as np

from . import _interop, _registry

__all__ = ["along_axis", "bias_act", "bias_act_grad", "elementwise", "registered"]


def _no_out(out: Any, function: str) -> None:
    if out is not None:
        raise TypeError(
            f"{function}(): out= cannot be used with a dask array input: the result is a new lazy dask array "
            "(store it with dask.array.store or .compute())"
        )


def _as_dask(value: Any, name: str, chunks: Any = "auto") -> da.Array:
    return value if _interop.is_dask(value) else da.from_array(_interop.as_array(value, name), chunks=chunks)


def _empty(shape: Sequence[int], dtype: Any) -> np.ndarray:
    """A stand-in of ``shape`` that costs no memory (every stride 0)."""
    return np.broadcast_to(np.zeros((), dtype), tuple(shape))


# ---------------------------------------------------------------------------------------------------------
# Elementwise
# ---------------------------------------------------------------------------------------------------------


def _elementwise_block(kernel: str, mode: int, p0: float, p1: float, native: bool, dtype: Any, function: str,
                       x: np.ndarray, grad_out: np.ndarray | None = None) -> np.ndarray:
    index = _registry._KERNEL_INDEX[kernel]  # by name: a worker's kernel table may be ordered differently
    value = _registry.slow_path(index, mode, x, grad_out, None, p0, p1, native, dtype, function)
    return np.asarray(value)  # a 0-d block gives a 0-d array, not a scalar


def elementwise(kernel: int, mode: int, x: Any, grad_out: Any, out: Any, p0: float, p1: float, native: bool,
                dtype: Any, function: str) -> da.Array:
    """``_registry.slow_path`` for dask arguments: the same function, block by block."""
    _no_out(out, function)
    if not _interop.is_dask(x):
        x = _as_dask(x, "x", grad_out.chunks if np.shape(x) == grad_out.shape else "auto")
    arrays = [x]
    if grad_out is not None:
        if tuple(np.shape(grad_out)) != x.shape:
            raise ValueError(
                f"grad_out has shape {np.shape(grad_out)} but the input has shape {x.shape}; fastact does not "
                "broadcast: pass arrays of the same shape"
            )
        arrays.append(_as_dask(grad_out, "grad_out", x.chunks).rechunk(x.chunks))
    block = functools.partial(_elementwise_block, _registry.KERNEL_NAMES[kernel], mode, p0, p1, native, dtype,
                              function)
    # Validates the dtypes and parameters now, and gives the result's dtype.
    meta = block(*(np.empty((0,) * a.ndim, a.dtype) for a in arrays))
    return da.map_blocks(block, *arrays, dtype=meta.dtype, meta=meta, token=function)


def _registered_block(fn: Callable[..., Any], *blocks: np.ndarray) -> np.ndarray:
    return np.asarray(fn(*blocks))


def registered(fn: Callable[..., Any], x: Any, grad_out: Any) -> da.Array:
    """A function registered with ``fastact.register``, block by block (its dtype found by dask)."""
    x = _as_dask(x, "x", grad_out.chunks if grad_out is not None and np.shape(x) == grad_out.shape else "auto")
    arrays = [x] if grad_out is None else [x, _as_dask(grad_out, "grad_out", x.chunks).rechunk(x.chunks)]
    return da.map_blocks(functools.partial(_registered_block, fn), *arrays, token=getattr(fn, "__name__", None))


# ---------------------------------------------------------------------------------------------------------
# Along an axis
# ---------------------------------------------------------------------------------------------------------

#: How each positional array argument of an along-an-axis function relates to x:
#: "same": as many axes as x (its length along the axis may differ: glu_grad's and maxout_grad's grad_out);
#: "reduced": x without the axis (logsumexp_grad's grad_out without keepdims);
#: "weight": passed whole to every block (prelu's weight); "const": not an array, passed as it is (None);
#: "where": the where= mask, broadcast to x's shape and chunked as x, passed to each block as where=.
Role = str


def _axis_block(function: str, native: bool, kwargs: dict[str, Any], layout: tuple[Any, ...],
                *blocks: np.ndarray) -> Any:
    """One block of an along-an-axis function: the blocks back in the shapes the function takes."""
    from . import _axis

    table = _axis.AXIS_FUNCTIONS if native else _axis.REFERENCE
    args = []
    it = iter(blocks)
    for role, extra in layout:
        if role == "const":
            args.append(extra)
            continue
        block = next(it)
        if role == "where":
            kwargs = {**kwargs, "where": block}
            continue
        if role == "reduced":
            block = np.squeeze(block, axis=extra)
        elif role == "weight":
            block = block.reshape(extra)
        args.append(block)
    return table[function](*args, **kwargs)


def _prelu_weight_block(kwargs: dict[str, Any], x: np.ndarray, grad_out: np.ndarray, weight: np.ndarray, *,
                        weight_shape: tuple[int, ...]) -> np.ndarray:
    """prelu_grad's weight gradient over one block, in float64, shaped to line up with x's blocks."""
    from . import _axis

    partial = _axis.prelu_weight_partial(x, grad_out, weight.reshape(weight_shape), **kwargs)
    shape = [1] * x.ndim
    shape[_axis._axis(kwargs["axis"], x.ndim, "prelu_grad")] = partial.size
    return partial.reshape(shape)


def along_axis(function: str, native: bool, arrays: Sequence[tuple[Any, Role]], axis: Any,
               kwargs: dict[str, Any], out: Any) -> Any:
    """An along-an-axis function (``_axis.AXIS_FUNCTIONS[function]``) over dask arrays: ``arrays`` are its
    positional array arguments, x first, each with its role; ``kwargs`` the rest (axis excluded)."""
    from . import _axis

    _no_out(out, function)
    x = _as_dask(arrays[0][0], "x")
    ax = _axis._axis(axis, x.ndim, function)
    kwargs = {**kwargs, "axis": ax}
    x = x.rechunk(_one_chunk_along(x.chunks, ax, x.shape[ax]))  # the other axes keep x's chunks
    inputs, layout, stand_ins = [x], [("same", None)], [_stand_in(x.shape, x.dtype, ax)]
    for (value, role), name in zip(arrays[1:], ("grad_out", "weight")):
        if role == "where":
            inputs.append(_where(value, x, function))
            layout.append(("where", None))
            stand_ins.append(_stand_in(x.shape, np.bool_, ax))
            continue
        if role == "const":
            layout.append(("const", value))
        elif role == "weight":  # every block gets all of it, as an array of x's rank with its values along ax
            w = value if _interop.is_dask(value) else _interop.as_array(value, "weight")
            shape = [1] * x.ndim
            shape[ax] = int(np.prod(w.shape))
            inputs.append(_as_dask(w, "weight").reshape(shape).rechunk(-1))
            layout.append(("weight", w.shape))
            stand_ins.append(np.zeros(w.shape, w.dtype) if _interop.is_dask(w) else w)
        else:
            v = _as_dask(value, name)
            reduced = role == "reduced"
            others = v.shape if reduced else v.shape[:ax] + v.shape[ax + 1:]
            if v.ndim != x.ndim - reduced or others != x.shape[:ax] + x.shape[ax + 1:]:
                raise ValueError(
                    f"{function}(): {name} has shape {v.shape}, which does not fit the input's shape {x.shape} "
                    f"(axis {ax}); fastact does not broadcast"
                )
            if reduced:  # a unit axis in its place, so that its blocks line up with x's
                v = da.expand_dims(v, ax)
            stand_ins.append(_stand_in(v.shape, v.dtype, ax))
            inputs.append(v.rechunk(_one_chunk_along(x.chunks, ax, v.shape[ax])))
            layout.append((role, ax))
    block = functools.partial(_axis_block, function, native, kwargs, tuple(layout))
    # The function on stand-ins with no elements but the axis' length: validates everything now (shapes,
    # dtypes, parameters), and gives the result's dtype and length along the axis.
    meta = _axis_block(function, native, kwargs, tuple(layout), *stand_ins)
    if isinstance(meta, tuple):  # prelu_grad: (grad_x, grad_weight)
        return _prelu_grad(function, native, kwargs, tuple(layout), inputs, meta)
    return _map_rows(block, inputs, meta, ax, function)


def _where(value: Any, x: da.Array, function: str) -> da.Array:
    """The where= mask as a boolean dask array of x's shape and chunks (broadcast as NumPy does)."""
    mask = value if _interop.is_dask(value) else np.asarray(value)
    if mask.dtype != np.bool_:
        raise TypeError(
            f"{function}(): where must be a boolean array (True = the entry takes part), got dtype {mask.dtype}; "
            "pass a comparison such as x > 0, or where.astype(bool)"
        )
    try:
        np.broadcast_shapes(mask.shape, x.shape)
    except ValueError:
        raise ValueError(
            f"{function}(): where has shape {mask.shape}, which does not broadcast to the input's shape {x.shape}"
        ) from None
    return da.broadcast_to(_as_dask(mask, "where"), x.shape).rechunk(x.chunks)


def _one_chunk_along(chunks: tuple[tuple[int, ...], ...], ax: int, length: int) -> tuple[tuple[int, ...], ...]:
    return chunks[:ax] + ((length,),) + chunks[ax + 1:]


def _stand_in(shape: tuple[int, ...], dtype: Any, ax: int) -> np.ndarray:
    """Zero-size except along the axis (which some checks need: glu's even length, maxout's pieces, prelu's
    channels); a 1-d array keeps its length, without memory."""
    return _empty(tuple(n if i == ax else 0 for i, n in enumerate(shape)), dtype)


def _map_rows(block: Callable[..., Any], inputs: list[da.Array], meta: np.ndarray, ax: int, function: str) -> da.Array:
    x = inputs[0]
    empty = np.empty((0,) * meta.ndim, meta.dtype)
    if meta.ndim == x.ndim - 1:  # logsumexp without keepdims
        return da.map_blocks(block, *inputs, drop_axis=ax, chunks=x.chunks[:ax] + x.chunks[ax + 1:],
                             dtype=meta.dtype, meta=empty, token=function)
    chunks = _one_chunk_along(x.chunks, ax, meta.shape[ax])
    return da.map_blocks(block, *inputs, chunks=chunks, dtype=meta.dtype, meta=empty, token=function)


def _first(block: Callable[..., Any], *blocks: np.ndarray) -> np.ndarray:
    return block(*blocks)[0]


def _prelu_grad(function: str, native: bool, kwargs: dict[str, Any], layout: tuple[Any, ...],
                inputs: list[da.Array], meta: tuple[np.ndarray, np.ndarray]) -> tuple[da.Array, da.Array]:
    x = inputs[0]
    ax = kwargs["axis"]
    block = functools.partial(_axis_block, function, native, kwargs, layout)
    grad_x = _map_rows(functools.partial(_first, block), inputs, meta[0], ax, function)
    weight_shape = layout[2][1]
    partial = functools.partial(_prelu_weight_block, kwargs, weight_shape=weight_shape)
    channels = inputs[2].shape[ax]
    chunks = tuple((1,) * len(c) if i != ax else (channels,) for i, c in enumerate(x.chunks))
    sums = da.map_blocks(partial, *inputs, chunks=chunks, dtype=np.float64,
                         meta=np.empty((0,) * x.ndim, np.float64), token=function + "-weight")
    others = tuple(i for i in range(x.ndim) if i != ax)
    grad_w = sums.sum(axis=others) if others else sums
    return grad_x, grad_w.astype(meta[1].dtype)


# ---------------------------------------------------------------------------------------------------------
# bias_act
# ---------------------------------------------------------------------------------------------------------


def _bias_operands(function: str, x: Any, bias: Any, axis: Any) -> tuple[da.Array, da.Array, int]:
    """(x, the bias as an array of x's rank with its values along the axis, chunked as x there, the axis)."""
    from . import _axis

    x = _as_dask(x, "x")
    b = _as_dask(bias, "bias")
    if x.ndim == 0:
        raise np.exceptions.AxisError(f"{function}() needs an array with at least one axis, got a 0-d input")
    ax = _axis._axis(axis, x.ndim, function)
    if b.shape != (x.shape[ax],):
        raise ValueError(f"{function}(): bias has shape {b.shape} but ({x.shape[ax]},) is expected "
                         f"(x.shape[{ax}]); fastact does not broadcast")
    shape = [1] * x.ndim
    shape[ax] = b.shape[0]
    chunks = tuple(x.chunks[ax] if i == ax else (1,) for i in range(x.ndim))
    return x, b.reshape(shape).rechunk(chunks), ax


def _bias_block(fn: Callable[..., Any], name: str, ax: int, dtype: Any, params: dict[str, Any], x: np.ndarray,
                *rest: np.ndarray) -> np.ndarray:
    *grad, bias = rest
    return np.asarray(fn(x, *grad, bias.reshape(-1), name, ax, dtype=dtype, **params))


def _grad_x_block(fn: Callable[..., Any], name: str, ax: int, dtype: Any, params: dict[str, Any], x: np.ndarray,
                  grad_out: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return np.asarray(fn(x, grad_out, bias.reshape(-1), name, ax, dtype, params))


def _bias_partial(ax: int, grad_x: np.ndarray) -> np.ndarray:
    """grad_x summed in float64 over every axis but ax, keeping the axes (one partial per block)."""
    others = tuple(i for i in range(grad_x.ndim) if i != ax)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(np.sum(grad_x, axis=others, dtype=np.float64, keepdims=True))


def bias_act(native: bool, x: Any, bias: Any, name: str, axis: Any, params: dict[str, Any], dtype: Any,
             out: Any) -> da.Array:
    """``fastact.bias_act`` over dask arrays: a lazy dask array, block by block."""
    from . import _fused

    _no_out(out, "bias_act")
    x, b, ax = _bias_operands("bias_act", x, bias, axis)
    fn = (_fused.FUSED_FUNCTIONS if native else _fused.REFERENCE)["bias_act"]
    # On stand-ins: checks the name, parameters and dtypes now, and gives the result's dtype.
    meta = _bias_block(fn, name, ax, dtype, params, _stand_in(x.shape, x.dtype, ax), _empty(b.shape, b.dtype))
    block = functools.partial(_bias_block, fn, name, ax, dtype, params)
    return da.map_blocks(block, x, b, dtype=meta.dtype, meta=np.empty((0,) * x.ndim, meta.dtype),
                         token="bias_act")


def bias_act_grad(native: bool, x: Any, grad_out: Any, bias: Any, name: str, axis: Any, params: dict[str, Any],
                  dtype: Any) -> tuple[da.Array, da.Array]:
    """``fastact.bias_act_grad`` over dask arrays: (grad_x, grad_bias), both lazy; grad_bias is a float64
    partial sum per block, summed by dask and rounded once (the in-memory result up to the order of the
    float64 additions)."""
    from . import _fused

    x, b, ax = _bias_operands("bias_act_grad", x, bias, axis)
    if tuple(np.shape(grad_out)) != x.shape:
        raise ValueError(f"bias_act_grad(): grad_out has shape {np.shape(grad_out)} but the input has shape "
                         f"{x.shape}; fastact does not broadcast: pass arrays of the same shape")
    g = _as_dask(grad_out, "grad_out", x.chunks).rechunk(x.chunks)
    fn = _fused.GRAD_X.get(native) or _fused.GRAD_X[False]
    stand_ins = (_stand_in(x.shape, x.dtype, ax), _stand_in(g.shape, g.dtype, ax), _empty(b.shape, b.dtype))
    meta = _grad_x_block(fn, name, ax, dtype, params, *stand_ins)
    block = functools.partial(_grad_x_block, fn, name, ax, dtype, params)
    grad_x = da.map_blocks(block, x, g, b, dtype=meta.dtype, meta=np.empty((0,) * x.ndim, meta.dtype),
                           token="bias_act_grad")
    chunks = tuple(c if i == ax else (1,) * len(c) for i, c in enumerate(x.chunks))
    sums = da.map_blocks(functools.partial(_bias_partial, ax), grad_x, chunks=chunks, dtype=np.float64,
                         meta=np.empty((0,) * x.ndim, np.float64), token="bias_act_grad-bias")
    others = tuple(i for i in range(x.ndim) if i != ax)
    return grad_x, sums.sum(axis=others).astype(meta.dtype)
