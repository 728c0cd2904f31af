//! float32 kernels against the float64 kernels over the float32 bit patterns.
//!
//! The default run walks every 997th bit pattern (4.3 million inputs per kernel and mode). The exhaustive
//! run covers all 2^32 patterns; it is opt-in:
//!
//!     cargo test --release -p fastact-core --test sweep -- --ignored --nocapture
//!
//! FASTACT_SWEEP_KERNELS=sigmoid,tanh limits either run to the named kernels; FASTACT_SWEEP_LOG=file appends
//! one JSON line per kernel and mode (maxima for normal and subnormal results, the inputs where they peak,
//! run time), which scripts/gen_accuracy.py turns into docs/accuracy.md.
//!
//! The f64 kernels are themselves checked against mpmath (tests/test_accuracy.py) and are ~2^-29 f32 ULP
//! accurate, so the f64 value serves as the exact reference here. The error of a result is
//! |got - ref| / ulp_f32(ref), with ulp_f32 the spacing of float32 numbers at ref (2^-149 for subnormals).
//! Non-finite references must be matched exactly, as must the sign of zero results of forwards.

use fastact_core::{apply, parallel, Call, KernelId, Mode};
use rayon::prelude::*;
use std::io::Write;

/// Derivatives that cross zero lose relative accuracy next to the crossing (the formula's own cancellation):
/// within CROSSING_WINDOW of the zero (the same windows as tests/conftest.py) the error is measured against
/// 2^-24 (half an ULP of 1.0) when that exceeds the value's own ULP; everywhere else, against its ULP.
const DERIVATIVE_ZERO_CROSSING: &[(&str, f64)] = &[
    ("gelu", -0.751_791_524_693_564_5),
    ("gelu_tanh", -0.752_461_4),
    ("silu", -1.278_464_542_761_074),
    ("swish", -1.278_464_542_761_074), // beta = 1 in the sweep
    ("mish", -1.192_369_8),
    ("gelu_sigmoid", -0.751_154_255_441_288_9),
];
const CROSSING_WINDOW: f64 = 0.25;
/// From-output derivatives y + alpha (elu, celu) cancel as y -> -alpha (x -> -inf), where the rounding of a
/// non-representable alpha alone is several ULP of the result: same absolute floor. (selu's constant is
/// added in two parts and needs no floor.)
const FROM_OUTPUT_CANCELS: &[&str] = &["elu", "celu"];

/// 2^(floor(log2 |v|) - 23), from the exponent bits (log2 and powi here would dominate the sweep's time).
fn ulp_f32(v: f64) -> f64 {
    let a = v.abs();
    if a < f32::MIN_POSITIVE as f64 {
        return 2f64.powi(-149);
    }
    let exponent = (a.to_bits() >> 52) & 0x7ff; // biased; a is a normal f64 here
    f64::from_bits((exponent - 23) << 52)
}

#[derive(Default)]
struct Buffers {
    xs: Vec<f32>,
    xd: Vec<f64>,
    got: Vec<f32>,
    want: Vec<f64>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Worst {
    err: f64,
    x: f32,
    got: f32,
    want: f64,
}

impl Worst {
    fn update(&mut self, err: f64, x: f32, got: f32, want: f64) {
        if err > self.err || err.is_nan() {
            *self = Worst { err, x, got, want };
        }
    }

    fn max(self, other: Worst) -> Worst {
        if other.err > self.err || other.err.is_nan() {
            other
        } else {
            self
        }
    }

    fn json(&self) -> String {
        format!(
            r#"{{"ulp": {}, "x": {}, "got": {}, "want": {}}}"#,
            json_number(self.err),
            json_number(self.x as f64),
            json_number(self.got as f64),
            json_number(self.want)
        )
    }
}

fn json_number(v: f64) -> String {
    if v.is_finite() {
        format!("{v:e}")
    } else {
        format!("\"{v}\"")
    }
}

/// The sweep of one kernel and mode: the worst error where the exact result is a normal float32, the worst
/// where it is subnormal (reported apart: there an ULP is 2^-149 absolute), inputs checked, and the first
/// special-value (NaN, ±inf, signed zero) mismatch.
#[derive(Clone, Debug, Default)]
struct Outcome {
    normal: Worst,
    subnormal: Worst,
    inputs: u64,
    bad: Option<String>,
}

impl Outcome {
    fn merge(self, other: Outcome) -> Outcome {
        Outcome {
            normal: self.normal.max(other.normal),
            subnormal: self.subnormal.max(other.subnormal),
            inputs: self.inputs + other.inputs,
            bad: self.bad.or(other.bad),
        }
    }

