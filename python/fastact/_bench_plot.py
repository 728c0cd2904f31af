"""Pictures of benchmark results: a roofline-style plot (throughput against size, the copy as the bandwidth
roof) and a thread-scaling curve. matplotlib is imported on the first call, never with the package; without
it both raise ImportError saying how to install it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import _bench

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["roofline", "scaling"]

INSTALL_HINT = 'pip install "fastact[plot]"'

#: Line style per implementation: fastact stands out, the copy is the roof.
_STYLE: dict[str, dict[str, Any]] = {
    "fastact-out": {"color": "C3", "linewidth": 2.5, "marker": "o", "label": "fastact (out=)"},
    "numpy": {"color": "C0", "marker": "s", "label": "numpy formula"},
    "scipy": {"color": "C8", "marker": "v", "label": "scipy"},
    "numexpr": {"color": "C2", "marker": "^", "label": "numexpr"},
    "onnxruntime": {"color": "C4", "marker": "D", "label": "onnxruntime"},
    "jax": {"color": "C6", "marker": "P", "label": "jax (jit)"},
    "torch": {"color": "C1", "marker": "X", "label": "torch"},
    "copy": {"color": "black", "linestyle": "--", "linewidth": 1.5, "label": "copy (bandwidth roof)"},
}


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(f"benchmark plots need matplotlib, which is not installed: {INSTALL_HINT}") from exc
    matplotlib.use("Agg")  # files only
    import matplotlib.pyplot as plt

    return plt


def _grid(plt: Any, count: int) -> tuple[Figure, list[Any]]:
    cols = min(count, 3)
    rows = -(-count // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.8 * rows + 0.8), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat[:count]


def _title(what: str, info: dict[str, str]) -> str:
    return f"{what}\n{info['cpu']}, {info['cores']}; {info['fastact']}; {info['date']}"


def _pick(rows: Sequence[_bench.Row], functions: Sequence[str] | None, limit: int = 9) -> list[str]:
    labels = list(dict.fromkeys(r.case.label for r in rows))
    if not labels:
        raise ValueError("no benchmark rows to plot")
    if functions is None:
        return labels[:limit]
    missing = [f for f in functions if f not in labels]
    if missing:
        raise ValueError(f"not in these results: {', '.join(missing)} (have: {', '.join(labels)})")
    return list(functions)


def roofline(rows: Sequence[_bench.Row], path: str, *, functions: Sequence[str] | None = None,
             dtype: str | None = None, threads: int | None = None,
             info: dict[str, str] | None = None) -> Figure:
    """Throughput (elements/s) against size on log axes, one panel per function, every implementation that
    has figures, and the copy of the same bytes as the bandwidth roof (default: the first nine functions);
    saved to ``path``.

    ``dtype`` and ``threads`` pick one slice of the rows (default: the first dtype, and 1 thread when the rows
    have it); sizes measured only at another thread count (n <= Config.small) are drawn from that count."""
    plt = _pyplot()
    if not rows:
        raise ValueError("no benchmark rows to plot")
    dtype = dtype or rows[0].dtype
    counts = sorted({r.threads for r in rows})
    threads = threads or (1 if 1 in counts else (counts[0] if counts else 1))
    picked = [r for r in rows if r.dtype == dtype]
    by_size: dict[tuple[str, int], _bench.Row] = {}
    for r in picked:  # the row at ``threads``, or at the only count a small size ran at
        key = (r.case.label, r.size)
        if r.threads == threads or key not in by_size:
            by_size[key] = r
    labels = _pick(picked, functions)
    fig, axes = _grid(plt, len(labels))
    for ax, label in zip(axes, labels):
        series = sorted((r for (lab, _), r in by_size.items() if lab == label), key=lambda r: r.size)
        for key in ("copy", *(k for k in _bench.IMPLS if k not in ("copy", "fastact-alloc"))):
            points = [(r.size, r.rate(key)) for r in series if r.rate(key)]
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, [y / 1e9 for y in ys], **_STYLE[key])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{label}", fontsize=10)
        ax.set_xlabel("elements")
        ax.set_ylabel("G elements/s")
        ax.grid(True, which="both", alpha=0.3)
    handles: dict[str, Any] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=min(len(handles), 4), fontsize=9)
    fig.suptitle(_title(f"fastact vs peers: {dtype}, {threads} thread{'s' if threads != 1 else ''}",
                        info or _bench.machine_info()), fontsize=10)
    fig.tight_layout(rect=(0, 0.08 + 0.02 * (len(handles) > 4), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return fig


def scaling(rows: Sequence[_bench.Row], path: str, *, functions: Sequence[str] | None = None,
            info: dict[str, str] | None = None) -> Figure:
    """Throughput against thread count, one panel per function (one size and dtype: the first of the rows),
    fastact, torch where measured, and the copy (split over the same threads); saved to ``path``."""
    plt = _pyplot()
    if not rows:
        raise ValueError("no benchmark rows to plot")
    size, dtype = rows[0].size, rows[0].dtype
    picked = [r for r in rows if r.size == size and r.dtype == dtype]
    labels = _pick(picked, functions)
    fig, axes = _grid(plt, len(labels))
    for ax, label in zip(axes, labels):
        series = sorted((r for r in picked if r.case.label == label), key=lambda r: r.threads)
        for key in ("copy", "fastact-out", "numexpr", "onnxruntime", "torch"):
            points = [(r.threads, r.rate(key)) for r in series if r.rate(key)]
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, [y / 1e9 for y in ys], **_STYLE[key])
        counts = [r.threads for r in series]
        ax.set_xticks(counts)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("threads")
        ax.set_ylabel("G elements/s")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
    handles: dict[str, Any] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=min(len(handles), 4), fontsize=9)
    fig.suptitle(_title(f"thread scaling: {dtype}, n = {size:,}", info or _bench.machine_info()), fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return fig
