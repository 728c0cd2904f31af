"""The conventions table (fastact._conventions, published as docs/conventions.md) against the frameworks.

Every catalogue entry has a record for each framework, and every record is checked against that framework
where it is installed: its defaults against the signature (the ONNX schema), its values against the
fastact call on a grid of special inputs, and for PyTorch and JAX its autograd derivative against fastact's
_grad; they must agree everywhere except at the inputs the record lists, and differ there.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import re
from collections.abc import Callable
from typing import Any

import fastact
import numpy as np
import pytest
from fastact._catalogue import AXIS_CATALOGUE, CATALOGUE
from fastact._conventions import CONVENTIONS, FRAMEWORKS, GRID, ROWS, Counterpart

ELEMENTWISE = {spec.name for spec in CATALOGUE}
RECORDS = [(name, c) for name, cs in CONVENTIONS.items() for c in cs]


def _id(record: tuple[str, Counterpart]) -> str:
    name, c = record
    return f"{name}-{c.framework}-{c.invocation}"


def test_every_activation_has_a_record_per_framework() -> None:
    names = [spec.name for spec in CATALOGUE] + [spec.name for spec in AXIS_CATALOGUE]
    assert sorted(CONVENTIONS) == sorted(names)
    for name in names:
        assert {c.framework for c in CONVENTIONS[name]} == set(FRAMEWORKS), name
        for c in CONVENTIONS[name]:
            assert c.framework in FRAMEWORKS
            if not c.name:  # "the framework has none": only a note saying what to use instead
                assert c.differences and not (c.fastact or c.defaults or c.call), (name, c)
            elif not c.fastact:  # no fastact call reproduces it: the record must say so
                assert "cannot" in c.differences or "no fastact call" in c.differences, (name, c)


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower()


def test_framework_names_fastact_knows_resolve_to_the_same_activation() -> None:
    # fastact.get lower-cases: "LogSoftmax" (ONNX), "torch.nn.functional.logsigmoid" -> "logsigmoid".
    known = 0
    for name, c in RECORDS:
        if c.name and _short(c.name) in fastact.names() + [a for n in fastact.names() for a in fastact.get(n).aliases]:
            assert fastact.get(_short(c.name)) is fastact.get(name), (name, c.name)
            known += 1
    assert known
    # and the aliases that are a framework's name appear in that activation's records
    for spec in CATALOGUE:
        text = " ".join(f"{c.name} {c.differences}" for c in CONVENTIONS[spec.name]).lower()
        for alias in spec.aliases:
            if any(f in alias.source for f in FRAMEWORKS):
                assert re.search(rf"\b{alias.name}\b", text), (spec.name, alias.name)


def test_fastact_calls_are_calls_of_their_activation() -> None:
    for name, c in RECORDS:
        if c.fastact:
            function = re.match(r"fastact\.(\w+)\(x[,)]", c.fastact)
            assert function is not None, c.fastact
            assert fastact.get(function.group(1)) is fastact.get(name), (name, c.fastact)
            _fastact_value(c, _input(name, np.float64))  # runs


# ---------------------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------------------


def _input(name: str, dtype: Any) -> np.ndarray:
    return np.array(GRID if name in ELEMENTWISE else list(ROWS.values()), dtype)


def _fastact_value(c: Counterpart, x: np.ndarray) -> np.ndarray:
    return np.asarray(eval(c.fastact, {"fastact": fastact, "np": np, "x": x}))  # noqa: S307 - our own table


def _fastact_grad(c: Counterpart, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    expr = re.sub(r"^fastact\.(\w+)\(x", r"fastact.\1_grad(x, g", c.fastact)
    value = eval(expr, {"fastact": fastact, "np": np, "x": x, "g": g})  # noqa: S307 - our own table
    return np.asarray(value[0] if isinstance(value, tuple) else value)  # prelu_grad: (grad_x, grad_weight)


def _differing(name: str, x: np.ndarray, got: np.ndarray, want: np.ndarray, tolerance: tuple[float, float],
               signed_zeros: bool) -> set[Any]:
    """The grid inputs (elementwise) or row kinds (along an axis) where two results differ: NaN against a
    number, by more than (rtol, atol), or (with ``signed_zeros``) zeros of opposite signs."""
    rtol, atol = tolerance
    got, want = got.astype(np.float64), want.astype(np.float64)
    with np.errstate(invalid="ignore"):
        close = (got == want) | (np.abs(got - want) <= atol + rtol * np.abs(want))
    if signed_zeros:
        close &= ~((got == 0) & (want == 0) & (np.signbit(got) != np.signbit(want)))
    same = close | (np.isnan(got) & np.isnan(want))
    if name in ELEMENTWISE:
        return {_key(v) for v in x[~same]}
    rows = ~same.reshape(len(ROWS), -1).all(axis=1)
    return {kind for kind, differs in zip(ROWS, rows, strict=True) if differs}


def _key(v: float) -> Any:
    """A grid value as a set key: NaN as the string 'nan', -0.0 apart from 0.0."""
    v = float(v)
    return "nan" if v != v else ("-0" if v == 0 and np.signbit(v) else v)


def _expected(name: str, points: tuple[float | str, ...]) -> set[Any]:
    if name in ELEMENTWISE:
        assert all(isinstance(p, float) for p in points), (name, points)
        return {_key(p) for p in points}
    assert set(points) <= set(ROWS), (name, points)
    return set(points)


def _check(name: str, c: Counterpart, what: str, x: np.ndarray, got: np.ndarray, want: np.ndarray,
           points: tuple[float | str, ...], tolerance: tuple[float, float], signed_zeros: bool = True) -> None:
    assert got.shape == want.shape, (name, c.invocation, what, got.shape, want.shape)
    differ = _differing(name, x, got, want, tolerance, signed_zeros)
    expected = _expected(name, points)
    assert differ == expected, (
        f"{name}: {c.invocation} {what}: differs from {c.fastact} at {sorted(map(str, differ))}, the record "
        f"says {sorted(map(str, expected))}\n{c.framework}: {want}\nfastact: {got}")


def _check_defaults(c: Counterpart) -> None:
    if not c.defaults:
        return
    parameters = _signature(_resolve(c.name)).parameters
    for item in c.defaults.split(", "):
        key, _, text = item.partition("=")
        assert key in parameters, (c.name, key)
        assert parameters[key].default == ast.literal_eval(text), (c.name, key, parameters[key].default)


def _signature(fn: Any) -> inspect.Signature:
    """A function's (a class's constructor's) signature; for a builtin without one, the signature its
    docstring's first line shows (PyTorch's ``softplus(input, beta=1, threshold=20) -> Tensor``)."""
    try:
        return inspect.signature(fn.__init__ if inspect.isclass(fn) else fn)
    except ValueError:
        head = re.match(r"\s*\w+\((.*?)\)", fn.__doc__ or "")
        assert head is not None, f"no signature for {fn}"
        namespace: dict[str, Any] = {}
        exec(f"def f({head.group(1)}): pass", namespace)  # noqa: S102 - a docstring of an installed library
        return inspect.signature(namespace["f"])


def _resolve(dotted: str) -> Any:
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for part in parts[1:]:
        obj = getattr(obj, part)
    return obj


def _records(framework: str) -> list[tuple[str, Counterpart]]:
    return [(name, c) for name, c in RECORDS if c.framework == framework and c.name]


# ---------------------------------------------------------------------------------------------------------
# PyTorch and JAX: float64 values and autograd derivatives
# ---------------------------------------------------------------------------------------------------------

FLOAT64 = (1e-6, 1e-9)  # (rtol, atol): conventions, not rounding


@pytest.mark.parametrize("record", _records("PyTorch"), ids=_id)
def test_pytorch(record: tuple[str, Counterpart]) -> None:
    torch = pytest.importorskip("torch")
    name, c = record
    _check_defaults(c)
    if not c.fastact:
        return
    x = _input(name, np.float64)
    namespace = {"torch": torch, "np": np}
    with torch.no_grad():
        want = eval(c.invocation, namespace, {"x": torch.from_numpy(x.copy())}).numpy()  # noqa: S307
    _check(name, c, "value", x, _fastact_value(c, x), want, c.value_differs_at, FLOAT64)
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    y = eval(c.invocation, namespace, {"x": t})  # noqa: S307
    g = np.linspace(0.5, 1.5, y.numel()).reshape(tuple(y.shape))
    if not c.autograd:
        with pytest.raises(RuntimeError, match="not implemented"):
            (y * torch.from_numpy(g)).sum().backward()
        return
    (y * torch.from_numpy(g)).sum().backward()
    _check(name, c, "derivative", x, _fastact_grad(c, x, g), t.grad.numpy(), c.grad_differs_at, FLOAT64)


@pytest.fixture(scope="module")
def jax() -> Any:
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)  # compare in float64
    return jax


@pytest.mark.parametrize("record", _records("JAX"), ids=_id)
def test_jax(record: tuple[str, Counterpart], jax: Any) -> None:
    name, c = record
    _check_defaults(c)
    if not c.fastact:
        return
    x = _input(name, np.float64)

    def f(v: Any) -> Any:
        return eval(c.invocation, {"jax": jax, "np": np}, {"x": v})  # noqa: S307

    y, vjp = jax.vjp(f, jax.numpy.asarray(x))
    _check(name, c, "value", x, _fastact_value(c, x), np.asarray(y), c.value_differs_at, FLOAT64)
    g = np.linspace(0.5, 1.5, y.size).reshape(y.shape)
    want = np.asarray(vjp(jax.numpy.asarray(g))[0])
    _check(name, c, "derivative", x, _fastact_grad(c, x, g), want, c.grad_differs_at, FLOAT64)


# ---------------------------------------------------------------------------------------------------------
# Keras and ONNX: float32 values (Keras' derivatives are its backend's; ONNX has none)
# ---------------------------------------------------------------------------------------------------------

FLOAT32 = (1e-5, 1e-6)


@pytest.fixture(scope="module")
def keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "jax" if importlib.util.find_spec("jax") else "torch")
    try:
        return importlib.import_module("keras")
    except ImportError as exc:  # not installed, or its backend is not
        pytest.skip(f"keras not importable: {exc}")


@pytest.mark.parametrize("record", _records("Keras"), ids=_id)
def test_keras(record: tuple[str, Counterpart], keras: Any) -> None:
    name, c = record
    _check_defaults(c)
    if not c.fastact:
        return
    x = _input(name, np.float32)
    y = eval(c.invocation, {"keras": keras, "np": np}, {"x": keras.ops.convert_to_tensor(x)})  # noqa: S307
    want = np.asarray(keras.ops.convert_to_numpy(y))
    got = _fastact_value(c, x)
    if c.varies_at:  # elementwise only
        got = np.where(np.isin(x, c.varies_at) | (np.isnan(x) & np.isnan(c.varies_at).any()), want, got)
    # the sign of a zero result is the backend's
    _check(name, c, f"value ({keras.backend.backend()} backend)", x, got, want, c.value_differs_at, FLOAT32,
           signed_zeros=False)


class _OnnxOps(dict):
    """eval() locals in which ``Op(x, *inputs, **attributes)`` runs one ONNX node with the reference evaluator."""

    def __init__(self, onnx: Any, x: np.ndarray) -> None:
        super().__init__(x=x)
        self.onnx = onnx

    def __missing__(self, op: str) -> Callable[..., np.ndarray]:
        def run(x: np.ndarray, *inputs: Any, **attributes: Any) -> np.ndarray:
            from onnx import helper, numpy_helper
            from onnx.reference import ReferenceEvaluator

            names = ["x"] + [f"input{i}" for i in range(len(inputs))]
            arrays = [np.asarray(v, np.int64 if isinstance(v, list) and op.startswith("Reduce") else x.dtype)
                      for v in inputs]
            node = helper.make_node(op, names, ["y"], **attributes)
            graph = helper.make_graph(
                [node], op, [helper.make_tensor_value_info("x", helper.np_dtype_to_tensor_dtype(x.dtype), None)],
                [helper.make_tensor_value_info("y", helper.np_dtype_to_tensor_dtype(x.dtype), None)],
                initializer=[numpy_helper.from_array(a, n) for a, n in zip(arrays, names[1:], strict=True)])
            model = helper.make_model(graph)
            return np.asarray(ReferenceEvaluator(model).run(None, {"x": x})[0])

        return run


@pytest.mark.parametrize("record", _records("ONNX"), ids=_id)
def test_onnx(record: tuple[str, Counterpart]) -> None:
    onnx = pytest.importorskip("onnx")
    name, c = record
    schema = onnx.defs.get_schema(c.name)
    for item in filter(None, c.defaults.split(", ")):
        key, _, text = item.partition("=")
        default = onnx.helper.get_attribute_value(schema.attributes[key].default_value)
        expected = ast.literal_eval(text)
        if isinstance(expected, float):
            assert np.float32(default) == np.float32(expected), (c.name, key, default)
        else:
            assert (default.decode() if isinstance(default, bytes) else default) == expected, (c.name, key, default)
    if not c.fastact:
        return
    x = _input(name, np.float32)
    with np.errstate(all="ignore"):
        want = eval(c.invocation, {"np": np}, _OnnxOps(onnx, x))  # noqa: S307
    # the sign of a zero result is the runtime's: the specification does not say
    _check(name, c, "value", x, _fastact_value(c, x), want, c.value_differs_at, FLOAT32, signed_zeros=False)
