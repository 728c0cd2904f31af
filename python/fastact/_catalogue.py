"""The catalogue: one declarative entry per activation. The single source of truth on the Python side.

Adding an activation = a native kernel (rust/core/src/ops + one row in rust/core/src/table.rs), a NumPy
reference kernel (``_kernels_numpy.py``) and one entry here. Nothing else is written by hand.
"""

from __future__ import annotations

from ._spec import Activation, Alias, AxisActivation, Choice, FusedOperation, Param

CATALOGUE: tuple[Activation, ...] = (
    Activation(
        name="identity",
        summary="Linear activation: the input scaled by a constant slope.",
        formula="identity(x) = slope * x",
        derivative="identity'(x) = slope",
        from_output="slope",
        output_range="(-inf, inf) for slope != 0",
        properties=("linear", "smooth", "unbounded", "zero-centred"),
        conventions="identity(±inf) = ±inf * slope; with slope = 0 the output is a signed zero everywhere, "
        "±inf included (the limit, not the NaN of 0 * inf). identity(-0.0) = -0.0 * slope, NaN -> NaN. "
        "The derivative is the constant slope everywhere, NaN included.",
        params=(Param("slope", 1.0, "Factor the input is multiplied by.", check="finite"),),
        aliases=(Alias("linear", source="Keras"),),
        notes="The output activation of regression heads, or a way to switch a layer's non-linearity off "
        "without changing the code path.",
    ),
    Activation(
        name="binary_step",
        summary="Heaviside step: 1 at and above a threshold, 0 below it.",
        formula="binary_step(x) = 1 if x >= threshold else 0",
        derivative="binary_step'(x) = 0 (everywhere; the jump at x = threshold is ignored)",
        output_range="{0, 1}",
        properties=("piecewise-constant", "monotonic", "bounded", "discontinuous", "not zero-centred"),
        conventions="The test is x >= threshold, so binary_step(threshold) = 1 (with threshold 0, both -0.0 "
        "and +0.0 give 1); -inf -> 0, +inf -> 1, NaN -> NaN. The derivative is 0 everywhere, NaN -> NaN. "
        "heaviside(x) is numpy.heaviside(x, 1.0): NumPy and PyTorch take the value at 0 as a required argument "
        "(often 0.5, which binary_step cannot give), and torch.heaviside maps NaN to 0.",
        params=(Param("threshold", 0.0, "Input value at and above which the output is 1.", check="not_nan"),),
        aliases=(Alias("heaviside", source="NumPy, PyTorch"),),
        notes="Its gradient is zero, so it cannot be trained by backpropagation: use it for hard decisions at "
        "inference time or in perceptron-style learning rules.",
    ),
    Activation(
        name="sigmoid",
        summary="Logistic function: squashes any real number into (0, 1).",
        formula="sigmoid(x) = 1 / (1 + exp(-x))",
        derivative="sigmoid'(x) = sigmoid(x) * (1 - sigmoid(x)) = exp(-|x|) / (1 + exp(-|x|))^2",
        from_output="y * (1 - y)",
        output_range="(0, 1)",
        properties=("smooth", "monotonic", "bounded", "not zero-centred"),
        conventions="sigmoid(-inf) = 0, sigmoid(+inf) = 1, sigmoid(0) = 0.5, NaN -> NaN; sigmoid'(±inf) = 0, "
        "NaN -> NaN. Results below the smallest normal float (x < -87.3 in float32) are computed as "
        "subnormals, not flushed to 0.",
        aliases=(Alias("expit", source="SciPy"), Alias("logistic", source="scikit-learn")),
        notes="Output layer for binary or multi-label probabilities and the gate of LSTM/GRU cells; in deep "
        "hidden layers it saturates and its outputs are all positive, which slows training.",
    ),
    Activation(
        name="tanh",
        summary="Hyperbolic tangent: a zero-centred squashing function into (-1, 1).",
        formula="tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x)) = 2 * sigmoid(2x) - 1",
        derivative="tanh'(x) = 1 - tanh(x)^2 = 1 / cosh(x)^2",
        from_output="1 - y^2",
        output_range="(-1, 1)",
        properties=("smooth", "monotonic", "bounded", "zero-centred", "odd"),
        conventions="tanh(-inf) = -1, tanh(+inf) = 1, tanh(-0.0) = -0.0, NaN -> NaN; tanh'(±inf) = 0, "
        "NaN -> NaN.",
        notes="Zero-centred alternative to sigmoid for hidden layers and recurrent cells; it still saturates, "
        "so gradients vanish once |x| exceeds a few units.",
    ),
    Activation(
        name="relu",
        summary="Rectified linear unit: passes positive inputs, zeroes negative ones.",
        formula="relu(x) = max(0, x)",
        derivative="relu'(x) = 1 if x > 0 else 0",
        from_output="1 if y > 0 else 0",
        output_range="[0, inf)",
        properties=("piecewise-linear", "monotonic", "non-negative", "unbounded", "sparse", "not zero-centred"),
        conventions="relu(x) = 0 if x < 0 else x, so relu(-0.0) = -0.0 and NaN -> NaN; relu(-inf) = 0, "
        "relu(+inf) = +inf. Derivative (PyTorch's test x <= 0 -> 0): relu'(0) = 0, relu'(NaN) = 1; the "
        "from-output form applies the same test to y.",
        notes="The default hidden-layer activation: cheap and non-saturating for x > 0; a unit whose inputs "
        "stay negative gets no gradient and stops learning ('dying ReLU').",
    ),
    Activation(
        name="leaky_relu",
        from_output_requires=(("negative_slope >= 0", "the output determines the derivative only for "
                               "negative_slope >= 0; use leaky_relu_grad(x, ...)"),),
        summary="ReLU with a small non-zero slope for negative inputs.",
        formula="leaky_relu(x) = x if x > 0 else negative_slope * x",
        derivative="leaky_relu'(x) = 1 if x > 0 else negative_slope",
        from_output="1 if y > 0 else negative_slope",
        output_range="(-inf, inf) for negative_slope > 0",
        properties=("piecewise-linear", "monotonic", "unbounded"),
        conventions="The test is x > 0: leaky_relu(-0.0) = -0.0 * negative_slope, NaN -> NaN, +inf -> +inf, "
        "-inf -> -inf * negative_slope (a signed zero, not NaN, when negative_slope = 0). Derivative: "
        "leaky_relu'(0) = negative_slope and leaky_relu'(NaN) = negative_slope. The from-output form tests "
        "y > 0, which matches x > 0 for negative_slope >= 0.",
        params=(Param("negative_slope", 0.01, "Slope applied to inputs x <= 0.", check="finite"),),
        notes="Keeps a small gradient for negative inputs so units cannot die; a drop-in replacement for relu.",
    ),
    Activation(
        name="softplus",
        from_output_requires=(("beta > 0", "the output determines the derivative only for beta > 0; "
                               "use softplus_grad(x, ...)"),),
        summary="Smooth approximation of ReLU; PyTorch's parameterisation with beta and a linear threshold.",
        formula="softplus(x) = log(1 + exp(beta*x)) / beta, or x where beta*x > threshold",
        derivative="softplus'(x) = sigmoid(beta*x), or 1 where beta*x > threshold",
        from_output="1 - exp(-beta*y), or 1 where beta*y > threshold",
        output_range="(0, inf) for beta > 0",
        properties=("smooth", "monotonic", "non-negative", "unbounded"),
        conventions="Where beta*x > threshold the result is x and the derivative 1 (PyTorch's switch to the "
        "identity); elsewhere log1p(exp(beta*x))/beta. softplus(-inf) = 0, softplus(+inf) = +inf, "
        "softplus'(-inf) = 0, softplus'(+inf) = 1; NaN -> NaN for both. threshold = +inf never switches.",
        params=(
            Param("beta", 1.0, "Sharpness; the curve approaches relu as beta grows.", check="nonzero"),
            Param("threshold", 20.0, "Above beta*x > threshold the function is the identity.", check="not_nan"),
        ),
        notes="Use where a strictly positive output is needed (variances, rates, scale parameters) or as a "
        "smooth relu with a gradient everywhere.",
    ),
    Activation(
        name="elu",
        from_output_requires=(("alpha >= 0", "the output determines the derivative only for alpha >= 0; "
                               "use elu_grad(x, ...)"),),
        summary="Exponential linear unit: identity for x > 0, a saturating exponential below.",
        formula="elu(x) = x if x > 0 else alpha * (exp(x) - 1)",
        derivative="elu'(x) = 1 if x > 0 else alpha * exp(x)",
        from_output="y + alpha if y <= 0 else 1",
        output_range="(-alpha, inf) for alpha > 0",
        properties=("continuous", "monotonic", "bounded below", "unbounded above", "C1 for alpha = 1"),
        conventions="elu(-inf) = -alpha, elu(+inf) = +inf, elu(-0.0) = -0.0, NaN -> NaN. Derivative "
        "(PyTorch's test x <= 0): elu'(0) = alpha, elu'(NaN) = 1, elu'(-inf) = 0. The from-output form tests "
        "y <= 0, which matches x <= 0 for alpha >= 0.",
        params=(Param("alpha", 1.0, "Size of the negative saturation: elu(-inf) = -alpha.", check="finite"),),
        notes="Negative outputs pull mean activations towards zero and the curve saturates smoothly for large "
        "negative inputs; costs an exponential for x <= 0.",
    ),
    Activation(
        name="celu",
        from_output_requires=(("alpha > 0", "the output determines the derivative only for alpha > 0; "
                               "use celu_grad(x, ...)"),),
        summary="Continuously differentiable ELU: the exponential's argument is scaled by 1/alpha.",
        formula="celu(x) = max(0, x) + min(0, alpha * (exp(x / alpha) - 1))",
        derivative="celu'(x) = 1 if x > 0 else exp(x / alpha)",
        from_output="y / alpha + 1 if y <= 0 else 1",
        output_range="(-alpha, inf) for alpha > 0",
        properties=("continuously differentiable", "monotonic", "bounded below", "unbounded above"),
        conventions="Computed as x for x > 0 and alpha * expm1(x / alpha) otherwise: celu(-0.0) = -0.0, "
        "celu(-inf) = -alpha, celu(+inf) = +inf, NaN -> NaN. Derivative (test x <= 0): celu'(0) = 1, "
        "celu'(NaN) = 1, celu'(-inf) = 0 for alpha > 0.",
        params=(Param("alpha", 1.0, "Size of the negative saturation and scale of the exponential.",
                      check="nonzero"),),
        notes="ELU whose derivative is continuous at 0 for every alpha (celu with alpha = 1 is elu with "
        "alpha = 1); choose it over elu when alpha != 1.",
    ),
    Activation(
        name="selu",
        summary="Scaled ELU with fixed constants that make activations self-normalising.",
        formula="selu(x) = scale * (x if x > 0 else alpha * (exp(x) - 1)), scale = 1.0507009873554804934..., "
        "alpha = 1.6732632423543772848...",
        derivative="selu'(x) = scale if x > 0 else scale * alpha * exp(x)",
        from_output="y + scale * alpha if y <= 0 else scale",
        output_range="(-scale * alpha, inf) = (-1.7580993..., inf)",
        properties=("self-normalising", "monotonic", "bounded below", "unbounded above"),
        conventions="selu(-inf) = -scale * alpha, selu(+inf) = +inf, selu(-0.0) = -0.0, NaN -> NaN. "
        "Derivative (test x <= 0): selu'(0) = scale * alpha, selu'(NaN) = scale, selu'(-inf) = 0. "
        "scale * alpha is one constant, rounded once from the exact product.",
        notes="For plain feed-forward stacks with LeCun-normal initialisation (and alpha-dropout), where it keeps "
        "activations near zero mean and unit variance without normalisation layers.",
    ),
    Activation(
        name="gelu",
        summary="Gaussian Error Linear Unit: x weighted by the standard normal CDF.",
        formula="gelu(x) = x * Phi(x) = 0.5 * x * erfc(-x / sqrt(2));  approximate='tanh': "
        "0.5 * x * (1 + tanh(u)), u = sqrt(2/pi) * (x + 0.044715 * x^3);  approximate='sigmoid': "
        "x * sigmoid(1.702 * x)",
        derivative="gelu'(x) = Phi(x) + x * phi(x), phi(x) = exp(-x^2/2) / sqrt(2*pi);  approximate='tanh': "
        "0.5 * (1 + tanh(u)) + 0.5 * x * (1 - tanh(u)^2) * sqrt(2/pi) * (1 + 0.134145 * x^2);  "
        "approximate='sigmoid': s + 1.702 * x * s * (1 - s), s = sigmoid(1.702 * x)",
        output_range="[-0.16997, inf) (minimum at x = -0.75179; with approximate='tanh' -0.17004 at x = -0.75246, "
        "with approximate='sigmoid' -0.16361 at x = -0.75115)",
        properties=("smooth", "non-monotonic", "bounded below", "unbounded above"),
        conventions="gelu(-inf) = -0.0, gelu(+inf) = +inf (the mathematical limits; NumPy formulas give NaN), "
        "gelu(-0.0) = -0.0, NaN -> NaN; gelu'(-inf) = 0, gelu'(+inf) = 1, NaN -> NaN. The same holds for "
        "approximate='tanh' and approximate='sigmoid'. The constants 0.044715 and 1.702 are the decimals, "
        "exactly (carried as hi + lo), in float32 too: Hugging Face's quick_gelu multiplies by 1.702 rounded to "
        "float32 there, which moves results in the far negative tail by a few ULP per unit of x.",
        params=(Choice("approximate", "none", {"none": "gelu", "tanh": "gelu_tanh", "sigmoid": "gelu_sigmoid"},
                       "'none' for the exact erf form, 'tanh' for the tanh approximation, 'sigmoid' for "
                       "x * sigmoid(1.702 * x) ('quick GELU')."),),
        aliases=(
            Alias("gelu_new", bind={"approximate": "tanh"}, source="Hugging Face"),
            Alias("gelu_pytorch_tanh", bind={"approximate": "tanh"}, source="Hugging Face"),
            Alias("quick_gelu", bind={"approximate": "sigmoid"}, source="Hugging Face"),
        ),
        cancellation="The derivative Phi(x) + x * phi(x) cancels near its zero at x = -0.7518 (-0.7525 for "
        "'tanh', -0.7512 for 'sigmoid'): there it keeps an absolute error of about 2^-53 but no relative "
        "accuracy.",
        notes="The usual activation of transformer models (BERT, GPT, ViT); approximate='tanh' reproduces "
        "models trained with the tanh formula, approximate='sigmoid' those trained with 'quick GELU' (CLIP).",
    ),
    Activation(
        name="relu6",
        summary="ReLU capped at 6.",
        formula="relu6(x) = min(max(0, x), 6)",
        derivative="relu6'(x) = 1 if 0 < x < 6 else 0",
        from_output="1 if 0 < y < 6 else 0",
        output_range="[0, 6]",
        properties=("piecewise-linear", "monotonic", "bounded", "non-negative", "sparse"),
        conventions="relu6(x) = 0 if x < 0, 6 if x > 6, else x: relu6(-0.0) = -0.0, NaN -> NaN, "
        "relu6(-inf) = 0, relu6(+inf) = 6. Derivative (PyTorch's test x <= 0 or x >= 6 -> 0): "
        "relu6'(0) = relu6'(6) = 0, relu6'(NaN) = 1; the from-output form applies the same test to y.",
        notes="Bounding the activations keeps them representable in low-precision and fixed-point inference "
        "(MobileNet).",
    ),
    Activation(
        name="log_sigmoid",
        summary="Logarithm of the logistic function, computed without overflow or log(0).",
        formula="log_sigmoid(x) = log(sigmoid(x)) = -softplus(-x) = min(x, 0) - log(1 + exp(-|x|))",
        derivative="log_sigmoid'(x) = sigmoid(-x) = 1 - sigmoid(x)",
        output_range="(-inf, 0)",
        properties=("smooth", "monotonic", "concave", "non-positive", "unbounded below"),
        conventions="log_sigmoid(-inf) = -inf, log_sigmoid(+inf) = 0 (+0.0), NaN -> NaN; "
        "log_sigmoid'(-inf) = 1, log_sigmoid'(+inf) = 0, NaN -> NaN.",
        aliases=(Alias("logsigmoid", source="PyTorch"), Alias("log_expit", source="SciPy")),
        notes="Mostly used inside losses (logistic loss from logits, negative sampling), where log(sigmoid(x)) "
        "computed naively returns -inf for very negative x.",
    ),
    Activation(
        name="hard_sigmoid",
        summary="Piecewise-linear approximation of the sigmoid: a clipped line, PyTorch's by default.",
        formula="hard_sigmoid(x) = min(max(alpha * x + beta, 0), 1); with the defaults relu6(x + 3) / 6",
        derivative="hard_sigmoid'(x) = alpha where 0 < alpha * x + beta < 1, else 0 (with the defaults: 1/6 if "
        "-3 < x < 3 else 0)",
        output_range="[0, 1]",
        properties=("piecewise-linear", "monotonic", "bounded", "not zero-centred"),
        conventions="With the defaults (PyTorch's): hard_sigmoid(x) = 0 for x <= -3 and 1 for x >= 3, "
        "hard_sigmoid(0) = 0.5, computed as (x + 3)/6 correctly rounded; -inf -> 0, +inf -> 1, NaN -> NaN. "
        "Other alpha and beta (Keras 2 and ONNX use alpha = 0.2): alpha * x + beta rounded once (one fused "
        "multiply-add) and clamped to [0, 1]; alpha = 0 gives the clamped beta everywhere, ±inf included. "
        "The derivative is alpha strictly between the kinks and 0 at them and outside (PyTorch's test "
        "-3 < x < 3 for the defaults), 0 at NaN. The defaults are recognised as alpha = 1/6 and beta = 0.5 "
        "rounded to the input's precision.",
        params=(
            Param("alpha", 1.0 / 6.0, "Slope of the linear part.", check="finite"),
            Param("beta", 0.5, "Value of the linear part at x = 0.", check="finite"),
        ),
        aliases=(Alias("hardsigmoid", source="PyTorch"),),
        notes="A cheap stand-in for sigmoid in gates and attention modules of mobile networks (MobileNetV3).",
    ),
    Activation(
        name="sine",
        summary="Sine activation of SIREN networks: a periodic function of the scaled input.",
        formula="sine(x) = sin(w0 * x)",
        derivative="sine'(x) = w0 * cos(w0 * x)",
        output_range="[-1, 1]",
        properties=("smooth", "periodic", "bounded", "zero-centred", "non-monotonic", "odd"),
        conventions="sine(±inf) = NaN and sine'(±inf) = NaN (sin and cos have no limit), NaN -> NaN, "
        "sine(-0.0) = -0.0 for w0 > 0.",
        params=(Param("w0", 1.0, "Frequency factor; SIREN uses w0 = 30.", check="finite"),),
        cancellation="With w0 != 1 the product w0 * x is rounded before sin/cos: near the zeros of the result "
        "(w0 * x close to a non-zero multiple of pi, or of pi/2 for the derivative) and for large |w0 * x| "
        "that argument error of up to ulp(w0 * x)/2 dominates the relative error.",
        notes="For implicit neural representations (SIREN) of images, audio and PDE solutions; it needs the "
        "matching initialisation scheme to train well.",
    ),
    Activation(
        name="silu",
        summary="Sigmoid-weighted linear unit (swish with beta = 1): the input gated by its own sigmoid.",
        formula="silu(x) = x * sigmoid(x) = x / (1 + exp(-x))",
        derivative="silu'(x) = sigmoid(x) * (1 + x * (1 - sigmoid(x)))",
        output_range="[-0.27846, inf) (minimum at x = -1.27846)",
        properties=("smooth", "non-monotonic", "bounded below", "unbounded above"),
        conventions="silu(-inf) = -0.0, silu(+inf) = +inf (the limits, not the NaN of -inf * 0), "
        "silu(-0.0) = -0.0, NaN -> NaN; silu'(-inf) = 0, silu'(+inf) = 1, NaN -> NaN.",
        cancellation="The derivative's factor 1 + x * (1 - sigmoid(x)) cancels near its zero at x = -1.2785: "
        "there it keeps an absolute error of about 2^-53 but no relative accuracy.",
        notes="A smooth self-gated relu alternative, used in EfficientNet, YOLO and the gated MLPs (SwiGLU) "
        "of many language models.",
    ),
    Activation(
        name="swish",
        summary="Swish with a slope: the input gated by the sigmoid of beta times itself (silu for beta = 1).",
        formula="swish(x) = x * sigmoid(beta * x) = x / (1 + exp(-beta * x))",
        derivative="swish'(x) = s + z * s * (1 - s), z = beta * x, s = sigmoid(z) (silu's derivative at z)",
        output_range="[-0.27846 / beta, inf) for beta > 0 (x / 2 for beta = 0)",
        properties=("smooth", "non-monotonic for beta != 0", "bounded below for beta > 0"),
        conventions="beta * x is taken exactly (hi + lo), so the negative tail keeps full relative accuracy. "
        "swish(±inf) is the limit: x where beta * x > 0 or beta = 0, a zero of x's sign where beta * x < 0 "
        "(never the NaN of inf * 0); swish(-0.0) = -0.0, NaN -> NaN. swish'(x) tends to 1 where beta * x -> "
        "+inf, to 0 where it -> -inf, and is 1/2 everywhere for beta = 0.",
        params=(Param("beta", 1.0, "Slope inside the sigmoid; beta = 1 is silu, large beta approaches relu.",
                      check="finite"),),
        cancellation="The derivative's factor 1 + z * (1 - sigmoid(z)) cancels near its zero at "
        "beta * x = -1.2785: there it keeps an absolute error of about 2^-53 but no relative accuracy.",
        notes="The form with a slope from Ramachandran et al. (2017), TensorFlow's silu(features, beta); JAX's and "
        "Keras's swish are silu (beta = 1), which this function gives by default.",
    ),
    Activation(
        name="mish",
        summary="Self-regularised non-monotonic activation: x times the tanh of its softplus.",
        formula="mish(x) = x * tanh(softplus(x)) = x * tanh(log(1 + exp(x)))",
        derivative="mish'(x) = tanh(softplus(x)) + x * sigmoid(x) * (1 - tanh(softplus(x))^2)",
        output_range="[-0.30884, inf) (minimum at x = -1.19243)",
        properties=("smooth", "non-monotonic", "bounded below", "unbounded above"),
        conventions="mish(-inf) = -0.0, mish(+inf) = +inf, mish(-0.0) = -0.0, NaN -> NaN; mish'(-inf) = 0, "
        "mish'(+inf) = 1, NaN -> NaN.",
        cancellation="The derivative's two terms cancel near its zero at x = -1.1924: there it keeps an "
        "absolute error of about 2^-53 but no relative accuracy.",
        notes="Behaves much like silu with a slightly deeper negative dip (YOLOv4); costs more exponentials.",
    ),
    Activation(
        name="hard_swish",
        summary="Piecewise approximation of silu/swish without exponentials.",
        formula="hard_swish(x) = x * relu6(x + 3) / 6",
        derivative="hard_swish'(x) = 0 if x < -3, x/3 + 1/2 if -3 <= x <= 3, 1 if x > 3",
        output_range="[-0.375, inf) (minimum at x = -1.5)",
        properties=("piecewise-quadratic", "continuous", "non-monotonic", "bounded below", "unbounded above"),
        conventions="hard_swish(x) = -0.0 for x <= -3 (x * 0), x for x >= 3; hard_swish(-inf) = -0.0, "
        "hard_swish(+inf) = +inf, hard_swish(±0.0) = ±0.0, NaN -> NaN. Derivative (PyTorch's tests): "
        "0 if x <= -3, else x/3 + 1/2 if x < 3, else 1, so hard_swish'(-3) = 0, hard_swish'(3) = 1 and "
        "hard_swish'(NaN) = 1.",
        aliases=(Alias("hardswish", source="PyTorch"), Alias("hard_silu", source="JAX, Keras")),
        cancellation="x/3 + 1/2 cancels near x = -1.5; written as (x + 1.5)/3 the derivative is exact to "
        "1 ULP there.",
        notes="The mobile-friendly swish of MobileNetV3: no exponentials, so it is cheap and quantises well.",
    ),
    Activation(
        name="hard_tanh",
        requires=(("min_val <= max_val", "min_val must not exceed max_val"),),
        summary="Clamps the input to [min_val, max_val]; a piecewise-linear tanh.",
        formula="hard_tanh(x) = min(max(x, min_val), max_val)",
        derivative="hard_tanh'(x) = 1 if min_val < x < max_val else 0",
        from_output="1 if min_val < y < max_val else 0",
        output_range="[min_val, max_val]",
        properties=("piecewise-linear", "monotonic", "bounded", "zero-centred"),
        conventions="x < min_val -> min_val, x > max_val -> max_val, else x: -0.0 is kept inside the range, "
        "NaN -> NaN, ±inf -> the bounds. Derivative (PyTorch's test x <= min_val or x >= max_val -> 0): 0 at "
        "both bounds, 1 at NaN; the from-output form applies the same test to y. Expects min_val <= max_val "
        "(otherwise every output is max_val, as with torch.clamp).",
        params=(
            Param("min_val", -1.0, "Lower bound of the output.", check="finite"),
            Param("max_val", 1.0, "Upper bound of the output.", check="finite"),
        ),
        aliases=(Alias("hardtanh", source="PyTorch"),),
        notes="A cheap bounded alternative to tanh, also used to clip activations to a fixed range.",
    ),
    Activation(
        name="softsign",
        summary="Rational squashing function into (-1, 1) that saturates polynomially.",
        formula="softsign(x) = x / (1 + |x|)",
        derivative="softsign'(x) = 1 / (1 + |x|)^2",
        output_range="(-1, 1)",
        properties=("continuously differentiable", "monotonic", "bounded", "zero-centred", "odd"),
        conventions="softsign(±inf) = ±1 (the limit, not the NaN of inf/inf), softsign(-0.0) = -0.0, "
        "NaN -> NaN; softsign'(0) = 1, softsign'(±inf) = 0, NaN -> NaN.",
        aliases=(Alias("soft_sign", source="JAX"),),
        notes="Like tanh, but its tails approach ±1 as 1/|x| instead of exponentially, so it saturates more "
        "gently; no exponential to compute.",
    ),
    Activation(
        name="tanhshrink",
        summary="The input minus its hyperbolic tangent.",
        formula="tanhshrink(x) = x - tanh(x)",
        derivative="tanhshrink'(x) = tanh(x)^2",
        output_range="(-inf, inf)",
        properties=("smooth", "monotonic", "unbounded", "zero-centred", "odd"),
        conventions="tanhshrink(±inf) = ±inf, tanhshrink(-0.0) = -0.0 (odd symmetry), NaN -> NaN; "
        "tanhshrink'(±inf) = 1, tanhshrink'(0) = 0, NaN -> NaN.",
        aliases=(Alias("tanh_shrink", source="Keras"),),
        cancellation="x - tanh(x) is about x^3/3 near 0: taken as a plain difference it cancels for |x| < ~0.5, "
        "and its relative error grows like that of the tanh kernel times 3/x^2. Accurate kernels use the series "
        "x^3/3 - 2x^5/15 + 17x^7/315 - 62x^9/2835 + ... (or a continued fraction) there.",
        notes="Close to 0 for small inputs and to x - sign(x) for large ones (a soft dead zone); rarely used in "
        "hidden layers.",
    ),
    Activation(
        name="softshrink",
        summary="Soft thresholding: moves the input towards 0 by lambd and zeroes [-lambd, lambd].",
        formula="softshrink(x) = x - lambd if x > lambd, x + lambd if x < -lambd, else 0",
        derivative="softshrink'(x) = 0 if -lambd <= x <= lambd else 1",
        output_range="(-inf, inf)",
        properties=("piecewise-linear", "monotonic", "zero-centred", "odd", "sparse"),
        conventions="Inside [-lambd, lambd] the output is x * 0 (-0.0 for negative x; PyTorch 2.15 gives that in "
        "its scalar loop, +0.0 in its vectorised one); NaN -> NaN, ±inf -> ±inf. The derivative is 0 on the "
        "closed interval [-lambd, lambd], both ends included, and 1 outside it and at NaN.",
        params=(Param("lambd", 0.5, "Half-width of the zeroed interval and size of the shrink.",
                      check="nonnegative"),),
        aliases=(Alias("soft_shrink", source="Keras"),),
        notes="The proximal operator of the L1 norm, used in sparse coding, ISTA-style unrolled networks and "
        "denoising.",
    ),
    Activation(
        name="hardshrink",
        summary="Hard thresholding: zeroes inputs in [-lambd, lambd], passes the rest unchanged.",
        formula="hardshrink(x) = 0 if -lambd <= x <= lambd else x",
        derivative="hardshrink'(x) = 0 if -lambd <= x <= lambd else 1",
        output_range="(-inf, -lambd) ∪ {0} ∪ (lambd, inf)",
        properties=("piecewise-linear", "discontinuous", "zero-centred", "odd", "sparse"),
        conventions="0 (+0.0) on the closed interval [-lambd, lambd] (so hardshrink(-0.0) = +0.0), x elsewhere; "
        "NaN -> NaN, ±inf -> ±inf. The derivative is 0 on [-lambd, lambd] and 1 outside it and at NaN.",
        params=(Param("lambd", 0.5, "Half-width of the zeroed interval.", check="nonnegative"),),
        aliases=(Alias("hard_shrink", source="Keras"),),
        notes="Removes small values and keeps large ones untouched, e.g. to sparsify features or coefficients.",
    ),
    Activation(
        name="threshold",
        summary="Replaces every input at or below a threshold by a fixed value.",
        formula="threshold(x) = value if x <= threshold else x",
        derivative="threshold'(x) = 0 if x <= threshold else 1",
        output_range="{value} ∪ (threshold, inf)",
        properties=("piecewise-linear", "monotonic for value <= threshold", "discontinuous for value != threshold"),
        conventions="The test is x <= threshold: at x = threshold the output is value and the derivative 0; "
        "NaN -> NaN with derivative 1; ±inf follow the test.",
        params=(
            Param("threshold", None, "Inputs at or below this are replaced.", check="not_nan"),
            Param("value", None, "The replacement value.", check="not_nan"),
        ),
        notes="PyTorch's generalised relu: threshold(x, 0, 0) is relu(x) up to the sign of zero; both "
        "arguments are required.",
    ),
    Activation(
        name="relu2",
        summary="Squared ReLU: the square of the positive part.",
        formula="relu2(x) = max(0, x)^2",
        derivative="relu2'(x) = 2 * max(0, x)",
        from_output="2 * sqrt(y) if y > 0 else 0",
        output_range="[0, inf)",
        properties=("piecewise-quadratic", "continuously differentiable", "monotonic", "convex", "non-negative",
                    "unbounded", "sparse"),
        conventions="relu2(x) = +0.0 for x <= 0 (-0.0 included: a square's zero is +0.0), x * x rounded once "
        "above (+inf beyond the square root of the largest float); relu2(-inf) = 0, relu2(+inf) = +inf, "
        "NaN -> NaN. Derivative (relu's test x <= 0 -> 0): 0 at 0, 2x above, NaN at NaN; the from-output form "
        "applies the same test to y (0 for y <= 0, else 2 * sqrt(y)).",
        notes="The feed-forward activation of Primer (So et al., 2021), also used in later language models: "
        "as cheap as relu, with a gradient that grows with the input.",
    ),
    Activation(
        name="squareplus",
        summary="Smooth ReLU built on a square root: softplus' shape without an exponential.",
        formula="squareplus(x) = (x + sqrt(x^2 + b)) / 2",
        derivative="squareplus'(x) = (1 + x / sqrt(x^2 + b)) / 2 = squareplus(x) / sqrt(x^2 + b)",
        from_output="y^2 / (y^2 + b/4)",
        output_range="(0, inf) for b > 0",
        properties=("smooth for b > 0", "monotonic", "convex", "non-negative", "unbounded"),
        conventions="squareplus(-inf) = +0.0 and squareplus(+inf) = +inf (the limits; the formula gives NaN at "
        "-inf), NaN -> NaN; squareplus'(-inf) = 0, squareplus'(+inf) = 1, NaN -> NaN. Nothing overflows: huge "
        "(and tiny) arguments are scaled by a power of two before x^2 + b is formed. With b = 0 it is relu "
        "with +0.0 for x <= 0, and the derivative at x = 0 is 0, as relu'(0) (the from-output form gives 0 at "
        "y = 0).",
        params=(Param("b", 4.0, "Smoothness: squareplus(0) = sqrt(b)/2 and the curvature there is "
                      "1/(2 sqrt(b)); b = 0 gives relu.", check="nonnegative"),),
        cancellation="For x << 0, x + sqrt(x^2 + b) cancels, and so does 1 + x/sqrt(x^2 + b) in the "
        "derivative: written as b / (2 (sqrt(x^2 + b) - x)) and squareplus(x) / sqrt(x^2 + b), both keep full "
        "relative accuracy down to x = -inf.",
        notes="Barron (2021): a softplus look-alike needing only a square root, and b sets how sharp the bend "
        "is. Unlike softplus it approaches 0 slowly, as b / (4|x|).",
    ),
    Activation(
        name="sparse_plus",
        summary="Piecewise-quadratic softplus: exactly 0 below -1 and the identity above 1.",
        formula="sparse_plus(x) = 0 if x <= -1, (x + 1)^2 / 4 if -1 < x < 1, x if x >= 1",
        derivative="sparse_plus'(x) = sparse_sigmoid(x) = 0 if x <= -1, (x + 1) / 2 if -1 < x < 1, 1 if x >= 1",
        from_output="sqrt(y) for 0 <= y < 1, 1 for y >= 1",
        output_range="[0, inf)",
        properties=("piecewise-quadratic", "continuously differentiable", "monotonic", "convex", "non-negative",
                    "unbounded", "sparse"),
        conventions="+0.0 for x <= -1 (-inf included), x for x >= 1 (+inf -> +inf), (x + 1)^2 / 4 rounded once "
        "between; NaN -> NaN. The derivative is continuous, so its kinks need no convention: 0 for x <= -1, "
        "(x + 1)/2 rounded once, 1 for x >= 1, NaN -> NaN. The from-output form is sqrt(y) with y clamped to "
        "[0, 1].",
        notes="The twin of softplus from Fenchel-Young losses (Blondel et al.): zero output below -1 gives "
        "sparse activations, and it costs no exponential.",
    ),
    Activation(
        name="sparse_sigmoid",
        summary="Piecewise-linear sigmoid: 0 below -1, 1 above 1, linear between; sparse_plus' derivative.",
        formula="sparse_sigmoid(x) = clip(x + 1, 0, 2) / 2 = 0 if x <= -1, (x + 1) / 2 if -1 < x < 1, 1 if x >= 1",
        derivative="sparse_sigmoid'(x) = 1/2 if -1 < x < 1 else 0",
        from_output="1/2 if 0 < y < 1 else 0",
        output_range="[0, 1]",
        properties=("piecewise-linear", "monotonic", "bounded", "not zero-centred"),
        conventions="+0.0 for x <= -1, 1 for x >= 1, (x + 1)/2 rounded once between (sparse_sigmoid(0) = 0.5); "
        "-inf -> 0, +inf -> 1, NaN -> NaN. Derivative (hard_sigmoid's test -1 < x < 1): 0 at x = ±1, outside "
        "and at NaN; the from-output form tests 0 < y < 1.",
        notes="hard_sigmoid with its linear part on [-1, 1] instead of [-3, 3]; the sigmoid of the "
        "Fenchel-Young family, whose integral is sparse_plus.",
    ),
    Activation(
        name="shrink",
        summary="ONNX's Shrink: zeroes [-lambd, lambd] and moves the other inputs towards 0 by bias.",
        formula="shrink(x) = x + bias if x < -lambd, x - bias if x > lambd, else 0",
        derivative="shrink'(x) = 0 if -lambd <= x <= lambd else 1",
        output_range="(-inf, bias - lambd) ∪ {0} ∪ (lambd - bias, inf)",
        properties=("piecewise-linear", "zero-centred", "odd", "sparse", "continuous for bias = lambd",
                    "monotonic for bias <= lambd"),
        conventions="+0.0 on the closed interval [-lambd, lambd] (so shrink(-0.0) = +0.0), x + bias and "
        "x - bias rounded once outside it; NaN -> NaN (ONNX: 0), ±inf -> ±inf. The derivative is 0 on "
        "[-lambd, lambd] and 1 outside it and at NaN. With bias = 0 it is hardshrink; with bias = lambd, "
        "softshrink up to the sign of zero results (softshrink's carry the sign of x).",
        params=(
            Param("lambd", 0.5, "Half-width of the zeroed interval.", check="nonnegative"),
            Param("bias", 0.0, "Subtracted from inputs above lambd, added to inputs below -lambd.", check="finite"),
        ),
        notes="The operator both of PyTorch's shrinks become in ONNX; with another bias, what an ONNX graph's "
        "Shrink computes.",
    ),
    Activation(
        name="logit",
        summary="The log-odds, inverse of the sigmoid: maps (0, 1) onto the real line.",
        formula="logit(x) = log(x / (1 - x)), x first clamped to [eps, 1 - eps] when eps is given",
        derivative="logit'(x) = 1 / (x * (1 - x)); with eps, 0 outside [eps, 1 - eps]",
        output_range="(-inf, inf); [logit(eps), -logit(eps)] with eps",
        properties=("smooth", "monotonic", "unbounded", "odd about x = 1/2"),
        conventions="PyTorch's torch.logit: without eps, logit(0) = -inf, logit(1) = +inf and inputs outside "
        "[0, 1] give NaN, as does the derivative outside [0, 1] (1/(x(1 - x)) = +inf at 0 and 1). With eps, "
        "x is clamped to [eps, 1 - eps] (1 - eps rounded in the input's precision, as PyTorch does) and the "
        "derivative is 0 outside that interval, 1/(x(1 - x)) on it. logit(-0.0) = -inf, NaN -> NaN. Computed "
        "as log1p((2x - 1)/(1 - x)) from x = 1/4 up, so the zero at x = 1/2 keeps full relative accuracy.",
        params=(Param("eps", None, "Clamp inputs to [eps, 1 - eps] first; None (the default) does not clamp.",
                      check="half_unit", absent=-1.0),),
        domain=(0.0, 1.0),
        notes="Turns probabilities back into logits (calibration, inverse-sigmoid parameterisations, the "
        "log-odds of Bernoulli distributions).",
    ),
    Activation(
        name="erf",
        summary="The error function: the Gaussian integral behind the exact GELU.",
        formula="erf(x) = 2/sqrt(pi) * integral from 0 to x of exp(-t^2) dt",
        derivative="erf'(x) = 2/sqrt(pi) * exp(-x^2)",
        output_range="(-1, 1)",
        properties=("smooth", "monotonic", "bounded", "zero-centred", "odd"),
        conventions="erf(±inf) = ±1, erf(-0.0) = -0.0, NaN -> NaN; erf'(±inf) = 0. Near 0 it keeps full "
        "relative accuracy (a Taylor series, not 1 - erfc); beyond |x| = 1/2 it is ±(1 - erfc(|x|)).",
        notes="A building block: gelu(x) = x * (1 + erf(x / sqrt(2))) / 2; also a smooth, saturating "
        "activation in its own right.",
    ),
    Activation(
        name="erfc",
        summary="The complementary error function 1 - erf(x), accurate in its right tail.",
        formula="erfc(x) = 1 - erf(x) = 2/sqrt(pi) * integral from x to inf of exp(-t^2) dt",
        derivative="erfc'(x) = -2/sqrt(pi) * exp(-x^2)",
        output_range="(0, 2)",
        properties=("smooth", "monotonic (decreasing)", "bounded", "not zero-centred"),
        conventions="erfc(-inf) = 2, erfc(+inf) = 0, NaN -> NaN; erfc'(±inf) = -0.0. Computed as "
        "exp(-x^2) * erfcx(x) with x^2 exact, so the tail keeps full relative accuracy down to the "
        "subnormals (erfc(26) = 5.7e-296, erfc(27.2) is subnormal, erfc(x > 27.3) = 0 in float64).",
        notes="Where 1 - erf(x) would cancel: Gaussian tail probabilities, the exact GELU of negative inputs.",
    ),
    Activation(
        name="ndtr",
        summary="The standard normal cumulative distribution function Phi.",
        formula="ndtr(x) = Phi(x) = erfc(-x / sqrt(2)) / 2",
        derivative="ndtr'(x) = phi(x) = exp(-x^2/2) / sqrt(2*pi)",
        output_range="(0, 1)",
        properties=("smooth", "monotonic", "bounded", "not zero-centred"),
        conventions="ndtr(-inf) = 0, ndtr(+inf) = 1, ndtr(0) = 0.5, NaN -> NaN; ndtr'(±inf) = 0. The left tail "
        "keeps full relative accuracy (x^2 exact inside the exponential), subnormal results included.",
        notes="SciPy's and PyTorch's special.ndtr; gelu(x) = x * ndtr(x), and probit-style gates.",
    ),
    Activation(
        name="log_ndtr",
        summary="The logarithm of the normal CDF, finite far into the left tail.",
        formula="log_ndtr(x) = log(Phi(x)); for x < -1 computed as -x^2/2 + log(erfcx(-x / sqrt(2)) / 2)",
        derivative="log_ndtr'(x) = phi(x) / Phi(x) (the inverse Mills ratio; ~ -x as x -> -inf)",
        output_range="(-inf, 0)",
        properties=("smooth", "monotonic", "concave", "bounded above"),
        conventions="log_ndtr(-inf) = -inf, log_ndtr(+inf) = -0.0 (the tail -Phi(-x) underflows), NaN -> NaN; "
        "the derivative tends to +inf at -inf and is 0 at +inf. Unlike log(ndtr(x)), it stays finite where "
        "Phi(x) underflows (log_ndtr(-40) = -804.6), and keeps full relative accuracy in the right tail, "
        "where it is -Phi(-x).",
        notes="Probit likelihoods and the log-probability of Gaussian censoring; SciPy's, PyTorch's and JAX's "
        "special.log_ndtr.",
    ),
)


