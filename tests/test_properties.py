"""Property-based tests (hypothesis): arbitrary arrays, values and slices."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import (
    ALL_CASES,
    BOUNDED_CASES,
    BOUNDS,
    Case,
    assert_bitwise_equal,
    bound,
    describe_failures,
    within_bound,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def _strides_of_order(a: np.ndarray) -> tuple:
    """The strides that matter for the memory order (axes of length 1 carry no information)."""
    return tuple(s for s, n in zip(a.strides, a.shape) if n > 1)


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True)


@st.composite
def sliced_arrays(draw, dtype):
    """An array of any float values (NaN, ±inf, subnormals included), up to 3-D, and a view of it through
    an arbitrary basic index (steps, negative steps, newaxis, ellipsis)."""
    width = 32 if dtype == np.float32 else 64
    elements = st.floats(width=width, allow_nan=True, allow_infinity=True, allow_subnormal=True)
    # mostly moderate values, where the kernels do their real work
    moderate = st.floats(-40, 40, width=width)
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=9))
    base = draw(hnp.arrays(dtype, shape, elements=st.one_of(moderate, elements)))
    index = draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True))
    return base, base[index]


def _cases_and_modes(cases):
    return st.sampled_from([(c, m) for c in cases for m in c.modes])


@pytest.mark.skipif(BOUNDS is None, reason="needs the ULP bounds of the native table")
@SETTINGS
@given(data=st.data(), cm=_cases_and_modes(BOUNDED_CASES), dtype=st.sampled_from([np.float32, np.float64]))
def test_native_matches_reference(data, cm: tuple[Case, str], dtype) -> None:
    """Within the table's ULP bound B of the float64 reference (float32 results), or within 2B of it
    (float64 results: both the kernel and the reference are within B of the exact value)."""
    case, mode = cm
    _, view = data.draw(sliced_arrays(dtype))
    got = case.public(mode)(view)
    assert np.shape(got) == view.shape and np.asarray(got).dtype == np.dtype(dtype)
    ref = case.reference64(mode, np.asarray(view))
    limit = bound(case.kernel, mode, dtype) * (2 if dtype == np.float64 else 1)
    ok = within_bound(case, mode, view, np.asarray(got), ref, dtype, limit)
    assert ok.all(), f"{case.id} {mode} {np.dtype(dtype)}: " + describe_failures(view, got, ref, ok, dtype)
    if mode != "forward":
        g = np.asarray(view)[::-1].copy() if view.ndim else view.copy()
        g = np.where(np.isfinite(g), g, 1.5).astype(dtype)
        scaled = case.public(mode)(view, g)
        with np.errstate(all="ignore"):
            expected = (g.astype(np.float64) * ref).astype(np.float64)
        ok = within_bound(case, mode, view, np.asarray(scaled), expected, dtype, limit + 1)
        assert ok.all(), f"{case.id} {mode} grad_out: " + describe_failures(view, scaled, expected, ok, dtype)


@SETTINGS
@given(data=st.data(), cm=_cases_and_modes(ALL_CASES), dtype=st.sampled_from([np.float32, np.float64]))
def test_in_place_equals_out_of_place(data, cm: tuple[Case, str], dtype) -> None:
    case, mode = cm
    base, view = data.draw(sliced_arrays(dtype))
    fn = case.public(mode)
    expected = np.asarray(fn(view.copy()))
    if not isinstance(view, np.ndarray):  # an integer index gave a NumPy scalar
        view = np.array(view)
    result = fn(view, out=view)
    assert result is view
    assert_bitwise_equal(view, expected, f"{case.id} {mode} in place")


@SETTINGS
@given(data=st.data(), cm=_cases_and_modes(ALL_CASES))
def test_layout_independence(data, cm: tuple[Case, str]) -> None:
    """Any view gives the bits of its contiguous copy, in a result of the same shape and memory order."""
    case, mode = cm
    _, view = data.draw(sliced_arrays(np.float32))
    fn = case.public(mode)
    got = np.asarray(fn(view))
    contiguous = np.array(view, order="C")  # (np.ascontiguousarray would make a 0-d input 1-d)
    assert_bitwise_equal(got, np.asarray(fn(contiguous)), f"{case.id} {mode} layout")
    if isinstance(view, np.ndarray) and view.ndim:
        assert _strides_of_order(got) == _strides_of_order(np.empty_like(view)), (case.id, mode, view.strides)
