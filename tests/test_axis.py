"""Along-an-axis functions: softmax, log_softmax, softmin, logsumexp, glu, maxout and prelu.

Accuracy against mpmath (50 digits), PyTorch's conventions for rows with NaN/inf, any axis and layout,
out= and in-place, errors, gradients against finite differences, thread-count independence, and agreement
between the native kernels and the NumPy reference. Runs on both backends.
"""

from __future__ import annotations

import math
from typing import Any

import fastact
import mpmath as mp
import numpy as np
import pytest
from conftest import (
    IS_NATIVE,
    PUBLISHED_SLACK,
    SIMD_LEVELS,
    assert_bitwise_equal,
    native_only,
    published_measured,
    ulp_error,
)
from fastact import _axis

ROW_OPS = ("softmax", "log_softmax", "softmin", "logsumexp")
#: Bounds on the ULP error against mpmath; the measured maxima are in docs/accuracy.md (and enforced too).
ULP_BOUND = {
    np.float32: {"softmax": 3, "log_softmax": 2, "softmin": 3, "logsumexp": 1},
    np.float64: {"softmax": 4, "log_softmax": 2, "softmin": 4, "logsumexp": 2},
}
INF, NAN = np.inf, np.nan


def mp_rows(x: np.ndarray, op: str) -> np.ndarray:
    """The exact function of each row of a 2-D array, rounded to float64."""
    mp.mp.dps = 50
    out = []
    for row in x:
        r = [mp.mpf(float(v)) for v in row]
        if op == "softmin":
            r = [-v for v in r]
        m = max(r)
        first = r.index(m)
        # log of the sum as log1p(rest), the max term's 1 taken out: 50 digits would drop a rest < 1e-50.
        log_sum = mp.log1p(mp.fsum(mp.exp(v - m) for i, v in enumerate(r) if i != first))
        if op == "logsumexp":
            out.append([float(m + log_sum)])
        elif op == "log_softmax":
            out.append([float((v - m) - log_sum) for v in r])
        else:
            out.append([float(mp.exp((v - m) - log_sum)) for v in r])
    value = np.array(out)
    return value[:, 0] if op == "logsumexp" else value


def axis_rows(dtype: Any) -> list[np.ndarray]:
    """The accuracy samples: 4 rows of 97 normal logits at each scale 1, 30, 300 and 1e4."""
    rng = np.random.default_rng(7)
    return [(rng.standard_normal((4, 97)) * scale).astype(dtype) for scale in (1.0, 30.0, 300.0, 1e4)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ROW_OPS)
def test_rows_against_mpmath(op: str, dtype: type) -> None:
    worst = 0.0
    for x in axis_rows(dtype):
        got = getattr(fastact, op)(x)
        err = ulp_error(got, mp_rows(x, op), dtype)
        assert np.nanmax(err) <= ULP_BOUND[dtype][op], f"{op} {dtype.__name__}: {np.nanmax(err)} ULP"
        worst = max(worst, float(np.nanmax(err)))
    if IS_NATIVE:  # no worse than the published table (docs/accuracy.md)
        limit = float(published_measured()["axis"][f"{op}/{np.dtype(dtype).name}"]["ulp"])
        assert worst <= limit + PUBLISHED_SLACK, f"{op} {np.dtype(dtype)}: {worst:.4f} ULP > published {limit}"


def test_logsumexp_keeps_a_dominated_term() -> None:
    """log1p of the sum without the max term: the small term is not lost (issue: 4.25e-18, not 0)."""
    got = fastact.logsumexp(np.array([0.0, -40.0]))
    assert got == pytest.approx(float(mp.log1p(mp.exp(-40))), rel=1e-15)
    # In float32, too, and with the max repeated (each max term counts 1).
    assert fastact.logsumexp(np.array([0.0, -40.0], np.float32)) == pytest.approx(4.248354e-18, rel=1e-6)
    want = 3 + float(mp.log(2 + mp.exp(-43)))
    assert fastact.logsumexp(np.array([3.0, 3.0, -40.0])) == pytest.approx(want, rel=1e-15)
    y = fastact.log_softmax(np.array([0.0, -100.0]))
    assert y[0] == pytest.approx(-float(mp.exp(-100)), rel=1e-14)


# PyTorch 2.x CPU, recorded from torch.softmax / log_softmax / nn.functional.softmin / logsumexp.
SPECIAL_ROWS = [
    ([INF, 1.0], [NAN, NAN], [NAN, NAN], [0.0, 1.0], INF),
    ([INF, INF], [NAN, NAN], [NAN, NAN], [NAN, NAN], INF),
    ([-INF, -INF], [NAN, NAN], [NAN, NAN], [NAN, NAN], -INF),
    ([-INF, 1.0], [0.0, 1.0], [-INF, 0.0], [NAN, NAN], 1.0),
    ([NAN, 1.0], [NAN, NAN], [NAN, NAN], [NAN, NAN], NAN),
    ([1e4, -1e4], [1.0, 0.0], [0.0, -2e4], [0.0, 1.0], 1e4),
    ([INF, -INF], [NAN, NAN], [NAN, NAN], [NAN, NAN], INF),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("row", "softmax", "log_softmax", "softmin", "lse"), SPECIAL_ROWS)
def test_special_rows_follow_pytorch(row, softmax, log_softmax, softmin, lse, dtype) -> None:
    x = np.array(row, dtype)
    for op, want in (("softmax", softmax), ("log_softmax", log_softmax), ("softmin", softmin)):
        np.testing.assert_array_equal(getattr(fastact, op)(x), np.array(want, dtype), err_msg=f"{op}({row})")
    np.testing.assert_array_equal(fastact.logsumexp(x), dtype(lse))


