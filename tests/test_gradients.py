"""Derivatives: against finite differences of the forward, the grad_out product, and the from-output form."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ALL_CASES, Case, case_mode_params, case_params, ulp_steps

RNG_SEED = 1234
H = 1e-4  # finite-difference step; points are kept > 1e-3 (= 10 H) away from every kink


def _smooth_points(case: Case, dtype=np.float64) -> np.ndarray:
    rng = np.random.default_rng(RNG_SEED)
    x = np.concatenate([rng.uniform(-8, 8, 600), rng.uniform(-40, 40, 60), np.linspace(-3.5, 3.5, 141)])
    if case.spec.domain is not None:  # the same spread, squeezed into the domain (logit: [0.02, 0.98])
        lo, hi = case.spec.domain
        x = lo + (hi - lo) * (0.02 + 0.96 * (x - x.min()) / (x.max() - x.min()))
    for k in case.kinks():
        x = x[np.abs(x - k) > 1e-3]
    return x.astype(dtype)


@pytest.mark.parametrize("case", case_params(ALL_CASES))
def test_grad_matches_finite_differences(case: Case) -> None:
    """NAME_grad(x) against the five-point central difference of NAME in float64 (error O(H^4))."""
    x = _smooth_points(case)
    f = case.public("forward")
    fd = (f(x - 2 * H) - 8 * f(x - H) + 8 * f(x + H) - f(x + 2 * H)) / (12 * H)
    g = case.public("grad")(x)
    assert g.dtype == np.float64 and g.shape == x.shape
    ok = np.abs(g - fd) <= 1e-6 * np.abs(g) + 1e-8
    if not ok.all():
        i = np.flatnonzero(~ok)[:5]
        pytest.fail(f"{case.id}: {np.count_nonzero(~ok)} of {x.size} points disagree with finite differences; "
                    f"x={x[i].tolist()} grad={g[i].tolist()} fd={fd[i].tolist()}")


def _grad_inputs(case: Case, dtype) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(RNG_SEED + 1)
    x = np.concatenate([
        rng.uniform(-12, 12, 3000),
        np.array([0.0, -0.0, 1e-30, -1e-30, 3.0, -3.0, 6.0, 88.0, -88.0, 300.0, -300.0]),
    ]).astype(dtype)
    g = (rng.standard_normal(x.size) * np.exp(rng.uniform(-20, 20, x.size))).astype(dtype)
    g[:10] = [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 1e-30, -1e30, 3.0, -7.0]
    return x, g


@pytest.mark.parametrize(("case", "mode"), case_mode_params(ALL_CASES, ("grad", "from_output")))
def test_grad_out_multiplies(case: Case, mode: str) -> None:
    for dtype in (np.float32, np.float64):
        _check_grad_out(case, mode, dtype)


def _check_grad_out(case: Case, mode: str, dtype) -> None:
    """NAME_grad(x, grad_out) = grad_out * NAME_grad(x) within 1 ULP: the product of the two arrays is
    rounded once, and a kernel may form grad_out * f'(x) before or after rounding f'(x). Where f'(x) is
    subnormal (or underflows to 0) in the dtype, its rounding error is not relative, and forming the
    product first is more accurate: those points are exempt."""
    x, g = _grad_inputs(case, dtype)
    fn = case.public(mode)
    scaled = fn(x, g)
    assert scaled.dtype == np.dtype(dtype) and scaled.shape == x.shape
    plain = fn(x)
    with np.errstate(all="ignore"):
        expected = (g.astype(np.float64) * plain.astype(np.float64)).astype(dtype)
    steps = ulp_steps(scaled, expected)
    ok = (steps <= 1) | (np.abs(plain) < np.finfo(dtype).tiny)
    if not ok.all():
        i = np.flatnonzero(~ok)[:5]
        pytest.fail(f"{case.id} {mode} {np.dtype(dtype)}: grad_out * f' off at x={x[i].tolist()} "
                    f"g={g[i].tolist()}: got {scaled[i].tolist()}, expected {expected[i].tolist()}")


_FO_CASES = [c for c in ALL_CASES if c.has_from_output]


@pytest.mark.parametrize("case", case_params(_FO_CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_grad_from_output_matches_grad(case: Case, dtype) -> None:
    """NAME_grad_from_output(NAME(x)) = NAME_grad(x) up to the rounding of y.

    The tolerance is absolute (a few ULP of 1, scaled by the parameters) plus relative: y = f(x) carries a
    rounding error of up to half an ULP of y, which the from-output formulas (y(1-y), 1-y^2, y+alpha, ...)
    turn into an absolute error of about that size. Points within 1e-3 of a kink are skipped (there the
    branch tests on x and on y = f(x) may legitimately differ, e.g. softplus' beta*y > threshold).
    At y = 0 the relu-like forms follow the catalogue's convention (x <= 0 <=> y <= 0).
    """
    x = np.concatenate([_smooth_points(case, dtype), np.array([0.0, -0.0, 1e-20, -1e-20], dtype)])
    y = case.public("forward")(x)
    from_y = case.public("from_output")(y)
    from_x = case.public("grad")(x)
    assert from_y.dtype == np.dtype(dtype)
    eps = float(np.finfo(dtype).eps)
    scale = max([1.0] + [abs(v) for v in case.kparams if np.isfinite(v)])
    ok = np.abs(from_y.astype(np.float64) - from_x) <= 8 * eps * scale + 8 * eps * np.abs(from_x)
    if not ok.all():
        i = np.flatnonzero(~ok)[:5]
        pytest.fail(f"{case.id} {np.dtype(dtype)}: from-output derivative differs at x={x[i].tolist()} "
                    f"y={y[i].tolist()}: from y {from_y[i].tolist()}, from x {from_x[i].tolist()}")
