"""Issue 6 along an axis: where= on the softmax family and logsumexp, quiet_softmax, logmeanexp, sparsemax, crelu.

Values against mpmath (exact rationals for sparsemax, which is piecewise linear), derivatives against
finite differences and their formulas, float32 and float64, any axis and layout, out=, bad input, and the
native kernels against the NumPy reference. Runs on both backends (FASTACT_DISABLE_NATIVE=1 too).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import fastact
import mpmath as mp
import numpy as np
import pytest
from conftest import SIMD_LEVELS, assert_bitwise_equal, native_only, ulp_error
from test_axis import ULP_BOUND, axis_rows, mp_rows, numeric_vjp

INF, NAN = np.inf, np.nan
MASKED_OPS = ("softmax", "log_softmax", "softmin", "logsumexp")
DTYPES = [np.float32, np.float64]


def random_mask(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """About 70% kept, the first row fully masked, the second with one kept entry."""
    mask = np.random.default_rng(seed).uniform(size=shape) < 0.7
    mask[0] = False
    mask[1] = False
    mask[1, -1] = True
    return mask


def masked_oracle(x: np.ndarray, mask: np.ndarray, op: str) -> np.ndarray:
    """mpmath over the kept entries of each row of a 2-D array; the masked entries' documented values."""
    fill = -INF if op == "log_softmax" else 0.0
    rows = []
    for row, keep in zip(x, mask):
        if op == "logsumexp":
            rows.append(mp_rows(row[keep][None, :], op)[0] if keep.any() else -INF)
            continue
        out = np.full(row.shape, fill)
        if keep.any():
            out[keep] = mp_rows(row[keep][None, :], op)[0]
        rows.append(out)
    return np.array(rows)


# ---------------------------------------------------------------------------------------------------------
# where=
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", MASKED_OPS)
def test_masked_rows_against_mpmath(op: str, dtype: type) -> None:
    for i, x in enumerate(axis_rows(dtype)):
        mask = random_mask(x.shape, i)
        got = getattr(fastact, op)(x, where=mask)
        want = masked_oracle(x, mask, op)
        err = ulp_error(got, want, dtype)
        assert np.max(err) <= ULP_BOUND[dtype][op], f"{op} {dtype.__name__}: {np.max(err)} ULP"
    # the fully masked row exactly: 0 (softmax, softmin), -inf (log_softmax, logsumexp)
    full = -INF if op in ("log_softmax", "logsumexp") else 0.0
    np.testing.assert_array_equal(got[0], full)