def test_special_rows_match_torch_when_installed() -> None:
    torch = pytest.importorskip("torch")
    x = np.array([r[0] for r in SPECIAL_ROWS], np.float32)
    t = torch.from_numpy(x)
    np.testing.assert_array_equal(fastact.softmax(x), torch.softmax(t, 1).numpy())
    np.testing.assert_array_equal(fastact.log_softmax(x), torch.log_softmax(t, 1).numpy())
    np.testing.assert_array_equal(fastact.softmin(x), torch.nn.functional.softmin(t, 1).numpy())
    np.testing.assert_array_equal(fastact.logsumexp(x), torch.logsumexp(t, 1).numpy())


def test_empty_axis() -> None:
    x = np.zeros((3, 0))
    assert fastact.softmax(x).shape == (3, 0)
    np.testing.assert_array_equal(fastact.logsumexp(x), [-INF] * 3)
    assert fastact.softmax(np.zeros((0, 5))).shape == (0, 5)


@pytest.mark.parametrize("op", ROW_OPS)
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_any_axis_and_layout(op: str, axis: int) -> None:
    rng = np.random.default_rng(3)
    base = rng.standard_normal((5, 6, 7)) * 5
    for x in (base, np.asfortranarray(base), base.transpose(2, 0, 1)[:, :, ::-1], base[:, ::2, 1:]):
        got = getattr(fastact, op)(x, axis=axis)
        moved = np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
        want = mp_rows(moved[:6], op)  # a few rows against mpmath, all against the reference
        # Rows in the same order: the other axes keep their order in both.
        rows = got.reshape(-1) if op == "logsumexp" else np.moveaxis(got, axis, -1).reshape(moved.shape)
        assert np.max(ulp_error(rows[:6], want, np.float64)) <= ULP_BOUND[np.float64][op]
        ref = getattr(fastact.reference, op)(x, axis=axis)
        np.testing.assert_allclose(got, ref, rtol=1e-14, atol=1e-300)


def test_keepdims_and_out() -> None:
    x = np.random.default_rng(0).standard_normal((4, 5, 6)).astype(np.float32)
    kept = fastact.logsumexp(x, axis=1, keepdims=True)
    assert kept.shape == (4, 1, 6)
    np.testing.assert_array_equal(kept[:, 0, :], fastact.logsumexp(x, axis=1))
    out = np.empty((4, 1, 6), np.float32)
    assert fastact.logsumexp(x, axis=1, keepdims=True, out=out) is out
    np.testing.assert_array_equal(out, kept)
    y = np.empty_like(x)
    assert fastact.softmax(x, axis=0, out=y) is y
    np.testing.assert_array_equal(y, fastact.softmax(x, axis=0))
    # In place, on a strided view too.
    z = x.copy()
    fastact.log_softmax(z, axis=2, out=z)
    np.testing.assert_array_equal(z, fastact.log_softmax(x, axis=2))
    w = x.copy()
    view = w[:, ::2, :]
    fastact.softmax(view, axis=1, out=view)
    np.testing.assert_array_equal(w[:, ::2, :], fastact.softmax(x[:, ::2, :], axis=1))
    np.testing.assert_array_equal(w[:, 1::2, :], x[:, 1::2, :])


@native_only
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(300, 37), (700, 1100), (2000, 300)])
def test_strided_lanes_give_the_contiguous_bits(shape: tuple[int, int], dtype: Any) -> None:
    # Over axis 0 the lanes are strided and adjacent: small panels and panels of rows of 4 KB or more are read
    # where they lie, the others copied (rust/core/src/rows.rs, `run_panel`); reversed and sliced views, and
    # an output that is grad_out's own memory (copied panels), give the bits of the contiguous lanes.
    rng = np.random.default_rng(11)
    x = (rng.standard_normal(shape) * 6).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    for xv, gv in ((x, g), (x[::-1], g[::-1]), (x[:, 1:], g[:, 1:])):
        xt, gt = np.ascontiguousarray(xv.T), np.ascontiguousarray(gv.T)
        for op in ROW_OPS:
            want = getattr(fastact, op)(xt, axis=1)
            assert_bitwise_equal(getattr(fastact, op)(xv, axis=0), want if op == "logsumexp" else want.T, op)
            if op == "logsumexp":
                continue
            grad = getattr(fastact, f"{op}_grad")
            want = grad(xt, gt, axis=1).T
            assert_bitwise_equal(grad(xv, gv, axis=0), want, f"{op}_grad")
            into_g = gv.copy(order="K")
            assert_bitwise_equal(grad(xv, into_g, axis=0, out=into_g), want, f"{op}_grad, out=grad_out")


@native_only
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_long_contiguous_lanes_in_place_and_sliced_give_the_same_bits(dtype: Any) -> None:
    # Contiguous lanes longer than the short-lane panels (over 31 elements) run back to back where they lie
    # (rust/core/src/rows.rs, `run_direct`); a lane whose input is the output's memory is copied first
    # (`run_lane`), and lanes of a sliced array lie at its row stride. All give the plain call's bits.
    rng = np.random.default_rng(12)
    big = (rng.standard_normal((37, 64)) * 6).astype(dtype)
    x = np.ascontiguousarray(big[:, :50])
    g = rng.standard_normal(x.shape).astype(dtype)
    for op in ROW_OPS:
        fn, grad = getattr(fastact, op), getattr(fastact, f"{op}_grad")
        want = fn(x, axis=1)
        assert_bitwise_equal(fn(big[:, :50], axis=1), want, f"{op}, sliced")
        gl = g[:, 0].copy() if op == "logsumexp" else g
        want_grad = grad(x, gl, axis=1)
        assert_bitwise_equal(grad(big[:, :50], gl, axis=1), want_grad, f"{op}_grad, sliced")
        xi = x.copy()
        assert_bitwise_equal(grad(xi, gl, axis=1, out=xi), want_grad, f"{op}_grad, out=x")
        if op == "logsumexp":
            continue
        xi = x.copy()
        assert fn(xi, axis=1, out=xi) is xi
        assert_bitwise_equal(xi, want, f"{op}, in place")
        gi = g.copy()
        assert_bitwise_equal(grad(x, gi, axis=1, out=gi), want_grad, f"{op}_grad, out=grad_out")
        # A reversed output view (its lanes step backwards): written where it lies, nothing around it.
        pad = np.full((x.shape[0] + 2, x.shape[1]), 7.0, dtype)
        rev = pad[1:-1, ::-1]
        assert_bitwise_equal(fn(x, axis=1, out=rev), want, f"{op}, reversed out")
        assert_bitwise_equal(grad(x, g, axis=1, out=rev), grad(x, g, axis=1), f"{op}_grad, reversed out")
        assert (pad[0] == 7.0).all() and (pad[-1] == 7.0).all(), f"{op}: wrote outside the reversed out"


