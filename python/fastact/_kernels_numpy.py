"""Pure-NumPy kernels: the fallback when the native module is absent, and the test oracle for it.

Every kernel ``K`` comes as three functions::

    K(x, *params)                    -> f(x)
    K_grad(x, *params)               -> f'(x)   (the plain derivative; the caller multiplies by grad_out)
    K_grad_from_output(y, *params)   -> f'(x) written from y = f(x)   (only where f' is a function of y)

``x``/``y`` is a float32 or float64 ndarray of any shape (0-d included); the result is a new array of the
same shape and dtype. Parameters are positional Python floats, in the order of the catalogue.

All arithmetic is done in float64 and float32 results are rounded once at the end. The float64 paths are
written to be accurate to a few ULP over the whole range, because they serve as the reference the native
kernels are tested against:

* exponentials of arguments that are themselves rounded products (``beta*x``, ``x*x/2``, the gelu-tanh
  polynomial) are evaluated from a double-double argument, ``exp(hi + lo) = exp(hi) + exp(hi)*lo``;
* results of the form ``x * exp(-|v|)`` whose exponential factor is subnormal while the product is not
  (silu, mish, gelu tails) are computed from ``2**64 * exp(-|v|)`` and scaled back with one rounding;
* the cancellations of ``x - tanh(x)`` near 0 and of ``x/3 + 1/2`` near -1.5 are avoided by reformulation.

The special values follow the conventions documented in the catalogue (PyTorch's CPU kernels for the
branch tests, mathematical limits at +-inf). No kernel emits a floating-point RuntimeWarning.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable

import numpy as np

__all__ = ["KERNELS", "NPARAMS"]

# ---------------------------------------------------------------------------------------------------------
# Constants (hi + lo pairs are double-double representations of the exact value)
# ---------------------------------------------------------------------------------------------------------

_SPLITTER = 134217729.0  # 2**27 + 1, Dekker's splitting constant
_INV_SQRT2_HI, _INV_SQRT2_LO = 0.7071067811865476, -4.833646656726457e-17  # 1/sqrt(2)
_SQRT_2_OVER_PI_HI, _SQRT_2_OVER_PI_LO = 0.7978845608028654, -4.98465440455546e-17  # sqrt(2/pi)
_GELU_A_HI, _GELU_A_LO = 0.044715, 2.1960211427085595e-18  # the decimal 0.044715
_GELU_3A = 0.134145  # 3 * 0.044715
_LN2_64_HI, _LN2_64_LO = 44.3614195558365, 1.4841899608616317e-15  # 64*ln(2)
_INV_SQRT_2PI = 0.3989422804014327  # 1/sqrt(2*pi)
_TWO_OVER_SQRT_PI = 1.1283791670955126  # 2/sqrt(pi)
_INV_SQRT_PI = 0.5641895835477563  # 1/sqrt(pi)
_SCALE = 64  # exponent of the 2**64 scaling used for subnormal-range exponentials
_QUICK_HI, _QUICK_LO = 1.702, 4.263256414560601e-17  # the decimal 1.702 (quick GELU)

SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SA = 1.7580993408473768  # SELU_SCALE * SELU_ALPHA, rounded once from the exact product
_SELU_SA_LO = 1.41535193800845e-17  # the exact product minus _SELU_SA

_erfc = np.frompyfunc(math.erfc, 1, 1)


# ---------------------------------------------------------------------------------------------------------
# Plumbing
# ---------------------------------------------------------------------------------------------------------


def _kernel(fn: Callable) -> Callable:
    """Wrap a float64 implementation: dtype check, float64 upcast, parameters rounded to the input dtype,
    errstate, rounding of the result to the input dtype. A kernel that needs that precision itself (logit
    rounds 1 - eps in it, as PyTorch does) takes it as a ``dtype`` keyword. ``precision`` overrides it: the
    tests evaluate float32 cases on float64 input as the float64 oracle, with float32 parameters."""
    extra = {"dtype"} & set(inspect.signature(fn).parameters)

    @functools.wraps(fn)
    def kernel(x, *params, precision=None):
        x = np.asarray(x)
        dtype = x.dtype
        if dtype != np.float64 and dtype != np.float32:
            raise TypeError(f"{fn.__name__}: expected a float32 or float64 array, got dtype {dtype}")
        precision = dtype if precision is None else np.dtype(precision)
        with np.errstate(all="ignore"):
            xd = x.astype(np.float64)  # always a copy: nothing returned can alias the input
            # Parameters in the input's precision, as the native kernels (and PyTorch) use them.
            params = tuple(float(np.asarray(p, dtype=precision)) for p in params)
            out = np.asarray(fn(xd, *params, **{k: precision for k in extra}), dtype=np.float64)
            if out.shape != x.shape:  # a kernel returned a broadcast constant
                out = np.broadcast_to(out, x.shape).copy()
            return out.astype(dtype, copy=False)

    return kernel


def _finite_or_zero(e):
    return np.where(np.isfinite(e), e, 0.0)


def _split(a):
    t = _SPLITTER * a
    hi = t - (t - a)
    return hi, a - hi


def _two_prod(a, b):
    """(p, e) with p = fl(a*b) and p + e = a*b exactly (e = 0 where the split overflows or p is not finite)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, _finite_or_zero(e)