@pytest.mark.parametrize("op", MASKED_OPS)
def test_masked_entries_do_not_matter(op: str) -> None:
    """NaN and ±inf under the mask change nothing, bit for bit, in the value and every gradient."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 37))
    mask = random_mask(x.shape, 1)
    poisoned = x.copy()
    poisoned[~mask] = rng.choice([NAN, INF, -INF, 1e300], size=np.count_nonzero(~mask))
    fn, grad = getattr(fastact, op), getattr(fastact, f"{op}_grad")
    assert_bitwise_equal(fn(poisoned, where=mask), fn(x, where=mask), op)
    g = rng.standard_normal(fn(x).shape)
    g_poisoned = g.copy()
    if op != "logsumexp":
        g_poisoned[~mask] = NAN
    got = grad(poisoned, g_poisoned, where=mask)
    assert_bitwise_equal(got, grad(x, g, where=mask), f"{op}_grad")
    assert np.all(got[~mask] == 0) and not np.signbit(got[~mask]).any()
    if op != "logsumexp":
        y = fn(x, where=mask)
        y_poisoned = y.copy()
        y_poisoned[~mask] = NAN
        from_y = getattr(fastact, f"{op}_grad_from_output")(y_poisoned, g_poisoned, where=mask)
        assert_bitwise_equal(from_y, getattr(fastact, f"{op}_grad_from_output")(y, g, where=mask), op)
        assert np.all(from_y[~mask] == 0)


@native_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", MASKED_OPS)
def test_masked_non_last_axis_agrees_with_the_last(op: str, dtype: type) -> None:
    """where= over axis 0 of a C-ordered array (the native panels: blocks of adjacent lanes, the mask
    applied in their copies) gives the bits of the same lanes laid out contiguously: value, gradient and
    gradient from the output, with ±inf and NaN kept and masked, and fully masked lanes. (The NumPy
    reference's reductions add in an order that depends on the axis, so only the native kernels promise
    this.)"""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((300, 70)) * 4).astype(dtype)
    x.flat[::97], x.flat[5::101], x.flat[7::103] = INF, -INF, NAN
    mask = random_mask(x.T.shape, 5).T  # lanes 0 and 1 (columns here) fully masked / one entry kept
    g = rng.standard_normal(x.shape).astype(dtype)
    fn, grad = getattr(fastact, op), getattr(fastact, f"{op}_grad")
    xt, mt, gt = (np.ascontiguousarray(a.T) for a in (x, mask, g))
    assert_bitwise_equal(fn(x, axis=0, where=mask), fn(xt, where=mt).T, op)
    g_lane = g[0] if op == "logsumexp" else g
    g_lane_t = g_lane if op == "logsumexp" else gt
    assert_bitwise_equal(grad(x, g_lane, axis=0, where=mask), grad(xt, g_lane_t, where=mt).T, f"{op}_grad")
    if op != "logsumexp":
        y = fn(x, axis=0, where=mask)
        from_y = getattr(fastact, f"{op}_grad_from_output")
        assert_bitwise_equal(from_y(y, g, axis=0, where=mask), from_y(np.ascontiguousarray(y.T), gt, where=mt).T,
                             f"{op}_grad_from_output")


def test_masked_special_rows() -> None:
    x = np.array([[-INF, 1.0, 2.0], [-INF, -INF, 5.0], [NAN, 1.0, 2.0], [INF, 1.0, 2.0]])
    mask = np.array([[True, True, False], [True, True, False], [False, True, True], [True, True, True]])
    # kept entries all -inf: NaN there (as without a mask), 0 at the masked entry
    np.testing.assert_array_equal(fastact.softmax(x, where=mask),
                                  [[0.0, 1.0, 0.0], [NAN, NAN, 0.0], fastact.softmax([-INF, 1.0, 2.0]), [NAN] * 3])
    np.testing.assert_array_equal(fastact.log_softmax(x, where=mask)[:2], [[-INF, 0.0, -INF], [NAN, NAN, -INF]])
    np.testing.assert_array_equal(fastact.logsumexp(x, where=mask), [1.0, -INF, fastact.logsumexp([1.0, 2.0]), INF])
    # softmin weighs -x: kept entries all +inf give NaN, a kept -inf too (PyTorch's softmin); a masked -inf not
    z = np.array([[INF, INF, 0.0], [-INF, 3.0, 0.0], [-INF, 3.0, 3.0]])
    keep = np.array([[True, True, False], [True, True, False], [False, True, True]])
    np.testing.assert_array_equal(fastact.softmin(z, where=keep), [[NAN, NAN, 0.0], [NAN, NAN, 0.0], [0.0, 0.5, 0.5]])


@pytest.mark.parametrize("op", MASKED_OPS)
def test_fully_masked_rows_and_their_gradients(op: str) -> None:
    x = np.array([[1.0, 2.0, 3.0], [NAN, INF, -INF]])
    mask = np.zeros_like(x, bool)
    value = getattr(fastact, op)(x, where=mask)
    full = -INF if op in ("log_softmax", "logsumexp") else 0.0
    np.testing.assert_array_equal(value, np.full(value.shape, full))
    g = np.ones(value.shape)
    np.testing.assert_array_equal(getattr(fastact, f"{op}_grad")(x, g, where=mask), np.zeros(x.shape))
    if op != "logsumexp":
        np.testing.assert_array_equal(getattr(fastact, f"{op}_grad_from_output")(value, g, where=mask),
                                      np.zeros(x.shape))


def test_mask_on_empty_arrays() -> None:
    empty_axis, no_rows = np.zeros((3, 0)), np.zeros((0, 4))
    assert fastact.softmax(empty_axis, where=np.zeros((3, 0), bool)).shape == (3, 0)
    np.testing.assert_array_equal(fastact.logsumexp(empty_axis, where=np.zeros((3, 0), bool)), [-INF] * 3)
    assert fastact.log_softmax(no_rows, where=np.ones(4, bool)).shape == (0, 4)
    assert fastact.logsumexp_grad(no_rows, np.zeros(0), where=np.ones((0, 4), bool)).shape == (0, 4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", MASKED_OPS)
def test_masked_grads_against_finite_differences_and_formula(op: str, dtype: type) -> None:
    rng = np.random.default_rng(11)
    x = rng.standard_normal((4, 6)) * 2
    mask = random_mask(x.shape, 2)
    f = getattr(fastact, op)
    g = rng.standard_normal(f(x).shape)
    got = getattr(fastact, f"{op}_grad")(x, g, where=mask)
    # (the -inf of log_softmax's masked entries and of a fully masked row's logsumexp: held at 0 here)
    numeric = numeric_vjp(lambda v: np.where(np.isinf(r := f(v, where=mask)), 0.0, r), x, g)
    np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-8)
    # the formula over the kept entries
    p = fastact.softmin(x, where=mask) if op == "softmin" else fastact.softmax(x, where=mask)
    if op == "logsumexp":
        formula = p * g[:, None]
    elif op == "log_softmax":
        gm = np.where(mask, g, 0.0)
        formula = np.where(mask, gm - p * np.sum(gm, axis=-1, keepdims=True), 0.0)
    else:
        gm = np.where(mask, g, 0.0)
        formula = (-1 if op == "softmin" else 1) * p * (gm - np.sum(gm * p, axis=-1, keepdims=True))
    np.testing.assert_allclose(got, formula, rtol=1e-13, atol=1e-15)
    # float32 against the float64 result, rounded: within a few float32 ULP of the largest term
    got32 = getattr(fastact, f"{op}_grad")(x.astype(dtype), g.astype(dtype), where=mask)
    assert got32.dtype == dtype
    x_r, g_r = x.astype(dtype).astype(np.float64), g.astype(dtype).astype(np.float64)
    want = getattr(fastact, f"{op}_grad")(x_r, g_r, where=mask)
    scale = np.max(np.abs(want), axis=-1, keepdims=True) + np.finfo(dtype).tiny
    assert np.max(np.abs(got32 - want) / scale) <= 4 * np.finfo(dtype).eps
    if op != "logsumexp":
        y = f(x, where=mask)
        from_y = getattr(fastact, f"{op}_grad_from_output")(y, g, where=mask)
        np.testing.assert_allclose(from_y, got, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("op", MASKED_OPS)
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_mask_any_axis_layout_and_broadcast(op: str, axis: int) -> None:
    rng = np.random.default_rng(3)
    base = rng.standard_normal((5, 6, 7)) * 5
    base_mask = rng.uniform(size=base.shape) < 0.6
    fn = getattr(fastact, op)
    want = fn(base, axis=axis, where=base_mask)
    # the same rows in other layouts of x and of the mask
    for x, mask, take in (
        (np.asfortranarray(base), np.asfortranarray(base_mask), lambda r: r),
        (base.transpose(2, 0, 1), base_mask.transpose(2, 0, 1), None),
        (base[:, ::-1, :], base_mask[:, ::-1, :], None),
    ):
        got = fn(x, axis=axis, where=mask)
        ref = getattr(fastact.reference, op)(x, axis=axis, where=mask)
        np.testing.assert_allclose(got, ref, rtol=1e-14, atol=1e-300)
        if take is not None:
            np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-300)
    # against the oracle, rows moved last
    moved_x = np.moveaxis(base, axis, -1).reshape(-1, base.shape[axis])
    moved_m = np.moveaxis(base_mask, axis, -1).reshape(moved_x.shape)
    rows = want.reshape(-1) if op == "logsumexp" else np.moveaxis(want, axis, -1).reshape(moved_x.shape)
    err = ulp_error(rows[:8], masked_oracle(moved_x[:8], moved_m[:8], op), np.float64)
    assert np.max(err) <= ULP_BOUND[np.float64][op]
    # a broadcast mask (one per position along the axis) is read where it lies and equals the full one
    shape = [1] * 3
    shape[axis] = base.shape[axis]
    line = rng.uniform(size=base.shape[axis]) < 0.5
    line[0] = True
    small = line.reshape(shape)
    assert_bitwise_equal(fn(base, axis=axis, where=small),
                         fn(base, axis=axis, where=np.broadcast_to(small, base.shape).copy()), "broadcast")


@native_only
@pytest.mark.parametrize("op", MASKED_OPS)
def test_masked_layouts_give_the_same_bits(op: str) -> None:
    """Each lane runs the same code wherever it lies: strided, reversed or contiguous."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((9, 40)) * 10
    mask = rng.uniform(size=x.shape) < 0.5
    fn = getattr(fastact, op)
    want = fn(x, where=mask)
    got_t = fn(np.asfortranarray(x.T), axis=0, where=np.asfortranarray(mask.T))
    assert_bitwise_equal(got_t if op == "logsumexp" else got_t.T, want, op)
    # a C-ordered array over axis 0: adjacent strided lanes, gathered (mask too) a cache line at a time
    tiles = fn(np.ascontiguousarray(x.T), axis=0, where=np.ascontiguousarray(mask.T))
    assert_bitwise_equal(tiles if op == "logsumexp" else tiles.T, want, f"{op} tiles")
    # and the gradients
    grad = getattr(fastact, f"{op}_grad")
    g = np.random.default_rng(5).standard_normal(want.shape)
    got_g = grad(np.ascontiguousarray(x.T), np.ascontiguousarray(g.T) if op != "logsumexp" else g, axis=0,
                 where=np.ascontiguousarray(mask.T))
    assert_bitwise_equal(got_g.T, grad(x, g, where=mask), f"{op}_grad tiles")


