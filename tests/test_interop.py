"""Inputs from other libraries: DLPack tensors (PyTorch, JAX), buffers (memoryview, array.array) and
``__array__`` objects are read where they lie, results are NumPy arrays, and ``out=`` stays an ndarray."""

from __future__ import annotations

import array
import tracemalloc
from typing import Any

import fastact
import numpy as np
import pytest
from conftest import CASES, assert_bitwise_equal, case_mode_params
from fastact import _interop

try:
    import torch
except ImportError:  # pragma: no cover - torch is optional here
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")


def _values(n: int = 257, dtype: Any = np.float32) -> np.ndarray:
    v = np.linspace(-7.5, 7.5, n).astype(dtype)
    v[:4] = [0.0, -0.0, 3.0, -3.0]
    return v


def _peak_bytes(call, *args: Any) -> int:
    """Memory NumPy allocated during ``call(*args)`` (its data buffers are traced by tracemalloc)."""
    call(*args)  # warm-up: first-call caches are not what this is about
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        call(*args)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------------------------------------
# PyTorch (DLPack)
# --------------------------------------------------------------------------------------------------------


@needs_torch
@pytest.mark.parametrize(("case", "mode"), case_mode_params(CASES))
def test_torch_tensor_gives_the_numpy_result_bitwise(case, mode) -> None:
    for dtype in (np.float32, np.float64):
        x = _values(dtype=dtype)
        g = x[::-1].copy()
        fn = case.public(mode)
        t, tg = torch.from_numpy(x.copy()), torch.from_numpy(g)
        got = fn(t) if mode == "forward" else fn(t, tg)
        want = fn(x) if mode == "forward" else fn(x, g)
        assert isinstance(got, np.ndarray), type(got)
        assert_bitwise_equal(got, want, f"{case.id} {mode} {np.dtype(dtype).name}")


@needs_torch
def test_torch_along_an_axis_functions() -> None:
    x = np.random.default_rng(7).standard_normal((6, 10)).astype(np.float32)
    t = torch.from_numpy(x.copy())
    g, tg = x[:, ::-1].copy(), torch.from_numpy(x[:, ::-1].copy())
    for name in ("softmax", "log_softmax", "softmin", "logsumexp"):
        for axis in (0, 1):
            assert_bitwise_equal(getattr(fastact, name)(t, axis=axis), getattr(fastact, name)(x, axis=axis), name)
        gg = fastact.logsumexp(x) if name == "logsumexp" else g
        tgg = torch.from_numpy(gg) if name == "logsumexp" else tg
        assert_bitwise_equal(getattr(fastact, name + "_grad")(t, tgg), getattr(fastact, name + "_grad")(x, gg), name)
    assert_bitwise_equal(fastact.glu(t, gate="silu"), fastact.glu(x, gate="silu"), "glu")
    assert_bitwise_equal(fastact.maxout(t, 2), fastact.maxout(x, 2), "maxout")
    w = np.linspace(0.1, 0.6, 10).astype(np.float32)
    assert_bitwise_equal(fastact.prelu(t, torch.from_numpy(w)), fastact.prelu(x, w), "prelu weight as a tensor")
    for got, want in zip(fastact.prelu_grad(t, tg, torch.from_numpy(w)), fastact.prelu_grad(x, g, w)):
        assert_bitwise_equal(got, want, "prelu_grad")


@needs_torch
def test_torch_tensor_is_viewed_not_copied() -> None:
    t = torch.arange(12.0, dtype=torch.float32).reshape(3, 4).T  # a transposed (strided) view
    a = _interop.as_array(t, "x")
    assert a.__array_interface__["data"][0] == t.data_ptr()
    assert a.strides == tuple(s * t.element_size() for s in t.stride())
    assert np.shares_memory(a, t.numpy())


@needs_torch
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "every other"])
def test_torch_input_costs_no_more_memory_than_the_numpy_array(layout: str) -> None:
    """End to end: a call on a 4 MB tensor allocates no more NumPy memory than the same call on the NumPy
    view of it; a copy of the input (as np.array(t) makes) would show here as 4 MB more. (The native
    kernels allocate nothing with out= given; the NumPy reference its float64 temporaries, on both.)"""
    t = torch.linspace(-3.0, 3.0, 1_000_000, dtype=torch.float32)
    t = {"contiguous": t, "transposed": t.reshape(1000, 1000).T, "every other": t[::2]}[layout]
    a = t.numpy()
    out = np.empty(tuple(t.shape), np.float32)
    copy_bytes = t.numel() * 4
    assert _peak_bytes(lambda: np.from_dlpack(t).copy()) >= copy_bytes  # the measure sees a copy
    calls = [lambda v: fastact.gelu(v, out=out), lambda v: fastact.sigmoid_grad(v, v, out=out)]
    if t.dim() == 2:
        calls.append(lambda v: fastact.softmax(v, axis=0, out=out))
    for call in calls:
        assert _peak_bytes(call, t) - _peak_bytes(call, a) < copy_bytes // 8, layout
        if fastact.backend() == "native":
            assert _peak_bytes(call, t) < copy_bytes // 8, layout
    assert_bitwise_equal(fastact.gelu(t), fastact.gelu(a), layout)


