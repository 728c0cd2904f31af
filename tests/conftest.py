"""Shared fixtures and helpers of the fastact test suite.

Everything is derived from the catalogue (``fastact._catalogue.CATALOGUE``): one :class:`Case` per
(activation, kernel) pair (gelu has two kernels, selected by ``approximate``), with default parameters,
plus :data:`ALT_CASES` with non-default parameters. The oracles are

* ``fastact._kernels_numpy.KERNELS[kernel][mode]`` evaluated on float64 input (for float32 results), and
* mpmath at 50 digits (:data:`MP_FUNCTIONS`) for float64 results.

The ULP bounds come from the native kernel table ``fastact._fastact.kernels()``; with
``FASTACT_DISABLE_NATIVE=1`` they are read from the same table when the extension is importable, and the
tests that only concern native accuracy skip otherwise.
"""

from __future__ import annotations

import functools
import json
import math
import pathlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import fastact
import mpmath
import numpy as np
import pytest
from fastact import _kernels_numpy, _registry
from fastact._catalogue import CATALOGUE
from fastact._spec import Activation, Choice

# ---------------------------------------------------------------------------------------------------------
# Backends and the kernel table
# ---------------------------------------------------------------------------------------------------------

#: The loaded native module, or None when the suite runs on the reference backend.
NATIVE = _registry.NATIVE
IS_NATIVE = fastact.backend() == "native"

try:  # the table is importable even under FASTACT_DISABLE_NATIVE=1 when the extension was built
    from fastact import _fastact as _TABLE_MODULE
except ImportError:  # pragma: no cover - depends on the installation
    _TABLE_MODULE = None

#: kernel name -> (ulp f32 forward, f32 derivative, f64 forward, f64 derivative), or None.
BOUNDS: dict[str, tuple[int, int, int, int]] | None = (
    {row[0]: tuple(row[5]) for row in _TABLE_MODULE.kernels()} if _TABLE_MODULE is not None else None
)
NATIVE_TABLE = tuple(_TABLE_MODULE.kernels()) if _TABLE_MODULE is not None else None

# ---------------------------------------------------------------------------------------------------------
# The published accuracy table (docs/accuracy.md and its measurements, scripts/gen_accuracy.py)
# ---------------------------------------------------------------------------------------------------------

ACCURACY_DATA = pathlib.Path(__file__).resolve().parent.parent / "docs" / "accuracy"
_RUST_MODES = {"Forward": "forward", "Derivative": "grad", "FromOutput": "from_output"}
#: Recorded maxima are rounded to 4 decimals; float32 runs here use another float64 oracle (the NumPy
#: reference instead of the float64 kernel), which moves an error by ~1e-8 ULP.
PUBLISHED_SLACK = 1e-3


@functools.cache
def published_float32() -> dict[tuple[str, str], tuple[float, float]]:
    """(kernel, mode) -> (max ULP where the result is normal, where it is subnormal) of the exhaustive run."""
    rows = {}
    for line in (ACCURACY_DATA / "float32-exhaustive.jsonl").read_text().splitlines():
        record = json.loads(line)
        if "meta" not in record:
            rows[(record["kernel"], _RUST_MODES[record["mode"]])] = (
                float(record["normal"]["ulp"]), float(record["subnormal"]["ulp"]))
    return rows


@functools.cache
def published_measured() -> dict[str, Any]:
    """float64 (against mpmath) and non-default-parameter float32 maxima, keyed "case id/mode"."""
    return json.loads((ACCURACY_DATA / "measured.json").read_text())


def published(table: str, case: Any, mode: str) -> float:
    entry = published_measured()[table].get(f"{case.id}/{mode}")
    assert entry is not None, f"{case.id} {mode} is not in docs/accuracy: run python scripts/gen_accuracy.py --measure"
    return float(entry["ulp"])


needs_bounds = pytest.mark.skipif(BOUNDS is None, reason="the native kernel table (ULP bounds) is not importable")
native_only = pytest.mark.skipif(not IS_NATIVE, reason="only meaningful for the native backend")

MODES = ("forward", "grad", "from_output")
MODE_INDEX = {"forward": 0, "grad": 1, "from_output": 2}
MODE_SUFFIX = {"forward": "", "grad": "_grad", "from_output": "_grad_from_output"}


def bound(kernel: str, mode: str, dtype: Any) -> float:
    """The native table's ULP bound for a kernel, mode (the derivative bound covers from_output) and dtype.

    Errors are measured in ULP of the exact (oracle) value, so a table bound of 0 ("exact") means correctly
    rounded: an error of at most 0.5 ULP.
    """
    assert BOUNDS is not None
    f32f, f32g, f64f, f64g = BOUNDS[kernel]
    if np.dtype(dtype) == np.float32:
        b = f32f if mode == "forward" else f32g
    else:
        b = f64f if mode == "forward" else f64g
    return max(float(b), 0.5)


# ---------------------------------------------------------------------------------------------------------
# Cases: (activation, kernel, parameters)
# ---------------------------------------------------------------------------------------------------------

#: Parameters without defaults, chosen for the tests.
REQUIRED_PARAMS = {"threshold": {"threshold": 0.5, "value": -2.0}}


