"""Bitwise comparison of two builds of the native module: every float32 bit pattern (2^32 inputs) and 10^7
float64 values per kernel and mode, for behaviour-neutral speed changes (results must not move by a bit).

    PYTHONPATH=python python scripts/compare_builds.py OLD.so [--kernels a,b] [--modes 0,1,2]
        [--f32-chunks N] [--f32-sample K] [--f64-only] [--f32-only] [--threads N] [--old-isa ISA]

OLD.so is a copy of ``_fastact*.so`` from the build to compare against; the other build is the one
``fastact`` imports. With ``--old-isa avx2`` OLD.so may be a copy of the same build: it then runs at that
SIMD level (``set_simd_level``) while ``fastact`` runs at the CPU's best, which checks that two SIMD paths
agree bit for bit. NaN results compare as "both NaN" (payloads are not part of the contract). Every row of
the table is compared at its sample parameters, and the rows in EXTRA_PARAMS at other values too. Exits 1
on the first mismatch of a kernel, printing it, after trying the rest.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import sys
import time

import numpy as np
from fastact import _registry

# Parameter values beyond the defaults for kernels whose parameters change the path taken.
EXTRA_PARAMS: dict[str, list[tuple[float, float]]] = {
    "elu": [(3.0, 0.0)],
    "celu": [(0.5, 0.0)],
    "softplus": [(0.5, 20.0)],
    "swish": [(2.0, 0.0)],
    "logit": [(1e-3, 0.0)],
}


def load_old(path: str, isa: str | None = None):
    # The module's init symbol is PyInit__fastact, so it keeps its name; it is not put in sys.modules. A copy
    # of the same file is a separate library with its own ISA choice, made once, at its first call.
    loader = importlib.machinery.ExtensionFileLoader("_fastact", path)
    spec = importlib.util.spec_from_file_location("_fastact", path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    if isa is not None:
        chosen = module.set_simd_level(isa)
        if chosen != isa and not (isa == "portable" and chosen in ("sse2", "neon")):
            sys.exit(f"OLD.so runs at {chosen!r}, not {isa!r}")
    return module


def same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ints = np.uint32 if a.dtype == np.float32 else np.uint64
    return (a.view(ints) == b.view(ints)) | (np.isnan(a) & np.isnan(b))


_BUFFERS: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}


def run(old, new, index: int, mode: int, x: np.ndarray, params: tuple[float, float]) -> np.ndarray:
    key = (len(x), x.dtype.str)
    if key not in _BUFFERS:
        _BUFFERS[key] = (np.empty_like(x), np.empty_like(x))
    y_old, y_new = _BUFFERS[key]
    old.apply(index, mode, x, None, y_old, *params)
    new.apply(index, mode, x, None, y_new, *params)
    ints = np.uint32 if x.dtype == np.float32 else np.uint64
    if np.array_equal(y_old.view(ints), y_new.view(ints)):
        return np.empty(0, np.int64)
    bad = ~same(y_old, y_new)
    if bad.any():
        i = np.flatnonzero(bad)[:5]
        for j in i:
            print(f"  MISMATCH x={x[j]!r} ({x[j:j + 1].view(np.uint32 if x.dtype == np.float32 else np.uint64)[0]:#x})"
                  f" old={y_old[j]!r} new={y_new[j]!r}")
        return np.flatnonzero(bad)
    return np.empty(0, np.int64)


def float64_inputs(n: int) -> np.ndarray:
    rng = np.random.default_rng(20261126)
    bits = rng.integers(0, 2**64, n // 2, dtype=np.uint64, endpoint=False).view(np.float64)
    # Half of the values where the exponential kernels change path: |x| up to 2000 (all of exp's range).
    wide = rng.uniform(-1, 1, n // 2) * np.exp2(rng.uniform(-30, 11, n // 2))
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 2.2250738585072014e-308,
                        np.finfo(np.float64).max, -np.finfo(np.float64).max, 1e300, -1e300, 745.2, -745.2,
                        708.0, -708.0, 709.78, -709.78, -1074.0, -1075.0, -1022.0, -1023.0], np.float64)
    return np.concatenate([bits, wide, special])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("--kernels", help="comma-separated kernel names (default: all)")
    parser.add_argument("--modes", default="0,1,2")
    parser.add_argument("--f32-chunks", type=int, default=256, help="split 2^32 into this many chunks")
    parser.add_argument("--f32-sample", type=int, default=0,
                        help="compare only this many of the chunks, spread evenly over the bit patterns (0: all)")
    parser.add_argument("--old-isa", help="run OLD.so at this SIMD level, e.g. avx2")
    parser.add_argument("--f64-only", action="store_true")
    parser.add_argument("--f32-only", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    old = load_old(args.old, args.old_isa)
    new = _registry.NATIVE
    print(f"old: {args.old} at {old.simd_level()}; new: {new.__file__} at {new.simd_level()}", flush=True)
    old.set_num_threads(args.threads)
    new.set_num_threads(args.threads)
    names = [k[0] for k in new.kernels()]
    assert names == [k[0] for k in old.kernels()], "the two builds' tables differ"
    from_output = {k[0]: k[4] for k in new.kernels()}
    wanted = args.kernels.split(",") if args.kernels else names
    modes = [int(m) for m in args.modes.split(",")]
    defaults = dict(_sample_params())
    failed = False
    chunk = (1 << 32) // args.f32_chunks
    sample = args.f32_sample or args.f32_chunks
    starts = [(i * args.f32_chunks // sample) * chunk for i in range(sample)]
    f32_label = "all 2^32" if sample == args.f32_chunks else f"{sample * chunk:,} of 2^32"
    x64 = float64_inputs(10_000_000)
    for name in wanted:
        index = names.index(name)
        for mode in modes:
            if mode == 2 and not from_output[name]:
                continue
            for params in [defaults[name], *EXTRA_PARAMS.get(name, [])]:
                t0 = time.perf_counter()
                mismatches = 0
                if not args.f64_only:
                    bits = np.arange(chunk, dtype=np.uint32)
                    for start in starts:
                        x = (bits + np.uint32(start)).view(np.float32)
                        mismatches += len(run(old, new, index, mode, x, params))
                        if mismatches:
                            break
                    f32 = f"float32 {f32_label}: {'IDENTICAL' if not mismatches else 'DIFFER'}"
                else:
                    f32 = "float32 skipped"
                m64 = 0 if args.f32_only else len(run(old, new, index, mode, x64, params))
                f64 = "float64 skipped" if args.f32_only else (
                    f"float64 {len(x64):,}: {'IDENTICAL' if not m64 else f'DIFFER ({m64})'}")
                print(f"{name} mode {mode} params {params}: {f32}; {f64} ({time.perf_counter() - t0:.0f} s)",
                      flush=True)
                failed |= bool(mismatches or m64)
    sys.exit(1 if failed else 0)


def _sample_params():
    """(name, (p0, p1)) at the Rust table's sample values, read from its source."""
    import pathlib
    import re

    table = pathlib.Path(__file__).resolve().parent.parent / "rust/core/src/table.rs"
    pattern = re.compile(r"^\s*(\w+)\s*=>\s*\w+,\s*params \d \[([^,\]]+),\s*([^\]]+)\]", re.M)
    for m in pattern.finditer(table.read_text()):
        yield m.group(1), (float(eval(m.group(2))), float(eval(m.group(3))))


if __name__ == "__main__":
    main()
