"""dask arrays: every function returns a lazy dask array whose computed value has the bits of the NumPy
result; along-an-axis functions give the right answer when the axis is split into several chunks; a
distributed cluster computes the same."""

from __future__ import annotations

from typing import Any

import fastact
import numpy as np
import pytest
from conftest import CASES, assert_bitwise_equal, case_mode_params

da = pytest.importorskip("dask.array")

ROWS = ("softmax", "log_softmax", "softmin", "logsumexp")


def _values(shape: tuple[int, ...], dtype: Any, seed: int = 1) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal(shape) * 4
    flat = x.reshape(-1)
    flat[:6] = [0.0, -0.0, 3.0, -3.0, 0.5, -0.5]  # kinks and thresholds of the defaults
    return x.astype(dtype)


def _lazy(result: Any, dtype: Any) -> np.ndarray:
    assert isinstance(result, da.Array), f"expected a lazy dask array, got {type(result).__name__}"
    assert result.dtype == np.dtype(dtype)
    value = result.compute(scheduler="sync")
    assert value.dtype == np.dtype(dtype)  # dtype stated in the graph is the one computed
    return value


@pytest.mark.parametrize(("case", "mode"), case_mode_params(CASES))
def test_elementwise_blocks_equal_numpy(case, mode) -> None:
    fn = case.public(mode)
    for dtype in (np.float32, np.float64):
        x = _values((23, 17), dtype)
        g = _values((23, 17), dtype, seed=2)
        dx, dg = da.from_array(x, chunks=(5, 6)), da.from_array(g, chunks=(7, 4))  # chunks that differ
        want = fn(x) if mode == "forward" else fn(x, g)
        got = _lazy(fn(dx) if mode == "forward" else fn(dx, dg), want.dtype)
        assert_bitwise_equal(got, want, f"{case.id} {mode} {np.dtype(dtype).name}")


def test_elementwise_mixed_inputs_dtypes_and_reference() -> None:
    x = _values((40,), np.float32)
    dx = da.from_array(x, chunks=7)
    assert_bitwise_equal(_lazy(fastact.silu_grad(x, dx), np.float32), fastact.silu_grad(x, x), "numpy x, dask g")
    assert_bitwise_equal(_lazy(fastact.silu_grad(dx, x), np.float32), fastact.silu_grad(x, x), "dask x, numpy g")
    assert_bitwise_equal(_lazy(fastact.gelu(dx, dtype=np.float16), np.float16),
                         fastact.gelu(x, dtype=np.float16), "dtype=float16")
    ints = da.arange(-5, 5, chunks=3, dtype=np.int16)
    assert_bitwise_equal(_lazy(fastact.sigmoid(ints), np.float32), fastact.sigmoid(np.arange(-5, 5, dtype=np.int16)),
                         "int16 -> float32")
    assert_bitwise_equal(_lazy(fastact.reference.elu(dx, alpha=0.5), np.float32),
                         fastact.reference.elu(x, alpha=0.5), "fastact.reference")
    zero_d = da.from_array(np.float64(0.5))
    assert_bitwise_equal(_lazy(fastact.tanh(zero_d), np.float64), np.asarray(fastact.tanh(np.float64(0.5))), "0-d")


def _boom(block: np.ndarray) -> np.ndarray:
    raise RuntimeError("computed too early")


def test_calls_are_lazy() -> None:
    """Nothing runs until .compute(): the blocks of this array raise when they are computed."""
    x = da.map_blocks(_boom, da.zeros((8, 6), chunks=(4, 3)), dtype=np.float64)
    results = [fastact.gelu(x), fastact.relu_grad(x, x), fastact.softmax(x, axis=0), fastact.logsumexp(x),
               fastact.glu(x), fastact.maxout(x, 3), fastact.prelu(x, np.ones(6)), *fastact.prelu_grad(x, x, 0.5)]
    for result in results:
        assert isinstance(result, da.Array)
    with pytest.raises(RuntimeError, match="computed too early"):
        results[0].compute(scheduler="sync")


