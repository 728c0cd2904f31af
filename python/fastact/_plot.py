"""``fastact.plot``: activations and their derivatives over a range, with matplotlib (the ``fastact[plot]``
extra). matplotlib is imported on the first call, never with the package."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _registry

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["INSTALL_HINT", "MissingParameters", "plot"]

INSTALL_HINT = 'pip install "fastact[plot]"'

#: Points per curve: enough that kinks (relu at 0, hard_swish at ±3) look sharp at any figure size.
_POINTS = 2001


class MissingParameters(ValueError):
    """An activation without defaults (threshold) plotted without its parameters."""

    def __init__(self, name: str, missing: list[str]) -> None:
        example = ", ".join(f"{k!r}: ..." for k in missing)
        super().__init__(f"plot(): {name} has no default for {', '.join(missing)}: pass params={{{example}}}")
        self.name, self.missing = name, missing


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(f"fastact.plot() needs matplotlib, which is not installed: {INSTALL_HINT}") from exc
    return plt


def _entries(names: str | Sequence[str]) -> list[_registry.Entry]:
    if isinstance(names, str):
        names = [names]
    if not names:
        raise ValueError("plot(): give at least one activation name (fastact.names() lists them)")
    entries = []
    for name in names:
        entry = _registry.get(name)
        if entry.builtin and entry.spec is None:  # softmax, glu, ...: not a function of one number
            raise ValueError(
                f"plot(): {entry.name} works along an axis, not element by element, so it has no curve; "
                "plot() draws the elementwise activations"
            )
        entries.append(entry)
    return entries


def _params_for(entries: list[_registry.Entry], params: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Keyword arguments for each entry: ``params`` is either one set for every function ({"alpha": 0.5}) or
    one per name ({"elu": {"alpha": 0.5}}, names or aliases)."""
    if not params:
        chosen: list[dict[str, Any]] = [{} for _ in entries]
    elif all(isinstance(v, Mapping) for v in params.values()):
        by_name = {_registry.get(k).name: dict(v) for k, v in params.items()}
        unknown = set(by_name) - {e.name for e in entries}
        if unknown:
            raise ValueError(f"plot(): params names {', '.join(sorted(unknown))}, which is not plotted")
        chosen = [dict(by_name.get(e.name, {})) for e in entries]
    else:
        chosen = [dict(params) for _ in entries]
    for entry, kwargs in zip(entries, chosen):
        for key in kwargs:
            if key not in entry.params:
                takes = ", ".join(entry.params) or "no parameters"
                raise ValueError(f"plot(): {entry.name} has no parameter {key!r} (it takes {takes})")
        missing = [k for k, v in entry.params.items() if v is None and k not in kwargs and _required(entry, k)]
        if missing:
            raise MissingParameters(entry.name, missing)
    return chosen


def _required(entry: _registry.Entry, name: str) -> bool:
    """Whether a parameter whose default is None must be given (logit's eps=None is a value, not missing)."""
    spec = entry.spec
    param = next((p for p in getattr(spec, "params", ()) if p.name == name), None)
    return getattr(param, "required", True)


def _changed(entry: _registry.Entry, kwargs: Mapping[str, Any]) -> list[str]:
    """The parameters that differ from the defaults (all of a required one), as k=v texts."""
    return [f"{k}={v!r}" for k, v in kwargs.items() if entry.params.get(k) is None or entry.params[k] != v]


def _label(entry: _registry.Entry, kwargs: Mapping[str, Any]) -> str:
    changed = _changed(entry, kwargs)
    return entry.name + (f"({', '.join(changed)})" if changed else "")


def _title(entry: _registry.Entry, kwargs: Mapping[str, Any], prime: str = "") -> str:
    return f"{entry.name}{prime}({', '.join(['x', *_changed(entry, kwargs)])})"


def _range(x_range: Sequence[float]) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in x_range)
    except (TypeError, ValueError):
        raise ValueError(f"plot(): x_range must be two numbers (low, high), got {x_range!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"plot(): x_range must be finite with low < high, got {x_range!r}")
    return lo, hi


def plot(
    names: str | Sequence[str],
    *,
    x_range: Sequence[float] = (-5.0, 5.0),
    derivative: bool = True,
    params: Mapping[str, Any] | None = None,
    ax: Axes | Sequence[Axes] | None = None,
) -> Figure:
    """Plot activations (and their derivatives) over ``x_range``; returns the matplotlib Figure.

    ``names``: one name or several (aliases work); each is drawn in its own colour, on one figure.
    ``derivative``: also draw each derivative (``NAME_grad``): in a second panel on the right, or dashed on
    the same axes when one ``ax`` is given. ``params``: keyword arguments, either for every function
    (``{"alpha": 0.5}``) or per name (``{"elu": {"alpha": 0.5}, "celu": {"alpha": 2.0}}``); activations
    without defaults (threshold) need theirs. ``ax``: draw into this Axes, or a pair (function, derivative),
    instead of a new figure.

    Needs matplotlib (``pip install "fastact[plot]"``); without it, ImportError saying so.
    Example: ``fastact.plot(["relu", "gelu", "silu"]).savefig("act.png")``.
    """
    entries = _entries(names)
    kwargs_list = _params_for(entries, params)
    lo, hi = _range(x_range)
    plt = _pyplot()
    if ax is None:
        fig, axes = plt.subplots(1, 2 if derivative else 1, figsize=(9.0, 3.6) if derivative else (6.0, 4.0),
                                 layout="constrained", squeeze=False)
        f_ax, d_ax = axes[0][0], (axes[0][1] if derivative else None)
    elif isinstance(ax, (Sequence, np.ndarray)):  # plt.subplots(1, 2) gives an ndarray of two Axes
        pair = list(np.ravel(np.asarray(ax, dtype=object)))
        if len(pair) != 2:
            raise ValueError(f"plot(): ax must be one Axes or a pair (function, derivative), got {len(pair)}")
        f_ax, d_ax = pair[0], (pair[1] if derivative else None)
    else:
        f_ax, d_ax = ax, (ax if derivative else None)
    x = np.linspace(lo, hi, _POINTS)
    for entry, kwargs in zip(entries, kwargs_list):
        label = _label(entry, kwargs)
        (line,) = f_ax.plot(x, entry.forward(x, **kwargs), label=label)
        if d_ax is not None:
            style = "--" if d_ax is f_ax else "-"
            d_ax.plot(x, entry.grad(x, **kwargs), style, color=line.get_color(), label=f"{label}'")
    single = len(entries) == 1
    _decorate(f_ax, _title(entries[0], kwargs_list[0]) if single else "f(x)", legend=not single)
    if d_ax is not None and d_ax is not f_ax:
        _decorate(d_ax, _title(entries[0], kwargs_list[0], "'") if single else "derivative", legend=not single)
    elif d_ax is f_ax:
        f_ax.legend(fontsize="small")
    return f_ax.figure  # type: ignore[return-value]


def _decorate(ax: Axes, title: str, legend: bool) -> None:
    ax.set_title(title)
    ax.set_xlabel("x")
    ax.axhline(0.0, color="0.6", linewidth=0.6, zorder=0)
    ax.axvline(0.0, color="0.6", linewidth=0.6, zorder=0)
    ax.grid(True, alpha=0.3)
    if legend:
        ax.legend(fontsize="small")
