"""How PyTorch, JAX, Keras and ONNX name and define each catalogue activation: the data of docs/conventions.md.

One :class:`Counterpart` per framework function (several where a framework has more than one, an empty
``name`` where it has none), keyed by the catalogue name. ``fastact`` is the call that reproduces the
framework's ``call`` with its defaults; where they still differ, ``value_differs_at`` and
``grad_differs_at`` name the inputs and ``differences`` says how. ``tests/test_conventions.py`` checks every
record against the framework itself where it is installed: defaults against its signature (or the ONNX
schema), values and derivatives (autograd) on :data:`GRID` (along an axis, :data:`ROWS`), including that
they differ exactly at the listed inputs. Checked with PyTorch 2.15.0 (CPU), JAX 0.10.2, Keras 3.15.1
(jax and torch backends) and ONNX 1.23.2 (its reference evaluator).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

__all__ = ["CONVENTIONS", "FRAMEWORKS", "GRID", "ROWS", "Counterpart"]

FRAMEWORKS = ("PyTorch", "JAX", "Keras", "ONNX")

inf, nan = float("inf"), float("nan")


@dataclass(frozen=True)
class Counterpart:
    """One framework's function for a catalogue activation."""

    framework: str
    #: Where it lives (``torch.nn.functional.leaky_relu``; an ONNX operator name); "" when there is none.
    name: str = ""
    #: Its parameters' defaults as its signature (or the ONNX schema) has them: ``"negative_slope=0.01"``.
    defaults: str = ""
    #: The fastact call (keyword arguments) that computes what ``call`` does; "" when none does.
    fastact: str = ""
    #: What differs from fastact: formula, constants, values at kinks, ±inf and NaN, derivatives.
    differences: str = ""
    #: The call the comparison makes, on an input ``x``, when it is not ``name(x)``. For ONNX, an operator
    #: written as ``Op(x, *other inputs, **attributes)``.
    call: str = ""
    #: Inputs where its value differs from ``fastact``'s (NaN against a number, the sign of a zero, a value
    #: at a kink); along an axis, the kinds of rows (:data:`ROWS`).
    value_differs_at: tuple[float | str, ...] = ()
    #: Inputs where its derivative (autograd) differs from fastact's ``_grad``.
    grad_differs_at: tuple[float | str, ...] = ()
    #: Keras: inputs where the value depends on the backend (jax or torch), which are not compared.
    varies_at: tuple[float, ...] = ()
    #: False where the framework has no derivative for it.
    autograd: bool = True

    @property
    def invocation(self) -> str:
        return self.call or f"{self.name}(x)"


#: The inputs elementwise records are compared on: every default kink, signed zeros, ±inf and NaN.
GRID = (-inf, -20.0, -6.0, -3.0, -1.5, -1.0, -0.5, -0.25, -0.0, 0.0, 0.25, 0.5, 1.0, 1.5, 3.0, 6.0, 20.0, 25.0,
        inf, nan)
#: The rows along-an-axis records are compared on, by kind (of even length, for glu).
ROWS = {
    "finite": (1.0, 2.0, 3.0, 4.0), "one -inf": (0.0, -inf, 1.0, 2.0), "only -inf": (-inf,) * 4,
    "one +inf": (inf, 0.0, 1.0, 2.0), "two +inf": (inf, inf, 0.0, 0.0), "one NaN": (nan, 0.0, 1.0, 2.0),
    "wide": (1e4, -1e4, 0.0, 1.0), "signed zeros": (-0.0, 0.0, 0.5, -0.5),
}

Torch = partial(Counterpart, "PyTorch")
Jax = partial(Counterpart, "JAX")
Keras = partial(Counterpart, "Keras")
Onnx = partial(Counterpart, "ONNX")

_INF_NAN = "NaN at -inf (-inf * 0), where fastact returns the limit -0.0"
_INF_NAN_GRAD = "derivative NaN at ±inf (fastact: the limits 0 and 1)"

