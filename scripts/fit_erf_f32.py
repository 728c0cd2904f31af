"""Fits of the float32 erf's polynomials (rust/core/src/ops/special.rs).

    python scripts/fit_erf_f32.py [--degree 5]          # ERF_CENTRAL
    python scripts/fit_erf_f32.py --tail [--degree 6]   # ERF_LOG_TAIL

Central: erf(x)/x = E(s), s = x², for |x| < 0.75 (s in [0, 0.5625], the float32 erf's central range). Weighted
least squares on 2000 Chebyshev nodes in s against mpmath (30 digits), reweighted (Lawson) towards the minimax
relative error with E(0) = 2/sqrt(pi) held exact; prints the coefficients and the maximum relative error on a
dense check grid. Degree 5 gives 1.6e-9 (0.03 ULP of float32).

Tail: Q(a) = 1 + ln(erfc(a))/a for a = |x| in [0.75, 4.5] (the float32 erf's tail, erf(a) = 1 - exp(a·Q(a) - a),
and its clamp), monomial in a. Only the error it makes in erf counts: an error d in Q moves erf by erfc(a)·a·d,
so the fit weighs Q's error by erfc(a)·a/2^-24 (erf's ULP above 0.5) and reports the worst error in ULP of erf,
with the coefficients as fitted and rounded to float32: degree 6 gives 0.04 and 0.05.
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
    erfc = np.array([float(mpmath.erfc(v)) for v in a])
    q = np.array([float(1 + mpmath.log(mpmath.erfc(v)) / v) for v in a])
    weight = erfc * a / 2.0**-24
    w = np.ones(n)
    for _ in range(80):
        c = np.polynomial.polynomial.polyfit(a, q, degree, w=np.sqrt(w) * weight)
        err = np.abs((np.polynomial.polynomial.polyval(a, c) - q) * weight)
        w *= err / err.max()
        w /= w.sum()
    c32 = c.astype(np.float32).astype(np.float64)
    err32 = np.abs((np.polynomial.polynomial.polyval(a, c32) - q) * weight)
    print(f"max error in ULP of erf {err.max():.3g} ({err32.max():.3g} with float32 coefficients)")
    print(f"const ERF_LOG_TAIL: [f64; {len(c)}] = [")
    for v in c:
        print(f"    {float(v)!r},")
    print("];")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--degree", type=int, default=None)
    parser.add_argument("--tail", action="store_true", help="fit ERF_LOG_TAIL instead of ERF_CENTRAL")
    args = parser.parse_args()
    mpmath.mp.dps = 30
    if args.tail:
        tail(args.degree or 6)
        return
    args.degree = args.degree or 5
    top = 0.75**2
    n = 2000
    s = top * (np.cos(np.pi * (np.arange(n) + 0.5) / n) + 1) / 2
    g = target(s)
    vander = np.vander(s, args.degree + 1, increasing=True)
    w = np.ones(n)
    # E(0) = 2/sqrt(pi) exactly (the kernel splits it as hi + lo), so that erf(x) rounds once for tiny x;
    # the fit is over the other coefficients.
    c0 = float(2 / mpmath.sqrt(mpmath.pi))
    for _ in range(60):
        rest, *_ = np.linalg.lstsq(vander[:, 1:] * (w / g)[:, None], w * (g - c0) / g, rcond=None)
        c = np.concatenate([[c0], rest])
        err = (vander @ c - g) / g
        w = w * np.abs(err) ** 0.5 + 1e-30
        w /= w.sum() / n
    check = np.linspace(0, top, 4001)
    worst = np.max(np.abs((np.polyval(c[::-1], check) - target(check)) / target(check)))
    print(f"max relative error {worst:.3g}")
    print(f"const ERF_CENTRAL: [f64; {len(c)}] = [")
    for v in c:
        print(f"    {float(v)!r},")
    print("];")


if __name__ == "__main__":
    main()
