"""The bad-input table: every way a call can be wrong, what fastact does about it.

One row per case: an id, what is wrong, the call (as source text, evaluated with ``fastact`` as ``fa`` and
``numpy`` as ``np``, ``x`` as X_VALUE), and what must happen: an exception type with a pattern its message matches, or
``None`` for inputs that are handled (the result is then checked against the same call on a clean copy).
tests/test_bad_input.py runs every row on both backends; scripts/gen_docs.py renders docs/bad-input.md from
it with the messages fastact actually gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Row:
    id: str
    what: str
    call: str
    raises: type[BaseException] | None
    match: str = ""
    #: For handled inputs: the same call on clean (aligned, native, contiguous) data, to compare with.
    clean: str = ""


#: The input most rows use: ``x`` in the calls.
X = "x"
X_VALUE = "np.linspace(-3, 3, 12, dtype=np.float32)"

ROWS: tuple[Row, ...] = (
    # names and parameters
    Row("unknown-name", "unknown activation name", "fa.get('gelux')", KeyError, "did you mean 'gelu'"),
    Row("bad-choice", "gelu's approximate not one of its values", f"fa.gelu({X}, approximate='tanhh')",
        ValueError, "approximate='tanhh' is not allowed; choose one of 'none', 'tanh'"),
    Row("nan-param", "NaN parameter", f"fa.elu({X}, alpha=float('nan'))", ValueError,
        "alpha=nan is not allowed; alpha must be a finite number"),
    Row("inf-param", "infinite parameter where a finite one is needed", f"fa.leaky_relu({X}, negative_slope=np.inf)",
        ValueError, "negative_slope must be a finite number"),
    Row("zero-beta", "softplus beta = 0 (division by zero)", f"fa.softplus({X}, beta=0)", ValueError,
        "beta must be a finite, non-zero number"),
    Row("negative-lambd", "negative shrink threshold", f"fa.softshrink({X}, lambd=-1)", ValueError, "lambd"),
    Row("celu-alpha-0", "celu alpha = 0", f"fa.celu({X}, alpha=0.0)", ValueError, "alpha"),
    Row("hardtanh-order", "hard_tanh min_val > max_val", f"fa.hard_tanh({X}, min_val=1.0, max_val=-1.0)",
        ValueError, "min_val"),
    Row("missing-param", "threshold without its required parameters", f"fa.threshold({X})", TypeError,
        "missing 2 required"),
    Row("from-output-slope", "leaky_relu_grad_from_output with a negative slope (the output does not "
        "determine the derivative)", f"fa.leaky_relu_grad_from_output({X}, negative_slope=-0.5)", ValueError,
        "use leaky_relu_grad"),
    Row("bad-gate", "glu gate not one of its values", "fa.glu(np.ones((2, 4)), gate='tanh')", ValueError,
        "gate='tanh' is not allowed"),
    # dtypes
    Row("complex", "complex input", f"fa.sigmoid({X}.astype(np.complex64))", TypeError,
        "does not support arrays of dtype complex64; supported: float16, float32, float64"),
    Row("object", "object array", "fa.sigmoid(np.array([1, 'a'], dtype=object))", TypeError, "dtype object"),
    Row("string", "string array", "fa.relu(np.array(['1.0']))", TypeError, "dtype <U3"),
    Row("ragged", "ragged nested list", "fa.relu([[1.0, 2.0], [3.0]])", TypeError, "could not be converted"),
    Row("bad-dtype-kw", "dtype= that fastact does not compute in", f"fa.tanh({X}, dtype=np.int32)", TypeError,
        "dtype=int32 is not supported; choose one of float16, float32, float64"),
    Row("not-a-dtype", "dtype= that is not a dtype", f"fa.tanh({X}, dtype='floaty')", TypeError,
        "is not a NumPy dtype"),
    # out=
    Row("out-dtype", "out of another dtype", f"fa.tanh({X}, out=np.empty(12))", TypeError,
        "out has dtype float64 but the result has dtype float32"),
    Row("out-shape", "out of another shape", f"fa.tanh({X}, out=np.empty(13, np.float32))", ValueError,
        r"out has shape \(13,\) but the result has shape \(12,\)"),
    Row("out-readonly", "read-only out", f"fa.tanh({X}, out=np.broadcast_to(np.float32(0), (12,)))", ValueError,
        "out is read-only"),
    Row("out-list", "out that is not an ndarray", f"fa.tanh({X}, out=[0.0] * 12)", TypeError,
        "out must be a numpy.ndarray, got list"),
    Row("axis-out-readonly", "read-only out along an axis",
        "fa.softmax(np.ones((2, 3)), out=np.broadcast_to(0.0, (2, 3)))", ValueError, "read-only"),
    # shapes and axes
    Row("grad-out-shape", "grad_out of another shape (no broadcasting)",
        f"fa.gelu_grad({X}.reshape(3, 4), np.ones(4, np.float32))", ValueError,
        "fastact does not broadcast: pass arrays of the same shape"),
    Row("axis-range", "axis out of range", "fa.softmax(np.ones((2, 3)), axis=2)", np.exceptions.AxisError,
        "out of bounds"),
    Row("axis-type", "axis that is not an integer", "fa.softmax(np.ones((2, 3)), axis=1.5)", TypeError,
        "axis must be an integer"),
    Row("axis-0d", "softmax of a 0-d input", "fa.softmax(np.float64(1.0))", np.exceptions.AxisError,
        "at least one axis"),
    Row("glu-odd", "glu over an odd-sized axis", "fa.glu(np.ones((2, 5)))", ValueError, "odd size 5"),
    Row("maxout-pieces", "maxout pieces that do not divide the axis", "fa.maxout(np.ones((2, 6)), pieces=4)",
        ValueError, "pieces=4 must be >= 1 and divide the size 6"),
    Row("prelu-weight", "prelu weight of the wrong length", "fa.prelu(np.ones((2, 3, 4)), np.ones(4))", ValueError,
        "one per channel"),
    Row("softmax-grad-missing", "softmax_grad without grad_out", "fa.softmax_grad(np.ones((2, 3)), None)",
        TypeError, "needs grad_out"),
    Row("where-dtype", "a where= mask that is not boolean", "fa.softmax(np.ones((2, 3)), where=np.ones((2, 3)))",
        TypeError, "where must be a boolean array"),
    Row("where-shape", "a where= mask that does not broadcast to x",
        "fa.softmax(np.ones((2, 3)), where=np.ones(2, bool))", ValueError, "does not broadcast to the input's shape"),
    Row("crelu-grad-shape", "crelu_grad's grad_out of x's shape (it has crelu's: twice x's along axis)",
        "fa.crelu_grad(np.ones((2, 3)), np.ones((2, 3)))", ValueError, r"grad_out has shape \(2, 3\) but \(2, 6\)"),
    # handled inputs (computed correctly, compared with the same call on clean data)
    Row("byteswapped", "byte-swapped (big-endian) input", f"fa.gelu({X}.astype('>f4'))", None,
        clean=f"fa.gelu({X})"),
    Row("unaligned", "unaligned buffer",
        f"fa.gelu(np.frombuffer(b'\\0' + {X}.tobytes(), dtype=np.float32, offset=1))", None, clean=f"fa.gelu({X})"),
    Row("zero-size", "arrays with zero-sized axes", "fa.gelu(np.empty((0, 3), np.float32))", None,
        clean="np.empty((0, 3), np.float32)"),
    Row("zero-size-axis", "softmax over a zero-sized axis", "fa.softmax(np.empty((3, 0)))", None,
        clean="np.empty((3, 0))"),
    Row("strided", "negative-stride, non-contiguous view", f"fa.silu({X}.reshape(3, 4)[::-1, ::2])", None,
        clean=f"fa.silu(np.ascontiguousarray({X}.reshape(3, 4)[::-1, ::2]))"),
    Row("overlap", "out overlapping the input partially", "_overlap(fa)", None, clean="_overlap_expected(fa)"),
    Row("scalar", "Python scalar", "fa.tanh(0.5)", None, clean="fa.tanh(np.array(0.5))"),
    Row("int-input", "integer input (NumPy's float-ufunc dtype)", "fa.sigmoid(np.arange(4))", None,
        clean="fa.sigmoid(np.arange(4, dtype=np.float64))"),
    Row("huge-param", "a float64 parameter beyond float32 for float32 input (rounded to inf, as PyTorch)",
        f"fa.identity({X}, slope=1e300)", None, clean=f"{X} * np.float32(np.inf)"),
)


def _overlap(fa):  # type: ignore[no-untyped-def]
    buf = np.linspace(-3, 3, 16, dtype=np.float32)
    return fa.sigmoid(buf[:12], out=buf[4:16])


def _overlap_expected(fa):  # type: ignore[no-untyped-def]
    return fa.sigmoid(np.linspace(-3, 3, 16, dtype=np.float32)[:12].copy())


def namespace(fastact_module: object) -> dict[str, object]:
    """Names the calls use; a fresh ``x`` each time."""
    env: dict[str, object] = {"fa": fastact_module, "np": np, "_overlap": _overlap,
                              "_overlap_expected": _overlap_expected}
    env["x"] = eval(X_VALUE, env)  # noqa: S307 - our own constant
    return env
