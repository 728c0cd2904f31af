"""How exact each library is: float32 errors in ULP of every function, fastact beside the peers the speed
benchmark times (the NumPy formula, SciPy, numexpr, ONNX Runtime, JAX, PyTorch), on the same calls.

    python benches/bench_peer_accuracy.py [--functions a,b] [--peers a,b] [--out FILE.md]

A speed ratio means little without the accuracy bought with it: a rational approximation with an absolute
error of 1e-7 is faster than a kernel held to 2 ULP, and wrong by orders of magnitude where the result is
small. Each implementation is called once on 400,000 float32 inputs: x ~ U(-10, 10) (the speed benchmark's
input), ±10^U(-8, 1.5) (small magnitudes), U(-100, 100) (exponential tails, subnormal results); a function
defined on an interval (logit) takes U(interval) instead. grad_out ~ U(-1, 1).

The oracle is the pure-NumPy reference kernel (`fastact.reference`'s, written for stability) evaluated in
float64 on the float32 inputs, the derivative times grad_out in float64, not rounded. The error of a result is
|result - oracle| in ULP of the oracle in float32 (the spacing 2^-149 below 2^-126). Each cell shows the
largest error and, in brackets, the share of results more than 4 ULP off; "specials" counts results that are
NaN or ±inf where the oracle is not, or the reverse. The oracle's own error (a few float64 ULP) is
negligible at this scale.

Reading it: a result flushed to 0 where the exact value is a normal float is off by 2^23 ULP or more (1.7e+07
is the typical such cell); a derivative that crosses zero (gelu', silu', mish', ...) is a difference of nearly
equal terms there, and its error in ULP of the tiny result grows without bound near the crossing for every
library (docs/accuracy.md lists fastact's cancellation windows and their absolute bounds). The derivative
columns include the rounding of the product with grad_out (up to half an ULP more than the kernel's bound).
"""

from __future__ import annotations

import argparse
import datetime
import platform

import fastact
import numpy as np
from fastact import _bench, _kernels_numpy

N_EACH = (200_000, 100_000, 100_000)


def inputs(case: _bench.Case) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20261126)
    domain = fastact.get(case.activation).spec.domain
    n = sum(N_EACH)
    if domain is not None:
        x = rng.uniform(*domain, n)
    else:
        small = 10 ** rng.uniform(-8, 1.5, N_EACH[1]) * rng.choice([-1.0, 1.0], N_EACH[1])
        x = np.concatenate([rng.uniform(-10, 10, N_EACH[0]), small, rng.uniform(-100, 100, N_EACH[2])])
    g = rng.uniform(-1, 1, n)
    return x.astype(np.float32), g.astype(np.float32)


def oracle(case: _bench.Case, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    forward, derivative, _ = _kernels_numpy.KERNELS[case.kernel]
    spec = fastact.get(case.activation).spec
    params = [p.kernel_value(case.numeric_kwargs[p.name]) for p in spec.numeric_params]
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        if not case.grad:
            return np.asarray(forward(x64, *params), dtype=np.float64)
        return g.astype(np.float64) * np.asarray(derivative(x64, *params, precision=np.float32), np.float64)


def ulp_errors(got: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, int]:
    """(errors in float32 ULP of ref where both are finite, number of special-value mismatches)."""
    got = np.asarray(got, dtype=np.float64).ravel()
    fg, fr = np.isfinite(got), np.isfinite(ref)
    special = int(np.count_nonzero(fg != fr))
    both_special = ~fg & ~fr
    special += int(np.count_nonzero(both_special & ~((got == ref) | (np.isnan(got) & np.isnan(ref)))))
    keep = fg & fr
    exact = ref[keep]
    _, exponent = np.frexp(np.abs(exact))
    spacing = np.where(exact == 0, 2.0**-149, np.ldexp(1.0, np.maximum(exponent - 24, -149)))
    return np.abs(got[keep] - exact) / spacing, special


def cell(errors: np.ndarray, special: int) -> str:
    if errors.size == 0:
        return "—"
    worst = float(errors.max())
    text = f"{worst:.3g}" if worst < 1e4 else f"{worst:.1e}"
    beyond = float(np.mean(errors > 4))
    if beyond:
        text += f" ({beyond:.1%})" if beyond >= 0.001 else " (<0.1%)"
    if special:
        text += f", {special} specials"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", help="comma-separated subset (as python -m fastact bench)")
    parser.add_argument("--peers", help="comma-separated subset of " + ", ".join(_bench.PEER_KEYS))
    parser.add_argument("--out", help="also write the markdown table here")
    args = parser.parse_args()
    fastact.set_num_threads(1)
    peers = tuple(args.peers.split(",")) if args.peers else None
    config = _bench.Config(peers=peers)
    cases = _bench.cases(args.functions.split(",") if args.functions else None)
    columns = ["fastact-out", *_bench.PEER_KEYS]
    rows: list[list[str]] = []
    seen: set[str] = set()
    for case in cases:
        x, g = inputs(case)
        out = np.empty_like(x)
        ref = oracle(case, x, g)
        impls = _bench.implementations(case, x, g, out, config)
        row = [f"`{case.label}`"]
        for key in columns:
            impl = impls.get(key)
            if not isinstance(impl, _bench.Impl):
                row.append("—")
                continue
            seen.add(key)
            try:
                with np.errstate(all="ignore"):
                    value = impl.result(impl.call())
            except Exception as exc:  # noqa: BLE001 - a peer that fails is reported, not fatal
                row.append(f"failed ({type(exc).__name__})")
                continue
            row.append(cell(*ulp_errors(value, ref)))
        rows.append(row)
    shown = ["fastact-out", *[k for k in _bench.PEER_KEYS if k in seen]]
    index = [columns.index(k) + 1 for k in shown]
    info = _bench.machine_info()
    lines = [
        f"# Accuracy against the peers — {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"- **cpu**: {info.get('cpu', platform.processor())}; fastact {fastact.__version__} "
        f"({fastact.simd_level()}), commit {info.get('commit', '?')}",
        "- **versions**: " + ", ".join(f"{k} {v}" for k, v in info.items()
                                        if k in ("numpy", "scipy", "numexpr", "onnxruntime", "jax", "torch")),
        "- float32, 400,000 inputs per function (U(-10, 10), ±10^U(-8, 1.5), U(-100, 100); logit U(0, 1)); "
        "max error in ULP of the exact value (share of results more than 4 ULP off); see the script's docstring",
        "",
        "| function | " + " | ".join("fastact" if k == "fastact-out" else k for k in shown) + " |",
        "|---|" + "---:|" * len(shown),
    ]
    lines += ["| " + " | ".join([r[0], *(r[i] for i in index)]) + " |" for r in rows]
    _bench.publish(lines, args.out)


if __name__ == "__main__":
    main()
