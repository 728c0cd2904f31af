"""Memory: no leak over a million calls, and byte strides beyond 32 bits indexed correctly (cheap: a sparse
memory-mapped file, of which only the touched pages exist)."""

from __future__ import annotations

import os
import subprocess
import sys

import fastact
import numpy as np
import pytest
from conftest import assert_bitwise_equal

needs_proc = pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")

# Each case runs in a fresh interpreter: in the long-lived pytest process the heap is fragmented by thousands of
# earlier tests, and its resident size drifts by a megabyte or so whatever this test's calls do (that drift, not a
# leak, failed CI once). The probe warms up, then reports the resident size after each of BATCHES equal batches; a
# leak grows it batch after batch, while the allocator settling shows only in the first one.
_PROBE = """
import os, sys
import numpy as np
import fastact

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def raises():
    try:
        fastact.tanh(x, out=g[:3])
    except ValueError:
        return
    raise AssertionError("expected ValueError")

x = np.linspace(-5, 5, 64, dtype=np.float32)
y = np.empty_like(x)
g = np.ones_like(x)
kept = []
calls = {
    "out=": lambda: fastact.gelu(x, out=y),
    "fresh result": lambda: fastact.sigmoid_grad(x, g),
    "slow path (float16, dtype=)": lambda: fastact.tanh(x, dtype=np.float16),
    "error": raises,
    "softmax": lambda: fastact.softmax(x.reshape(8, 8), axis=0),
    "leaky on purpose": lambda: kept.append(fastact.gelu(x)),
}
label, n, batches = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
call = calls[label]
for _ in range(2000):  # warm-up: caches, the thread pool, NumPy's small-array allocator
    call()
sizes = [rss()]
for _ in range(batches):
    for _ in range(n // batches):
        call()
    sizes.append(rss())
print(" ".join(str(b - a) for a, b in zip(sizes, sizes[1:])))
"""
BATCHES = 4


def _growth_per_batch(label: str, n: int) -> list[int]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, label, str(n), str(BATCHES)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [int(v) for v in done.stdout.split()]


def _leaked(label: str, n: int) -> int:
    """Resident growth over all batches but the first (where the allocator may still be settling)."""
    return sum(_growth_per_batch(label, n)[1:])


# The NumPy reference is ~50x slower per call: fewer calls there (it is not what this test is about).
_SCALE = 1 if fastact.backend() == "native" else 50


@needs_proc
@pytest.mark.parametrize(
    ("label", "n"),
    [
        ("out=", 1_000_000),
        ("fresh result", 300_000),
        ("slow path (float16, dtype=)", 100_000),
        ("error", 100_000),
        ("softmax", 100_000),
    ],
)
def test_no_leak_over_many_calls(label: str, n: int) -> None:
    n //= _SCALE
    growth = _leaked(label, n)
    # A leak of 8 bytes per call over the last three quarters of 10^6 calls would show as 6 MB.
    assert growth < 512 * 1024, f"{label}: RSS grew by {growth / 1e6:.1f} MB over {n * 3 // 4} calls"


@needs_proc
def test_the_leak_probe_sees_a_leak() -> None:
    # Keeping every result alive (what a missing reference decrement in the binding would do: ~350 bytes per call)
    # must trip the bound that the cases above are held to.
    assert _leaked("leaky on purpose", max(100_000 // _SCALE, 20_000)) >= 512 * 1024


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
