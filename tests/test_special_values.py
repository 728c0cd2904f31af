"""NaN, ±inf, ±0, the kinks, subnormal results and floating-point warnings.

The special inputs NaN, ±inf, ±0 are compared bit for bit with the NumPy reference kernels, which implement
the catalogue's conventions (any NaN matches any NaN; the sign of a zero result counts where the
conventions fix it, i.e. for the forward functions). At the kinks the conventions pick a branch (relu'(0) =
0, hard_swish'(-3) = -0.5, relu6'(6) = 0, ...): checked within the ULP bound, with the zero signs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import fastact
import numpy as np
import pytest
from conftest import (
    ALL_CASES,
    BOUNDS,
    CASES,
    Case,
    assert_bitwise_equal,
    bit_walk,
    bits_equal,
    bound,
    bounded,
    case_mode_params,
    case_params,
    describe_failures,
    huge,
    specials,
    subnormals,
    ulp_steps,
    within_bound,
)

DTYPES = (np.float32, np.float64)


def _kink_points(case: Case, dtype) -> np.ndarray:
    """The case's kinks and parameter values (exactly representable ones), both signs, and ±1."""
    pts = [1.0, -1.0]
    for k in case.kinks() + [v for v in case.kparams if np.isfinite(v)]:
        pts += [k, -k]
    x = np.array(pts, dtype=np.float64)
    x = x[x.astype(dtype).astype(np.float64) == x].astype(dtype)
    _, first = np.unique(x.view({4: np.int32, 8: np.int64}[x.itemsize]), return_index=True)  # keeps ±0
    return x[np.sort(first)]


def _zero_sign_specified(case: Case, mode: str) -> bool:
    """The catalogue's conventions fix the sign of zero results of the forward functions (relu(-0.0) =
    -0.0, gelu(-inf) = -0.0, hardshrink(-0.0) = +0.0, ...; sine only for w0 > 0); they say just '0' for the
    derivatives."""
    if mode != "forward":
        return False
    return not (case.name == "sine" and case.kwargs["w0"] <= 0)


def _unsigned_zeros(a: np.ndarray) -> np.ndarray:
    return np.where(a == 0, np.zeros_like(a), a)


@pytest.mark.parametrize(("case", "mode"), case_mode_params(ALL_CASES))
def test_special_inputs_bitwise(case: Case, mode: str) -> None:
    """NaN, ±inf, ±0 give the reference kernel's result bit for bit (any NaN matches any NaN): in an array,
    one at a time through the scalar (0-d) path, and repeated in a long vector (the SIMD body, not only the
    tail)."""
    fn, ref = case.public(mode), case.kernel_fn(mode)
    signed = _zero_sign_specified(case, mode)
    errors = []
    for dtype in DTYPES:
        x = specials(dtype)
        expected = ref(x)
        # A finite non-zero result (softplus(0) = log(2)/beta) is an ordinary value: the native kernel and
        # the reference may round it differently, so it is held to the ULP bound, not compared bit for bit.
        ordinary = np.isfinite(expected) & (expected != 0)
        if ordinary.any() and BOUNDS is not None:
            ok = within_bound(case, mode, x[ordinary], fn(x[ordinary]), case.reference64(mode, x[ordinary]),
                              dtype, bound(case.kernel, mode, dtype))
            if not ok.all():
                errors.append(f"{case.id} {mode} {np.dtype(dtype)}: finite results at specials beyond the bound")
        expected = np.where(ordinary, 0.0, expected).astype(dtype)
        norm = (lambda a: a) if signed else _unsigned_zeros

        def special(v: np.ndarray, ordinary: np.ndarray = ordinary, norm: Callable = norm) -> np.ndarray:
            return norm(np.where(ordinary, 0.0, v).astype(v.dtype))

        label = f"{case.id} {mode} {np.dtype(dtype)} at x={x.tolist()}"
        try:
            assert_bitwise_equal(special(fn(x)), norm(expected), label)
            for v, e, o in zip(x, expected, ordinary):
                assert_bitwise_equal(special(np.asarray(fn(v)), np.asarray(o)), norm(np.asarray(e)),
                                     f"{label}: scalar {v!r}")
            assert_bitwise_equal(special(fn(np.tile(x, 37)), np.tile(ordinary, 37)), norm(np.tile(expected, 37)),
                                 f"{label}, repeated")
        except AssertionError as exc:  # report both dtypes
            errors.append(str(exc))
    if errors:
        pytest.fail("\n".join(errors))