def test_mask_with_out_and_in_place() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 9)).astype(np.float32)
    mask = random_mask(x.shape, 5)
    out = np.full_like(x, 7.0)
    assert fastact.softmax(x, where=mask, out=out) is out
    assert_bitwise_equal(out, fastact.softmax(x, where=mask))
    z = x.copy()
    fastact.log_softmax(z, axis=1, where=mask, out=z)
    assert_bitwise_equal(z, fastact.log_softmax(x, where=mask))
    kept = fastact.logsumexp(x, axis=1, keepdims=True, where=mask)
    assert kept.shape == (4, 1)
    np.testing.assert_array_equal(kept[:, 0], fastact.logsumexp(x, where=mask))
    g = rng.standard_normal((4, 1)).astype(np.float32)
    np.testing.assert_array_equal(fastact.logsumexp_grad(x, g, keepdims=True, where=mask),
                                  fastact.logsumexp_grad(x, g[:, 0], where=mask))
    # out overlapping the mask's memory is never written through the mask
    buf = np.zeros(64, np.uint8)
    shared_mask = buf[:36].view(bool).reshape(4, 9)
    shared_mask[:] = mask
    np.testing.assert_array_equal(fastact.softmax(x, where=shared_mask), fastact.softmax(x, where=mask))


def test_where_none_is_the_unmasked_function() -> None:
    x = np.random.default_rng(6).standard_normal((3, 11))
    for op in MASKED_OPS:
        fn = getattr(fastact, op)
        assert_bitwise_equal(fn(x, where=None), fn(x), op)
        assert_bitwise_equal(fn(x, where=np.ones(x.shape, bool)), fn(x), op)