def _two_sum(a, b):
    """(s, e) with s = fl(a+b) and s + e = a+b exactly (e = 0 where s is not finite)."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, _finite_or_zero(e)


def _fast_two_sum(a, b):
    """(s, e) with s + e = a + b for |a| >= |b| (a non-finite b is dropped)."""
    b = _finite_or_zero(b)
    s = a + b
    return s, _finite_or_zero(b - (s - a))


def _div_dd(hi, lo, d: float):
    """(hi + lo) / d, nearly correctly rounded (d a non-zero float)."""
    q = hi / d
    p, pe = _two_prod(q, d)
    r = ((hi - p) - pe) + _finite_or_zero(lo)
    # keep q where it is not finite, and where r == 0 (so that the sign of a zero quotient survives)
    return np.where(np.isfinite(q) & (r != 0), q + r / d, q)


def _exp_neg_abs(v, v_lo=None):
    """z = exp(-|v + v_lo|) and zs = 2**64 * z, both accurate to about 1 ULP.

    ``zs`` keeps full precision where z itself is subnormal; ``v_lo`` is the low part of a double-double
    argument (None for an exact argument).
    """
    a = -np.abs(v)
    a_lo = 0.0 if v_lo is None else -np.sign(v) * _finite_or_zero(v_lo)
    t, t_lo = _two_sum(a, _LN2_64_HI)
    t_lo = t_lo + (a_lo + _LN2_64_LO)
    e = np.exp(t)
    zs = e + e * t_lo
    zs = np.where(np.isnan(v), v, zs)
    return np.ldexp(zs, -_SCALE), zs


def _unscale(v):
    return np.ldexp(v, -_SCALE)


def _scaled_mul(c: float, zs):
    """c * zs * 2**-64 with one final rounding (zs <= 2**64)."""
    if abs(c) < 2.0**900:
        return _unscale(c * zs)
    return c * _unscale(zs)


def _mul_limit(x, c: float):
    """c*x, with the limit value (a signed zero) where c == 0 and x is infinite instead of NaN."""
    r = c * x
    if c == 0.0:
        r = np.where(np.isinf(x), c * np.sign(x), r)
    return r


# ---------------------------------------------------------------------------------------------------------
# identity, binary_step
# ---------------------------------------------------------------------------------------------------------


@_kernel
def identity(x, slope):
    return _mul_limit(x, slope)


@_kernel
def identity_grad(x, slope):
    return np.full_like(x, slope, dtype=np.float64)


@_kernel
def identity_grad_from_output(y, slope):
    return np.full_like(y, slope, dtype=np.float64)


@_kernel
def binary_step(x, threshold):
    return np.where(x >= threshold, 1.0, np.where(np.isnan(x), x, 0.0))


@_kernel
def binary_step_grad(x, threshold):
    return np.where(np.isnan(x), x, 0.0)


# ---------------------------------------------------------------------------------------------------------
# sigmoid, tanh, log_sigmoid
# ---------------------------------------------------------------------------------------------------------


@_kernel
def sigmoid(x):
    z, zs = _exp_neg_abs(x)
    return np.where(x >= 0, 1.0 / (1.0 + z), _unscale(zs / (1.0 + z)))


@_kernel
def sigmoid_grad(x):
    z, zs = _exp_neg_abs(x)
    return _unscale(zs / ((1.0 + z) * (1.0 + z)))


@_kernel
def sigmoid_grad_from_output(y):
    return y * (1.0 - y)


@_kernel
def tanh(x):
    return np.tanh(x)


@_kernel
def tanh_grad(x):
    z, zs = _exp_neg_abs(2.0 * x)
    return _unscale(4.0 * zs / ((1.0 + z) * (1.0 + z)))


@_kernel
def tanh_grad_from_output(y):
    return (1.0 - y) * (1.0 + y)


@_kernel
def log_sigmoid(x):
    return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))


@_kernel
def log_sigmoid_grad(x):
    z, zs = _exp_neg_abs(x)
    return np.where(x >= 0, _unscale(zs / (1.0 + z)), 1.0 / (1.0 + z))


# ---------------------------------------------------------------------------------------------------------
# relu family and other piecewise-linear kernels
# ---------------------------------------------------------------------------------------------------------


@_kernel
def relu(x):
    return np.where(x < 0, 0.0, x)


@_kernel
def relu_grad(x):
    return np.where(x <= 0, 0.0, 1.0)


@_kernel
def relu_grad_from_output(y):
    return np.where(y <= 0, 0.0, 1.0)


@_kernel
def leaky_relu(x, negative_slope):
    return np.where(x > 0, x, _mul_limit(x, negative_slope))


@_kernel
def leaky_relu_grad(x, negative_slope):
    return np.where(x > 0, 1.0, negative_slope)


@_kernel
def leaky_relu_grad_from_output(y, negative_slope):
    return np.where(y > 0, 1.0, negative_slope)


def _clamp(x, lo, hi):
    # torch.clamp semantics: min(max(x, lo), hi) with NaN propagated and -0.0 kept when inside.
    t = np.where(x < lo, lo, x)
    return np.where(t > hi, hi, t)


@_kernel
def relu6(x):
    return _clamp(x, 0.0, 6.0)


@_kernel
def relu6_grad(x):
    return np.where((x <= 0.0) | (x >= 6.0), 0.0, 1.0)


@_kernel
def relu6_grad_from_output(y):
    return np.where((y <= 0.0) | (y >= 6.0), 0.0, 1.0)


@_kernel
def hard_tanh(x, min_val, max_val):
    return _clamp(x, min_val, max_val)


@_kernel
def hard_tanh_grad(x, min_val, max_val):
    return np.where((x <= min_val) | (x >= max_val), 0.0, 1.0)


@_kernel
def hard_tanh_grad_from_output(y, min_val, max_val):
    return np.where((y <= min_val) | (y >= max_val), 0.0, 1.0)


_SIXTHS = (1.0 / 6.0, float(np.float32(1.0 / 6.0)))


def _is_pytorch_hard_sigmoid(alpha, beta) -> bool:
    """(alpha, beta) = (1/6, 1/2), 1/6 rounded to float64 or float32: the exact relu6(x + 3)/6."""
    return alpha in _SIXTHS and beta == 0.5


def _affine(alpha, x, beta):
    """alpha*x + beta nearly correctly rounded (as the native kernels' fma); beta at x = ±inf where alpha = 0."""
    p, pe = _two_prod(alpha, x)
    s, se = _two_sum(p, beta)
    return np.where((alpha == 0) & np.isinf(x), beta, s + (se + pe))


@_kernel
def hard_sigmoid(x, alpha, beta):
    if not _is_pytorch_hard_sigmoid(alpha, beta):
        return _clamp(_affine(alpha, x, beta), 0.0, 1.0)
    s, se = _two_sum(x, 3.0)
    inner = _div_dd(s, se, 6.0)  # (x + 3) / 6 with one rounding
    return np.where(x < -3.0, 0.0, np.where(x > 3.0, 1.0, inner))


@_kernel
def hard_sigmoid_grad(x, alpha, beta):
    if not _is_pytorch_hard_sigmoid(alpha, beta):
        t = _affine(alpha, x, beta)
        return np.where((t > 0.0) & (t < 1.0), alpha, 0.0)
    return np.where((x > -3.0) & (x < 3.0), 1.0 / 6.0, 0.0)


@_kernel
def hard_swish(x):
    # x * (x + 3) / 6 on [-3, 3], evaluated in double-double and rounded once.
    s, se = _two_sum(x, 3.0)
    p, pe = _two_prod(x, s)
    p, pe = _fast_two_sum(p, pe + x * se)
    inner = _div_dd(p, pe, 6.0)
    r = np.where(x <= -3.0, -0.0, np.where(x > 3.0, x, inner))
    return np.where(x == 0, x, r)  # keep the sign of a zero input, as x * relu6(x + 3) / 6 does


@_kernel
def hard_swish_grad(x):
    s, se = _two_sum(x, 1.5)
    inner = _div_dd(s, se, 3.0)  # x/3 + 1/2 written as (x + 1.5)/3: no cancellation near x = -1.5
    # PyTorch's kinks: 0 at x = -3, 1 at x = 3 (and NaN -> 1, its result too).
    return np.where(x <= -3.0, 0.0, np.where(x < 3.0, inner, 1.0))


@_kernel
def softshrink(x, lambd):
    return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, x * 0.0))


