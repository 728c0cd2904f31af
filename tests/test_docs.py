"""Generated files are current, and the typed API checks under mypy --strict."""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _script(name: str):
    """scripts/NAME.py as a module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _gen_docs():
    return _script("gen_docs")


def test_readme_catalogue_table_is_current():
    gen = _gen_docs()
    readme = (ROOT / "README.md").read_text()
    assert gen.render(readme) == readme, "README.md is stale: run python scripts/gen_docs.py"


def test_accuracy_table_is_current():
    assert _script("gen_accuracy").render() == (ROOT / "docs" / "accuracy.md").read_text(), (
        "docs/accuracy.md is stale: run python scripts/gen_accuracy.py")


def test_bad_input_table_is_current():
    assert _gen_docs().bad_input_doc() == (ROOT / "docs" / "bad-input.md").read_text(), (
        "docs/bad-input.md is stale: run python scripts/gen_docs.py")


def test_conventions_table_is_current():
    assert _gen_docs().conventions_doc() == (ROOT / "docs" / "conventions.md").read_text(), (
        "docs/conventions.md is stale: run python scripts/gen_docs.py")


def test_catalogue_doc_is_current():
    assert _script("gen_catalogue").render() == (ROOT / "docs" / "catalogue.md").read_text(), (
        "docs/catalogue.md is stale: run python scripts/gen_docs.py")


def test_catalogue_shows_a_plot_of_every_elementwise_activation():
    """The PNG files exist and are PNGs (their pixels depend on the matplotlib version: not compared)."""
    import re

    from fastact._catalogue import CATALOGUE

    doc = (ROOT / "docs" / "catalogue.md").read_text()
    shown = re.findall(r"!\[[^\]]*\]\((img/[^)]+)\)", doc)
    assert sorted(shown) == sorted(f"img/{spec.name}.png" for spec in CATALOGUE)
    for path in shown:
        data = (ROOT / "docs" / path).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), path
        assert len(data) < 64 * 1024, f"{path} is {len(data)} bytes: keep the plots small"


def test_readme_links_every_activation_into_the_catalogue():
    import re

    from fastact._catalogue import CATALOGUE

    readme = (ROOT / "README.md").read_text()
    doc = (ROOT / "docs" / "catalogue.md").read_text()
    # GitHub's anchors: a heading's text (our names need no slugging), and explicit ids (aliases).
    anchors = set(re.findall(r"^#+ (\S+)$", doc, flags=re.M)) | set(re.findall(r'<a id="([^"]+)">', doc))
    links = re.findall(r"\(docs/catalogue\.md#([^)]+)\)", readme)
    assert sorted(links) == sorted(spec.name for spec in CATALOGUE)
    assert set(links) <= anchors
    for alias in (a.name for spec in CATALOGUE for a in spec.aliases):
        assert alias in anchors, alias


def test_stubs_are_current():
    for path, text in _gen_docs().stubs().items():
        assert path.read_text() == text, f"{path.name} is stale: run python scripts/gen_docs.py"


def test_every_public_function_is_in_the_stub():
    import fastact

    stub = (ROOT / "python" / "fastact" / "__init__.pyi").read_text()
    for name in fastact.__all__:
        assert f"def {name}(" in stub or f"{name}:" in stub or f"as {name}" in stub, name


USAGE = """
import numpy as np
import fastact

x = np.zeros(3, dtype=np.float32)
y: np.ndarray = fastact.gelu(x, approximate="tanh")
z = fastact.sigmoid_grad(x, grad_out=x)
w = fastact.threshold_grad(x, threshold=0.5, value=1.0)
u = fastact.gelu([1, 2, 3], dtype=np.float32)
p = fastact.softmax(x, dtype="float64")
entry = fastact.get("silu")
with fastact.num_threads(1):
    v = fastact.softplus(x, beta=2.0, out=y)
print(entry.formula, fastact.simd_level(), y, z, w, v, u, p)
"""


USAGE_ECOSYSTEM = """
import array

import fastact
from matplotlib.figure import Figure

fig: Figure = fastact.plot(["relu", "gelu"], x_range=(-3.0, 3.0), params={"gelu": {"approximate": "tanh"}})
fig.savefig("usage.png")
fastact.plot("elu", derivative=False, ax=fig.axes[0])
a = fastact.sigmoid(memoryview(array.array("d", [0.0, 1.0])))
b = fastact.tanh(array.array("f", [0.0, 1.0]))
print(a, b)
"""


def _mypy_strict(tmp_path, source):
    pytest.importorskip("mypy")
    script = tmp_path / "usage.py"
    script.write_text(source)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_accepts_typical_usage(tmp_path):
    _mypy_strict(tmp_path, USAGE)


def test_mypy_strict_accepts_plots_and_buffers(tmp_path):
    pytest.importorskip("matplotlib")
    _mypy_strict(tmp_path, USAGE_ECOSYSTEM)
