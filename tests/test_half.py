"""float16 and bfloat16: computed in float32 and rounded once to the input's type.

With the native module, 16-bit inputs go to the kernels as they are (widened a block at a time inside the
kernel, no float32 copy of the array); the contract is that the result equals the float32 kernel on the
widened input, rounded to nearest-even to the 16-bit type. Every 16-bit value is checked, for every
kernel, mode and parameter set in the catalogue's cases.
"""

from __future__ import annotations

import fastact
import numpy as np
import pytest
from conftest import ALL_CASES, assert_bitwise_equal, case_mode_params, specials

try:
    import ml_dtypes
except ImportError:  # pragma: no cover - optional
    ml_dtypes = None

HALF_TYPES = [pytest.param(np.dtype(np.float16), id="float16")]
if ml_dtypes is not None:
    HALF_TYPES.append(pytest.param(np.dtype(ml_dtypes.bfloat16), id="bfloat16"))


def every_value(dtype: np.dtype) -> np.ndarray:
    """All 2^16 bit patterns of a 16-bit float."""
    return np.arange(2**16, dtype=np.uint16).view(dtype)


def grad_values(dtype: np.dtype, n: int) -> np.ndarray:
    return np.random.default_rng(7).uniform(-2, 2, n).astype(dtype)


@pytest.mark.parametrize("dtype", HALF_TYPES)
@pytest.mark.parametrize(("case", "mode"), case_mode_params(ALL_CASES))
def test_every_half_value_is_the_rounded_float32_result(case, mode, dtype):
    x = every_value(dtype)
    fn = case.public(mode)
    wide = x.astype(np.float32)
    with np.errstate(over="ignore"):  # float32 results beyond the 16-bit range round to inf
        if mode == "forward":
            got = fn(x)
            want = fn(wide).astype(dtype)
        else:
            g = grad_values(dtype, x.size)
            got = fn(x, g)
            want = fn(wide, g.astype(np.float32)).astype(dtype)
    assert got.dtype == dtype
    assert_bitwise_equal(got, want, f"{case.id} {mode} {dtype}")


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_half_layouts_out_and_in_place(dtype):
    """Strided, reversed and 0-d inputs, an out= view, and in-place use give the contiguous results."""
    base = np.linspace(-8, 8, 6 * 7, dtype=np.float32).reshape(6, 7).astype(dtype)
    want = fastact.tanh(base)
    view = base.T[::-1]
    assert_bitwise_equal(fastact.tanh(view), want.T[::-1], "transposed, reversed")
    out = np.zeros((12, 7), dtype)
    got = fastact.tanh(base, out=out[::2])
    assert got.base is out
    assert_bitwise_equal(out[::2], want, "out= view")
    assert_bitwise_equal(out[1::2], np.zeros((6, 7), dtype), "untouched rows")
    inplace = base.copy()
    fastact.tanh(inplace, out=inplace)
    assert_bitwise_equal(inplace, want, "in place")
    scalar = fastact.tanh(base[2, 3])
    assert np.ndim(scalar) == 0 and np.asarray(scalar).dtype == dtype
    assert_bitwise_equal(np.asarray(scalar), want[2, 3], "0-d")


@pytest.mark.parametrize("dtype", HALF_TYPES)
def test_half_special_values(dtype):
    x = specials(np.float32).astype(dtype)
    got = fastact.tanh(x)
    assert_bitwise_equal(got, fastact.tanh(x.astype(np.float32)).astype(dtype), "tanh specials")


def test_float16_rounding_matches_numpy():
    """The kernels' own float32 -> float16 rounding against NumPy's, on results spread over every binade
    (subnormal and overflowing ones included): identity(x, slope=s) on float16 x forms s·x in float32, then
    rounds it to float16."""
    x = every_value(np.dtype(np.float16))
    x = x[np.isfinite(x)]
    for slope in (1.0009765625, 0.3333333, 1e-4, 3.0e4, 1.5, -7.77):
        got = fastact.identity(x, slope=slope)
        with np.errstate(over="ignore"):
            want = (x.astype(np.float32) * np.float32(slope)).astype(np.float16)
        assert_bitwise_equal(got, want, f"slope={slope}")

