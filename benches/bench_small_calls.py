"""The per-call cost of the along-an-axis and fused functions on 16 float32 elements, against NumPy's np.tanh.

    python benches/bench_small_calls.py [--out FILE.md]

Issue 8 asks for a 16-element call within 1.5x of np.tanh's. Each function is timed right after np.tanh on the
same 16 values (timeit, the best of 3 repeats of 5000 calls each), seven times; the table shows the medians of
the times and of the seven ratios, which a shared machine's drifting speed affects least. torch's equivalent
call (on `torch.from_numpy` of the same arrays, one thread) is shown where there is one and torch is installed.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import timeit
from collections.abc import Callable

import fastact
import numpy as np
from fastact import _bench

try:
    import torch
    import torch.nn.functional as F  # noqa: N812 - PyTorch's own spelling
except ImportError:  # pragma: no cover - optional peer
    torch = None

x = np.linspace(-2, 2, 16, dtype=np.float32)
g = np.ones_like(x)
x2, g2 = x.reshape(2, 8), g.reshape(2, 8)
weight = np.array([0.25], np.float32)
bias = np.zeros(8, np.float32)
g_doubled = np.ones(32, np.float32)
g_half = g[:8].copy()  # made once: slicing inside the timed call would add a view's cost to it


def cases() -> list[tuple[str, Callable[[], object], Callable[[], object] | None]]:
    t = torch.from_numpy if torch is not None else None
    return [
        ("tanh (elementwise, for scale)", lambda: fastact.tanh(x), t and (lambda: torch.tanh(t(x)))),
        ("softmax", lambda: fastact.softmax(x), t and (lambda: torch.softmax(t(x), -1))),
        ("log_softmax_grad", lambda: fastact.log_softmax_grad(x, g), None),
        ("logsumexp", lambda: fastact.logsumexp(x), t and (lambda: torch.logsumexp(t(x), -1))),
        ("glu", lambda: fastact.glu(x), t and (lambda: F.glu(t(x), -1))),
        ("glu_grad", lambda: fastact.glu_grad(x, g_half), None),
        ("maxout pieces=2", lambda: fastact.maxout(x, 2), None),
        ("maxout_grad pieces=2", lambda: fastact.maxout_grad(x, g_half, 2), None),
        ("prelu (2, 8), one weight", lambda: fastact.prelu(x2, weight),
         t and (lambda: F.prelu(t(x2), t(weight)))),
        ("prelu_grad", lambda: fastact.prelu_grad(x2, g2, weight), None),
        ("crelu", lambda: fastact.crelu(x), None),
        ("crelu_grad", lambda: fastact.crelu_grad(x, g_doubled), None),
        ("bias_act (2, 8), gelu", lambda: fastact.bias_act(x2, bias, "gelu"),
         t and (lambda: F.gelu(t(x2) + t(bias)))),
        ("bias_act_grad (2, 8), gelu", lambda: fastact.bias_act_grad(x2, g2, bias, "gelu"), None),
    ]


def _seconds(fn: Callable[[], object], number: int = 5000) -> float:
    return min(timeit.repeat(fn, number=number, repeat=3)) / number


def measure(fn: Callable[[], object], rounds: int = 7) -> tuple[float, float]:
    """(median µs per call, median ratio to np.tanh timed just before it)."""
    times, ratios = [], []
    for _ in range(rounds):
        base = _seconds(lambda: np.tanh(x))
        took = _seconds(fn)
        times.append(took * 1e6)
        ratios.append(took / base)
    return statistics.median(times), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out")
    args = parser.parse_args()
    fastact.set_num_threads(1)
    if torch is not None:
        torch.set_num_threads(1)
    lines = [f"# 16-element calls, float32 — {time.strftime('%Y-%m-%d')} on {_bench._cpu_model()}, "
             f"NumPy {np.__version__}, torch {torch.__version__ if torch else 'absent'}, "
             f"Python {platform.python_version()}", "",
             f"np.tanh on the same 16 values: {measure(lambda: np.tanh(x))[0]:.2f} µs", "",
             "| function | fastact | × np.tanh | torch | × np.tanh |", "|---|---:|---:|---:|---:|"]
    for label, fa, tt in cases():
        t_fa, r_fa = measure(fa)
        t_t, r_t = measure(tt) if tt is not None else (None, None)
        lines.append(f"| {label} | {t_fa:.2f} µs | {r_fa:.2f}× | "
                     f"{f'{t_t:.2f} µs' if t_t else '—'} | {f'{r_t:.2f}×' if r_t else '—'} |")
        print(lines[-1], flush=True)
    lines += ["", "× np.tanh: the median over seven rounds of (the call's time / np.tanh's, timed just before); "
              "lower is cheaper. Issue 8's target is 1.5×."]
    _bench.publish(lines, args.out)


if __name__ == "__main__":
    main()
