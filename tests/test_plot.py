"""fastact.plot and `python -m fastact plot`: the curves drawn are the functions' values, and without
matplotlib the package still imports and both say how to install it."""

from __future__ import annotations

import os
import subprocess
import sys

import fastact
import numpy as np
import pytest
from fastact.__main__ import main

BLOCK_OPTIONAL = (
    "import sys\n"
    "for name in ('matplotlib', 'matplotlib.pyplot', 'dask', 'dask.array', 'distributed'):\n"
    "    sys.modules[name] = None  # import raises ImportError, as when not installed\n"
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCK_OPTIONAL + code], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=120)


def test_package_imports_and_computes_without_matplotlib_and_dask() -> None:
    result = _run(
        "import fastact, numpy as np\n"
        "print(fastact.gelu(np.ones(2)).tolist(), fastact.softmax(np.ones(2)).tolist())\n"
        "print(sorted(m for m in sys.modules if m and m.split('.')[0] in ('matplotlib', 'dask', 'distributed')"
        " and sys.modules[m] is not None))\n"
        "try:\n"
        "    fastact.plot('gelu')\n"
        "except ImportError as exc:\n"
        "    print('ImportError:', exc)\n"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == "[]", "an optional dependency was imported with fastact"
    assert lines[2] == ("ImportError: fastact.plot() needs matplotlib, which is not installed: "
                        'pip install "fastact[plot]"')


def test_cli_without_matplotlib_says_how_to_install_it(tmp_path) -> None:
    result = _run(f"from fastact.__main__ import main; sys.exit(main(['plot', 'gelu', '--out', r'{tmp_path}/g.png']))")
    assert result.returncode == 1
    assert 'pip install "fastact[plot]"' in result.stderr
    assert not (tmp_path / "g.png").exists()


matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _lines(ax):
    return [line for line in ax.get_lines() if line.get_label() and not line.get_label().startswith("_")]


def test_function_and_derivative_are_the_computed_values() -> None:
    fig = fastact.plot("gelu", x_range=(-3, 2))
    assert isinstance(fig, matplotlib.figure.Figure)
    f_ax, d_ax = fig.axes
    (f_line,) = _lines(f_ax)
    (d_line,) = _lines(d_ax)
    x = f_line.get_xdata()
    assert x[0] == -3 and x[-1] == 2 and np.all(np.diff(x) > 0)
    np.testing.assert_array_equal(f_line.get_ydata(), fastact.gelu(x))
    np.testing.assert_array_equal(d_line.get_xdata(), x)
    np.testing.assert_array_equal(d_line.get_ydata(), fastact.gelu_grad(x))
    assert f_ax.get_title() == "gelu(x)" and d_ax.get_title() == "gelu'(x)"


def test_several_functions_on_one_figure_share_colours() -> None:
    names = ["relu", "expit", "mish"]
    fig = fastact.plot(names)
    f_ax, d_ax = fig.axes
    assert [line.get_label() for line in _lines(f_ax)] == ["relu", "sigmoid", "mish"]  # aliases resolve
    assert [line.get_label() for line in _lines(d_ax)] == ["relu'", "sigmoid'", "mish'"]
    for f_line, d_line, name in zip(_lines(f_ax), _lines(d_ax), ["relu", "sigmoid", "mish"]):
        assert f_line.get_color() == d_line.get_color()
        np.testing.assert_array_equal(d_line.get_ydata(), getattr(fastact, name + "_grad")(d_line.get_xdata()))
    assert len({line.get_color() for line in _lines(f_ax)}) == 3
    assert f_ax.get_legend() is not None


def test_without_derivative_one_panel() -> None:
    fig = fastact.plot(["tanh", "sigmoid"], derivative=False)
    assert len(fig.axes) == 1 and len(_lines(fig.axes[0])) == 2


def test_params_shared_and_per_name() -> None:
    fig = fastact.plot(["elu", "celu"], params={"alpha": 0.5})
    for line, name in zip(_lines(fig.axes[0]), ["elu", "celu"]):
        assert line.get_label() == f"{name}(alpha=0.5)"
        np.testing.assert_array_equal(line.get_ydata(), getattr(fastact, name)(line.get_xdata(), alpha=0.5))
    fig = fastact.plot(["leaky_relu", "elu"], params={"leaky_relu": {"negative_slope": 0.2}})
    lrelu, elu = _lines(fig.axes[0])
    assert (lrelu.get_label(), elu.get_label()) == ("leaky_relu(negative_slope=0.2)", "elu")
    assert lrelu.get_ydata()[0] == pytest.approx(-1.0)  # 0.2 * -5
    fig = fastact.plot("threshold", params={"threshold": 1.0, "value": -1.0})
    assert fig.axes[0].get_title() == "threshold(x, threshold=1.0, value=-1.0)"


def test_into_given_axes() -> None:
    fig, ax = plt.subplots()
    assert fastact.plot(["relu6", "hard_tanh"], ax=ax) is fig
    drawn = [(line.get_label(), line.get_linestyle()) for line in _lines(ax)]
    # functions solid, derivatives dashed in the same colour, on the same axes
    assert drawn == [("relu6", "-"), ("relu6'", "--"), ("hard_tanh", "-"), ("hard_tanh'", "--")]
    assert _lines(ax)[0].get_color() == _lines(ax)[1].get_color()
    fig, axes = plt.subplots(2, 1)  # an ndarray of two Axes
    assert fastact.plot("softsign", ax=axes) is fig
    assert len(_lines(axes[0])) == 1 and len(_lines(axes[1])) == 1


def test_registered_activation_can_be_plotted() -> None:
    from fastact import _registry

    fastact.register("cube_plot_test", lambda v: v**3, lambda v: 3 * v**2)
    try:
        fig = fastact.plot("cube_plot_test", x_range=(-1, 1))
        (line,) = _lines(fig.axes[1])
        np.testing.assert_array_equal(line.get_ydata(), 3 * line.get_xdata() ** 2)
    finally:
        _registry._REGISTRY.pop("cube_plot_test", None)


def test_plot_errors() -> None:
    with pytest.raises(KeyError, match="did you mean 'gelu'"):
        fastact.plot("gelv")
    with pytest.raises(ValueError, match="softmax works along an axis"):
        fastact.plot(["relu", "softmax"])
    with pytest.raises(ValueError, match=r"threshold has no default for threshold, value: pass params="):
        fastact.plot("threshold")
    with pytest.raises(ValueError, match="gelu has no parameter 'alpha' \\(it takes approximate\\)"):
        fastact.plot(["elu", "gelu"], params={"alpha": 0.5})
    with pytest.raises(ValueError, match="params names selu, which is not plotted"):
        fastact.plot("elu", params={"selu": {}})
    with pytest.raises(ValueError, match="x_range must be finite with low < high"):
        fastact.plot("relu", x_range=(1, -1))
    with pytest.raises(ValueError, match="x_range must be two numbers"):
        fastact.plot("relu", x_range=(1, 2, 3))
    with pytest.raises(ValueError, match="at least one activation"):
        fastact.plot([])


# --------------------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------------------


def test_cli_writes_a_png(tmp_path, capsys) -> None:
    from PIL import Image

    out = tmp_path / "act.png"
    assert main(["plot", "relu", "gelu", "silu", "--out", str(out), "--range", "-3", "3"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (900, 360)  # 9 x 3.6 inches at 100 dpi
    assert main(["plot", "elu", "--param", "alpha=0.5", "--no-derivative", "--dpi", "50", "--out", str(out)]) == 0
    with Image.open(out) as image:
        assert image.size == (300, 200)
    assert main(["plot", "threshold", "--param", "threshold=0", "--param", "value=-1", "--out",
                 str(tmp_path / "t.svg")]) == 0
    assert (tmp_path / "t.svg").read_text().lstrip().startswith("<?xml")


def test_cli_errors(tmp_path, capsys) -> None:
    out = str(tmp_path / "x.png")
    assert main(["plot", "threshold", "--out", out]) == 2
    assert "add --param threshold=... --param value=..." in capsys.readouterr().err
    assert main(["plot", "gleu", "--out", out]) == 2
    assert "did you mean" in capsys.readouterr().err
    assert main(["plot", "softmax", "--out", out]) == 2
    assert "works along an axis" in capsys.readouterr().err
    assert main(["plot", "relu", "--out", str(tmp_path / "missing" / "x.png")]) == 1
    assert "cannot write" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["plot", "relu", "--param", "alpha", "--out", out])
    assert "expected NAME=NUMBER" in capsys.readouterr().err
    assert not os.path.exists(out)