def default_params(spec: Activation) -> dict[str, Any]:
    params = dict(spec.defaults)
    params.update(REQUIRED_PARAMS.get(spec.name, {}))
    required = {p.name for p in spec.params if p.required}
    assert all(params[k] is not None for k in required), f"no test value for a required parameter of {spec.name}"
    return params


#: Non-default parameter sets (all valid); forward/grad tests run them too.
ALT_PARAMS: dict[str, list[dict[str, float]]] = {
    "identity": [{"slope": -2.5}, {"slope": 0.0}],
    "binary_step": [{"threshold": -1.25}, {"threshold": math.inf}],
    "leaky_relu": [{"negative_slope": 0.2}, {"negative_slope": 0.0}, {"negative_slope": -0.3}],
    "softplus": [{"beta": 2.0, "threshold": 10.0}, {"beta": 0.5, "threshold": math.inf},
                 {"beta": -1.5, "threshold": 20.0}],
    "elu": [{"alpha": 0.5}, {"alpha": -0.7}],
    "celu": [{"alpha": 2.0}, {"alpha": -1.5}],
    "sine": [{"w0": 30.0}, {"w0": -2.0}],
    "hard_tanh": [{"min_val": -2.0, "max_val": 0.5}, {"min_val": 0.25, "max_val": 0.25}],
    "softshrink": [{"lambd": 0.0}, {"lambd": 1.5}],
    "hardshrink": [{"lambd": 0.0}, {"lambd": 2.0}],
    "threshold": [{"threshold": -1.0, "value": 3.0}, {"threshold": 0.0, "value": 0.0}],
    "squareplus": [{"b": 0.0}, {"b": 1.0}, {"b": 0.01}, {"b": 300.0}],
    "shrink": [{"lambd": 0.5, "bias": 0.5}, {"lambd": 0.0, "bias": -1.5}, {"lambd": 2.0, "bias": 0.25}],
    "hard_sigmoid": [{"alpha": 0.2, "beta": 0.5}, {"alpha": -0.5, "beta": 0.25}, {"alpha": 0.0, "beta": 0.75}],
    "swish": [{"beta": 2.0}, {"beta": 0.5}, {"beta": -1.5}, {"beta": 0.0}],
    "logit": [{"eps": 1e-6}, {"eps": 0.25}, {"eps": 0.0}],
}


def _sampled_params() -> dict[str, list[dict[str, float]]]:
    """Seeded random parameter draws on top of ALT_PARAMS (issue: accuracy holds for sampled parameters),
    rounded to 4 significant digits so that test ids stay readable."""
    rng = np.random.default_rng(20261125)

    def log_uniform(lo: float, hi: float) -> float:
        return float(f"{math.exp(rng.uniform(math.log(lo), math.log(hi))):.4g}")

    def uniform(lo: float, hi: float) -> float:
        return float(f"{rng.uniform(lo, hi):.4g}")

    return {
        "identity": [{"slope": uniform(-4.0, 4.0)}],
        "leaky_relu": [{"negative_slope": uniform(-1.0, 1.0)} for _ in range(2)],
        "softplus": [{"beta": sign * log_uniform(0.05, 20.0), "threshold": uniform(1.0, 30.0)} for sign in (1, 1, -1)],
        "elu": [{"alpha": log_uniform(0.05, 5.0)} for _ in range(2)],
        "celu": [{"alpha": log_uniform(0.05, 5.0)} for _ in range(2)],
        "softshrink": [{"lambd": log_uniform(0.01, 10.0)}],
        "shrink": [{"lambd": log_uniform(0.01, 10.0), "bias": uniform(-2.0, 2.0)}],
        "squareplus": [{"b": log_uniform(0.01, 100.0)}],
        "hard_sigmoid": [{"alpha": uniform(0.05, 1.0), "beta": uniform(-1.0, 2.0)}],
        "swish": [{"beta": log_uniform(0.1, 10.0)}],
    }


SAMPLED_PARAMS = _sampled_params()


