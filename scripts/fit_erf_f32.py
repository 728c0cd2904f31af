"""Fits of the float32 erf's polynomials (rust/core/src/ops/special.rs).

    python scripts/fit_erf_f32.py [--degree 7]          # ERF_CENTRAL
    python scripts/fit_erf_f32.py --tail [--degree 6]   # ERF_MILLS

Central: erf(x)/x = E(s), s = x², for |x| <= 1 (s in [0, 1]). Weighted least squares on 2000 Chebyshev nodes in
s against mpmath (30 digits), reweighted (Lawson) towards the minimax relative error; prints the coefficients
and the maximum relative error on a dense check grid. Degree 7 gives 3.3e-11, far below float32's 6e-8.

Tail: MILLS(y) = Phi(-y)·exp(y²/2) in t = (y - 1)/(y + 1), y = a·sqrt 2, for a = |x| in [0.75, 4.5] (the
float32 erf's tail, erf(a) = 1 - 2·exp(-a²)·MILLS(y), and its clamp). Only the error it makes in erf counts:
an error δ relative to MILLS moves erf by erfc(a)·δ, so the fit weighs MILLS's error by erfc(a)/(erf(a)·MILLS)
and reports the worst error relative to erf: degree 6 gives 1.9e-9 (0.03 ULP), where the normal tail's 12-term
fit (valid to a = 15 and relative to MILLS, as the normal CDF needs) served before.
"""

from __future__ import annotations

import argparse

import mpmath
import numpy as np


def target(s: np.ndarray) -> np.ndarray:
    return np.array([float(mpmath.erf(mpmath.sqrt(v)) / mpmath.sqrt(v)) if v > 0 else float(2 / mpmath.sqrt(mpmath.pi))
                     for v in s])


def tail(degree: int) -> None:
    lo, hi = 0.75, 4.5
    n = 1500
    a = 0.5 * (hi + lo) + 0.5 * (hi - lo) * np.cos(np.pi * (np.arange(n) + 0.5) / n)
    y = a * np.sqrt(2)
    mills = np.array([float(mpmath.ncdf(-v) * mpmath.exp(v * v / 2)) for v in y])
    erfc = np.array([float(mpmath.erfc(v)) for v in a])
    weight = erfc / ((1 - erfc) * mills)
    t = (y - 1) / (y + 1)
    w = np.ones(n)
    for _ in range(60):
        c = np.polynomial.polynomial.polyfit(t, mills, degree, w=np.sqrt(w) * weight)
        err = np.abs((np.polynomial.polynomial.polyval(t, c) - mills) * weight)
        w *= err / err.max()
        w /= w.sum()
    print(f"max error relative to erf {err.max():.3g}")
    print(f"const ERF_MILLS: [f64; {len(c)}] = [")
    for v in c:
        print(f"    {float(v)!r},")
    print("];")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--degree", type=int, default=None)
    parser.add_argument("--tail", action="store_true", help="fit ERF_MILLS instead of ERF_CENTRAL")
    args = parser.parse_args()
    mpmath.mp.dps = 30
    if args.tail:
        tail(args.degree or 6)
        return
    args.degree = args.degree or 7
    n = 2000
    s = (np.cos(np.pi * (np.arange(n) + 0.5) / n) + 1) / 2
    g = target(s)
    vander = np.vander(s, args.degree + 1, increasing=True)
    w = np.ones(n)
    for _ in range(60):
        c, *_ = np.linalg.lstsq(vander * (w / g)[:, None], w, rcond=None)
        err = (vander @ c - g) / g
        w = w * np.abs(err) ** 0.5 + 1e-30
        w /= w.sum() / n
    check = np.linspace(0, 1, 4001)
    worst = np.max(np.abs((np.polyval(c[::-1], check) - target(check)) / target(check)))
    print(f"max relative error {worst:.3g}")
    print(f"const ERF_CENTRAL: [f64; {len(c)}] = [")
    for v in c:
        print(f"    {float(v)!r},")
    print("];")


if __name__ == "__main__":
    main()