@native_only
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [33, 50, 200, 512, 513])
def test_grouped_lanes_give_each_lanes_own_bits(dtype: Any, n: int) -> None:
    # log_softmax and logsumexp take contiguous lanes of 33-512 elements eight at a time, their log1p
    # across the eight (rust/core/src/rows.rs, `counted_group`); a lone 1-D lane is computed by itself.
    # Rows of NaN, +inf and -inf inside a group, and a group cut short (37 rows), change no other lane.
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((37, n)) * 5).astype(dtype)
    x[3, 7] = np.nan
    x[9, 1] = np.inf
    x[10] = -np.inf
    x[17, ::3] = -np.inf
    x[20] = 2.5
    x[21, 0] = 400.0
    for op in ROW_OPS:
        fn = getattr(fastact, op)
        got = fn(x, axis=1)
        for i in range(x.shape[0]):
            assert_bitwise_equal(got[i], fn(x[i].copy(), axis=0), f"{op}, row {i}")


@native_only
def test_size_one_and_merged_axes_change_nothing() -> None:
    # Before the lanes are grouped, size-1 outer axes are dropped and outer axes every operand steps evenly
    # across are merged (rust/core/src/rows.rs, `simplify_outer`): the same bits, with grad_out and where=
    # too, and a view whose axes cannot merge.
    rng = np.random.default_rng(12)
    x = (rng.standard_normal((300, 8)) * 4).astype(np.float32)
    g = rng.standard_normal((300, 8)).astype(np.float32)
    keep = rng.random((300, 8)) < 0.8
    for shape in ((300, 1, 8), (1, 300, 1, 8), (100, 3, 8), (10, 1, 30, 8)):
        for op in ROW_OPS:
            want = getattr(fastact, op)(x, axis=-1)
            got = getattr(fastact, op)(x.reshape(shape), axis=-1)
            assert_bitwise_equal(got.reshape(want.shape), want, f"{op} {shape}")
            want = getattr(fastact, op)(x, axis=-1, where=keep)
            got = getattr(fastact, op)(x.reshape(shape), axis=-1, where=keep.reshape(shape))
            assert_bitwise_equal(got.reshape(want.shape), want, f"{op} {shape}, where=")
            if op != "logsumexp":
                want = getattr(fastact, f"{op}_grad")(x, g, axis=-1)
                got = getattr(fastact, f"{op}_grad")(x.reshape(shape), g.reshape(shape), axis=-1)
                assert_bitwise_equal(got.reshape(want.shape), want, f"{op}_grad {shape}")
    # Not mergeable: every other lane of a (300, 2, 8) array, and a reversed middle axis.
    wide = (rng.standard_normal((300, 2, 8)) * 4).astype(np.float32)
    for view in (wide[:, ::2], wide[:, ::-1]):
        for op in ROW_OPS:
            want = getattr(fastact, op)(np.ascontiguousarray(view), axis=-1)
            assert_bitwise_equal(getattr(fastact, op)(view, axis=-1), want, f"{op} view")


def test_partially_overlapping_out_gives_the_copied_answer() -> None:
    buf = np.random.default_rng(1).standard_normal(20)
    want = fastact.softmax(buf[:10].reshape(2, 5).copy())
    out = buf[5:15].reshape(2, 5)
    fastact.softmax(buf[:10].reshape(2, 5), out=out)
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("op", ROW_OPS)
def test_every_path_gives_the_same_answer_and_layout(op: str) -> None:
    # The common call goes straight to the native kernel (where= too, of x's shape); a broadcast where=,
    # dtype= and operands the kernel refuses (byte-swapped, unaligned, out= of another dtype) take the full
    # path: same bits (or the full path's error), and a fresh result keeps the input's memory order (NumPy's
    # "K") on both.
    fn = getattr(fastact, op)
    x = np.asfortranarray(np.random.default_rng(4).standard_normal((6, 7)).astype(np.float32) * 4)
    plain = fn(x, axis=0)
    masked = fn(x, axis=0, where=np.ones(x.shape, bool))
    broadcast = fn(x, axis=0, where=np.ones((1, x.shape[1]), bool))
    typed = fn(x, axis=0, dtype=np.float32)
    swapped = fn(x.astype(x.dtype.newbyteorder()), axis=0)
    raw = np.zeros(x.size * 4 + 1, np.uint8)[1:].view(np.float32).reshape(x.shape)  # misaligned
    raw[...] = x
    unaligned = fn(raw, axis=0)
    for got in (masked, broadcast, typed, swapped, unaligned):
        assert_bitwise_equal(got, plain, op)
    if op != "logsumexp" and IS_NATIVE:  # (the NumPy reference returns what its formulas give)
        assert plain.flags.f_contiguous and masked.flags.f_contiguous
    with pytest.raises(TypeError, match="out has dtype float64 but the result has dtype float32"):
        fn(x, axis=0, out=np.empty(plain.shape, np.float64))
    one_d = fn(x[:, 0])
    assert isinstance(one_d, np.ndarray) if op != "logsumexp" else isinstance(one_d, np.float32)


