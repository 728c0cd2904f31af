"""docs/catalogue.md and its plots (docs/img/NAME.png), from the catalogue (python/fastact/_catalogue.py).

Run through scripts/gen_docs.py (tests/test_docs.py fails when docs/catalogue.md is stale, or an image it
shows is missing), or alone: python scripts/gen_catalogue.py [--no-images]

The markdown needs nothing but fastact. The images need matplotlib (``pip install "fastact[plot]"``); they
are 600x400, reduced to 32 colours and written without a timestamp, so that they stay small and only change
when a curve does (another matplotlib version may still draw different bytes: the tests look at the
markdown, not at the pixels).
"""

from __future__ import annotations

import inspect
import io
import pathlib
import sys
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "catalogue.md"
IMAGES = ROOT / "docs" / "img"

#: Values for the parameters that have no default (threshold), used in the plots.
PLOT_PARAMS: dict[str, dict[str, float]] = {"threshold": {"threshold": 1.0, "value": -1.0}}
#: Ranges other than (-5, 5), where the interesting part lies elsewhere.
PLOT_RANGES: dict[str, tuple[float, float]] = {"relu6": (-3.0, 9.0), "logit": (0.005, 0.995)}


def _fastact() -> Any:
    sys.path.insert(0, str(ROOT / "python"))
    import fastact

    return fastact


def image_path(name: str) -> pathlib.Path:
    return IMAGES / f"{name}.png"


def anchor(name: str) -> str:
    """The anchor GitHub gives the heading ``## name`` (names are lower-case identifiers)."""
    return name


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _signature(fn: Any) -> str:
    sig = inspect.signature(fn)
    bare = sig.replace(parameters=[p.replace(annotation=p.empty) for p in sig.parameters.values()],
                       return_annotation=sig.empty)
    return f"`{fn.__name__}{_cell(str(bare))}`"


def _section(fastact: Any, spec: Any, params: list[str], from_output: str, image: str | None) -> list[str]:
    """One activation: summary, plot, the facts table, when to use it, conventions."""
    from fastact._registry import alias_markdown  # importable once _fastact() has put python/ on the path

    entry = fastact.get(spec.name)
    functions = [entry.forward, entry.grad] + ([entry.grad_from_output] if entry.grad_from_output else [])
    lines = [f"## {spec.name}", ""]
    if spec.aliases:  # so that links to an alias land here too
        lines += ["".join(f'<a id="{alias.name}"></a>' for alias in spec.aliases), ""]
    lines += [spec.summary, ""]
    if image:
        lines += [image, ""]
    lines += [
        "| | |",
        "|---|---|",
        f"| formula | `{_cell(spec.formula)}` |",
        f"| derivative | `{_cell(spec.derivative)}` |",
        f"| from the output | {from_output} |",
        f"| range | {_cell(spec.output_range)} |",
        f"| properties | {', '.join(spec.properties)} |",
        f"| parameters | {'<br>'.join(params) or '—'} |",
        f"| aliases | {', '.join(alias_markdown(spec, a) for a in spec.aliases) or '—'} |",
        f"| functions | {'<br>'.join(_signature(fn) for fn in functions)} |",
        "",
    ]
    if spec.notes:
        lines += [f"**When to use it.** {spec.notes}", ""]
    lines += [f"**Conventions.** {spec.conventions}", ""]
    return lines


def _elementwise_section(fastact: Any, spec: Any) -> list[str]:
    params = [f"`{p.name}` ({'required' if p.required else f'default `{p.default!r}`'}): {_cell(p.doc)}"
              for p in spec.params]
    from_output = f"`{spec.name}'(x) = {_cell(spec.from_output)}`" if spec.from_output else "—"
    notes = [f"{k}={v!r}" for k, v in PLOT_PARAMS.get(spec.name, {}).items()]
    if spec.name in PLOT_RANGES:
        notes.append("x from {:g} to {:g}".format(*PLOT_RANGES[spec.name]))
    caption = f"{spec.name} and its derivative" + (f" ({', '.join(notes)})" if notes else "")
    lines = _section(fastact, spec, params, from_output, f"![{caption}](img/{image_path(spec.name).name})")
    if spec.cancellation:
        lines += [f"**Cancellation.** {spec.cancellation}", ""]
    lines += [f"**Accuracy.** The measured maximum error of every mode, float32 and float64: row `{spec.name}` "
              "of [accuracy.md](accuracy.md).", ""]
    return lines


def _axis_section(fastact: Any, spec: Any) -> list[str]:
    defaults = dict(spec.params)

    def default(name: str) -> str:
        if name not in defaults:
            return ""
        return " (required)" if defaults[name] is None else f" (default `{defaults[name]!r}`)"

    params = [f"`{name}`{default(name)}: {_cell(doc)}" for name, doc in spec.param_docs]
    from_output = f"`{_cell(spec.from_output)}`" if spec.from_output else "—"
    return _section(fastact, spec, params, from_output, None)


