"""Threads: bitwise reproducibility for any thread count, the num_threads controls, concurrent calls from
Python threads, and fork safety."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import fastact
import numpy as np
import pytest
from conftest import IS_NATIVE, assert_bitwise_equal

N = 1_000_003
KERNELS = ("relu", "sigmoid", "gelu", "sine")
# The reference backend ignores the thread count (and is slow on 1M-element gelu): fewer repetitions there.
THREAD_COUNTS = (1, 2, 3, 7) if IS_NATIVE else (1, 7)
CONCURRENT_SIZE = 400_000 if IS_NATIVE else 50_000


@pytest.fixture(autouse=True)
def restore_threads():
    before = fastact.get_num_threads()
    yield
    fastact.set_num_threads(before)


@pytest.fixture(scope="module")
def big() -> np.ndarray:
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(N) * 6).astype(np.float32)
    x[::1001] = np.nan
    x[5::997] = -0.0
    return x


@pytest.fixture(scope="module")
def strided() -> np.ndarray:
    rng = np.random.default_rng(8)
    base = (rng.standard_normal((1001, 2000)) * 6).astype(np.float32)
    return base[::-1, ::2]  # 1_001_000 elements, negative row stride, every other column


@pytest.mark.parametrize("name", KERNELS)
def test_bitwise_identical_for_any_thread_count(name: str, big: np.ndarray, strided: np.ndarray) -> None:
    f, d = getattr(fastact, name), getattr(fastact, name + "_grad")
    g = big[::-1].copy()
    results = {}
    for n in THREAD_COUNTS:
        with fastact.num_threads(n):
            assert fastact.get_num_threads() == n
            if IS_NATIVE:
                results[n] = (f(big), d(big), d(big, g), f(strided), f(strided.T), d(strided, strided))
            else:  # the NumPy reference has no threads: a lighter repetition check
                results[n] = (f(big), d(big, g), f(strided), f(strided), f(strided))
    for n in THREAD_COUNTS[1:]:
        for i, (a, b) in enumerate(zip(results[1], results[n])):
            assert_bitwise_equal(b, a, f"{name} result {i} with {n} threads vs 1")
    # and the strided results are those of the contiguous copy
    assert_bitwise_equal(results[7][3], f(np.ascontiguousarray(strided)), f"{name} strided vs contiguous")


def test_bitwise_identical_float64_and_out() -> None:
    x = np.linspace(-30, 30, N)
    with fastact.num_threads(1):
        expected = fastact.silu(x)
    for n in (2, 7):
        with fastact.num_threads(n):
            out = np.empty_like(x)
            assert fastact.silu(x, out=out) is out
            assert_bitwise_equal(out, expected, f"silu float64 out= with {n} threads")
            xi = x.copy()
            fastact.silu(xi, out=xi)
            assert_bitwise_equal(xi, expected, f"silu float64 in place with {n} threads")


def test_num_threads_controls() -> None:
    assert isinstance(fastact.get_num_threads(), int) and fastact.get_num_threads() >= 1
    before = fastact.get_num_threads()
    with fastact.num_threads(3):
        assert fastact.get_num_threads() == 3
        with fastact.num_threads(1):
            assert fastact.get_num_threads() == 1
        assert fastact.get_num_threads() == 3
    assert fastact.get_num_threads() == before
    with pytest.raises(RuntimeError):
        with fastact.num_threads(5):
            assert fastact.get_num_threads() == 5
            raise RuntimeError("boom")
    assert fastact.get_num_threads() == before
    fastact.set_num_threads(2)
    assert fastact.get_num_threads() == 2
    for bad in (0, -1, 1.5, True, "2", None):
        with pytest.raises(ValueError):
            fastact.set_num_threads(bad)
        with pytest.raises(ValueError):
            with fastact.num_threads(bad):
                pass
    assert fastact.get_num_threads() == 2


def test_concurrent_python_threads(big: np.ndarray) -> None:
    x = big[:CONCURRENT_SIZE]
    xs = [np.roll(x, k) for k in range(8)]
    calls = [
        lambda a: fastact.sigmoid(a),
        lambda a: fastact.gelu_grad(a, a),
        lambda a: fastact.tanh(a[::2]),
        lambda a: fastact.softplus(a, beta=2.0),
        lambda a: fastact.relu(a.reshape(-1, 1000).T),
        lambda a: fastact.sine_grad(a, w0=3.0),
    ]
    with fastact.num_threads(3):
        serial = [[c(a) for c in calls] for a in xs]
        barrier = threading.Barrier(8)

        def work(i: int):
            barrier.wait()
            out = []
            for _ in range(3):
                out = [c(xs[i]) for c in calls]
            return out

        with ThreadPoolExecutor(max_workers=8) as pool:
            parallel = list(pool.map(work, range(8)))
    for i in range(8):
        for j in range(len(calls)):
            assert_bitwise_equal(parallel[i][j], serial[i][j], f"thread {i} call {j}")


def test_concurrent_out_arrays(big: np.ndarray) -> None:
    """Python threads writing into disjoint slices of one out array."""
    x = big[:800_000]
    out = np.empty_like(x)
    chunks = np.array_split(np.arange(x.size), 8)
    with fastact.num_threads(2):
        expected = fastact.mish(x)
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda c: fastact.mish(x[c[0]:c[-1] + 1], out=out[c[0]:c[-1] + 1]), chunks))
    assert_bitwise_equal(out, expected, "mish into slices of one out from 8 threads")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_after_pool_use(big: np.ndarray) -> None:
    """A child forked after the parent used the pool computes correctly (inline) instead of deadlocking."""
    with fastact.num_threads(4):
        expected = fastact.gelu(big)  # starts the pool's workers in the parent
        expected_sig = fastact.sigmoid(big)
        pid = os.fork()
        if pid == 0:  # child: never return into pytest
            code = 1
            try:
                ok = bool(np.array_equal(fastact.gelu(big), expected, equal_nan=True))
                ok &= bool(np.array_equal(fastact.sigmoid(big), expected_sig, equal_nan=True))
                with fastact.num_threads(3):
                    ok &= bool(np.array_equal(fastact.gelu(big), expected, equal_nan=True))
                code = 0 if ok else 1
            except BaseException:
                code = 2
            finally:
                os._exit(code)
        deadline = time.monotonic() + 20.0
        status = None
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                break
            time.sleep(0.02)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung (deadlock in the inherited thread pool?)")
        assert os.WIFEXITED(status), f"child died: status {status}"
        assert os.WEXITSTATUS(status) == 0, f"child computed wrong results (exit code {os.WEXITSTATUS(status)})"
        # the parent's pool still works
        assert_bitwise_equal(fastact.gelu(big), expected, "parent after fork")


def _fresh_interpreter(code: str, **env: str) -> str:
    """Run ``code`` in a new interpreter with extra environment variables; return its stdout."""
    import subprocess
    import sys

    full_env = {**os.environ, **env}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_fastact_num_threads_environment_variable() -> None:
    out = _fresh_interpreter("import fastact; print(fastact.get_num_threads())", FASTACT_NUM_THREADS="3")
    expected = "3" if fastact.backend() == "native" else "1"  # the NumPy fallback is single-threaded
    assert out == expected


@pytest.mark.parametrize("spin_us", ["0", "5000"])
def test_fastact_spin_us_changes_no_result(spin_us: str) -> None:
    """Workers that sleep at once (0) or stay awake for 5 ms between calls compute the same bits."""
    code = (
        "import hashlib, numpy as np, fastact\n"
        "x = np.linspace(-9, 9, 400_000, dtype=np.float32)\n"
        "with fastact.num_threads(4):\n"
        "    ys = [fastact.gelu(x), fastact.sigmoid_grad(x, x), fastact.relu(x)]\n"
        "print([hashlib.sha256(y.tobytes()).hexdigest() for y in ys])\n"
    )
    expected = _fresh_interpreter(code)
    assert _fresh_interpreter(code, FASTACT_SPIN_US=spin_us) == expected


def test_fastact_isa_environment_variable_lowers_the_simd_level() -> None:
    if fastact.backend() != "native":
        pytest.skip("SIMD levels exist only with the native module")
    out = _fresh_interpreter("import fastact; print(fastact.simd_level())", FASTACT_ISA="portable")
    assert out in ("sse2", "neon")