def test_bad_masks() -> None:
    x = np.ones((3, 4))
    with pytest.raises(TypeError,
                       match=r"softmax\(\): where must be a boolean array .* got dtype int64.*astype\(bool\)"):
        fastact.softmax(x, where=np.ones((3, 4), np.int64))
    with pytest.raises(TypeError, match="where must be a boolean array"):
        fastact.logsumexp_grad(x, np.ones(3), where=np.ones((3, 4), np.float32))
    with pytest.raises(ValueError,
                       match=r"where has shape \(3, 5\), which does not broadcast to the input's shape \(3, 4\)"):
        fastact.log_softmax(x, where=np.ones((3, 5), bool))
    with pytest.raises(ValueError, match="does not broadcast"):
        fastact.softmin_grad_from_output(x, x, where=np.ones(3, bool))
    with pytest.raises(TypeError, match="where"):
        fastact.quiet_softmax(x, where=np.ones((3, 4), bool))  # not a masked function
    da = pytest.importorskip("dask.array")
    with pytest.raises(TypeError, match="where must be a boolean array"):
        fastact.softmax(da.ones((3, 4)), where=np.ones((3, 4)))
    with pytest.raises(ValueError, match="does not broadcast"):
        fastact.softmax(da.ones((3, 4)), where=np.ones(3, bool))


# ---------------------------------------------------------------------------------------------------------
# quiet_softmax
# ---------------------------------------------------------------------------------------------------------


def mp_quiet(x: np.ndarray) -> np.ndarray:
    mp.mp.dps = 50
    out = []
    for row in x:
        r = [mp.mpf(float(v)) for v in row]
        m = max(max(r), 0)
        s = mp.exp(-m) + mp.fsum(mp.exp(v - m) for v in r)
        out.append([float(mp.exp(v - m) / s) for v in r])
    return np.array(out)