@dataclass(frozen=True)
class Case:
    """One activation with one kernel and one parameter set."""

    spec: Activation = field(repr=False, compare=False)
    kernel: str
    params: tuple[tuple[str, Any], ...]  # keyword arguments of the public functions
    default: bool = True

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def kparams(self) -> tuple[float, ...]:
        """The numeric parameters, positionally, as the NumPy kernels take them."""
        kw = self.kwargs
        return tuple(p.kernel_value(kw[p.name]) for p in self.spec.numeric_params)

    def kparams_as(self, dtype: Any) -> tuple[float, ...]:
        """The numeric parameters rounded to ``dtype``: the kernels use them in the input's precision (as
        PyTorch casts a scalar argument to the tensor's dtype), so softplus(x, beta=3.042) on float32 input
        computes with float32(3.042)."""
        return tuple(float(np.asarray(v, dtype=dtype)) for v in self.kparams)

    @property
    def id(self) -> str:
        shown = [f"{k}={v}" for k, v in self.params if not isinstance(v, str)]
        label = self.name if self.kernel == self.name else f"{self.name}[{self.kernel}]"
        return label if self.default else f"{label}({','.join(shown)})"

    @property
    def modes(self) -> tuple[str, ...]:
        return MODES if self.has_from_output else MODES[:2]

    @property
    def has_from_output(self) -> bool:
        """Whether NAME_grad_from_output exists *and* accepts these parameters."""
        if self.spec.from_output is None:
            return False
        env = {**self.kwargs, "inf": math.inf}
        return all(eval(expr, {}, env) for expr, _ in self.spec.from_output_requires)  # noqa: S307

    def public(self, mode: str, module: Any = fastact) -> Callable[..., Any]:
        """The public function (fastact or fastact.reference) for ``mode``, with this case's parameters."""
        fn = getattr(module, self.name + MODE_SUFFIX[mode])
        kwargs = self.kwargs
        if mode == "forward":
            return lambda x, **kw: fn(x, **kwargs, **kw)
        return lambda x, grad_out=None, **kw: fn(x, grad_out, **kwargs, **kw)

    def kernel_fn(self, mode: str, params_as: Any = None) -> Callable[[np.ndarray], np.ndarray]:
        """The pure-NumPy kernel (the oracle), with this case's parameters rounded to ``params_as``, the
        precision the kernel then works in (default: the input's)."""
        fn = _kernels_numpy.KERNELS[self.kernel][MODE_INDEX[mode]]
        assert fn is not None
        kp = self.kparams_as(np.float64 if params_as is None else params_as)
        return lambda x: fn(x, *kp, precision=params_as)

    def reference64(self, mode: str, x: np.ndarray, params_as: Any = None) -> np.ndarray:
        """The NumPy kernel on float64 input, with the parameters the kernel sees for input of dtype
        ``params_as`` (default: x's dtype)."""
        x = np.asarray(x)
        params_as = x.dtype if params_as is None and x.dtype.kind == "f" else (params_as or np.float64)
        return self.kernel_fn(mode, params_as)(np.asarray(x, dtype=np.float64))

    def kinks(self) -> list[float]:
        """Where f or f' is not smooth (0 is always included: it is harmless to avoid)."""
        kw = self.kwargs
        pts = [0.0]
        extra = {
            "binary_step": lambda: [kw["threshold"]],
            "relu6": lambda: [6.0],
            "hard_sigmoid": lambda: [-kw["beta"] / kw["alpha"], (1 - kw["beta"]) / kw["alpha"]] if kw["alpha"] else [],
            "logit": lambda: [0.25, 0.5, 1.0] + ([] if kw["eps"] is None else [kw["eps"], 1 - kw["eps"]]),
            "hard_swish": lambda: [-3.0, 3.0],
            "hard_tanh": lambda: [kw["min_val"], kw["max_val"]],
            "softshrink": lambda: [-kw["lambd"], kw["lambd"]],
            "hardshrink": lambda: [-kw["lambd"], kw["lambd"]],
            "threshold": lambda: [kw["threshold"]],
            "softplus": lambda: [kw["threshold"] / kw["beta"]],
            "sparse_plus": lambda: [-1.0, 1.0],
            "sparse_sigmoid": lambda: [-1.0, 1.0],
            "shrink": lambda: [-kw["lambd"], kw["lambd"]],
        }.get(self.name)
        if extra is not None:
            pts += [p for p in extra() if math.isfinite(p)]
        return pts


def _make_cases() -> tuple[list[Case], list[Case]]:
    defaults, alts = [], []
    for spec in CATALOGUE:
        params = default_params(spec)
        choice = spec.choice
        variants = (
            [(kernel, {**params, choice.name: value}) for value, kernel in choice.kernels.items()]
            if isinstance(choice, Choice)
            else [(spec.kernels[0], params)]
        )
        for kernel, kw in variants:
            defaults.append(Case(spec, kernel, tuple(kw.items())))
        for alt in ALT_PARAMS.get(spec.name, []) + SAMPLED_PARAMS.get(spec.name, []):
            alts.append(Case(spec, spec.kernels[0], tuple({**params, **alt}.items()), default=False))
    return defaults, alts


CASES, ALT_CASES = _make_cases()
ALL_CASES = CASES + ALT_CASES


def case_params(cases: list[Case]) -> list[Any]:
    return [pytest.param(c, id=c.id) for c in cases]


def case_mode_params(cases: list[Case], modes: tuple[str, ...] = MODES) -> list[Any]:
    return [pytest.param(c, m, id=f"{c.id}-{m}") for c in cases for m in c.modes if m in modes]


#: Cases whose accuracy the ULP bounds cover: sine's bounds hold for w0 = 1 only (the catalogue's
#: cancellation note: w0 * x is rounded before sin/cos), the reference uses the exact product.
def bounded(case: Case) -> bool:
    return not (case.name == "sine" and case.kwargs["w0"] != 1.0)


BOUNDED_CASES = [c for c in ALL_CASES if bounded(c)]

# ---------------------------------------------------------------------------------------------------------
# SIMD levels
# ---------------------------------------------------------------------------------------------------------


def _simd_levels() -> list[str]:
    if NATIVE is None:
        return ["reference"]
    current = NATIVE.simd_level()
    levels: list[str] = []
    try:
        for wanted in ("portable", "avx2", "avx512"):
            got = NATIVE.set_simd_level(wanted)
            if got not in levels:
                levels.append(got)
    finally:
        NATIVE.set_simd_level(current)
    return levels


