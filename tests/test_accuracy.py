"""Accuracy of every kernel against its oracle, with the ULP bounds of the native kernel table.

* float32: fastact on ~200k float32 points (dense grid in [-20, 20], a bit walk over the whole range, tails,
  subnormals, huge values) against the NumPy reference kernel evaluated on the same points in float64, the
  error measured in float32 ULP of that float64 value. Forward, derivative and derivative-from-output (the
  points taken as y; held to the derivative's bound), default and non-default parameters.
* float64: fastact against mpmath at 50 digits on a few hundred points per kernel (random, near 0, tails
  ±30 and ±700, subnormal results, the derivative zeros, near the kinks), default parameters.

Errors are in ULP of the exact value, so a table bound of 0 means correctly rounded (at most 0.5 ULP).

Every test runs for each SIMD level the CPU offers. Derivatives that cancel near their zero (gelu, gelu
tanh, silu, mish: the catalogue's ``cancellation`` notes) get an absolute error floor of 4 ULP of 1.0 in the
result's dtype within 0.25 of that zero (conftest.CANCELLATION_WINDOWS / abs_floor); sine's bounds are
tested for w0 = 1.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import (
    BOUNDED_CASES,
    CASES,
    IS_NATIVE,
    PUBLISHED_SLACK,
    Case,
    bound,
    cancellation_ok,
    case_mode_params,
    describe_failures,
    each_simd_level,
    float32_points,
    float64_points,
    in_cancellation_window,
    mp_eval,
    mp_points,
    mp_round,
    mp_ulp_error,
    needs_bounds,
    published,
    published_float32,
    ulp_error,
    within_bound,
)

pytestmark = needs_bounds


@functools.lru_cache(maxsize=8)
def _reference32(case: Case, mode: str) -> np.ndarray:
    """The float64 oracle on the float32 points (for from_output: the points are taken as y values)."""
    return case.reference64(mode, float32_points())  # parameters rounded to float32, as the kernels use them


@functools.cache
def _mp_reference(case: Case, mode: str) -> tuple[np.ndarray, tuple]:
    x = mp_points(case)
    return x, tuple(mp_eval(case, mode, x))


# Accuracy with non-default parameters is tested against the float64 reference kernels (float32 results);
# mpmath covers the default parameters.
@each_simd_level
@pytest.mark.parametrize(("case", "mode"), case_mode_params(BOUNDED_CASES))
def test_float32_against_float64_reference(case: Case, mode: str, simd_level: str) -> None:
    x = float32_points()
    got = case.public(mode)(x)
    assert got.dtype == np.float32 and got.shape == x.shape
    ref = _reference32(case, mode)
    ok = within_bound(case, mode, x, got, ref, np.float32, bound(case.kernel, mode, np.float32))
    assert ok.all(), f"{case.id} {mode} float32 [{simd_level}]: " + describe_failures(x, got, ref, ok, np.float32)
    if IS_NATIVE:
        _no_worse_than_published32(case, mode, x, got, ref)


def _no_worse_than_published32(case: Case, mode: str, x: np.ndarray, got: np.ndarray, ref: np.ndarray) -> None:
    """No error beyond the published table (docs/accuracy.md): the exhaustive maxima for the default
    parameters (these points are float32 inputs, so a subset of all 2^32), the recorded maxima on these very
    points for non-default ones. Outside the cancellation windows, where errors are relative."""
    outside = ~in_cancellation_window(case, mode, x)
    errors = np.where(outside, ulp_error(got, ref, np.float32), 0.0)
    subnormal = np.abs(ref) < np.finfo(np.float32).tiny
    if case.default:
        limits = published_float32().get((case.kernel, mode))
        assert limits is not None, f"{case.kernel} {mode} has no exhaustive record in docs/accuracy"
        worst = (float(errors[~subnormal].max(initial=0.0)), float(errors[subnormal].max(initial=0.0)))
        for kind, got_max, limit in zip(("normal", "subnormal"), worst, limits):
            assert got_max <= limit + PUBLISHED_SLACK, (
                f"{case.id} {mode} float32: {got_max:.4f} ULP ({kind} results) is worse than the published "
                f"{limit:.4f} (docs/accuracy.md)")
    else:
        limit = published("float32_parameters", case, mode)
        assert errors.max() <= limit + PUBLISHED_SLACK, (
            f"{case.id} {mode} float32: {errors.max():.4f} ULP is worse than the published {limit:.4f} "
            f"(docs/accuracy.md)")


@each_simd_level
@pytest.mark.parametrize(("case", "mode"), case_mode_params(BOUNDED_CASES, ("forward", "grad")))
def test_float64_against_mpmath(case: Case, mode: str, simd_level: str) -> None:
    x, exact = _mp_reference(case, mode)
    got = case.public(mode)(x)
    assert got.dtype == np.float64
    limit = bound(case.kernel, mode, np.float64)
    errors = np.array([mp_ulp_error(g, e) for g, e in zip(got, exact)])
    ok = errors <= limit
    # the documented cancellation floor (see the module docstring)
    ref = np.array([mp_round(e) for e in exact])
    ok |= cancellation_ok(case, mode, x, got, ref, np.float64, limit + 0.5)
    if not ok.all():
        bad = np.flatnonzero(~ok)
        worst = bad[np.argsort(-errors[bad])][:6]
        rows = "\n".join(f"  x={x[i]!r} got={got[i]!r} exact={mp_round(exact[i])!r} err={errors[i]:.3g} ULP"
                         for i in worst)
        pytest.fail(f"{case.id} {mode} float64 [{simd_level}]: {bad.size} of {x.size} points beyond {limit} "
                    f"ULP:\n{rows}")
    if IS_NATIVE:  # no worse than the published table, on these same points
        worst = float(errors[~in_cancellation_window(case, mode, x)].max())
        limit = published("float64", case, mode)
        assert worst <= limit + PUBLISHED_SLACK, (
            f"{case.id} {mode} float64: {worst:.4f} ULP is worse than the published {limit:.4f} (docs/accuracy.md)")


# The harness is not vacuous: a result 2 ULP away from the oracle is rejected by a 1-ULP bound, and the
# oracle itself (rounded once) is accepted.
def test_float32_check_detects_a_two_ulp_error() -> None:
    case = next(c for c in CASES if c.name == "sigmoid")
    x = float32_points()
    ref = _reference32(case, "forward")
    exact = ref.astype(np.float32)
    bad = np.nextafter(np.nextafter(exact, np.float32(np.inf)), np.float32(np.inf))
    finite = np.isfinite(exact) & (np.abs(exact) > 1e-30) & (exact < 0.5)
    assert finite.sum() > 1000
    assert within_bound(case, "forward", x, exact, ref, np.float32, 0.5).all()
    assert not within_bound(case, "forward", x[finite], bad[finite], ref[finite], np.float32, 1).any()


def test_float64_check_detects_a_perturbed_result() -> None:
    case = next(c for c in CASES if c.name == "tanh")
    x, exact = _mp_reference(case, "forward")
    rounded = np.array([mp_round(e) for e in exact])
    assert max(mp_ulp_error(r, e) for r, e in zip(rounded, exact)) <= 0.5
    i = int(np.argmax(np.abs(x - 0.3) < 0.2))
    assert mp_ulp_error(rounded[i] * (1 + 2.0**-49), exact[i]) > 4


# --------------------------------------------------------------------------------------------------------
# tanh and sine are at least as accurate as NumPy's on the same samples: the worst error (in ULP of the
# exact value, as everywhere here) is at most NumPy's worst, up to 0.01 ULP (a difference that small is
# only a matter of which nearly-halfway case each sample set contains).
# --------------------------------------------------------------------------------------------------------

_NUMPY = {"tanh": np.tanh, "sine": np.sin}
_AS_NUMPY_CASES = [c for c in CASES if c.name in _NUMPY]
_SLACK = 0.01


def _worst(errors: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    i = int(np.argmax(errors))
    return float(errors[i]), float(x[i])


@each_simd_level
@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in _AS_NUMPY_CASES])
def test_at_least_as_accurate_as_numpy_float32(case: Case, simd_level: str) -> None:
    x = float32_points()
    ref = _reference32(case, "forward")
    with np.errstate(all="ignore"):
        ours = case.public("forward")(x)
        theirs = _NUMPY[case.name](x)
    assert theirs.dtype == np.float32
    (e_ours, x_ours), (e_theirs, x_theirs) = (_worst(ulp_error(v, ref, np.float32), x) for v in (ours, theirs))
    assert e_ours <= e_theirs + _SLACK, (
        f"{case.name} float32 [{simd_level}]: worst {e_ours:.3f} ULP (x={x_ours!r}) vs numpy's {e_theirs:.3f} ULP "
        f"(x={x_theirs!r})")


@each_simd_level
@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in _AS_NUMPY_CASES])
def test_at_least_as_accurate_as_numpy_float64(case: Case, simd_level: str) -> None:
    x0, exact = _mp_reference(case, "forward")
    extra = float64_points()[np.abs(float64_points()) < 40][::50]
    x = np.concatenate([x0, extra])
    exact = list(exact) + mp_eval(case, "forward", extra)
    with np.errstate(all="ignore"):
        ours = case.public("forward")(x)
        theirs = _NUMPY[case.name](x)
    (e_ours, x_ours), (e_theirs, x_theirs) = (
        _worst(np.array([mp_ulp_error(g, e) for g, e in zip(v, exact)]), x) for v in (ours, theirs))
    assert e_ours <= e_theirs + _SLACK, (
        f"{case.name} float64 [{simd_level}]: worst {e_ours:.3f} ULP (x={x_ours!r}) vs numpy's {e_theirs:.3f} ULP "
        f"(x={x_theirs!r})")