@_kernel
def softshrink_grad(x, lambd):
    return np.where((x >= -lambd) & (x <= lambd), 0.0, 1.0)


@_kernel
def hardshrink(x, lambd):
    return np.where((x >= -lambd) & (x <= lambd), 0.0, x)


@_kernel
def hardshrink_grad(x, lambd):
    return np.where((x >= -lambd) & (x <= lambd), 0.0, 1.0)


@_kernel
def threshold(x, threshold, value):
    return np.where(x <= threshold, value, x)


@_kernel
def threshold_grad(x, threshold, value):
    return np.where(x <= threshold, 0.0, 1.0)


# ---------------------------------------------------------------------------------------------------------
# softplus, elu, celu, selu
# ---------------------------------------------------------------------------------------------------------

_TINY_Z = 2.0**-60  # below this, log1p(z) == z to working precision


@_kernel
def softplus(x, beta, threshold):
    b, b_lo = _two_prod(x, beta)  # beta*x exactly, as b + b_lo
    z, zs = _exp_neg_abs(b, b_lo)  # exp(-|beta*x|)
    tail = np.log1p(z) / beta
    # beta*x <= 0: log1p(exp(beta*x))/beta; where exp underflows, z/beta straight from the scaled exponential
    small = _unscale(zs / beta) if abs(beta) >= 2.0**-900 else z / beta
    neg = np.where(z < _TINY_Z, small, tail)
    # beta*x > 0: x + log1p(exp(-beta*x))/beta (x itself is the exact value of (beta*x)/beta)
    r = np.where(b > 0, x + tail, neg)
    return np.where(b > threshold, x, r)


@_kernel
def softplus_grad(x, beta, threshold):
    b, b_lo = _two_prod(x, beta)
    z, zs = _exp_neg_abs(b, b_lo)
    s = np.where(b >= 0, 1.0 / (1.0 + z), _unscale(zs / (1.0 + z)))
    return np.where(b > threshold, 1.0, s)


@_kernel
def softplus_grad_from_output(y, beta, threshold):
    # -expm1(-(b + b_lo)) = -expm1(-b) + exp(-b) * b_lo, with beta*y = b + b_lo exactly: a rounded beta*y
    # would cost |beta*y| ULP where exp(-beta*y) is large.
    b, b_lo = _two_prod(y, beta)
    em1 = np.expm1(-b)
    corrected = np.where(np.isfinite(em1), (em1 + 1.0) * b_lo - em1, -em1)
    return np.where(b > threshold, 1.0, corrected)


@_kernel
def elu(x, alpha):
    return np.where(x > 0, x, alpha * np.expm1(x))


@_kernel
def elu_grad(x, alpha):
    _, zs = _exp_neg_abs(np.minimum(x, 0.0))
    return np.where(x <= 0, _scaled_mul(alpha, zs), 1.0)


@_kernel
def elu_grad_from_output(y, alpha):
    return np.where(y <= 0, y + alpha, 1.0)


