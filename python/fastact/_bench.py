"""The benchmark engine behind ``python -m fastact bench`` (and the pytest-benchmark suite in ``benches/``).

For every catalogue entry, forward and ``_grad`` (and every kernel a choice parameter selects, such as
``gelu(approximate='tanh')``), it times:

* ``fastact out``   -- ``fastact.NAME(x, out=out)``: the kernel writing into a preallocated array;
* ``fastact alloc`` -- ``fastact.NAME(x)``: the same call returning a new array, allocation included;
* ``numpy``         -- the formula a user would write with plain NumPy today (:data:`NUMPY_FORMULAS`), run
  under ``np.errstate(all='ignore')``; where there is no obvious formula it is ``fastact.reference``,
  labelled ``numpy-reference``;
* ``scipy``         -- ``scipy.special`` (expit, log_expit, logit, erf, erfc, ndtr, log_ndtr) with ``out=``;
* ``numexpr``, ``onnxruntime``, ``jax`` -- the optional peers of :mod:`fastact._peers` (numexpr
  expressions, a one-node ONNX model per activation, ``jax.jit`` of the ``jax.nn`` function), each when
  installed;
* ``torch``         -- PyTorch CPU on ``torch.from_numpy`` views with the same thread count (``.out``
  variants where they exist), when PyTorch is installed;
* ``copy``          -- the memory-bandwidth limit: ``np.copyto(out, x)`` for a forward (read one array,
  write one), ``np.multiply(x, grad_out, out=out)`` for a derivative (read two, write one).

Timing: ``time.perf_counter_ns`` with the garbage collector off; one warm-up call (whose result is also the
correctness check), then the best of up to ``repeats`` repeats of ``k`` calls, ``k`` chosen so that a
repeat lasts at least ``min_time_ms``; a measurement stops after ``budget_ms`` once it has two repeats.
Every result is checked against the pure-NumPy reference kernels (``fastact.reference`` without the native
module) on the same input: a peer beyond 64 eps is listed in the Notes, and one beyond the loose sanity
tolerance of :func:`sane` (a wrong result rather than a less accurate one) is marked ✗ in its cell.
"""

from __future__ import annotations

import datetime
import functools
import gc
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import fastact

from . import _kernels_numpy, _peers, _registry
from ._spec import Activation, Choice

__all__ = [
    "Case", "Config", "ImplResult", "Row", "cases", "check", "copy_baseline", "implementations",
    "reference_value", "sane",
    "best_seconds", "case_inputs", "machine_info", "make_inputs", "markdown", "measure", "run",
]

try:  # optional peers: each one's column is left out when it is missing
    import scipy
    import scipy.special as _sp
except ImportError:  # pragma: no cover - depends on the environment
    scipy = None
    _sp = None

try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None


# ---------------------------------------------------------------------------------------------------------
# What a user writes today, per native kernel. ``x`` is the input, ``g`` the incoming gradient; the
# parameters are the catalogue's names. Every formula keeps float32 float32 (Python scalars only: NumPy 2
# does not promote on them). ``s:=`` reuses a sub-expression the way one would with a temporary.
# ---------------------------------------------------------------------------------------------------------

_SQRT_2_OVER_PI = 0.7978845608028654
_INV_SQRT2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327
_SELU_SCALE = 1.0507009873554805
_SELU_ALPHA = 1.6732632423543772

#: kernel -> (forward expression, derivative-times-g expression). Missing kernel -> ``numpy-reference``.
NUMPY_FORMULAS: dict[str, tuple[str, str]] = {
    "identity": ("slope * x", "g * slope"),
    "binary_step": ("(x >= threshold).astype(x.dtype)", "np.zeros_like(x)"),
    "sigmoid": ("1 / (1 + np.exp(-x))", "g * (s := 1 / (1 + np.exp(-x))) * (1 - s)"),
    "tanh": ("np.tanh(x)", "g * (1 - (t := np.tanh(x)) * t)"),
    "relu": ("np.maximum(x, 0)", "g * (x > 0)"),
    "leaky_relu": ("np.where(x > 0, x, negative_slope * x)", "np.where(x > 0, g, negative_slope * g)"),
    # beta = 1 and the linear threshold left out, as one usually writes it
    "softplus": ("np.logaddexp(0, x)", "g / (1 + np.exp(-x))"),
    "elu": ("np.where(x > 0, x, alpha * np.expm1(x))", "np.where(x > 0, g, g * alpha * np.exp(x))"),
    "celu": ("np.maximum(x, 0) + np.minimum(0, alpha * np.expm1(x / alpha))",
             "np.where(x > 0, g, g * np.exp(x / alpha))"),
    "selu": (f"{_SELU_SCALE} * np.where(x > 0, x, {_SELU_ALPHA} * np.expm1(x))",
             f"np.where(x > 0, {_SELU_SCALE} * g, g * {_SELU_SCALE * _SELU_ALPHA} * np.exp(x))"),
    "gelu": (f"0.5 * x * (1 + erf(x * {_INV_SQRT2}))",
             f"g * (0.5 * (1 + erf(x * {_INV_SQRT2})) + x * np.exp(-0.5 * x * x) * {_INV_SQRT_2PI})"),
    "gelu_tanh": (f"0.5 * x * (1 + np.tanh({_SQRT_2_OVER_PI} * (x + 0.044715 * x ** 3)))",
                  f"g * (0.5 * (1 + (t := np.tanh({_SQRT_2_OVER_PI} * (x + 0.044715 * x ** 3)))) "
                  f"+ 0.5 * x * (1 - t * t) * {_SQRT_2_OVER_PI} * (1 + 0.134145 * x * x))"),
    "relu6": ("np.clip(x, 0, 6)", "g * ((x > 0) & (x < 6))"),
    "log_sigmoid": ("-np.logaddexp(0, -x)", "g / (1 + np.exp(x))"),
    "hard_sigmoid": ("np.clip(x / 6 + 0.5, 0, 1)", "g * ((x > -3) & (x < 3)) / 6"),
    "sine": ("np.sin(w0 * x)", "g * w0 * np.cos(w0 * x)"),
    "silu": ("x / (1 + np.exp(-x))", "g * (s := 1 / (1 + np.exp(-x))) * (1 + x * (1 - s))"),
    "mish": ("x * np.tanh(np.logaddexp(0, x))",
             "g * ((t := np.tanh(np.logaddexp(0, x))) + x * (1 - t * t) / (1 + np.exp(-x)))"),
    "hard_swish": ("x * np.clip(x + 3, 0, 6) / 6", "g * np.where(x < -3, 0, np.where(x > 3, 1, x / 3 + 0.5))"),
    "hard_tanh": ("np.clip(x, min_val, max_val)", "g * ((x > min_val) & (x < max_val))"),
    "softsign": ("x / (1 + np.abs(x))", "g / (d := 1 + np.abs(x)) / d"),
    "tanhshrink": ("x - np.tanh(x)", "g * (t := np.tanh(x)) * t"),
    "softshrink": ("np.sign(x) * np.maximum(np.abs(x) - lambd, 0)", "g * (np.abs(x) > lambd)"),
    "hardshrink": ("np.where(np.abs(x) > lambd, x, 0)", "g * (np.abs(x) > lambd)"),
    "threshold": ("np.where(x > threshold, x, value)", "g * (x > threshold)"),
    "relu2": ("np.square(np.maximum(x, 0))", "g * 2 * np.maximum(x, 0)"),
    "squareplus": ("(x + np.sqrt(x * x + b)) / 2", "g * (1 + x / np.sqrt(x * x + b)) / 2"),
    "sparse_plus": ("np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4))", "g * np.clip(x + 1, 0, 2) / 2"),
    "sparse_sigmoid": ("np.clip(x + 1, 0, 2) / 2", "g * ((x > -1) & (x < 1)) / 2"),
    "shrink": ("np.where(x < -lambd, x + bias, np.where(x > lambd, x - bias, 0))", "g * (np.abs(x) > lambd)"),
    "gelu_sigmoid": ("x / (1 + np.exp(-1.702 * x))",
                     "g * (s := 1 / (1 + np.exp(-1.702 * x))) * (1 + 1.702 * x * (1 - s))"),
    "swish": ("x / (1 + np.exp(-beta * x))", "g * (s := 1 / (1 + np.exp(-beta * x))) * (1 + beta * x * (1 - s))"),
    "logit": ("np.log(x / (1 - x))", "g / (x * (1 - x))"),
}