_AXIS_DOC = ("axis", "Axis along which the function is taken (any axis, negative counts from the end).")
_OUT_DOC = ("out", "Optional output array of the result's shape and dtype; returned.")
_SOFTMAX_ROWS = (
    "A row holding NaN, +inf, or only -inf gives NaN throughout (PyTorch); otherwise any finite logits work "
    "(max-shifted: 1e4 and -1e4 are fine). float32 rows are summed in float64, float64 rows with compensated "
    "sums; the result does not depend on the thread count."
)

_WHERE_DOC = ("where", "Optional boolean mask, x's shape or NumPy-broadcastable to it (read where it lies, no copy): "
              "only the True entries take part.")
_MASKED = (
    " where=: the entries left out are as if absent (their NaN or inf never matters); they get {fill}, "
    "and 0 in every gradient (their grad_out is ignored). A fully masked row gives {row} (PyTorch's safe-softmax "
    "convention); a row whose kept entries are all -inf{flip} still gives NaN there, as without a mask."
)
_QUIET = (
    "softmax with an extra logit fixed at 0: the weights may sum to less than 1, so a head can attend to "
    "nothing."
)

AXIS_CATALOGUE: tuple[AxisActivation, ...] = (
    AxisActivation(
        name="softmax",
        summary="Normalised exponentials along an axis: a probability distribution over that axis.",
        formula="softmax(x)_i = exp(x_i - max x) / sum_j exp(x_j - max x)",
        derivative="softmax_grad(x, g)_i = p_i (g_i - sum_j g_j p_j), p = softmax(x) (a vector-Jacobian product)",
        from_output="y_i (g_i - sum_j g_j y_j)",
        output_range="(0, 1), summing to 1 along the axis",
        properties=("smooth", "bounded", "shift-invariant along the axis", "not zero-centred"),
        conventions=_SOFTMAX_ROWS + " An empty axis gives an empty result."
        + _MASKED.format(fill="0", row="0s", flip=""),
        params=(("axis", -1),),
        param_docs=(_AXIS_DOC, _WHERE_DOC, _OUT_DOC),
        notes="The output layer of classifiers and the attention weights of transformers.",
    ),
    AxisActivation(
        name="log_softmax",
        summary="Logarithm of softmax, computed without forming softmax (no log(0) for tiny probabilities).",
        formula="log_softmax(x)_i = (x_i - max x) - log1p(sum_{j != argmax} exp(x_j - max x))",
        derivative="log_softmax_grad(x, g)_i = g_i - softmax(x)_i sum_j g_j",
        from_output="g_i - exp(y_i) sum_j g_j",
        output_range="(-inf, 0]",
        properties=("smooth", "shift-invariant along the axis", "monotonic in each x_i"),
        conventions=_SOFTMAX_ROWS + _MASKED.format(fill="-inf (log 0)", row="-inf throughout", flip=""),
        params=(("axis", -1),),
        param_docs=(_AXIS_DOC, _WHERE_DOC, _OUT_DOC),
        aliases=(Alias("logsoftmax"),),
        notes="Pairs with the negative log-likelihood loss; exact where softmax would underflow to 0.",
    ),
    AxisActivation(
        name="softmin",
        summary="softmax of the negated input: weights that favour the smallest entries.",
        formula="softmin(x) = softmax(-x)",
        derivative="softmin_grad(x, g)_i = -p_i (g_i - sum_j g_j p_j), p = softmin(x)",
        from_output="-y_i (g_i - sum_j g_j y_j)",
        output_range="(0, 1), summing to 1 along the axis",
        properties=("smooth", "bounded", "shift-invariant along the axis"),
        conventions="As softmax with the signs flipped: a row holding NaN, -inf, or only +inf gives NaN."
        + _MASKED.format(fill="0", row="0s", flip=" (softmin: +inf)"),
        params=(("axis", -1),),
        param_docs=(_AXIS_DOC, _WHERE_DOC, _OUT_DOC),
    ),
    AxisActivation(
        name="logsumexp",
        summary="log(sum(exp(x))) along an axis, without overflow: a smooth maximum.",
        formula="logsumexp(x) = max x + log1p(sum_{j != argmax} exp(x_j - max x))",
        derivative="logsumexp_grad(x, g)_i = g · softmax(x)_i (g has logsumexp's output shape)",
        output_range="[max x, max x + log n]",
        properties=("smooth", "convex", "monotonic in each x_i", "reduces the axis"),
        conventions="+inf when the row holds +inf (and no NaN); -inf for a row of -inf and for an empty axis; "
        "NaN when the row holds NaN. Full relative accuracy when one term dominates: "
        "logsumexp([0, -40]) = 4.25e-18. where=: the sum runs over the True entries only (the others' NaN or "
        "inf never matters); a fully masked row gives -inf (the log of an empty sum), and logsumexp_grad is 0 "
        "at the masked entries and on fully masked rows.",
        params=(("axis", -1), ("keepdims", False)),
        param_docs=(_AXIS_DOC, ("keepdims", "Keep the reduced axis with size 1 (NumPy's keepdims)."), _WHERE_DOC,
                    _OUT_DOC),
    ),
    AxisActivation(
        name="logmeanexp",
        summary="log(mean(exp(x))) along an axis: logsumexp - log n, a smooth maximum that ignores the row length.",
        formula="logmeanexp(x) = max x + log(s / n), s = sum_j exp(x_j - max x), n = the axis length",
        derivative="logmeanexp_grad(x, g)_i = g · softmax(x)_i (g has logmeanexp's output shape), as logsumexp_grad",
        output_range="[max x - log n, max x]; between the mean and the max of x",
        properties=("smooth", "convex", "monotonic in each x_i", "reduces the axis"),
        conventions="log(s/n) (s <= n) is taken as log1p((s - n)/n) with s - n = sum_j expm1(x_j - max x) when "
        "s/n > 1/2, else as the log of the rounded s/n: no two logarithms cancel, rows of nearly equal values "
        "keep their small differences, and a row of equal values c gives exactly c. +inf when the row "
        "holds +inf (and no NaN); -inf for a row of -inf; NaN for an empty axis (the mean of nothing) and when "
        "the row holds NaN. "
        "Accuracy: float32 within 1 ULP (computed in float64); float64 within 2 ULP of max(|max x|, |log(s/n)|) "
        "(max x + log(s/n) cancels where the result is near 0 and max x is not).",
        params=(("axis", -1), ("keepdims", False)),
        param_docs=(_AXIS_DOC, ("keepdims", "Keep the reduced axis with size 1 (NumPy's keepdims)."), _OUT_DOC),
        notes="Averaging log-likelihoods of samples or ensemble members (log of the mean probability); the "
        "log-mean-exp pooling of multiple-instance learning.",
    ),
    AxisActivation(
        name="quiet_softmax",
        summary=_QUIET,
        formula="quiet_softmax(x)_i = exp(x_i - m) / (exp(-m) + sum_j exp(x_j - m)), m = max(max x, 0) "
        "(= exp(x_i) / (1 + sum_j exp(x_j)))",
        derivative="quiet_softmax_grad(x, g)_i = p_i (g_i - sum_j g_j p_j), p = quiet_softmax(x), as softmax_grad",
        from_output="y_i (g_i - sum_j g_j y_j)",
        output_range="[0, 1), summing to less than 1 along the axis",
        properties=("smooth", "bounded", "not shift-invariant", "not zero-centred"),
        conventions="A row of only -inf gives 0s (the extra logit takes all the weight); a row holding NaN or "
        "+inf gives NaN throughout, as softmax. The max is taken with the extra 0, so large logits do not "
        "overflow. An empty axis gives an empty result.",
        params=(("axis", -1),),
        param_docs=(_AXIS_DOC, _OUT_DOC),
        aliases=(Alias("softmax_one", source="Evan Miller, 'Attention is off by one' (softmax_1)"),),
        notes="Evan Miller's softmax_1 ('Attention is off by one', 2023) and PyTorch's "
        "torch.nn.functional.softmax with an added zero logit; lets attention heads output nothing.",
    ),
    AxisActivation(
        name="sparsemax",
        summary="Euclidean projection onto the probability simplex: like softmax, but with exact zeros.",
        formula="sparsemax(x)_i = max(x_i - tau, 0), tau such that sum_i max(x_i - tau, 0) = 1 (from the sorted "
        "row: k = max{k : 1 + k z_(k) > sum_{j<=k} z_(j)}, tau = (sum_{j<=k} z_(j) - 1) / k)",
        derivative="sparsemax_grad(x, g)_i = g_i - mean_{j in S} g_j on the support S = {i : y_i > 0}, 0 off it",
        from_output="on S = {y > 0}: g_i - mean_{j in S} g_j; 0 elsewhere",
        output_range="[0, 1], summing to 1 along the axis, often with exact zeros",
        properties=("piecewise-linear", "bounded", "sparse", "shift-invariant along the axis"),
        conventions="Computed in float64 (float32 rounded once) on the row shifted by its max, with the row "
        "sorted: the native lanes and the NumPy reference do the same operations in the same order (the same "
        "bits). A row holding NaN gives NaN throughout; one +inf gives the limit, 1 there and 0 elsewhere; more "
        "than one +inf (no limit) or only -inf gives NaN, as softmax; -inf entries get 0. Ties at the threshold "
        "(y_i = 0 exactly) are outside the support, so the derivative there is 0. An empty axis gives an empty result.",
        params=(("axis", -1),),
        param_docs=(_AXIS_DOC, _OUT_DOC),
        notes="Martins & Astudillo, 'From Softmax to Sparsemax' (ICML 2016): sparse attention and multi-label "
        "outputs. TensorFlow Addons' tfa.activations.sparsemax and keras.activations.sparsemax.",
    ),
    AxisActivation(
        name="crelu",
        summary="Concatenated ReLU: relu(x) and relu(-x) side by side along an axis (twice the size there).",
        formula="crelu(x) = concatenate([relu(x), relu(-x)], axis)",
        derivative="crelu_grad(x, g) = relu'(x) g_+ - relu'(-x) g_-, (g_+, g_-) = the two halves of g along axis",
        output_range="[0, inf); twice the input's size along axis",
        properties=("piecewise-linear", "non-negative", "unbounded", "doubles the axis"),
        conventions="relu's conventions in each half: crelu(-0.0) = [-0.0, 0.0], NaN gives NaN in both halves, "
        "±inf gives (inf, 0) or (0, inf). The derivative follows relu's (relu'(0) = 0, relu'(NaN) = 1), so at "
        "x = 0 it is 0 and at NaN it is g_+ - g_-. grad_out has crelu's output shape; the result has x's.",
        params=(("axis", -1),),
        param_docs=(_AXIS_DOC, _OUT_DOC),
        notes="Shang et al., 'Understanding and Improving Convolutional Neural Networks via Concatenated "
        "Rectified Linear Units' (ICML 2016); tf.nn.crelu.",
    ),
    AxisActivation(
        name="rrelu",
        summary="Randomized leaky ReLU: a random negative slope per element in training, the mean in evaluation.",
        formula="rrelu(x) = x if x > 0 else a * x; a = (lower + upper)/2 (training=False), a ~ U(lower, upper) "
        "per element with x <= 0 (training=True)",
        derivative="rrelu'(x) = 1 if x > 0 else a (training: the same a the forward drew)",
        output_range="(-inf, inf)",
        properties=("piecewise-linear", "stochastic in training", "unbounded", "elementwise"),
        conventions="PyTorch's F.rrelu. training=False is leaky_relu(x, negative_slope=(lower + upper)/2), "
        "computed by its kernel (its conventions: rrelu(-0.0) = -0.0, NaN -> NaN, slope at x = 0). training=True "
        "draws one slope per element from U(lower, upper) with numpy.random.default_rng(seed) (PCG64), in C order of "
        "x's shape, rounded to the input's dtype, and uses it where x <= 0 (slope 1 elsewhere and at NaN), so the "
        "same integer seed gives the same slopes; seed=None draws fresh ones. return_slopes=True also returns the "
        "slopes (1 where x > 0), which rrelu_grad(..., training=True, slopes=...) takes; or pass it the same "
        "seed. The random streams are NumPy's, not PyTorch's: the same seed does not give torch's slopes. "
        "lower > upper, non-finite bounds and seed or slopes in evaluation raise ValueError; dask arrays are "
        "refused in training (each chunk would draw its own slopes).",
        params=(("lower", 0.125), ("upper", 1.0 / 3.0), ("training", False), ("seed", None)),
        param_docs=(
            ("lower", "Lower bound of the random slope (default 1/8)."),
            ("upper", "Upper bound of the random slope (default 1/3)."),
            ("training", "Draw random slopes (True) or use their mean (False, the default)."),
            ("seed", "Training only: an integer seed (or numpy Generator) for the slopes; None draws fresh ones."),
            ("return_slopes", "Forward only: also return the slopes used, as (y, slopes)."),
            ("slopes", "rrelu_grad in training: the slopes rrelu returned with return_slopes=True."),
            _OUT_DOC,
        ),
        notes="Xu et al., 'Empirical Evaluation of Rectified Activations in Convolutional Network' (2015): "
        "the random slope acts as a regulariser; at inference it is leaky_relu with the mean slope.",
    ),
    AxisActivation(
        name="glu",
        summary="Gated linear unit: the first half of an axis times a gate of the second half.",
        formula="glu(x) = a * gate(b), (a, b) = the two halves of x along axis; gate = sigmoid (GLU), "
        "silu (SwiGLU), gelu / gelu_tanh (GeGLU) or relu (ReGLU)",
        derivative="d/da = g * gate(b), d/db = g * a * gate'(b); glu_grad returns both, concatenated along axis",
        output_range="(-inf, inf); half the input's size along axis",
        properties=("smooth for smooth gates", "unbounded", "halves the axis"),
        conventions="The axis must have even size (else ValueError). The gate follows its elementwise "
        "function's conventions; the product follows IEEE (0 * inf = NaN).",
        params=(("axis", -1), ("gate", "sigmoid")),
        param_docs=(_AXIS_DOC, ("gate", "'sigmoid', 'silu', 'gelu', 'gelu_tanh' or 'relu'."), _OUT_DOC),
        notes="The feed-forward blocks of LLaMA (SwiGLU) and T5 v1.1 (GeGLU).",
    ),
    AxisActivation(
        name="maxout",
        summary="Maximum over consecutive groups of `pieces` entries along an axis.",
        formula="maxout(x)_k = max(x_{k·pieces}, ..., x_{k·pieces + pieces - 1})",
        derivative="maxout_grad routes g_k to the first maximum of group k (0 elsewhere)",
        output_range="(-inf, inf); the axis shrinks by the factor pieces",
        properties=("piecewise-linear", "convex", "unbounded"),
        conventions="pieces must divide the axis size (else ValueError). NaN in a group gives NaN and takes "
        "the gradient (the first NaN, as torch.max); ties send the gradient to the first maximum.",
        params=(("pieces", None), ("axis", -1)),
        param_docs=(("pieces", "Group size (>= 1, divides the axis size)."), _AXIS_DOC, _OUT_DOC),
    ),
    AxisActivation(
        name="prelu",
        summary="Leaky ReLU with a learned slope per channel.",
        formula="prelu(x) = x if x > 0 else weight[c] * x, c = the index along axis",
        derivative="d/dx = 1 if x > 0 else weight[c]; d/dweight[c] = sum over everything but axis of g * x "
        "where x <= 0; prelu_grad returns (grad_x, grad_weight)",
        output_range="(-inf, inf)",
        properties=("piecewise-linear", "unbounded", "learnable"),
        conventions="weight holds 1 value or one per channel (else ValueError). At x = 0 the weight branch "
        "applies (prelu(-0.0) = weight * -0.0), as in PyTorch; NaN -> NaN. The weight gradient is summed in "
        "float64 (compensated for float64 input: within an ULP of the exact sum natively), in an order fixed by "
        "the shape, so it is the same for any thread count; a NaN x makes its channel's sum NaN, as in PyTorch.",
        params=(("weight", None), ("axis", 1)),
        param_docs=(("weight", "Slopes: 1 value or one per channel."),
                    ("axis", "The channel axis (default 1, PyTorch's NCHW layout)."), _OUT_DOC),
    ),
)