def test_graph_names_the_function() -> None:
    y = fastact.gelu(da.ones(10, chunks=5))
    assert y.name.startswith("gelu-"), y.name
    assert fastact.softmax(da.ones((4, 4), chunks=2)).name.startswith("softmax-")


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_family_over_a_chunked_axis(axis: int, dtype: Any) -> None:
    x = _values((9, 14, 11), dtype)
    x[2, 3, :] = -np.inf  # a row of -inf, a NaN and a +inf: PyTorch's conventions, per row
    x[4, 5, 6] = np.nan
    x[5, :, 7] = np.inf
    dx = da.from_array(x, chunks=(4, 5, 3))  # every axis split into several chunks
    g = _values(x.shape, dtype, seed=3)
    dg = da.from_array(g, chunks=(2, 7, 5))
    for name in ROWS:
        fn, grad = getattr(fastact, name), getattr(fastact, name + "_grad")
        want = fn(x, axis=axis)
        assert_bitwise_equal(_lazy(fn(dx, axis=axis), dtype), want, f"{name} axis {axis}")
        if name == "logsumexp":
            gl = _values(want.shape, dtype, seed=4)
            assert_bitwise_equal(_lazy(grad(dx, da.from_array(gl, chunks=3), axis=axis), dtype),
                                 grad(x, gl, axis=axis), f"logsumexp_grad axis {axis}")
            kept = fastact.logsumexp(x, axis=axis, keepdims=True)
            assert_bitwise_equal(_lazy(fn(dx, axis=axis, keepdims=True), dtype), kept, "keepdims")
            assert_bitwise_equal(_lazy(grad(dx, kept, axis=axis, keepdims=True), dtype),
                                 grad(x, kept, axis=axis, keepdims=True), "logsumexp_grad keepdims")
            continue
        assert_bitwise_equal(_lazy(grad(dx, dg, axis=axis), dtype), grad(x, g, axis=axis), f"{name}_grad {axis}")
        from_output = getattr(fastact, name + "_grad_from_output")
        y = fn(x, axis=axis)
        assert_bitwise_equal(_lazy(from_output(da.from_array(y, chunks=(3, 3, 4)), dg, axis=axis), dtype),
                             from_output(y, g, axis=axis), f"{name}_grad_from_output {axis}")


def test_softmax_rows_still_sum_to_one_when_split() -> None:
    """The answer a per-chunk softmax would get wrong: each chunk normalised on its own."""
    x = np.arange(12.0).reshape(2, 6)
    p = fastact.softmax(da.from_array(x, chunks=(1, 2)), axis=1).compute()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    assert_bitwise_equal(p, fastact.softmax(x, axis=1), "split rows")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_glu_maxout_prelu_over_chunks(dtype: Any) -> None:
    x = _values((10, 12, 6), dtype)
    dx = da.from_array(x, chunks=(3, 5, 4))
    for gate in ("sigmoid", "silu", "gelu_tanh"):
        for axis in (1, -1):
            half = list(x.shape)
            half[axis] //= 2
            g = _values(tuple(half), dtype, seed=5)
            assert_bitwise_equal(_lazy(fastact.glu(dx, axis, gate=gate), dtype), fastact.glu(x, axis, gate=gate), gate)
            assert_bitwise_equal(_lazy(fastact.glu_grad(dx, da.from_array(g, chunks=2), axis, gate=gate), dtype),
                                 fastact.glu_grad(x, g, axis, gate=gate), f"glu_grad {gate}")
    g = _values((10, 4, 6), dtype, seed=6)
    assert_bitwise_equal(_lazy(fastact.maxout(dx, 3, axis=1), dtype), fastact.maxout(x, 3, axis=1), "maxout")
    assert_bitwise_equal(_lazy(fastact.maxout_grad(dx, g, 3, axis=1), dtype), fastact.maxout_grad(x, g, 3, axis=1),
                         "maxout_grad")
    gx = _values(x.shape, dtype, seed=7)
    for weight in (np.linspace(0.05, 0.6, 12).astype(dtype), np.array([0.25], dtype)):
        for w in (weight, da.from_array(weight, chunks=5)):
            assert_bitwise_equal(_lazy(fastact.prelu(dx, w), dtype), fastact.prelu(x, weight), "prelu")
            lazy_x, lazy_w = fastact.prelu_grad(dx, da.from_array(gx, chunks=4), w)
            want_x, want_w = fastact.prelu_grad(x, gx, weight)
            assert_bitwise_equal(_lazy(lazy_x, dtype), want_x, "prelu_grad x")
            got_w = _lazy(lazy_w, dtype)
            assert got_w.shape == want_w.shape
            # float64 partial sums per block, added by dask: the same sum in another order, so equal up to the
            # float64 rounding of the additions (n * eps * sum|terms|) plus the final rounding to dtype.
            terms = np.abs(np.where(x > 0, 0.0, gx.astype(np.float64) * x))
            scale = terms.sum() if weight.size == 1 else terms.sum(axis=(0, 2))
            tolerance = x.size * np.finfo(np.float64).eps * scale + np.finfo(dtype).eps * np.abs(want_w)
            assert np.all(np.abs(got_w.astype(np.float64) - want_w) <= tolerance), (got_w, want_w)