def _div_with_residual(x, alpha):
    """(q, r) with q = fl(x/alpha) and q + r = x/alpha to about twice the working precision."""
    q = x / alpha
    p, pe = _two_prod(q, alpha)
    r = ((x - p) - pe) / alpha
    return q, _finite_or_zero(r)


@_kernel
def celu(x, alpha):
    # For alpha < 0, q = x/alpha > 0 and expm1 amplifies the rounding of q by q: use q + r exactly.
    q, r = _div_with_residual(x, alpha)
    m = np.expm1(q)
    m = np.where(np.isfinite(m) & (r != 0), m + (m + 1.0) * r, m)
    return np.where(x > 0, x, alpha * m)


@_kernel
def celu_grad(x, alpha):
    q, r = _div_with_residual(x, alpha)
    e = np.exp(q)
    e = np.where(np.isfinite(e), e + e * r, e)
    return np.where(x <= 0, e, 1.0)


@_kernel
def celu_grad_from_output(y, alpha):
    return np.where(y <= 0, (y + alpha) / alpha, 1.0)


@_kernel
def selu(x):
    return np.where(x > 0, SELU_SCALE * x, _SELU_SA * np.expm1(x))


@_kernel
def selu_grad(x):
    _, zs = _exp_neg_abs(np.minimum(x, 0.0))
    return np.where(x <= 0, _scaled_mul(_SELU_SA, zs), SELU_SCALE)


@_kernel
def selu_grad_from_output(y):
    # y + scale*alpha cancels as y -> -scale*alpha: add the constant as hi + lo (y + hi is exact there).
    return np.where(y <= 0, (y + _SELU_SA) + _SELU_SA_LO, SELU_SCALE)


# ---------------------------------------------------------------------------------------------------------
# gelu (exact and tanh approximation)
# ---------------------------------------------------------------------------------------------------------

_ERFCX_ASYMPTOTIC_FROM = 20.0  # erfcx(t) by its asymptotic series for t >= this (error < 1e-20)


def _erfcx_asymptotic(t):
    """erfcx(t) = exp(t^2) erfc(t) for large t: (1/(t sqrt(pi))) * sum (-1)^k (2k-1)!! / (2t^2)^k."""
    w = 1.0 / (2.0 * t * t)
    s = np.ones_like(t)
    for k in range(12, 0, -1):
        s = 1.0 - (2 * k - 1) * w * s
    return s * _INV_SQRT_PI / t


def _gelu_parts(x):
    """(erfc_s, e_s): 2**64 * erfc(-x/sqrt(2)) and 2**64 * exp(-x^2/2), both accurate to about 1 ULP."""
    # -x/sqrt(2) as a double-double t + t_lo
    p, pe = _two_prod(x, _INV_SQRT2_HI)
    t, t_lo = _fast_two_sum(-p, -(pe + x * _INV_SQRT2_LO))
    # exp(-x^2/2) from x*x in double-double, scaled by 2**64
    sq, sq_lo = _two_prod(x, x)
    _, e_s = _exp_neg_abs(0.5 * sq, 0.5 * sq_lo)
    # erfc(t + t_lo) = erfc(t) - t_lo * 2/sqrt(pi) * exp(-t^2)
    ec = np.asarray(_erfc(t), dtype=np.float64)
    near = np.ldexp(ec, _SCALE) - t_lo * _TWO_OVER_SQRT_PI * e_s
    big = t >= _ERFCX_ASYMPTOTIC_FROM
    far = e_s * _erfcx_asymptotic(np.where(big, t, _ERFCX_ASYMPTOTIC_FROM))
    return np.where(big, far, near), e_s


@_kernel
def gelu(x):
    erfc_s, _ = _gelu_parts(x)
    neg = _unscale(0.5 * (x * erfc_s))  # x < 1: keep full precision for subnormal/tail results
    pos = 0.5 * (x * _unscale(erfc_s))
    r = np.where(x < 1.0, neg, pos)
    return np.where(x == -np.inf, -0.0, r)


@_kernel
def gelu_grad(x):
    erfc_s, e_s = _gelu_parts(x)
    g = _unscale(0.5 * erfc_s + x * (e_s * _INV_SQRT_2PI))
    return np.where(np.isinf(x), np.where(x > 0, 1.0, 0.0), g)


def _gelu_tanh_arg(x):
    """u = sqrt(2/pi) * (x + 0.044715 x^3) as a double-double (u, u_lo)."""
    s, s_lo = _two_prod(x, x)
    c, c_lo = _two_prod(x, s)  # x^3
    c_lo = c_lo + x * s_lo
    q, q_lo = _two_prod(c, _GELU_A_HI)  # a x^3
    q_lo = q_lo + (c * _GELU_A_LO + c_lo * _GELU_A_HI)
    w, w_lo = _two_sum(x, q)
    w, w_lo = _fast_two_sum(w, w_lo + q_lo)
    u, u_lo = _two_prod(w, _SQRT_2_OVER_PI_HI)
    u_lo = u_lo + (w * _SQRT_2_OVER_PI_LO + w_lo * _SQRT_2_OVER_PI_HI)
    return u, _finite_or_zero(u_lo)


@_kernel
def gelu_tanh(x):
    # 0.5*x*(1 + tanh(u)) = x * sigmoid(2u)
    u, u_lo = _gelu_tanh_arg(x)
    z, zs = _exp_neg_abs(2.0 * u, 2.0 * u_lo)
    pos = x / (1.0 + z)
    neg = _unscale(x * zs / (1.0 + z))
    r = np.where(x >= 0, pos, neg)
    return np.where(x == -np.inf, -0.0, r)


