"""Issue 6's along-an-axis additions against what a user would write without them: masked softmax (where=),
quiet_softmax, logmeanexp, sparsemax and crelu, fastact vs PyTorch vs NumPy.

    python benches/bench_axis_extra.py [--threads 1] [--out FILE.md]

float32 (4096, 4096), best of 5 repeats (sparsemax's NumPy reference: best of 2), `out=` given where the function
takes it; a peer that is not installed is skipped. The mask keeps 80% of the entries at random.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

import fastact
import numpy as np
from fastact import _bench
from fastact._bench import best_seconds as best

try:
    import torch
except ImportError:  # pragma: no cover - optional peer
    torch = None

SHAPE = (4096, 4096)


def cases(x: np.ndarray, mask: np.ndarray) -> list[tuple[str, Callable[[], object], str, Callable[[], object] | None]]:
    """(what, fastact call, peer name, peer call)."""
    out = np.empty_like(x)
    if torch is not None:
        tx, tout, tmask = torch.from_numpy(x), torch.from_numpy(out), torch.from_numpy(mask)
    lines: list[tuple[str, Callable[[], object], str, Callable[[], object] | None]] = [
        ("softmax (no mask)", lambda: fastact.softmax(x, out=out), "torch.softmax",
         (lambda: torch.softmax(tx, -1, out=tout)) if torch else None),
        ("softmax where=, last axis", lambda: fastact.softmax(x, where=mask, out=out),
         "torch masked_fill(-inf) + softmax",
         (lambda: torch.softmax(tx.masked_fill(~tmask, -np.inf), -1)) if torch else None),
        ("softmax where=, last axis", lambda: fastact.softmax(x, where=mask, out=out),
         "np.where(-inf) + fastact.softmax", lambda: fastact.softmax(np.where(mask, x, -np.inf), out=out)),
        ("softmax where=, axis 0", lambda: fastact.softmax(x, axis=0, where=mask, out=out),
         "np.where(-inf) + fastact.softmax", lambda: fastact.softmax(np.where(mask, x, -np.inf), axis=0, out=out)),
        ("quiet_softmax", lambda: fastact.quiet_softmax(x, out=out), "torch: softmax of the row with a 0 appended",
         (lambda: torch.softmax(torch.nn.functional.pad(tx, (0, 1)), -1)[:, :-1]) if torch else None),
        ("logmeanexp", lambda: fastact.logmeanexp(x), "torch.logsumexp - log n",
         (lambda: torch.logsumexp(tx, -1) - np.log(x.shape[-1])) if torch else None),
        ("sparsemax", lambda: fastact.sparsemax(x, out=out), "fastact.reference.sparsemax (NumPy, sorts rows)",
         lambda: fastact.reference.sparsemax(x)),
        ("crelu", lambda: fastact.crelu(x), "np.concatenate of maximum(x, 0), maximum(-x, 0)",
         lambda: np.concatenate([np.maximum(x, 0), np.maximum(-x, 0)], axis=-1)),
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1")
    parser.add_argument("--out")
    args = parser.parse_args()
    cores = _bench.usable_cores()
    threads = cores if args.threads == "all" else int(args.threads)
    fastact.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)
    cpu = _bench._cpu_model()
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SHAPE, dtype=np.float32) * 4
    mask = rng.uniform(size=SHAPE) < 0.8
    lines = [f"# issue 6 along an axis, float32 {SHAPE} — {time.strftime('%Y-%m-%d')} on {cpu}, {threads} of {cores} "
             f"cores, SIMD {fastact.simd_level()}, NumPy {np.__version__}, "
             f"torch {torch.__version__ if torch else 'absent'}, Python {platform.python_version()}", "",
             "| function | fastact | peer | peer time | × peer |", "|---|---:|---|---:|---:|"]
    for what, fa_call, peer, peer_call in cases(x, mask):
        t_fa = best(fa_call)
        t_peer = None if peer_call is None else best(peer_call, repeats=2 if "reference" in peer else 5)
        ratio = f"{t_peer / t_fa:.2f}×" if t_peer else "—"
        peer_time = f"{t_peer * 1e3:.1f} ms" if t_peer else "—"
        lines.append(f"| {what} | {t_fa * 1e3:.1f} ms | {peer} | {peer_time} | {ratio} |")
    lines += ["", "× peer > 1: fastact is faster."]
    _bench.publish(lines, args.out)


if __name__ == "__main__":
    main()
