"""Input-independent speed: every function on inputs that slow other libraries down, against its speed on
ordinary inputs, fastact and PyTorch side by side.

    python benches/bench_adversarial.py [--size N] [--threads N] [--functions a,b] [--out FILE.md]

Input sets (float32): ``normal`` x ~ U(-10, 10); ``large negative`` U(-90, -60) (exponentials near and
below the normal range); ``subnormal results`` U(-104, -87) (results and intermediates in the subnormal
range, where x86 microcode assists cost ~100 cycles each); ``huge`` ±U(1e29, 1e31); ``NaN-laced`` the normal
set with every 8th element NaN. For each function the table shows the throughput on normal input and the
slowest adversarial set as a fraction of it (1.00 = no slowdown). Timing: best of 5 repeats of k calls, each
repeat at least 20 ms, with ``out=``; grad_out ~ U(-1, 1).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import fastact
import numpy as np
from fastact import _bench

try:
    import torch
except ImportError:  # pragma: no cover - optional peer
    torch = None


def input_sets(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(12345)
    normal = rng.uniform(-10, 10, n).astype(np.float32)
    laced = normal.copy()
    laced[::8] = np.nan
    huge = rng.uniform(1e29, 1e31, n).astype(np.float32) * np.where(rng.random(n) < 0.5, -1, 1).astype(np.float32)
    return {
        "normal": normal,
        "large negative": rng.uniform(-90, -60, n).astype(np.float32),
        "subnormal results": rng.uniform(-104, -87, n).astype(np.float32),
        "huge": huge,
        "NaN-laced": laced,
    }


def best_rate(fn: Callable[[], Any], n: int, min_time: float = 0.02, repeats: int = 5) -> float:
    fn()
    t0 = time.perf_counter()
    fn()
    k = max(1, int(min_time / max(time.perf_counter() - t0, 1e-7)))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(k):
            fn()
        best = min(best, (time.perf_counter() - t0) / k)
    return n / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=1e5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--functions", help="comma-separated subset (as python -m fastact bench)")
    parser.add_argument("--out", help="also write the markdown table here")
    args = parser.parse_args()
    n = int(args.size)
    fastact.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)
    sets = input_sets(n)
    g = np.random.default_rng(7).uniform(-1, 1, n).astype(np.float32)
    out = np.empty(n, np.float32)
    lines = [
        f"# Input-independent speed — {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"- **cpu**: {_bench._cpu_model()} ({os.cpu_count()} logical cores), SIMD {fastact.simd_level()}; "
        f"Python {platform.python_version()}, NumPy {np.__version__}"
        + (f", torch {torch.__version__}" if torch is not None else ", torch not installed"),
        f"- **command**: `python benches/bench_adversarial.py {' '.join(sys.argv[1:])}`",
        f"- float32, n = {n:,}, threads = {args.threads}; the slowest set's throughput ÷ the normal-input "
        "throughput (1.00 = no slowdown)",
        "",
        "| function | fastact normal | fastact slowest | which | torch normal | torch slowest | which |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    worst_fastact = (1.0, "")
    for case in _bench.cases(args.functions.split(",") if args.functions else None):
        results: dict[str, dict[str, float]] = {"fastact": {}, "torch": {}}
        for label, x in sets.items():
            impls = _bench.implementations(case, x, g, out, _bench.Config(peers=("torch",)))
            for key in ("fastact", "torch"):
                impl = impls.get("fastact-out" if key == "fastact" else "torch")
                if impl is None or isinstance(impl, str):
                    continue
                with np.errstate(all="ignore"):
                    results[key][label] = best_rate(impl.call, n)
        row = [f"`{case.label}`"]
        for key in ("fastact", "torch"):
            r = results[key]
            if "normal" not in r:
                row += ["—", "—", "—"]
                continue
            label, rate = min(((k, v) for k, v in r.items() if k != "normal"), key=lambda kv: kv[1])
            ratio = rate / r["normal"]
            if key == "fastact" and ratio < worst_fastact[0]:
                worst_fastact = (ratio, f"{case.label} on {label}")
            row += [_bench.fmt_rate(r["normal"]), f"{ratio:.2f}×", label]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", f"fastact's largest slowdown: {worst_fastact[0]:.2f}× ({worst_fastact[1] or 'none'}).", ""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
