"""rrelu: evaluation is leaky_relu with the mean slope; training draws reproducible per-element slopes."""

from __future__ import annotations

import fastact
import numpy as np
import pytest

LOWER, UPPER = 0.125, 1.0 / 3.0
DTYPES = (np.float32, np.float64)


def _x(dtype, n: int = 1001) -> np.ndarray:
    x = np.linspace(-4.0, 4.0, n).astype(dtype)
    x[:4] = [np.nan, -np.inf, np.inf, -0.0]
    return x


@pytest.mark.parametrize("dtype", DTYPES)
def test_evaluation_is_leaky_relu_with_the_mean_slope(dtype) -> None:
    x = _x(dtype)
    slope = (LOWER + UPPER) / 2
    np.testing.assert_array_equal(fastact.rrelu(x), fastact.leaky_relu(x, negative_slope=slope))
    g = np.linspace(-1, 1, x.size).astype(dtype)
    np.testing.assert_array_equal(fastact.rrelu_grad(x, g), fastact.leaky_relu_grad(x, g, negative_slope=slope))
    y, slopes = fastact.rrelu(x, 0.2, 0.4, return_slopes=True)
    assert y.dtype == slopes.dtype == dtype
    np.testing.assert_array_equal(slopes, np.where(x > 0, 1.0, (0.2 + 0.4) / 2).astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_training_slopes_are_reproducible_and_in_range(dtype) -> None:
    x = _x(dtype, 20_001)
    y, slopes = fastact.rrelu(x, LOWER, UPPER, training=True, seed=7, return_slopes=True)
    assert y.dtype == slopes.dtype == dtype and y.shape == x.shape
    np.testing.assert_array_equal(fastact.rrelu(x, training=True, seed=7), y)  # same seed, same slopes
    assert not np.array_equal(fastact.rrelu(x, training=True, seed=8), y)
    negative = x <= 0
    assert (slopes[~negative] == 1).all()  # x > 0 and NaN
    drawn = slopes[negative]
    assert (drawn >= dtype(LOWER)).all() and (drawn <= dtype(UPPER)).all()
    # U(1/8, 1/3): mean 0.229, sd 0.060; 10^4 draws put the sample mean within 0.002 (3.3 sd of the mean)
    assert abs(drawn.astype(np.float64).mean() - (LOWER + UPPER) / 2) < 0.002
    assert len(np.unique(drawn)) > 0.99 * drawn.size  # one draw per element
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(y, x * slopes)  # one rounding, as torch's input * r
    assert np.signbit(y[3]) and np.isnan(y[0]) and y[1] == -np.inf and y[2] == np.inf


@pytest.mark.parametrize("dtype", DTYPES)
def test_training_gradient_from_the_seed_or_the_slopes(dtype) -> None:
    x = _x(dtype)
    g = np.linspace(0.5, 1.5, x.size).astype(dtype)
    _, slopes = fastact.rrelu(x, training=True, seed=11, return_slopes=True)
    by_seed = fastact.rrelu_grad(x, g, training=True, seed=11)
    by_slopes = fastact.rrelu_grad(x, g, training=True, slopes=slopes)
    np.testing.assert_array_equal(by_seed, g * slopes)
    np.testing.assert_array_equal(by_slopes, g * slopes)
    np.testing.assert_array_equal(fastact.rrelu_grad(x, training=True, slopes=slopes), slopes)
    out = np.empty_like(x)
    assert fastact.rrelu_grad(x, g, training=True, seed=11, out=out) is out
    np.testing.assert_array_equal(out, by_seed)


def test_training_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(5)
    x = rng.uniform(-5, 5, 500)
    x = x[np.abs(x) > 1e-3]
    h = 1e-6
    f = lambda v: fastact.rrelu(v, training=True, seed=3)  # noqa: E731 - the same slopes at every call
    fd = (f(x + h) - f(x - h)) / (2 * h)
    np.testing.assert_allclose(fastact.rrelu_grad(x, training=True, seed=3), fd, rtol=1e-8, atol=1e-12)


def test_bad_calls_say_what_to_do() -> None:
    x = _x(np.float64, 16)
    with pytest.raises(ValueError, match="slopes= .* or the same integer seed"):
        fastact.rrelu_grad(x, training=True)
    with pytest.raises(ValueError, match="Generator"):
        fastact.rrelu_grad(x, training=True, seed=np.random.default_rng(1))
    with pytest.raises(ValueError, match="lower must not exceed upper"):
        fastact.rrelu(x, 0.5, 0.25)
    with pytest.raises(ValueError, match="upper must be a finite number"):
        fastact.rrelu(x, 0.1, np.inf)
    with pytest.raises(ValueError, match="only used with training=True"):
        fastact.rrelu(x, seed=3)
    with pytest.raises(ValueError, match="only used with training=True"):
        fastact.rrelu_grad(x, x, slopes=x)
    with pytest.raises(TypeError, match="training must be True or False"):
        fastact.rrelu(x, training="yes")
    with pytest.raises(ValueError, match="slopes has shape"):
        fastact.rrelu_grad(x, x, training=True, slopes=np.ones(3))
    with pytest.raises(TypeError):
        fastact.rrelu(np.array(["a"]), training=True, seed=1)


def test_training_refuses_dask() -> None:
    da = pytest.importorskip("dask.array")
    x = da.from_array(np.linspace(-1, 1, 8), chunks=4)
    with pytest.raises(TypeError, match="dask"):
        fastact.rrelu(x, training=True, seed=1)
    np.testing.assert_array_equal(fastact.rrelu(x).compute(), fastact.rrelu(np.linspace(-1, 1, 8)))


def test_registry_entry() -> None:
    e = fastact.get("rrelu")
    assert e.forward is fastact.rrelu and e.grad is fastact.rrelu_grad and e.grad_from_output is None
    assert dict(e.params) == {"lower": 0.125, "upper": 1 / 3, "training": False, "seed": None}
    assert "U(lower, upper)" in e.formula and "rrelu" in fastact.names()
    np.testing.assert_array_equal(fastact.reference.rrelu(_x(np.float32)), fastact.rrelu(_x(np.float32)))