SIMD_LEVELS = _simd_levels()


#: Decorator: run a test once per SIMD level (outermost decorator, so that the level varies fastest and
#: per-case caches are reused); the ``simd_level`` fixture sets the level and restores the previous one.
each_simd_level = pytest.mark.parametrize("simd_level", SIMD_LEVELS, indirect=True)


@pytest.fixture
def simd_level(request: pytest.FixtureRequest):
    """The SIMD level the test runs with (just 'reference' on the reference backend)."""
    if NATIVE is None:
        yield request.param
        return
    previous = NATIVE.simd_level()
    assert NATIVE.set_simd_level(request.param) == request.param
    assert NATIVE.simd_level() == request.param
    try:
        yield request.param
    finally:
        NATIVE.set_simd_level(previous)


# ---------------------------------------------------------------------------------------------------------
# ULP arithmetic
# ---------------------------------------------------------------------------------------------------------

_FORMAT = {np.dtype(np.float32): (24, -126, 128), np.dtype(np.float64): (53, -1022, 1024)}


def ulp_of(ref: np.ndarray, dtype: Any) -> np.ndarray:
    """ULP, in ``dtype``, of the float64 values ``ref`` (binade of |ref|, unbounded above; subnormal spacing
    below the normal range). ``ref`` need not be representable in ``dtype``."""
    prec, emin, _ = _FORMAT[np.dtype(dtype)]
    a = np.abs(np.asarray(ref, dtype=np.float64))
    with np.errstate(all="ignore"):
        _, e = np.frexp(np.where(np.isfinite(a), a, 1.0))
    exponent = np.where(a < 2.0**emin, emin, e - 1)
    return np.ldexp(1.0, (exponent - (prec - 1)).astype(np.int64))


def ulp_error(got: Any, ref: Any, dtype: Any) -> np.ndarray:
    """|got - ref| in ULP of ``ref`` in ``dtype``; ``ref`` is a float64 oracle (more precise than ``dtype``).

    NaN == NaN and same-signed infinities are 0; ±0 are equal; an infinite ``got`` counts as ±2^(emax+1)
    (one ULP beyond the largest finite value) unless ``ref`` also rounds to that infinity; NaN against a
    number is inf.
    """
    dtype = np.dtype(dtype)
    _, _, emax1 = _FORMAT[dtype]
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    with np.errstate(all="ignore"):
        ref_t = ref.astype(dtype).astype(np.float64)
        ulp = ulp_of(ref, dtype)
        err = np.abs(got - ref) / ulp
        # an infinite got where ref does not round to it: distance from ±2^emax1 (computed halved, as
        # 2^1024 is not a float64)
        beyond = 2.0 * (np.ldexp(1.0, emax1 - 1) - np.abs(ref) / 2) / ulp
        beyond = np.where(np.signbit(got) == np.signbit(ref), beyond, np.inf)
        err = np.where(np.isinf(got) & (got != ref_t), beyond, err)
        err = np.where(np.isinf(got) & (got == ref_t), 0.0, err)
        err = np.where(np.isinf(ref) & (got != ref), np.inf, err)
        nan_g, nan_r = np.isnan(got), np.isnan(ref)
        err = np.where(nan_g & nan_r, 0.0, err)
        err = np.where(nan_g ^ nan_r, np.inf, err)
    return err


def ordinal(a: Any) -> np.ndarray:
    """Monotonic integer image of float32/float64 values (±0 -> 0): ULP steps are differences of these."""
    a = np.asarray(a)
    itype = {4: np.int32, 8: np.int64}[a.dtype.itemsize]
    i = np.ascontiguousarray(a).view(itype).astype(np.int64)
    mag = i & np.int64(np.iinfo(itype).max)
    return np.where(i < 0, -mag, mag)


def ulp_steps(a: Any, b: Any) -> np.ndarray:
    """Number of representable values between a and b (same dtype); NaN/NaN -> 0, NaN/number -> huge."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    d = np.abs(ordinal(a) - ordinal(b))
    na, nb = np.isnan(a), np.isnan(b)
    d = np.where(na & nb, 0, d)
    return np.where(na ^ nb, np.iinfo(np.int64).max, d)


def bits_equal(a: Any, b: Any) -> np.ndarray:
    """Element-wise bitwise equality; any NaN equals any NaN."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    itype = {2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize]
    same = np.ascontiguousarray(a).view(itype) == np.ascontiguousarray(b).view(itype)
    return same | (np.isnan(a) & np.isnan(b))


def assert_bitwise_equal(got: Any, expected: Any, msg: str = "") -> None:
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype, f"{msg}: dtype {got.dtype} != {expected.dtype}"
    assert got.shape == expected.shape, f"{msg}: shape {got.shape} != {expected.shape}"
    same = bits_equal(got, expected)
    if not same.all():
        idx = np.flatnonzero(~same.ravel())[:5]
        raise AssertionError(
            f"{msg}: {np.count_nonzero(~same)} of {same.size} elements differ, e.g. at flat index "
            f"{idx.tolist()}: got {got.ravel()[idx].tolist()}, expected {expected.ravel()[idx].tolist()}"
        )


