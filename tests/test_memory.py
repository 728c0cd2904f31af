"""Memory: no leak over a million calls, and byte strides beyond 32 bits indexed correctly (cheap: a sparse
memory-mapped file, of which only the touched pages exist)."""

from __future__ import annotations

import os
import sys

import fastact
import numpy as np
import pytest
from conftest import assert_bitwise_equal

needs_proc = pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _growth(call, n: int) -> int:
    for _ in range(2000):  # warm-up: caches, the thread pool, NumPy's small-array allocator
        call()
    before = _rss_bytes()
    for _ in range(n):
        call()
    return _rss_bytes() - before


@needs_proc
def test_no_leak_over_a_million_calls() -> None:
    x = np.linspace(-5, 5, 64, dtype=np.float32)
    y = np.empty_like(x)
    g = np.ones_like(x)
    calls = {
        "out=": (lambda: fastact.gelu(x, out=y), 1_000_000),
        "fresh result": (lambda: fastact.sigmoid_grad(x, g), 300_000),
        "slow path (float16, dtype=)": (lambda: fastact.tanh(x, dtype=np.float16), 100_000),
        "error": (lambda: _raises(lambda: fastact.tanh(x, out=g[:3])), 100_000),
        "softmax": (lambda: fastact.softmax(x.reshape(8, 8), axis=0), 100_000),
    }
    # The NumPy reference is ~50x slower per call: fewer calls there (it is not what this test is about).
    scale = 1 if fastact.backend() == "native" else 50
    for label, (call, n) in calls.items():
        n //= scale
        growth = _growth(call, n)
        # A leak of 8 bytes per call would show as 0.8 MB or more here (on the native backend).
        assert growth < 512 * 1024, f"{label}: RSS grew by {growth / 1e6:.1f} MB over {n} calls"


def _raises(call) -> None:
    try:
        call()
    except ValueError:
        return
    raise AssertionError("expected ValueError")


@pytest.mark.skipif(sys.maxsize < 2**40, reason="needs a 64-bit address space")
def test_byte_strides_beyond_32_bits(tmp_path) -> None:
    path = tmp_path / "sparse.bin"
    row = 2**32 + 64  # bytes between rows: does not fit in 32 bits
    with open(path, "wb") as f:
        f.truncate(2 * row + 4096)
    mm = np.memmap(path, dtype=np.float32, mode="r+")
    view = np.lib.stride_tricks.as_strided(mm, shape=(3, 5), strides=(row, 4))
    view[...] = np.linspace(-4, 4, 15, dtype=np.float32).reshape(3, 5)
    dense = np.ascontiguousarray(view)
    for name in ("sigmoid", "gelu", "relu"):
        assert_bitwise_equal(getattr(fastact, name)(view), getattr(fastact, name)(dense), name)
    assert_bitwise_equal(fastact.softmax(view, axis=0), fastact.softmax(dense, axis=0), "softmax axis 0")
    assert_bitwise_equal(fastact.softmax(view, axis=1), fastact.softmax(dense, axis=1), "softmax axis 1")
    # out= through the same huge strides (columns 8.. of the same rows), and in place
    out = np.lib.stride_tricks.as_strided(mm[8:], shape=(3, 5), strides=(row, 4))
    fastact.silu(view, out=out)
    assert_bitwise_equal(np.ascontiguousarray(out), fastact.silu(dense), "silu out=")
    fastact.tanh(view, out=view)
    assert_bitwise_equal(np.ascontiguousarray(view), fastact.tanh(dense), "tanh in place")
    del view, out, mm
