"""The benchmark engine's optional peers (numexpr, ONNX Runtime, JAX) and its plots: tables keyed by catalogue
kernels, a missing peer skipped and said so, wrong peer results marked, the plots drawn from a tiny fake
result set. The peers themselves run only where they are installed (pytest.importorskip)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from fastact import _bench, _kernels_numpy, _peers
from fastact.__main__ import main

KERNELS = set(_kernels_numpy.KERNELS)
CASES = _bench.cases()


@pytest.fixture
def no_peer(monkeypatch):
    """Make one peer's import fail (``sys.modules[name] = None`` raises ImportError) for one test."""
    def hide(*names: str) -> None:
        for name in names:
            monkeypatch.setitem(sys.modules, name, None)
        _peers.load.cache_clear()

    yield hide
    _peers.load.cache_clear()


@pytest.mark.parametrize("table", ["NUMEXPR_FORMULAS", "ONNX_OPS", "JAX_FUNCTIONAL"])
def test_peer_tables_name_only_catalogue_kernels(table):
    assert set(getattr(_peers, table)) <= KERNELS


def test_numexpr_formulas_use_only_known_names():
    # every name in an expression is x, g, a parameter of that kernel, a typed constant or a numexpr function
    import re

    functions = {"where", "exp", "expm1", "log1p", "tanh", "sin", "cos", "sqrt", "abs"}
    for case in CASES:
        formulas = _peers.NUMEXPR_FORMULAS.get(case.kernel)
        if formulas is None:
            continue
        allowed = {"x", "g", *case.numeric_kwargs, *_peers.NUMEXPR_CONSTANTS, *functions}
        for expr in filter(None, formulas):
            assert set(re.findall(r"[A-Za-z_]\w*", expr)) <= allowed, (case.label, expr)


def test_missing_peer_is_skipped_and_said_so(no_peer):
    no_peer("numexpr", "onnxruntime", "onnx", "jax")
    x, g = _bench.make_inputs("float32", 64)
    impls = _bench.implementations(_bench.cases(["sigmoid_fwd"])[0], x, g, np.empty_like(x))
    for key in ("numexpr", "onnxruntime", "jax"):
        assert isinstance(impls[key], str) and "not installed" in impls[key]
    info = _bench.machine_info()
    for key in ("numexpr", "onnxruntime", "jax"):
        assert "not installed" in info[key] and "column skipped" in info[key]
    config = _bench.Config(sizes=(64,), threads=(1,), functions=("relu_fwd",), min_time_ms=0.1, repeats=1)
    text = _bench.markdown(_bench.run(config), config)
    header = next(line for line in text.splitlines() if line.startswith("| function"))
    assert "numexpr" not in header and "onnxruntime" not in header and "jax" not in header
    assert "- **jax**: not installed" in text


def test_peers_option_leaves_columns_out():
    config = _bench.Config(sizes=(64,), threads=(1,), functions=("relu_fwd",), min_time_ms=0.1, repeats=1,
                           peers=())
    rows = _bench.run(config)
    assert set(rows[0].results) == {"fastact-out", "fastact-alloc", "copy"}
    text = _bench.markdown(rows, config)
    assert "- **torch**: not run (--peers)" in text


def test_skipped_peer_is_a_note_not_a_failure():
    def refuse(n: int) -> None:
        raise _peers.Skipped("cannot run at this thread count")

    case = _bench.cases(["relu_fwd"])[0]
    x, g = _bench.make_inputs("float32", 64)
    impl = _bench.Impl("jax", "jax", lambda: x, np.asarray, refuse)
    res = _bench._run_impl(impl, case, x, g, None, 1, _bench.Config(min_time_ms=0.1, repeats=1))
    assert res.ns is None and res.note == "skipped: cannot run at this thread count"
    row = _bench.Row(case, "float32", 64, 1, {"jax": res})
    assert any("jax skipped in 1 rows: cannot run" in n for n in _bench._notes([row]))