@needs_torch
def test_torch_out_gives_a_clear_type_error_and_from_dlpack_writes_into_a_tensor() -> None:
    x = torch.linspace(-2.0, 2.0, 9)
    for call in (lambda o: fastact.gelu(x, out=o), lambda o: fastact.softmax(x, out=o),
                 lambda o: fastact.relu_grad(x, x, out=o)):
        with pytest.raises(TypeError, match=r"out must be a numpy\.ndarray, got torch\.Tensor.*from_dlpack"):
            call(torch.empty(9))
    target = torch.zeros(9)
    result = fastact.gelu(x, out=np.from_dlpack(target))  # the documented way: the tensor's own memory
    assert isinstance(result, np.ndarray)
    assert_bitwise_equal(target.numpy(), fastact.gelu(x.numpy()), "written into the tensor")


@needs_torch
def test_torch_tensor_that_requires_grad_is_refused_with_torchs_advice() -> None:
    with pytest.raises(TypeError, match="could not be converted.*detach"):
        fastact.gelu(torch.ones(3, requires_grad=True))
    assert_bitwise_equal(fastact.gelu(torch.ones(3, requires_grad=True).detach()),
                         fastact.gelu(np.ones(3, np.float32)), "detached")


@needs_torch
def test_torch_dtypes_follow_numpy() -> None:
    ints = torch.arange(-3, 4, dtype=torch.int16)
    assert_bitwise_equal(fastact.sigmoid(ints), fastact.sigmoid(ints.numpy()), "int16")
    half = torch.linspace(-3, 3, 7, dtype=torch.float16)
    assert_bitwise_equal(fastact.silu(half), fastact.silu(half.numpy()), "float16")
    with pytest.raises(TypeError, match="could not be converted"):  # NumPy has no bfloat16 DLPack import
        fastact.gelu(torch.ones(3, dtype=torch.bfloat16))


# --------------------------------------------------------------------------------------------------------
# Buffers, __array__, devices
# --------------------------------------------------------------------------------------------------------


def test_memoryview_and_array_array() -> None:
    x = _values(dtype=np.float64)
    mv = memoryview(x)
    assert np.shares_memory(_interop.as_array(mv, "x"), x)
    assert_bitwise_equal(fastact.silu(mv), fastact.silu(x), "memoryview")
    assert_bitwise_equal(fastact.softmax(mv), fastact.softmax(x), "memoryview softmax")
    arr = array.array("f", _values().tolist())
    view = _interop.as_array(arr, "x")
    assert view.dtype == np.float32 and view.__array_interface__["data"][0] == arr.buffer_info()[0]
    assert_bitwise_equal(fastact.tanh(arr), fastact.tanh(np.asarray(arr)), "array.array")
    grid = memoryview(np.arange(12, dtype=np.float32).reshape(3, 4)).cast("B").cast("f", (3, 4))
    assert_bitwise_equal(fastact.gelu(grid), fastact.gelu(np.arange(12, dtype=np.float32).reshape(3, 4)), "2-d")
    with pytest.raises(TypeError, match=r"out must be a numpy\.ndarray, got memoryview"):
        fastact.gelu(x, out=memoryview(np.empty_like(x)))