@_kernel
def gelu_tanh_grad(x):
    # f' = s + x * s(1-s) * 2u',  s = sigmoid(2u),  u' = sqrt(2/pi) * (1 + 3*0.044715*x^2)
    u, u_lo = _gelu_tanh_arg(x)
    z, zs = _exp_neg_abs(2.0 * u, 2.0 * u_lo)
    du2 = 2.0 * _SQRT_2_OVER_PI_HI * (1.0 + _GELU_3A * (x * x))
    xd = x * du2
    one_z = 1.0 + z
    pos = 1.0 / one_z + np.where(z == 0, 0.0, xd * z / (one_z * one_z))
    neg = np.where(zs == 0, 0.0, _unscale(zs / one_z * (1.0 + xd / one_z)))
    return np.where(x >= 0, pos, neg)


# ---------------------------------------------------------------------------------------------------------
# sine, silu, mish, softsign, tanhshrink
# ---------------------------------------------------------------------------------------------------------


def _scaled_arg(x, w0):
    if w0 == 0.0:
        return np.where(np.isnan(x), x, 0.0), np.zeros_like(x)
    return _two_prod(x, w0)


@_kernel
def sine(x, w0):
    p, e = _scaled_arg(x, w0)  # w0*x = p + e
    sp = np.sin(p)
    return np.where(e == 0, sp, sp + e * np.cos(p))


@_kernel
def sine_grad(x, w0):
    p, e = _scaled_arg(x, w0)
    cp = np.cos(p)
    return w0 * np.where(e == 0, cp, cp - e * np.sin(p))


@_kernel
def silu(x):
    z, zs = _exp_neg_abs(x)
    pos = x / (1.0 + z)
    neg = _unscale(x * zs / (1.0 + z))
    r = np.where(x >= 0, pos, neg)
    return np.where(x == -np.inf, -0.0, r)


@_kernel
def silu_grad(x):
    # sigmoid(x) * (1 + x * (1 - sigmoid(x)))
    z, zs = _exp_neg_abs(x)
    one_z = 1.0 + z
    pos = (1.0 + x * (z / one_z)) / one_z
    neg = _unscale(zs / one_z * (1.0 + x / one_z))
    r = np.where(x >= 0, pos, neg)
    return np.where(np.isinf(x), np.where(x > 0, 1.0, 0.0), r)


@_kernel
def swish(x, beta):
    # x / (1 + e) for z = beta*x >= 0, x e / (1 + e) below, e = exp(-|z|) with z as a double-double
    z, z_lo = _two_prod(beta, x)
    e, es = _exp_neg_abs(z, z_lo)
    pos = x / (1.0 + e)
    neg = np.where(np.abs(x) < 2.0**900, _unscale(x * es / (1.0 + e)), x * (e / (1.0 + e)))
    r = np.where(z >= 0, pos, neg)
    # x = ±inf: x where beta*x >= 0 (beta = 0 included), a zero of x's sign where it is < 0
    limit = np.where((beta == 0) | (np.sign(beta) * x > 0), x, np.copysign(0.0, x))
    return np.where(np.isinf(x), limit, r)


@_kernel
def swish_grad(x, beta):
    # silu'(z) at z = beta*x (see silu_grad), with the low part of z in the terms where z appears
    z, z_lo = _two_prod(beta, x)
    e, es = _exp_neg_abs(z, z_lo)
    one_e = 1.0 + e
    pos = (one_e + (z * e + z_lo * e)) / (one_e * one_e)
    neg = _unscale(es * ((1.0 + z) + z_lo + e) / (one_e * one_e))
    r = np.where(z >= 0, pos, neg)
    r = np.where(np.isinf(z), np.where(z > 0, 1.0, 0.0), r)  # beta * x overflowed: saturated
    limit = np.where(beta == 0, 0.5, np.where(np.sign(beta) * x > 0, 1.0, 0.0))
    return np.where(np.isinf(x), limit, r)


@_kernel
def mish(x):
    # tanh(softplus(x)) = n / (n + 2) with n = e^x (e^x + 2); for x >= 0, with t = e^-x:
    # (1 + 2t) / (1 + 2t + 2t^2). No overflow anywhere.
    t = np.exp(-np.abs(x))
    tsp_pos = (1.0 + 2.0 * t) / (1.0 + 2.0 * t * (1.0 + t))
    _, es = _exp_neg_abs(x)  # 2**64 * e^x for x < 0
    n_plus_2 = 2.0 + t * (t + 2.0)
    neg = _unscale(x * (es * (t + 2.0)) / n_plus_2)
    r = np.where(x >= 0, x * tsp_pos, neg)
    return np.where(x == -np.inf, -0.0, r)


@_kernel
def mish_grad(x):
    # f' = tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2)
    #    = tsp + 4 x t^2 (1 + t) / D^2,        D = 1 + 2t + 2t^2, t = e^-x   (x >= 0)
    #    = e * ((e + 2) + 4 x (1 + e) / (n + 2)) / (n + 2),  n = e (e + 2)  (x < 0)
    t = np.exp(-np.abs(x))
    d = 1.0 + 2.0 * t * (1.0 + t)
    pos = (1.0 + 2.0 * t) / d + np.where(t == 0, 0.0, x * (4.0 * t * t * (1.0 + t)) / (d * d))
    _, es = _exp_neg_abs(x)
    n_plus_2 = 2.0 + t * (t + 2.0)
    neg = np.where(es == 0, 0.0, _unscale(es * ((t + 2.0) + 4.0 * x * (1.0 + t) / n_plus_2) / n_plus_2))
    r = np.where(x >= 0, pos, neg)
    return np.where(np.isinf(x), np.where(x > 0, 1.0, 0.0), r)