def test_errors_are_raised_when_the_graph_is_built() -> None:
    dx = da.ones((4, 6), chunks=(2, 4))
    with pytest.raises(ValueError, match=r"softplus\(\): beta=0 is not allowed"):
        fastact.softplus(dx, beta=0)
    with pytest.raises(TypeError, match="fastact does not support arrays of dtype complex128"):
        fastact.gelu(da.ones(3, dtype=complex))
    with pytest.raises(ValueError, match="grad_out has shape .* fastact does not broadcast"):
        fastact.gelu_grad(dx, np.ones(6))
    with pytest.raises(ValueError, match="glu splits it into two equal halves"):
        fastact.glu(da.ones((4, 5), chunks=2))
    with pytest.raises(ValueError, match="must be >= 1 and divide the size 6"):
        fastact.maxout(dx, 4)
    with pytest.raises(ValueError, match="weight must hold 1 value or one per channel"):
        fastact.prelu(dx, np.ones(3))
    with pytest.raises(ValueError, match="grad_out has shape"):
        fastact.softmax_grad(dx, np.ones((3, 6)))
    with pytest.raises(np.exceptions.AxisError):
        fastact.softmax(dx, axis=2)
    for call in (lambda: fastact.gelu(dx, out=np.empty((4, 6))), lambda: fastact.softmax(dx, out=np.empty((4, 6)))):
        with pytest.raises(TypeError, match="out= cannot be used with a dask array input"):
            call()
    with pytest.raises(TypeError, match="with dask inputs the result is a new lazy dask array"):
        fastact.gelu(np.ones(3), out=da.ones(3))


def test_registered_activation_maps_over_blocks(registered: list[str]) -> None:
    entry = fastact.register("cube_test", lambda v: v**3, lambda v: 3 * v**2)
    registered.append("cube_test")
    x = np.linspace(-2, 2, 11)
    dx = da.from_array(x, chunks=4)
    assert_bitwise_equal(_lazy(entry.forward(dx), np.float64), x**3, "registered forward")
    assert_bitwise_equal(_lazy(entry.grad(dx, dx), np.float64), x * (3 * x**2), "registered grad")


@pytest.fixture
def registered():
    from fastact import _registry

    names: list[str] = []
    yield names
    for name in names:
        _registry._REGISTRY.pop(name, None)


# --------------------------------------------------------------------------------------------------------
# distributed
# --------------------------------------------------------------------------------------------------------


def _cluster_check(processes: bool) -> None:
    distributed = pytest.importorskip("distributed")
    x = _values((64, 90), np.float32)
    dx = da.from_array(x, chunks=(16, 25))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        lazy = [fastact.gelu(dx), fastact.silu_grad(dx, dx), fastact.softmax(dx, axis=0),
                fastact.logsumexp(dx), fastact.reference.mish(dx)]
        got = client.compute(lazy, sync=True)
        workers = client.run(lambda: __import__("fastact").backend())
    assert len(workers) == 2
    want = [fastact.gelu(x), fastact.silu_grad(x, x), fastact.softmax(x, axis=0), fastact.logsumexp(x),
            fastact.reference.mish(x)]
    for g, w, label in zip(got, want, ["gelu", "silu_grad", "softmax", "logsumexp", "reference.mish"]):
        assert_bitwise_equal(g, w, f"{label} on a LocalCluster (processes={processes})")


def test_local_cluster_threads() -> None:
    _cluster_check(processes=False)


def test_local_cluster_processes() -> None:
    """Worker processes: the graph (fastact's block functions) is pickled and fastact imported there."""
    _cluster_check(processes=True)
