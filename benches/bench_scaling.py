"""Thread scaling: throughput against thread count for fastact, PyTorch (where installed) and the copy of the
same bytes split over the same threads, as a markdown table and optionally a PNG.

    python benches/bench_scaling.py [--threads 1,2,4,...] [--size 1e7] [--dtype float32]
                                    [--functions a,b] [--peers torch] [--out FILE.md] [--plot FILE.png]

Default thread counts: 1, 2, 4, ... up to every usable core (and that count). It runs the engine of
``python -m fastact bench`` (``fastact._bench.run``) on one size, so the timing, the correctness check and
the copy baseline are the same; ``--peers`` adds columns that honour a thread count (numexpr, onnxruntime).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

from fastact import _bench
from fastact.__main__ import _parse_peers, _parse_sizes, _parse_threads

DEFAULT_FUNCTIONS = ("relu_fwd", "sigmoid_fwd", "silu_fwd", "tanh_fwd", "gelu_fwd", "gelu_grad")


def default_threads() -> tuple[int, ...]:
    cores = _bench.usable_cores()
    counts = []
    n = 1
    while n < cores:
        counts.append(n)
        n *= 2
    return (*counts, cores)


def table(rows: list[_bench.Row], peers: tuple[str, ...]) -> list[str]:
    """One line per function and thread count: throughput, speed-up over one thread, fraction of the copy."""
    keys = ("fastact-out", *(p for p in peers if any(r.rate(p) for r in rows)), "copy")
    names = {"fastact-out": "fastact"}
    header = ["function", "threads"]
    for key in keys:
        header += [names.get(key, key), "× 1 thr"]
    header.append("fastact of copy")
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    base: dict[tuple[str, str], float | None] = {}
    for row in sorted(rows, key=lambda r: (r.case.label, r.threads)):
        cells = [f"`{row.case.label}`", str(row.threads)]
        for key in keys:
            rate = row.rate(key)
            first = base.setdefault((row.case.label, key), rate)
            cells += [_bench.fmt_rate(rate), _bench._fmt_ratio(rate, first)]
        cells.append(_bench._fmt_ratio(row.rate("fastact-out"), row.rate("copy")))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=_parse_threads, default=None, help="thread counts (default 1, 2, 4 ... all)")
    parser.add_argument("--size", type=_parse_sizes, default=(10**7,), help="one array size, > 4096 (default 1e7)")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64", "float16"))
    parser.add_argument("--functions", default=",".join(DEFAULT_FUNCTIONS),
                        help="as python -m fastact bench --functions (default: %(default)s)")
    parser.add_argument("--peers", type=_parse_peers, default=("torch",),
                        help="comparison columns (default torch; numexpr and onnxruntime also take a thread count)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--note", default="", help="a line for the header (e.g. the load on a shared machine)")
    parser.add_argument("--out", help="also write the markdown report here")
    parser.add_argument("--plot", help="also draw throughput against threads to this PNG (needs matplotlib)")
    args = parser.parse_args(argv)
    size = args.size[0]
    if len(args.size) != 1 or size <= _bench.Config.small:
        parser.error(f"--size takes one size above {_bench.Config.small} (smaller arrays are not split)")
    peers = tuple(p for p in args.peers if p != "jax")  # JAX's threads cannot be set at run time
    config = _bench.Config(sizes=(size,), dtypes=(args.dtype,), threads=args.threads or default_threads(),
                           functions=tuple(args.functions.split(",")), peers=peers, repeats=args.repeats,
                           note=args.note)
    if args.plot:
        from fastact._bench_plot import _pyplot

        _pyplot()  # fail before the run without matplotlib
    t0 = time.perf_counter()
    rows = _bench.run(config, lambda line: print(line, file=sys.stderr))
    elapsed = time.perf_counter() - t0
    info = _bench.machine_info()
    lines = [f"# Thread scaling: {args.dtype}, n = {size:,}", ""]
    for key in ("cpu", "cores", "fastact", "commit", "numpy", "torch", "date", "load"):
        lines.append(f"- **{key}**: {info[key]}")
    command = shlex.join(sys.argv[1:] if argv is None else argv)
    lines.append(f"- **command**: `python benches/bench_scaling.py {command}`")
    lines.append(f"- **timing**: as `python -m fastact bench` (best of up to {config.repeats} repeats, each ≥ "
                 f"{config.min_time_ms:g} ms); run time {elapsed:.0f} s")
    if config.note:
        lines.append(f"- **note**: {config.note}")
    lines += ["", *table(rows, peers), "",
              "× 1 thr: throughput ÷ the same column's one-thread throughput. copy: `np.copyto` (forwards) or "
              "`np.multiply(x, grad_out)` (derivatives) of the same bytes, the faster of one thread and the same "
              "split over the row's threads: the memory-bandwidth limit that a bandwidth-bound kernel cannot "
              "beat. fastact of copy: fastact ÷ copy.", ""]
    notes = _bench._notes(rows)
    if notes:
        lines += ["Notes:", "", *(f"- {n}" for n in notes), ""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    if args.plot:
        from fastact._bench_plot import scaling

        scaling(rows, args.plot, info=info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