# Derivatives that cancel near their zero (the catalogue's ``cancellation`` texts): there a kernel keeps an
# absolute error of a few ULP of 1.0 (about 2^-53 in float64) but no relative accuracy. Inside these windows
# an absolute error of ABS_FLOOR_ULPS ULP of 1.0 in the result's dtype (4 * 2^-23 for float32, 4 * 2^-52
# for float64) is accepted on top of the ULP bound.
ABS_FLOOR_ULPS = 4


def abs_floor(dtype: Any) -> float:
    return ABS_FLOOR_ULPS * float(np.finfo(dtype).eps)


CANCELLATION_WINDOWS: dict[tuple[str, str], tuple[float, float]] = {
    ("gelu", "grad"): (-0.7517915246935645, 0.25),
    ("gelu_tanh", "grad"): (-0.7524614, 0.25),
    ("silu", "grad"): (-1.2784645427610738, 0.25),
    ("mish", "grad"): (-1.1923698, 0.25),
    ("gelu_sigmoid", "grad"): (-0.7511542554412889, 0.25),
    ("swish", "grad"): (-1.2784645427610738, 0.25),  # in z = beta * x: see cancellation_window
}


def cancellation_window(case: Case, mode: str) -> tuple[float, float] | None:
    """(centre, half-width) in x of the case's cancellation window; swish's zero is at z = beta * x = -1.2785."""
    window = CANCELLATION_WINDOWS.get((case.kernel, mode))
    if window is None or case.kernel != "swish":
        return window
    beta = case.kparams[0]
    return None if beta == 0 else (window[0] / beta, window[1] / abs(beta))


def in_cancellation_window(case: Case, mode: str, x: np.ndarray) -> np.ndarray:
    """Mask of the points within the case's derivative-zero cancellation window (all False if none)."""
    window = cancellation_window(case, mode)
    if window is None:
        return np.zeros(np.shape(x), dtype=bool)
    centre, half = window
    return np.abs(np.asarray(x, np.float64) - centre) < half


def cancellation_ok(case: Case, mode: str, x: np.ndarray, got: np.ndarray, ref64: np.ndarray, dtype: Any,
                    ulps: float) -> np.ndarray:
    """Mask of the elements inside a cancellation window whose absolute error is at most abs_floor(dtype)
    plus the ULP bound (all False for kernels/modes without such a window)."""
    window = cancellation_window(case, mode)
    if window is None:
        return np.zeros(np.shape(got), dtype=bool)
    centre, half = window
    with np.errstate(all="ignore"):
        near = np.abs(np.asarray(x, np.float64) - centre) < half
        absolute = np.abs(np.asarray(got, np.float64) - ref64)
        return near & (absolute <= abs_floor(dtype) + ulps * ulp_of(ref64, dtype))


def within_bound(case: Case, mode: str, x: np.ndarray, got: np.ndarray, ref64: np.ndarray, dtype: Any,
                 ulps: float) -> np.ndarray:
    """Mask of the elements that meet the ULP bound (with the documented cancellation floor)."""
    return (ulp_error(got, ref64, dtype) <= ulps) | cancellation_ok(case, mode, x, got, ref64, dtype, ulps)


def describe_failures(x: np.ndarray, got: np.ndarray, ref: np.ndarray, mask: np.ndarray, dtype: Any,
                      limit: int = 6) -> str:
    x, got, ref = (np.asarray(a).ravel() for a in (x, got, ref))
    bad = np.flatnonzero(~np.asarray(mask).ravel())
    err = ulp_error(got[bad], ref[bad], dtype)
    order = bad[np.argsort(-err, kind="stable")][:limit]
    rows = [
        f"  x={float(x[i])!r} ({np.asarray(x[i]).dtype}) got={float(got[i])!r} ref={float(ref[i])!r} "
        f"err={float(ulp_error(got[i], ref[i], dtype)):.3g} ULP"
        for i in order
    ]
    return f"{bad.size} of {x.size} points out of bounds; worst:\n" + "\n".join(rows)


# ---------------------------------------------------------------------------------------------------------
# Sample generators
# ---------------------------------------------------------------------------------------------------------


def dense_grid(n: int, dtype: Any, lo: float = -20.0, hi: float = 20.0) -> np.ndarray:
    return np.linspace(lo, hi, n, dtype=np.float64).astype(dtype)


def bit_walk(n: int, dtype: Any) -> np.ndarray:
    """``n`` values evenly spaced in bit-pattern order over the whole range, split at ±0: n/2 from +0 to
    +inf and n/2 from -0 to -inf (subnormals, normals, the largest finite value and inf included)."""
    dtype = np.dtype(dtype)
    utype = {4: np.uint32, 8: np.uint64}[dtype.itemsize]
    inf_bits = int(np.array(np.inf, dtype).view(utype))
    sign = 1 << (8 * dtype.itemsize - 1)
    half = n // 2
    pos = np.unique(np.round(np.linspace(0, inf_bits, half)).astype(np.uint64))
    pos = np.concatenate([pos, [inf_bits - 1, 1, 2]]).astype(utype)
    neg = pos | utype(sign)
    return np.concatenate([pos, neg]).view(dtype)