@pytest.mark.skipif(not IS_NATIVE, reason="the native entry")
def test_native_axis_entry_declines_what_the_full_path_must_handle() -> None:
    # axis_plain takes the public functions' common call straight from their arguments and returns None
    # (writing nothing) for anything else; the full path then converts it or raises its precise error.
    from fastact import _registry

    native = _registry.NATIVE
    softmax = _axis._OPS["softmax"]
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    for axis in (0, 1, -1, -2):
        assert_bitwise_equal(native.axis_plain(softmax, 0, x, None, None, axis),
                             fastact.softmax(x, axis=axis, dtype=np.float32), f"axis {axis}")
    out = np.full_like(x, 7.0)
    declined = [
        (x.tolist(), None, out, -1),  # not an ndarray
        (np.ma.masked_array(x), None, out, -1),  # a subclass
        (x, None, np.ma.masked_array(out), -1),
        (x, None, out, True),  # not exactly an int
        (x, None, out, np.int64(0)),
        (x, None, out, 1.0),
        (x, None, out, 2),  # out of range
        (x, None, out, -3),
        (x.astype(np.float16), None, out.astype(np.float16), -1),  # no float16 rows
        (x, None, out.astype(np.float64), -1),  # out= of another dtype
        (x, None, out[:, :2], -1),  # or shape
        (x, x, out, -1),  # a forward takes no grad_out
    ]
    for args in declined:
        assert native.axis_plain(softmax, 0, *args) is None, args
    assert (out == 7.0).all()
    assert native.axis_plain(softmax, 1, x, x[:2], out, -1) is None  # grad_out of another shape
    assert native.axis_plain(softmax, 0, x, None, out, -1, np.ones((1, 4), bool)) is None  # broadcast where=
    assert (out == 7.0).all()
    # What it declines, the full path handles as before.
    assert_bitwise_equal(fastact.softmax(x, axis=np.int64(0)), fastact.softmax(x, axis=0), "numpy int axis")
    with pytest.raises(TypeError, match="masked array"):  # (tests/test_interop.py: subclasses)
        fastact.softmax(np.ma.masked_array(x))
    # maxout's and prelu's entries likewise.
    g = np.ones((3, 2), np.float32)
    assert native.maxout_plain(0, 2, x, None, -1) is not None
    for args in [(2, x.tolist(), None, -1), (True, x, None, -1), (0, x, None, -1), (3, x, None, -1),
                 (2, x, None, 0), (2, x, None, np.int64(-1)), (2, np.asfortranarray(x), None, -1)]:
        assert native.maxout_plain(0, *args) is None, args
    assert native.maxout_plain(1, 2, x, g.tolist(), -1) is None
    w = np.full(4, 0.25, np.float32)
    assert native.prelu_plain(0, x, w, None, None, 1) is not None
    assert native.prelu_plain(1, x, w, x, None, 1) is not None
    for args in [(x, w.tolist(), None, None, 1), (x, w, None, None, 2), (x, w, None, None, True),
                 (x, w[:3], None, None, 1), (x, w, None, np.empty((3, 4), np.float64), 1)]:
        assert native.prelu_plain(0, *args) is None, args
    assert native.prelu_plain(1, x, w, x, np.empty_like(x), 1) is None  # prelu_grad takes no out=
    assert native.prelu_plain(1, x, w, x.tolist(), None, 1) is None
    # glu's and glu_grad's: the gate looked up in glu's table by its exact name.
    gates = _axis._GATE_KERNELS
    assert_bitwise_equal(native.glu_plain(gates, "sigmoid", x, -1), fastact.glu(x, dtype=np.float32), "glu")
    for args in [(x.tolist(), -1), (x, 0), (x, True), (x[:, :3], -1), (np.asfortranarray(x), -1),
                 (x.astype(np.float16), -1)]:
        assert native.glu_plain(gates, "sigmoid", *args) is None, args
    for gate in ("tanh", "Sigmoid", np.str_("sigmoid"), None):  # not a gate, or not exactly a str
        assert native.glu_plain(gates, gate, x, -1) is None, gate
    gh = np.ones((3, 2), np.float32)
    assert_bitwise_equal(native.glu_grad_plain(gates, "silu", x, gh, 1),
                         fastact.glu_grad(x, gh, gate="silu", dtype=np.float32), "glu_grad")
    for args in [(x, gh.tolist(), -1), (x, gh, 0), (x, gh, np.int64(-1)), (x, gh[:2], -1),
                 (x, gh.astype(np.float64), -1), (np.asfortranarray(x), gh, -1), (x[:, :3], gh[:, :1], -1)]:
        assert native.glu_grad_plain(gates, "silu", *args) is None, args
    assert native.glu_grad_plain(gates, "gelu_erf", x, gh, -1) is None
    # bias_act's and bias_act_grad's: the activation looked up by its exact name, at its defaults.
    calls, bias = _registry.DEFAULT_CALLS, np.linspace(-1, 1, 4, dtype=np.float32)
    assert_bitwise_equal(native.bias_act_plain(0, calls, "gelu", x, bias, -1),
                         fastact.bias_act(x, bias, "gelu", dtype=np.float32), "bias_act")
    for got, want in zip(native.bias_act_plain(1, calls, "swish", x, bias, 1, x),
                         fastact.bias_act_grad(x, x, bias, "swish", dtype=np.float32)):
        assert_bitwise_equal(got, want, "bias_act_grad")
    for args in [("GELU", x, bias, -1), ("threshold", x, bias, -1), (None, x, bias, -1),
                 ("gelu", x.tolist(), bias, -1), ("gelu", np.ma.masked_array(x), bias, -1),
                 ("gelu", x, bias.tolist(), -1), ("gelu", x, bias.astype(np.float64), -1),
                 ("gelu", x, bias[:3], -1), ("gelu", x, bias.reshape(2, 2), -1), ("gelu", x, bias, 0),
                 ("gelu", x, np.zeros(8, np.float32)[::2], -1), ("gelu", x, bias, 2), ("gelu", x, bias, True),
                 ("gelu", x.astype(np.float16), bias.astype(np.float16), -1)]:
        assert native.bias_act_plain(0, calls, *args) is None, args
    assert native.bias_act_plain(0, calls, "gelu", x, bias, -1, x) is None  # the forward takes no grad_out
    assert native.bias_act_plain(1, calls, "gelu", x, bias, -1) is None  # the gradient needs it
    assert native.bias_act_plain(1, calls, "gelu", np.asfortranarray(x), bias, -1, x) is None
    assert native.bias_act_plain(1, calls, "gelu", x, bias, -1, x[:2]) is None
    assert_bitwise_equal(fastact.glu(np.asfortranarray(x)), fastact.glu(x), "glu of a Fortran-ordered x")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gated_maxout_prelu_fast_paths_agree_with_the_full_path(dtype: type) -> None:
    # glu, maxout, prelu and their gradients send the common call (float ndarrays, last axis or an int
    # axis, no dtype= or out=) straight to their native kernels; dtype= forces the full path. Same bits,
    # and the full path's errors for what the kernels decline.
    rng = np.random.default_rng(9)
    x = (rng.standard_normal((5, 12)) * 3).astype(dtype)
    x.flat[:4] = [NAN, INF, -INF, -0.0]
    g = rng.standard_normal((5, 6)).astype(dtype)
    for gate in ("sigmoid", "silu", "gelu", "gelu_tanh", "relu"):
        assert_bitwise_equal(fastact.glu(x, gate=gate), fastact.glu(x, gate=gate, dtype=dtype), f"glu {gate}")
        assert_bitwise_equal(fastact.glu_grad(x, g, gate=gate), fastact.glu_grad(x, g, gate=gate, dtype=dtype),
                             f"glu_grad {gate}")
    for k in (1, 2, 3):
        gk = rng.standard_normal((5, 12 // k)).astype(dtype)
        assert_bitwise_equal(fastact.maxout(x, k), fastact.maxout(x, k, dtype=dtype), f"maxout {k}")
        assert_bitwise_equal(fastact.maxout_grad(x, gk, k), fastact.maxout_grad(x, gk, k, dtype=dtype), f"{k}")
    w = rng.uniform(-1, 1, 12).astype(dtype)
    gx = rng.standard_normal(x.shape).astype(dtype)
    for weight, axis in ((w[:5], 0), (w, 1), (w, -1), (w[:1], 1)):
        assert_bitwise_equal(fastact.prelu(x, weight, axis), fastact.prelu(x, weight, axis, dtype=dtype), "prelu")
        for got, want in zip(fastact.prelu_grad(x, gx, weight, axis),
                             fastact.prelu_grad(x, gx, weight, axis, dtype=dtype)):
            assert_bitwise_equal(got, want, "prelu_grad")
    with pytest.raises(ValueError, match="gate="):
        fastact.glu(x, gate="tanh")
    with pytest.raises(ValueError, match="gate="):
        fastact.glu_grad(x, g, gate="tanh")
    with pytest.raises(ValueError, match="odd size"):
        fastact.glu_grad(x[:, :11], g)
    with pytest.raises(ValueError, match="pieces=5"):
        fastact.maxout_grad(x, g, 5)
    with pytest.raises(ValueError, match="weight must hold"):
        fastact.prelu_grad(x, gx, w[:3], 1)


def test_errors() -> None:
    x = np.ones((3, 4))
    with pytest.raises(np.exceptions.AxisError):
        fastact.softmax(x, axis=2)
    with pytest.raises(np.exceptions.AxisError):
        fastact.logsumexp(np.float64(1.0))
    with pytest.raises(TypeError, match="axis must be an integer"):
        fastact.softmax(x, axis=1.5)
    with pytest.raises(ValueError, match="out has shape"):
        fastact.softmax(x, out=np.empty((4, 3)))
    with pytest.raises(TypeError, match="dtype"):
        fastact.softmax(x, out=np.empty((3, 4), np.float32))
    with pytest.raises(ValueError, match="read-only"):
        ro = np.empty((3, 4))
        ro.flags.writeable = False
        fastact.softmax(x, out=ro)
    with pytest.raises(ValueError, match="broadcast"):
        fastact.softmax_grad(x, np.ones(4))
    with pytest.raises(TypeError, match="grad_out"):
        fastact.softmax_grad(x, None)
    with pytest.raises(TypeError):
        fastact.softmax(np.ones(3, complex))
    with pytest.raises(ValueError, match="odd size"):
        fastact.glu(np.ones((2, 3)))
    with pytest.raises(ValueError, match="gate"):
        fastact.glu(np.ones(4), gate="tanh")
    with pytest.raises(ValueError, match="divide"):
        fastact.maxout(np.ones(6), 4)
    with pytest.raises(ValueError, match="weight"):
        fastact.prelu(np.ones((2, 3)), np.ones(2))


def test_integer_and_list_inputs() -> None:
    np.testing.assert_allclose(fastact.softmax([1, 2, 3]), fastact.softmax(np.array([1.0, 2.0, 3.0])))
    assert fastact.softmax(np.array([1, 2], np.int16)).dtype == np.float32
    assert fastact.softmax(np.array([1, 2], np.float16)).dtype == np.float16


# ---------------------------------------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------------------------------------


def numeric_vjp(f, x: np.ndarray, g: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Σ g · ∂f/∂x_i by central differences, element by element."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        grad[i] = np.sum(g * (f(xp) - f(xm))) / (2 * h)
    return grad


@pytest.mark.parametrize("op", ROW_OPS)
@pytest.mark.parametrize("axis", [0, -1])
def test_grads_against_finite_differences(op: str, axis: int) -> None:
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 4)) * 2
    f = getattr(fastact, op)
    g = rng.standard_normal(f(x, axis=axis).shape)
    got = getattr(fastact, f"{op}_grad")(x, g, axis=axis)
    np.testing.assert_allclose(got, numeric_vjp(lambda v: f(v, axis=axis), x, g), rtol=1e-6, atol=1e-8)
    if op != "logsumexp":
        y = f(x, axis=axis)
        from_y = getattr(fastact, f"{op}_grad_from_output")(y, g, axis=axis)
        np.testing.assert_allclose(from_y, got, rtol=1e-12, atol=1e-15)


def test_logsumexp_grad_with_keepdims() -> None:
    x = np.random.default_rng(2).standard_normal((3, 4))
    g = np.array([1.0, 2.0, 3.0])
    got = fastact.logsumexp_grad(x, g[:, None], axis=1, keepdims=True)
    np.testing.assert_allclose(got, fastact.softmax(x) * g[:, None], rtol=1e-15)
    np.testing.assert_array_equal(got, fastact.logsumexp_grad(x, g, axis=1))


@pytest.mark.parametrize("gate", ["sigmoid", "silu", "gelu", "gelu_tanh", "relu"])
def test_glu_forward_and_grad(gate: str) -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 8)) * 2
    a, b = x[:, :4], x[:, 4:]
    name, kwargs = fastact._axis.GATES[gate]
    np.testing.assert_allclose(fastact.glu(x, gate=gate), a * getattr(fastact, name)(b, **kwargs), rtol=1e-15)
    g = rng.standard_normal((3, 4))
    got = fastact.glu_grad(x, g, gate=gate)
    np.testing.assert_allclose(got, numeric_vjp(lambda v: fastact.glu(v, gate=gate), x, g), rtol=1e-6, atol=1e-8)
    # axis=0 splits the rows.
    y = rng.standard_normal((6, 3))
    np.testing.assert_allclose(fastact.glu(y, axis=0, gate=gate), fastact.glu(y.T, gate=gate).T, rtol=1e-15)