#: Formulas that need a SciPy function (skipped, not replaced, when SciPy is missing).
_NEEDS_SCIPY = {"gelu"}

#: kernel -> SciPy forward expression (``o`` is the preallocated output).
SCIPY_FORMULAS: dict[str, str] = {
    "sigmoid": "expit(x, out=o)",
    "log_sigmoid": "log_expit(x, out=o)",
    "logit": "logit(x, out=o)",
    "erf": "erf(x, out=o)",
    "erfc": "erfc(x, out=o)",
    "ndtr": "ndtr(x, out=o)",
    "log_ndtr": "log_ndtr(x, out=o)",
}

# PyTorch: candidates in order of preference (``t`` input tensor, ``o`` output tensor, ``gt`` incoming
# gradient); the first that runs is used. ``.out`` variants first, then the functional form ``u`` -> f(u),
# which also gives the autograd fallback for derivatives without an ATen backward op.
TORCH_FUNCTIONAL: dict[str, str] = {
    "identity": "u * slope",
    "binary_step": "(u >= threshold).to(u.dtype)",
    "sigmoid": "torch.sigmoid(u)",
    "tanh": "torch.tanh(u)",
    "relu": "F.relu(u)",
    "leaky_relu": "F.leaky_relu(u, negative_slope)",
    "softplus": "F.softplus(u, beta, threshold)",
    "elu": "F.elu(u, alpha)",
    "celu": "F.celu(u, alpha)",
    "selu": "F.selu(u)",
    "gelu": "F.gelu(u)",
    "gelu_tanh": "F.gelu(u, approximate='tanh')",
    "relu6": "F.relu6(u)",
    "log_sigmoid": "F.logsigmoid(u)",
    "hard_sigmoid": "F.hardsigmoid(u)",
    "sine": "torch.sin(w0 * u)",
    "silu": "F.silu(u)",
    "mish": "F.mish(u)",
    "hard_swish": "F.hardswish(u)",
    "hard_tanh": "F.hardtanh(u, min_val, max_val)",
    "softsign": "F.softsign(u)",
    "tanhshrink": "F.tanhshrink(u)",
    "softshrink": "F.softshrink(u, lambd)",
    "hardshrink": "F.hardshrink(u, lambd)",
    "threshold": "F.threshold(u, threshold, value)",
    "relu2": "torch.square(F.relu(u))",
    "squareplus": "(u + torch.sqrt(u * u + b)) / 2",
    "sparse_plus": "torch.where(u <= -1, 0.0, torch.where(u >= 1, u, (u + 1) ** 2 / 4))",
    "sparse_sigmoid": "F.hardtanh(u + 1, 0.0, 2.0) / 2",
    "shrink": "torch.where(u < -lambd, u + bias, torch.where(u > lambd, u - bias, 0.0))",
    "gelu_sigmoid": "u * torch.sigmoid(1.702 * u)",
    "swish": "u * torch.sigmoid(beta * u)",
    "logit": "torch.logit(u)",
    "erf": "torch.erf(u)",
    "erfc": "torch.erfc(u)",
    "ndtr": "torch.special.ndtr(u)",
    "log_ndtr": "torch.special.log_ndtr(u)",
}
TORCH_OUT: dict[str, tuple[str, ...]] = {
    "identity": ("torch.mul(t, slope, out=o)",),
    "sigmoid": ("torch.sigmoid(t, out=o)",),
    "tanh": ("torch.tanh(t, out=o)",),
    "relu": ("torch.clamp_min(t, 0, out=o)",),
    "leaky_relu": ("torch._C._nn.leaky_relu(t, negative_slope, out=o)",),
    "softplus": ("torch._C._nn.softplus(t, beta, threshold, out=o)",),
    "elu": ("torch._C._nn.elu(t, alpha, out=o)",),
    "gelu": ("torch._C._nn.gelu(t, approximate='none', out=o)",),
    "gelu_tanh": ("torch._C._nn.gelu(t, approximate='tanh', out=o)",),
    "relu6": ("torch.clamp(t, 0, 6, out=o)",),
    "log_sigmoid": ("torch._C._nn.log_sigmoid(t, out=o)",),
    "hard_sigmoid": ("torch._C._nn.hardsigmoid(t, out=o)",),
    "sine": ("torch.sin(torch.mul(t, w0, out=o), out=o)",),
    "silu": ("torch._C._nn.silu(t, out=o)",),
    "mish": ("torch._C._nn.mish(t, out=o)",),
    "hard_swish": ("torch._C._nn.hardswish(t, out=o)",),
    "hard_tanh": ("torch._C._nn.hardtanh(t, min_val, max_val, out=o)",),
    "softshrink": ("torch._C._nn.softshrink(t, lambd, out=o)",),
    "hardshrink": ("torch.hardshrink(t, lambd, out=o)",),
    "threshold": ("torch.threshold(t, threshold, value, out=o)",),
    "logit": ("torch.logit(t, out=o)",),
    "erf": ("torch.erf(t, out=o)",),
    "erfc": ("torch.erfc(t, out=o)",),
    "ndtr": ("torch.special.ndtr(t, out=o)",),
    "log_ndtr": ("torch.special.log_ndtr(t, out=o)",),
}
TORCH_BACKWARD: dict[str, tuple[str, ...]] = {
    "identity": ("torch.mul(gt, slope, out=o)",),
    "binary_step": ("torch.zeros_like(t)",),
    "sigmoid": ("torch.ops.aten.sigmoid_backward(gt, torch.sigmoid(t))",),
    "tanh": ("torch.ops.aten.tanh_backward(gt, torch.tanh(t))",),
    "relu": ("torch.ops.aten.threshold_backward(gt, t, 0)",),
    "leaky_relu": ("torch.ops.aten.leaky_relu_backward(gt, t, negative_slope, False)",),
    "softplus": ("torch.ops.aten.softplus_backward(gt, t, beta, threshold)",),
    "elu": ("torch.ops.aten.elu_backward(gt, alpha, 1.0, 1.0, False, t)",),
    "gelu": ("torch.ops.aten.gelu_backward(gt, t, approximate='none')",),
    "gelu_tanh": ("torch.ops.aten.gelu_backward(gt, t, approximate='tanh')",),
    "hard_sigmoid": ("torch.ops.aten.hardsigmoid_backward(gt, t)",),
    "silu": ("torch.ops.aten.silu_backward(gt, t)",),
    "mish": ("torch.ops.aten.mish_backward(gt, t)",),
    "hard_swish": ("torch.ops.aten.hardswish_backward(gt, t)",),
    "hard_tanh": ("torch.ops.aten.hardtanh_backward(gt, t, min_val, max_val)",),
    "softshrink": ("torch.ops.aten.softshrink_backward(gt, t, lambd)",),
    "hardshrink": ("torch.ops.aten.hardshrink_backward(gt, t, lambd)",),
    "threshold": ("torch.ops.aten.threshold_backward(gt, t, threshold)",),
}

