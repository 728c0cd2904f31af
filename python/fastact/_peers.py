"""The benchmark's optional peers beyond NumPy, SciPy and PyTorch: numexpr, ONNX Runtime and JAX on CPU.

Each is imported on first use (:func:`load`), never with the package; a peer that is missing or fails to
import has its column left out of the report, and the report's header says why. Every table below is keyed
by the catalogue's kernel names; a kernel a peer cannot express is absent and shows as "—".

* ``numexpr``     -- ``numexpr.evaluate(expr, local_dict=..., out=out)`` with ``numexpr.set_num_threads``.
  Parameters and non-integer constants are passed as 0-d arrays of the input's dtype: numexpr types a float
  literal as float64, which would turn a float32 expression into a float64 one.
* ``onnxruntime`` -- a one-node ONNX model per activation (built in memory with ``onnx.helper``), run by an
  ``InferenceSession`` with ``intra_op_num_threads`` = the row's thread count and ``inter_op_num_threads``
  = 1, through ``run_with_iobinding`` with the output bound to the preallocated array (no allocation, as
  ``fastact out``). Forward only: ONNX has no derivative ops.
* ``jax``         -- ``jax.jit`` of the ``jax.nn`` function (derivatives: of its ``jax.vjp``), input put on
  the device once outside the timing, ``.block_until_ready()`` inside; the result is a new array; float64
  only with ``jax_enable_x64``, which ``fastact._bench.run`` turns on for its duration. XLA's CPU
  thread pool cannot be resized at run time, so JAX is timed only in rows at every usable core (under
  ``taskset -c 0`` that is one core).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["JAX_FUNCTIONAL", "NUMEXPR_FORMULAS", "ONNX_OPS", "PEERS", "Skipped", "load", "version_line"]

#: The optional peers this module provides, in column order.
PEERS = ("numexpr", "onnxruntime", "jax")


class Skipped(Exception):
    """Raised when a peer cannot honour a row's settings (JAX at a thread count it cannot set): the cell is
    reported as skipped with this message, not as a failure."""


@functools.cache
def load(name: str) -> tuple[Any, str]:
    """(module, version) of an optional peer, or (None, why it is skipped)."""
    try:
        if name == "numexpr":
            import numexpr

            return numexpr, numexpr.__version__
        if name == "onnxruntime":
            import onnx
            import onnxruntime

            return onnxruntime, f"{onnxruntime.__version__} (onnx {onnx.__version__})"
        if name == "jax":
            os.environ.setdefault("JAX_PLATFORMS", "cpu")  # no probing for accelerators
            import jax

            return jax, jax.__version__
    except ImportError as exc:
        return None, f"not installed ({exc.name or exc})"
    except Exception as exc:  # noqa: BLE001 - a broken install must not stop the benchmark
        return None, f"failed to import ({type(exc).__name__}: {exc})"
    raise KeyError(f"unknown peer {name!r} (known: {', '.join(PEERS)})")


def version_line(name: str) -> str:
    module, text = load(name)
    return text if module is not None else f"{text}: {name} column skipped"


# ---------------------------------------------------------------------------------------------------------
# numexpr: kernel -> (forward, derivative-times-g or None). ``x`` input, ``g`` incoming gradient, parameters
# by their catalogue names, the constants of NUMEXPR_CONSTANTS by name. No erf in numexpr: no gelu.
# ---------------------------------------------------------------------------------------------------------

NUMEXPR_CONSTANTS: dict[str, float] = {
    "half": 0.5, "one": 1.0, "zero": 0.0,
    "sqrt_2_over_pi": 0.7978845608028654, "k_gelu": 0.044715, "k_quick_gelu": 1.702,
    "selu_scale": 1.0507009873554805, "selu_alpha": 1.6732632423543772,
}

NUMEXPR_FORMULAS: dict[str, tuple[str, str | None]] = {
    "identity": ("slope * x", "g * slope"),
    "binary_step": ("where(x >= threshold, one, zero)", None),
    "sigmoid": ("1 / (1 + exp(-x))", "g * exp(-x) / (1 + exp(-x)) ** 2"),
    "tanh": ("tanh(x)", "g * (1 - tanh(x) ** 2)"),
    "relu": ("where(x > 0, x, 0)", "where(x > 0, g, 0)"),
    "leaky_relu": ("where(x > 0, x, negative_slope * x)", "where(x > 0, g, negative_slope * g)"),
    "softplus": ("where(beta * x > threshold, x, log1p(exp(beta * x)) / beta)", "g / (1 + exp(-beta * x))"),
    "elu": ("where(x > 0, x, alpha * expm1(x))", "where(x > 0, g, g * alpha * exp(x))"),
    "celu": ("where(x > 0, x, alpha * expm1(x / alpha))", "where(x > 0, g, g * exp(x / alpha))"),
    "selu": ("selu_scale * where(x > 0, x, selu_alpha * expm1(x))",
             "where(x > 0, selu_scale * g, g * selu_scale * selu_alpha * exp(x))"),
    "gelu_tanh": ("half * x * (1 + tanh(sqrt_2_over_pi * (x + k_gelu * x * x * x)))", None),
    "relu6": ("where(x < 0, 0, where(x > 6, 6, x))", "where((x > 0) & (x < 6), g, 0)"),
    "log_sigmoid": ("where(x < 0, x, 0) - log1p(exp(-abs(x)))", "g / (1 + exp(x))"),
    "hard_sigmoid": ("where(x <= -3, 0, where(x >= 3, 1, x / 6 + half))", "where((x > -3) & (x < 3), g / 6, 0)"),
    "sine": ("sin(w0 * x)", "g * w0 * cos(w0 * x)"),
    "silu": ("x / (1 + exp(-x))", "g * (1 + exp(-x) + x * exp(-x)) / (1 + exp(-x)) ** 2"),
    "swish": ("x / (1 + exp(-beta * x))",
              "g * (1 + exp(-beta * x) + beta * x * exp(-beta * x)) / (1 + exp(-beta * x)) ** 2"),
    "mish": ("x * tanh(log1p(exp(x)))", None),
    "hard_swish": ("x * where(x <= -3, 0, where(x >= 3, 6, x + 3)) / 6",
                   "where(x < -3, 0, where(x > 3, g, g * (x / 3 + half)))"),
    "hard_tanh": ("where(x < min_val, min_val, where(x > max_val, max_val, x))",
                  "where((x > min_val) & (x < max_val), g, 0)"),
    "softsign": ("x / (1 + abs(x))", "g / (1 + abs(x)) ** 2"),
    "tanhshrink": ("x - tanh(x)", "g * tanh(x) ** 2"),
    "softshrink": ("where(x > lambd, x - lambd, where(x < -lambd, x + lambd, 0))", "where(abs(x) > lambd, g, 0)"),
    "hardshrink": ("where(abs(x) > lambd, x, 0)", "where(abs(x) > lambd, g, 0)"),
    "threshold": ("where(x > threshold, x, value)", "where(x > threshold, g, 0)"),
    "relu2": ("where(x > 0, x * x, 0)", "where(x > 0, 2 * g * x, 0)"),
    "squareplus": ("(x + sqrt(x * x + b)) / 2", "g * (1 + x / sqrt(x * x + b)) / 2"),
    "sparse_plus": ("where(x <= -1, 0, where(x >= 1, x, (x + 1) ** 2 / 4))",
                    "where(x <= -1, 0, where(x >= 1, g, g * (x + 1) / 2))"),
    "sparse_sigmoid": ("where(x <= -1, 0, where(x >= 1, 1, (x + 1) / 2))", "where((x > -1) & (x < 1), g / 2, 0)"),
    "shrink": ("where(x < -lambd, x + bias, where(x > lambd, x - bias, 0))", "where(abs(x) > lambd, g, 0)"),
    "gelu_sigmoid": ("x / (1 + exp(-k_quick_gelu * x))", None),
}


def numexpr_impl(kernel: str, grad: bool, params: dict[str, float], x: np.ndarray, g: np.ndarray,
                 out: np.ndarray) -> tuple[Callable[[], Any], Callable[[int], Any], str] | str:
    """(call, set threads, expression), or why numexpr is skipped for this case."""
    ne, why = load("numexpr")
    if ne is None:
        return f"numexpr {why}"
    formulas = NUMEXPR_FORMULAS.get(kernel)
    expr = None if formulas is None else formulas[1 if grad else 0]
    if expr is None:
        return "no natural numexpr expression"
    if x.dtype.itemsize == 2:
        return "numexpr has no float16"
    scalar = x.dtype.type
    local = {k: scalar(v) for k, v in {**NUMEXPR_CONSTANTS, **params}.items()}
    local.update(x=x, g=g)
    if hasattr(ne, "validate"):  # numexpr >= 2.8.5: parse once, so a typo fails here, not in the timing loop
        ne.validate(expr, local_dict=local)
    evaluate = ne.evaluate
    return (functools.partial(evaluate, expr, local_dict=local, out=out), ne.set_num_threads, expr)


# ---------------------------------------------------------------------------------------------------------
# ONNX: kernel -> params -> (op type, attributes, extra inputs as (name, value), opset), or None when the op
# does not cover these parameter values (sine with w0 != 1, threshold with value != 0).
# ---------------------------------------------------------------------------------------------------------

OnnxNode = tuple[str, dict[str, Any], tuple[tuple[str, float], ...], int]
_OPSET = 21  # Gelu needs 20; 21 is what onnxruntime >= 1.17 runs

ONNX_OPS: dict[str, Callable[[dict[str, float]], OnnxNode | None]] = {
    "sigmoid": lambda p: ("Sigmoid", {}, (), _OPSET),
    "tanh": lambda p: ("Tanh", {}, (), _OPSET),
    "relu": lambda p: ("Relu", {}, (), _OPSET),
    "leaky_relu": lambda p: ("LeakyRelu", {"alpha": p["negative_slope"]}, (), _OPSET),
    "elu": lambda p: ("Elu", {"alpha": p["alpha"]}, (), _OPSET),
    "celu": lambda p: ("Celu", {"alpha": p["alpha"]}, (), _OPSET),
    "selu": lambda p: ("Selu", {}, (), _OPSET),
    # ONNX Softplus is log(exp(x) + 1): beta = 1 and no linear threshold (equal within rounding below it)
    "softplus": lambda p: ("Softplus", {}, (), _OPSET) if p["beta"] == 1 else None,
    "softsign": lambda p: ("Softsign", {}, (), _OPSET),
    "hard_sigmoid": lambda p: ("HardSigmoid", {"alpha": p["alpha"], "beta": p["beta"]}, (), _OPSET),
    "hard_swish": lambda p: ("HardSwish", {}, (), _OPSET),
    "gelu": lambda p: ("Gelu", {"approximate": "none"}, (), _OPSET),
    "gelu_tanh": lambda p: ("Gelu", {"approximate": "tanh"}, (), _OPSET),
    "mish": lambda p: ("Mish", {}, (), _OPSET),
    "silu": lambda p: ("Swish", {"alpha": 1.0}, (), 24),
    "relu6": lambda p: ("Clip", {}, (("lo", 0.0), ("hi", 6.0)), _OPSET),
    "hard_tanh": lambda p: ("Clip", {}, (("lo", p["min_val"]), ("hi", p["max_val"])), _OPSET),
    "softshrink": lambda p: ("Shrink", {"lambd": p["lambd"], "bias": p["lambd"]}, (), _OPSET),
    "hardshrink": lambda p: ("Shrink", {"lambd": p["lambd"], "bias": 0.0}, (), _OPSET),
    "shrink": lambda p: ("Shrink", {"lambd": p["lambd"], "bias": p["bias"]}, (), _OPSET),
    "threshold": lambda p: ("ThresholdedRelu", {"alpha": p["threshold"]}, (), _OPSET) if p["value"] == 0 else None,
    "sine": lambda p: ("Sin", {}, (), _OPSET) if p["w0"] == 1 else None,
    "swish": lambda p: ("Swish", {"alpha": p["beta"]}, (), 24),
    "erf": lambda p: ("Erf", {}, (), _OPSET),
}


def onnx_model_bytes(node: OnnxNode, dtype: np.dtype, ndim: int = 1) -> bytes:
    """A one-node ONNX model y = OP(x, extra inputs...) over a tensor of ``ndim`` dimensions of any length."""
    from onnx import helper, numpy_helper

    op, attrs, extra, opset = node
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    dims = [f"n{i}" for i in range(ndim)]
    inits = [numpy_helper.from_array(np.asarray(v, dtype=dtype), name) for name, v in extra]
    graph = helper.make_graph(
        [helper.make_node(op, ["x", *(name for name, _ in extra)], ["y"], **attrs)], f"fastact_bench_{op}",
        [helper.make_tensor_value_info("x", elem, dims)], [helper.make_tensor_value_info("y", elem, dims)],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10 if opset <= 21 else 11  # what onnxruntime reads, rather than onnx's newest
    return model.SerializeToString()


class OnnxRunner:
    """A session per thread count over the same model, input and output binding; ``set_threads`` picks one."""

    def __init__(self, model: bytes, x: np.ndarray, out: np.ndarray) -> None:
        self.model, self.x, self.out = model, x, out
        self.sessions: dict[int, tuple[Any, Any]] = {}
        self.current: tuple[Any, Any] | None = None
        self.set_threads(1)

    def set_threads(self, n: int) -> None:
        if n not in self.sessions:
            ort, _ = load("onnxruntime")
            so = ort.SessionOptions()
            so.intra_op_num_threads = n
            so.inter_op_num_threads = 1
            so.log_severity_level = 3  # no warnings on stderr
            session = ort.InferenceSession(self.model, so, providers=["CPUExecutionProvider"])
            binding = session.io_binding()
            binding.bind_cpu_input("x", self.x)
            binding.bind_output("y", "cpu", 0, self.out.dtype, self.out.shape, self.out.ctypes.data)
            self.sessions[n] = (session, binding)
        self.current = self.sessions[n]

    def __call__(self) -> np.ndarray:
        assert self.current is not None
        session, binding = self.current
        session.run_with_iobinding(binding)
        return self.out


def onnx_impl(kernel: str, grad: bool, params: dict[str, float], x: np.ndarray,
              out: np.ndarray) -> tuple[OnnxRunner, str] | str:
    """(runner, description), or why ONNX Runtime is skipped for this case."""
    ort, why = load("onnxruntime")
    if ort is None:
        return f"onnxruntime {why}"
    if grad:
        return "ONNX has no derivative ops"
    make = ONNX_OPS.get(kernel)
    node = None if make is None else make(params)
    if node is None:
        return "no ONNX op" if make is None else "the ONNX op does not cover these parameters"
    try:
        runner = OnnxRunner(onnx_model_bytes(node, x.dtype), x, out)
        out.fill(np.nan)  # so a binding that does not write into ``out`` cannot pass the check on stale values
        runner()
    except Exception as exc:  # noqa: BLE001 - e.g. no float16/float64 kernel in this build
        return f"onnxruntime cannot run {node[0]} on {x.dtype} ({str(exc).splitlines()[0][:100]})"
    if np.isnan(out).all():
        return "onnxruntime did not write into the bound output"
    attrs = ", ".join(f"{k}={v!r}" for k, v in node[1].items())
    extra = ", ".join(f"{k}={v!r}" for k, v in node[2])
    return runner, f"{node[0]}({', '.join(a for a in (attrs, extra) if a)}) opset {node[3]}, run_with_iobinding"


# ---------------------------------------------------------------------------------------------------------
# JAX: kernel -> expression of ``u`` (``jnn`` = jax.nn, ``jnp`` = jax.numpy), parameters by name.
# ---------------------------------------------------------------------------------------------------------

JAX_FUNCTIONAL: dict[str, str] = {
    "identity": "u * slope",
    "binary_step": "(u >= threshold).astype(u.dtype)",
    "sigmoid": "jnn.sigmoid(u)",
    "tanh": "jnp.tanh(u)",
    "relu": "jnn.relu(u)",
    "leaky_relu": "jnn.leaky_relu(u, negative_slope)",
    "softplus": "jnp.where(beta * u > threshold, u, jnn.softplus(beta * u) / beta)",
    "elu": "jnn.elu(u, alpha)",
    "celu": "jnn.celu(u, alpha)",
    "selu": "jnn.selu(u)",
    "gelu": "jnn.gelu(u, approximate=False)",
    "gelu_tanh": "jnn.gelu(u, approximate=True)",
    "relu6": "jnn.relu6(u)",
    "log_sigmoid": "jnn.log_sigmoid(u)",
    "hard_sigmoid": "jnn.hard_sigmoid(u)",
    "sine": "jnp.sin(w0 * u)",
    "silu": "jnn.silu(u)",
    "mish": "jnn.mish(u)",
    "hard_swish": "jnn.hard_swish(u)",
    "hard_tanh": "jnp.clip(u, min_val, max_val)",
    "softsign": "jnn.soft_sign(u)",
    "tanhshrink": "u - jnp.tanh(u)",
    "softshrink": "jnp.where(u > lambd, u - lambd, jnp.where(u < -lambd, u + lambd, 0))",
    "hardshrink": "jnp.where(jnp.abs(u) > lambd, u, 0)",
    "threshold": "jnp.where(u > threshold, u, value)",
    "relu2": "jnp.square(jnn.relu(u))",
    "squareplus": "jnn.squareplus(u, b)",
    "sparse_plus": "jnn.sparse_plus(u)",
    "sparse_sigmoid": "jnn.sparse_sigmoid(u)",
    "shrink": "jnp.where(u < -lambd, u + bias, jnp.where(u > lambd, u - bias, 0))",
    "gelu_sigmoid": "u * jnn.sigmoid(1.702 * u)",
    "swish": "u * jnn.sigmoid(beta * u)",
    "erf": "jss.erf(u)",
    "erfc": "jss.erfc(u)",
    "ndtr": "jss.ndtr(u)",
    "log_ndtr": "jss.log_ndtr(u)",
}


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _jax_threads(n: int) -> None:
    if n != usable_cores():
        raise Skipped(f"XLA's CPU threads cannot be set at run time: JAX runs only at all {usable_cores()} "
                      "cores (run under `taskset -c 0` for one core)")


def jax_impl(kernel: str, grad: bool, params: dict[str, float], x: np.ndarray,
             g: np.ndarray) -> tuple[Callable[[], Any], Callable[[int], None], str] | str:
    """(call, thread check, expression), or why JAX is skipped for this case."""
    jax, why = load("jax")
    if jax is None:
        return f"jax {why}"
    expr = JAX_FUNCTIONAL.get(kernel)
    if expr is None:
        return "no jax.nn function"
    if x.dtype == np.float64 and not jax.config.jax_enable_x64:
        return "jax_enable_x64 is off: JAX would compute float64 in float32"
    import jax.numpy as jnp
    import jax.scipy.special as jss

    names = ", ".join(params)
    ns = {"jnn": jax.nn, "jnp": jnp, "jss": jss}
    fn = eval(f"lambda u{', ' if names else ''}{names}: {expr}", ns)  # noqa: S307 - our strings
    f = functools.partial(fn, **params)
    xd = jax.device_put(x)
    if grad:
        gd = jax.device_put(g)
        jitted = jax.jit(lambda u, gu: jax.vjp(f, u)[1](gu)[0])
        call = lambda: jitted(xd, gd).block_until_ready()
        expr = f"jax.vjp(lambda u: {expr}, x)[1](g)"
    else:
        jitted = jax.jit(f)
        call = lambda: jitted(xd).block_until_ready()
    return call, _jax_threads, f"jax.jit({expr})"
