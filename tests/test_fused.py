"""Issue 8: fused bias + activation (bias_act, bias_act_grad).

bias_act(x, bias, NAME) must be bitwise fastact.NAME(x + bias) computed in x's dtype, and bias_act_grad's
grad_x bitwise fastact.NAME_grad(x + bias, grad_out), on every layout, axis, dtype and thread count;
grad_bias is checked against an exactly rounded sum (math.fsum) and both against finite differences.
Runs on both backends (FASTACT_DISABLE_NATIVE=1 too).
"""

from __future__ import annotations

import math
from typing import Any

import fastact
import numpy as np
import pytest
from conftest import IS_NATIVE, assert_bitwise_equal, native_only

#: (name, parameters): plain, with parameters, a choice parameter, aliases that bind one, an exact-path
#: kernel (sine patches large arguments), required parameters (threshold).
CASES = [
    ("gelu", {}),
    ("gelu", {"approximate": "tanh"}),
    ("gelu_new", {}),
    ("quick_gelu", {}),
    ("silu", {}),
    ("swish", {"beta": 1.5}),
    ("relu", {}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("softplus", {"beta": 2.0, "threshold": 5.0}),
    ("elu", {"alpha": 0.5}),
    ("hard_tanh", {"min_val": -0.5, "max_val": 2.0}),
    ("sine", {"w0": 30.0}),
    ("threshold", {"threshold": 0.1, "value": -3.0}),
    ("sigmoid", {}),
]
DTYPES = [np.float32, np.float64, np.float16]


def _case_id(case: tuple[str, dict[str, Any]]) -> str:
    name, params = case
    return name + "".join(f"-{k}={v}" for k, v in params.items())


def data(shape: tuple[int, ...], dtype: Any, seed: int = 0) -> np.ndarray:
    """Values across the interesting range, with ±0, ±inf, NaN and huge values sprinkled in."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 4
    flat = x.reshape(-1)
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e4, -1e4, 1e30, 3.0e-8]
    flat[rng.choice(flat.size, size=min(len(specials), flat.size), replace=False)] = specials[: flat.size]
    with np.errstate(over="ignore"):
        return x.astype(dtype)


def bias_for(x: np.ndarray, axis: int, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(x.shape[axis]) * 2).astype(x.dtype)


def broadcast(bias: np.ndarray, ndim: int, axis: int) -> np.ndarray:
    shape = [1] * ndim
    shape[axis] = bias.size
    return bias.reshape(shape)


def two_pass(x: np.ndarray, bias: np.ndarray, name: str, axis: int, params: dict[str, Any]) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return getattr(fastact, name)(x + broadcast(bias, x.ndim, axis), **params)


# ---------------------------------------------------------------------------------------------------------
# Forward: bitwise the two-pass result
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_bitwise_two_pass_every_axis(case: tuple[str, dict[str, Any]], dtype: Any) -> None:
    name, params = case
    # the last axis longer than the driver's 256-element block, so rows are cut into blocks
    x = data((3, 5, 600), dtype)
    for axis in (-1, 0, 1):
        bias = bias_for(x, axis)
        got = fastact.bias_act(x, bias, name, axis, **params)
        assert_bitwise_equal(got, two_pass(x, bias, name, axis, params), f"{name} axis={axis}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layouts(dtype: Any) -> None:
    base = data((40, 70), dtype, seed=3)
    views = {
        "strided": base[:, ::2],
        "transposed": base.T,
        "reversed": base[::-1, ::-1],
        "fortran": np.asfortranarray(base),
        "3d-moved": np.moveaxis(data((4, 6, 9), dtype, seed=4), 0, 2),
        "1d": base[0],
    }
    for label, x in views.items():
        for axis in range(-x.ndim, x.ndim):
            bias = bias_for(x, axis)
            for name, params in (("gelu", {}), ("silu", {}), ("relu", {})):
                got = fastact.bias_act(x, bias, name, axis=axis, **params)
                assert_bitwise_equal(got, two_pass(x, bias, name, axis, params), f"{label} axis={axis} {name}")


def test_non_contiguous_and_cast_bias() -> None:
    x = data((8, 10), np.float32)
    bias64 = np.random.default_rng(5).standard_normal(20)[::2]  # strided float64: cast to float32 first
    got = fastact.bias_act(x, bias64, "gelu")
    assert got.dtype == np.float32
    assert_bitwise_equal(got, fastact.gelu(x + bias64.astype(np.float32)))
    assert_bitwise_equal(fastact.bias_act(x, list(bias64), "gelu"), got)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out(dtype: Any) -> None:
    x = data((16, 300), dtype, seed=6)
    bias = bias_for(x, -1)
    want = two_pass(x, bias, "gelu", -1, {})
    out = np.empty_like(x)
    assert fastact.bias_act(x, bias, "gelu", out=out) is out
    assert_bitwise_equal(out, want)
    inplace = x.copy()
    assert fastact.bias_act(inplace, bias, "gelu", out=inplace) is inplace
    assert_bitwise_equal(inplace, want, "out=x")
    strided = np.empty((16, 600), dtype)[:, ::2]
    fastact.bias_act(x, bias, "gelu", out=strided)
    assert_bitwise_equal(strided, want, "strided out")
    # out overlapping x partially, and out holding the bias: computed as with a separate out
    buf = np.concatenate([x.ravel(), np.zeros(300, dtype)])
    shifted_in, shifted_out = buf[:-300].reshape(x.shape), buf[300:].reshape(x.shape)
    fastact.bias_act(shifted_in, bias, "gelu", out=shifted_out)
    assert_bitwise_equal(shifted_out, want, "overlapping out")
    holder = np.zeros((17, 300), dtype)
    holder[16] = bias
    fastact.bias_act(x, holder[16], "gelu", axis=-1, out=holder[1:])
    assert_bitwise_equal(holder[1:], want, "out holds the bias")


def test_dtype_argument_and_integers() -> None:
    x = np.arange(-6, 6).reshape(3, 4)
    bias = np.array([0.5, -0.25, 1.0, 0.0])
    got = fastact.bias_act(x, bias, "silu", dtype=np.float32)
    assert got.dtype == np.float32
    assert_bitwise_equal(got, fastact.silu(x.astype(np.float32) + bias.astype(np.float32)))
    assert fastact.bias_act(x, bias, "silu").dtype == np.float64


@native_only
def test_thread_count_does_not_change_bits() -> None:
    x = data((512, 1024), np.float32, seed=7)
    bias = bias_for(x, -1)
    want = two_pass(x, bias, "gelu", -1, {})
    for threads in (1, 2, 3):
        with fastact.num_threads(threads):
            assert_bitwise_equal(fastact.bias_act(x, bias, "gelu"), want, f"{threads} threads")
            gx, gb = fastact.bias_act_grad(x, x, bias, "gelu")
            if threads == 1:
                first = gb
            assert_bitwise_equal(gb, first, f"grad_bias, {threads} threads")


def test_reference_module() -> None:
    x = data((6, 7), np.float64)
    bias = bias_for(x, 0)
    got = fastact.reference.bias_act(x, bias, "gelu_new", axis=0)
    assert_bitwise_equal(got, fastact.reference.gelu(x + bias[:, None], approximate="tanh"))


# ---------------------------------------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_grad_x_bitwise_and_grad_bias(case: tuple[str, dict[str, Any]], dtype: Any) -> None:
    name, params = case
    x = data((6, 5, 300), dtype, seed=8)
    g = data((6, 5, 300), dtype, seed=9)
    g[~np.isfinite(g)] = 1.0
    for axis in (-1, 0, 1):
        bias = bias_for(x, axis)
        grad_x, grad_bias = fastact.bias_act_grad(x, g, bias, name, axis, **params)
        with np.errstate(over="ignore", invalid="ignore"):
            want = getattr(fastact, name + "_grad")(x + broadcast(bias, x.ndim, axis), g, **params)
        assert_bitwise_equal(grad_x, want, f"{name} grad_x axis={axis}")
        assert grad_bias.shape == bias.shape and grad_bias.dtype == x.dtype
        moved = np.moveaxis(want.astype(np.float64), axis, 0).reshape(bias.size, -1)
        exact = np.array([math.fsum(row) if np.isfinite(row).all() else np.sum(row) for row in moved])
        # float64 accumulation, rounded once: within 1e-6 (float32) / 1e-12 (float64) of Σ|terms|
        scale = np.abs(moved).sum(axis=1)
        tol = 1e-6 if dtype == np.float32 else 1e-12
        finite = np.isfinite(exact)
        assert np.all(np.abs(grad_bias[finite].astype(np.float64) - exact[finite]) <= tol * scale[finite] + 1e-300)
        if IS_NATIVE:  # C-contiguous grad_x: the native channel sums, an ULP at most
            np.testing.assert_array_max_ulp(grad_bias[finite], exact[finite].astype(dtype), maxulp=1)
        np.testing.assert_array_equal(np.isnan(grad_bias), np.isnan(exact), f"{name} NaN sums")


@pytest.mark.parametrize("name,params", [("gelu", {}), ("silu", {}), ("softplus", {"beta": 2.0}),
                                         ("gelu", {"approximate": "tanh"})])
def test_grads_against_finite_differences(name: str, params: dict[str, Any]) -> None:
    rng = np.random.default_rng(12)
    x = rng.standard_normal((3, 4, 5))
    g = rng.standard_normal((3, 4, 5))
    h = 1e-6
    for axis in (0, 1, 2):
        bias = rng.standard_normal(x.shape[axis])
        grad_x, grad_bias = fastact.bias_act_grad(x, g, bias, name, axis, **params)

        def loss(xv: np.ndarray, bv: np.ndarray, axis: int = axis) -> float:
            return float(np.sum(g * fastact.bias_act(xv, bv, name, axis, **params)))

        numeric_x = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            xp, xm = x.copy(), x.copy()
            xp[i] += h
            xm[i] -= h
            numeric_x[i] = (loss(xp, bias) - loss(xm, bias)) / (2 * h)
        numeric_b = np.array([(loss(x, bias + h * e) - loss(x, bias - h * e)) / (2 * h) for e in np.eye(bias.size)])
        np.testing.assert_allclose(grad_x, numeric_x, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(grad_bias, numeric_b, rtol=1e-5, atol=1e-7)


def test_grad_dtypes_and_float16() -> None:
    x = data((4, 300), np.float16, seed=13)
    g = np.ones_like(x)
    bias = bias_for(x, -1)
    grad_x, grad_bias = fastact.bias_act_grad(x, g, bias, "gelu")
    assert grad_x.dtype == grad_bias.dtype == np.float16
    assert_bitwise_equal(grad_x, fastact.gelu_grad(x + bias, g))
    assert_bitwise_equal(grad_bias, np.sum(grad_x, axis=0, dtype=np.float64).astype(np.float16))


# ---------------------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------------------


def test_bad_input() -> None:
    x = np.ones((3, 4), np.float32)
    bias = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match=r"bias has shape \(3,\) but \(4,\) is expected"):
        fastact.bias_act(x, np.zeros(3, np.float32), "gelu")
    with pytest.raises(ValueError, match="bias has shape"):
        fastact.bias_act(x, np.zeros((1, 4), np.float32), "gelu")
    with pytest.raises(ValueError, match="bias has shape"):
        fastact.bias_act(x, 0.5, "gelu")
    with pytest.raises(KeyError, match="did you mean .*'gelu'"):
        fastact.bias_act(x, bias, "gleu")
    with pytest.raises(TypeError, match="name must be an activation name"):
        fastact.bias_act(x, bias, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not an elementwise activation"):
        fastact.bias_act(x, bias, "softmax")
    with pytest.raises(np.exceptions.AxisError):
        fastact.bias_act(x, bias, "gelu", axis=2)
    with pytest.raises(np.exceptions.AxisError):
        fastact.bias_act(x, bias, "gelu", axis=-3)
    with pytest.raises(np.exceptions.AxisError, match="0-d"):
        fastact.bias_act(np.float32(1.0), bias[:1], "gelu")
    with pytest.raises(TypeError, match="axis must be an integer"):
        fastact.bias_act(x, bias, "gelu", axis=1.5)
    for bad_dtype in (np.complex64, object, "U3"):
        with pytest.raises(TypeError, match="does not support"):
            fastact.bias_act(x.astype(bad_dtype), bias, "gelu")
        with pytest.raises(TypeError, match="does not support"):
            fastact.bias_act(x, bias.astype(bad_dtype), "gelu")
    with pytest.raises(TypeError):
        fastact.bias_act(x, bias, "gelu", dtype=np.int32)
    with pytest.raises(ValueError, match="out has shape"):
        fastact.bias_act(x, bias, "gelu", out=np.empty((4, 3), np.float32))
    with pytest.raises(TypeError, match="out has dtype"):
        fastact.bias_act(x, bias, "gelu", out=np.empty((3, 4), np.float64))
    readonly = np.empty((3, 4), np.float32)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fastact.bias_act(x, bias, "gelu", out=readonly)
    with pytest.raises(ValueError, match="grad_out has shape"):
        fastact.bias_act_grad(x, np.ones((4, 3), np.float32), bias, "gelu")


def test_parameters_are_checked_as_the_activation_checks_them() -> None:
    x = np.ones((2, 3))
    bias = np.zeros(3)
    for name, params in [("gelu", {"approximate": "fast"}), ("leaky_relu", {"negative_slope": np.nan}),
                         ("softplus", {"beta": 0.0}), ("threshold", {"threshold": 1.0})]:
        with pytest.raises((ValueError, TypeError)) as direct:
            getattr(fastact, name)(x, **params)
        with pytest.raises(type(direct.value)) as fused:
            fastact.bias_act(x, bias, name, **params)
        assert str(fused.value) == str(direct.value), name
    with pytest.raises(TypeError, match="unexpected keyword argument 'approximate'"):
        fastact.bias_act(x, bias, "gelu_new", approximate="none")  # bound by the alias
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        fastact.bias_act(x, bias, "relu", alpha=1.0)


def test_empty_and_names() -> None:
    x = np.ones((0, 4), np.float32)
    assert fastact.bias_act(x, np.zeros(4, np.float32), "relu").shape == (0, 4)
    gx, gb = fastact.bias_act_grad(x, x, np.zeros(4, np.float32), "relu")
    assert gx.shape == (0, 4) and gb.tolist() == [0.0] * 4
    y = np.ones((3, 0), np.float32)
    assert fastact.bias_act(y, np.zeros(0, np.float32), "relu", axis=1).shape == (3, 0)
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    bias = np.arange(4.0)
    # names as fastact.get takes them: aliases, case, dashes
    assert_bitwise_equal(fastact.bias_act(x, bias, "SiLU"), fastact.silu(x + bias))
    assert_bitwise_equal(fastact.bias_act(x, bias, "gelu-new"), fastact.gelu_new(x + bias))
    assert_bitwise_equal(fastact.bias_act(x, bias, "expit"), fastact.sigmoid(x + bias))


def test_bfloat16() -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    x = data((4, 300), np.float32, seed=14).astype(ml_dtypes.bfloat16)
    bias = bias_for(data((4, 300), np.float32), -1).astype(ml_dtypes.bfloat16)
    got = fastact.bias_act(x, bias, "gelu")
    assert got.dtype == x.dtype
    assert_bitwise_equal(got, fastact.gelu(x + bias))
    grad_x, _ = fastact.bias_act_grad(x, x, bias, "silu", axis=-1)
    assert_bitwise_equal(grad_x, fastact.silu_grad(x + bias, x))


@pytest.mark.parametrize("axis", [0, -1])
def test_dask_arrays_are_lazy_and_give_the_in_memory_result(axis: int) -> None:
    """x, grad_out or the bias as dask arrays: lazy results, the in-memory bits for bias_act and grad_x, and
    grad_bias (float64 partial sums per block) equal to the in-memory one after rounding here."""
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((300, 70)).astype(np.float32)
    grad_out = rng.standard_normal(x.shape).astype(np.float32)
    bias = rng.standard_normal(x.shape[axis]).astype(np.float32)
    lazy_x = da.from_array(x, chunks=(64, 32))
    y = fastact.bias_act(lazy_x, da.from_array(bias, chunks=17), "softplus", axis=axis, beta=2.0)
    assert isinstance(y, da.Array) and y.dtype == np.float32
    assert_bitwise_equal(y.compute(), fastact.bias_act(x, bias, "softplus", axis=axis, beta=2.0))
    grad_x, grad_bias = fastact.bias_act_grad(lazy_x, da.from_array(grad_out, chunks=(100, 10)), bias, "silu",
                                              axis=axis)
    assert isinstance(grad_x, da.Array) and isinstance(grad_bias, da.Array)
    want_x, want_bias = fastact.bias_act_grad(x, grad_out, bias, "silu", axis=axis)
    assert_bitwise_equal(grad_x.compute(), want_x)
    assert grad_bias.dtype == np.float32 and grad_bias.shape == want_bias.shape
    np.testing.assert_allclose(grad_bias.compute(), want_bias, rtol=2**-23, atol=0)


def test_dask_errors_are_raised_when_the_graph_is_built() -> None:
    da = pytest.importorskip("dask.array")
    x = da.zeros((8, 6), chunks=4, dtype=np.float32)
    with pytest.raises(ValueError, match="bias has shape"):
        fastact.bias_act(x, np.zeros(5, np.float32), "gelu")
    with pytest.raises(TypeError, match="out= cannot be used with a dask array"):
        fastact.bias_act(x, np.zeros(6, np.float32), "gelu", out=np.empty((8, 6), np.float32))
    with pytest.raises(ValueError, match="not an elementwise activation"):
        fastact.bias_act(x, np.zeros(6, np.float32), "softmax")
    with pytest.raises(ValueError, match="grad_out has shape"):
        fastact.bias_act_grad(x, np.zeros((8, 5), np.float32), np.zeros(6, np.float32), "gelu")