@pytest.mark.parametrize(("case", "mode"), case_mode_params(ALL_CASES))
def test_kinks(case: Case, mode: str) -> None:
    """At the kinks (and ±1, ±parameters) the branch the catalogue's conventions choose (relu'(0) = 0,
    hard_swish'(-3) = -0.5, relu6'(6) = 0, threshold(threshold) = value, ...) within the ULP bound of the
    float64 reference, with the sign of a zero result where the conventions fix it (softshrink(-lambd) =
    -0.0, hard_swish(-3) = -0.0, ...)."""
    fn = case.public(mode)
    errors = []
    for dtype in DTYPES:
        x = _kink_points(case, dtype)
        got = fn(x)
        ref = case.reference64(mode, x)
        if not bounded(case):  # sine with w0 != 1: no kinks, no bound; just the zero signs below
            ok = ~np.isnan(got)
        elif BOUNDS is None:  # no table: only the reference backend can run, exactly the reference kernel
            ok = bits_equal(_unsigned_zeros(got), _unsigned_zeros(case.kernel_fn(mode)(x)))
        else:
            ok = within_bound(case, mode, x, got, ref, dtype, bound(case.kernel, mode, dtype))
        if _zero_sign_specified(case, mode):
            ok &= ~((ref == 0) & (np.signbit(got) != np.signbit(ref)))
        if not ok.all():
            errors.append(f"{case.id} {mode} {np.dtype(dtype)} at kinks: " + describe_failures(x, got, ref, ok, dtype))
    if errors:
        pytest.fail("\n".join(errors))


def _nan_allowed(case: Case, x: np.ndarray) -> np.ndarray:
    """Where a NaN result is legitimate for a non-NaN input: sine at ±inf (sin has no limit), and where
    w0 * x overflows to ±inf (the argument is not representable)."""
    if case.name == "sine":
        with np.errstate(all="ignore"):
            return ~np.isfinite(x.astype(np.float64) * case.kwargs["w0"])
    if case.spec.domain is not None:  # logit outside [0, 1] (tested exactly in test_outside_the_domain)
        lo, hi = case.spec.domain
        return (x < lo) | (x > hi)
    return np.zeros(x.shape, dtype=bool)


@pytest.mark.parametrize("case", case_params(ALL_CASES))
def test_no_nan_for_non_nan_input(case: Case) -> None:
    for dtype in DTYPES:
        x = np.concatenate([bit_walk(20_000, dtype), specials(dtype), huge(dtype), subnormals(dtype)])
        x = x[~np.isnan(x)]
        for mode in ("forward", "grad"):
            got = case.public(mode)(x)
            bad = np.isnan(got) & ~_nan_allowed(case, x)
            assert not bad.any(), f"{case.id} {mode} {np.dtype(dtype)}: NaN at x={x[bad][:8].tolist()}"
        if case.has_from_output:
            y = case.public("forward")(x)
            ok_y = ~np.isnan(y)
            got = case.public("from_output")(y[ok_y])
            bad = np.isnan(got)
            assert not bad.any(), f"{case.id} from_output {np.dtype(dtype)}: NaN at y={y[ok_y][bad][:8].tolist()}"
        # NaN -> NaN for every forward (every convention says so; the derivatives' NaN conventions differ
        # and are covered bit for bit by test_specials_and_kinks_bitwise)
        nans = np.full(40, np.nan, dtype)
        assert np.isnan(case.public("forward")(nans)).all(), f"{case.id}: forward(NaN) is not NaN"


@pytest.mark.parametrize("dtype", DTYPES)
def test_logit_outside_its_domain(dtype) -> None:
    """PyTorch's torch.logit: NaN outside [0, 1] without eps, and so is the derivative; with eps the input is
    clamped to [eps, 1 - eps] (1 - eps rounded in the dtype) and the derivative is 0 outside."""
    x = np.array([-np.inf, -1.0, -1e-30, 1.0 + np.finfo(dtype).eps, 2.0, np.inf], dtype)
    for module in (fastact, fastact.reference):
        assert np.isnan(module.logit(x)).all() and np.isnan(module.logit_grad(x)).all()
        eps = 0.125
        hi = dtype(1) - dtype(eps)
        edge = module.logit(np.array([eps, hi], dtype))
        np.testing.assert_array_equal(module.logit(x, eps=eps), np.where(x < 0.5, edge[0], edge[1]))
        np.testing.assert_array_equal(module.logit_grad(x, eps=eps), np.zeros_like(x))
        inside = np.array([0.0, 1.0, -0.0], dtype)
        np.testing.assert_array_equal(module.logit(inside), np.array([-np.inf, np.inf, -np.inf], dtype))


