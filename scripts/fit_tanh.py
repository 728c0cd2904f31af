"""Coefficients of fastact's tanh near 0 and of tanhshrink: S(w) = (x - tanh x)/x³ with w = x², on |x| <= 1.

The float32 tanh uses S only below |x| = NEAR_F32, as a monomial polynomial of degree NEAR_F32_DEGREE (Horner's
rule in float32), fitted by least squares reweighted by Lawson's rule (near-minimax in relative error); the
float32 tanh² (tanhshrink's derivative) uses a longer fit below |x| = SQUARED_F32, where 1 - q·(2 - q) would
cancel. The float32 tanhshrink takes S = 1/3 + w·T(w) on all of [0, 1], T monomial of degree T_F32_DEGREE fitted
the same way.

S is analytic in w except at w = -π²/4, so its Chebyshev series on w in [0, 1] converges like 11.8^-n. The
series is Chebyshev interpolation at NODES points computed in mpmath (60 digits); f64 uses all terms (the
error of the first F32_TERMS is printed for comparison). tanh(x) = x - x³·S(x²) then has no cancellation,
and tanhshrink(x) = x³·S(x²) none either. Run: python scripts/fit_tanh.py
"""

import mpmath as mp
import numpy as np

mp.mp.dps = 60
DEGREE = 16
F32_TERMS = 9
NODES = 100
NEAR_F32 = 0.6
NEAR_F32_DEGREE = 4
SQUARED_F32 = 0.75
SQUARED_F32_DEGREE = 6
T_F32_DEGREE = 7


def s_of_w(w):
    if w == 0:
        return mp.mpf(1) / 3
    x = mp.sqrt(w)
    return (x - mp.tanh(x)) / x**3


def t_of_w(w):
    """(S(w) - 1/3)/w: the f32 kernels add it to 1/3 (hi + lo), so Clenshaw's rounding barely shows in S."""
    if w == 0:
        return -mp.mpf(2) / 15
    return (s_of_w(w) - mp.mpf(1) / 3) / w


def chebyshev(func, label: str, terms_shown: tuple[int, ...]) -> None:
    theta = [mp.pi * (j + mp.mpf(1) / 2) / NODES for j in range(NODES)]
    w = [(mp.cos(th) + 1) / 2 for th in theta]  # [0, 1]
    f = [func(wi) for wi in w]
    coef = [2 * mp.fsum(f[j] * mp.cos(k * theta[j]) for j in range(NODES)) / NODES for k in range(DEGREE + 1)]
    coef[0] /= 2
    c = [float(v) for v in coef]
    ww = np.linspace(0, 1, 2001)
    exact = np.array([float(func(mp.mpf(v))) for v in ww])
    print(f"// {label}")
    for terms in terms_shown:
        approx = np.polynomial.chebyshev.chebval(2 * ww - 1, c[:terms])
        print(f"// {terms} terms: max relative error {np.max(np.abs(approx - exact) / np.abs(exact)):.2e}")
    print(",\n".join(repr(v) for v in c[: max(terms_shown)]))


def monomial_fit(func, hi: float, degree: int, label: str) -> None:
    """Prints a monomial fit (Horner's rule in float32, c0 first) of func on w in [0, hi]: least squares at 400
    Chebyshev nodes, reweighted by Lawson's rule towards the minimax relative error, checked on 2001 points."""
    n = 400
    w = hi * (1 + np.cos(np.pi * (np.arange(n) + 0.5) / n)) / 2
    values = np.array([float(func(mp.mpf(v))) for v in w])
    weights = np.ones_like(values)
    for _ in range(40):
        coef = np.polynomial.polynomial.polyfit(w, values, degree, w=np.sqrt(weights) / np.abs(values))
        err = np.abs(np.polynomial.polynomial.polyval(w, coef) / values - 1)
        weights *= err / err.max()
        weights /= weights.sum()
    ww = np.linspace(0, hi, 2001)
    exact = np.array([float(func(mp.mpf(v))) for v in ww])
    rel = np.abs(np.polynomial.polynomial.polyval(ww, coef) / exact - 1).max()
    print(f"// {label} (f32, monomial, c0 first): max relative error {rel:.2e}")
    print(",\n".join(repr(float(v)) for v in coef))


def main() -> None:
    chebyshev(s_of_w, "S(w), TANH_CHEB (f64: all terms)", (DEGREE + 1, F32_TERMS))
    monomial_fit(t_of_w, 1.0, T_F32_DEGREE, "T(w) = (S(w) - 1/3)/w on [0, 1], TANH_T_F32")
    monomial_fit(s_of_w, NEAR_F32**2, NEAR_F32_DEGREE, f"S(w) for |x| < {NEAR_F32}, TANH_NEAR_F32")
    monomial_fit(s_of_w, SQUARED_F32**2, SQUARED_F32_DEGREE, f"S(w) for |x| < {SQUARED_F32}, TANH_S_F32")


if __name__ == "__main__":
    main()