@_kernel
def softsign(x):
    return np.where(np.isinf(x), np.sign(x), x / (1.0 + np.abs(x)))


@_kernel
def softsign_grad(x):
    # 1/d**2 with d = 1 + |x| and d**2 taken exactly, then one correction step (otherwise ~3 ULP).
    d, d_lo = _two_sum(1.0, np.abs(x))
    sq, sq_lo = _two_prod(d, d)
    sq_lo = sq_lo + 2.0 * d * d_lo
    q = 1.0 / sq
    q = np.where(np.isfinite(sq), q - q * q * _finite_or_zero(sq_lo), q)  # 1/inf = 0, NaN stays NaN
    # Where d² overflows (|x| > 1.3e154) the result is still representable (subnormal below ~1e-308):
    # (1/d)², whose relative error no longer matters once it is that small.
    q = np.where(np.isinf(sq) & np.isfinite(d), np.square(1.0 / d), q)
    return np.where(np.isinf(x), 0.0, q)


_TANHSHRINK_CF_BELOW = 1.0
_TANHSHRINK_CF_DEPTH = 14


@_kernel
def tanhshrink(x):
    a = np.abs(x)
    # |x| < 1: tanh(a) = a / (1 + q), q = a^2/(3 + a^2/(5 + a^2/(7 + ...))) (Lambert's continued fraction),
    # so a - tanh(a) = a q / (1 + q); every term is positive, so nothing cancels.
    aa = np.minimum(a, _TANHSHRINK_CF_BELOW) ** 2
    q = np.zeros_like(a)
    for k in range(_TANHSHRINK_CF_DEPTH, 0, -1):
        q = aa / ((2 * k + 1) + q)
    small = a * q / (1.0 + q)
    # |x| >= 1: a - tanh(a) = (a - 1) + 2t/(1 + t), t = exp(-2a); both terms are non-negative.
    t = np.exp(-2.0 * a)
    large = (a - 1.0) + 2.0 * t / (1.0 + t)
    return np.copysign(np.where(a < _TANHSHRINK_CF_BELOW, small, large), x)


@_kernel
def tanhshrink_grad(x):
    th = np.tanh(x)
    return th * th


# ---------------------------------------------------------------------------------------------------------
# relu2, squareplus, sparse_plus, sparse_sigmoid, shrink, gelu_sigmoid
# ---------------------------------------------------------------------------------------------------------


@_kernel
def relu2(x):
    return np.where(x <= 0, 0.0, x * x)


@_kernel
def relu2_grad(x):
    return np.where(x <= 0, 0.0, 2.0 * x)


@_kernel
def relu2_grad_from_output(y):
    return np.where(y <= 0, 0.0, 2.0 * np.sqrt(y))


def _squareplus_root(x, b: float):
    """(s, s_lo, k): sqrt(x^2 + b) = (s + s_lo) * 2**k to about 2**-100 relative, with |x| and sqrt(b) scaled
    by 2**-k to at most 1 (nothing overflows; b * 2**-2k only underflows where it is negligible)."""
    a = np.abs(x)
    m = np.maximum(a, math.sqrt(b))
    _, k = np.frexp(np.where(np.isfinite(m) & (m > 0), m, 1.0))
    a_s = np.ldexp(a, -k)
    b_s = np.ldexp(np.full_like(a, b), -2 * k)
    p, pe = _two_prod(a_s, a_s)
    t, te = _two_sum(p, b_s)
    te = te + pe
    s = np.sqrt(t)
    q, qe = _two_prod(s, s)
    s_lo = np.where(s > 0, (((t - q) - qe) + te) / (2.0 * s), 0.0)
    return a_s, s, s_lo, k


def _squareplus_dd(x, b: float):
    """squareplus(x) as hi + lo, finite x: (s + |x|)/2 for x >= 0, (b/4) / ((s + |x|)/2) below."""
    a_s, s, s_lo, k = _squareplus_root(x, b)
    u, ue = _fast_two_sum(s, a_s)
    ue = ue + s_lo
    pos = np.ldexp(u + ue, k - 1)
    h, h_lo = np.ldexp(u, k - 1), np.ldexp(ue, k - 1)
    q = b / 4.0
    y0 = q / h
    p, pe = _two_prod(y0, h)
    y_lo = _finite_or_zero((((q - p) - pe) - y0 * h_lo) / h)
    neg = x < 0
    return np.where(neg, y0 + y_lo, pos), np.where(neg, y_lo - ((y0 + y_lo) - y0), 0.0)


@_kernel
def squareplus(x, b):
    y, _ = _squareplus_dd(x, b)
    return np.where(x == np.inf, x, np.where(x == -np.inf, 0.0, y))


@_kernel
def squareplus_grad(x, b):
    # squareplus(x) / sqrt(x^2 + b): 1/2 + |x|/(2s) for x >= 0, y/s below (no cancellation as x -> -inf)
    a_s, s, s_lo, k = _squareplus_root(x, b)
    ratio = a_s / s
    p, pe = _two_prod(ratio, s)
    ratio_lo = (((a_s - p) - pe) - ratio * s_lo) / s
    pos = 0.5 + (0.5 * ratio + 0.5 * ratio_lo)
    y, y_lo = _squareplus_dd(x, b)
    st, st_lo = np.ldexp(s, k), np.ldexp(s_lo, k)
    g0 = y / st
    p, pe = _two_prod(g0, st)
    neg = g0 + (((y - p) - pe) + (y_lo - g0 * st_lo)) / st
    r = np.where(s == 0, 0.0, np.where(x < 0, neg, pos))
    return np.where(x == np.inf, 1.0, np.where(x == -np.inf, 0.0, r))