#: Fused operations for inference: an elementwise activation with the operation before it, in one pass.
FUSED_CATALOGUE: tuple[FusedOperation, ...] = (
    FusedOperation(
        name="bias_act",
        summary="Add a per-feature bias along an axis, then apply an elementwise activation, in one memory pass.",
        formula="bias_act(x, bias, name) = NAME(x + bias[c]), c = the index along axis",
        derivative="bias_act_grad returns (grad_x, grad_bias): grad_x = grad_out * NAME'(x + bias[c]); grad_bias[c] = "
        "the sum of grad_x over every axis but axis",
        conventions="Bitwise equal to fastact.NAME(x + bias) computed in x's dtype (the sum is rounded to it "
        "first, as NumPy's x + bias), without the full-size temporary: the sum is formed a block at a time in a "
        "small stack buffer and handed to the activation's own kernel. bias is cast to x's dtype; NAME's "
        "parameters are keywords, checked as NAME checks them.",
        param_docs=(
            ("bias", "1-d, x.shape[axis] values (cast to x's dtype; no other broadcasting)."),
            ("name", "Any elementwise activation or alias (e.g. 'gelu', 'silu', 'relu', 'gelu_new'); an unknown "
             "name raises KeyError with suggestions, as fastact.get."),
            ("axis", "The feature axis the bias runs along (default -1, a Linear layer's output)."),
            _OUT_DOC,
            ("**params", "The activation's parameters, e.g. approximate='tanh' for gelu."),
        ),
        grad_returns="(grad_x, grad_bias): grad_x of x's shape, grad_bias of bias's shape, both in x's dtype; "
        "grad_bias is summed in float64 and rounded once: natively in one threaded pass (compensated for "
        "float64, its order fixed by the shape), else by NumPy's pairwise sum; the same whatever the thread count.",
    ),
)
