"""The public API: dtypes, scalars, layouts, out=, errors, signatures, docstrings and the registry."""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import math
import os
from typing import Any

import fastact
import numpy as np
import pytest
from conftest import (
    ALL_CASES,
    BOUNDED_CASES,
    BOUNDS,
    CASES,
    MODE_SUFFIX,
    MODES,
    NATIVE_TABLE,
    REQUIRED_PARAMS,
    Case,
    assert_bitwise_equal,
    bound,
    cancellation_ok,
    case_mode_params,
    case_params,
    describe_failures,
    ulp_error,
)
from fastact import _kernels_numpy
from fastact._catalogue import CATALOGUE
from fastact._spec import CHECKS, Param

SPECS = {spec.name: spec for spec in CATALOGUE}


def _values(dtype=np.float64, shape=(5, 7)) -> np.ndarray:
    n = int(np.prod(shape))
    v = np.linspace(-7.5, 7.5, n) + 0.013
    v[: min(n, 4)] = [0.0, -0.0, 3.0, -3.0][: min(n, 4)]
    return v.reshape(shape).astype(dtype)


def _all_calls(case: Case):
    """(label, callable(x, g) -> result) for every public entry point of a case."""
    yield "forward", lambda x, g=None, **kw: case.public("forward")(x, **kw)
    yield "grad", lambda x, g=None, **kw: case.public("grad")(x, **kw)
    yield "grad*g", lambda x, g=None, **kw: case.public("grad")(x, g if g is not None else np.ones_like(x), **kw)
    if case.has_from_output:
        yield "from_output", lambda x, g=None, **kw: case.public("from_output")(x, **kw)
        yield "from_output*g", lambda x, g=None, **kw: case.public("from_output")(
            x, g if g is not None else np.ones_like(x), **kw)


# --------------------------------------------------------------------------------------------------------
# The namespace
# --------------------------------------------------------------------------------------------------------


def _public_names() -> list[tuple[str, str, str]]:
    """(public name, canonical activation, mode) for every generated function, aliases included."""
    out = []
    for spec in CATALOGUE:
        modes = MODES if spec.from_output else MODES[:2]
        for base in (spec.name, *spec.alias_names):
            for mode in modes:
                out.append((base + MODE_SUFFIX[mode], spec.name, mode))
    return out


PUBLIC = _public_names()
#: public name -> (alias, the parameters it binds), for the functions of aliases that bind parameters.
BOUND = {alias.name + MODE_SUFFIX[mode]: (alias, dict(alias.bind)) for spec in CATALOGUE for alias in spec.aliases
         if alias.bind for mode in (MODES if spec.from_output else MODES[:2])}


def test_namespace_complete() -> None:
    for public, canonical, mode in PUBLIC:
        fn = getattr(fastact, public)
        if public in BOUND:  # its own function, with the bound parameters fixed
            assert fn is not getattr(fastact, canonical + MODE_SUFFIX[mode]) and fn.__name__ == public, public
        else:
            assert fn is getattr(fastact, canonical + MODE_SUFFIX[mode]), public
        assert public in fastact.__all__, public
        assert callable(getattr(fastact.reference, public)), public
    for spec in CATALOGUE:
        if spec.from_output is None:
            assert not hasattr(fastact, spec.name + "_grad_from_output"), spec.name
    for name in ("Entry", "backend", "get", "get_num_threads", "names", "num_threads", "reference", "register",
                 "set_num_threads", "simd_level"):
        assert name in fastact.__all__ and hasattr(fastact, name)
    assert fastact.expit is fastact.sigmoid and fastact.linear is fastact.identity
    assert fastact.expit_grad is fastact.sigmoid_grad
    assert fastact.linear_grad_from_output is fastact.identity_grad_from_output


def test_backend() -> None:
    disabled = os.environ.get("FASTACT_DISABLE_NATIVE", "") not in ("", "0")
    assert fastact.backend() == ("reference" if disabled else "native")
    level = fastact.simd_level()
    assert level in ({"avx512", "avx2", "sse2", "neon"} if fastact.backend() == "native" else {"none"})


@pytest.mark.skipif(NATIVE_TABLE is None, reason="native module not importable")
def test_native_table_matches_catalogue() -> None:
    table = {row[0]: row for row in NATIVE_TABLE}
    kernels = {k for spec in CATALOGUE for k in spec.kernels}
    assert set(table) == kernels == set(_kernels_numpy.KERNELS)
    for name, nparams, _cost, _promote, from_output, ulps in NATIVE_TABLE:
        assert nparams == _kernels_numpy.NPARAMS[name], name
        assert from_output == (_kernels_numpy.KERNELS[name][2] is not None), name
        assert len(ulps) == 4 and all(isinstance(u, int) and u >= 0 for u in ulps), name
    for spec in CATALOGUE:
        assert len(spec.numeric_params) == table[spec.kernels[0]][1], spec.name
        for k in spec.kernels:
            assert table[k][4] == (spec.from_output is not None), (spec.name, k)