@pytest.mark.parametrize("gate", ["sigmoid", "silu", "gelu", "gelu_tanh", "relu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_glu_grad_one_pass_agrees_with_three(gate: str, dtype: type) -> None:
    # C-contiguous rows over the last axis take the one-pass native backward (a block at a time, threads
    # over blocks); grad_out in F order takes the three separate passes. Same bits, whatever the threads.
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((8, 2 * 5000)) * 6).astype(dtype)
    x[0, 3], x[1, 5100], x[2, 4000] = INF, NAN, -INF
    g = rng.standard_normal((8, 5000)).astype(dtype)
    g[3, 3] = INF
    three = fastact.glu_grad(x, np.asfortranarray(g), gate=gate)
    with fastact.num_threads(1):
        one = fastact.glu_grad(x, g, gate=gate)
    with fastact.num_threads(4):
        threaded = fastact.glu_grad(x, g, gate=gate)
    out = np.empty_like(x)
    assert fastact.glu_grad(x, g, gate=gate, out=out) is out
    in_place = x.copy()
    fastact.glu_grad(in_place, g, gate=gate, out=in_place)  # out=x: the halves are read before written
    for got in (one, threaded, out, in_place):
        assert_bitwise_equal(got, three, f"glu_grad {gate}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_weight_gradient_terms(dtype: type) -> None:
    # grad_weight = sum over all but the channel axis of g·x where x <= 0 or NaN, else 0 (torch's
    # _prelu_kernel_backward): the bit-masked float64 product must equal the np.where formula, inf/NaN g
    # beside x > 0 included.
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 4, 50)).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    x[0, 0, :3] = [NAN, -0.0, 0.0]
    x[1, 1, :2] = [2.0, 3.0]
    g[1, 1, :2] = [INF, NAN]
    x[2, 2, 0], g[2, 2, 0] = -1e30, 1e30
    w = np.full(4, 0.25, dtype)
    with np.errstate(over="ignore"):  # -1e60 is -inf in float32
        want = np.where(x > 0, 0.0, g.astype(np.float64) * x.astype(np.float64)).sum(axis=(0, 2)).astype(dtype)
    with np.errstate(over="ignore"):
        got = _axis._prelu_weight_sums(x, g, 1, w.size).astype(dtype)  # the NumPy path's terms, bit for bit
        assert_bitwise_equal(got, want, "prelu grad_weight (NumPy path)")
        terms = np.moveaxis(np.where(x > 0, 0.0, g.astype(np.float64) * x), 1, 0).reshape(4, -1)
        exact = np.array([math.fsum(t) for t in terms]).astype(dtype)
    native = fastact.prelu_grad(x, g, w)[1]  # the one-pass native sums: compensated, within an ULP of exact
    np.testing.assert_array_max_ulp(native, exact, maxulp=1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("shape", "axis", "channels"), [
    ((3, 5, 20000), 1, 5),  # runs longer than a piece (16384)
    ((40000,), 0, 1),  # one weight: the whole array is one run
    ((700, 3), 1, 3),  # channels last, a period of 3 tiled to whole rows
    ((9, 1500, 2), 1, 1500),  # short runs, rows wider than a task's columns
    ((2, 7, 70), -1, 70),  # channels last with a partial last row
])
def test_prelu_one_pass_agrees_with_the_per_channel_path(dtype: type, shape: tuple, axis: int,
                                                           channels: int) -> None:
    """The one-pass native prelu/prelu_grad (C-contiguous operands) gives the per-channel path's bits for y
    and grad_x, weight sums within an ULP of the exact sums, and the same bits on 1 and 4 threads."""
    rng = np.random.default_rng(21)
    x = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    x.flat[:3] = [-0.0, 0.0, -np.inf]
    w = rng.uniform(-1, 1, channels).astype(dtype)
    strided = np.asfortranarray(x)  # not C-contiguous: the per-channel leaky_relu path
    assert_bitwise_equal(fastact.prelu(x, w, axis=axis), fastact.prelu(strided, w, axis=axis), "prelu")
    runs = []
    for threads in (1, 4):
        with fastact.num_threads(threads):
            runs.append(fastact.prelu_grad(x, g, w, axis=axis))
    gx, gw = runs[0]
    assert_bitwise_equal(runs[1][0], gx, "grad_x threads")
    assert_bitwise_equal(runs[1][1], gw, "grad_weight threads")
    assert_bitwise_equal(gx, fastact.prelu_grad(strided, np.asfortranarray(g), w, axis=axis)[0], "grad_x")
    terms = np.moveaxis(np.where(x > 0, 0.0, g.astype(np.float64) * x), axis, 0).reshape(shape[axis], -1)
    exact = np.array([math.fsum(t) for t in terms]) if channels > 1 else np.array([math.fsum(terms.ravel())])
    finite = np.isfinite(exact)
    if IS_NATIVE:  # compensated (float64) or exact-term (float32) sums: an ULP at most, cancellation or not
        np.testing.assert_array_max_ulp(gw[finite], exact[finite].astype(dtype), maxulp=1)
    else:  # NumPy's pairwise float64 sum: an error relative to the terms' magnitude, not to the sum
        scale = np.abs(terms).sum(axis=1) if channels > 1 else np.abs(terms).sum(keepdims=True)
        error = np.abs(gw[finite] - exact[finite])
        assert np.all(error <= 4 * np.finfo(dtype).eps * np.abs(exact[finite]) + 1e-14 * scale[finite])
    assert_bitwise_equal(gw[~np.isfinite(exact)], exact[~np.isfinite(exact)].astype(dtype), "inf sums")