    fn worst(&self) -> Worst {
        self.normal.max(self.subnormal)
    }
}

/// Errors over bit patterns 0, stride, 2·stride, ... (u32 range).
fn sweep(kernel: KernelId, mode: Mode, stride: u64) -> Outcome {
    let name = kernel.info().name;
    let call = Call::new(kernel, mode, kernel.info().sample_params).expect("mode exists");
    // The f32 kernel computes with the parameters rounded to f32 (the convention, as PyTorch's): so does
    // the f64 reference, or leaky_relu's 0.01 alone would cost it 0.3 ULP.
    let rounded = kernel.info().sample_params.map(|p| p as f32 as f64);
    let reference = Call::new(kernel, mode, rounded).expect("mode exists");
    let crossing = match mode {
        Mode::Derivative => DERIVATIVE_ZERO_CROSSING
            .iter()
            .find(|(kernel, _)| *kernel == name)
            .map(|&(_, zero)| zero),
        _ => None,
    };
    let output_cancels = mode == Mode::FromOutput && FROM_OUTPUT_CANCELS.contains(&name);
    let floor_at = |x: f32| {
        let near_zero = crossing.is_some_and(|zero| (x as f64 - zero).abs() < CROSSING_WINDOW);
        if near_zero || output_cancels {
            2f64.powi(-24)
        } else {
            0.0
        }
    };
    let chunk: u64 = 1 << 14;
    let total = (1u64 << 32).div_ceil(stride);
    let chunks = total.div_ceil(chunk);
    (0..chunks)
        .into_par_iter()
        // Buffers are reused across chunks: allocating them per chunk made page faults most of the time.
        .map_init(Buffers::default, |buf, c| {
            let lo = c * chunk;
            let hi = ((c + 1) * chunk).min(total);
            buf.xs.clear();
            buf.xs
                .extend((lo..hi).map(|i| f32::from_bits((i * stride) as u32)));
            buf.xd.clear();
            buf.xd.extend(buf.xs.iter().map(|&v| v as f64));
            buf.got.resize(buf.xs.len(), 0.0);
            buf.want.resize(buf.xs.len(), 0.0);
            let (xs, got, want) = (&buf.xs, &mut buf.got, &mut buf.want);
            apply(call, xs, None, got).expect("same lengths");
            apply(reference, &buf.xd, None, want).expect("same lengths");
            let mut out = Outcome {
                inputs: xs.len() as u64,
                ..Outcome::default()
            };
            for i in 0..xs.len() {
                let (g, w) = (got[i], want[i]);
                let rounded = w as f32;
                if !w.is_finite() || !rounded.is_finite() || rounded == 0.0 {
                    // Forwards must match the sign of zero too; a derivative that underflows may give either.
                    let zero_ok = mode != Mode::Forward && g == 0.0 && rounded == 0.0;
                    let same =
                        (g.is_nan() && w.is_nan()) || g.to_bits() == rounded.to_bits() || zero_ok;
                    let near_zero =
                        rounded == 0.0 && w != 0.0 && (g as f64 - w).abs() <= 2f64.powi(-149);
                    if !same && !near_zero && out.bad.is_none() {
                        out.bad = Some(format!(
                            "{name} {mode:?} at x={:e}: got {g:e}, want {w:e}",
                            xs[i]
                        ));
                    }
                    continue;
                }
                let err = (g as f64 - w).abs() / ulp_f32(w).max(floor_at(xs[i]));
                if w.abs() < f32::MIN_POSITIVE as f64 {
                    out.subnormal.update(err, xs[i], g, w);
                } else {
                    out.normal.update(err, xs[i], g, w);
                }
            }
            out
        })
        .reduce(Outcome::default, Outcome::merge)
}

fn check_all(stride: u64) {
    parallel::set_num_threads(1); // the sweep parallelises over chunks itself
    let mut failures = Vec::new();
    // FASTACT_SWEEP_LOG=path appends one JSON line per kernel and mode (scripts/gen_accuracy.py reads them).
    let mut log = std::env::var_os("FASTACT_SWEEP_LOG").map(|path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("the FASTACT_SWEEP_LOG file can be opened")
    });
    let only: Option<Vec<String>> = std::env::var("FASTACT_SWEEP_KERNELS")
        .ok()
        .map(|v| v.split(',').map(|name| name.trim().to_string()).collect());
    for &kernel in KernelId::ALL {
        let info = kernel.info();
        if only
            .as_ref()
            .is_some_and(|names| !names.iter().any(|n| n == info.name))
        {
            continue;
        }
        let mut modes = vec![(Mode::Forward, info.ulp.0), (Mode::Derivative, info.ulp.1)];
        if info.from_output {
            modes.push((Mode::FromOutput, info.ulp.1));
        }
        for (mode, bound) in modes {
            let started = std::time::Instant::now();
            let outcome = sweep(kernel, mode, stride);
            let seconds = started.elapsed().as_secs_f64();
            let worst = outcome.worst();
            println!(
                "{:<13} {:<11} max {:>6.3} ULP at x = {:e} (got {:e}, want {:e}); subnormal results {:.3}  [{:.1} s]",
                info.name,
                format!("{mode:?}"),
                worst.err,
                worst.x,
                worst.got,
                worst.want,
                outcome.subnormal.err,
                seconds
            );
            if let Some(file) = log.as_mut() {
                let line = format!(
                    r#"{{"kernel": "{}", "mode": "{mode:?}", "inputs": {}, "seconds": {seconds:.1}, "normal": {}, "subnormal": {}, "special_values_ok": {}}}"#,
                    info.name,
                    outcome.inputs,
                    outcome.normal.json(),
                    outcome.subnormal.json(),
                    outcome.bad.is_none()
                );
                writeln!(file, "{line}").expect("the FASTACT_SWEEP_LOG file is writable");
            }
            // A result within `bound` ULP of the correctly rounded one; rounding to nearest alone costs 0.5.
            let within = worst.err <= bound as f64 + 0.5; // false for NaN too
            if !within {
                failures.push(format!(
                    "{} {mode:?}: {:.3} ULP > {bound} at x = {:e}",
                    info.name, worst.err, worst.x
                ));
            }
            if let Some(b) = outcome.bad {
                failures.push(b);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The published exhaustive maxima (docs/accuracy/float32-exhaustive.jsonl, written by
/// scripts/gen_accuracy.py): (kernel, mode) -> (normal, subnormal) ULP.
fn published() -> Vec<(String, String, f64, f64)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/accuracy/float32-exhaustive.jsonl"
    );
    let text =
        std::fs::read_to_string(path).expect("docs/accuracy/float32-exhaustive.jsonl exists");
    // Our own one-line records: read the fields by their keys.
    let field = |line: &str, key: &str| -> String {
        let start = line
            .find(key)
            .map(|i| i + key.len())
            .expect("a field of the record");
        let rest = line[start..].trim_start_matches([' ', '"']);
        rest.chars()
            .take_while(|c| !matches!(c, '"' | ',' | '}'))
            .collect()
    };
    text.lines()
        .filter(|line| !line.contains("\"meta\""))
        .map(|line| {
            let normal = &line[line.find("\"normal\"").expect("normal")..];
            let subnormal = &line[line.find("\"subnormal\"").expect("subnormal")..];
            (
                field(line, "\"kernel\":"),
                field(line, "\"mode\":"),
                field(normal, "\"ulp\":").parse().expect("a number"),
                field(subnormal, "\"ulp\":").parse().expect("a number"),
            )
        })
        .collect()
}

#[test]
fn dense_sweep_of_float32_within_the_table_bounds() {
    check_all(997);
}

/// Every dense-sweep input is one of the exhaustive run's, with the same oracle: no kernel may now be worse
/// than the published maxima.
#[test]
fn dense_sweep_no_worse_than_the_published_exhaustive_maxima() {
    parallel::set_num_threads(1);
    let published = published();
    let mut failures = Vec::new();
    for &kernel in KernelId::ALL {
        let info = kernel.info();
        let mut modes = vec![Mode::Forward, Mode::Derivative];
        if info.from_output {
            modes.push(Mode::FromOutput);
        }
        for mode in modes {
            let mode_name = format!("{mode:?}");
            let Some(&(_, _, normal, subnormal)) = published
                .iter()
                .find(|(k, m, _, _)| k == info.name && *m == mode_name)
            else {
                failures.push(format!(
                    "{} {mode_name}: no published record (python scripts/gen_accuracy.py --float32-exhaustive --kernels {})",
                    info.name, info.name
                ));
                continue;
            };
            let outcome = sweep(kernel, mode, 997);
            for (kind, got, limit) in [
                ("normal", outcome.normal, normal),
                ("subnormal", outcome.subnormal, subnormal),
            ] {
                // NaN errors fail too.
                let within = got.err <= limit * (1.0 + 1e-12) + 1e-12;
                if !within {
                    failures.push(format!(
                        "{} {mode_name} ({kind} results): {:.4} ULP at x = {:e} > published {limit}",
                        info.name, got.err, got.x
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
#[ignore = "exhaustive: all 2^32 inputs for every kernel and mode; run with --release -- --ignored"]
fn exhaustive_float32_within_the_table_bounds() {
    check_all(1);
}