def subnormals(dtype: Any) -> np.ndarray:
    fi = np.finfo(dtype)
    tiny, smallest = float(fi.tiny), float(fi.smallest_subnormal)
    vals = [smallest, 2 * smallest, 3 * smallest, tiny / 2, tiny - smallest, tiny, tiny * 1.5]
    vals = np.array(vals, dtype=dtype)
    return np.concatenate([vals, -vals])


def specials(dtype: Any) -> np.ndarray:
    """NaN, ±inf, ±0."""
    return np.array([np.nan, np.inf, -np.inf, 0.0, -0.0], dtype=dtype)


def huge(dtype: Any) -> np.ndarray:
    fi = np.finfo(dtype)
    big = float(fi.max)
    vals = np.array([big, big / 2, np.sqrt(big), 1e30, 1e18, 1e10], dtype=dtype)
    return np.concatenate([vals, -vals])


def tails(dtype: Any) -> np.ndarray:
    """Where exponentials underflow/overflow: ±(20..120) for float32, ±(20..800) for float64."""
    top = 120.0 if np.dtype(dtype) == np.float32 else 800.0
    t = np.concatenate([np.linspace(20.0, top, 2000), np.linspace(700.0, 760.0, 300) if top > 700 else []])
    t = t.astype(dtype)
    return np.concatenate([t, -t])


def _points(dtype: Any, n: int) -> np.ndarray:
    """A dense grid in [-20, 20], a bit walk over the whole range, tails, subnormals, huge values and
    specials of one dtype. Read-only (shared)."""
    pts = np.concatenate([
        dense_grid(n + 1, dtype),
        bit_walk(n, dtype),
        tails(dtype),
        subnormals(dtype),
        huge(dtype),
        specials(dtype),
    ])
    pts.flags.writeable = False
    return pts


@functools.cache
def float32_points() -> np.ndarray:
    """~200k float32 points (see `_points`)."""
    return _points(np.float32, 100_000)


@functools.cache
def float64_points() -> np.ndarray:
    """The float64 counterpart (smaller: the float64 oracle is mpmath, used on mp_points())."""
    return _points(np.float64, 20_000)


def mp_points(case: Case) -> np.ndarray:
    """A few hundred float64 points for the mpmath comparison: random, near 0, tails ±30 and ±700, the
    ranges where results are subnormal, the derivative zeros, and near (not at) the kinks."""
    rng = np.random.default_rng(20240611)
    parts = [
        rng.uniform(-20, 20, 150),
        np.geomspace(1e-300, 1e3, 40),
        -np.geomspace(1e-300, 1e3, 40),
        rng.uniform(25, 35, 8), rng.uniform(-35, -25, 8),
        rng.uniform(690, 760, 10), rng.uniform(-760, -690, 10),
        rng.uniform(-40, -36, 6),  # gelu: subnormal results
        rng.uniform(340, 380, 5), rng.uniform(-380, -340, 5),  # tanh': subnormal results
        np.array([5e-324, 1e-310, -5e-324, -1e-310, 2.2250738585072014e-308]),
        rng.uniform(-0.6, 0.6, 20),  # tanhshrink's cancellation region
        rng.uniform(-25, -10, 12), rng.uniform(10, 25, 4),  # the gaussian tails
        -1.5 + np.array([1e-3, -1e-3, 2.5e-3, 1e-6, -1e-9, 0.25]),  # hard_swish' = (x + 1.5)/3
    ]
    for mode in ("grad",):
        window = cancellation_window(case, mode)
        if window is not None:
            parts.append(window[0] + np.array([1e-3, -1e-3, 1e-6, -1e-6, 1e-9, 2e-2, -2e-2, 0.1, -0.1]))
    if case.name == "logit":  # its domain: (0, 1), densely near both ends and the zero at 1/2
        parts = [rng.uniform(0, 1, 200), np.geomspace(1e-300, 0.5, 60), 1 - np.geomspace(1.2e-16, 0.5, 60),
                 0.5 + np.array([1e-16, -1e-16, 1e-9, -1e-9, 1e-3, -1e-3]), np.array([0.25, 0.25 + 2**-54])]
    if case.name == "sine":
        k = np.arange(1, 12)
        parts.append(k * np.pi)  # near the zeros of sin ...
        parts.append(k * np.pi - np.pi / 2)  # ... and of cos
        parts.append(np.array([1e5, 1e6 + 0.5, 5e8, 1e15, 1e22, 1e300, -1e22]))  # large arguments
    for k in case.kinks():
        parts.append(k + np.array([1e-9, -1e-9, 1e-3, -1e-3]))
    x = np.concatenate(parts)
    if case.name == "logit":
        return x[(x > 0) & (x < 1)]
    return x[np.isfinite(x)]


# ---------------------------------------------------------------------------------------------------------
# mpmath oracles (50 digits): forward and derivative, following the catalogue's branch conventions
# ---------------------------------------------------------------------------------------------------------

mpf = mpmath.mpf
SELU_SCALE = mpf("1.0507009873554804934193349852946")
SELU_ALPHA = mpf("1.6732632423543772848170429916717")


def _sig(x):
    if x >= 0:
        return 1 / (1 + mpmath.exp(-x))
    e = mpmath.exp(x)
    return e / (1 + e)


def _dsig(x):
    e = mpmath.exp(-abs(x))
    return e / (1 + e) ** 2