#: Values for parameters the catalogue leaves required (``threshold(x, threshold, value)``).
REQUIRED_PARAM_VALUES: dict[str, float] = {"threshold": 0.0, "value": 0.0}

#: Implementation keys, in table order.
IMPLS = ("fastact-out", "fastact-alloc", "numpy", "scipy", "numexpr", "onnxruntime", "jax", "torch", "copy")

#: The columns ``Config.peers`` can switch off (fastact and copy always run).
PEER_KEYS = ("numpy", "scipy", "numexpr", "onnxruntime", "jax", "torch")


# ---------------------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One benchmarked function: an activation, forward or derivative, with one kernel's parameters."""

    activation: str  # catalogue name
    kernel: str  # native kernel name, the key of the formula tables
    grad: bool
    params: tuple[tuple[str, Any], ...]  # keyword arguments for fastact (choice included)
    label: str  # "gelu_grad(approximate='tanh')"

    @property
    def slug(self) -> str:
        """Identifier-friendly name: the kernel name, plus ``_grad``."""
        return self.kernel + ("_grad" if self.grad else "")

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def numeric_kwargs(self) -> dict[str, float]:
        return {k: v for k, v in self.params if not isinstance(v, str)}


def _builtin_specs() -> list[Activation]:
    specs = []
    for name in _registry.names():
        entry = _registry.get(name)  # fastact.get, typed with the ``spec`` field
        if entry.builtin and entry.spec is not None:
            specs.append(entry.spec)
    return specs


def cases(functions: Iterable[str] | None = None) -> list[Case]:
    """Every case of the catalogue, or those named: ``NAME`` selects forward and derivative, ``NAME_grad``
    only the derivative, ``NAME_fwd`` only the forward; aliases are accepted. Unknown names raise KeyError."""
    wanted: dict[str, set[bool]] | None = None
    if functions is not None:
        wanted = {}
        for raw in functions:
            item = raw.strip()
            if not item:
                continue
            modes = {False, True}
            for suffix, mode in (("_grad", {True}), ("_fwd", {False})):
                if item.endswith(suffix) and item != suffix:
                    try:
                        fastact.get(item)  # a name that itself ends in the suffix
                    except KeyError:
                        item, modes = item[: -len(suffix)], mode
                    break
            wanted.setdefault(fastact.get(item).name, set()).update(modes)
    out = []
    for spec in _builtin_specs():
        if wanted is not None and spec.name not in wanted:
            continue
        base = {p.name: (REQUIRED_PARAM_VALUES.get(p.name, 0.0) if p.required else p.default)
                for p in spec.numeric_params}
        variants: list[tuple[str, dict[str, Any], str]] = []
        choice = spec.choice
        if isinstance(choice, Choice):
            for value, kernel in choice.kernels.items():
                suffix = "" if value == choice.default else f"({choice.name}={value!r})"
                variants.append((kernel, {**base, choice.name: value}, suffix))
        else:
            variants.append((spec.kernels[0], base, ""))
        for grad in (False, True):
            if wanted is not None and grad not in wanted[spec.name]:
                continue
            for kernel, params, suffix in variants:
                label = spec.name + ("_grad" if grad else "") + suffix
                out.append(Case(spec.name, kernel, grad, tuple(params.items()), label))
    return out


# ---------------------------------------------------------------------------------------------------------
# Inputs, implementations, correctness
# ---------------------------------------------------------------------------------------------------------


def publish(lines: list[str], out: str | None) -> None:
    """Prints a benchmark script's markdown report and, given a path, writes it there with a final newline."""
    report = "\n".join(lines)
    print(report)
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(report + "\n")


def parse_shapes(text: str) -> tuple[tuple[tuple[int, ...], int], ...]:
    """Shapes with an axis each, for the along-an-axis benchmarks:
    '(1000000,8),-1;(32000,4096),0' -> (((1000000, 8), -1), ((32000, 4096), 0))."""
    specs = []
    for spec in text.split(";"):
        shape, axis = spec.strip().rsplit(",", 1)
        specs.append((tuple(int(v) for v in shape.strip("() ").split(",")), int(axis)))
    return tuple(specs)


def best_seconds(fn: Callable[[], object], repeats: int = 5) -> float:
    """The fastest of `repeats` single calls of `fn` after one warm-up call, in seconds (the standalone
    suites in benches/ time whole-array calls this way)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


@functools.lru_cache(maxsize=8)
def make_inputs(dtype: str, size: int, domain: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(x ~ U(-10, 10), grad_out ~ U(-1, 1)) of one dtype and size; the same arrays on every call. A function
    defined on an interval only (logit: (0, 1)) takes x ~ U(domain) instead: outside it every result is NaN,
    which would time a different code path from the one users run."""
    rng = np.random.default_rng(20240601 + size)
    low, high = domain if domain is not None else (-10.0, 10.0)
    x = rng.uniform(low, high, size).astype(dtype)
    g = rng.uniform(-1.0, 1.0, size).astype(dtype)
    return x, g