def test_sane_tells_wrong_from_less_accurate():
    ref = np.linspace(-5, 5, 101).astype(np.float32)
    assert _bench.sane(ref * (1 + 1e-5), ref)  # a few hundred ULP off: not correct, but sane
    assert not _bench.sane(ref + 0.1, ref)
    assert not _bench.sane(np.where(ref > 4, np.nan, ref), ref)
    assert not _bench.sane(ref[:10], ref)


def _fake_rows() -> list[_bench.Row]:
    rows = []
    for case in _bench.cases(["relu_fwd", "sigmoid_fwd"]):
        for threads in (1, 2):
            for size in (16, 10**3, 10**5):
                row = _bench.Row(case, "float32", size, threads)
                for key, rate in (("fastact-out", 2e9), ("numpy", 5e8), ("torch", 1e9), ("copy", 4e9)):
                    row.results[key] = _bench.ImplResult(key, key, ns=size / (rate * threads) * 1e9)
                row.results["jax"] = _bench.ImplResult("jax", "jax", note="skipped: no")
                rows.append(row)
    return rows


def test_roofline_and_scaling_plots_from_fake_results(tmp_path):
    pytest.importorskip("matplotlib")
    from fastact import _bench_plot

    info = {"cpu": "test CPU", "cores": "2", "fastact": "SIMD test", "date": "today"}
    path = tmp_path / "roof.png"
    fig = _bench_plot.roofline(_fake_rows(), str(path), info=info)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    labels = {line.get_label() for ax in fig.axes for line in ax.get_lines()}
    assert {"fastact (out=)", "numpy formula", "torch", "copy (bandwidth roof)"} <= labels
    assert "jax (jit)" not in labels  # skipped everywhere: no line
    scale = tmp_path / "scale.png"
    fig = _bench_plot.scaling([r for r in _fake_rows() if r.size == 10**5], str(scale), info=info)
    assert scale.read_bytes()[:4] == b"\x89PNG"
    ys = [line.get_ydata() for ax in fig.axes for line in ax.get_lines() if line.get_label() == "fastact (out=)"]
    assert all(list(y) == pytest.approx([2.0, 4.0]) for y in ys)
    with pytest.raises(ValueError, match="not in these results"):
        _bench_plot.roofline(_fake_rows(), str(path), functions=["gelu"], info=info)


def test_plot_without_matplotlib_says_how_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code = main(["bench", "--sizes", "64", "--threads", "1", "--functions", "relu_fwd", "--peers", "none",
                 "--no-progress", "--plot", str(tmp_path / "r.png")])
    assert code == 1
    assert 'pip install "fastact[plot]"' in capsys.readouterr().err