@pytest.mark.parametrize(("public", "canonical", "mode"), PUBLIC, ids=[p[0] for p in PUBLIC])
def test_signature_and_docstring(public: str, canonical: str, mode: str) -> None:
    spec = SPECS[canonical]
    fn = getattr(fastact, public)
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    first = "y" if mode == "from_output" else "x"
    binds = BOUND[public][1] if public in BOUND else {}
    spec_params = [p for p in spec.params if p.name not in binds]
    expected_names = ([first] + (["grad_out"] if mode != "forward" else []) + [p.name for p in spec_params]
                      + ["out", "dtype"])
    assert [p.name for p in params] == expected_names, (public, str(sig))
    by_name = sig.parameters
    assert by_name[first].default is inspect.Parameter.empty
    assert by_name[first].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert by_name["out"].default is None and by_name["out"].kind is inspect.Parameter.KEYWORD_ONLY
    assert by_name["dtype"].default is None and by_name["dtype"].kind is inspect.Parameter.KEYWORD_ONLY
    if mode != "forward":
        assert by_name["grad_out"].default is None
        assert by_name["grad_out"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    required = any(p.required for p in spec_params)
    for p in spec_params:
        param = by_name[p.name]
        expected_default = inspect.Parameter.empty if p.required else p.default
        assert param.default == expected_default, (public, p.name)
        # required parameters cannot follow grad_out=None positionally: they become keyword-only
        kind = (inspect.Parameter.KEYWORD_ONLY if required and mode != "forward"
                else inspect.Parameter.POSITIONAL_OR_KEYWORD)
        assert param.kind is kind, (public, p.name, param.kind)
    # the docstring carries the formulas
    doc = fn.__doc__ or ""
    assert spec.formula in doc, public
    assert spec.derivative in doc, public
    if mode == "from_output":
        assert spec.from_output in doc, public
    for p in spec_params:
        assert p.name in doc, (public, p.name)
    for name, value in binds.items():  # says what it fixes, and does not document it as an argument
        assert f"{name}={value!r}" in doc and f"{name} fixed" in doc, public
        assert f"\n{name} : " not in doc, public
    assert fn.__name__ == (public if binds else canonical + MODE_SUFFIX[mode])
    # and so does the reference's
    assert spec.formula in (getattr(fastact.reference, public).__doc__ or "")


def test_positional_parameters() -> None:
    x = _values()
    assert_bitwise_equal(fastact.softplus(x, 2.0, 5.0), fastact.softplus(x, beta=2.0, threshold=5.0), "positional")
    assert_bitwise_equal(fastact.elu_grad(x, None, 0.5), fastact.elu_grad(x, alpha=0.5), "positional grad")
    assert_bitwise_equal(fastact.threshold(x, 0.5, -2.0), fastact.threshold(x, threshold=0.5, value=-2.0), "threshold")
    with pytest.raises(TypeError):
        fastact.threshold(x)  # both parameters are required
    with pytest.raises(TypeError):
        fastact.threshold_grad(x, None, 0.5, -2.0)  # keyword-only after grad_out
    with pytest.raises(TypeError):
        fastact.relu(x, np.empty_like(x))  # out is keyword-only


def test_float32_parameters_are_rounded_to_float32() -> None:
    """A float32 call uses its parameters rounded to float32 (PyTorch casts the scalar to the tensor's dtype),
    also in the kernels that compute float32 in float64: sine(1e4·x, w0=0.1) is sin(1e4·float32(0.1)), 0.83
    apart from sin(1e4·0.1) in the ninth digit (many ULPs)."""
    x = np.array([1e4, 3e3, 12345.0], np.float32)
    w0 = np.float64(np.float32(0.1))
    want = np.sin(x.astype(np.float64) * w0)
    got = fastact.sine(x, w0=0.1).astype(np.float64)
    assert np.all(np.abs(got - want) <= np.spacing(np.abs(want).astype(np.float32))), (got, want)
    b = np.float64(np.float32(0.01))
    x = np.linspace(-10, -1, 1001, dtype=np.float32)
    s = np.sqrt(x.astype(np.float64) ** 2 + b)
    want = 0.5 * b / (s - x)
    got = fastact.squareplus(x, b=0.01).astype(np.float64)
    assert np.all(np.abs(got - want) <= np.spacing(want.astype(np.float32))), "squareplus(b=0.01) float32"


# --------------------------------------------------------------------------------------------------------
# dtypes, scalars, lists, empty arrays
# --------------------------------------------------------------------------------------------------------

# input dtype -> (dtype computed in, dtype returned): NumPy's float ufunc rules
DTYPE_RULES = {
    "float32": ("float32", "float32"),
    "float64": ("float64", "float64"),
    "float16": ("float32", "float16"),
    "int8": ("float32", "float16"),
    "uint8": ("float32", "float16"),
    "bool": ("float32", "float16"),
    "int16": ("float32", "float32"),
    "uint16": ("float32", "float32"),
    "int32": ("float64", "float64"),
    "uint32": ("float64", "float64"),
    "int64": ("float64", "float64"),
    "uint64": ("float64", "float64"),
}


@pytest.mark.parametrize("case", case_params(CASES))
def test_input_dtypes(case: Case) -> None:
    for dtype, (compute, result) in DTYPE_RULES.items():
        assert np.result_type(np.dtype(dtype), np.float16) == np.dtype(result)  # NumPy's own rule
        if dtype == "bool":
            x = np.array([True, False, True, True])
        elif dtype.startswith("u"):
            x = np.array([0, 1, 2, 3, 7], dtype=dtype)
        elif dtype.startswith("int"):
            x = np.array([-7, -3, -1, 0, 1, 2, 3, 6, 7], dtype=dtype)
        else:
            x = np.array([-7.25, -3, -1.5, 0, 0.5, 2, 3, 6.5], dtype=dtype)
        xc = x.astype(compute)
        for label, call in _all_calls(case):
            got = call(x)
            assert isinstance(got, np.ndarray) and got.dtype == np.dtype(result), (label, dtype, got.dtype)
            assert_bitwise_equal(got, call(xc).astype(result), f"{case.id} {label} {dtype}")


_UNSUPPORTED = [
    np.array([1 + 2j, 3j]), np.array([1.0, 2.0], dtype=object), np.array(["a", "b"]), np.array([b"a", b"b"]),
    np.array([1, 2], dtype="datetime64[s]"), np.array([1, 2], dtype=np.clongdouble),
]


@pytest.mark.parametrize("case", case_params(CASES))
def test_unsupported_dtypes_raise_type_error(case: Case) -> None:
    for bad in _UNSUPPORTED:
        for _label, call in _all_calls(case):
            with pytest.raises(TypeError, match="dtype"):
                call(bad)
        # ... also as grad_out
        with pytest.raises(TypeError):
            case.public("grad")(np.ones(bad.shape), bad)


def test_unsupported_python_objects() -> None:
    with pytest.raises(TypeError):
        fastact.relu([[1.0, 2.0], [3.0]])  # ragged
    with pytest.raises(TypeError):
        fastact.relu("abc")
    with pytest.raises(TypeError):
        fastact.relu(1 + 2j)
    with pytest.raises(TypeError):
        fastact.relu(None)


@pytest.mark.parametrize("case", case_params(CASES))
def test_scalars_and_zero_d(case: Case) -> None:
    f, d = case.public("forward"), case.public("grad")
    arr = np.array([1.25, -2.0, 0.0], np.float64)
    cases = [
        (1.25, np.float64),
        (-2, np.float64),
        (np.float32(-2.0), np.float32),
        (np.float64(0.0), np.float64),
        (np.array(1.25, np.float32), np.float32),
        (np.array(-2.0), np.float64),
        (np.float16(0.5), np.float16),
        (True, np.float16),
        (np.int8(3), np.float16),
    ]
    for value, rtype in cases:
        for label, fn in (("forward", f), ("grad", d)):
            got = fn(value)
            assert type(got) is rtype, (case.id, label, value, type(got))
            expected = fn(np.asarray(value).reshape(1))
            assert_bitwise_equal(np.asarray(got), np.asarray(expected[0]), f"{case.id} {label} scalar {value!r}")
    # scalar grad_out with a scalar x (inside the domain, so that the values compare)
    v = 1.25 if case.spec.domain is None else sum(case.spec.domain) / 2 + 0.125
    got = d(v, 2.0)
    assert type(got) is np.float64 and got == 2.0 * d(v)
    # 0-d input with an out= array returns that array
    out = np.empty((), np.float64)
    assert f(np.array(v), out=out) is out and out[()] == f(v)
    # lists
    got = f([1.25, -2.0, 0.0])
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    assert_bitwise_equal(got, f(arr), "list")
    got = f([[1, 2], [3, 4]])
    assert got.shape == (2, 2) and got.dtype == np.float64
    assert_bitwise_equal(d(arr.tolist(), [1.0, 2.0, 3.0]), d(arr, np.array([1.0, 2.0, 3.0])), "list grad_out")


@pytest.mark.parametrize("case", case_params(CASES))
def test_empty_arrays(case: Case) -> None:
    for shape, (dtype, result) in itertools.product(
            [(0,), (3, 0), (0, 4, 2), (2, 0, 5)],
            [(np.float32, np.float32), (np.float64, np.float64), (np.int32, np.float64), (np.float16, np.float16)]):
        x = np.empty(shape, dtype)
        for label, call in _all_calls(case):
            got = call(x, np.empty(shape, dtype))
            assert got.shape == shape and got.dtype == result, (label, dtype, got.shape, got.dtype)
            out = np.empty(shape, result)
            assert call(x, np.empty(shape, dtype), out=out) is out


# --------------------------------------------------------------------------------------------------------
# Layouts
# --------------------------------------------------------------------------------------------------------


def _base(dtype) -> np.ndarray:
    return _values(dtype, (6, 8, 10))


def _order_strides(a: np.ndarray) -> tuple:
    return tuple(s for s, n in zip(a.strides, a.shape) if n > 1)


LAYOUTS = {
    "transposed": lambda a: a.T,
    "transposed_2d": lambda a: a[:, :, 3].T,
    "negative_strides": lambda a: a[::-1, :, ::-1],
    "step_slices": lambda a: a[::2, 1::3, ::3],
    "negative_steps": lambda a: a[::-2, ::-3, 1::4],
    "fortran": lambda a: np.asfortranarray(a),
    "permuted": lambda a: a.transpose(1, 0, 2),
    "column": lambda a: a[:, 3, :],
    "broadcast": lambda a: np.broadcast_to(a[0, 0], (5, 4, 10)),
    "newaxis": lambda a: a[:, None, 2, ::2],
    "single_column": lambda a: a[:, :1, :1],
}


@pytest.mark.parametrize("case", case_params(ALL_CASES))
def test_layouts(case: Case) -> None:
    for layout in LAYOUTS:
        _check_layout(case, layout)


def _check_layout(case: Case, layout: str) -> None:
    for dtype in (np.float32, np.float64):
        base = _base(dtype)
        view = LAYOUTS[layout](base)
        contiguous = np.ascontiguousarray(view)
        g_view = LAYOUTS[layout](_base(dtype)[::-1] * np.asarray(0.5, dtype))  # a strided grad_out too
        g_contig = np.ascontiguousarray(g_view)
        for label, call in _all_calls(case):
            got = call(view, g_view)
            expected = call(contiguous, g_contig)
            assert_bitwise_equal(got, expected, f"{case.id} {label} {np.dtype(dtype)} {layout}")
            # the result keeps the input's memory order (NumPy's order K; length-1 axes carry no order)
            assert _order_strides(got) == _order_strides(np.empty_like(view)), (
                f"{case.id} {label} {layout}: result strides {got.strides}, input strides {view.strides}, "
                f"numpy.empty_like gives {np.empty_like(view).strides}")
            # a contiguous grad_out with a strided x, and the other way round
            assert_bitwise_equal(call(view, g_contig), expected, f"{case.id} {label} {layout} mixed")
            assert_bitwise_equal(call(contiguous, g_view), expected, f"{case.id} {label} {layout} mixed 2")


def test_order_is_kept() -> None:
    x = _values(np.float32, (64, 48))
    assert fastact.relu(x.T).flags.f_contiguous
    assert fastact.sigmoid(np.asfortranarray(x)).flags.f_contiguous
    assert fastact.gelu_grad(x.T, x.T).flags.f_contiguous
    assert fastact.relu(x).flags.c_contiguous
    assert fastact.identity_grad(x.T).flags.f_contiguous


@pytest.mark.parametrize("case", case_params(CASES))
def test_byte_swapped_and_misaligned(case: Case) -> None:
    for dtype in (np.float32, np.float64):
        x = _values(dtype, (101,))
        g = (x[::-1] * 0.75).astype(dtype)
        swapped = x.astype(np.dtype(dtype).newbyteorder(">" if np.little_endian else "<"))
        assert not swapped.dtype.isnative
        buf = np.zeros(x.nbytes + 1, np.uint8)
        misaligned = buf[1:].view(dtype)
        misaligned[...] = x
        assert not misaligned.flags.aligned
        gbuf = np.zeros(g.nbytes + 1, np.uint8)
        g_mis = gbuf[1:].view(dtype)
        g_mis[...] = g
        for label, call in _all_calls(case):
            expected = call(x, g)
            for name, xv, gv in (("byte-swapped", swapped, g), ("byte-swapped g", x, g.astype(swapped.dtype)),
                                 ("misaligned", misaligned, g), ("misaligned g", x, g_mis)):
                got = call(xv, gv)
                assert got.dtype == np.dtype(dtype) and got.dtype.isnative, (label, name, got.dtype)
                assert_bitwise_equal(got, expected, f"{case.id} {label} {name}")
            # a misaligned out=
            obuf = np.zeros(x.nbytes + 1, np.uint8)
            out = obuf[1:].view(dtype)
            assert call(x, g, out=out) is out
            assert_bitwise_equal(out, expected, f"{case.id} {label} misaligned out")


# --------------------------------------------------------------------------------------------------------
# out=
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", case_params(ALL_CASES))
def test_out_argument(case: Case) -> None:
    for dtype in (np.float32, np.float64):
        x = _values(dtype, (9, 13))
        g = (np.cos(x) * 3).astype(dtype)
        for label, call in _all_calls(case):
            expected = call(x, g)
            # plain out=
            out = np.full_like(x, np.nan)
            assert call(x, g, out=out) is out
            assert_bitwise_equal(out, expected, f"{case.id} {label} out")
            # a strided / Fortran out
            big = np.full((9, 26), np.nan, dtype)
            strided = big[:, ::2]
            assert call(x, g, out=strided) is strided
            assert_bitwise_equal(big[:, ::2], expected, f"{case.id} {label} strided out")
            assert np.isnan(big[:, 1::2]).all(), "wrote outside the out view"
            fout = np.asfortranarray(np.full_like(x, np.nan))
            call(x, g, out=fout)
            assert_bitwise_equal(fout, expected, f"{case.id} {label} fortran out")
            # in place on the input
            xi = x.copy()
            assert call(xi, g, out=xi) is xi
            assert_bitwise_equal(xi, expected, f"{case.id} {label} in place")
            # in place on grad_out
            if "*g" in label:
                gi = g.copy()
                call(x, gi, out=gi)
                assert_bitwise_equal(gi, expected, f"{case.id} {label} in place on grad_out")


_LARGE_OVERLAP = ("relu", "sigmoid", "leaky_relu", "softsign")


@pytest.mark.parametrize(("case", "n"), [pytest.param(c, 50, id=f"{c.id}-small") for c in CASES] + [
    pytest.param(c, 300_001, id=f"{c.id}-large") for c in CASES if c.name in _LARGE_OVERLAP])
def test_partially_overlapping_out(case: Case, n: int) -> None:
    """x[1:] into x[:-1] (and the other way) gives the answer of a separate output."""
    for dtype in (np.float32, np.float64):
        base = np.linspace(-9, 9, n + 1).astype(dtype)
        gbase = np.linspace(2, -2, n + 1).astype(dtype)
        for label, call in _all_calls(case):
            for src, dst in ((slice(1, None), slice(None, -1)), (slice(None, -1), slice(1, None))):
                expected = call(base[src].copy(), gbase[src].copy())
                buf = base.copy()
                call(buf[src], gbase[src], out=buf[dst])
                assert_bitwise_equal(buf[dst], expected, f"{case.id} {label} {np.dtype(dtype)} overlap x {src}")
                if "*g" in label:  # grad_out overlapping the output
                    gbuf = gbase.copy()
                    call(base[src], gbuf[src], out=gbuf[dst])
                    assert_bitwise_equal(gbuf[dst], expected, f"{case.id} {label} overlap grad_out {src}")
            # a reversed view of the same memory
            buf = base.copy()
            expected = call(base[::-1].copy(), gbase.copy())
            call(buf[::-1], gbase, out=buf)
            assert_bitwise_equal(buf, expected, f"{case.id} {label} reversed overlap")


@pytest.mark.parametrize("case", case_params(CASES))
def test_out_errors(case: Case) -> None:
    x = _values(np.float32, (4, 5))
    for label, call in _all_calls(case):
        with pytest.raises(TypeError, match="dtype"):
            call(x, out=np.empty((4, 5), np.float64))
        with pytest.raises(TypeError, match="dtype"):
            call(x.astype(np.float64), out=np.empty((4, 5), np.float32))
        with pytest.raises(TypeError, match="dtype"):
            call(x.astype(np.int32), out=np.empty((4, 5), np.float32))  # int32 -> float64
        with pytest.raises(TypeError, match="dtype"):
            call(x.astype(np.float16), out=np.empty((4, 5), np.float32))  # float16 -> float16
        with pytest.raises(ValueError, match="shape"):
            call(x, out=np.empty((5, 4), np.float32))
        with pytest.raises(ValueError, match="shape"):
            call(x, out=np.empty((4, 5, 1), np.float32))
        with pytest.raises(ValueError, match="shape"):
            call(x, out=np.empty((1, 5), np.float32))  # no broadcasting
        ro = np.empty((4, 5), np.float32)
        ro.flags.writeable = False
        with pytest.raises(ValueError, match="read-only"):
            call(x, out=ro)
        with pytest.raises(TypeError, match="ndarray"):
            call(x, out=[[0.0] * 5] * 4)
        with pytest.raises(TypeError, match="ndarray"):
            call(x, out=memoryview(np.empty((4, 5), np.float32)))
        # float16 and integer inputs write into an out of the result dtype
        out16 = np.empty((4, 5), np.float16)
        assert call(x.astype(np.float16), out=out16) is out16
        assert_bitwise_equal(out16, call(x.astype(np.float16)), f"{label} float16 out")
        out64 = np.empty((4, 5), np.float64)
        assert call(x.astype(np.int64), out=out64) is out64


@pytest.mark.parametrize("case", case_params(CASES))
def test_grad_out_errors_and_dtypes(case: Case) -> None:
    x = _values(np.float32, (4, 5))
    modes = ["grad"] + (["from_output"] if case.has_from_output else [])
    for mode in modes:
        fn = case.public(mode)
        for shape in ((5, 4), (1, 5), (4, 1), (5,), (4, 5, 1), ()):
            with pytest.raises(ValueError, match="shape"):
                fn(x, np.ones(shape, np.float32))
        # grad_out of another float dtype is converted to the computation dtype
        g64 = np.linspace(-3, 3, 20).reshape(4, 5)
        got = fn(x, g64)
        assert got.dtype == np.float32
        assert_bitwise_equal(got, fn(x, g64.astype(np.float32)), f"{case.id} {mode} g float64 -> float32")
        got = fn(x.astype(np.float64), g64.astype(np.float32))
        assert got.dtype == np.float64
        assert_bitwise_equal(got, fn(x.astype(np.float64), g64.astype(np.float32).astype(np.float64)),
                             f"{case.id} {mode} g float32 -> float64")
        got = fn(x, g64.astype(np.float16))
        assert got.dtype == np.float32
        got = fn(x, np.arange(20).reshape(4, 5))
        assert_bitwise_equal(got, fn(x, np.arange(20, dtype=np.float32).reshape(4, 5)), f"{case.id} int grad_out")


# --------------------------------------------------------------------------------------------------------
# Parameter validation
# --------------------------------------------------------------------------------------------------------

_BAD_VALUES = {
    "finite": [math.nan, math.inf, -math.inf],
    "positive": [0.0, -1.0, math.nan, math.inf],
    "nonnegative": [-1.0, -1e-300, math.nan, math.inf],
    "nonzero": [0.0, -0.0, math.nan, math.inf, -math.inf],
    "not_nan": [math.nan],
    "half_unit": [-1e-300, 0.5000000000000001, math.nan, math.inf, 1.0],
}
_GOOD_EDGE_VALUES = {
    "finite": [0.0, -1e300],
    "positive": [1e-300],
    "nonnegative": [0.0],
    "nonzero": [-1e-300],
    "not_nan": [math.inf, -math.inf, 0.0],
    "half_unit": [0.0, 0.5, 5e-324, None],
}
assert set(_BAD_VALUES) == set(CHECKS)


def _param_cases() -> list:
    out = []
    for case in CASES:
        for p in case.spec.numeric_params:
            out.append(pytest.param(case, p, id=f"{case.id}-{p.name}"))
    return out


@pytest.mark.parametrize(("case", "param"), _param_cases())
def test_bad_numeric_params(case: Case, param: Param) -> None:
    x = _values(np.float32, (3,))
    for mode in case.modes:
        fn = getattr(fastact, case.name + MODE_SUFFIX[mode])
        for bad in _BAD_VALUES[param.check]:
            kwargs = {**case.kwargs, param.name: bad}
            with pytest.raises(ValueError, match=param.name):
                fn(x, **kwargs)
            with pytest.raises(ValueError, match=param.name):
                getattr(fastact.reference, case.name + MODE_SUFFIX[mode])(x, **kwargs)
        for good in _GOOD_EDGE_VALUES[param.check]:
            kwargs = {**case.kwargs, param.name: good}
            if mode == "from_output" and not Case(case.spec, case.kernel, tuple(kwargs.items())).has_from_output:
                continue
            if case.name == "hard_tanh" and kwargs["min_val"] > kwargs["max_val"]:
                continue
            fn(x, **kwargs)  # accepted


def test_specific_param_errors() -> None:
    x = _values(np.float64, (4,))
    with pytest.raises(ValueError, match="approximate"):
        fastact.gelu(x, approximate="tanhh")
    with pytest.raises(ValueError, match="approximate"):
        fastact.gelu_grad(x, approximate="erf")
    with pytest.raises(ValueError, match="beta"):
        fastact.softplus(x, beta=0)
    with pytest.raises(ValueError, match="lambd"):
        fastact.softshrink(x, lambd=-1)
    with pytest.raises(ValueError, match="lambd"):
        fastact.hardshrink_grad(x, lambd=-0.5)
    with pytest.raises(ValueError, match="min_val"):
        fastact.hard_tanh(x, min_val=2.0, max_val=1.0)
    with pytest.raises(ValueError, match="min_val"):
        fastact.hard_tanh_grad_from_output(x, min_val=2.0, max_val=1.0)
    with pytest.raises(ValueError, match="threshold"):
        fastact.threshold(x, threshold=math.nan, value=0.0)
    with pytest.raises(ValueError, match="value"):
        fastact.threshold(x, threshold=0.0, value=math.nan)
    with pytest.raises(ValueError, match="alpha"):
        fastact.celu(x, alpha=0.0)
    with pytest.raises(ValueError, match="w0"):
        fastact.sine(x, w0=math.inf)
    # the from-output forms need parameters for which the output determines the derivative
    with pytest.raises(ValueError, match="negative_slope"):
        fastact.leaky_relu_grad_from_output(x, negative_slope=-0.1)
    with pytest.raises(ValueError, match="beta"):
        fastact.softplus_grad_from_output(x, beta=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        fastact.elu_grad_from_output(x, alpha=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        fastact.celu_grad_from_output(x, alpha=-1.0)
    # ... while the plain derivatives accept them
    fastact.leaky_relu_grad(x, negative_slope=-0.1)
    fastact.softplus_grad(x, beta=-1.0)
    fastact.elu_grad(x, alpha=-1.0)
    fastact.celu_grad(x, alpha=-1.0)
    # integers are numbers too
    assert_bitwise_equal(fastact.elu(x, alpha=2), fastact.elu(x, alpha=2.0), "int param")


# --------------------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------------------


def test_registry_entries() -> None:
    assert set(fastact.names()) >= {spec.name for spec in CATALOGUE}
    assert fastact.names() == sorted(fastact.names())
    for spec in CATALOGUE:
        e = fastact.get(spec.name)
        assert isinstance(e, fastact.Entry)
        assert e.name == spec.name and e.spec is spec
        assert e.forward is getattr(fastact, spec.name)
        assert e.grad is getattr(fastact, spec.name + "_grad")
        assert e.grad_from_output is getattr(fastact, spec.name + "_grad_from_output", None)
        assert e.reference is getattr(fastact.reference, spec.name)
        assert e.reference_grad is getattr(fastact.reference, spec.name + "_grad")
        assert dict(e.params) == {p.name: p.default for p in spec.params}
        assert (e.formula, e.derivative, e.output_range) == (spec.formula, spec.derivative, spec.output_range)
        assert e.properties == spec.properties and e.aliases == spec.alias_names and e.conventions == spec.conventions
        assert dict(e.bound_aliases) == {a.name: dict(a.bind) for a in spec.aliases if a.bind}
        for alias in spec.alias_names:
            assert fastact.get(alias) is e
            assert alias not in fastact.names()
        with pytest.raises((TypeError, AttributeError)):
            e.params["x"] = 1  # read-only mapping
    assert fastact.get("swish") is not fastact.get("silu")  # swish has a beta (issue 6); silu is its beta = 1
    assert fastact.get("expit") is fastact.get("sigmoid") is fastact.get("logistic")
    assert fastact.get("linear") is fastact.get("identity")
    assert fastact.get("Leaky-ReLU") is fastact.get("leaky_relu")
    assert fastact.get("  GELU ") is fastact.get("gelu")


#: Other libraries' names the catalogue must accept (issue 6), and what they stand for.
REQUIRED_ALIASES = {
    "log_expit": ("log_sigmoid", {}), "logsigmoid": ("log_sigmoid", {}), "hardtanh": ("hard_tanh", {}),
    "hardsigmoid": ("hard_sigmoid", {}), "hardswish": ("hard_swish", {}), "hard_silu": ("hard_swish", {}),
    "soft_sign": ("softsign", {}), "heaviside": ("binary_step", {}),
    "gelu_new": ("gelu", {"approximate": "tanh"}), "gelu_pytorch_tanh": ("gelu", {"approximate": "tanh"}),
    "expit": ("sigmoid", {}), "linear": ("identity", {}), "logsoftmax": ("log_softmax", {}),
    "quick_gelu": ("gelu", {"approximate": "sigmoid"}),
}


def test_required_aliases() -> None:
    for alias, (target, binds) in REQUIRED_ALIASES.items():
        entry = fastact.get(alias)
        assert entry is fastact.get(target) and alias in entry.aliases, alias
        assert dict(entry.bound_aliases.get(alias, {})) == binds, alias
        assert callable(getattr(fastact, alias)) and callable(getattr(fastact, alias + "_grad")), alias
        assert alias in fastact.__all__ and alias in fastact.reference.__all__, alias
    for absent in ("relu_6",):  # no framework says relu_6
        assert not hasattr(fastact, absent)
        with pytest.raises(KeyError):
            fastact.get(absent)


def _alias_cases() -> list[tuple[str, str, dict[str, Any], str]]:
    """(alias, activation, parameters the alias binds, mode) for every alias's functions."""
    return [(alias.name, spec.name, dict(alias.bind), mode) for spec in CATALOGUE for alias in spec.aliases
            for mode in (MODES if spec.from_output else MODES[:2])]


@pytest.mark.parametrize(("alias", "target", "binds", "mode"), _alias_cases(),
                         ids=[f"{c[0]}{MODE_SUFFIX[c[3]]}" for c in _alias_cases()])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_alias_is_its_target_bit_for_bit(alias: str, target: str, binds: dict[str, Any], mode: str,
                                         dtype: Any) -> None:
    suffix = MODE_SUFFIX[mode]
    x = np.concatenate([_values(dtype, (40,)), np.array([np.inf, -np.inf, np.nan, 1e-30, -1e-30], dtype)])
    if mode == "from_output":
        x = getattr(fastact, target)(x, **REQUIRED_PARAMS.get(target, {}), **binds)
    g = np.linspace(-2.0, 2.0, x.size).astype(dtype)
    required = REQUIRED_PARAMS.get(target, {})
    for module in (fastact, fastact.reference):
        mine, theirs = getattr(module, alias + suffix), getattr(module, target + suffix)
        args = (x,) if mode == "forward" else (x, g)
        label = f"{module.__name__}.{alias}{suffix}"
        assert_bitwise_equal(mine(*args, **required), theirs(*args, **required, **binds), label)
        out = np.empty_like(x)
        assert mine(*args, **required, out=out) is out
        assert_bitwise_equal(out, theirs(*args, **required, **binds), label + " out=")
        if mode != "forward":
            assert_bitwise_equal(mine(x, **required), theirs(x, **required, **binds), label + " plain")
        for name in binds:  # a fixed parameter is not an argument
            with pytest.raises(TypeError):
                mine(*args, **required, **{name: binds[name]})


def test_heaviside_is_numpy_heaviside_with_one_at_zero() -> None:
    # numpy.heaviside(x, h0) and torch.heaviside(x, values) take the value at 0 as an argument; fastact's is 1.
    for dtype in (np.float32, np.float64):
        x = np.array([-np.inf, -2.5, -1e-30, -0.0, 0.0, 1e-30, 2.5, np.inf, np.nan], dtype)
        assert_bitwise_equal(fastact.heaviside(x), np.heaviside(x, dtype(1.0)), str(np.dtype(dtype)))
        assert_bitwise_equal(fastact.reference.heaviside(x), np.heaviside(x, dtype(1.0)), "reference")
        half = np.heaviside(x, dtype(0.5))  # the other common convention
        differs = (fastact.heaviside(x) != half) & ~np.isnan(x)
        assert differs.tolist() == (x == 0).tolist()


def test_alias_that_binds_a_number() -> None:
    # No catalogue alias binds a numeric parameter yet; the generated function must still fix it.
    from fastact._spec import Alias

    spec = dataclasses.replace(SPECS["leaky_relu"], aliases=(Alias("leaky_relu_02", bind={"negative_slope": 0.2}),))
    alias = spec.aliases[0]
    x = _values()
    for mode, name in ((0, "leaky_relu_02"), (1, "leaky_relu_02_grad"), (2, "leaky_relu_02_grad_from_output")):
        fn = fastact._registry._generate(spec, mode, "reference", alias)
        assert fn.__name__ == name and "negative_slope" not in inspect.signature(fn).parameters
        target = getattr(fastact.reference, "leaky_relu" + MODE_SUFFIX[MODES[mode]])
        assert_bitwise_equal(fn(x), target(x, negative_slope=0.2), name)
        assert "negative_slope=0.2" in fn.__doc__


def test_catalogue_rejects_bad_aliases() -> None:
    from fastact._spec import Alias

    gelu, leaky, softmax = SPECS["gelu"], SPECS["leaky_relu"], fastact._catalogue.AXIS_CATALOGUE[0]
    with pytest.raises(ValueError, match="not a parameter"):
        dataclasses.replace(gelu, aliases=(Alias("g", bind={"beta": 1.0}),))
    with pytest.raises(ValueError, match="not allowed"):
        dataclasses.replace(gelu, aliases=(Alias("g", bind={"approximate": "erf"}),))
    with pytest.raises(ValueError, match="not allowed"):
        dataclasses.replace(leaky, aliases=(Alias("l", bind={"negative_slope": math.inf}),))
    with pytest.raises(TypeError, match="Alias"):
        dataclasses.replace(leaky, aliases=("lrelu",))
    with pytest.raises(ValueError, match="identifier"):
        dataclasses.replace(leaky, aliases=(Alias("leaky-relu"),))
    with pytest.raises(ValueError, match="cannot bind"):
        dataclasses.replace(softmax, aliases=(Alias("softmax_0", bind={"axis": 0}),))


def test_registry_unknown_names() -> None:
    with pytest.raises(KeyError, match="sigmoid"):
        fastact.get("sigmiod")
    with pytest.raises(KeyError, match="leaky_relu"):
        fastact.get("leaky_rellu")
    with pytest.raises(KeyError, match="names"):
        fastact.get("completely_unknown_xyz")
    with pytest.raises(TypeError):
        fastact.get(3)


@pytest.fixture
def registered():
    created: list[str] = []
    yield created
    for name in created:
        fastact._registry._REGISTRY.pop(name, None)


def test_register(registered: list[str]) -> None:
    name = "test_cube_activation"
    registered.append(name)
    e = fastact.register(name, lambda x: x**3, lambda x: 3 * x**2, formula="f(x) = x^3",
                         derivative_text="f'(x) = 3x^2", output_range="(-inf, inf)", properties=("odd",))
    assert fastact.get(name) is e and name in fastact.names()
    x = np.array([-2.0, 0.5, 3.0])
    np.testing.assert_array_equal(e.forward(x), x**3)
    np.testing.assert_array_equal(e.grad(x), 3 * x**2)
    np.testing.assert_array_equal(e.grad(x, np.array([1.0, 2.0, -1.0])), np.array([12.0, 1.5, -27.0]))
    with pytest.raises(ValueError, match="shape"):
        e.grad(x, np.ones(2))
    assert e.formula == "f(x) = x^3" and e.properties == ("odd",) and e.grad_from_output is None
    assert not e.builtin
    with pytest.raises(ValueError, match="exists"):
        fastact.register(name, np.sin, np.cos)
    e2 = fastact.register(name, np.sin, np.cos, overwrite=True)
    assert fastact.get(name) is e2
    for builtin in ("relu", "swish", "expit"):
        with pytest.raises(ValueError, match="exists"):
            fastact.register(builtin, np.sin, np.cos)
        with pytest.raises(ValueError):
            fastact.register(builtin, np.sin, np.cos, overwrite=True)
    with pytest.raises(ValueError):
        fastact.register("not an identifier", np.sin, np.cos)
    with pytest.raises(TypeError):
        fastact.register("test_not_callable", 3, np.cos)
    assert fastact.get("relu").forward is fastact.relu


# --------------------------------------------------------------------------------------------------------
# fastact.reference
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "mode"), case_mode_params(ALL_CASES))
def test_reference_namespace_is_the_numpy_reference(case: Case, mode: str) -> None:
    """fastact.reference.NAME computes with the pure-NumPy kernels (whatever the backend)."""
    for dtype in (np.float32, np.float64):
        x = np.concatenate([np.linspace(-30, 30, 2001), [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -745.5]])
        x = x.astype(dtype)
        with np.errstate(all="ignore"):
            g = np.cos(x * 7).astype(dtype)
        ref = case.public(mode, fastact.reference)
        assert_bitwise_equal(ref(x), case.kernel_fn(mode)(x), f"reference.{case.id} {mode} {np.dtype(dtype)}")
        with np.errstate(all="ignore"):
            # the derivative in float64 with the parameters in the input's precision, times grad_out
            expected = (g.astype(np.float64) * case.kernel_fn(mode, dtype)(x.astype(np.float64))).astype(dtype)
        if mode != "forward":
            assert_bitwise_equal(ref(x, g), expected, f"reference.{case.id} {mode} grad_out")


@pytest.mark.skipif(BOUNDS is None, reason="needs the ULP bounds of the native table")
@pytest.mark.parametrize(("case", "mode"), case_mode_params(BOUNDED_CASES))
def test_public_agrees_with_reference(case: Case, mode: str) -> None:
    """fastact.NAME agrees with fastact.reference.NAME within the ULP bounds: float32 results against the
    reference evaluated in float64 (bound B); float64 results against the float64 reference, which is
    itself an approximation: both within B of the exact value, so within 2B of each other."""
    x64 = np.concatenate([np.linspace(-25, 25, 20001), np.geomspace(1e-300, 1e300, 600),
                          -np.geomspace(1e-300, 1e300, 600), np.linspace(-760, 760, 3001)])
    ref64 = case.public(mode, fastact.reference)(x64)
    for dtype in (np.float32, np.float64):
        with np.errstate(over="ignore"):
            x = x64.astype(dtype)
        got = case.public(mode)(x)
        assert got.dtype == np.dtype(dtype)
        # float32: the reference in float64 with the parameters rounded to float32, as the kernels use them
        ref = ref64 if dtype == np.float64 else case.reference64(mode, x)
        limit = bound(case.kernel, mode, dtype) * (2 if dtype == np.float64 else 1)
        ok = (ulp_error(got, ref, dtype) <= limit) | cancellation_ok(case, mode, x, got, ref, dtype, limit)
        assert ok.all(), f"{case.id} {mode} {np.dtype(dtype)}: " + describe_failures(x, got, ref, ok, dtype)


# --------------------------------------------------------------------------------------------------------
# dtype= (as NumPy ufuncs): compute and return in the dtype asked for
# --------------------------------------------------------------------------------------------------------

def _call_args(name: str, x: np.ndarray) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Positional arguments (x, then grad_out / weight / pieces / bias / name where the signature needs them) and
    the required keyword parameters of the public function `name`, for an input x of shape (4, 6)."""
    fn = getattr(fastact, name)
    args: list[Any] = [x]
    kwargs: dict[str, Any] = {}
    for par in list(inspect.signature(fn).parameters.values())[1:]:
        if par.default is not par.empty or par.kind is par.VAR_KEYWORD:
            continue
        if par.name == "grad_out":
            shape = (4,) if name in ("logsumexp_grad", "logmeanexp_grad") else (4, 3) if name.startswith("glu") \
                else (4, 3) if name.startswith("maxout") else (4, 12) if name == "crelu_grad" else x.shape
            args.append(np.linspace(-1.0, 1.0, int(np.prod(shape))).reshape(shape))
        elif par.name == "weight":
            args.append(np.array([0.25]))
        elif par.name == "pieces":
            args.append(2)
        elif par.name == "bias":  # bias_act: one value per entry of the last axis
            args.append(np.linspace(-0.5, 0.5, x.shape[-1]))
        elif par.name == "name":
            args.append("gelu")
        else:
            kwargs[par.name] = REQUIRED_PARAMS.get(name.split("_grad")[0], {}).get(par.name, 0.5)
    return tuple(args), kwargs


_ALL_PUBLIC = sorted(n for n in fastact.__all__ if callable(getattr(fastact, n))
                     and "dtype" in inspect.signature(getattr(fastact, n)).parameters)


def test_every_array_function_takes_dtype() -> None:
    missing = [n for n in fastact.__all__ if n not in _ALL_PUBLIC and callable(getattr(fastact, n))
               and "x" in inspect.signature(getattr(fastact, n)).parameters]
    assert not missing, f"functions without dtype=: {missing}"
    assert len(_ALL_PUBLIC) > 60


@pytest.mark.parametrize("name", _ALL_PUBLIC)
def test_dtype_computes_and_returns_in_that_dtype(name: str) -> None:
    fn = getattr(fastact, name)
    x64 = np.linspace(-3.0, 3.0, 24).reshape(4, 6)
    args, kwargs = _call_args(name, x64)
    pair = name in ("prelu_grad", "bias_act_grad")  # (grad_x, grad_weight / grad_bias), no out=
    first = (lambda r: r[0]) if pair else (lambda r: r)
    for dtype in (np.float32, np.float64, np.float16):
        got = first(fn(*args, **kwargs, dtype=dtype))
        assert got.dtype == np.dtype(dtype), (name, dtype)
        # the same as casting the inputs first, bit for bit
        cast = tuple(a.astype(dtype) if isinstance(a, np.ndarray) else a for a in args)
        assert_bitwise_equal(got, first(fn(*cast, **kwargs)), f"{name}(dtype={np.dtype(dtype)})")
    # integers in, float32 asked for
    ints = tuple(np.rint(a * 2).astype(np.int32) if isinstance(a, np.ndarray) and a is args[0] else a for a in args)
    assert first(fn(*ints, **kwargs, dtype="float32")).dtype == np.float32
    for bad in ("int32", np.complex64, "not-a-dtype", np.bool_):
        with pytest.raises(TypeError, match="dtype"):
            fn(*args, **kwargs, dtype=bad)
    if not pair:  # out must have the dtype asked for
        with pytest.raises(TypeError, match="out has dtype float64"):
            fn(*args, **kwargs, dtype=np.float32, out=np.empty_like(np.asarray(fn(*args, **kwargs))))
