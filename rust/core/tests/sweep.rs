//! float32 kernels against the float64 kernels over the float32 bit patterns.
//!
//! The default run walks every 997th bit pattern (4.3 million inputs per kernel and mode). The exhaustive
//! run covers all 2^32 patterns; it is opt-in:
//!
//!     cargo test --release -p fastact-core --test sweep -- --ignored --nocapture
//!
//! FASTACT_SWEEP_KERNELS=sigmoid,tanh limits either run to the named kernels.
//!
//! The f64 kernels are themselves checked against mpmath (tests/test_accuracy.py) and are ~2^-29 f32 ULP
//! accurate, so the f64 value serves as the exact reference here. The error of a result is
//! |got - ref| / ulp_f32(ref), with ulp_f32 the spacing of float32 numbers at ref (2^-149 for subnormals).
//! Non-finite references must be matched exactly, as must the sign of zero results of forwards.

use fastact_core::{apply, parallel, Call, KernelId, Mode};
use rayon::prelude::*;

/// Derivatives that cross zero lose relative accuracy next to the crossing (the formula's own cancellation):
/// there the error is measured against 2^-24 (half an ULP of 1.0) instead of the value's own ULP.
const DERIVATIVE_ZERO_CROSSING: &[&str] = &["gelu", "gelu_tanh", "silu", "mish"];
/// From-output derivatives y + alpha (elu, celu) cancel as y -> -alpha (x -> -inf), where the rounding of a
/// non-representable alpha alone is several ULP of the result: same absolute floor. (selu's constant is
/// added in two parts and needs no floor.)
const FROM_OUTPUT_CANCELS: &[&str] = &["elu", "celu"];

fn ulp_f32(v: f64) -> f64 {
    let a = v.abs();
    if a < f32::MIN_POSITIVE as f64 {
        return 2f64.powi(-149);
    }
    2f64.powi(a.log2().floor() as i32 - 23)
}

#[derive(Clone, Copy, Debug)]
struct Worst {
    err: f64,
    x: f32,
    got: f32,
    want: f64,
}

/// Max error over bit patterns start, start+stride, ... (u32 range), and the first special-value mismatch.
fn sweep(kernel: KernelId, mode: Mode, stride: u64) -> (Worst, Option<String>) {
    let name = kernel.info().name;
    let call = Call::new(kernel, mode, kernel.info().sample_params).expect("mode exists");
    let cancels = (mode != Mode::Forward && DERIVATIVE_ZERO_CROSSING.contains(&name))
        || (mode == Mode::FromOutput && FROM_OUTPUT_CANCELS.contains(&name));
    let floor = if cancels { 2f64.powi(-24) } else { 0.0 };
    let chunk: u64 = 1 << 20;
    let total = (1u64 << 32).div_ceil(stride);
    let chunks = total.div_ceil(chunk);
    (0..chunks)
        .into_par_iter()
        .map(|c| {
            let lo = c * chunk;
            let hi = ((c + 1) * chunk).min(total);
            let xs: Vec<f32> = (lo..hi)
                .map(|i| f32::from_bits((i * stride) as u32))
                .collect();
            let xd: Vec<f64> = xs.iter().map(|&v| v as f64).collect();
            let mut got = vec![0f32; xs.len()];
            let mut want = vec![0f64; xs.len()];
            apply(call, &xs, None, &mut got).expect("same lengths");
            apply(call, &xd, None, &mut want).expect("same lengths");
            let mut worst = Worst {
                err: 0.0,
                x: 0.0,
                got: 0.0,
                want: 0.0,
            };
            let mut bad = None;
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
                    if !same && !near_zero && bad.is_none() {
                        bad = Some(format!(
                            "{name} {mode:?} at x={:e}: got {g:e}, want {w:e}",
                            xs[i]
                        ));
                    }
                    continue;
                }
                let err = (g as f64 - w).abs() / ulp_f32(w).max(floor);
                if err > worst.err || err.is_nan() {
                    worst = Worst {
                        err,
                        x: xs[i],
                        got: g,
                        want: w,
                    };
                }
            }
            (worst, bad)
        })
        .reduce(
            || {
                (
                    Worst {
                        err: 0.0,
                        x: 0.0,
                        got: 0.0,
                        want: 0.0,
                    },
                    None,
                )
            },
            |a, b| {
                (
                    if b.0.err > a.0.err || b.0.err.is_nan() {
                        b.0
                    } else {
                        a.0
                    },
                    a.1.or(b.1),
                )
            },
        )
}

fn check_all(stride: u64) {
    parallel::set_num_threads(1); // the sweep parallelises over chunks itself
    let mut failures = Vec::new();
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
            let (worst, bad) = sweep(kernel, mode, stride);
            println!(
                "{:<13} {:<11} max {:>6.3} ULP at x = {:e} (got {:e}, want {:e})  [{:.1} s]",
                info.name,
                format!("{mode:?}"),
                worst.err,
                worst.x,
                worst.got,
                worst.want,
                started.elapsed().as_secs_f64()
            );
            // A result within `bound` ULP of the exact value; rounding to nearest alone costs 0.5.
            let within = worst.err <= bound as f64 + 0.5; // false for NaN too
            if !within {
                failures.push(format!(
                    "{} {mode:?}: {:.3} ULP > {bound} at x = {:e}",
                    info.name, worst.err, worst.x
                ));
            }
            if let Some(b) = bad {
                failures.push(b);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn dense_sweep_of_float32_within_the_table_bounds() {
    check_all(997);
}

#[test]
#[ignore = "exhaustive: all 2^32 inputs for every kernel and mode; run with --release -- --ignored"]
fn exhaustive_float32_within_the_table_bounds() {
    check_all(1);
}
