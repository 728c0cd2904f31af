"""The vocabulary of the catalogue: what one activation's declarative entry holds.

Each activation is one :class:`Activation` in ``_catalogue.py``. Everything else — the public functions
with their signatures and docstrings, the registry, the reference namespace, the stubs, the README table,
the tests and the benchmarks — is derived from those entries.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Activation", "Alias", "AxisActivation", "Choice", "Param", "ParamSpec"]

#: What a numeric parameter must satisfy; each maps to (test, text used in the error message).
CHECKS: Mapping[str, tuple] = {
    "finite": (math.isfinite, "a finite number"),
    "positive": (lambda v: math.isfinite(v) and v > 0, "a finite number > 0"),
    "nonnegative": (lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0"),
    "nonzero": (lambda v: math.isfinite(v) and v != 0, "a finite, non-zero number"),
    "not_nan": (lambda v: not math.isnan(v), "a number that is not NaN (±inf allowed)"),
    "half_unit": (lambda v: 0 <= v <= 0.5, "a number in [0, 0.5]"),
}


@dataclass(frozen=True)
class Param:
    """A numeric parameter, passed to the kernel as a float64.

    ``default=None`` makes it required (PyTorch's ``threshold(x, threshold, value)``), unless ``absent``
    is set: then None is allowed and means "not given", and the kernel gets ``absent`` instead (PyTorch's
    ``logit(x, eps=None)``: the kernel reads eps < 0 as no clamping).
    """

    name: str
    default: float | None
    doc: str
    check: str = "finite"
    absent: float | None = None

    def __post_init__(self) -> None:
        if self.check not in CHECKS:
            raise ValueError(f"unknown check {self.check!r}; expected one of {sorted(CHECKS)}")
        if self.absent is not None and self.default is not None:
            raise ValueError(f"{self.name}: absent= is the kernel's value for None, so the default must be None")

    @property
    def required(self) -> bool:
        return self.default is None and self.absent is None

    def kernel_value(self, value: float | None) -> float:
        """What the kernel gets for ``value`` (None -> ``absent``)."""
        if value is None:
            if self.absent is None:
                raise ValueError(f"{self.name} is required")
            return self.absent
        return float(value)


@dataclass(frozen=True)
class Choice:
    """A string parameter that selects one of several native kernels (gelu's ``approximate``)."""

    name: str
    default: str
    kernels: Mapping[str, str]
    doc: str

    @property
    def required(self) -> bool:
        return False


ParamSpec = Param | Choice


@dataclass(frozen=True)
class Alias:
    """Another name for an activation, as another library spells it.

    ``bind`` fixes parameters: Hugging Face's ``gelu_new`` is gelu with ``approximate='tanh'``, so
    ``fastact.gelu_new(x)`` is ``fastact.gelu(x, approximate='tanh')`` and takes no ``approximate``.
    ``source`` says whose name it is (shown in the docs).
    """

    name: str
    bind: Mapping[str, float | str] = field(default_factory=dict)
    source: str = ""


def _check_aliases(owner: str, aliases: tuple[Alias, ...]) -> None:
    for a in aliases:
        if not isinstance(a, Alias):
            raise TypeError(f"{owner}: aliases are Alias(...) entries, got {a!r}")
        if not a.name.isidentifier() or a.name == owner:
            raise ValueError(f"{owner}: alias {a.name!r} must be an identifier other than the name itself")


@dataclass(frozen=True)
class Activation:
    """One row of the catalogue.

    ``kernel`` names the native kernel (``rust/core/src/table.rs``) and the NumPy reference kernel
    (``_kernels_numpy.py``); a :class:`Choice` parameter replaces it by the chosen value's kernel.
    ``from_output`` is the derivative written in terms of the output y, or None when f' is not a
    function of y. The accuracy bounds of the native kernels live with them, in the kernel table
    (``rust/core/src/table.rs``), and reach Python through ``fastact._fastact.kernels()``.
    """

    name: str
    summary: str
    formula: str
    derivative: str
    output_range: str
    properties: tuple[str, ...]
    conventions: str
    params: tuple[ParamSpec, ...] = ()
    kernel: str | None = None
    from_output: str | None = None
    #: Other libraries' names for it; an alias can bind parameters.
    aliases: tuple[Alias, ...] = ()
    cancellation: str = ""
    notes: str = ""
    #: Cross-parameter conditions: (Python expression over the parameter names, what to tell the user).
    requires: tuple[tuple[str, str], ...] = ()
    #: Extra conditions for the from-output derivative, which is only valid for some parameters.
    from_output_requires: tuple[tuple[str, str], ...] = ()
    #: The closed interval the function is defined on, where it is not the whole line (logit: [0, 1]);
    #: outside it the forward is NaN (unless a parameter clamps the input first).
    domain: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        _check_aliases(self.name, self.aliases)
        params = {p.name: p for p in self.params}
        for alias in self.aliases:
            for key, value in alias.bind.items():
                spec = params.get(key)
                if spec is None:
                    raise ValueError(f"{self.name}: alias {alias.name!r} binds {key!r}, which is not a parameter")
                ok = value in spec.kernels if isinstance(spec, Choice) else (
                    isinstance(value, (int, float)) and CHECKS[spec.check][0](float(value)))
                if not ok:
                    raise ValueError(f"{self.name}: alias {alias.name!r} binds {key}={value!r}, which is not allowed")

    @property
    def alias_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.aliases)

    @property
    def numeric_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if isinstance(p, Param))

    @property
    def choice(self) -> Choice | None:
        return next((p for p in self.params if isinstance(p, Choice)), None)

    @property
    def kernels(self) -> tuple[str, ...]:
        """Every native kernel this activation can dispatch to."""
        choice = self.choice
        if choice is not None:
            return tuple(choice.kernels.values())
        return (self.kernel or self.name,)

    @property
    def defaults(self) -> dict[str, object]:
        return {p.name: p.default for p in self.params}


@dataclass(frozen=True)
class AxisActivation:
    """One along-an-axis function (softmax family, logsumexp, GLU, maxout, PReLU): its documentation.

    The implementations live in ``_axis.py`` (their signatures differ by family); ``params`` holds the
    defaults the registry reports, ``param_docs`` one line per argument for the docstrings.
    """

    name: str
    summary: str
    formula: str
    derivative: str
    output_range: str
    properties: tuple[str, ...]
    conventions: str
    params: tuple[tuple[str, object], ...] = ()
    param_docs: tuple[tuple[str, str], ...] = ()
    from_output: str | None = None
    #: Other libraries' names for it (binding parameters is for elementwise activations only).
    aliases: tuple[Alias, ...] = ()
    notes: str = ""

    def __post_init__(self) -> None:
        _check_aliases(self.name, self.aliases)
        if any(a.bind for a in self.aliases):
            raise ValueError(f"{self.name}: along-an-axis aliases cannot bind parameters")

    @property
    def alias_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.aliases)

    @property
    def defaults(self) -> dict[str, object]:
        return dict(self.params)


@dataclass(frozen=True)
class FusedOperation:
    """One fused operation (an elementwise activation combined with the work around it in one memory pass):
    its documentation. The implementation lives in ``_fused.py``; ``param_docs`` holds one line per argument
    for the docstrings of the forward and of ``NAME_grad``."""

    name: str
    summary: str
    formula: str
    derivative: str
    conventions: str
    param_docs: tuple[tuple[str, str], ...] = ()
    grad_returns: str = ""
    notes: str = ""