def test_cli_plot_writes_png_and_report(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png, md = tmp_path / "r.png", tmp_path / "r.md"
    code = main(["bench", "--sizes", "64,1e3", "--threads", "1", "--functions", "relu_fwd", "--peers", "numpy",
                 "--repeats", "1", "--min-time-ms", "0.1", "--no-progress", "--out", str(md), "--plot", str(png)])
    assert code == 0
    assert png.read_bytes()[:4] == b"\x89PNG" and "| `relu` |" in md.read_text()
    capsys.readouterr()


# --- the peers themselves, where installed ----------------------------------------------------------------

def _check_peer(key: str, dtype: str = "float32") -> list[str]:
    """Run every case of ``key`` once on 256 elements; return the labels it ran (failing on a wrong result)."""
    x, g = _bench.make_inputs(dtype, 256)
    out = np.empty_like(x)
    ran = []
    for case in CASES:
        impl = _bench.implementations(case, x, g, out)[key]
        if isinstance(impl, str):
            continue
        if impl.threads is not None:
            impl.threads(_peers.usable_cores())
        with np.errstate(all="ignore"):
            value = np.array(impl.result(impl.call()))
        expected = _bench.reference_value(case, x, g)
        assert value.dtype == expected.dtype, (key, case.label, value.dtype)
        assert _bench.sane(value, expected), (key, case.label, float(np.max(np.abs(value - expected))))
        ran.append(case.label)
    return ran


def test_numexpr_peer_agrees_with_the_reference():
    pytest.importorskip("numexpr")
    ran = _check_peer("numexpr")
    assert "sigmoid" in ran and "sigmoid_grad" in ran and "gelu" not in ran
    assert not _check_peer("numexpr", "float16")  # no float16 in numexpr: skipped, not cast


def test_onnxruntime_peer_agrees_with_the_reference():
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    ran = _check_peer("onnxruntime")
    assert {"sigmoid", "gelu", "hard_swish", "softshrink"} <= set(ran)
    assert not any(label.endswith("_grad") or "_grad(" in label for label in ran)


def test_jax_peer_agrees_with_the_reference():
    jax = pytest.importorskip("jax")
    ran = _check_peer("jax")
    assert "gelu" in ran and "gelu_grad" in ran
    previous = jax.config.jax_enable_x64
    if not previous:
        assert not _check_peer("jax", "float64")  # skipped, not silently computed in float32
    jax.config.update("jax_enable_x64", True)  # as fastact._bench.run does for its duration
    try:
        assert "gelu" in _check_peer("jax", "float64")
    finally:
        jax.config.update("jax_enable_x64", previous)


def test_run_restores_jax_x64():
    jax = pytest.importorskip("jax")
    previous = jax.config.jax_enable_x64
    config = _bench.Config(sizes=(64,), dtypes=("float64",), threads=(_peers.usable_cores(),),
                           functions=("relu_fwd",), min_time_ms=0.1, repeats=1, peers=("jax",))
    rows = _bench.run(config)
    assert rows[0].results["jax"].ns is not None and rows[0].results["jax"].correct
    assert jax.config.jax_enable_x64 == previous


def test_scaling_script_table_from_fake_results(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benches" / "bench_scaling.py"
    spec = importlib.util.spec_from_file_location("bench_scaling", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.default_threads()[0] == 1 and module.default_threads()[-1] == _peers.usable_cores()
    lines = module.table([r for r in _fake_rows() if r.size == 10**5], ("torch", "jax"))
    assert lines[0] == ("| function | threads | fastact | × 1 thr | torch | × 1 thr | copy | × 1 thr | "
                        "fastact of copy |")  # jax has no figures: no column
    assert "| `relu` | 2 | 4 G/s | 2.00× | 2 G/s | 2.00× | 8 G/s | 2.00× | 0.50× |" in lines


def _peer_accuracy_script():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parent.parent / "benches" / "bench_peer_accuracy.py"
    spec = importlib.util.spec_from_file_location("bench_peer_accuracy", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_peer_accuracy_measures_ulp_of_the_exact_value():
    script = _peer_accuracy_script()
    ref = np.array([1.0, 2.0**-130, 0.0, np.inf, np.nan, 3.0, 1.5])
    got = np.array([1.0 + 2.0**-23, 2.0**-130 + 2.0**-148, -(2.0**-149), np.inf, 1.0, np.nan, 1.5 - 3 * 2.0**-23])
    errors, specials = script.ulp_errors(got, ref)
    # 1 ULP above 1; two subnormal spacings; one spacing at 0; 3 ULP below 1.5 (ULP 2^-23 in [1, 2)).
    assert errors.tolist() == [1.0, 2.0, 1.0, 3.0]
    assert specials == 2  # a number where the oracle is NaN, and NaN where it is 3
    assert script.cell(errors, specials) == "3, 2 specials"
    assert script.cell(np.array([0.5, 5.0, 1e9, 1.0]), 0) == "1.0e+09 (50.0%)"


def test_peer_accuracy_report_runs(monkeypatch, tmp_path, capsys):
    script = _peer_accuracy_script()
    out = tmp_path / "acc.md"
    monkeypatch.setattr(sys, "argv", ["bench_peer_accuracy.py", "--functions", "relu,sigmoid_fwd", "--peers", "numpy",
                                      "--out", str(out)])
    script.main()
    text = out.read_text()
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `")}
    assert set(rows) == {"`relu`", "`relu_grad`", "`sigmoid`"}
    # relu and its derivative are exact in both; fastact's sigmoid is within its 2-ULP bound (2.5 of exact).
    assert rows["`relu`"].split("|")[2].strip() == "0"
    assert float(rows["`sigmoid`"].split("|")[2].split()[0]) <= 2.5
