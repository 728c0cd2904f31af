"""The accuracy table: docs/accuracy.md, generated from measurements kept next to it in docs/accuracy/.

    python scripts/gen_accuracy.py --float32-exhaustive   # all 2^32 float32 inputs, every kernel and mode
                                                          # (the Rust sweep; about 25 minutes on 2 cores)
    python scripts/gen_accuracy.py --float32-exhaustive --kernels softplus,celu   # re-run some, merge in
    python scripts/gen_accuracy.py --measure              # float64 against mpmath, non-default parameters
    python scripts/gen_accuracy.py                        # render docs/accuracy.md from the measurements

Measurements:

- docs/accuracy/float32-exhaustive.jsonl: one line per kernel and mode from `rust/core/tests/sweep.rs` run
  over every float32 bit pattern, the float32 kernel against the float64 kernel (itself checked against
  mpmath); the first line records the machine, date and commit.
- docs/accuracy/measured.json: float64 forward and derivative against mpmath at 50 digits on the adversarial
  points of `tests/conftest.py` (random, tails to ±760, subnormal results, derivative zeros, kinks), for the
  default parameters and the non-default sets of `conftest.ALT_PARAMS`; and float32 with non-default
  parameters against the float64 NumPy reference on conftest's ~200k float32 points.

tests/test_accuracy.py fails when a kernel gets worse than these numbers, and tests/test_docs.py when
docs/accuracy.md is not what this script renders from them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import subprocess
import sys
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "docs" / "accuracy"
EXHAUSTIVE = DATA / "float32-exhaustive.jsonl"
MEASURED = DATA / "measured.json"
DOC = ROOT / "docs" / "accuracy.md"

MODES = {"Forward": "forward", "Derivative": "grad", "FromOutput": "from_output"}


# ---------------------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------------------


def _cpu() -> str:
    sys.path.insert(0, str(ROOT / "python"))
    from fastact._bench import _cpu_model  # the benchmark reports name the CPU the same way

    return _cpu_model()


def _commit() -> str:
    """The commit measured; "-dirty" when the working tree had uncommitted changes (kernels measured before
    the commit that records them: that commit's message says so)."""
    out = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=7"], cwd=ROOT, capture_output=True,
                         text=True)
    return out.stdout.strip() or "unknown"


