"""The ``fastact`` command line (``python -m fastact`` or the ``fastact`` console script).

    fastact list                      the catalogue: name, range, formula
    fastact info NAME                 everything about one activation
    fastact bench [--quick] [...]     benchmark against NumPy, SciPy, numexpr, ONNX Runtime, JAX, PyTorch, a copy
    fastact plot NAME... --out F.png  the functions and their derivatives (needs fastact[plot])
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
from collections.abc import Sequence

import fastact

from . import _registry

_DTYPES = ("float32", "float64", "float16")


def _entries() -> list[_registry.Entry]:
    return [_registry.get(name) for name in _registry.names()]


def cmd_list(args: argparse.Namespace) -> int:
    entries = _entries()
    rows = [(e.name + (f" ({', '.join(e.aliases)})" if e.aliases else ""), e.output_range or "—",
             e.formula or "—") for e in entries]
    w0 = max(len("name"), *(len(r[0]) for r in rows))
    w1 = min(max(len("range"), *(len(r[1]) for r in rows)), 28)
    print(f"{'name':<{w0}}  {'range':<{w1}}  formula")
    for name, rng, formula in rows:
        if len(rng) > w1:
            rng = rng[: w1 - 1] + "…"
        print(f"{name:<{w0}}  {rng:<{w1}}  {formula}")
    print(f"\n{len(rows)} activations; `fastact info NAME` for details. "
          f"Each comes as NAME(x), NAME_grad(x, grad_out) and, where noted, NAME_grad_from_output(y).")
    return 0


def _accuracy_line(doc: str | None) -> str | None:
    for line in (doc or "").splitlines():
        if line.strip().startswith("Accuracy"):
            return line.strip()
    return None


def cmd_info(args: argparse.Namespace) -> int:
    e = _registry.get(args.name)  # fastact.get itself, typed with the ``spec`` field
    spec = e.spec
    out: list[str] = []
    title = e.name + (f" (aliases: {', '.join(e.aliases)})" if e.aliases else "")
    out += [title, "=" * len(title)]
    if spec is not None:
        out += [spec.summary, ""]
        bound = [f"{a.name} is {_registry.bound_call(spec, a)}" for a in spec.aliases if a.bind]
        out += [*bound, ""] if bound else []
    out.append(f"formula:      {e.formula or '—'}")
    out.append(f"derivative:   {e.derivative or '—'}")
    if spec is not None:
        out.append("from output:  " + (f"{e.name}'(x) = {spec.from_output}   [{e.name}_grad_from_output(y)]"
                                       if spec.from_output else "— (the derivative is not a function of the output)"))
    out.append(f"range:        {e.output_range or '—'}")
    out.append(f"properties:   {', '.join(e.properties) or '—'}")
    if e.params:
        defaults = ", ".join(f"{k}={'required' if v is None else repr(v)}" for k, v in e.params.items())
        out.append(f"defaults:     {defaults}")
    else:
        out.append("defaults:     — (no parameters)")
    out.append("")
    out.append("functions:")
    for fn in (e.forward, e.grad, e.grad_from_output):
        if fn is not None:
            try:
                sig = str(inspect.signature(fn))
            except (TypeError, ValueError):
                sig = "(...)"
            where = "fastact" if e.builtin else f"fastact.get({e.name!r})"
            out.append(f"  {where}.{fn.__name__}{sig}")
    if spec is not None:
        if spec.params:
            out += ["", "parameters:"]
            for p in spec.params:
                default = "required" if p.required else f"default {p.default!r}"
                out.append(f"  {p.name} ({default}): {p.doc}")
        out += ["", "conventions:", f"  {spec.conventions}"]
        accuracy = _accuracy_line(e.forward.__doc__)
        if accuracy:
            out += ["", "accuracy:", f"  {accuracy}"]
        if spec.cancellation:
            out += ["", "cancellation:", f"  {spec.cancellation}"]
        if spec.notes:
            out += ["", "use:", f"  {spec.notes}"]
    else:
        out += ["", "(registered at run time with fastact.register(); NumPy implementation)"]
    print("\n".join(out))
    return 0


def _parse_sizes(text: str) -> tuple[int, ...]:
    sizes = []
    for item in text.replace(",", " ").split():
        try:
            value = float(item) if any(c in item for c in "eE.") else int(item)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a size: {item!r} (examples: 16, 1e5, 10000000)") from None
        if value != int(value) or value < 1:
            raise argparse.ArgumentTypeError(f"sizes are positive integers, got {item!r}")
        sizes.append(int(value))
    if not sizes:
        raise argparse.ArgumentTypeError("no sizes given")
    return tuple(sizes)


def _parse_threads(text: str) -> tuple[int, ...]:
    from ._bench import usable_cores

    out = []
    for item in text.replace(",", " ").split():
        if item == "all":
            out.append(usable_cores())
            continue
        try:
            n = int(item)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a thread count: {item!r} (an integer >= 1 or 'all')") from None
        if n < 1:
            raise argparse.ArgumentTypeError(f"thread counts are >= 1, got {n}")
        out.append(n)
    if not out:
        raise argparse.ArgumentTypeError("no thread count given")
    return tuple(dict.fromkeys(out))


def _parse_peers(text: str) -> tuple[str, ...]:
    from ._bench import PEER_KEYS

    out = []
    for item in text.replace(",", " ").split():
        if item == "all":
            out += PEER_KEYS
        elif item in PEER_KEYS:
            out.append(item)
        elif item != "none":
            raise argparse.ArgumentTypeError(f"unknown peer {item!r} (known: {', '.join(PEER_KEYS)}, all, none)")
    return tuple(dict.fromkeys(out))


def _parse_dtypes(text: str) -> tuple[str, ...]:
    out = []
    for item in text.replace(",", " ").split():
        if item == "all":
            out += list(_DTYPES)
        elif item in _DTYPES:
            out.append(item)
        else:
            raise argparse.ArgumentTypeError(f"dtype must be float32, float64, float16 or all (got {item!r})")
    return tuple(dict.fromkeys(out)) or ("float32",)


def cmd_bench(args: argparse.Namespace) -> int:
    from . import _bench

    if args.quick and args.full:
        print("fastact bench: --quick and --full exclude each other", file=sys.stderr)
        return 2
    config = (_bench.Config.quick_config() if args.quick else
              _bench.Config.full_config() if args.full else _bench.Config())
    if args.sizes is not None:
        config.sizes = args.sizes
    if args.dtype is not None:
        config.dtypes = args.dtype
    if args.threads is not None:
        config.threads = args.threads
    if args.repeats is not None:
        config.repeats = args.repeats
    if args.min_time_ms is not None:
        config.min_time_ms = args.min_time_ms
    if args.functions:
        config.functions = tuple(f for f in args.functions.split(",") if f.strip())
    if args.peers is not None:
        config.peers = args.peers
    config.note = args.note or ""
    _bench.cases(config.functions)  # unknown names fail here, before anything runs
    plot_functions = None
    if args.plot_functions:
        plot_functions = [c.label for c in _bench.cases(args.plot_functions.split(","))]
    if fastact.backend() != "native":
        print("fastact bench: the native module is not loaded; timing the NumPy reference fallback",
              file=sys.stderr)
    try:
        text = _bench.main_bench(config, args.out, progress=not args.no_progress, plot_path=args.plot,
                                 plot_functions=plot_functions)
    except ImportError as exc:  # --plot without matplotlib
        print(f"fastact bench: {exc}", file=sys.stderr)
        return 1
    print(text)
    for path in (args.out, args.plot):
        if path:
            print(f"(written to {path})", file=sys.stderr)
    return 0


def _parse_param(text: str) -> tuple[str, float]:
    key, sep, value = text.partition("=")
    try:
        if not sep or not key.strip():
            raise ValueError
        return key.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, e.g. alpha=0.5 (got {text!r})") from None


def cmd_plot(args: argparse.Namespace) -> int:
    from ._plot import INSTALL_HINT, MissingParameters

    try:
        import matplotlib
    except ImportError:
        print(f"fastact plot: matplotlib is not installed; install it with: {INSTALL_HINT}", file=sys.stderr)
        return 1
    matplotlib.use("Agg")  # files only: no display needed, none opened
    import matplotlib.pyplot as plt

    lo, hi = args.range
    try:
        fig = fastact.plot(args.names, x_range=(lo, hi), derivative=not args.no_derivative,
                           params=dict(args.param) or None)
    except MissingParameters as exc:
        options = " ".join(f"--param {k}=..." for k in exc.missing)
        print(f"fastact plot: {exc.name} has no default for {', '.join(exc.missing)}: add {options}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"fastact plot: {str(exc).removeprefix('plot(): ')}", file=sys.stderr)
        return 2
    try:
        fig.savefig(args.out, dpi=args.dpi)
    except (OSError, ValueError) as exc:  # a missing folder, an unknown file extension
        print(f"fastact plot: cannot write {args.out}: {exc}", file=sys.stderr)
        return 1
    finally:
        plt.close(fig)
    print(f"wrote {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastact",
        description="fastact: neural-network activation functions and their derivatives for NumPy.",
    )
    parser.add_argument("--version", action="version",
                        version=f"fastact {fastact.__version__} ({fastact.backend()}, SIMD {fastact.simd_level()})")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="list the activations: name, range, formula")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="formula, derivative, range, conventions and accuracy of one activation")
    p.add_argument("name", help="activation name or alias (e.g. gelu, swish)")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser(
        "bench",
        help="benchmark fastact against NumPy, SciPy, numexpr, ONNX Runtime, JAX, PyTorch and a plain copy",
        description="Times every activation (forward and _grad) and prints a markdown table. Default: sizes "
        "16, 1e5, 1e7, float32, 1 thread and all cores. Peers that are not installed are skipped (the "
        "report's header says so).",
    )
    p.add_argument("--quick", action="store_true",
                   help="all functions, float32, sizes 16, 1e5, 1e7 at all cores, fewer repeats (under a minute with "
                   "NumPy, SciPy and PyTorch; every extra peer adds to it: --peers picks them)")
    p.add_argument("--full", action="store_true",
                   help="the whole suite: sizes 16 ... 1e8, float32, float64 and float16, 1 thread and all cores "
                   "(hours for every function, ~4 GB at 1e8 float64: combine with --functions)")
    p.add_argument("--sizes", type=_parse_sizes, metavar="N[,N...]", help="array sizes, e.g. 16,1e5,1e7")
    p.add_argument("--dtype", type=_parse_dtypes, metavar="DTYPE",
                   help="float32 (default), float64, float16, a list (float32,float16) or all")
    p.add_argument("--threads", type=_parse_threads, metavar="N[,N...]",
                   help="thread counts (integers or 'all'); default 1 and all cores (--quick: all)")
    p.add_argument("--functions", metavar="a,b", help="only these activations (NAME: forward and derivative; "
                   "NAME_grad / NAME_fwd: one of them)")
    p.add_argument("--peers", type=_parse_peers, metavar="a,b",
                   help="only these comparison columns: numpy, scipy, numexpr, onnxruntime, jax, torch, all or "
                   "none (default: every one installed; fastact and copy always run)")
    p.add_argument("--out", metavar="FILE.md", help="also write the markdown report to this file")
    p.add_argument("--plot", metavar="FILE.png", help="also draw throughput against size (log axes), one panel per "
                   "function, with the copy as the bandwidth roof (needs matplotlib: fastact[plot])")
    p.add_argument("--plot-functions", metavar="a,b",
                   help="the functions --plot draws (as --functions; default: the first nine)")
    p.add_argument("--repeats", type=int, metavar="R", help="best of up to R repeats (default 7, --quick 3)")
    p.add_argument("--min-time-ms", type=float, metavar="MS",
                   help="minimum duration of one repeat (default 20, --quick 10)")
    p.add_argument("--note", metavar="TEXT", help="a line for the report's header (e.g. what else loaded the machine)")
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser(
        "plot",
        help="plot activations and their derivatives to an image file (needs matplotlib: fastact[plot])",
        description="Draws each activation over a range, with its derivative in a second panel, into one "
        "image (the format follows the file's extension: .png, .svg, .pdf).",
    )
    p.add_argument("names", nargs="+", metavar="NAME", help="activation names or aliases (e.g. relu gelu silu)")
    p.add_argument("--out", required=True, metavar="FILE.png", help="image file to write")
    p.add_argument("--range", nargs=2, type=float, default=(-5.0, 5.0), metavar=("A", "B"),
                   help="x from A to B (default -5 5)")
    p.add_argument("--param", action="append", type=_parse_param, default=[], metavar="NAME=VALUE",
                   help="a parameter for every function drawn, e.g. --param alpha=0.5 (repeatable)")
    p.add_argument("--no-derivative", action="store_true", help="the functions only")
    p.add_argument("--dpi", type=float, default=100.0, help="resolution (default 100)")
    p.set_defaults(func=cmd_plot)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyError as exc:  # unknown activation: fastact.get's message, with suggestions
        print(f"fastact {args.command}: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `fastact list | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