def case_inputs(case: Case, dtype: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    """`make_inputs` for this case's activation (its domain, if it declares one)."""
    return make_inputs(dtype, size, fastact.get(case.activation).spec.domain)


@dataclass
class Impl:
    """One implementation of one case, ready to time: ``call()`` runs it once."""

    key: str  # one of IMPLS
    label: str  # what the table shows ("numpy-reference", "torch (autograd)")
    call: Callable[[], Any]
    result: Callable[[Any], np.ndarray]  # the value call() returned -> ndarray, for the correctness check
    threads: Callable[[int], None] | None = None  # set this library's thread count
    expression: str = ""


def _compile(expr: str, args: Sequence[str], namespace: dict[str, Any]) -> Callable[..., Any]:
    fn: Callable[..., Any] = eval(f"lambda {', '.join(args)}: {expr}", namespace)  # noqa: S307 - our strings
    return fn


def _numpy_namespace() -> dict[str, Any]:
    ns: dict[str, Any] = {"np": np}
    if _sp is not None:
        ns.update(erf=_sp.erf, erfc=_sp.erfc, ndtr=_sp.ndtr, log_ndtr=_sp.log_ndtr, logit=_sp.logit,
                  expit=_sp.expit, log_expit=getattr(_sp, "log_expit", None))
    return ns


def _torch_autograd(f: Callable[[Any], Any], t: Any, gt: Any) -> Any:
    u = t.detach().requires_grad_(True)
    (r,) = torch.autograd.grad(f(u), u, gt)
    return r


def _torch_threads(n: int) -> None:
    torch.set_num_threads(n)


def implementations(case: Case, x: np.ndarray, g: np.ndarray, out: np.ndarray,
                    config: Config | None = None) -> dict[str, Impl | str]:
    """Every implementation of ``case`` on these arrays: key -> :class:`Impl`, or the reason it is skipped;
    the peers ``config`` switches off are left out (and not set up)."""
    config = config or Config()
    entry = fastact.get(case.activation)
    params = case.numeric_kwargs
    names = list(params)
    impls: dict[str, Impl | str] = {}
    asarray = np.asarray

    fa = entry.grad if case.grad else entry.forward
    lead = (x, g) if case.grad else (x,)
    impls["fastact-out"] = Impl("fastact-out", "fastact", functools.partial(fa, *lead, out=out, **case.kwargs),
                                asarray, fastact.set_num_threads)
    impls["fastact-alloc"] = Impl("fastact-alloc", "fastact", functools.partial(fa, *lead, **case.kwargs),
                                  asarray, fastact.set_num_threads)

    formula = NUMPY_FORMULAS.get(case.kernel)
    if formula is not None and case.kernel in _NEEDS_SCIPY and _sp is None:
        impls["numpy"] = "needs scipy.special.erf (SciPy not installed)"
    elif formula is not None:
        expr = formula[1] if case.grad else formula[0]
        fn = _compile(expr, ["x", "g", *names] if case.grad else ["x", *names], _numpy_namespace())
        impls["numpy"] = Impl("numpy", "numpy", functools.partial(fn, *lead, **params), asarray, expression=expr)
    else:
        impls["numpy"] = Impl("numpy", "numpy-reference", functools.partial(reference_value, case, x, g), asarray,
                              expression="fastact.reference (pure-NumPy kernels)")

    sexpr = None if case.grad else SCIPY_FORMULAS.get(case.kernel)
    sname = None if sexpr is None else sexpr.split("(")[0]
    if sexpr is None:
        impls["scipy"] = "no SciPy function"
    elif _sp is None:
        impls["scipy"] = "SciPy not installed"
    elif getattr(_sp, str(sname), None) is None:
        impls["scipy"] = f"scipy {scipy.__version__} has no special.{sname}"
    else:
        fn = _compile(sexpr, ["x", "o"], _numpy_namespace())
        impls["scipy"] = Impl("scipy", "scipy", functools.partial(fn, x, out), asarray, expression=sexpr)

    if config.wants("numexpr"):
        ne = _peers.numexpr_impl(case.kernel, case.grad, params, x, g, out)
        impls["numexpr"] = ne if isinstance(ne, str) else Impl("numexpr", "numexpr", ne[0], asarray, ne[1],
                                                               expression=ne[2])
    if config.wants("onnxruntime"):
        ox = _peers.onnx_impl(case.kernel, case.grad, params, x, out)
        impls["onnxruntime"] = ox if isinstance(ox, str) else Impl("onnxruntime", "onnxruntime", ox[0], asarray,
                                                                   ox[0].set_threads, expression=ox[1])
    if config.wants("jax"):
        jx = _peers.jax_impl(case.kernel, case.grad, params, x, g)
        impls["jax"] = jx if isinstance(jx, str) else Impl("jax", "jax", jx[0], asarray, jx[1], expression=jx[2])

    if config.wants("torch"):
        impls["torch"] = _torch_impl(case, x, g, out) if torch is not None else "PyTorch not installed"

    cexpr = "np.multiply(x, g, out=o)" if case.grad else "np.copyto(o, x)"
    impls["copy"] = Impl("copy", "copy", copy_baseline(case.grad, x, g, out), lambda _r: out, expression=cexpr)
    return {k: v for k, v in impls.items() if config.wants(k)}


def _torch_impl(case: Case, x: np.ndarray, g: np.ndarray, out: np.ndarray) -> Impl | str:
    params = case.numeric_kwargs
    names = list(params)
    t, gt, o = torch.from_numpy(x), torch.from_numpy(g), torch.from_numpy(out)
    ns = {"torch": torch, "F": torch.nn.functional, "_autograd": _torch_autograd}
    functional = TORCH_FUNCTIONAL.get(case.kernel)
    if case.grad:
        candidates = list(TORCH_BACKWARD.get(case.kernel, ()))
        if functional is not None:
            candidates.append(f"_autograd(lambda u: {functional}, t, gt)")
    else:
        candidates = list(TORCH_OUT.get(case.kernel, ()))
        if functional is not None:
            candidates.append(f"(lambda u: {functional})(t)")
    errors = []
    for expr in candidates:
        try:
            fn = _compile(expr, ["t", "o", "gt", *names], ns)
            call = functools.partial(fn, t, o, gt, **params)
            call()
        except Exception as exc:  # noqa: BLE001 - an op missing from this PyTorch version: try the next one
            errors.append(f"{expr}: {exc}")
            continue
        label = "torch (autograd)" if expr.startswith("_autograd") else "torch"
        return Impl("torch", label, call, lambda r: r.numpy(), _torch_threads, expression=expr)
    return "no PyTorch equivalent ran" + (f" ({errors[-1][:80]})" if errors else "")


def check(case: Case, x: np.ndarray | None, g: np.ndarray | None, value: np.ndarray,
          expected: np.ndarray | None = None) -> tuple[float, bool]:
    """(max |value - reference|, correct) on this input.

    Correct: the same dtype and shape as the reference, NaN/inf exactly where the reference has them, and
    every finite element within ``64 eps (1 + |reference|)``. ``expected`` (the reference result, when
    already computed) replaces ``x`` and ``g``.
    """
    if expected is None:
        assert x is not None and g is not None
        expected = reference_value(case, x, g)
    value = np.asarray(value)
    if value.shape != expected.shape:
        return math.inf, False
    a, b = value.astype(np.float64), expected.astype(np.float64)
    fa, fb = np.isfinite(a), np.isfinite(b)
    with np.errstate(all="ignore"):
        same_special = bool(np.array_equal(fa, fb)) and bool(np.array_equal(a[~fb], b[~fb], equal_nan=True))
        both = fa & fb
        diff = np.abs(a[both] - b[both])
        err = float(diff.max()) if diff.size else 0.0
        eps = float(np.finfo(expected.dtype).eps)
        ok = bool(np.all(diff <= 64 * eps * (1 + np.abs(b[both]))))
    if not same_special:
        err = math.inf
    return err, bool(ok and same_special and value.dtype == expected.dtype)


def sane(value: np.ndarray, expected: np.ndarray) -> bool:
    """The loose check that tells a wrong result from a less accurate one: the same shape, NaN/inf in the
    same places, and every element within ``max(1e-3, 8 eps) (1 + |reference|)``."""
    value = np.asarray(value)
    if value.shape != expected.shape:
        return False
    a, b = value.astype(np.float64), expected.astype(np.float64)
    fa, fb = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(fa, fb):
        return False
    tol = max(1e-3, 8 * float(np.finfo(expected.dtype).eps))
    with np.errstate(all="ignore"):
        return bool(np.array_equal(a[~fb], b[~fb], equal_nan=True)
                    and np.all(np.abs(a[fb] - b[fb]) <= tol * (1 + np.abs(b[fb]))))


def reference_value(case: Case, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The pure-NumPy reference result (``_kernels_numpy``, what ``fastact.reference`` computes when the
    native module is not loaded), the derivative multiplied by ``g`` in float64 and rounded once.

    The kernels are called directly: with the native module loaded, ``fastact.reference``'s functions go
    through the same native ``apply`` as ``fastact`` and could not catch a wrong native kernel.
    """
    if x.dtype.itemsize == 2:  # float16: computed in float32, rounded once to float16
        return reference_value(case, x.astype(np.float32), g.astype(np.float32)).astype(x.dtype)
    forward, derivative, _ = _kernels_numpy.KERNELS[case.kernel]
    spec = fastact.get(case.activation).spec
    params = [p.kernel_value(case.numeric_kwargs[p.name]) for p in spec.numeric_params]  # None -> absent
    if not case.grad:
        return np.asarray(forward(x, *params))
    d = derivative(np.asarray(x, dtype=np.float64), *params, precision=x.dtype)
    return np.asarray((np.asarray(g, dtype=np.float64) * d).astype(x.dtype))


# ---------------------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------------------


def measure(fn: Callable[[], Any], *, min_time_ms: float = 20.0, repeats: int = 7, budget_ms: float = 1000.0,
            min_repeats: int = 2) -> tuple[float, Any]:
    """(nanoseconds per call, the value of the first call): the best of up to ``repeats`` repeats of ``k``
    calls, after a warm-up call.

    ``k`` is sized so one repeat lasts at least ``min_time_ms``; the sizing run counts as a repeat once it is
    long enough, and so does the warm-up call when it alone lasts ``min_time_ms`` (a 10^7-element NumPy
    formula: no point calling it a third time to learn it is slow). After ``min_repeats`` repeats, no new
    repeat starts once ``budget_ms`` (warm-up included) is spent.
    """
    perf = time.perf_counter_ns
    min_ns = min_time_ms * 1e6
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = perf()
        value = fn()
        first = perf() - start
        if first >= min_ns:
            k, best, done = 1, float(first), 1
        else:
            k = max(1, int(min_ns / max(first, 1)))
            while True:
                loop = range(k)
                t0 = perf()
                for _ in loop:
                    fn()
                dt = perf() - t0
                if dt >= min_ns:
                    break
                k = max(2 * k, math.ceil(k * 1.2 * min_ns / max(dt, 1)))
            best, done = dt / k, 1
        while done < repeats and (done < min_repeats or perf() - start < budget_ms * 1e6):
            loop = range(k)
            t0 = perf()
            for _ in loop:
                fn()
            best = min(best, (perf() - t0) / k)
            done += 1
        return best, value
    finally:
        if gc_was_enabled:
            gc.enable()


# ---------------------------------------------------------------------------------------------------------
# Running a configuration
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Config:
    sizes: tuple[int, ...] = (16, 10**5, 10**7)
    dtypes: tuple[str, ...] = ("float32",)
    threads: tuple[int, ...] = ()  # () -> (1, all cores)
    functions: tuple[str, ...] | None = None
    #: the optional columns to run (PEER_KEYS); None -> every one that is installed
    peers: tuple[str, ...] | None = None
    min_time_ms: float = 20.0
    repeats: int = 7
    budget_ms: float = 1000.0
    #: sizes at or below this run at one thread count only (the largest): no kernel splits them
    small: int = 4096
    quick: bool = False
    #: a line for the report's header (the load on a shared machine, what was changed)
    note: str = ""

    @classmethod
    def quick_config(cls) -> Config:
        return cls(sizes=(16, 10**5, 10**7), threads=(usable_cores(),), min_time_ms=5.0, repeats=3,
                   budget_ms=100.0, quick=True)

    @classmethod
    def full_config(cls) -> Config:
        """The whole suite of issue 8: n = 16 ... 10^8, three dtypes, one thread and all cores. Hours on a
        small machine for every function, and 10^8 float64 needs ~4 GB: select functions with ``functions``."""
        return cls(sizes=(16, 256, 4096, 10**5, 10**6, 10**7, 10**8), dtypes=("float32", "float64", "float16"),
                   repeats=5)

    def wants(self, key: str) -> bool:
        return key not in PEER_KEYS or self.peers is None or key in self.peers


@dataclass
class ImplResult:
    key: str
    label: str
    ns: float | None = None  # ns per call; None when skipped or failed
    max_abs_diff: float | None = None
    correct: bool | None = None
    sane: bool | None = None  # within the loose tolerance of :func:`sane`
    note: str = ""  # why it was skipped / what failed

    def rate(self, size: int) -> float | None:
        return None if self.ns is None or self.ns <= 0 else size / (self.ns * 1e-9)


@dataclass
class Row:
    case: Case
    dtype: str
    size: int
    threads: int
    results: dict[str, ImplResult] = field(default_factory=dict)

    def rate(self, key: str) -> float | None:
        r = self.results.get(key)
        return None if r is None else r.rate(self.size)


usable_cores = _peers.usable_cores


def _run_impl(impl: Impl, case: Case, x: np.ndarray, g: np.ndarray, expected: _Expected | None,
              threads: int, config: Config) -> ImplResult:
    res = ImplResult(impl.key, impl.label)
    try:
        if impl.threads is not None:
            impl.threads(threads)
        with np.errstate(all="ignore"):
            res.ns, value = measure(impl.call, min_time_ms=config.min_time_ms, repeats=config.repeats,
                                    budget_ms=config.budget_ms)
            if expected is not None:
                res.max_abs_diff, res.correct, res.sane = expected.check(impl.result(value))
    except _peers.Skipped as exc:
        res.ns, res.note = None, f"skipped: {exc}"
    except Exception as exc:  # noqa: BLE001 - report it in the table, keep benchmarking the rest
        res.ns = None
        res.note = f"failed: {type(exc).__name__}: {exc}"
    return res


_POOLS: dict[int, Any] = {}


def copy_baseline(grad: bool, x: np.ndarray, g: np.ndarray, out: np.ndarray, threads: int = 1) -> Callable[[], Any]:
    """The memory-bandwidth limit as a callable: ``np.copyto(out, x)`` for a forward (read one array, write
    one), ``np.multiply(x, g, out=out)`` for a derivative (read two, write one; for 16-bit floats a XOR of the
    bits, since NumPy's float16 arithmetic runs through float32); with ``threads > 1`` split
    into that many contiguous chunks run on a thread pool (NumPy releases the GIL for both)."""
    if x.dtype.itemsize == 2:
        # NumPy computes float16 arithmetic through float32, far below memory speed: the same bytes moved by
        # an integer operation on the bits instead.
        x, g, out = (a.view(np.uint16) for a in (x, g, out))
    combine = np.bitwise_xor if x.dtype == np.uint16 else np.multiply
    if threads <= 1:
        return functools.partial(combine, x, g, out=out) if grad else functools.partial(np.copyto, out, x)
    from concurrent.futures import ThreadPoolExecutor

    pool = _POOLS.get(threads)
    if pool is None:
        pool = _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix="fastact-bench-copy")
    step = -(-x.size // threads)
    xs, gs, os_ = (np.ravel(a) for a in (x, g, out))
    if grad:
        jobs = [functools.partial(combine, xs[i:i + step], gs[i:i + step], out=os_[i:i + step])
                for i in range(0, x.size, step)]
    else:
        jobs = [functools.partial(np.copyto, os_[i:i + step], xs[i:i + step]) for i in range(0, x.size, step)]
    submit = pool.submit

    def run() -> None:
        for f in [submit(job) for job in jobs]:
            f.result()

    return run


def _copy_baseline(impl: Impl, case: Case, x: np.ndarray, g: np.ndarray, out: np.ndarray, threads: int,
                   config: Config) -> ImplResult:
    """The faster of the single-threaded copy and, for large arrays, the same split over ``threads``."""
    best = _run_impl(impl, case, x, g, None, threads, config)
    if threads > 1 and x.size >= 1 << 18:
        split = Impl("copy", "copy", copy_baseline(case.grad, x, g, out, threads), impl.result)
        res = _run_impl(split, case, x, g, None, threads, config)
        if res.ns is not None and (best.ns is None or res.ns < best.ns):
            res.note = f"split over {threads} threads"
            best = res
    return best


class _Expected:
    """The reference result of one case on one input, checked on every element up to ``FULL_CHECK``
    elements and on a sample above (the pure-NumPy gelu costs ~0.6 µs per element)."""

    FULL_CHECK = 1 << 20
    SAMPLE_BLOCKS, BLOCK = 256, 1024

    def __init__(self, case: Case, x: np.ndarray, g: np.ndarray) -> None:
        self.case = case
        n = x.size
        if n <= self.FULL_CHECK:
            self.index: Any = slice(None)
        else:
            starts = np.linspace(0, n - self.BLOCK, self.SAMPLE_BLOCKS).astype(np.int64)
            self.index = (starts[:, None] + np.arange(self.BLOCK)).ravel()
        self.value = reference_value(case, x[self.index], g[self.index])

    def check(self, value: np.ndarray) -> tuple[float, bool, bool]:
        """(max abs diff, correct, sane)."""
        value = np.asarray(value)
        if value.shape != self.value.shape and value.ndim == 1:
            value = value[self.index]
        return (*check(self.case, None, None, value, self.value), sane(value, self.value))


def _settle_allocator() -> None:
    """Free one 30 MiB block so that glibc's dynamic mmap threshold rises to it now.

    Otherwise the first arrays of a few hundred KiB are mmap'ed and page-faulted on every allocation until
    the first such free, which makes whichever allocating implementation runs first look several times
    slower than the same code later in the run.
    """
    block = np.empty(30 * 2**20, dtype=np.uint8)
    del block


def run(config: Config, progress: Callable[[str], None] | None = None) -> list[Row]:
    """Benchmark every case of ``config``; ``progress`` receives one line per case and size."""
    all_cases = cases(config.functions)
    threads_list = config.threads or tuple(sorted({1, usable_cores()}))
    rows: list[Row] = []
    previous_fastact = fastact.get_num_threads()
    previous_torch = torch.get_num_threads() if torch is not None else None
    numexpr = _peers.load("numexpr")[0] if config.wants("numexpr") else None
    previous_numexpr = numexpr.get_num_threads() if numexpr is not None else None
    jax = _peers.load("jax")[0] if config.wants("jax") else None
    previous_x64 = jax.config.jax_enable_x64 if jax is not None else None
    if jax is not None:
        jax.config.update("jax_enable_x64", True)  # float64 stays float64; restored below
    copy_cache: dict[tuple[bool, str, int, int], ImplResult] = {}
    _settle_allocator()
    _git_commit()  # the code measured is the code at the start
    try:
        for dtype in config.dtypes:
            for size in config.sizes:
                out = np.empty(size, dtype)
                sizes_threads = threads_list if size > config.small else (max(threads_list),)
                for threads in sizes_threads:
                    for case in all_cases:
                        if progress is not None:
                            progress(f"{dtype} n={size} threads={threads} {case.label}")
                        x, g = case_inputs(case, dtype, size)
                        row = Row(case, dtype, size, threads)
                        expected = _Expected(case, x, g)
                        for key, impl in implementations(case, x, g, out, config).items():
                            if isinstance(impl, str):
                                row.results[key] = ImplResult(key, key, note=impl)
                                continue
                            if key == "copy":  # the same for every case of one mode
                                ck = (case.grad, dtype, size, threads)
                                if ck not in copy_cache:
                                    copy_cache[ck] = _copy_baseline(impl, case, x, g, out, threads, config)
                                row.results[key] = copy_cache[ck]
                                continue
                            row.results[key] = _run_impl(impl, case, x, g, expected, threads, config)
                        rows.append(row)
    finally:
        fastact.set_num_threads(previous_fastact)
        if torch is not None and previous_torch is not None:
            torch.set_num_threads(previous_torch)
        if numexpr is not None and previous_numexpr is not None:
            numexpr.set_num_threads(previous_numexpr)
        if jax is not None:
            jax.config.update("jax_enable_x64", previous_x64)
    return rows


# ---------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "Hardware", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


@functools.lru_cache(maxsize=1)
def _git_commit() -> str:
    """The commit of the checkout fastact is imported from (a development install), or ''; read once, when
    a run starts, so that editing the checkout during a run does not change what the report says."""
    import subprocess

    here = os.path.dirname(os.path.abspath(fastact.__file__))
    try:
        head = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", here, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return head + (" (with uncommitted changes)" if dirty else "")


def _load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except (AttributeError, OSError):  # pragma: no cover - not Unix
        return "unknown"
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f} (1, 5, 15 min, when the report was written)"


def machine_info() -> dict[str, str]:
    return {
        "cpu": _cpu_model(),
        "cores": f"{os.cpu_count()} logical, {usable_cores()} usable",
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "fastact": f"{fastact.__version__} ({fastact.backend()} backend, SIMD {fastact.simd_level()}, "
                   f"default threads {fastact.get_num_threads()})",
        "numpy": np.__version__,
        "scipy": scipy.__version__ if scipy is not None else "not installed (scipy column and gelu formula skipped)",
        "torch": torch.__version__ if torch is not None else "not installed (torch column skipped)",
        **{name: _peers.version_line(name) for name in _peers.PEERS},
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git_commit() or "unknown (not a git checkout)",
        "load": _load(),
    }


def fmt_rate(r: float | None) -> str:
    """Elements per second, 3 significant digits: '2.31 G/s', '512 M/s'."""
    if r is None:
        return "—"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if r >= scale * 0.9995:  # 999.6 M/s prints as 1 G/s, not 1000 M/s
            v = r / scale
            return f"{v:.3g} {unit}/s" if v < 100 else f"{v:.0f} {unit}/s"
    return f"{r:.3g} /s"


def fmt_time(ns: float | None) -> str:
    if ns is None:
        return "—"
    if ns < 999.5:
        return f"{ns:.0f} ns"
    if ns < 999.5e3:
        return f"{ns / 1e3:.3g} µs"
    if ns < 999.5e6:
        return f"{ns / 1e6:.3g} ms"
    return f"{ns / 1e9:.3g} s"


def _fmt_ratio(a: float | None, b: float | None, digits: int = 2) -> str:
    if a is None or b is None or b == 0:
        return "—"
    v = a / b
    return f"{v:.{digits}f}×" if v < 10 else f"{v:.0f}×"


def _fmt_diff(res: ImplResult) -> str:
    if res.max_abs_diff is None:
        return "—"
    if math.isinf(res.max_abs_diff):
        return "inf/NaN"
    return "0" if res.max_abs_diff == 0 else f"{res.max_abs_diff:.1e}"


def _peer_cell(row: Row, key: str) -> str:
    res = row.results.get(key)
    return fmt_rate(row.rate(key)) + (" ✗" if res is not None and res.sane is False and res.ns else "")


def markdown(rows: list[Row], config: Config, elapsed_s: float | None = None) -> str:
    info = machine_info()
    has_scipy, has_torch = scipy is not None and config.wants("scipy"), torch is not None and config.wants("torch")
    peers = [p for p in _peers.PEERS if config.wants(p) and _peers.load(p)[0] is not None]
    lines = ["# fastact benchmark" + (" (--quick)" if config.quick else ""), ""]
    for key in ("cpu", "cores", "os", "python", "fastact", "commit", "numpy", "scipy", "torch", *_peers.PEERS,
                "date", "load"):
        if key in PEER_KEYS and not config.wants(key):
            lines.append(f"- **{key}**: not run (--peers)")
        else:
            lines.append(f"- **{key}**: {info[key]}")
    lines.append("- **input**: x ~ U(-10, 10) (U(0, 1) for logit, defined there only), grad_out ~ U(-1, 1); "
                 "catalogue defaults for the parameters (threshold(x, 0, 0))")
    lines.append(f"- **timing**: warm-up call, then best of up to {config.repeats} repeats of k calls, "
                 f"each repeat ≥ {config.min_time_ms:g} ms (perf_counter_ns, GC off)")
    if elapsed_s is not None:
        lines.append(f"- **run time**: {elapsed_s:.1f} s")
    if config.note:
        lines.append(f"- **note**: {config.note}")
    lines.append("")

    groups: dict[tuple[str, int, int], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.dtype, row.size, row.threads), []).append(row)
    header = ["function", "fastact out", "per call", "fastact alloc", "numpy"]
    header += ["scipy"] if has_scipy else []
    header += peers
    header += ["torch"] if has_torch else []
    header += ["copy", "× numpy", "of copy", "max abs diff", "correct"]
    for (dtype, size, threads), group in groups.items():
        lines += [f"## {dtype}, n = {size:,}, threads = {threads}", ""]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 2) + [":---:"]) + "|")
        for row in group:
            r = row.results
            fo = r["fastact-out"]
            numpy_cell = fmt_rate(row.rate("numpy"))
            if "numpy" in r and r["numpy"].label == "numpy-reference" and r["numpy"].ns is not None:
                numpy_cell += " (ref)"
            cells = [f"`{row.case.label}`", fmt_rate(row.rate("fastact-out")), fmt_time(fo.ns),
                     fmt_rate(row.rate("fastact-alloc")), numpy_cell]
            if has_scipy:
                cells.append(_peer_cell(row, "scipy"))
            cells += [_peer_cell(row, p) for p in peers]
            if has_torch:
                cell = _peer_cell(row, "torch")
                cells.append(cell + (" (ag)" if r["torch"].label == "torch (autograd)" and r["torch"].ns else ""))
            cells += [fmt_rate(row.rate("copy")),
                      _fmt_ratio(row.rate("fastact-alloc"), row.rate("numpy")),
                      _fmt_ratio(row.rate("fastact-out"), row.rate("copy")),
                      _fmt_diff(fo),
                      "—" if fo.correct is None else ("✓" if fo.correct else "✗")]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")

    lines += ["### Columns", "",
              "- **fastact out**: `fastact.NAME(x, out=out)` (derivatives: `NAME_grad(x, grad_out, out=out)`), "
              "elements per second; **per call**: its time per call.",
              "- **fastact alloc**: the same call without `out=`, allocation of the result included.",
              "- **numpy**: the plain-NumPy formula a user would write (see `fastact._bench.NUMPY_FORMULAS`), "
              "temporaries included; `(ref)` marks `fastact.reference` used where no formula exists.",
              ]
    if has_scipy:
        lines.append("- **scipy**: `scipy.special` (expit, log_expit, logit, erf, erfc, ndtr, log_ndtr) with `out=` "
                     "(forward only).")
    if "numexpr" in peers:
        lines.append("- **numexpr**: `numexpr.evaluate(expr, out=out)` with `numexpr.set_num_threads` = the row's "
                     "count (`fastact._peers.NUMEXPR_FORMULAS`); — where numexpr has no natural expression "
                     "(gelu: no erf) or no float16.")
    if "onnxruntime" in peers:
        lines.append("- **onnxruntime**: a one-node ONNX model per activation (`fastact._peers.ONNX_OPS`), "
                     "`intra_op_num_threads` = the row's count, `inter_op_num_threads` = 1, run with "
                     "`run_with_iobinding` into the preallocated output (no allocation); forward only; — where "
                     "ONNX has no op or this build has no kernel for the dtype.")
    if "jax" in peers:
        lines.append("- **jax**: `jax.jit` of the `jax.nn` function (derivatives: its `jax.vjp`), input put on the "
                     "CPU device once, `.block_until_ready()` timed, result allocated; XLA's threads cannot be "
                     "set at run time, so only rows at all usable cores have a JAX figure.")
    if has_torch:
        lines.append("- **torch**: PyTorch CPU on `torch.from_numpy` views, same thread count, `.out` variants "
                     "where they exist; derivatives via ATen backward ops, `(ag)` = autograd.")
    if has_scipy or has_torch or peers:
        lines.append("- **✗** after a peer's figure: its result is wrong on this input (outside max(1e-3, 8 eps) "
                     "(1 + |ref|) of the reference, or NaN/inf elsewhere); the figure times a wrong answer.")
    lines += ["- **copy**: the memory-bandwidth limit: `np.copyto(out, x)` for forwards, "
              "`np.multiply(x, grad_out, out=out)` for derivatives (the same bytes read and written); "
              "for n >= 2^18 with several threads, the faster of that and the same split over the threads.",
              "- **× numpy**: fastact alloc ÷ numpy throughput (> 1: fastact is faster; both return a new array).",
              "- **of copy**: fastact out ÷ copy throughput (1.00× = as fast as moving the bytes).",
              "- **max abs diff** / **correct**: fastact's result against the pure-NumPy reference kernels "
              "(`fastact.reference` without the native module) on the same input; correct = NaN/inf in the "
              "same places and every element within 64 eps (1 + |ref|); above 2^20 elements, on 256 blocks of "
              "1024 spread over the array, both ends included.", ""]

    notes = _notes(rows)
    if notes:
        lines += ["### Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)


def _notes(rows: list[Row]) -> list[str]:
    notes = []
    slower = []
    for r in rows:
        fa, npy = r.rate("fastact-alloc"), r.rate("numpy")
        if fa is not None and npy is not None and fa < npy:
            slower.append(f"`{r.case.label}` ({r.dtype}, n={r.size:,}, {r.threads} thr: {_fmt_ratio(fa, npy)})")
    if slower:
        notes.append("fastact slower than the NumPy formula: " + ", ".join(slower))
    worst: dict[tuple[str, str, str], tuple[float, Row, ImplResult]] = {}
    failures: dict[tuple[str, str], str] = {}
    for r in rows:
        for key in IMPLS:
            res = r.results.get(key)
            if res is None:
                continue
            if res.note.startswith("failed"):
                failures.setdefault((key, r.case.label), res.note)
            if res.correct is False:
                if key == "fastact-alloc" and r.results["fastact-out"].correct is False:
                    continue
                k = (res.label, r.case.label, r.dtype)
                err = res.max_abs_diff if res.max_abs_diff is not None else math.inf
                if k not in worst or err > worst[k][0]:
                    worst[k] = (err, r, res)
    if worst:
        items = [f"{label} `{fn}` ({dtype}: max abs diff {_fmt_diff(res)} at n={row.size:,})"
                 for (label, fn, dtype), (_e, row, res) in worst.items()]
        notes.append(f"NOT correct against the reference ({len(items)}): " + ", ".join(items))
    for (key, label), note in failures.items():
        notes.append(f"{key} `{label}` {note}")
    skips: dict[tuple[str, str], int] = {}
    for r in rows:
        for key, res in r.results.items():
            if res.note.startswith("skipped: "):
                why = (key, res.note.removeprefix("skipped: "))
                skips[why] = skips.get(why, 0) + 1
    for (key, why), count in skips.items():
        notes.append(f"{key} skipped in {count} rows: {why}")
    copies = sorted({(r.size, r.threads) for r in rows if r.results.get("copy") and r.results["copy"].note})
    if copies:
        notes.append("copy baseline split over threads (faster than one thread) at " +
                     ", ".join(f"n={n:,}/{t} thr" for n, t in copies))
    return notes


def main_bench(config: Config, out_path: str | None = None, progress: bool = True, plot_path: str | None = None,
               plot_functions: Sequence[str] | None = None) -> str:
    """Run, optionally write the markdown report to ``out_path`` and a roofline plot of ``plot_functions``
    (default: the first nine) to ``plot_path``; returns the report."""
    if plot_path:
        from ._bench_plot import _pyplot

        _pyplot()  # no matplotlib: fail before the run, not after it
    def report(line: str) -> None:
        if progress:
            sys.stderr.write(f"\r\x1b[K{line}" if sys.stderr.isatty() else f"{line}\n")
            sys.stderr.flush()

    t0 = time.perf_counter()
    rows = run(config, report if progress else None)
    elapsed = time.perf_counter() - t0
    if progress and sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K")
    text = markdown(rows, config, elapsed)
    if plot_path:
        from ._bench_plot import roofline

        roofline(rows, plot_path, functions=plot_functions)
    if out_path:
        with open(out_path, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return text