def _softplus_mp(x):
    return x + mpmath.log1p(mpmath.exp(-x)) if x > 0 else mpmath.log1p(mpmath.exp(x))


def _tanhshrink(x):
    if x == 0:
        return mpf(0)
    extra = max(0, int(-3 * mpmath.log10(abs(x)))) + 10
    with mpmath.workdps(mpmath.mp.dps + extra):
        return +(x - mpmath.tanh(x))


def _gelu_tanh_u(x):
    return mpmath.sqrt(2 / mpmath.pi) * (x + mpf("0.044715") * x**3)


def _gelu_tanh_grad(x):
    u = _gelu_tanh_u(x)
    return _sig(2 * u) + x * mpmath.sech(u) ** 2 * mpmath.sqrt(2 / mpmath.pi) * (1 + mpf("0.134145") * x**2) / 2


def _squareplus_mp(x, b):
    s = mpmath.sqrt(x * x + b)
    return (x + s) / 2 if x >= 0 else b / (2 * (s - x))  # no cancellation for x << 0


def _squareplus_grad_mp(x, b):
    s = mpmath.sqrt(x * x + b)
    if s == 0:  # b = 0, x = 0: relu's convention
        return mpf(0)
    return (1 + x / s) / 2 if x >= 0 else b / (2 * s * (s - x))


def _quick_z(x):
    return mpf("1.702") * x  # the decimal, made at the working precision (50 digits), not a float64


def _silu_grad_mp(z):
    return _sig(z) * (1 + z * _sig(-z))


_SIXTHS = _kernels_numpy._SIXTHS  # the (alpha, beta) the kernels read as PyTorch's relu6(x + 3)/6


def _hard_sigmoid_mp(x, a, b):
    if a in _SIXTHS and b == 0.5:  # PyTorch's, computed exactly as relu6(x + 3)/6
        return mpf(0) if x <= -3 else (mpf(1) if x >= 3 else (x + 3) / 6)
    return min(max(a * x + b, mpf(0)), mpf(1))


def _hard_sigmoid_grad_mp(x, a, b):
    if a in _SIXTHS and b == 0.5:
        return mpf(1) / 6 if -3 < x < 3 else mpf(0)
    return mpf(a) if 0 < a * x + b < 1 else mpf(0)


def _logit_bounds_mp(eps):
    return None if eps < 0 else (eps, mpf(1 - float(eps)))  # 1 - eps rounded to float64, as the kernels do


def _logit_mp(x, eps):
    bounds = _logit_bounds_mp(eps)
    if bounds is not None:
        x = min(max(x, bounds[0]), bounds[1])
    return mpmath.log(x / (1 - x))


def _logit_grad_mp(x, eps):
    bounds = _logit_bounds_mp(eps)
    if bounds is not None and not bounds[0] <= x <= bounds[1]:
        return mpf(0)
    return 1 / (x * (1 - x))


def _ndtr_mp(x):
    return mpmath.erfc(-x / mpmath.sqrt(2)) / 2


def _npdf_mp(x):
    return mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)


def _mish_grad(x):
    sp = _softplus_mp(x)
    return mpmath.tanh(sp) + x * _sig(x) * mpmath.sech(sp) ** 2


