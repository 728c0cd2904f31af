"""GLU family, maxout and PReLU, forward and derivative: fastact vs PyTorch vs the NumPy formula vs a plain copy.

    python benches/bench_gated.py [--threads 1,all] [--out FILE.md]

float32. glu: x of (4096, 8192) split over the last axis into a, b, result a·gate(b) of (4096, 4096), for
every gate; maxout: the same x, pieces=2 over the last axis; prelu: x of (64, 64, 64, 64), one slope per
channel on axis 1. Every timing is the best of 5 repeats (the NumPy formulas: of 2), with `out=` where
the function takes it (torch: the `out=` overloads, or the aten op a backward pass calls); a peer that is
not installed is skipped (its column shows —). GB/s counts the bytes each function must read and write
once (for glu_grad: x and grad_out read, the gradient of x's shape written); "of copy" compares it with
np.copyto of a (4096, 8192) array on one thread (read + write).
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from typing import Any

import fastact
import numpy as np
from fastact import _bench
from fastact.__main__ import _parse_threads
from fastact._bench import best_seconds as best

try:
    import torch
    import torch.nn.functional as F  # noqa: N812 - PyTorch's own spelling
except ImportError:  # pragma: no cover - optional peer
    torch = None

GLU_SHAPE = (4096, 8192)
PRELU_SHAPE = (64, 64, 64, 64)


def _np_sigmoid(v: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * v))  # overflow-free, what a careful NumPy user writes


def _np_gelu(v: np.ndarray) -> np.ndarray:
    import math

    erf = np.vectorize(math.erf, otypes=[v.dtype])  # NumPy has no erf; SciPy's is below when installed
    try:
        from scipy.special import erf as sp_erf

        erf = sp_erf
    except ImportError:  # pragma: no cover - optional
        pass
    return 0.5 * v * (1.0 + erf(v / np.sqrt(2.0).astype(v.dtype)))


NUMPY_GATES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": _np_sigmoid,
    "silu": lambda v: v * _np_sigmoid(v),
    "gelu": _np_gelu,
    "gelu_tanh": lambda v: 0.5 * v * (1.0 + np.tanh(np.float32(0.7978845608) * (v + np.float32(0.044715) * v**3))),
    "relu": lambda v: np.maximum(v, 0),
}


def _torch_gates() -> dict[str, Callable[[Any], Any]]:
    return {
        "silu": F.silu,
        "gelu": F.gelu,
        "gelu_tanh": lambda v: F.gelu(v, approximate="tanh"),
        "relu": F.relu,
    }


def cases() -> list[tuple[str, float, Callable[[], object], Callable[[], object] | None,
                                        Callable[[], object] | None]]:
    """(label, bytes moved, fastact, torch or None, NumPy formula or None) per row."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(GLU_SHAPE, dtype=np.float32) * 3
    half = GLU_SHAPE[1] // 2
    a, b = x[:, :half], x[:, half:]
    g = rng.standard_normal((GLU_SHAPE[0], half), dtype=np.float32)
    y = np.empty((GLU_SHAPE[0], half), np.float32)
    gx = np.empty_like(x)
    fwd_bytes, grad_bytes = x.nbytes + y.nbytes, x.nbytes + g.nbytes + gx.nbytes
    tx = tg = ty = tgx = None
    if torch is not None:
        tx, tg, ty, tgx = (torch.from_numpy(v) for v in (x, g, y, gx))
    rows: list[tuple[str, float, Callable[[], object], Callable[[], object] | None, Callable[[], object] | None]] = []
    for gate in NUMPY_GATES:
        t_fwd: Callable[[], object] | None = None
        t_grad: Callable[[], object] | None = None
        if torch is not None:
            if gate == "sigmoid":
                t_fwd = lambda: torch._C._nn.glu(tx, -1, out=ty)  # noqa: E731
                t_grad = lambda: torch.ops.aten.glu_backward.grad_input(tg, tx, -1, grad_input=tgx)  # noqa: E731
            else:
                fn = _torch_gates()[gate]
                ta, tb = tx[:, :half], tx[:, half:]
                t_fwd = lambda fn=fn, ta=ta, tb=tb: torch.mul(ta, fn(tb), out=ty)  # noqa: E731 (unfused: two passes)
        np_gate = NUMPY_GATES[gate]
        rows.append((f"glu gate={gate}", fwd_bytes,
                     lambda gate=gate: fastact.glu(x, gate=gate, out=y), t_fwd,
                     lambda np_gate=np_gate: np.multiply(a, np_gate(b), out=y)))
        rows.append((f"glu_grad gate={gate}", grad_bytes,
                     lambda gate=gate: fastact.glu_grad(x, g, gate=gate, out=gx), t_grad, None))
    pieces = 2
    m = np.empty((GLU_SHAPE[0], GLU_SHAPE[1] // pieces), np.float32)
    gm = rng.standard_normal(m.shape, dtype=np.float32)
    t_max = t_max_grad = None
    if torch is not None:
        tm = torch.from_numpy(m)
        t_max = lambda: torch.amax(tx.view(GLU_SHAPE[0], -1, pieces), -1, out=tm)  # noqa: E731
    rows.append((f"maxout pieces={pieces}", x.nbytes + m.nbytes, lambda: fastact.maxout(x, pieces, out=m), t_max,
                 lambda: np.max(x.reshape(GLU_SHAPE[0], -1, pieces), axis=-1, out=m)))
    rows.append((f"maxout_grad pieces={pieces}", x.nbytes + gm.nbytes + gx.nbytes,
                 lambda: fastact.maxout_grad(x, gm, pieces, out=gx), t_max_grad, None))
    p = rng.standard_normal(PRELU_SHAPE, dtype=np.float32)
    w = rng.uniform(0.05, 0.3, PRELU_SHAPE[1]).astype(np.float32)
    py = np.empty_like(p)
    pg = rng.standard_normal(PRELU_SHAPE, dtype=np.float32)
    t_prelu = t_prelu_grad = None
    if torch is not None:
        tp, tw, tpg = torch.from_numpy(p), torch.from_numpy(w), torch.from_numpy(pg)
        wv = tw.view(1, -1, 1, 1)
        t_prelu = lambda: torch.ops.aten._prelu_kernel(tp, wv)  # noqa: E731

        def t_prelu_grad() -> object:  # what autograd runs for F.prelu: the kernel, then the weight's sum
            gi, gw = torch.ops.aten._prelu_kernel_backward(tpg, tp, wv)
            return gi, gw.sum((0, 2, 3))
    wb = w.reshape(1, -1, 1, 1)

    def np_prelu() -> None:
        np.multiply(np.minimum(p, 0), wb, out=py)
        np.add(py, np.maximum(p, 0), out=py)
    rows.append(("prelu (channels on axis 1)", 2 * p.nbytes, lambda: fastact.prelu(p, w, out=py), t_prelu, np_prelu))
    rows.append(("prelu_grad (grad_x, grad_weight)", 3 * p.nbytes, lambda: fastact.prelu_grad(p, pg, w), t_prelu_grad,
                 None))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=_parse_threads, default="1,all", help="thread counts, e.g. 1,all")
    parser.add_argument("--out")
    args = parser.parse_args()
    cores = _bench.usable_cores()
    threads = list(args.threads)
    cpu = _bench._cpu_model()
    src = np.random.default_rng(1).standard_normal(GLU_SHAPE, dtype=np.float32)
    dst = np.empty_like(src)
    copy_gbs = 2 * src.nbytes / 1e9 / best(lambda: np.copyto(dst, src))
    lines = [f"# GLU family, maxout, PReLU, float32 — {time.strftime('%Y-%m-%d')} on {cpu}, {cores} cores, "
             f"SIMD {fastact.simd_level()}, NumPy {np.__version__}, torch {torch.__version__ if torch else 'absent'}, "
             f"Python {platform.python_version()}", "",
             f"copy (np.copyto, 1 thread): {copy_gbs:.1f} GB/s", "",
             "| function | threads | fastact | torch | numpy formula | × torch | × numpy | fastact GB/s | of copy |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in threads:
        fastact.set_num_threads(n)
        if torch is not None:
            torch.set_num_threads(n)
        for label, nbytes, fa, tt, npf in cases():
            t_fa = best(fa)
            t_t = best(tt) if tt is not None else None
            t_np = best(npf, repeats=2) if (npf is not None and n == threads[0]) else None

            def ms(t: float | None) -> str:
                return f"{t * 1e3:.1f} ms" if t else "—"

            gbs = nbytes / 1e9 / t_fa
            lines.append(f"| {label} | {n} | {ms(t_fa)} | {ms(t_t)} | {ms(t_np)} | "
                         f"{f'{t_t / t_fa:.2f}×' if t_t else '—'} | {f'{t_np / t_fa:.2f}×' if t_np else '—'} | "
                         f"{gbs:.1f} | {gbs / copy_gbs:.2f}× |")
            print(lines[-1], flush=True)
    lines += ["", "torch's glu with gate sigmoid is its fused `glu` (and `glu_backward`); the other gates are "
              "torch.mul(a, gate(b)): two passes, as a PyTorch user writes SwiGLU/GeGLU. × > 1: fastact is faster."]
    _bench.publish(lines, args.out)


if __name__ == "__main__":
    main()