def _meta_now() -> dict[str, Any]:
    return {
        "cpu": _cpu(),
        "cores": os.cpu_count(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "commit": _commit(),
    }


def run_exhaustive(kernels: list[str] | None = None) -> None:
    """All 2^32 float32 inputs for every kernel and mode (or only ``kernels``, whose lines are replaced),
    through the Rust sweep (release build)."""
    DATA.mkdir(parents=True, exist_ok=True)
    command = "cargo test --release -p fastact-core --test sweep -- --ignored"
    fresh = DATA / "float32-exhaustive.new.jsonl"
    fresh.unlink(missing_ok=True)
    env = {**os.environ, "FASTACT_SWEEP_LOG": str(fresh)}
    if kernels:
        env["FASTACT_SWEEP_KERNELS"] = ",".join(kernels)
    subprocess.run(command.split() + ["--nocapture"], cwd=ROOT, env=env, check=True)
    new_lines = fresh.read_text().splitlines()
    fresh.unlink()
    if not kernels:
        EXHAUSTIVE.write_text(json.dumps({"meta": {**_meta_now(), "command": command}}) + "\n"
                              + "\n".join(new_lines) + "\n")
        return
    meta, rows = load_exhaustive()
    meta.setdefault("reruns", []).append({**_meta_now(), "kernels": kernels})
    replaced = {(json.loads(line)["kernel"], json.loads(line)["mode"]): line for line in new_lines}
    old_lines = [line for line in EXHAUSTIVE.read_text().splitlines() if "meta" not in json.loads(line)]
    merged = [replaced.pop((json.loads(line)["kernel"], json.loads(line)["mode"]), line) for line in old_lines]
    EXHAUSTIVE.write_text(json.dumps({"meta": meta}) + "\n" + "\n".join(merged + list(replaced.values())) + "\n")


def _conftest() -> Any:
    sys.path.insert(0, str(ROOT / "tests"))
    import conftest

    return conftest


def _worst(errors: Any, x: Any) -> dict[str, float]:
    import numpy as np

    i = int(np.argmax(errors))
    return {"ulp": round(float(errors[i]), 4), "x": float(x[i])}


def float64_errors(case: Any, mode: str) -> tuple[Any, Any]:
    """(points, ULP errors) of the case's float64 forward or derivative against mpmath, on conftest's
    adversarial points, outside the derivative's cancellation window (where the error is absolute)."""
    import numpy as np

    ct = _conftest()
    x = ct.mp_points(case)
    exact = ct.mp_eval(case, mode, x)
    got = case.public(mode)(x)
    errors = np.array([ct.mp_ulp_error(g, e) for g, e in zip(got, exact)])
    keep = ~in_window(case, mode, x)
    return x[keep], errors[keep]


def float32_errors(case: Any, mode: str) -> tuple[Any, Any]:
    """(points, ULP errors) of the case's float32 kernel against the float64 NumPy reference on conftest's
    ~200k float32 points, outside the cancellation window."""
    ct = _conftest()
    x = ct.float32_points()
    ref = case.reference64(mode, x)
    errors = ct.ulp_error(case.public(mode)(x), ref, "float32")
    keep = ~in_window(case, mode, x)
    return x[keep], errors[keep]


def in_window(case: Any, mode: str, x: Any) -> Any:
    return _conftest().in_cancellation_window(case, mode, x)


def measure() -> None:
    import fastact

    if fastact.backend() != "native":
        raise SystemExit("gen_accuracy.py measures the native kernels: build them (pip install .) first")
    ct = _conftest()
    out: dict[str, Any] = {"meta": {"cpu": _cpu(), "simd": fastact.simd_level(), "commit": _commit(),
                                    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")},
                           "float64": {}, "float32_parameters": {}}
    for case in ct.CASES + [c for c in ct.ALT_CASES if ct.bounded(c)]:
        for mode in ("forward", "grad"):
            x, errors = float64_errors(case, mode)
            out["float64"][f"{case.id}/{mode}"] = _worst(errors, x)
            print(f"float64 {case.id:40s} {mode:8s} {out['float64'][f'{case.id}/{mode}']['ulp']:.3f}")
    for case in (c for c in ct.ALT_CASES if ct.bounded(c)):
        for mode in case.modes:
            x, errors = float32_errors(case, mode)
            out["float32_parameters"][f"{case.id}/{mode}"] = _worst(errors, x)
    out["axis"] = {f"{op}/{dtype}": _worst_axis(op, dtype) for op in ("softmax", "log_softmax", "softmin",
                                                                       "logsumexp")
                   for dtype in ("float32", "float64")}
    DATA.mkdir(parents=True, exist_ok=True)
    MEASURED.write_text(json.dumps(out, indent=1) + "\n")


def axis_errors(op: str, dtype: str) -> Any:
    """ULP errors of fastact's `op` along the last axis against mpmath (tests/test_axis.py's rows: normal
    logits at scales 1, 30, 300 and 1e4)."""
    import fastact
    import numpy as np

    _conftest()
    import test_axis

    return np.concatenate([_conftest().ulp_error(getattr(fastact, op)(x), test_axis.mp_rows(x, op), dtype).ravel()
                           for x in test_axis.axis_rows(dtype)])


def _worst_axis(op: str, dtype: str) -> dict[str, float]:
    import numpy as np

    return {"ulp": round(float(np.nanmax(axis_errors(op, dtype))), 4)}


# ---------------------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------------------


def load_exhaustive() -> tuple[dict[str, Any], dict[tuple[str, str], Any]]:
    """(meta, {(kernel, mode): record}) with modes named as in the Python API (forward, grad, ...)."""
    meta: dict[str, Any] = {}
    rows: dict[tuple[str, str], Any] = {}
    for line in EXHAUSTIVE.read_text().splitlines():
        record = json.loads(line)
        if "meta" in record:
            meta = record["meta"]
        else:
            rows[(record["kernel"], MODES[record["mode"]])] = record
    return meta, rows


def _cell(worst: dict[str, Any] | None) -> str:
    if worst is None:
        return "—"
    ulp = float(worst["ulp"])
    if ulp == 0:
        return "exact"
    return f"{ulp:.2f} ({float(worst['x']):.6g})"


def render() -> str:
    sys.path.insert(0, str(ROOT / "python"))
    from fastact._catalogue import CATALOGUE
    from fastact._spec import Choice

    meta32, rows32 = load_exhaustive()
    measured = json.loads(MEASURED.read_text())
    f64 = measured["float64"]
    # (label, kernel, the test case id conftest gives it)
    kernels: list[tuple[str, str, str]] = []
    for spec in CATALOGUE:
        if isinstance(spec.choice, Choice):
            for value, kernel in spec.choice.kernels.items():
                if kernel == spec.name:
                    kernels.append((spec.name, kernel, spec.name))
                else:
                    kernels.append((f"{spec.name}({spec.choice.name}={value!r})", kernel, f"{spec.name}[{kernel}]"))
        else:
            kernels.append((spec.name, spec.kernels[0], spec.name))
    seconds = sum(float(r["seconds"]) for r in rows32.values())
    lines = [
        "# Accuracy",
        "",
        "<!-- generated by scripts/gen_accuracy.py from docs/accuracy/; do not edit -->",
        "",
        "Maximum error of every native kernel, in ULP of the exact result (0.5 is correctly rounded), with the",
        "input where it peaks. Every float32 input was checked; float64 is sampled against mpmath.",
        "",
        "- **float32**: all 2^32 bit patterns per kernel and mode, the float32 kernel against the float64 kernel, "
        f"both with the parameters rounded to float32 as the kernels use them (`{meta32.get('command', '')}`), on "
        f"{meta32.get('cpu', '?')} ({meta32.get('cores', '?')} cores), {meta32.get('date', '?')}, commit "
        f"{meta32.get('commit', '?')}; {seconds / 60:.0f} minutes in all. NaN, ±inf and signed-zero results matched "
        "the documented conventions everywhere "
        f"({'yes' if all(r['special_values_ok'] for r in rows32.values()) else 'NO'})."
        + "".join(f" Re-run after kernel changes: {', '.join(r['kernels'])} ({r['date']}, commit {r['commit']})."
                  for r in meta32.get("reruns", [])),
        f"- **float64**: against mpmath at 50 digits on a few hundred random and adversarial points per function "
        f"(tails to ±760, subnormal results, derivative zeros, kinks; `tests/conftest.py`), "
        f"{measured['meta']['date']}, commit {measured['meta']['commit']}.",
        "- Derivatives that cross zero (gelu in both forms, silu, mish) lose relative accuracy next to the crossing, "
        "inherent "
        "to the formula: within 0.25 of the zero the error is measured against half an ULP of 1.0 instead "
        "(the tests accept 4 ULP of 1.0 there); the table's figures are outside that window.",
        "- `grad` is the derivative f'(x); `from output` the derivative computed from y = f(x).",
        "",
        "| function | float32 forward | float32 grad | float32 from output | float64 forward | float64 grad |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, kernel, case_id in kernels:
        cells = [_cell(rows32[(kernel, m)]["normal"]) if (kernel, m) in rows32 else "—"
                 for m in ("forward", "grad", "from_output")]
        cells += [_cell(f64.get(f"{case_id}/{m}")) for m in ("forward", "grad")]
        lines.append(f"| `{label}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Subnormal results (float32)",
        "",
        "Where the exact result is below 2^-126 an ULP is the fixed spacing 2^-149; peers flush these to zero",
        "(sigmoid(-89), gelu(-13)); fastact computes them. Maximum error over the inputs whose result is subnormal:",
        "",
        "| function | forward | grad |",
        "|---|---:|---:|",
    ]
    for label, kernel, _ in kernels:
        cells = []
        for m in ("forward", "grad"):
            rec = rows32.get((kernel, m))
            cells.append("—" if rec is None or float(rec["subnormal"]["ulp"]) == 0 and float(
                rec["subnormal"]["x"]) == 0 else _cell(rec["subnormal"]))
        if any(c != "—" for c in cells):
            lines.append(f"| `{label}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Along an axis (softmax family)",
        "",
        "Against mpmath at 50 digits, rows of 97 normal logits at scales 1, 30, 300 and 10^4 (`tests/test_axis.py`):",
        "",
        "| function | float32 | float64 |",
        "|---|---:|---:|",
    ]
    for op in ("softmax", "log_softmax", "softmin", "logsumexp"):
        cells = [f"{float(measured['axis'][f'{op}/{dt}']['ulp']):.2f}" for dt in ("float32", "float64")]
        lines.append(f"| `{op}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Non-default parameters",
        "",
        "float32 on ~200k points (dense in [-20, 20], a walk over all bit patterns, tails, subnormals) against the",
        "float64 NumPy reference; float64 against mpmath as above.",
        "",
        "| function | mode | float32 | float64 |",
        "|---|---|---:|---:|",
    ]
    for key, worst in measured["float32_parameters"].items():
        case_id, mode = key.rsplit("/", 1)
        lines.append(f"| `{case_id}` | {mode} | {_cell(worst)} | {_cell(f64.get(key))} |")
    lines += [
        "",
        "sine with w0 != 1 rounds w0·x first (as PyTorch does) and is not listed: near the zeros of the result",
        "that rounding dominates. The bounds the tests enforce are the kernel table's (`rust/core/src/table.rs`)",
        "and these measurements: no kernel may get worse than the figures above.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--float32-exhaustive", action="store_true", help="run the exhaustive float32 sweep")
    parser.add_argument("--kernels", help="with --float32-exhaustive: only these kernels (a,b), merged in")
    parser.add_argument("--measure", action="store_true", help="measure float64 and non-default parameters")
    args = parser.parse_args()
    if args.float32_exhaustive:
        run_exhaustive(args.kernels.split(",") if args.kernels else None)
    if args.measure:
        measure()
    DOC.write_text(render())
    print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