@_kernel
def squareplus_grad_from_output(y, b):
    # y / sqrt(x^2 + b) with sqrt(x^2 + b) = y + (b/4)/y
    z = (b / 4.0) / y
    r = np.where(np.isinf(z), 0.0, y / (y + z))
    return np.where(y == 0, 0.0, np.where(np.isinf(y), 1.0, r))


@_kernel
def sparse_plus(x):
    s, se = _two_sum(x, 1.0)  # x + 1 exactly
    p, pe = _two_prod(s, s)
    mid = (p + (pe + (2.0 * s * se + se * se))) / 4.0
    return np.where(x <= -1.0, 0.0, np.where(x >= 1.0, x, mid))


@_kernel
def sparse_plus_grad(x):
    return np.clip(x + 1.0, 0.0, 2.0) / 2.0


@_kernel
def sparse_plus_grad_from_output(y):
    return np.sqrt(np.clip(y, 0.0, 1.0))


@_kernel
def sparse_sigmoid(x):
    return np.clip(x + 1.0, 0.0, 2.0) / 2.0


@_kernel
def sparse_sigmoid_grad(x):
    return np.where((x > -1.0) & (x < 1.0), 0.5, 0.0)


@_kernel
def sparse_sigmoid_grad_from_output(y):
    return np.where((y > 0.0) & (y < 1.0), 0.5, 0.0)


@_kernel
def shrink(x, lambd, bias):
    inside = np.where(np.isnan(x), x, 0.0)
    return np.where(x < -lambd, x + bias, np.where(x > lambd, x - bias, inside))


@_kernel
def shrink_grad(x, lambd, bias):
    return np.where((x >= -lambd) & (x <= lambd), 0.0, 1.0)


def _quick_arg(x):
    """z = 1.702 x (the decimal constant) as a double-double (z, z_lo)."""
    z, z_lo = _two_prod(x, _QUICK_HI)
    return z, _finite_or_zero(z_lo + x * _QUICK_LO)


def _quotient_dd(n, n_lo, d, d_lo):
    """(n + n_lo) / (d + d_lo), finite non-zero d: the quotient corrected once."""
    q = n / d
    p, pe = _two_prod(q, d)
    r = ((((n - p) - pe) + n_lo) - q * d_lo) / d
    return np.where(r == 0, q, q + r)  # q + 0 would turn -0.0 into +0.0


@_kernel
def gelu_sigmoid(x):
    # x / (1 + e) for x >= 0 and x e / (1 + e) below, e = exp(-|z|), in double-double
    z, z_lo = _quick_arg(x)
    e, es = _exp_neg_abs(z, z_lo)
    d, d_lo = _fast_two_sum(1.0, e)
    n, n_lo = _two_prod(x, es)
    pos = _quotient_dd(x, 0.0, d, d_lo)
    neg = _unscale(_quotient_dd(n, n_lo, d, d_lo))
    r = np.where(x >= 0, pos, neg)
    return np.where(x == -np.inf, -0.0, np.where(x == np.inf, x, r))


@_kernel
def gelu_sigmoid_grad(x):
    # silu'(z) at z = 1.702 x: ((1 + e) + z e) / (1 + e)^2 for x >= 0 and e ((1 + z) + e) / (1 + e)^2 below,
    # e = exp(-|z|); numerators and denominator in double-double (1 + z cancels against e near the zero).
    # Beyond |x| = 1000 the derivative is exactly 0 or 1 in float64 (e = exp(-1702) = 0): clipping keeps
    # 1.702 x from overflowing (NaN passes np.clip).
    x = np.clip(x, -1000.0, 1000.0)
    z, z_lo = _quick_arg(x)
    e, es = _exp_neg_abs(z, z_lo)
    d, d_lo = _fast_two_sum(1.0, e)
    sq, sq_lo = _two_prod(d, d)
    sq_lo = sq_lo + 2.0 * d * d_lo
    ze, ze_lo = _two_prod(z, e)
    pn, pn_lo = _fast_two_sum(d, ze)
    pn_lo = pn_lo + (d_lo + (ze_lo + z_lo * e))
    a, a_lo = _two_sum(1.0, z)
    t, t_lo = _two_sum(a, e)
    t_lo = t_lo + (a_lo + z_lo)
    nn, nn_lo = _two_prod(es, t)
    nn_lo = nn_lo + es * t_lo
    pos = _quotient_dd(pn, pn_lo, sq, sq_lo)
    neg = _unscale(_quotient_dd(nn, nn_lo, sq, sq_lo))
    return np.where(x >= 0, pos, neg)


# ---------------------------------------------------------------------------------------------------------
# erf, erfc, ndtr, log_ndtr, logit
# ---------------------------------------------------------------------------------------------------------

_erf = np.frompyfunc(math.erf, 1, 1)


def _two_over_sqrt_pi_exp_neg_square(x):
    """(2/sqrt(pi)) exp(-x^2) with x^2 as a double-double, rounded once where it is subnormal."""
    sq, sq_lo = _two_prod(x, x)
    _, es = _exp_neg_abs(sq, sq_lo)
    return _unscale(es * _TWO_OVER_SQRT_PI)


@_kernel
def erf(x):
    return np.asarray(_erf(x), dtype=np.float64)