def test_maxout_forward_and_grad() -> None:
    x = np.array([[1.0, 5.0, 5.0, 2.0, -1.0, NAN, 0.0, 3.0]])
    np.testing.assert_array_equal(fastact.maxout(x, 2), [[5.0, 5.0, NAN, 3.0]])
    g = np.array([[10.0, 20.0, 30.0, 40.0]])
    # Ties go to the first maximum, a NaN takes the gradient.
    np.testing.assert_array_equal(fastact.maxout_grad(x, g, 2), [[0, 10, 20, 0, 0, 30, 0, 40]])
    y = np.arange(12.0).reshape(6, 2)
    np.testing.assert_array_equal(fastact.maxout(y, 3, axis=0), [[4, 5], [10, 11]])


@pytest.mark.parametrize("pieces", [2, 3, 5, 20])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_maxout_piecewise_agrees_with_the_grouped_reduction(pieces: int, dtype: type) -> None:
    # Up to 16 pieces maxout works piece by piece; it must agree bit for bit with NumPy's max/argmax over the
    # grouped axis (NaN wins and the first NaN takes the gradient, ties go to the first, ±0 as np.max gives,
    # a NaN or ±inf grad_out carried as it is, +0.0 elsewhere), on either axis.
    rng = np.random.default_rng(pieces)
    x = rng.standard_normal((7, 6 * pieces)).astype(dtype)
    x[0, :pieces] = NAN
    x[1, 1] = NAN
    x[2, :2] = 5
    x[3, 0] = INF
    x[4, :pieces] = -0.0
    x[4, 1] = 0.0
    g = rng.standard_normal((7, 6)).astype(dtype)
    g[1, 0], g[2, 0], g[5, 1], g[6, 2] = INF, -0.0, NAN, -INF
    groups = x.reshape(7, 6, pieces)
    want = np.zeros(groups.shape, dtype)
    np.put_along_axis(want, np.argmax(groups, axis=-1)[..., None], g[..., None], axis=-1)
    assert_bitwise_equal(fastact.maxout_grad(x, g, pieces), want.reshape(x.shape), "maxout_grad")
    assert_bitwise_equal(fastact.maxout(x, pieces), np.max(groups, axis=-1), "maxout")
    xt = np.asfortranarray(x.T)
    assert_bitwise_equal(fastact.maxout_grad(xt, g.T, pieces, axis=0), want.reshape(x.shape).T, "maxout_grad axis 0")
    assert_bitwise_equal(fastact.maxout(xt, pieces, axis=0), np.max(groups, axis=-1).T, "maxout axis 0")