# --------------------------------------------------------------------------------------------------------
# Warnings
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", case_params(ALL_CASES))
def test_no_runtime_warnings(case: Case) -> None:
    for module in (fastact, fastact.reference):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for dtype in DTYPES:
                x = np.concatenate([specials(dtype), huge(dtype), subnormals(dtype), bit_walk(2000, dtype)])
                for mode in case.modes:
                    fn = case.public(mode, module)
                    fn(x)
                    fn(x[3])  # a scalar
                    if mode != "forward":
                        fn(x, np.ones_like(x))
            # float16 (computed in float32) and integers, on values whose results fit float16 (the
            # from-output forms on outputs of the forward)
            for x in (np.concatenate([specials(np.float16), np.linspace(-8, 8, 33).astype(np.float16)]),
                      np.arange(-5, 6, dtype=np.int8), np.arange(-5, 6, dtype=np.int64)):
                case.public("forward", module)(x)
                case.public("grad", module)(x)
                if case.has_from_output:
                    case.public("from_output", module)(case.public("forward", module)(x))


@pytest.mark.parametrize(("case", "mode"), case_mode_params(ALL_CASES, ("grad", "from_output")))
def test_special_grad_out(case: Case, mode: str) -> None:
    """grad_out holding NaN, ±inf, ±0: the product follows IEEE (inf * 0 = NaN), like the reference kernel
    times grad_out in float64, and no warning is emitted (fastact and fastact.reference)."""
    for module in (fastact, fastact.reference):
        for dtype in DTYPES:
            sp = specials(dtype)
            x = np.repeat(np.array([-2.0, 0.0, 0.5, 3.0, 7.0], dtype), sp.size)
            g = np.tile(sp, 5)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                got = case.public(mode, module)(x, g)
            with np.errstate(all="ignore"):
                expected = (g.astype(np.float64) * case.kernel_fn(mode)(x.astype(np.float64))).astype(dtype)
            assert_bitwise_equal(got, expected, f"{module.__name__}.{case.id} {mode} {np.dtype(dtype)} grad_out "
                                 "specials")


# --------------------------------------------------------------------------------------------------------
# Subnormal results
# --------------------------------------------------------------------------------------------------------


def test_float32_sigmoid_subnormal() -> None:
    x = np.array([-100.0, -90.0, -103.0], np.float32)
    got = fastact.sigmoid(x)
    ref = fastact._kernels_numpy.KERNELS["sigmoid"][0](x)
    assert (got > 0).all() and (got < np.finfo(np.float32).tiny).all(), got
    assert (ulp_steps(got, ref) <= 1).all(), (got, ref)
    assert fastact.sigmoid(np.float32(-100)) > 0


_SUBNORMAL_GRID = {
    np.float32: np.arange(-120.0, 120.0, 1 / 64),
    np.float64: np.arange(-800.0, 800.0, 1 / 32),
}


@pytest.mark.skipif(BOUNDS is None, reason="needs the ULP bounds of the native table")
@pytest.mark.parametrize(("case", "mode"), case_mode_params(CASES, ("forward", "grad")))
def test_subnormal_results_are_computed(case: Case, mode: str) -> None:
    """Where the exact result is subnormal, it is computed (not flushed to 0) to within the bound (one ULP
    for float32; a subnormal ULP is the fixed spacing 2^-149 / 2^-1074)."""
    checked = 0
    for dtype in DTYPES:
        checked += _check_subnormals(case, mode, dtype)
    if not checked:
        pytest.skip(f"{case.id} {mode} has no subnormal results")


def _check_subnormals(case: Case, mode: str, dtype) -> int:
    x = _SUBNORMAL_GRID[dtype].astype(dtype)
    ref = case.kernel_fn(mode)(x)
    tiny = np.finfo(dtype).tiny
    sub = (ref != 0) & (np.abs(ref) < tiny)
    if not sub.any():
        return 0
    got = case.public(mode)(x[sub])
    limit = max(1, int(bound(case.kernel, mode, dtype)))
    steps = ulp_steps(got, ref[sub])
    smallest = float(np.finfo(dtype).smallest_subnormal)
    flushed = (got == 0) & (np.abs(ref[sub]) > limit * smallest)
    bad = (steps > limit) | flushed
    if bad.any():
        i = np.flatnonzero(bad)[:5]
        pytest.fail(f"{case.id} {mode} {np.dtype(dtype)}: {bad.sum()} of {sub.sum()} subnormal results wrong; "
                    f"x={x[sub][i].tolist()} got={got[i].tolist()} ref={ref[sub][i].tolist()}")
    return int(sub.sum())


def test_bits_equal_helper() -> None:
    a = np.array([0.0, -0.0, np.nan, 1.0], np.float32)
    assert bits_equal(a, a).all()
    assert not bits_equal(a, np.array([-0.0, 0.0, np.nan, 1.0], np.float32))[:2].any()
