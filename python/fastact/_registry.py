"""From the catalogue to callable functions: backends, the slow path, code generation and the registry.

Every public function is generated here from its catalogue entry, once per backend:

* the *native* backend calls ``_fastact.apply`` first; that fast path takes aligned, native-endian
  float32/float64 ndarrays and returns None for anything else, which then goes through :func:`slow_path`;
* the *reference* backend sends everything through :func:`slow_path`, which computes with the pure-NumPy
  kernels of ``_kernels_numpy``. It is what runs when the native module cannot load or when
  ``FASTACT_DISABLE_NATIVE=1``, and it is ``fastact.reference``.

The generated functions carry real signatures (``inspect.signature`` works) and docstrings assembled from
the catalogue, and cost one Python frame on top of the native call.
"""

from __future__ import annotations

import difflib
import math
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from . import _interop, _kernels_numpy
from ._catalogue import CATALOGUE
from ._spec import CHECKS, Activation, Alias, AxisActivation, Choice

FORWARD, DERIVATIVE, FROM_OUTPUT = 0, 1, 2
_MODE_SUFFIX = {FORWARD: "", DERIVATIVE: "_grad", FROM_OUTPUT: "_grad_from_output"}


def _load_native() -> Any:
    if os.environ.get("FASTACT_DISABLE_NATIVE", "") not in ("", "0"):
        return None
    try:
        from . import _fastact
    except ImportError as exc:  # pragma: no cover - depends on the installation
        warnings.warn(
            f"fastact: the native module could not be loaded ({exc}); using the NumPy reference "
            "implementation, which is correct but slower. Reinstall with `pip install .` to build it.",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    return _fastact


NATIVE = _load_native()

#: Kernel names in the native table's order: the index is what ``_fastact.apply`` takes.
KERNEL_NAMES: tuple[str, ...] = (
    tuple(k[0] for k in NATIVE.kernels()) if NATIVE is not None else tuple(_kernels_numpy.KERNELS)
)
_KERNEL_INDEX = {name: i for i, name in enumerate(KERNEL_NAMES)}

_SUPPORTED = "float16, float32, float64 (bfloat16 with ml_dtypes), integers and bool"


def _compute_dtypes(dtype: np.dtype) -> tuple[np.dtype, np.dtype]:
    """(dtype the kernels compute in, dtype of the result) for an input dtype, as NumPy's float ufuncs do."""
    if dtype.kind == "f":
        if dtype.itemsize == 4:
            return np.dtype(np.float32), np.dtype(np.float32)
        if dtype.itemsize == 8:
            return np.dtype(np.float64), np.dtype(np.float64)
        if dtype.itemsize == 2:
            return np.dtype(np.float32), np.dtype(np.float16)
    elif dtype.kind in "biu":
        result = np.result_type(dtype, np.float16)  # int8 -> float16, int16 -> float32, int32/64 -> float64
        return (np.dtype(np.float32) if result.itemsize <= 4 else np.dtype(np.float64)), result
    elif dtype.name == "bfloat16":
        return np.dtype(np.float32), dtype
    raise TypeError(f"fastact does not support arrays of dtype {dtype}; supported: {_SUPPORTED}")


_DTYPE_CHOICES = "float16, float32, float64 (bfloat16 with ml_dtypes)"


def requested_dtypes(dtype: Any, function: str) -> tuple[np.dtype, np.dtype]:
    """(dtype the kernels compute in, result dtype) for a ``dtype=`` argument, which must name a floating
    type fastact computes in (as NumPy ufuncs' ``dtype=``: compute and return in it)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{function}(): dtype={dtype!r} is not a NumPy dtype; choose one of {_DTYPE_CHOICES}") from None
    if (dt.kind == "f" and dt.itemsize in (2, 4, 8)) or dt.name == "bfloat16":
        return _compute_dtypes(dt.newbyteorder("="))
    raise TypeError(f"{function}(): dtype={dt} is not supported; choose one of {_DTYPE_CHOICES}")


def cast_to(a: np.ndarray, result: np.dtype) -> np.ndarray:
    """An input in a dtype= argument's type first (float16 and bfloat16 then compute in float32): as a
    NumPy ufunc with dtype=float16 rounds its inputs to float16."""
    return a if a.dtype == result or result.itemsize >= 4 else a.astype(result)


#: Every argument becomes an array here (DLPack, buffers, __array__: without a copy; see _interop).
_as_input = _interop.as_array


def check_out(out: Any, shape: tuple[int, ...], result: np.dtype, function: str = "") -> None:
    """Validate an ``out=`` argument (None passes): an ndarray of the result's shape and dtype, writeable.
    ``function`` names the caller in the messages (e.g. ``"softmax"``)."""
    if out is None:
        return
    who = f"{function}(): " if function else ""
    if not isinstance(out, np.ndarray):
        raise TypeError(who + _interop.out_hint(out))
    if isinstance(out, np.ma.MaskedArray):
        raise TypeError(f"{who}out is a masked array (numpy.ma); fastact writes every element and keeps no mask: "
                        "pass numpy.ma.getdata(out) to write into its data")
    if out.shape != shape:
        raise ValueError(f"{who}out has shape {out.shape} but the result has shape {shape}")
    if out.dtype != result:
        raise TypeError(
            f"{who}out has dtype {out.dtype} but the result has dtype {result}; pass an out array of dtype "
            f"{result} (e.g. numpy.empty_like(x, dtype={result.name!r}))"
        )
    if not out.flags.writeable:
        raise ValueError(f"{who}out is read-only; pass a writeable array")


def slow_path(
    kernel: int, mode: int, x: Any, grad_out: Any, out: Any, p0: float, p1: float, native: bool = True,
    dtype: Any = None, function: str = "",
) -> Any:
    """Normalise the inputs, validate ``out`` and compute with the native kernels (``native`` and loaded)
    or the NumPy reference kernels; with ``dtype``, in that dtype (the input is cast to it first). A dask
    array gives a lazy dask array, computed block by block by this same function."""
    if _interop.is_dask(x) or _interop.is_dask(grad_out):
        from . import _dask

        return _dask.elementwise(kernel, mode, x, grad_out, out, p0, p1, native, dtype, function)
    xa = _as_input(x, "x")
    compute, result = _compute_dtypes(xa.dtype)  # also rejects complex, object and string inputs
    if dtype is not None:
        compute, result = requested_dtypes(dtype, function or KERNEL_NAMES[kernel] + _MODE_SUFFIX[mode])
        xa = cast_to(xa, result)
    ga = None
    if grad_out is not None:
        ga = _as_input(grad_out, "grad_out")
        if ga.shape != xa.shape:
            raise ValueError(
                f"grad_out has shape {ga.shape} but the input has shape {xa.shape}; fastact does not "
                "broadcast: pass arrays of the same shape"
            )
        _compute_dtypes(ga.dtype)  # rejects complex, object, strings
        if dtype is not None:
            ga = cast_to(ga, result)
    check_out(out, xa.shape, result, function)
    if native and NATIVE is not None and result.itemsize == 2:
        # float16 and bfloat16 go to the native kernels as they are: those widen to float32 a block at a
        # time and round each result once, without a float32 copy of the whole array.
        compute = result
    xc = np.require(xa, dtype=compute.newbyteorder("="), requirements="A")
    gc = None if ga is None else np.require(ga, dtype=compute.newbyteorder("="), requirements="A")
    direct = out is not None and out.dtype == compute and out.flags.aligned and out.dtype.isnative
    value = _compute(kernel, mode, xc, gc, out if direct else None, p0, p1, native and NATIVE is not None)
    if out is not None:
        if not direct:
            np.copyto(out, value, casting="unsafe")
        return out
    if result != compute:
        value = value.astype(result)
    return value[()] if xa.ndim == 0 else value


def _compute(
    kernel: int, mode: int, x: np.ndarray, g: np.ndarray | None, out: Any, p0: float, p1: float, native: bool
) -> Any:
    """Run one kernel on normalised arrays (aligned, native, float32/float64; float16/bfloat16 natively)."""
    if native:
        target = out if out is None or type(out) is np.ndarray else out.view(np.ndarray)  # a memmap, say
        value = NATIVE.apply(kernel, mode, np.asarray(x), g, target, p0, p1)
        if value is None:  # pragma: no cover - the arrays were normalised for the fast path
            raise RuntimeError("fastact: the native kernel rejected normalised arrays (please report this)")
        return np.asarray(value) if out is None else out
    name = KERNEL_NAMES[kernel]
    fn = _kernels_numpy.KERNELS[name][mode]
    if fn is None:
        raise ValueError(f"{name}'s derivative is not a function of its output; use {name}_grad(x, ...)")
    # In the input's precision (the kernel would round them itself, but below it sees float64 x).
    with np.errstate(over="ignore"):  # a float64 parameter beyond float32's range becomes ±inf, as natively
        params = tuple(float(np.asarray(p, dtype=x.dtype)) for p in (p0, p1)[: _kernels_numpy.NPARAMS[name]])
    if g is None:
        value = fn(x, *params)
    else:
        # grad_out * f'(x) in float64, rounded once, like the native kernels (inf * 0 is NaN, silently).
        with np.errstate(all="ignore"):
            value = (g.astype(np.float64) * fn(x.astype(np.float64), *params)).astype(x.dtype)
    if out is None:
        return value
    np.copyto(out, value)
    return out


# ---------------------------------------------------------------------------------------------------------
# Code generation
# ---------------------------------------------------------------------------------------------------------

_CHECK_EXPR = {
    "finite": "-_INF < {v} < _INF",
    "positive": "0 < {v} < _INF",
    "nonnegative": "0 <= {v} < _INF",
    "nonzero": "-_INF < {v} < _INF and {v} != 0",
    "not_nan": "{v} == {v}",
    "half_unit": "0 <= {v} <= 0.5",
}
assert set(_CHECK_EXPR) == set(CHECKS)


def _bad_param(function: str, name: str, value: Any, expected: str) -> None:
    raise ValueError(f"{function}(): {name}={value!r} is not allowed; {name} must be {expected}")


def _bad_choice(function: str, name: str, value: Any, allowed: Mapping[str, str]) -> None:
    options = ", ".join(repr(k) for k in allowed)
    raise ValueError(f"{function}(): {name}={value!r} is not allowed; choose one of {options}")


def _bad_requirement(function: str, message: str, values: Mapping[str, Any]) -> None:
    shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
    raise ValueError(f"{function}(): {message} (got {shown})")


def _signature(spec: Activation, mode: int, bound: Mapping[str, Any]) -> str:
    first = "y" if mode == FROM_OUTPUT else "x"
    params = []
    required_after_default = False
    for p in spec.params:
        if p.name in bound:
            continue
        if p.required:
            required_after_default = mode != FORWARD
            params.append(p.name)
        else:
            params.append(f"{p.name}={p.default!r}")
    parts = [first]
    if mode != FORWARD:
        parts.append("grad_out=None")
        if required_after_default:
            parts.append("*")
    parts += params
    if "*" not in parts:
        parts.append("*")
    parts += ["out=None", "dtype=None"]
    return ", ".join(parts)


def _generate(spec: Activation, mode: int, backend: str, alias: Alias | None = None) -> Callable[..., Any]:
    """The function of one mode; for an alias that binds parameters, under its name and without them
    (their values are constants of the function, checked by the catalogue when it was built).

    ``backend="resolve"`` gives the activation's parameter checks alone, as a function of its parameters
    (as the activation names them) returning ``(kernel index, p0, p1)``: what fused operations such as
    ``bias_act`` call, so that they validate parameters exactly as the activation does."""
    bound = alias.bind if alias is not None else {}
    fname = (alias.name if alias is not None else spec.name) + _MODE_SUFFIX[mode]
    if backend == "resolve":
        free = [p.name if p.required else f"{p.name}={p.default!r}" for p in spec.params if p.name not in bound]
        lines = [f"def {fname}({', '.join(free)}):"]
    else:
        lines = [f"def {fname}({_signature(spec, mode, bound)}):"]
    for p in spec.numeric_params:
        if p.name in bound:
            lines.append(f"    {p.name} = _bound_{p.name}")
            continue
        cond = _CHECK_EXPR[p.check].format(v=p.name)
        check = f"if not ({cond}): _bad_param({fname!r}, {p.name!r}, {p.name}, {CHECKS[p.check][1]!r})"
        if p.absent is None:
            lines.append(f"    {check}")
        else:  # None -> the kernel's value for "not given"
            lines.append(f"    if {p.name} is None: {p.name} = {p.absent!r}")
            lines.append(f"    else:\n        {check}")
    requirements = spec.requires + (spec.from_output_requires if mode == FROM_OUTPUT else ())
    for expr, message in requirements:
        names = ", ".join(f"{p.name!r}: {p.name}" for p in spec.numeric_params)
        lines.append(f"    if not ({expr}): _bad_requirement({fname!r}, {message!r}, {{{names}}})")
    choice = spec.choice
    if choice is not None and choice.name in bound:
        lines.append(f"    kernel = {_KERNEL_INDEX[choice.kernels[str(bound[choice.name])]]}")
    elif choice is not None:
        lines.append(f"    kernel = _CHOICES.get({choice.name})")
        lines.append(f"    if kernel is None: _bad_choice({fname!r}, {choice.name!r}, {choice.name}, _CHOICE_NAMES)")
    else:
        lines.append(f"    kernel = {_KERNEL_INDEX[spec.kernels[0]]}")
    numeric = [p.name for p in spec.numeric_params] + ["0.0", "0.0"]
    first = "y" if mode == FROM_OUTPUT else "x"
    grad_out = "None" if mode == FORWARD else "grad_out"
    args = f"kernel, {mode}, {first}, {grad_out}, out, {numeric[0]}, {numeric[1]}"
    if backend == "resolve":
        lines.append(f"    return kernel, float({numeric[0]}), float({numeric[1]})")
    elif backend == "native":
        lines.append("    if dtype is None:")
        lines.append(f"        r = _apply({args})")
        lines.append("        if r is not None: return r")
        lines.append(f"    return _slow({args}, True, dtype, {fname!r})")
    else:
        lines.append(f"    return _slow({args}, False, dtype, {fname!r})")
    namespace: dict[str, Any] = {
        "_INF": math.inf,
        "_apply": NATIVE.apply if NATIVE is not None else None,
        "_slow": slow_path,
        "_bad_param": _bad_param,
        "_bad_choice": _bad_choice,
        "_bad_requirement": _bad_requirement,
    }
    namespace.update({f"_bound_{k}": float(v) for k, v in bound.items() if not isinstance(v, str)})
    if choice is not None:
        namespace["_CHOICES"] = {k: _KERNEL_INDEX[v] for k, v in choice.kernels.items()}
        namespace["_CHOICE_NAMES"] = dict(choice.kernels)
    exec(compile("\n".join(lines), f"<fastact.{fname}>", "exec"), namespace)  # noqa: S102 - generated from the catalogue
    fn = namespace[fname]
    fn.__module__ = "fastact" if backend == "native" else "fastact.reference"
    fn.__qualname__ = fname
    fn.__doc__ = _docstring(spec, mode, alias)
    return fn


def _accuracy(kernels: tuple[str, ...]) -> str:
    if NATIVE is None:
        return "Accuracy: computed by the NumPy reference (native module not loaded); see docs/accuracy.md."
    table = {k[0]: k[5] for k in NATIVE.kernels()}
    rows = []
    for kernel in kernels:
        f32, g32, f64, g64 = table[kernel]
        tag = f" ({kernel})" if len(kernels) > 1 else ""
        rows.append(f"forward {f32} ULP float32, {f64} ULP float64; derivative {g32} / {g64} ULP{tag}")
    return "Accuracy (native kernels, tested): " + "; ".join(rows) + "."


DOC_OUT = ("out : numpy.ndarray, optional\n    Where to write the result: same shape and dtype as the result, "
           "writeable; may be the input itself.")
DOC_DTYPE = ("dtype : dtype, optional\n    Compute and return in this dtype, like a NumPy ufunc's dtype=: "
             f"one of {_DTYPE_CHOICES}; the input is cast to it first (float16 and bfloat16 compute in float32 and "
             "round once). Anything else raises TypeError.")
DOC_RETURNS = ("numpy.ndarray\n    Same shape as the input; float32 stays float32, float64 stays float64, "
               "integers follow NumPy's float ufuncs (or the dtype= given). A 0-d input gives a NumPy scalar.")


def bound_call(spec: Activation | AxisActivation, alias: Alias, mode: int = FORWARD) -> str:
    """What an alias that binds parameters stands for, e.g. ``gelu(x, approximate='tanh')``."""
    first = "y" if mode == FROM_OUTPUT else "x"
    bound = ", ".join(f"{k}={v!r}" for k, v in alias.bind.items())
    return f"{spec.name}{_MODE_SUFFIX[mode]}({first}, {'grad_out, ' if mode != FORWARD else ''}{bound})"


def _docstring(spec: Activation, mode: int, alias: Alias | None = None) -> str:
    head = {
        FORWARD: spec.summary,
        DERIVATIVE: f"Derivative of {spec.name}, times grad_out when given (the vector-Jacobian product).",
        FROM_OUTPUT: f"Derivative of {spec.name} computed from its output y = {spec.name}(x), times grad_out.",
    }[mode]
    bound = alias.bind if alias is not None else {}
    if alias is not None:
        whose = f"{alias.source}'s name for " if alias.source else ""
        head += f"\n\n{alias.name} is {whose}{bound_call(spec, alias)}"
        if mode != FORWARD:
            head += f"; {alias.name}{_MODE_SUFFIX[mode]} is {bound_call(spec, alias, mode)}"
        head += f" ({' and '.join(bound)} fixed, not {'an argument' if len(bound) == 1 else 'arguments'})."
    out = [head, "", f"    {spec.formula}", f"    {spec.derivative}"]
    if spec.from_output:
        out.append(f"    from the output: {spec.name}'(x) = {spec.from_output}")
    out += ["", f"Range: {spec.output_range}. Properties: {', '.join(spec.properties)}."]
    out += ["", "Parameters", "----------"]
    first = "y : array_like\n    The forward's output." if mode == FROM_OUTPUT else "x : array_like\n    Input."
    out.append(first)
    if mode != FORWARD:
        out.append("grad_out : array_like, optional\n    Gradient flowing back, same shape as the input "
                   "(no broadcasting). None returns the plain derivative.")
    for p in spec.params:
        if p.name in bound:
            continue
        default = "required" if p.required else f"default {p.default!r}"
        kind = "str" if isinstance(p, Choice) else "float"
        out.append(f"{p.name} : {kind}, {default}\n    {p.doc}")
    out.append(DOC_OUT)
    out.append(DOC_DTYPE)
    out += ["", "Returns", "-------", DOC_RETURNS]
    choice = spec.choice
    kernels = spec.kernels
    if choice is not None and choice.name in bound:
        kernels = (choice.kernels[str(bound[choice.name])],)
    out += ["", "Notes", "-----", spec.conventions, _accuracy(kernels)]
    if spec.cancellation:
        out.append(spec.cancellation)
    if spec.notes:
        out += ["", spec.notes]
    if spec.aliases:
        out += ["", "Aliases: " + ", ".join(alias_text(spec, a) for a in spec.aliases)]
    return "\n".join(out)


def alias_text(spec: Activation | AxisActivation, alias: Alias) -> str:
    """One alias as the docs show it: ``gelu_new (= gelu(x, approximate='tanh'); Hugging Face)``."""
    notes = ([f"= {bound_call(spec, alias)}"] if alias.bind else []) + ([alias.source] if alias.source else [])
    return alias.name + (f" ({'; '.join(notes)})" if notes else "")


def alias_markdown(spec: Activation | AxisActivation, alias: Alias) -> str:
    """``alias_text`` for a markdown table cell: the name as code, ``|`` escaped."""
    name, _, rest = alias_text(spec, alias).partition(" ")
    return f"`{name}`" + (" " + rest.replace("|", "\\|") if rest else "")


# ---------------------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """What ``fastact.get(name)`` returns: the functions of one activation and its documentation."""

    name: str
    forward: Callable[..., Any]
    grad: Callable[..., Any]
    grad_from_output: Callable[..., Any] | None
    params: Mapping[str, Any]
    formula: str
    derivative: str
    output_range: str
    properties: tuple[str, ...]
    reference: Callable[..., Any]
    reference_grad: Callable[..., Any]
    aliases: tuple[str, ...] = ()
    conventions: str = ""
    spec: Activation | None = field(default=None, repr=False)
    builtin: bool = True
    #: alias -> the parameters it binds, for aliases that bind some (``{"gelu_new": {"approximate": "tanh"}}``):
    #: ``fastact.gelu_new`` is gelu with those values, while this entry's functions keep gelu's defaults.
    bound_aliases: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))


def _build(backend: str) -> dict[str, dict[int, Callable[..., Any]]]:
    """activation or alias name -> mode -> function: every activation, and every alias that binds
    parameters (the others share their activation's functions)."""
    functions: dict[str, dict[int, Callable[..., Any]]] = {}
    for spec in CATALOGUE:
        modes = [FORWARD, DERIVATIVE] + ([FROM_OUTPUT] if spec.from_output else [])
        functions[spec.name] = {mode: _generate(spec, mode, backend) for mode in modes}
        for alias in spec.aliases:
            if alias.bind:
                functions[alias.name] = {mode: _generate(spec, mode, backend, alias) for mode in modes}
    return functions


def _build_resolvers() -> dict[str, Callable[..., tuple[int, float, float]]]:
    """activation or binding-alias name -> its parameter checks (``_generate``'s ``resolve`` backend)."""
    resolvers = {}
    for spec in CATALOGUE:
        resolvers[spec.name] = _generate(spec, FORWARD, "resolve")
        for alias in spec.aliases:
            if alias.bind:
                resolvers[alias.name] = _generate(spec, FORWARD, "resolve", alias)
    return resolvers


REFERENCE_FUNCTIONS = _build("reference")
#: Elementwise activation (or alias that binds parameters) -> ``(kernel, p0, p1)`` from its parameters.
RESOLVERS = _build_resolvers()
PUBLIC_FUNCTIONS = _build("native") if NATIVE is not None else REFERENCE_FUNCTIONS


def _default_calls() -> dict[str, tuple[int, float, float]]:
    """activation or alias name -> ``(kernel, p0, p1)`` at its default parameters, for the activations
    without a required parameter."""
    calls = {}
    for spec in CATALOGUE:
        if any(p.required for p in spec.params):
            continue
        calls[spec.name] = RESOLVERS[spec.name]()
        for alias in spec.aliases:
            calls[alias.name] = RESOLVERS[alias.name]() if alias.bind else calls[spec.name]
    return calls


#: Elementwise activation or alias name -> ``(kernel, p0, p1)`` at the default parameters: the table the
#: native entries look a name up in when a call passes no parameters (``bias_act``).
DEFAULT_CALLS = _default_calls()

_REGISTRY: dict[str, Entry] = {}
_ALIASES: dict[str, str] = {}

for _spec in CATALOGUE:
    _fns, _refs = PUBLIC_FUNCTIONS[_spec.name], REFERENCE_FUNCTIONS[_spec.name]
    _REGISTRY[_spec.name] = Entry(
        name=_spec.name,
        forward=_fns[FORWARD],
        grad=_fns[DERIVATIVE],
        grad_from_output=_fns.get(FROM_OUTPUT),
        params=MappingProxyType(_spec.defaults),
        formula=_spec.formula,
        derivative=_spec.derivative,
        output_range=_spec.output_range,
        properties=_spec.properties,
        reference=_refs[FORWARD],
        reference_grad=_refs[DERIVATIVE],
        aliases=_spec.alias_names,
        conventions=_spec.conventions,
        spec=_spec,
        bound_aliases=MappingProxyType({a.name: MappingProxyType(dict(a.bind)) for a in _spec.aliases if a.bind}),
    )
    for _alias in _spec.alias_names:
        if _alias in _ALIASES or any(_alias == other.name for other in CATALOGUE):
            raise ValueError(f"{_spec.name}: alias {_alias!r} is already a name or alias")
        _ALIASES[_alias] = _spec.name


def names() -> list[str]:
    """The canonical names of every activation in the registry (built-in and registered), sorted."""
    return sorted(_REGISTRY)


def get(name: str) -> Entry:
    """The registry entry of an activation, by name or alias. Unknown names raise KeyError with suggestions."""
    if not isinstance(name, str):
        raise TypeError(f"activation names are strings, got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    entry = _REGISTRY.get(key)
    if entry is None:
        close = difflib.get_close_matches(key, list(_REGISTRY) + list(_ALIASES), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise KeyError(f"unknown activation {name!r}{hint} (fastact.names() lists them all)")
    return entry


def register(
    name: str,
    forward: Callable[[np.ndarray], np.ndarray],
    derivative: Callable[[np.ndarray], np.ndarray],
    *,
    formula: str = "",
    derivative_text: str = "",
    output_range: str = "",
    properties: tuple[str, ...] = (),
    overwrite: bool = False,
) -> Entry:
    """Add a user-defined activation (NumPy forward and derivative) so that :func:`get` finds it.

    ``forward(x)`` and ``derivative(x)`` receive float ndarrays and return arrays of the same shape. The
    entry's ``grad(x, grad_out=None)`` multiplies the derivative by ``grad_out``. Built-in names cannot be
    replaced; a registered name can with ``overwrite=True``.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"activation names must be Python identifiers, got {name!r}")
    if not callable(forward) or not callable(derivative):
        raise TypeError("forward and derivative must be callables taking and returning NumPy arrays")
    existing = _REGISTRY.get(_ALIASES.get(name, name))
    if existing is not None and (existing.builtin or not overwrite):
        hint = "" if existing.builtin else "; pass overwrite=True to replace it"
        raise ValueError(f"an activation named {name!r} already exists{hint}")

    def fwd(x: Any) -> np.ndarray:
        if _interop.is_dask(x):
            from . import _dask

            return _dask.registered(fwd, x, None)
        return np.asarray(forward(_as_input(x, "x")))

    def grad(x: Any, grad_out: Any = None) -> np.ndarray:
        if _interop.is_dask(x) or _interop.is_dask(grad_out):
            from . import _dask

            return _dask.registered(grad, x, grad_out)
        d = np.asarray(derivative(_as_input(x, "x")))
        if grad_out is None:
            return d
        g = _as_input(grad_out, "grad_out")
        if g.shape != d.shape:
            raise ValueError(f"grad_out has shape {g.shape} but the input has shape {d.shape}; no broadcasting")
        return g * d

    fwd.__name__, grad.__name__ = name, f"{name}_grad"
    entry = Entry(
        name=name,
        forward=fwd,
        grad=grad,
        grad_from_output=None,
        params=MappingProxyType({}),
        formula=formula,
        derivative=derivative_text,
        output_range=output_range,
        properties=tuple(properties),
        reference=fwd,
        reference_grad=grad,
        builtin=False,
    )
    _REGISTRY[name] = entry
    return entry


def namespace(functions: Mapping[str, Mapping[int, Callable[..., Any]]]) -> dict[str, Callable[..., Any]]:
    """Every public function name (with aliases) -> function, for a module's globals."""
    out: dict[str, Callable[..., Any]] = {}
    for spec in CATALOGUE:
        for base in (spec.name, *spec.alias_names):
            for mode, fn in functions.get(base, functions[spec.name]).items():
                out[base + _MODE_SUFFIX[mode]] = fn
    return out
