"""pytest-benchmark suite: every activation, forward and ``_grad``, against NumPy, SciPy, PyTorch and a copy.

Run with ``pytest benches --benchmark-only`` (add ``--benchmark-columns=min,median,ops`` or
``--benchmark-json=out.json`` as usual). One benchmark group per function, dtype and size
(``benchmark.group = f"{fn}-{dtype}-{size}"``), so pytest-benchmark's table compares the implementations of
one group directly; ``extra_info`` records whether each result matches the pure-NumPy reference.

Implementations: ``fastact`` (``out=`` a preallocated array), ``numpy`` (the formula a user would write,
:data:`fastact._bench.NUMPY_FORMULAS`), ``scipy`` (``expit``/``log_expit``, sigmoid and log_sigmoid only),
``torch`` (when installed; same thread count) and ``copy`` (``np.copyto``/``np.multiply``: the
memory-bandwidth limit for the same bytes). Thread count: fastact's default (``FASTACT_NUM_THREADS`` or every
core).

Each benchmark runs a calibrated number of iterations per round (at least ~2 ms) for ``ROUNDS`` rounds after
one warm-up round, through ``benchmark.pedantic``: about 900 benchmarks finish in a few minutes.
"""

from __future__ import annotations

import math
import time

import fastact
import numpy as np
import pytest
from fastact import _bench

SIZES = (10**3, 10**5, 10**6)
DTYPES = ("float32", "float64")
ROUNDS = 5
MIN_ROUND_NS = 2_000_000

CASES = _bench.cases()


def _impls_for(case: _bench.Case) -> list[str]:
    impls = ["fastact", "numpy"]
    if not case.grad and case.kernel in _bench.SCIPY_FORMULAS and _bench.scipy is not None:
        impls.append("scipy")
    if _bench.torch is not None:
        impls.append("torch")
    impls.append("copy")
    return impls


PARAMS = [
    pytest.param(case, dtype, size, impl, id=f"{case.slug}-{dtype}-{size}-{impl}")
    for case in CASES
    for dtype in DTYPES
    for size in SIZES
    for impl in _impls_for(case)
]

_KEYS = {"fastact": "fastact-out", "numpy": "numpy", "scipy": "scipy", "torch": "torch", "copy": "copy"}
#: only the columns this suite parametrizes (the numexpr/onnxruntime/jax peers are the CLI's)
_CONFIG = _bench.Config(peers=("numpy", "scipy", "torch"))


def _iterations(fn) -> int:
    """Calls per round so that a round lasts at least MIN_ROUND_NS (fn already warmed up)."""
    k = 1
    while True:
        t0 = time.perf_counter_ns()
        for _ in range(k):
            fn()
        dt = time.perf_counter_ns() - t0
        if dt >= MIN_ROUND_NS or k >= 1 << 20:
            return k
        k = max(2 * k, math.ceil(k * 1.2 * MIN_ROUND_NS / max(dt, 1)))


@pytest.mark.parametrize(("case", "dtype", "size", "impl"), PARAMS)
def test_activation(benchmark, inputs, expected, case, dtype, size, impl):
    x, g, out = inputs(case, dtype, size)
    if impl == "torch":
        _bench.torch.set_num_threads(fastact.get_num_threads())
    candidate = _bench.implementations(case, x, g, out, _CONFIG)[_KEYS[impl]]
    if isinstance(candidate, str):
        pytest.skip(candidate)
    benchmark.group = f"{case.slug}-{dtype}-{size}"
    benchmark.name = impl if candidate.label in ("fastact", "copy", impl) else candidate.label
    benchmark.extra_info.update(function=case.label, dtype=dtype, size=size, impl=candidate.label,
                                expression=candidate.expression, threads=fastact.get_num_threads())
    with np.errstate(all="ignore"):
        value = candidate.call()  # warm-up; its value is what gets checked
        if impl == "copy":
            benchmark.extra_info["correct"] = None
        else:
            err, ok = _bench.check(case, None, None, candidate.result(value), expected(case, dtype, size))
            benchmark.extra_info["max_abs_diff"] = err if math.isfinite(err) else str(err)
            benchmark.extra_info["correct"] = ok
        iterations = _iterations(candidate.call)
        benchmark.pedantic(candidate.call, rounds=ROUNDS, iterations=iterations, warmup_rounds=1)
    if benchmark.stats is not None:  # None under --benchmark-disable
        benchmark.extra_info["elements_per_s"] = size / benchmark.stats.stats.min