class _ArrayOnly:
    """An object NumPy knows only through __array__."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data


class _DLPackOnly:
    """A DLPack producer without __array__ or the buffer protocol (as a minimal array library would be)."""

    def __init__(self, data: np.ndarray, device: tuple[int, int] = (1, 0)) -> None:
        self.data, self.device = data, device

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self.data.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self.device


def test_array_protocol_and_dlpack_only_objects() -> None:
    x = _values()
    assert np.shares_memory(_interop.as_array(_ArrayOnly(x), "x"), x)
    assert_bitwise_equal(fastact.mish(_ArrayOnly(x)), fastact.mish(x), "__array__")
    assert np.shares_memory(_interop.as_array(_DLPackOnly(x), "x"), x)
    assert_bitwise_equal(fastact.mish(_DLPackOnly(x)), fastact.mish(x), "__dlpack__ only")
    assert_bitwise_equal(fastact.logsumexp(_DLPackOnly(x)), fastact.logsumexp(x), "__dlpack__ only, logsumexp")


def test_dlpack_on_another_device_is_refused_by_name() -> None:
    gpu = _DLPackOnly(_values(), device=(2, 1))
    for call in (fastact.gelu, fastact.softmax, lambda v: fastact.gelu_grad(_values(), v)):
        with pytest.raises(TypeError, match=r"CUDA memory \(device 1\); fastact computes on the CPU"):
            call(gpu)


# --------------------------------------------------------------------------------------------------------
# JAX (optional)
# --------------------------------------------------------------------------------------------------------


def test_jax_cpu_array() -> None:
    jax = pytest.importorskip("jax")
    x = _values()
    # On the CPU device explicitly: where JAX also sees a GPU, its default device is the GPU (a lent GPU
    # machine failed this test with "x is in CUDA memory" before).
    jx = jax.device_put(x, jax.devices("cpu")[0])
    view = _interop.as_array(jx, "x")
    assert view.__array_interface__["data"][0] == jx.unsafe_buffer_pointer()
    for name in ("gelu", "silu_grad", "softmax"):
        fn = getattr(fastact, name)
        got = fn(jx) if not name.endswith("_grad") else fn(jx, jx)
        want = fn(x) if not name.endswith("_grad") else fn(x, x)
        assert isinstance(got, np.ndarray)
        assert_bitwise_equal(got, want, f"jax {name}")


def test_the_registry_converts_through_the_one_helper() -> None:
    from fastact import _registry

    assert _registry._as_input is _interop.as_array


MASKED_CALLS = {
    "tanh": lambda m, x: fastact.tanh(m),
    "tanh_grad (grad_out)": lambda m, x: fastact.tanh_grad(x, m),
    "gelu out=": lambda m, x: fastact.gelu(m, out=np.empty_like(x)),
    "gelu (out=)": lambda m, x: fastact.gelu(x, out=m),
    "softmax (out=)": lambda m, x: fastact.softmax(x, out=m),
    "glu (out=)": lambda m, x: fastact.glu(x, out=m[:, :2]),
    "bias_act (out=)": lambda m, x: fastact.bias_act(x, np.zeros(x.shape[-1], x.dtype), "gelu", out=m),
    "softmax": lambda m, x: fastact.softmax(m),
    "log_softmax_grad (grad_out)": lambda m, x: fastact.log_softmax_grad(x, m),
    "logsumexp": lambda m, x: fastact.logsumexp(m),
    "glu": lambda m, x: fastact.glu(m),
    "maxout": lambda m, x: fastact.maxout(m, 2),
    "prelu": lambda m, x: fastact.prelu(m, np.full(1, 0.25, x.dtype)),
    "prelu (weight)": lambda m, x: fastact.prelu(x, m[:, :1].reshape(-1)[:1]),
    "crelu": lambda m, x: fastact.crelu(m),
    "bias_act": lambda m, x: fastact.bias_act(m, np.zeros(x.shape[-1], x.dtype), "gelu"),
    "bias_act (bias)": lambda m, x: fastact.bias_act(x, m[0], "gelu"),
}


@pytest.mark.parametrize("call", list(MASKED_CALLS))
def test_masked_arrays_are_refused_with_what_to_do(call: str) -> None:
    # fastact computes every element: a masked operand would lose its mask or, along an axis, contribute its
    # masked entries to the visible ones (a softmax whose visible entries do not sum to 1). Refused instead,
    # on the native fast paths and the Python paths alike, with the way out in the message.
    x = np.linspace(-2, 2, 8, dtype=np.float32).reshape(2, 4)
    masked = np.ma.masked_array(x, mask=x > 1)
    with pytest.raises(TypeError, match=r"masked array \(numpy.ma\).*getdata"):
        MASKED_CALLS[call](masked, x)


def test_the_masked_array_message_points_the_softmax_family_to_where() -> None:
    x = np.ma.masked_array(np.array([1.0, 2.0, 3.0], np.float32), mask=[False, False, True])
    with pytest.raises(TypeError, match=r"where=~numpy.ma.getmaskarray\(x\)") as raised:
        fastact.softmax(x)
    # ... which gives the softmax over the kept entries, the masked one 0.
    kept = fastact.softmax(np.ma.getdata(x), where=~np.ma.getmaskarray(x))
    assert kept[2] == 0 and kept[:2].sum() == pytest.approx(1.0)
    assert "where" in str(raised.value)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # numpy.matrix
def test_other_ndarray_subclasses_compute_as_plain_arrays(tmp_path: Any) -> None:
    # memmap and matrix: their own memory, read in place, with plain ndarray results (out= a memmap is
    # written and returned as it is).
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    mapped = np.memmap(tmp_path / "x.bin", dtype=np.float32, mode="w+", shape=x.shape)
    mapped[:] = x
    for subclass in (mapped, np.asmatrix(x)):
        for fn in (fastact.gelu, fastact.softmax, fastact.glu, lambda v: fastact.maxout(v, 2)):
            got = fn(subclass)
            assert type(got) is np.ndarray
            assert_bitwise_equal(got, fn(x), f"{type(subclass).__name__}")
        assert_bitwise_equal(fastact.tanh_grad(x, subclass), fastact.tanh_grad(x, x), "grad_out subclass")
    out = np.memmap(tmp_path / "out.bin", dtype=np.float32, mode="w+", shape=x.shape)
    assert fastact.tanh(mapped, out=out) is out
    assert_bitwise_equal(np.asarray(out), fastact.tanh(x), "memmap out")
