"""Coefficients of fastact's erfc: erfcx(z) = exp(z^2) * erfc(z) as a Chebyshev series in t = (z - 2) / (z + 2).

The map t(z) makes erfcx smooth on z in [0, 8] (Schonfelder's substitution), so one series covers it with no
branches; above z = 8 the kernel uses the asymptotic series, whose first 21 terms are accurate to 6e-20 there.
The series is Chebyshev interpolation at N nodes computed in mpmath (60 digits), so no least-squares
conditioning limits it; evaluated by Clenshaw's recurrence in float64 it is within 1.4e-15 (relative) of
erfcx on [0, 8]. Run: python scripts/fit_erfcx.py
"""

import mpmath as mp
import numpy as np

mp.mp.dps = 60
K = 2
Z_MAX = 8
DEGREE = 24
NODES = 200


def main() -> None:
    t_lo, t_hi = mp.mpf(-1), mp.mpf(Z_MAX - K) / (Z_MAX + K)
    theta = [mp.pi * (j + mp.mpf(1) / 2) / NODES for j in range(NODES)]
    s = [mp.cos(th) for th in theta]
    t = [(si + 1) / 2 * (t_hi - t_lo) + t_lo for si in s]
    f = [mp.exp(z * z) * mp.erfc(z) for z in (K * (1 + ti) / (1 - ti) for ti in t)]
    coef = [2 * mp.fsum(f[j] * mp.cos(k * theta[j]) for j in range(NODES)) / NODES for k in range(DEGREE + 1)]
    coef[0] /= 2
    c = [float(v) for v in coef]
    tt = np.linspace(float(t_lo), float(t_hi), 4001)
    exact = np.array([float(mp.exp(z * z) * mp.erfc(z)) for z in (K * (1 + mp.mpf(x)) / (1 - mp.mpf(x)) for x in tt)])
    ss = (2 * tt - float(t_lo + t_hi)) / float(t_hi - t_lo)
    rel = np.abs(np.polynomial.chebyshev.chebval(ss, c) - exact) / exact
    print(f"// degree {DEGREE}, t in [-1, {float(t_hi)}], max relative error in float64 {rel.max():.2e}")
    print(f"// s = t * {float(2 / (t_hi - t_lo))!r} + {float(-(t_lo + t_hi) / (t_hi - t_lo))!r}")
    print(",\n".join(repr(v) for v in c))


if __name__ == "__main__":
    main()