def test_prelu_forward_and_grad() -> None:
    x = np.array([[[-1.0, 2.0]], [[-3.0, 4.0]]]).reshape(2, 2, 1)  # channels on axis 1
    w = np.array([0.1, 0.5])
    np.testing.assert_allclose(fastact.prelu(x, w), np.where(x > 0, x, w.reshape(1, 2, 1) * x))
    g = np.ones_like(x)
    gx, gw = fastact.prelu_grad(x, g, w)
    np.testing.assert_allclose(gx, np.where(x > 0, 1.0, w.reshape(1, 2, 1)))
    np.testing.assert_allclose(gw, [-1.0 + -3.0, 0.0])
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 4, 5))
    w = rng.uniform(0, 1, 4)
    g = rng.standard_normal(x.shape)
    gx, gw = fastact.prelu_grad(x, g, w)
    np.testing.assert_allclose(gx, numeric_vjp(lambda v: fastact.prelu(v, w), x, g), rtol=1e-6, atol=1e-8)
    num_w = np.array([np.sum(g * (fastact.prelu(x, w + h) - fastact.prelu(x, w - h))) / 2e-6
                      for h in np.eye(4) * 1e-6])
    np.testing.assert_allclose(gw, num_w, rtol=1e-6)
    gx1, gw1 = fastact.prelu_grad(x, g, np.array([0.25]))
    assert gw1.shape == (1,)
    np.testing.assert_allclose(gw1, [np.sum(np.where(x > 0, 0, g * x))])
    assert np.signbit(fastact.prelu(np.array([-0.0]), np.array([0.5]), axis=0)[0])