@pytest.mark.parametrize("dtype", DTYPES)
def test_quiet_softmax_against_mpmath(dtype: type) -> None:
    for x in axis_rows(dtype):
        err = ulp_error(fastact.quiet_softmax(x), mp_quiet(x), dtype)
        assert np.max(err) <= ULP_BOUND[dtype]["softmax"], f"{np.max(err)} ULP"
    # the extra logit: softmax of the row with a 0 appended, without the last column
    x = axis_rows(np.float64)[0]
    padded = fastact.softmax(np.concatenate([x, np.zeros((x.shape[0], 1))], axis=1))[:, :-1]
    np.testing.assert_allclose(fastact.quiet_softmax(x), padded, rtol=1e-14)
    assert np.all(fastact.quiet_softmax(x).sum(axis=1) < 1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_quiet_softmax_special_rows(dtype: type) -> None:
    x = np.array([[-INF, -INF], [-INF, 0.0], [NAN, 1.0], [INF, 1.0], [1e4, 1e4], [-1e4, -1e4]], dtype)
    want = np.array([[0, 0], [0, 0.5], [NAN, NAN], [NAN, NAN], [0.5, 0.5], [0, 0]], dtype)
    np.testing.assert_array_equal(fastact.quiet_softmax(x), want)
    assert fastact.quiet_softmax(np.zeros((3, 0), dtype)).shape == (3, 0)


@pytest.mark.parametrize("axis", [0, -1])
def test_quiet_softmax_grads(axis: int) -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 5)) * 2
    g = rng.standard_normal(x.shape)
    got = fastact.quiet_softmax_grad(x, g, axis=axis)
    np.testing.assert_allclose(got, numeric_vjp(lambda v: fastact.quiet_softmax(v, axis=axis), x, g),
                               rtol=1e-6, atol=1e-8)
    p = fastact.quiet_softmax(x, axis=axis)
    np.testing.assert_allclose(got, p * (g - np.sum(g * p, axis=axis, keepdims=True)), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(fastact.quiet_softmax_grad_from_output(p, g, axis=axis), got, rtol=1e-12,
                               atol=1e-16)
    assert fastact.softmax_one is fastact.quiet_softmax


# ---------------------------------------------------------------------------------------------------------
# logmeanexp
# ---------------------------------------------------------------------------------------------------------


def mp_logmeanexp(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(exact value, the scale its float64 error is bounded by: max(|max x|, |log(s/n)|))."""
    mp.mp.dps = 50
    values, scales = [], []
    for row in x:
        r = [mp.mpf(float(v)) for v in row]
        m = max(r)
        log_mean = mp.log(mp.fsum(mp.exp(v - m) for v in r) / len(r))
        values.append(float(m + log_mean))
        scales.append(max(abs(float(m)), abs(float(log_mean))))
    return np.array(values), np.array(scales)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logmeanexp_against_mpmath(dtype: type) -> None:
    for x in axis_rows(dtype):
        got = fastact.logmeanexp(x)
        want, scale = mp_logmeanexp(x)
        if dtype == np.float32:
            assert np.max(ulp_error(got, want, dtype)) <= 1
        else:  # the documented bound: 2 ULP of the larger of the two terms (their sum can cancel)
            assert np.all(np.abs(got - want) <= 2 * np.spacing(scale))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("n", [1, 2, 3, 7, 97, 1000, 4097])
def test_logmeanexp_of_equal_values_is_exact(n: int, dtype: type) -> None:
    for c in (0.3, -2.5, 1e-3, 700.0, -1e4, 88.5):
        x = np.full((2, n), c, dtype)
        assert_bitwise_equal(fastact.logmeanexp(x), x[:, 0], f"c={c} n={n}")
        assert_bitwise_equal(fastact.reference.logmeanexp(x), x[:, 0], f"reference c={c} n={n}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_logmeanexp_near_zero_keeps_relative_accuracy(dtype: type) -> None:
    """Values near 0 and near each other: s/n is near 1, and s - n = Σ expm1(x - max) keeps the small
    differences that exponentials near 1 lose (an error of eps(1) against terms of 1e-7)."""
    rng = np.random.default_rng(20)
    x = (rng.uniform(-3e-7, 3e-7, (8, 33)) + rng.uniform(-1e-7, 1e-7, (8, 1))).astype(dtype)
    want, scale = mp_logmeanexp(x)
    got = fastact.logmeanexp(x)
    if dtype == np.float32:
        assert np.max(ulp_error(got, want, dtype)) <= 1
    else:  # the documented bound (max x + log(s/n) still cancels: the problem's own conditioning)
        assert np.all(np.abs(got - want) <= 2 * np.spacing(scale))


@pytest.mark.parametrize("dtype", DTYPES)
def test_logmeanexp_special_rows_and_shapes(dtype: type) -> None:
    x = np.array([[-INF, -INF], [INF, 1.0], [NAN, 1.0], [-INF, 0.0], [1e4, -1e4]], dtype)
    want = np.array([-INF, INF, NAN, -np.log(2), 1e4 - np.log(2)]).astype(dtype)
    np.testing.assert_array_equal(fastact.logmeanexp(x), want)
    np.testing.assert_array_equal(fastact.logmeanexp(np.zeros((3, 0), dtype)), [NAN] * 3)
    y = np.random.default_rng(8).standard_normal((4, 5, 6)).astype(dtype)
    kept = fastact.logmeanexp(y, axis=1, keepdims=True)
    assert kept.shape == (4, 1, 6)
    out = np.empty((4, 6), dtype)
    assert fastact.logmeanexp(y, axis=-2, out=out) is out
    assert_bitwise_equal(out, kept[:, 0, :])
    # logsumexp - log n, both rounded: within a few ULP of the larger term (the difference can cancel)
    scale = np.maximum(np.max(np.abs(y), axis=1), np.log(5)).astype(dtype)
    assert np.all(np.abs(out - (fastact.logsumexp(y, axis=1) - dtype(np.log(5)))) <= 4 * np.spacing(scale))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_logmeanexp_grad(axis: int) -> None:
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 4)) * 2
    g = rng.standard_normal(fastact.logmeanexp(x, axis=axis).shape)
    got = fastact.logmeanexp_grad(x, g, axis=axis)
    np.testing.assert_allclose(got, numeric_vjp(lambda v: fastact.logmeanexp(v, axis=axis), x, g),
                               rtol=1e-6, atol=1e-8)
    assert_bitwise_equal(got, fastact.logsumexp_grad(x, g, axis=axis), "= logsumexp_grad")
    kept = fastact.logmeanexp_grad(x, np.expand_dims(g, axis), axis=axis, keepdims=True)
    assert_bitwise_equal(kept, got, "keepdims")


# ---------------------------------------------------------------------------------------------------------
# sparsemax
# ---------------------------------------------------------------------------------------------------------


def exact_sparsemax(row: np.ndarray) -> list[Fraction]:
    """In rationals, from the definition: the largest k with 1 + k z_(k) > Σ_{j<=k} z_(j)."""
    z = [Fraction(float(v)) for v in row]
    ordered = sorted(z, reverse=True)
    total, k, k_sum = Fraction(0), 0, Fraction(0)
    for i, v in enumerate(ordered, 1):
        total += v
        if 1 + i * v > total:
            k, k_sum = i, total
    tau = (k_sum - 1) / k
    return [max(v - tau, Fraction(0)) for v in z]


def sparsemax_rows(dtype: Any) -> list[np.ndarray]:
    rng = np.random.default_rng(10)
    return [(rng.standard_normal((6, 41)) * scale).astype(dtype) for scale in (0.05, 0.3, 1.0, 10.0, 1e3)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparsemax_against_exact_rationals(dtype: type) -> None:
    for x in sparsemax_rows(dtype):
        got = fastact.sparsemax(x)
        assert got.dtype == dtype
        for row, y in zip(x, got):
            exact = exact_sparsemax(row)
            want = np.array([float(v) for v in exact])
            # float64 arithmetic on the shifted row: n·eps64 of its range, then one rounding to dtype
            spread = float(np.max(row.astype(np.float64)) - np.min(row.astype(np.float64))) + 1.0
            allowed = 0.5 * np.spacing(want.astype(dtype)).astype(np.float64) + row.size * 2.0**-52 * spread
            assert np.all(np.abs(y - want) <= allowed)
            assert np.array_equal(y == 0, np.array([v == 0 for v in exact])), "the support"
            assert np.all(y >= 0)


def test_sparsemax_known_values_and_special_rows() -> None:
    np.testing.assert_array_equal(fastact.sparsemax(np.array([[-1.0, 0.0, 1.0], [-5.0, 1.0, 2.0]])),
                                  [[0, 0, 1], [0, 0, 1]])  # TensorFlow Addons' example
    np.testing.assert_array_equal(fastact.sparsemax(np.array([0.5, 0.5, 0.0])), [0.5, 0.5, 0.0])
    x = np.array([[NAN, 1.0, 2.0], [INF, 1.0, -INF], [INF, INF, 0.0], [-INF, -INF, -INF], [-INF, 0.0, 0.5],
                  [1e300, -1e300, 0.0]])
    want = [[NAN] * 3, [1.0, 0.0, 0.0], [NAN] * 3, [NAN] * 3, [0.0, 0.25, 0.75], [1.0, 0.0, 0.0]]
    np.testing.assert_array_equal(fastact.sparsemax(x), want)
    assert fastact.sparsemax(np.zeros((2, 0))).shape == (2, 0)
    g = np.ones_like(x)
    grad = fastact.sparsemax_grad(x, g)
    assert np.all(np.isnan(grad[[0, 2, 3]])) and not np.isnan(grad[[1, 4, 5]]).any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_sparsemax_grads(axis: int, dtype: type) -> None:
    rng = np.random.default_rng(12)
    x = rng.standard_normal((5, 6)) * 0.4
    g = rng.standard_normal(x.shape)
    got = fastact.sparsemax_grad(x, g, axis=axis)
    np.testing.assert_allclose(got, numeric_vjp(lambda v: fastact.sparsemax(v, axis=axis), x, g),
                               rtol=1e-6, atol=1e-8)
    y = fastact.sparsemax(x, axis=axis)
    support = y > 0
    assert (~support).any() and support.any()
    mean = np.sum(g * support, axis=axis, keepdims=True) / np.sum(support, axis=axis, keepdims=True)
    # g_i - mean cancels: a few ULP of the largest |g| (the mean's summation order differs)
    atol = 4 * np.finfo(float).eps * np.max(np.abs(g))
    np.testing.assert_allclose(got, np.where(support, g - mean, 0.0), rtol=0, atol=atol)
    assert np.array_equal(got == 0, ~support)
    assert_bitwise_equal(fastact.sparsemax_grad_from_output(y, g, axis=axis), got, "from output")
    got32 = fastact.sparsemax_grad(x.astype(dtype), g.astype(dtype), axis=axis)
    assert got32.dtype == dtype


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_sparsemax_any_axis_and_layout(axis: int) -> None:
    base = np.random.default_rng(13).standard_normal((4, 5, 6))
    want = np.moveaxis(fastact.sparsemax(np.ascontiguousarray(np.moveaxis(base, axis, -1))), -1, axis)
    for x in (base, np.asfortranarray(base)):
        assert_bitwise_equal(fastact.sparsemax(x, axis=axis), want, f"axis {axis}")
    view = base[:, ::-1, :]
    assert_bitwise_equal(fastact.sparsemax(view, axis=axis), fastact.sparsemax(view.copy(), axis=axis), "view")
    out = np.empty_like(base)
    assert fastact.sparsemax(base, axis=axis, out=out) is out
    assert_bitwise_equal(out, want, "out")
    np.testing.assert_allclose(np.sum(want, axis=axis), 1.0, rtol=1e-14)


# ---------------------------------------------------------------------------------------------------------
# crelu
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_crelu_values(axis: int, dtype: type) -> None:
    rng = np.random.default_rng(14)
    x = rng.standard_normal((3, 4)).astype(dtype)
    x.flat[:5] = [-0.0, 0.0, NAN, INF, -INF]
    got = fastact.crelu(x, axis=axis)
    assert got.dtype == dtype and got.shape[axis % 2] == 2 * x.shape[axis % 2]
    want = np.concatenate([fastact.relu(x), fastact.relu(-x)], axis=axis)
    assert_bitwise_equal(got, want, "crelu")
    assert_bitwise_equal(fastact.crelu(np.asfortranarray(x)[::-1], axis=axis),
                         np.concatenate([fastact.relu(x[::-1]), fastact.relu(-x[::-1])], axis=axis), "view")
    out = np.empty(got.shape, dtype)
    assert fastact.crelu(x, axis=axis, out=out) is out
    assert_bitwise_equal(out, want, "out")
    # exactly max(x, 0) and max(-x, 0) up to the sign of zeros
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(got, np.concatenate([np.maximum(x, 0), np.maximum(-x, 0)], axis=axis))


@pytest.mark.parametrize("axis", [0, -1])
def test_crelu_grad(axis: int) -> None:
    rng = np.random.default_rng(15)
    x = rng.standard_normal((3, 4))
    shape = list(x.shape)
    shape[axis] *= 2
    g = rng.standard_normal(shape)
    got = fastact.crelu_grad(x, g, axis=axis)
    assert got.shape == x.shape
    np.testing.assert_allclose(got, numeric_vjp(lambda v: fastact.crelu(v, axis=axis), x, g), rtol=1e-6, atol=1e-8)
    g_pos, g_neg = np.split(g, 2, axis=axis)
    np.testing.assert_array_equal(got, np.where(x > 0, g_pos, 0.0) - np.where(x < 0, g_neg, 0.0))
    z = np.array([[0.0, -0.0, NAN]])
    np.testing.assert_array_equal(fastact.crelu_grad(z, np.array([[1.0, 2.0, 3.0, 10.0, 20.0, 30.0]])),
                                  [[0.0, 0.0, 3.0 - 30.0]])  # relu'(0) = 0, relu'(NaN) = 1
    with pytest.raises(ValueError, match=r"grad_out has shape \(3, 4\) but \(3, 8\) is expected"):
        fastact.crelu_grad(x, x)
    with pytest.raises(ValueError, match="out has shape"):
        fastact.crelu(x, out=np.empty_like(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_crelu_small_and_general_paths_agree(axis: int, dtype: type) -> None:
    # Small C-contiguous calls take one native pass (up to 2^16 elements); dtype=, a strided view or a
    # larger array take the relu passes. Same bits, specials included.
    rng = np.random.default_rng(16)
    for shape in ((5, 8), (300, 260)):  # 40 and 78,000 elements
        x = (rng.standard_normal(shape) * 3).astype(dtype)
        x.flat[:6] = [-0.0, 0.0, NAN, INF, -INF, 1e-45]
        doubled = list(shape)
        doubled[axis] *= 2
        g = rng.standard_normal(doubled).astype(dtype)
        g.flat[:3] = [INF, NAN, -0.0]
        y = fastact.crelu(x, axis=axis)
        assert_bitwise_equal(y, fastact.crelu(x, axis=axis, dtype=dtype), f"crelu {shape}")
        assert_bitwise_equal(y, np.concatenate([fastact.relu(x), fastact.relu(-x)], axis=axis), "concatenated")
        d = fastact.crelu_grad(x, g, axis=axis)
        assert_bitwise_equal(d, fastact.crelu_grad(x, g, axis=axis, dtype=dtype), f"crelu_grad {shape}")
        g_pos, g_neg = np.split(g, 2, axis=axis)
        with np.errstate(invalid="ignore"):
            want = g_pos * (fastact.relu_grad(x)) - g_neg * fastact.relu_grad(-x)
        assert_bitwise_equal(d, want, "formula")


# ---------------------------------------------------------------------------------------------------------
# Registry, backends, dask
# ---------------------------------------------------------------------------------------------------------


NEW = ("quiet_softmax", "logmeanexp", "sparsemax", "crelu")


@pytest.mark.parametrize("name", NEW)
def test_new_registry_entries(name: str) -> None:
    entry = fastact.get(name)
    assert entry.forward is getattr(fastact, name) and entry.grad is getattr(fastact, f"{name}_grad")
    assert entry.formula and entry.derivative and entry.output_range and entry.properties and entry.conventions
    assert hasattr(fastact.reference, name) and hasattr(fastact.reference, f"{name}_grad")
    doc = getattr(fastact, name).__doc__
    assert "Formula:" in doc and "Conventions:" in doc
    for op in MASKED_OPS:
        assert "where" in getattr(fastact, op).__doc__ and "fully masked" in fastact.get(op).conventions


@native_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", [*MASKED_OPS, "quiet_softmax", "logmeanexp"])
def test_native_agrees_with_reference(op: str, dtype: type) -> None:
    rng = np.random.default_rng(16)
    x = (rng.standard_normal((50, 333)) * 20).astype(dtype)
    x[3, 7] = INF
    x[4, :] = -INF
    x[5, 9] = NAN
    kwargs = {"where": random_mask(x.shape, 16)} if op in MASKED_OPS else {}
    got, ref = getattr(fastact, op)(x, **kwargs), getattr(fastact.reference, op)(x, **kwargs)
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    ok = ~np.isnan(ref) & np.isfinite(ref)
    assert np.array_equal(got[~ok & ~np.isnan(ref)], ref[~ok & ~np.isnan(ref)])
    bound = ULP_BOUND[dtype]["softmax" if op == "quiet_softmax" else "logsumexp" if op == "logmeanexp" else op]
    if op == "logmeanexp" and dtype == np.float64:  # the cancellation of max x + log(s/n): in ULP of max x
        assert np.all(np.abs(got[ok] - ref[ok]) <= 4 * np.spacing(np.max(np.abs(x[ok]), axis=-1)))
    else:
        assert np.max(ulp_error(got[ok], ref[ok], dtype)) <= 2 * bound
    g = rng.standard_normal(ref.shape).astype(dtype)
    got_g = getattr(fastact, f"{op}_grad")(x, g, **kwargs)
    ref_g = getattr(fastact.reference, f"{op}_grad")(x, g, **kwargs)
    assert np.array_equal(np.isnan(got_g), np.isnan(ref_g))
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-14}
    np.testing.assert_allclose(got_g[~np.isnan(ref_g)], ref_g[~np.isnan(ref_g)], **tol)


@native_only
@pytest.mark.parametrize("dtype", DTYPES)
def test_native_sparsemax_is_the_reference_bit_for_bit(dtype: type) -> None:
    """The lane kernel does the reference's operations in its order (rows.rs, sparsemax_threshold)."""
    rng = np.random.default_rng(19)
    for x in [*sparsemax_rows(dtype), (rng.standard_normal((300, 257)) * 3).astype(dtype)]:
        x[0, :3] = [INF, -INF, 0.0]
        x[1, 2] = -INF
        x[2, 5] = NAN
        for axis in (0, -1):
            assert_bitwise_equal(fastact.sparsemax(x, axis=axis), fastact.reference.sparsemax(x, axis=axis), "fwd")
            g = rng.standard_normal(x.shape).astype(dtype)
            got = fastact.sparsemax_grad(x, g, axis=axis)
            ref = fastact.reference.sparsemax_grad(x, g, axis=axis)
            assert np.array_equal(np.isnan(got), np.isnan(ref)) and np.array_equal(got == 0, ref == 0)
            scale = np.max(np.abs(g)) * np.finfo(dtype).eps
            assert np.all(np.abs(got - ref)[~np.isnan(ref)] <= 4 * scale)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparsemax_candidates_at_max_minus_one(dtype: type) -> None:
    """Entries at max - 1 and one ULP either side: the native lanes sort only entries >= max - 1 (tau >= max - 1),
    which must give the full sort's bits (the reference sorts the whole row)."""
    for m in (0.0, 0.3, 5.0, -7.25, 1e3):
        c = dtype(m) - dtype(1)
        for v in (np.nextafter(c, dtype(-INF)), c, np.nextafter(c, dtype(INF))):
            for others in (1, 2, 5):
                row = np.array([m] + [v] * others + [dtype(m) - dtype(3)], dtype)
                got = fastact.sparsemax(row)
                assert_bitwise_equal(got, fastact.reference.sparsemax(row), f"max {m}, entries {v}")
                want = np.array([float(e) for e in exact_sparsemax(row)])
                allowed = 0.5 * np.spacing(want.astype(dtype)).astype(np.float64) + row.size * 2.0**-52 * 4.0
                assert np.all(np.abs(got - want) <= allowed), f"max {m}, entries {v}"


@native_only
@pytest.mark.parametrize("op", [*MASKED_OPS, "quiet_softmax", "logmeanexp", "sparsemax"])
def test_new_lanes_independent_of_threads_and_simd_level(op: str) -> None:
    native = fastact._registry.NATIVE
    rng = np.random.default_rng(17)
    x = (rng.standard_normal((300, 1003)) * 30).astype(np.float32)
    kwargs = {"where": rng.uniform(size=x.shape) < 0.8} if op in MASKED_OPS else {}
    fn, grad = getattr(fastact, op), getattr(fastact, f"{op}_grad")
    g = rng.standard_normal(fn(x).shape).astype(np.float32)
    with fastact.num_threads(1):
        one = (fn(x, **kwargs), grad(x, g, **kwargs))
    results = []
    previous = native.simd_level()
    try:
        for level in SIMD_LEVELS:
            native.set_simd_level(level)
            with fastact.num_threads(4):
                results.append((fn(x, **kwargs), grad(x, g, **kwargs)))
    finally:
        native.set_simd_level(previous)
    for fwd, back in results:
        assert_bitwise_equal(fwd, one[0], op)
        assert_bitwise_equal(back, one[1], f"{op}_grad")


@pytest.mark.parametrize("op", MASKED_OPS)
def test_where_with_dask_arrays(op: str) -> None:
    """x, grad_out or the mask as dask arrays: the same values, the mask chunked (and broadcast) as x."""
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(21)
    x = rng.standard_normal((6, 8))
    mask = random_mask(x.shape, 21)
    fn, grad = getattr(fastact, op), getattr(fastact, f"{op}_grad")
    want = fn(x, axis=0, where=mask)
    lazy = fn(da.from_array(x, chunks=(3, 4)), axis=0, where=mask)
    assert isinstance(lazy, da.Array)
    assert_bitwise_equal(lazy.compute(), want, op)
    assert_bitwise_equal(fn(x, axis=0, where=da.from_array(mask, chunks=(2, 2))).compute(), want, f"{op} dask mask")
    line = mask[:, :1]  # broadcast along the other axis
    assert_bitwise_equal(fn(da.from_array(x, chunks=(3, 4)), axis=-1, where=line).compute(),
                         fn(x, axis=-1, where=line), f"{op} broadcast mask")
    g = rng.standard_normal(want.shape)
    got = grad(da.from_array(x, chunks=(3, 4)), g, axis=0, where=mask).compute()
    assert_bitwise_equal(got, grad(x, g, axis=0, where=mask), f"{op}_grad")


@pytest.mark.parametrize("name", NEW)
def test_new_functions_on_dask_arrays(name: str) -> None:
    da = pytest.importorskip("dask.array")
    x = np.random.default_rng(18).standard_normal((6, 8))
    lazy = getattr(fastact, name)(da.from_array(x, chunks=(3, 4)), axis=-1)
    np.testing.assert_array_equal(lazy.compute(), getattr(fastact, name)(x, axis=-1))
