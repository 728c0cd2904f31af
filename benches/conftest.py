"""pytest-benchmark suite configuration: run with ``pytest benches --benchmark-only``.

Kept out of the test suite (``testpaths = ["tests"]``): plain ``pytest`` never collects it.
"""

from __future__ import annotations

import fastact
import numpy as np
import pytest
from fastact import _bench


def pytest_report_header(config: pytest.Config) -> list[str]:
    info = _bench.machine_info()
    lines = [
        f"fastact {info['fastact']}",
        f"cpu: {info['cpu']} ({info['cores']}); numpy {info['numpy']}",
        f"scipy: {info['scipy']}",
        f"torch: {info['torch']}",
    ]
    if _bench.torch is None:
        lines.append("PyTorch is not installed: the 'torch' implementation is left out of the parametrization")
    return lines


@pytest.fixture(scope="session")
def inputs():
    """(dtype, size) -> (x, grad_out, out): the same arrays for every implementation of a group."""
    cache: dict[tuple[str, str, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def get(case: _bench.Case, dtype: str, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        key = (case.activation, dtype, size)
        if key not in cache:
            x, g = _bench.case_inputs(case, dtype, size)
            cache[key] = (x, g, np.empty_like(x))
        return cache[key]

    return get


@pytest.fixture(scope="session")
def expected():
    """(case slug, dtype, size) -> the pure-NumPy reference result, computed once."""
    cache: dict[tuple[str, str, int], np.ndarray] = {}

    def get(case: _bench.Case, dtype: str, size: int) -> np.ndarray:
        key = (case.slug, dtype, size)
        if key not in cache:
            x, g = _bench.case_inputs(case, dtype, size)
            cache[key] = _bench.reference_value(case, x, g)
        return cache[key]

    return get


@pytest.fixture(autouse=True, scope="session")
def _restore_threads():
    previous = fastact.get_num_threads()
    yield
    fastact.set_num_threads(previous)