def render() -> str:
    """docs/catalogue.md."""
    fastact = _fastact()
    from fastact._catalogue import AXIS_CATALOGUE, CATALOGUE, FUSED_CATALOGUE

    def index(specs: Any) -> str:
        return " · ".join(f"[{s.name}](#{anchor(s.name)})" for s in specs)

    lines = [
        "# The catalogue",
        "",
        "<!-- generated by scripts/gen_docs.py (scripts/gen_catalogue.py) from python/fastact/_catalogue.py; "
        "do not edit -->",
        "",
        "Every activation in fastact: what it computes, its derivative, range and properties, when to use it, its",
        "parameters and defaults, and what it returns at the edges (signed zeros, ±inf, NaN, the kinks). Each",
        "elementwise activation is plotted with its derivative over [-5, 5] (`fastact.plot(NAME)` or",
        "`python -m fastact plot NAME --out NAME.png` draw the same figure). The measured accuracy of every",
        "function is in [accuracy.md](accuracy.md); what wrong calls raise, in [bad-input.md](bad-input.md).",
        "",
        f"Elementwise: {index(CATALOGUE)}",
        "",
        f"Along an axis: {index(AXIS_CATALOGUE)}",
        "",
        f"Fused: {index(FUSED_CATALOGUE)}",
        "",
        "Every function takes `dtype=` and (but prelu_grad) `out=`; inputs may be NumPy arrays in any layout,",
        "DLPack tensors (PyTorch, JAX: read where they lie, no copy), buffers (memoryview, array.array) and dask",
        "arrays (the result is then a lazy dask array).",
        "",
    ]
    for spec in CATALOGUE:
        lines += _elementwise_section(fastact, spec)
    lines += [
        "# Along an axis",
        "",
        "These take a whole axis at once (`axis=-1` by default), so they have no single curve to plot. Their",
        "gradients are vector-Jacobian products: `NAME_grad(x, grad_out, axis)`.",
        "",
    ]
    for spec in AXIS_CATALOGUE:
        lines += _axis_section(fastact, spec)
    lines += _fused_sections()
    return "\n".join(lines).rstrip("\n") + "\n"


def _fused_sections() -> list[str]:
    """The fused operations (``FUSED_CATALOGUE``): an activation and the work around it in one pass."""
    from fastact._catalogue import FUSED_CATALOGUE

    lines = ["# Fused operations", "",
             "An elementwise activation together with the operation before it, in one memory pass (for inference).", ""]
    for spec in FUSED_CATALOGUE:
        lines += [f"## {spec.name}", "", spec.summary, "", f"- Formula: `{_cell(spec.formula)}`",
                  f"- Gradient: {_cell(spec.derivative)}; {_cell(spec.grad_returns)}",
                  f"- Conventions: {_cell(spec.conventions)}", "- Parameters:"]
        lines += [f"  - `{name}`: {_cell(doc)}" for name, doc in spec.param_docs]
        lines.append("")
    return lines


def image_names() -> list[str]:
    """The activations docs/catalogue.md shows a plot of."""
    sys.path.insert(0, str(ROOT / "python"))
    from fastact._catalogue import CATALOGUE

    return [spec.name for spec in CATALOGUE]


def draw(name: str) -> bytes:
    """One activation's plot as PNG bytes: 600x400, 32 colours, no timestamp."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image  # matplotlib's own dependency

    fastact = _fastact()
    fig, axes = plt.subplots(1, 2, figsize=(6.0, 4.0), dpi=100, layout="constrained")
    try:
        fastact.plot(name, x_range=PLOT_RANGES.get(name, (-5.0, 5.0)), params=PLOT_PARAMS.get(name), ax=axes)
        raw = io.BytesIO()
        fig.savefig(raw, format="png", dpi=100, metadata={"Software": None})
    finally:
        plt.close(fig)
    image = Image.open(io.BytesIO(raw.getvalue())).convert("RGB")
    image = image.quantize(colors=32, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small = io.BytesIO()
    image.save(small, format="png", optimize=True)
    return small.getvalue()


def write_images() -> list[pathlib.Path]:
    """(Re)draw every plot; returns the files whose bytes changed."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    changed = []
    for name in image_names():
        path = image_path(name)
        data = draw(name)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
            changed.append(path)
    return changed


def main(images: bool = True) -> None:
    DOC.write_text(render())
    if not images:
        return
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(f"gen_catalogue: matplotlib is not installed, so {IMAGES.relative_to(ROOT)} was not redrawn "
              '(pip install "fastact[plot]")', file=sys.stderr)
        return
    write_images()


if __name__ == "__main__":
    main(images="--no-images" not in sys.argv[1:])
