"""Coefficients of fastact's float32 GELU (rust/core/src/ops/gaussian.rs), computed in float32 end to end.

Two pieces, each a polynomial fitted by weighted least squares (relative error) at Chebyshev nodes, with
mpmath (40 digits) values:

- central, |x| < 0.75:  (Phi(x) - 1/2) / x  as a polynomial in s = x^2, so gelu(x) = x/2 + x^2 * P(x^2);
- the derivative's centre: (Phi(x) - 1/2) / x + phi(x) in s = x^2, so gelu'(x) = 1/2 + x * Q(x^2);
- tail, a = |x| in [0.75, 15]:  N(a) = a * Phi(-a) * exp(a^2 / 2)  as a polynomial in t = (a - K) / (a + K),
  so that a * Phi(-a) = exp(-a^2 / 2) * N(a). N rises from 0.2 to 1/sqrt(2 pi) and is smooth in t. With
  K = 1.5, a - K is exact for every a >= 0.75 (so t rounds once) and both tails fit in eleven terms, where
  K = 1 took twelve; K = 3 fits in nine but a - 3 rounds below a = 1.5 (3.55 ULP measured in gelu).
- the derivative's tail, same a and t:  Phi(-a) * exp(a^2 / 2) (= N(a) / a), so that the derivative is
  exp(-a^2 / 2) * (a / sqrt(2 pi) - that) without a division.

Both polynomials are printed in the monomial basis for Horner's rule (the ranges of s and t are small enough
that the basis change costs nothing at float32 accuracy). Run: python scripts/fit_gelu_f32.py
"""

import mpmath as mp
import numpy as np

mp.mp.dps = 40
CENTRAL = 0.75
TAIL_MAX = 15.0
K = 1.5
CENTRAL_DEGREE = 4
TAIL_DEGREE = 10
NODES = 600
LAWSON_STEPS = 40


def cheb_nodes(lo: float, hi: float) -> np.ndarray:
    u = np.cos(np.pi * (np.arange(NODES) + 0.5) / NODES)
    return 0.5 * (hi + lo) + 0.5 * (hi - lo) * u


def central(x: mp.mpf) -> mp.mpf:
    return (mp.ncdf(x) - mp.mpf(1) / 2) / x


def central_derivative(x: mp.mpf) -> mp.mpf:
    return (mp.ncdf(x) - mp.mpf(1) / 2) / x + mp.npdf(x)


def tail(a: mp.mpf) -> mp.mpf:
    return a * mp.ncdf(-a) * mp.exp(a * a / 2)


def mills(a: mp.mpf) -> mp.mpf:
    return mp.ncdf(-a) * mp.exp(a * a / 2)


def fit(var: np.ndarray, values: np.ndarray, degree: int) -> np.ndarray:
    """Near-minimax relative fit: least squares reweighted by Lawson's rule (weights grow where errors peak)."""
    weights = np.ones_like(values)
    for _ in range(LAWSON_STEPS):
        coef = np.polynomial.polynomial.polyfit(var, values, degree, w=np.sqrt(weights) / np.abs(values))
        err = np.abs(np.polynomial.polynomial.polyval(var, coef) / values - 1)
        weights *= err / err.max()
        weights /= weights.sum()
    return coef


def report(name: str, coef: np.ndarray, var: np.ndarray, exact: np.ndarray) -> None:
    rel = np.abs(np.polynomial.polynomial.polyval(var, coef) / exact - 1)
    print(f"// {name}: degree {len(coef) - 1}, max relative error {rel.max():.2e} (float64 evaluation)")
    print(",\n".join(f"    {float(v)!r}" for v in coef) + ",")


def main() -> None:
    x = cheb_nodes(1e-6, CENTRAL)
    c_central = fit(x * x, np.array([float(central(mp.mpf(v))) for v in x]), CENTRAL_DEGREE)
    c_central_d = fit(x * x, np.array([float(central_derivative(mp.mpf(v))) for v in x]), CENTRAL_DEGREE)
    t = cheb_nodes((CENTRAL - K) / (CENTRAL + K), (TAIL_MAX - K) / (TAIL_MAX + K))
    a = K * (1 + t) / (1 - t)
    c_tail = fit(t, np.array([float(tail(mp.mpf(v))) for v in a]), TAIL_DEGREE)
    c_mills = fit(t, np.array([float(mills(mp.mpf(v))) for v in a]), TAIL_DEGREE)

    xs = np.linspace(1e-6, CENTRAL, 3001)
    report("central", c_central, xs * xs, np.array([float(central(mp.mpf(v))) for v in xs]))
    report("central derivative", c_central_d, xs * xs,
           np.array([float(central_derivative(mp.mpf(v))) for v in xs]))
    aa = np.linspace(CENTRAL, TAIL_MAX, 3001)
    report("tail", c_tail, (aa - K) / (aa + K), np.array([float(tail(mp.mpf(v))) for v in aa]))
    report("mills", c_mills, (aa - K) / (aa + K), np.array([float(mills(mp.mpf(v))) for v in aa]))


if __name__ == "__main__":
    main()