CONVENTIONS: dict[str, tuple[Counterpart, ...]] = {
    "identity": (
        Torch("torch.nn.Identity", fastact="fastact.identity(x)", call="torch.nn.Identity()(x)",
              differences="A module without a slope: fastact.identity(x, slope=s) is s * x."),
        Jax("jax.nn.identity", fastact="fastact.identity(x)"),
        Keras("keras.activations.linear", fastact="fastact.identity(x)"),
        Onnx("Identity", fastact="fastact.identity(x)"),
    ),
    "binary_step": (
        Torch("torch.heaviside", fastact="fastact.binary_step(x)", call="torch.heaviside(x, torch.ones_like(x))",
              differences="The value at 0 is a required argument (values); with 1 it is binary_step, except that "
              "NaN gives 0 (fastact: NaN). No derivative (autograd raises).",
              value_differs_at=(nan,), autograd=False),
        Jax("jax.numpy.heaviside", fastact="fastact.binary_step(x)", call="jax.numpy.heaviside(x, 1.0)",
            differences="No jax.nn function; jax.numpy.heaviside takes the value at 0 as an argument. Its "
            "derivative at NaN is a number (fastact: NaN).", grad_differs_at=(nan,)),
        Keras("keras.ops.heaviside", fastact="fastact.binary_step(x)", call="keras.ops.heaviside(x, 1.0)",
              differences="No keras.activations function; keras.ops.heaviside takes the value at 0 as an argument. "
              "NaN gives NaN with the jax backend, 0 with the torch backend.", varies_at=(nan,)),
        Onnx(differences="No operator."),
    ),
    "sigmoid": (
        Torch("torch.sigmoid", fastact="fastact.sigmoid(x)"),
        Jax("jax.nn.sigmoid", fastact="fastact.sigmoid(x)"),
        Keras("keras.activations.sigmoid", fastact="fastact.sigmoid(x)"),
        Onnx("Sigmoid", fastact="fastact.sigmoid(x)"),
    ),
    "tanh": (
        Torch("torch.tanh", fastact="fastact.tanh(x)"),
        Jax("jax.nn.tanh", fastact="fastact.tanh(x)"),
        Keras("keras.activations.tanh", fastact="fastact.tanh(x)"),
        Onnx("Tanh", fastact="fastact.tanh(x)"),
    ),
    "relu": (
        Torch("torch.nn.functional.relu", "inplace=False", "fastact.relu(x)"),
        Jax("jax.nn.relu", fastact="fastact.relu(x)",
            differences="relu(-0.0) = +0.0 (fastact: -0.0); derivative 0 at NaN (fastact: 1, as PyTorch). "
            "relu'(0) = 0 in both.", value_differs_at=(-0.0,), grad_differs_at=(nan,)),
        Keras("keras.activations.relu", "negative_slope=0.0, max_value=None, threshold=0.0", "fastact.relu(x)",
              "With negative_slope it is leaky_relu, with max_value=6 relu6, with threshold t it is "
              "fastact.threshold(x, threshold=t, value=0.0) except at NaN (0); combinations have no single "
              "fastact call. "
              "keras.layers.ReLU has the same defaults."),
        Onnx("Relu", fastact="fastact.relu(x)"),
    ),
    "leaky_relu": (
        Torch("torch.nn.functional.leaky_relu", "negative_slope=0.01, inplace=False", "fastact.leaky_relu(x)"),
        Jax("jax.nn.leaky_relu", "negative_slope=0.01", "fastact.leaky_relu(x)",
            "Derivative 1 at 0 (its test is x >= 0; fastact's and PyTorch's: negative_slope).",
            grad_differs_at=(0.0, -0.0)),
        Keras("keras.activations.leaky_relu", "negative_slope=0.2", "fastact.leaky_relu(x, negative_slope=0.2)",
              "Its default slope is 0.2, not 0.01."),
        Keras("keras.layers.LeakyReLU", "negative_slope=0.3", "fastact.leaky_relu(x, negative_slope=0.3)",
              "The layer's default slope is 0.3.", call="keras.layers.LeakyReLU()(x)"),
        Onnx("LeakyRelu", "alpha=0.01", "fastact.leaky_relu(x)"),
    ),
    "softplus": (
        Torch("torch.nn.functional.softplus", "beta=1.0, threshold=20.0", "fastact.softplus(x)"),
        Jax("jax.nn.softplus", fastact="fastact.softplus(x, threshold=np.inf)",
            differences="No beta and no switch to the identity: log(1 + exp(x)) everywhere, which is "
            "fastact.softplus(x, threshold=np.inf)."),
        Keras("keras.activations.softplus", fastact="fastact.softplus(x, threshold=np.inf)",
              differences="No beta; the jax backend computes log(1 + exp(x)) everywhere, the torch backend "
              "calls PyTorch's softplus (threshold 20): the results differ by less than 1e-8 beyond x = 20."),
        Onnx("Softplus", fastact="fastact.softplus(x, threshold=np.inf)",
             differences="y = ln(exp(x) + 1): no beta, no threshold."),
    ),
    "elu": (
        Torch("torch.nn.functional.elu", "alpha=1.0, inplace=False", "fastact.elu(x)"),
        Jax("jax.nn.elu", "alpha=1.0", "fastact.elu(x)", "Derivative NaN at NaN (fastact: 1, as PyTorch).",
            grad_differs_at=(nan,)),
        Keras("keras.activations.elu", "alpha=1.0", "fastact.elu(x)", "keras.layers.ELU: alpha=1.0 too."),
        Onnx("Elu", "alpha=1.0", "fastact.elu(x)"),
    ),
    "celu": (
        Torch("torch.nn.functional.celu", "alpha=1.0, inplace=False", "fastact.celu(x)"),
        Jax("jax.nn.celu", "alpha=1.0", "fastact.celu(x)",
            "celu(-0.0) = +0.0 (fastact: -0.0); derivative NaN at NaN (fastact: 1).",
            value_differs_at=(-0.0,), grad_differs_at=(nan,)),
        Keras("keras.activations.celu", "alpha=1.0", "fastact.celu(x)"),
        Onnx("Celu", "alpha=1.0", "fastact.celu(x)", "Since opset 12."),
    ),
    "selu": (
        Torch("torch.nn.functional.selu", "inplace=False", "fastact.selu(x)"),
        Jax("jax.nn.selu", fastact="fastact.selu(x)", differences="Derivative NaN at NaN (fastact: scale).",
            grad_differs_at=(nan,)),
        Keras("keras.activations.selu", fastact="fastact.selu(x)"),
        Onnx("Selu", "alpha=1.67326319, gamma=1.05070102", "fastact.selu(x)",
             "The constants are float32 attributes: in float64 they differ from fastact's by about 3e-8 "
             "relative."),
    ),
    "gelu": (
        Torch("torch.nn.functional.gelu", "approximate='none'", "fastact.gelu(x)",
              f"{_INF_NAN}; {_INF_NAN_GRAD}.", value_differs_at=(-inf,), grad_differs_at=(-inf, inf)),
        Torch("torch.nn.functional.gelu", "approximate='none'", "fastact.gelu(x, approximate='tanh')",
              f"approximate='tanh', which Hugging Face calls gelu_pytorch_tanh (fastact.gelu_pytorch_tanh, "
              f"fastact.gelu_new): {_INF_NAN}; "
              f"{_INF_NAN_GRAD}.", call="torch.nn.functional.gelu(x, approximate='tanh')",
              value_differs_at=(-inf,), grad_differs_at=(-inf, inf)),
        Jax("jax.nn.gelu", "approximate=True", "fastact.gelu(x, approximate='tanh')",
            f"The default is the tanh approximation. {_INF_NAN}; {_INF_NAN_GRAD}.",
            value_differs_at=(-inf,), grad_differs_at=(-inf, inf)),
        Jax("jax.nn.gelu", "approximate=True", "fastact.gelu(x)",
            f"approximate=False is the exact form: {_INF_NAN}; {_INF_NAN_GRAD}.",
            call="jax.nn.gelu(x, approximate=False)", value_differs_at=(-inf,), grad_differs_at=(-inf, inf)),
        Keras("keras.activations.gelu", "approximate=False", "fastact.gelu(x)",
              f"keras.ops.gelu defaults to approximate=True (the tanh form). {_INF_NAN}.",
              value_differs_at=(-inf,)),
        Onnx("Gelu", "approximate='none'", "fastact.gelu(x)",
             f"Since opset 20; approximate='tanh' is fastact.gelu(x, approximate='tanh'). {_INF_NAN}.",
             value_differs_at=(-inf,)),
    ),
    "relu6": (
        Torch("torch.nn.functional.relu6", "inplace=False", "fastact.relu6(x)"),
        Jax("jax.nn.relu6", fastact="fastact.relu6(x)",
            differences="relu6(-0.0) = +0.0 (fastact: -0.0); derivative 0 at NaN (fastact: 1). Both have "
            "derivative 0 at 0 and 6.", value_differs_at=(-0.0,), grad_differs_at=(nan,)),
        Keras("keras.activations.relu6", fastact="fastact.relu6(x)"),
        Onnx("Clip", fastact="fastact.relu6(x)", call="Clip(x, 0.0, 6.0)",
             differences="No operator of its own: Clip with min 0 and max 6 (inputs, not attributes)."),
    ),
    "log_sigmoid": (
        Torch("torch.nn.functional.logsigmoid", fastact="fastact.log_sigmoid(x)"),
        Jax("jax.nn.log_sigmoid", fastact="fastact.log_sigmoid(x)",
            differences="log_sigmoid(+inf) = -0.0 (fastact: +0.0).", value_differs_at=(inf,)),
        Keras("keras.activations.log_sigmoid", fastact="fastact.log_sigmoid(x)"),
        Onnx(differences="No operator (Neg, Softplus, Neg)."),
    ),
    "hard_sigmoid": (
        Torch("torch.nn.functional.hardsigmoid", "inplace=False", "fastact.hard_sigmoid(x)"),
        Jax("jax.nn.hard_sigmoid", fastact="fastact.hard_sigmoid(x)"),
        Keras("keras.activations.hard_sigmoid", fastact="fastact.hard_sigmoid(x)",
              differences="Keras 3: relu6(x + 3) / 6. Keras 2 (tf.keras up to TensorFlow 2.15) used "
              "0.2 * x + 0.5 clipped to [0, 1]: fastact.hard_sigmoid(x, alpha=0.2, beta=0.5)."),
        Onnx("HardSigmoid", "alpha=0.2, beta=0.5", "fastact.hard_sigmoid(x, alpha=0.2, beta=0.5)",
             "max(0, min(1, alpha * x + beta)) with alpha = 0.2 by default (Keras 2's form)."),
        Onnx("HardSigmoid", "alpha=0.2, beta=0.5", "fastact.hard_sigmoid(x)",
             "With alpha=1/6 (a float32 attribute).", call="HardSigmoid(x, alpha=1 / 6)"),
    ),
    "sine": (
        Torch("torch.sin", fastact="fastact.sine(x)", differences="sin(w0 * x) is fastact.sine(x, w0=w0)."),
        Jax("jax.numpy.sin", fastact="fastact.sine(x)", differences="No jax.nn function."),
        Keras("keras.ops.sin", fastact="fastact.sine(x)", differences="No keras.activations function."),
        Onnx("Sin", fastact="fastact.sine(x)"),
    ),
    "silu": (
        Torch("torch.nn.functional.silu", "inplace=False", "fastact.silu(x)",
              f"{_INF_NAN}; {_INF_NAN_GRAD}.", value_differs_at=(-inf,), grad_differs_at=(-inf, inf)),
        Jax("jax.nn.silu", fastact="fastact.silu(x)",
            differences=f"Also jax.nn.swish (no beta; fastact.swish(x) with its default beta=1). {_INF_NAN}; "
            f"{_INF_NAN_GRAD}.",
            value_differs_at=(-inf,), grad_differs_at=(-inf, inf)),
        Keras("keras.activations.silu", fastact="fastact.silu(x)",
              differences=f"Also keras.activations.swish (no beta; fastact.swish(x) with its default beta=1). "
              f"{_INF_NAN}.", value_differs_at=(-inf,)),
        Onnx(differences="No operator named so: Swish (opset 24) with its default alpha = 1 is silu, and "
             "with another alpha fastact.swish(x, beta=alpha) (see swish)."),
    ),
    "swish": (
        Torch(differences="No function with a slope: torch.nn.functional.silu is beta = 1 (fastact.silu)."),
        Jax("jax.nn.swish", fastact="fastact.swish(x)",
            differences=f"No beta: jax.nn.swish is silu, fastact.swish's default. {_INF_NAN}; {_INF_NAN_GRAD}.",
            value_differs_at=(-inf,), grad_differs_at=(-inf, inf)),
        Keras("keras.activations.swish", fastact="fastact.swish(x)",
              differences=f"No beta: keras.activations.swish is silu, fastact.swish's default. {_INF_NAN}.",
              value_differs_at=(-inf,)),
        Onnx("Swish", "alpha=1.0", "fastact.swish(x)",
             f"Since opset 24; its alpha is fastact's beta. {_INF_NAN}.", value_differs_at=(-inf,)),
        Onnx("Swish", "alpha=1.0", "fastact.swish(x, beta=2.0)",
             f"Since opset 24; its alpha is fastact's beta. {_INF_NAN}.", call="Swish(x, alpha=2.0)",
             value_differs_at=(-inf,)),
    ),
    "mish": (
        Torch("torch.nn.functional.mish", "inplace=False", "fastact.mish(x)",
              f"{_INF_NAN}; {_INF_NAN_GRAD}.", value_differs_at=(-inf,), grad_differs_at=(-inf, inf)),
        Jax("jax.nn.mish", fastact="fastact.mish(x)", differences=f"{_INF_NAN}; {_INF_NAN_GRAD}.",
            value_differs_at=(-inf,), grad_differs_at=(-inf, inf)),
        Keras("keras.activations.mish", fastact="fastact.mish(x)", differences=f"{_INF_NAN}.",
              value_differs_at=(-inf,)),
        Onnx("Mish", fastact="fastact.mish(x)", differences=f"Since opset 18. {_INF_NAN}.",
             value_differs_at=(-inf,)),
    ),
    "hard_swish": (
        Torch("torch.nn.functional.hardswish", "inplace=False", "fastact.hard_swish(x)",
              f"{_INF_NAN}.", value_differs_at=(-inf,)),
        Jax("jax.nn.hard_silu", fastact="fastact.hard_swish(x)",
            differences=f"Also jax.nn.hard_swish. {_INF_NAN}. Derivative NaN at NaN (fastact and PyTorch: 1).",
            value_differs_at=(-inf,), grad_differs_at=(nan,)),
        Keras("keras.activations.hard_silu", fastact="fastact.hard_swish(x)",
              differences=f"Also keras.activations.hard_swish. {_INF_NAN}.", value_differs_at=(-inf,)),
        Onnx("HardSwish", fastact="fastact.hard_swish(x)",
             differences=f"Since opset 14: x * max(0, min(1, x / 6 + 0.5)). {_INF_NAN}.",
             value_differs_at=(-inf,)),
    ),
    "hard_tanh": (
        Torch("torch.nn.functional.hardtanh", "min_val=-1.0, max_val=1.0, inplace=False", "fastact.hard_tanh(x)"),
        Jax("jax.nn.hard_tanh", fastact="fastact.hard_tanh(x)",
            differences="No bounds parameters. Derivative 1 at x = ±1 (fastact and PyTorch: 0).",
            grad_differs_at=(-1.0, 1.0)),
        Keras("keras.activations.hard_tanh", fastact="fastact.hard_tanh(x)", differences="No bounds parameters."),
        Onnx("Clip", fastact="fastact.hard_tanh(x)", call="Clip(x, -1.0, 1.0)",
             differences="No operator of its own: Clip with min and max inputs."),
    ),
    "softsign": (
        Torch("torch.nn.functional.softsign", fastact="fastact.softsign(x)",
              differences="NaN at ±inf (inf / inf; fastact: ±1); derivative NaN at ±inf (fastact: 0).",
              value_differs_at=(-inf, inf), grad_differs_at=(-inf, inf)),
        Jax("jax.nn.soft_sign", fastact="fastact.softsign(x)",
            differences="NaN at ±inf (fastact: ±1); derivative NaN at ±inf (fastact: 0).",
            value_differs_at=(-inf, inf), grad_differs_at=(-inf, inf)),
        Keras("keras.activations.softsign", fastact="fastact.softsign(x)",
              differences="NaN at ±inf (fastact: ±1).", value_differs_at=(-inf, inf)),
        Onnx("Softsign", fastact="fastact.softsign(x)", differences="NaN at ±inf (fastact: ±1).",
             value_differs_at=(-inf, inf)),
    ),
    "tanhshrink": (
        Torch("torch.nn.functional.tanhshrink", fastact="fastact.tanhshrink(x)",
              differences="tanhshrink(-0.0) = +0.0 (x - tanh(x); fastact keeps -0.0, the function being odd).",
              value_differs_at=(-0.0,)),
        Jax(differences="No jax.nn function (x - jax.numpy.tanh(x))."),
        Keras("keras.activations.tanh_shrink", fastact="fastact.tanhshrink(x)"),
        Onnx(differences="No operator (Sub, Tanh)."),
    ),
    "softshrink": (
        Torch("torch.nn.functional.softshrink", "lambd=0.5", "fastact.softshrink(x)",
              "Inside [-lambd, lambd] the CPU kernel returns +0.0 in its vectorised loop and x * 0 (-0.0 for "
              "negative x, as fastact everywhere) for the last elements of an array, so the sign of the zero "
              "depends on the element's position (on the grid below: +0.0).",
              value_differs_at=(-0.5, -0.25, -0.0)),
        Jax(differences="No jax.nn function."),
        Keras("keras.activations.soft_shrink", "threshold=0.5", "fastact.softshrink(x)",
              "The parameter is called threshold (fastact and PyTorch: lambd). NaN gives 0 with the jax backend "
              "(NaN with torch).", varies_at=(nan,)),
        Onnx(differences="No operator of its own: Shrink with bias = lambd, which is fastact.shrink(x, "
             "lambd=0.5, bias=0.5) (zeros +0.0 inside [-lambd, lambd], where softshrink keeps the sign of x)."),
    ),
    "hardshrink": (
        Torch("torch.nn.functional.hardshrink", "lambd=0.5", "fastact.hardshrink(x)"),
        Jax(differences="No jax.nn function."),
        Keras("keras.activations.hard_shrink", "threshold=0.5", "fastact.hardshrink(x)",
              "The parameter is called threshold (fastact and PyTorch: lambd). NaN gives 0 with the jax backend "
              "(NaN with torch).", varies_at=(nan,)),
        Onnx(differences="No operator of its own: Shrink with its default bias 0, which is fastact.shrink(x), "
             "the same function."),
    ),
    "threshold": (
        Torch("torch.nn.functional.threshold", "inplace=False", "fastact.threshold(x, threshold=0.5, value=-2.0)",
              "threshold and value are required, as in fastact.", call="torch.nn.functional.threshold(x, 0.5, -2.0)"),
        Jax(differences="No jax.nn function."),
        Keras("keras.activations.threshold", fastact="fastact.threshold(x, threshold=0.5, value=-2.0)",
              differences="The replacement is called default_value; both are required. NaN gives default_value "
              "with the jax backend (NaN with torch).", call="keras.activations.threshold(x, 0.5, -2.0)",
              varies_at=(nan,)),
        Onnx("ThresholdedRelu", "alpha=1.0", "fastact.threshold(x, threshold=1.0, value=0.0)",
             "Since opset 10: x if x > alpha else 0, a threshold with value 0; NaN gives 0 (fastact: NaN).",
             value_differs_at=(nan,)),
    ),
    "relu2": (
        Torch("torch.square", fastact="fastact.relu2(x)", call="torch.square(torch.nn.functional.relu(x))",
              differences="No function of its own: the square of relu."),
        Jax("jax.numpy.square", fastact="fastact.relu2(x)", call="jax.numpy.square(jax.nn.relu(x))",
            differences="No jax.nn function: the square of relu, whose derivative is 0 at NaN (relu's custom "
            "derivative; fastact: NaN).", grad_differs_at=(nan,)),
        Keras("keras.ops.square", fastact="fastact.relu2(x)", call="keras.ops.square(keras.activations.relu(x))",
              differences="No keras.activations function: the square of relu."),
        Onnx(differences="No operator (Relu, then Mul)."),
    ),
    "squareplus": (
        Torch(differences="No function ((x + torch.sqrt(x * x + b)) / 2)."),
        Jax("jax.nn.squareplus", "b=4", "fastact.squareplus(x)",
            "The formula as written: NaN at -inf (-inf + inf; fastact: the limit +0.0), x * x overflows for "
            "|x| > 1.3e154 (NaN or inf; fastact scales), and x + sqrt(x^2 + b) cancels for x << 0. Derivative "
            "NaN at ±inf (fastact: 0 and 1).", value_differs_at=(-inf,), grad_differs_at=(-inf, inf)),
        Keras("keras.activations.squareplus", "b=4", "fastact.squareplus(x)",
              "The formula as written: NaN at -inf (fastact: +0.0).", value_differs_at=(-inf,)),
        Onnx(differences="No operator."),
    ),
    "sparse_plus": (
        Torch(differences="No function."),
        Jax("jax.nn.sparse_plus", fastact="fastact.sparse_plus(x)",
            differences="Derivative NaN at ±inf (fastact: the limits 0 and 1).", grad_differs_at=(-inf, inf)),
        Keras("keras.activations.sparse_plus", fastact="fastact.sparse_plus(x)"),
        Onnx(differences="No operator."),
    ),
    "sparse_sigmoid": (
        Torch(differences="No function (torch.nn.functional.hardtanh(x + 1, 0, 2) / 2)."),
        Jax("jax.nn.sparse_sigmoid", fastact="fastact.sparse_sigmoid(x)",
            differences="0.5 * clip(x + 1, 0, 2): the derivative of its clip at the bounds is split, 1/4 at "
            "x = ±1 (fastact: 0 there, as hard_sigmoid and hard_tanh at their bounds).",
            grad_differs_at=(-1.0, 1.0)),
        Keras("keras.activations.sparse_sigmoid", fastact="fastact.sparse_sigmoid(x)"),
        Onnx(differences="No operator."),
    ),
    "shrink": (
        Torch(differences="No function: hardshrink is shrink with bias = 0, softshrink shrink with bias = lambd "
              "(up to the sign of zero results)."),
        Jax(differences="No jax.nn function."),
        Keras(differences="No keras.activations function (hard_shrink and soft_shrink are the cases bias = 0 "
              "and bias = threshold)."),
        Onnx("Shrink", "bias=0.0, lambd=0.5", "fastact.shrink(x)",
             "Since opset 9. NaN gives 0 (the formula's 'otherwise' branch; fastact: NaN).",
             value_differs_at=(nan,)),
        Onnx("Shrink", "bias=0.0, lambd=0.5", "fastact.shrink(x, lambd=0.5, bias=0.5)",
             "With bias = lambd: softshrink. NaN gives 0 (fastact: NaN).", call="Shrink(x, bias=0.5)",
             value_differs_at=(nan,)),
    ),
    "logit": (
        Torch("torch.logit", "eps=None", "fastact.logit(x)",
              "Also torch.special.logit; torch.logit(x, eps) is fastact.logit(x, eps=eps)."),
        Jax("jax.scipy.special.logit", fastact="fastact.logit(x)",
            differences="No eps. Its derivative outside [0, 1] is the formula 1/(x(1 - x)) (fastact: NaN there, "
            "as PyTorch, where the function itself is NaN).",
            grad_differs_at=(-inf, -20.0, -6.0, -3.0, -1.5, -1.0, -0.5, -0.25, 1.5, 3.0, 6.0, 20.0, 25.0, inf)),
        Keras(differences="No keras.activations or keras.ops function."),
        Onnx(differences="No operator (Log of Div)."),
    ),
    "erf": (
        Torch("torch.erf", fastact="fastact.erf(x)", differences="Also torch.special.erf."),
        Jax("jax.scipy.special.erf", fastact="fastact.erf(x)", differences="Also jax.lax.erf."),
        Keras("keras.ops.erf", fastact="fastact.erf(x)", differences="No keras.activations function."),
        Onnx("Erf", fastact="fastact.erf(x)"),
    ),
    "erfc": (
        Torch("torch.erfc", fastact="fastact.erfc(x)", differences="Also torch.special.erfc."),
        Jax("jax.scipy.special.erfc", fastact="fastact.erfc(x)", differences="Also jax.lax.erfc."),
        Keras(differences="No keras.activations or keras.ops function (1 - keras.ops.erf(x) cancels)."),
        Onnx(differences="No operator (1 - Erf cancels for x >> 0)."),
    ),
    "ndtr": (
        Torch("torch.special.ndtr", fastact="fastact.ndtr(x)"),
        Jax("jax.scipy.special.ndtr", fastact="fastact.ndtr(x)"),
        Keras(differences="No keras.activations or keras.ops function."),
        Onnx(differences="No operator (Erf of Mul, then Add and Mul: cancels in the left tail)."),
    ),
    "log_ndtr": (
        Torch("torch.special.log_ndtr", fastact="fastact.log_ndtr(x)",
              differences="Derivative NaN at -inf (fastact: the limit +inf).", grad_differs_at=(-inf,)),
        Jax("jax.scipy.special.log_ndtr", fastact="fastact.log_ndtr(x)",
            differences="Derivative NaN at -inf (fastact: the limit +inf).", grad_differs_at=(-inf,)),
        Keras(differences="No keras.activations or keras.ops function."),
        Onnx(differences="No operator."),
    ),
    "softmax": (
        Torch("torch.nn.functional.softmax", "dim=None", "fastact.softmax(x, axis=-1)",
              "dim=None picks an axis from the input's rank (0 for 0-, 1- and 3-d input, else 1) and warns; "
              "pass dim (fastact's axis defaults to -1).", call="torch.nn.functional.softmax(x, dim=-1)"),
        Jax("jax.nn.softmax", "axis=-1", "fastact.softmax(x, axis=-1)"),
        Keras("keras.activations.softmax", "axis=-1", "fastact.softmax(x, axis=-1)",
              "keras.layers.Softmax: axis=-1 too."),
        Onnx("Softmax", "axis=-1", "fastact.softmax(x, axis=-1)",
             "Opset 13 on; before, the default axis was 1 and the input was flattened to 2-d at the axis."),
    ),
    "log_softmax": (
        Torch("torch.nn.functional.log_softmax", "dim=None", "fastact.log_softmax(x, axis=-1)",
              "dim=None picks an axis from the input's rank, as softmax; pass dim.",
              call="torch.nn.functional.log_softmax(x, dim=-1)"),
        Jax("jax.nn.log_softmax", "axis=-1", "fastact.log_softmax(x, axis=-1)"),
        Keras("keras.activations.log_softmax", "axis=-1", "fastact.log_softmax(x, axis=-1)"),
        Onnx("LogSoftmax", "axis=-1", "fastact.log_softmax(x, axis=-1)",
             "Opset 13 on; before, the default axis was 1 and the input was flattened to 2-d at the axis."),
    ),
    "softmin": (
        Torch("torch.nn.functional.softmin", "dim=None", "fastact.softmin(x, axis=-1)",
              "dim=None picks an axis from the input's rank, as softmax; pass dim.",
              call="torch.nn.functional.softmin(x, dim=-1)"),
        Jax(differences="No jax.nn function (jax.nn.softmax(-x))."),
        Keras(differences="No keras.activations function."),
        Onnx(differences="No operator (Softmax of Neg)."),
    ),
    "logsumexp": (
        Torch("torch.logsumexp", fastact="fastact.logsumexp(x, axis=-1)",
              differences="dim is required (no default). The derivative of a row holding +inf is NaN at the "
              "+inf entries and 0 elsewhere (fastact: NaN throughout, as softmax of that row).",
              call="torch.logsumexp(x, dim=-1)", grad_differs_at=("one +inf", "two +inf")),
        Jax("jax.nn.logsumexp", "axis=None, keepdims=False", "fastact.logsumexp(x, axis=-1)",
            "axis=None reduces over every axis (fastact: the last). The derivative of a row holding +inf is NaN "
            "only at the +inf entries (fastact: NaN throughout).", call="jax.nn.logsumexp(x, axis=-1)",
            grad_differs_at=("one +inf", "two +inf")),
        Keras("keras.ops.logsumexp", "axis=None, keepdims=False", "fastact.logsumexp(x, axis=-1)",
              "No keras.activations function; axis=None reduces over every axis.",
              call="keras.ops.logsumexp(x, axis=-1)"),
        Onnx("ReduceLogSumExp", "keepdims=1, noop_with_empty_axes=0", "fastact.logsumexp(x, axis=-1)",
             "The axes are an input; without it every axis is reduced. keepdims defaults to 1 "
             "(fastact.logsumexp(x, axis, keepdims=True)). The reference evaluator gives NaN for a row of only "
             "-inf (fastact: -inf).", call="ReduceLogSumExp(x, [-1], keepdims=0)", value_differs_at=("only -inf",)),
    ),
    "logmeanexp": (
        Torch(differences="No function (torch.logsumexp(x, dim) - math.log(x.shape[dim]), which loses the "
              "exactness for a row of equal values)."),
        Jax(differences="No jax.nn function (jax.nn.logsumexp(x, axis) - log n)."),
        Keras(differences="No keras.activations or keras.ops function (keras.ops.logsumexp(x, axis) - log n)."),
        Onnx(differences="No operator (ReduceLogSumExp minus log n)."),
    ),
    "quiet_softmax": (
        Torch(differences="No function (torch.softmax of the row with a 0 logit appended, the extra column "
              "dropped)."),
        Jax(differences="No jax.nn function."),
        Keras(differences="No keras.activations function."),
        Onnx(differences="No operator (Softmax over the row with a 0 logit appended)."),
    ),
    "sparsemax": (
        Torch(differences="No function in PyTorch itself (the entmax package has entmax.sparsemax)."),
        Jax(differences="No jax.nn function."),
        Keras("keras.activations.sparsemax", "axis=-1", "fastact.sparsemax(x, axis=-1)",
              "Also keras.ops.sparsemax (Keras 3; before, TensorFlow Addons' tfa.activations.sparsemax). Its "
              "formula is not max-shifted: rows with +inf give inf (fastact: the limit, one-hot, for one +inf and "
              "NaN for two), and a NaN stays at its own entry (fastact: NaN row). With the jax backend the row "
              "(-0.0, 0.0, 0.5, -0.5) gives (0, 0, 1/3, 0), which does not sum to 1 (fastact: the projection "
              "(1/6, 1/6, 2/3, 0)).",
              value_differs_at=("two +inf", "one NaN", "signed zeros")),
        Onnx(differences="No operator."),
    ),
    "crelu": (
        Torch(differences="No function (torch.cat([relu(x), relu(-x)], dim))."),
        Jax(differences="No jax.nn function (TensorFlow has tf.nn.crelu(x, axis=-1))."),
        Keras(differences="No keras.activations function."),
        Onnx(differences="No operator (Concat of Relu(x) and Relu(Neg(x)))."),
    ),
    "rrelu": (
        Torch("torch.nn.functional.rrelu", "lower=0.125, upper=0.3333333333333333, training=False, inplace=False",
              "fastact.rrelu(x)", "In training the slopes come from torch's generator: the same seed gives other "
              "slopes than fastact's (NumPy's PCG64)."),
        Jax(differences="No jax.nn function."),
        Keras(differences="No keras.activations function or layer."),
        Onnx(differences="No operator (inference graphs use LeakyRelu with the mean slope)."),
    ),
    "glu": (
        Torch("torch.nn.functional.glu", "dim=-1", "fastact.glu(x, axis=-1)",
              "The gate is always sigmoid (fastact's gate='sigmoid', the default)."),
        Jax("jax.nn.glu", "axis=-1", "fastact.glu(x, axis=-1)", "The gate is always sigmoid."),
        Keras("keras.activations.glu", "axis=-1", "fastact.glu(x, axis=-1)", "The gate is always sigmoid."),
        Onnx(differences="No operator."),
    ),
    "maxout": (
        Torch(differences="No function (x.unflatten(dim, (-1, pieces)).amax(dim + 1))."),
        Jax(differences="No jax.nn function."),
        Keras(differences="No keras.activations function or layer."),
        Onnx(differences="No operator."),
    ),
    "prelu": (
        Torch("torch.nn.functional.prelu", fastact="fastact.prelu(x, weight=np.array([0.25]))",
              differences="weight holds 1 value or one per channel, the channel being dim 1, as fastact's axis=1 "
              "default. torch.nn.PReLU starts from init=0.25.",
              call="torch.nn.functional.prelu(x, torch.full((1,), 0.25, dtype=x.dtype))"),
        Jax(differences="No jax.nn function."),
        Keras("keras.layers.PReLU", "alpha_initializer='Zeros', shared_axes=None",
              differences="One slope per element of the non-batch shape unless shared_axes shares them; with every "
              "axis but the channels (last) shared it is fastact.prelu(x, weight, axis=-1). Per-element slopes "
              "have no fastact call. The slopes start at 0."),
        Onnx("PRelu", fastact="fastact.prelu(x, weight=np.array([0.25]))",
             differences="slope broadcasts to the input NumPy-style (from the last axis): per-channel slopes of "
             "an NCHW input have shape (C, 1, 1), fastact's weight shape (C,) with axis=1.",
             call="PRelu(x, [0.25])"),
    ),
}