@_kernel
def erf_grad(x):
    return _two_over_sqrt_pi_exp_neg_square(x)


@_kernel
def erfc(x):
    return np.asarray(_erfc(x), dtype=np.float64)


@_kernel
def erfc_grad(x):
    return -_two_over_sqrt_pi_exp_neg_square(x)


@_kernel
def ndtr(x):
    erfc_s, _ = _gelu_parts(x)  # 2**64 erfc(-x/sqrt 2) = 2**65 Phi(x)
    return _unscale(0.5 * erfc_s)


@_kernel
def ndtr_grad(x):
    _, e_s = _gelu_parts(x)
    return _unscale(e_s * _INV_SQRT_2PI)


def _erfcx_of_minus_x_over_sqrt2(x):
    """erfcx(-x/sqrt 2) for x <= -1 (t = -x/sqrt 2 >= 0.707): erfc/exp both scaled by 2**64 near, the
    asymptotic series far (where exp(-x^2/2) underflows)."""
    erfc_s, e_s = _gelu_parts(x)
    t = -x * _INV_SQRT2_HI
    big = t >= _ERFCX_ASYMPTOTIC_FROM
    far = _erfcx_asymptotic(np.where(big, t, _ERFCX_ASYMPTOTIC_FROM))
    return np.where(big, far, erfc_s / np.where(big, 1.0, e_s))


@_kernel
def log_ndtr(x):
    # x < -1: -x^2/2 (double-double) + log(erfcx(-x/sqrt 2)/2); else log1p(-Phi(-x)), Phi(-x) <= 0.85
    left_x = np.minimum(x, -1.0)
    sq, sq_lo = _two_prod(left_x, left_x)
    left = -0.5 * sq + (np.log(0.5 * _erfcx_of_minus_x_over_sqrt2(left_x)) - 0.5 * sq_lo)
    erfc_s, _ = _gelu_parts(-np.maximum(x, -1.0))
    right = np.log1p(-_unscale(0.5 * erfc_s))
    return np.where(x < -1.0, left, right)


@_kernel
def log_ndtr_grad(x):
    # phi(x)/Phi(x): sqrt(2/pi)/erfcx(-x/sqrt 2) left of -1 (the exponentials cancel), the quotient right
    left = _SQRT_2_OVER_PI_HI / _erfcx_of_minus_x_over_sqrt2(np.minimum(x, -1.0))
    erfc_s, e_s = _gelu_parts(np.maximum(x, -1.0))
    right = (e_s * _INV_SQRT_2PI) / (0.5 * erfc_s)
    return np.where(x < -1.0, left, np.where(x == np.inf, 0.0, right))


def _logit_bounds(eps, dtype):
    """[eps, 1 - eps] with 1 - eps rounded in the input's precision (PyTorch's clamp), or None for eps < 0."""
    return None if eps < 0 else (eps, float(dtype.type(1.0) - dtype.type(eps)))


@_kernel
def logit(x, eps, *, dtype):
    bounds = _logit_bounds(eps, dtype)
    xc = x if bounds is None else _clamp(x, *bounds)
    # from 1/4 up, 2x - 1 is exact and log1p keeps the zero at 1/2 accurate
    d = 1.0 - xc
    return np.where(xc >= 0.25, np.log1p((2.0 * xc - 1.0) / d), np.log(xc / d))


@_kernel
def logit_grad(x, eps, *, dtype):
    bounds = _logit_bounds(eps, dtype)
    # 1/(x(1 - x)) from 1 - x = d + d_lo and x(1 - x) = p + p_lo exactly, with one correction of 1/p
    d = 1.0 - x
    d_lo = (1.0 - d) - x
    p, p_lo = _two_prod(x, d)
    p_lo = p_lo + x * d_lo
    r = 1.0 / p
    pr, pr_lo = _two_prod(p, r)
    corrected = r + r * (((1.0 - pr) - pr_lo) - p_lo * r)
    value = np.where(np.isfinite(r) & (r != 0), corrected, r)
    if bounds is None:
        return np.where((x < 0.0) | (x > 1.0), np.nan, value)
    return np.where((x < bounds[0]) | (x > bounds[1]), 0.0, value)


# ---------------------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------------------

NPARAMS: dict[str, int] = {
    "identity": 1,
    "binary_step": 1,
    "sigmoid": 0,
    "tanh": 0,
    "relu": 0,
    "leaky_relu": 1,
    "softplus": 2,
    "elu": 1,
    "celu": 1,
    "selu": 0,
    "gelu": 0,
    "gelu_tanh": 0,
    "relu6": 0,
    "log_sigmoid": 0,
    "hard_sigmoid": 2,
    "sine": 1,
    "silu": 0,
    "mish": 0,
    "hard_swish": 0,
    "hard_tanh": 2,
    "softsign": 0,
    "tanhshrink": 0,
    "softshrink": 1,
    "hardshrink": 1,
    "threshold": 2,
    "relu2": 0,
    "squareplus": 1,
    "sparse_plus": 0,
    "sparse_sigmoid": 0,
    "shrink": 2,
    "gelu_sigmoid": 0,
    "swish": 1,
    "logit": 1,
    "erf": 0,
    "erfc": 0,
    "ndtr": 0,
    "log_ndtr": 0,
}


def _table() -> dict[str, tuple[Callable, Callable, Callable | None]]:
    g = globals()
    return {name: (g[name], g[name + "_grad"], g.get(name + "_grad_from_output")) for name in NPARAMS}


#: kernel name -> (forward, derivative, derivative from the output or None)
KERNELS: dict[str, tuple[Callable, Callable, Callable | None]] = _table()