MP_FUNCTIONS: dict[str, tuple[Callable, Callable]] = {
    "identity": (lambda x, s: s * x, lambda x, s: mpf(s)),
    "binary_step": (lambda x, t: mpf(1) if x >= t else mpf(0), lambda x, t: mpf(0)),
    "sigmoid": (_sig, _dsig),
    "tanh": (mpmath.tanh, lambda x: mpmath.sech(x) ** 2),
    "relu": (lambda x: mpf(0) if x < 0 else x, lambda x: mpf(0) if x <= 0 else mpf(1)),
    "leaky_relu": (lambda x, a: x if x > 0 else a * x, lambda x, a: mpf(1) if x > 0 else mpf(a)),
    "softplus": (
        lambda x, b, t: x if b * x > t else _softplus_mp(b * x) / b,
        lambda x, b, t: mpf(1) if b * x > t else _sig(b * x),
    ),
    "elu": (lambda x, a: x if x > 0 else a * mpmath.expm1(x), lambda x, a: mpf(1) if x > 0 else a * mpmath.exp(x)),
    "celu": (
        lambda x, a: x if x > 0 else a * mpmath.expm1(x / a),
        lambda x, a: mpf(1) if x > 0 else mpmath.exp(x / a),
    ),
    "selu": (
        lambda x: SELU_SCALE * (x if x > 0 else SELU_ALPHA * mpmath.expm1(x)),
        lambda x: SELU_SCALE if x > 0 else SELU_SCALE * SELU_ALPHA * mpmath.exp(x),
    ),
    "gelu": (
        lambda x: x * mpmath.erfc(-x / mpmath.sqrt(2)) / 2,
        lambda x: mpmath.erfc(-x / mpmath.sqrt(2)) / 2 + x * mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi),
    ),
    "gelu_tanh": (lambda x: x * _sig(2 * _gelu_tanh_u(x)), _gelu_tanh_grad),
    "relu6": (
        lambda x: mpf(0) if x < 0 else (mpf(6) if x > 6 else x),
        lambda x: mpf(0) if (x <= 0 or x >= 6) else mpf(1),
    ),
    "log_sigmoid": (lambda x: -_softplus_mp(-x), lambda x: _sig(-x)),
    "hard_sigmoid": (_hard_sigmoid_mp, _hard_sigmoid_grad_mp),
    "sine": (lambda x, w: mpmath.sin(w * x), lambda x, w: w * mpmath.cos(w * x)),
    "silu": (lambda x: x * _sig(x), lambda x: _sig(x) * (1 + x * _sig(-x))),
    "mish": (lambda x: x * mpmath.tanh(_softplus_mp(x)), _mish_grad),
    "hard_swish": (
        lambda x: mpf(0) if x <= -3 else (x if x >= 3 else x * (x + 3) / 6),
        lambda x: mpf(0) if x < -3 else ((x + mpf(1.5)) / 3 if x <= 3 else mpf(1)),
    ),
    "hard_tanh": (
        lambda x, lo, hi: mpf(lo) if x < lo else (mpf(hi) if x > hi else x),
        lambda x, lo, hi: mpf(0) if (x <= lo or x >= hi) else mpf(1),
    ),
    "softsign": (lambda x: x / (1 + abs(x)), lambda x: 1 / (1 + abs(x)) ** 2),
    "tanhshrink": (_tanhshrink, lambda x: mpmath.tanh(x) ** 2),
    "softshrink": (
        lambda x, lam: x - lam if x > lam else (x + lam if x < -lam else mpf(0)),
        lambda x, lam: mpf(0) if -lam <= x <= lam else mpf(1),
    ),
    "hardshrink": (
        lambda x, lam: mpf(0) if -lam <= x <= lam else x,
        lambda x, lam: mpf(0) if -lam <= x <= lam else mpf(1),
    ),
    "threshold": (lambda x, t, v: mpf(v) if x <= t else x, lambda x, t, v: mpf(0) if x <= t else mpf(1)),
    "relu2": (lambda x: mpf(0) if x <= 0 else x * x, lambda x: mpf(0) if x <= 0 else 2 * x),
    "squareplus": (_squareplus_mp, _squareplus_grad_mp),
    "sparse_plus": (
        lambda x: mpf(0) if x <= -1 else (x if x >= 1 else (x + 1) ** 2 / 4),
        lambda x: mpf(0) if x <= -1 else (mpf(1) if x >= 1 else (x + 1) / 2),
    ),
    "sparse_sigmoid": (
        lambda x: mpf(0) if x <= -1 else (mpf(1) if x >= 1 else (x + 1) / 2),
        lambda x: mpf(1) / 2 if -1 < x < 1 else mpf(0),
    ),
    "shrink": (
        lambda x, lam, bias: x + bias if x < -lam else (x - bias if x > lam else mpf(0)),
        lambda x, lam, bias: mpf(0) if -lam <= x <= lam else mpf(1),
    ),
    "gelu_sigmoid": (lambda x: x * _sig(_quick_z(x)), lambda x: _silu_grad_mp(_quick_z(x))),
    "swish": (lambda x, b: x * _sig(b * x), lambda x, b: _silu_grad_mp(b * x)),
    "logit": (_logit_mp, _logit_grad_mp),
    "erf": (mpmath.erf, lambda x: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x)),
    "erfc": (mpmath.erfc, lambda x: -2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x)),
    "ndtr": (_ndtr_mp, _npdf_mp),
    # log1p(-Phi(-x)) for x > 0: at 50 digits log(Phi(15)) would round Phi to 1 and give 0
    "log_ndtr": (lambda x: mpmath.log1p(-_ndtr_mp(-x)) if x > 0 else mpmath.log(_ndtr_mp(x)),
                 lambda x: _npdf_mp(x) / _ndtr_mp(x)),
}


def mp_eval(case: Case, mode: str, x: np.ndarray) -> list:
    """The exact values (mpf, 50 digits) of the case's forward or derivative at the float64 points x."""
    fn = MP_FUNCTIONS[case.kernel][0 if mode == "forward" else 1]
    params = [mpf(p) for p in case.kparams]
    with mpmath.workdps(50):
        return [+fn(mpf(float(v)), *params) for v in np.asarray(x, np.float64)]


def mp_ulp_error(got: float, ref) -> float:
    """|got - ref| in float64 ULP of the exact value ``ref`` (an mpf). ±0 equal; overflow handled."""
    got = float(got)
    if math.isnan(got):
        return math.inf
    with mpmath.workdps(60):
        a = abs(ref)
        if a < mpf(2) ** -1022:
            ulp = mpf(2) ** -1074
        else:
            _, e = mpmath.frexp(a)
            ulp = mpf(2) ** (int(e) - 1 - 52)
        if math.isinf(got):
            if mp_round(ref) == got:  # the exact value rounds to this infinity
                return 0.0
            got_mp = mpmath.copysign(mpf(2) ** 1024, got)
        else:
            got_mp = mpf(got)
        return float(abs(got_mp - ref) / ulp)


def mp_round(ref) -> float:
    """The exact value rounded to the nearest float64 (``float(mpf)`` truncates)."""
    return mpmath.libmp.to_float(mpf(ref)._mpf_, rnd=mpmath.libmp.round_nearest)