# ---------------------------------------------------------------------------------------------------------
# Registry, threads, backends
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin", "logsumexp", "glu", "maxout", "prelu"])
def test_registry_entries(name: str) -> None:
    entry = fastact.get(name)
    assert entry.forward is getattr(fastact, name) and entry.grad is getattr(fastact, f"{name}_grad")
    assert entry.formula and entry.derivative and entry.output_range and entry.properties
    assert name in fastact.names()
    doc = getattr(fastact, name).__doc__
    assert "Formula:" in doc and "Conventions:" in doc
    assert hasattr(fastact.reference, name)
    assert fastact.get("logsoftmax") is fastact.get("log_softmax")


@native_only
@pytest.mark.parametrize("op", ROW_OPS)
def test_results_do_not_depend_on_the_thread_count(op: str) -> None:
    rng = np.random.default_rng(5)
    for shape, axis in (((2000, 300), -1), ((300, 2000), 0), ((3, 200_000), -1)):
        x = (rng.standard_normal(shape) * 10).astype(np.float32)
        g_shape = fastact.logsumexp(x, axis=axis).shape if op == "logsumexp" else shape
        g = rng.standard_normal(g_shape).astype(np.float32)
        with fastact.num_threads(1):
            one = (getattr(fastact, op)(x, axis=axis), getattr(fastact, f"{op}_grad")(x, g, axis=axis))
        with fastact.num_threads(4):
            four = (getattr(fastact, op)(x, axis=axis), getattr(fastact, f"{op}_grad")(x, g, axis=axis))
        assert_bitwise_equal(one[0], four[0])
        assert_bitwise_equal(one[1], four[1])


@native_only
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ROW_OPS)
def test_native_agrees_with_reference(op: str, dtype: type) -> None:
    rng = np.random.default_rng(6)
    x = (rng.standard_normal((50, 333)) * 20).astype(dtype)
    x[3, 7] = np.inf
    x[4, :] = -np.inf
    x[5, 9] = np.nan
    got, ref = getattr(fastact, op)(x), getattr(fastact.reference, op)(x)
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    ok = ~np.isnan(ref)
    err = ulp_error(got[ok], ref[ok], dtype)
    assert np.max(err) <= 2 * ULP_BOUND[dtype][op]
    g = rng.standard_normal(ref.shape).astype(dtype)
    got_g, ref_g = getattr(fastact, f"{op}_grad")(x, g), getattr(fastact.reference, f"{op}_grad")(x, g)
    assert np.array_equal(np.isnan(got_g), np.isnan(ref_g))
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-14}
    np.testing.assert_allclose(got_g[~np.isnan(ref_g)], ref_g[~np.isnan(ref_g)], **tol)


def test_softmax_rows_sum_to_one() -> None:
    x = (np.random.default_rng(9).standard_normal((64, 32000)) * 4).astype(np.float32)
    s = fastact.softmax(x).astype(np.float64).sum(axis=1)
    assert np.max(np.abs(s - 1)) < 32000 * 2**-24 / 8


@native_only
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ROW_OPS)
def test_every_simd_level_gives_the_same_bits(op: str, dtype: type) -> None:
    native = fastact._registry.NATIVE
    rng = np.random.default_rng(12)
    x = (rng.standard_normal((7, 1003)) * 30).astype(dtype)
    g = rng.standard_normal(fastact.logsumexp(x).shape if op == "logsumexp" else x.shape).astype(dtype)
    previous = native.simd_level()
    results = []
    try:
        for level in SIMD_LEVELS:
            native.set_simd_level(level)
            results.append((getattr(fastact, op)(x), getattr(fastact, f"{op}_grad")(x, g)))
    finally:
        native.set_simd_level(previous)
    for fwd, grad in results[1:]:
        assert_bitwise_equal(fwd, results[0][0])
        assert_bitwise_equal(grad, results[0][1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_prelu_agrees_bitwise_with_reference(dtype: type, axis: int) -> None:
    """The native per-channel path (leaky_relu kernel per channel view) gives the reference's bits."""
    rng = np.random.default_rng(13)
    x = rng.standard_normal((5, 6, 7)).astype(dtype)
    x.flat[:4] = [-0.0, 0.0, np.nan, -np.inf]
    w = rng.uniform(-1, 1, x.shape[axis])
    g = rng.standard_normal(x.shape).astype(dtype)
    for weight in (w, w[:1]):
        got, ref = fastact.prelu(x, weight, axis=axis), fastact.reference.prelu(x, weight, axis=axis)
        assert got.dtype == ref.dtype == dtype
        assert_bitwise_equal(got, ref)
        gx, gw = fastact.prelu_grad(x, g, weight, axis=axis)
        rx, rw = fastact.reference.prelu_grad(x, g, weight, axis=axis)
        assert_bitwise_equal(gx, rx)
        np.testing.assert_allclose(gw, rw, rtol=1e-12, equal_nan=True)
    out = np.empty_like(x)
    assert fastact.prelu(x, w, axis=axis, out=out) is out
    assert_bitwise_equal(out, fastact.reference.prelu(x, w, axis=axis))
