//! The lane driver (`apply_lanes`): contiguous and strided lanes, per-lane (logsumexp) operands, exact
//! aliasing of input and output, every ISA level and thread count giving the same bits, against a plain
//! f64 formula.

use fastact_core::{apply_lanes, parallel, simd, LaneView, RowMode, RowOp};

fn data(n: usize) -> Vec<f64> {
    // A deterministic spread of logits in [-30, 30].
    (0..n)
        .map(|i| ((i as f64 * 0.618_033_988_749_895).fract() - 0.5) * 60.0)
        .collect()
}

/// softmax of each row of a rows×cols row-major array, in f64 with the max shift (the test's oracle).
fn softmax_rows(x: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    for r in 0..rows {
        let row = &x[r * cols..(r + 1) * cols];
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
        for c in 0..cols {
            out[r * cols + c] = (row[c] - m).exp() / s;
        }
    }
    out
}

/// Run `op` over axis 1 (contiguous lanes) or axis 0 (strided lanes) of a rows×cols array.
fn run(op: RowOp, x: &[f64], rows: usize, cols: usize, axis: usize) -> Vec<f64> {
    let lse = op.reduces();
    let (outer_shape, n, outer, step) = if axis == 1 {
        ([rows], cols, [cols as isize], 1isize)
    } else {
        ([cols], rows, [1isize], cols as isize)
    };
    let mut y = vec![0.0; if lse { outer_shape[0] } else { x.len() }];
    let y_outer = if lse { [1isize] } else { outer };
    // SAFETY: every lane position lies inside `x` and `y` (row-major rows×cols, or one value per lane).
    unsafe {
        apply_lanes::<f64>(
            op,
            RowMode::Forward,
            &outer_shape,
            n,
            LaneView {
                ptr: x.as_ptr(),
                outer: &outer,
                step,
            },
            None,
            LaneView {
                ptr: y.as_mut_ptr(),
                outer: &y_outer,
                step: if lse { 0 } else { step },
            },
        )
    };
    y
}

/// Empty lanes (n = 0) with the zero strides NumPy gives empty arrays: nothing is written, except
/// logsumexp's per-lane -inf. `y` has one element more than the call may touch, holding a sentinel.
#[test]
fn empty_lanes_write_nothing() {
    let x = [0.0f64; 1];
    let g = [1.0f64; 4];
    for op in [
        RowOp::Softmax,
        RowOp::LogSoftmax,
        RowOp::Softmin,
        RowOp::LogSumExp,
    ] {
        for mode in [RowMode::Forward, RowMode::Derivative, RowMode::FromOutput] {
            if op == RowOp::LogSumExp && mode == RowMode::FromOutput {
                continue;
            }
            let per_lane = op == RowOp::LogSumExp && mode == RowMode::Forward;
            let mut y = [7.0f64; 4];
            let zero = [0isize];
            let one = [1isize];
            let gv = (mode != RowMode::Forward).then(|| LaneView {
                ptr: g.as_ptr(),
                outer: if op == RowOp::LogSumExp { &one } else { &zero },
                step: 0,
            });
            // SAFETY: with n = 0 only logsumexp's forward writes, one element per lane (3 lanes, y[0..3]
            // through the per-lane stride 1); every other call touches nothing.
            unsafe {
                apply_lanes::<f64>(
                    op,
                    mode,
                    &[3],
                    0,
                    LaneView {
                        ptr: x.as_ptr(),
                        outer: &zero,
                        step: 0,
                    },
                    gv,
                    LaneView {
                        ptr: y.as_mut_ptr(),
                        outer: if per_lane { &one } else { &zero },
                        step: 0,
                    },
                )
            };
            if per_lane {
                assert_eq!(
                    y,
                    [f64::NEG_INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY, 7.0]
                );
            } else {
                assert_eq!(y, [7.0; 4], "{op:?} {mode:?} wrote into an empty output");
            }
        }
    }
}

#[test]
fn contiguous_and_strided_lanes_match_the_formula() {
    let (rows, cols) = (37, 53);
    let x = data(rows * cols);
    let want = softmax_rows(&x, rows, cols);
    let got = run(RowOp::Softmax, &x, rows, cols, 1);
    for (g, w) in got.iter().zip(&want) {
        // The naive f64 oracle itself is off by up to |x - max|·2^-53 relative (60 here).
        assert!((g - w).abs() <= 1e-14 * w.abs().max(1e-300), "{g} vs {w}");
    }
    // Axis 0 of the transpose is the same computation on strided lanes.
    let mut xt = vec![0.0; x.len()];
    for r in 0..rows {
        for c in 0..cols {
            xt[c * rows + r] = x[r * cols + c];
        }
    }
    let got_t = run(RowOp::Softmax, &xt, cols, rows, 0);
    for r in 0..rows {
        for c in 0..cols {
            assert_eq!(got_t[c * rows + r].to_bits(), got[r * cols + c].to_bits());
        }
    }
    // logsumexp: one value per lane.
    let lse = run(RowOp::LogSumExp, &x, rows, cols, 1);
    for r in 0..rows {
        let row = &x[r * cols..(r + 1) * cols];
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let want = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        assert!((lse[r] - want).abs() <= 1e-14 * want.abs());
    }
}

#[test]
fn in_place_gives_the_out_of_place_bits() {
    let (rows, cols) = (9, 100);
    let x = data(rows * cols);
    let want = run(RowOp::LogSoftmax, &x, rows, cols, 1);
    let mut y = x.clone();
    let ptr = y.as_mut_ptr();
    // SAFETY: input and output are the very same memory, element for element, which apply_lanes allows.
    unsafe {
        apply_lanes::<f64>(
            RowOp::LogSoftmax,
            RowMode::Forward,
            &[rows],
            cols,
            LaneView {
                ptr: ptr as *const f64,
                outer: &[cols as isize],
                step: 1,
            },
            None,
            LaneView {
                ptr,
                outer: &[cols as isize],
                step: 1,
            },
        )
    };
    assert_eq!(
        y.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn bits_do_not_depend_on_threads_or_isa() {
    let (rows, cols) = (600, 700);
    let x = data(rows * cols);
    let reference = run(RowOp::Softmax, &x, rows, cols, 1);
    let best = simd::Isa::detect();
    for isa in [simd::Isa::Portable, simd::Isa::Avx2, simd::Isa::Avx512] {
        if isa > best {
            continue;
        }
        simd::set_active(isa);
        for threads in [1, 2, 3] {
            parallel::set_num_threads(threads);
            for op in [
                RowOp::Softmax,
                RowOp::Softmin,
                RowOp::LogSoftmax,
                RowOp::LogSumExp,
            ] {
                let a = run(op, &x, rows, cols, 1);
                let b = run(op, &x, rows, cols, 0);
                assert!(a.iter().all(|v| v.is_finite()) && b.iter().all(|v| v.is_finite()));
                if op == RowOp::Softmax {
                    assert_eq!(a, reference, "{isa:?} on {threads} threads");
                }
            }
        }
    }
    simd::set_active(best);
    parallel::set_num_threads(0);
}

/// Timing probe (not a benchmark: `cargo bench` and benches/bench_axis.py are): ns per element of f32 rows.
#[test]
#[ignore = "timing probe; run with --release -- --ignored --nocapture"]
fn timing_probe() {
    let (rows, cols) = (1000, 1000);
    let x: Vec<f32> = data(rows * cols).iter().map(|&v| v as f32 / 10.0).collect();
    let mut y = vec![0f32; x.len()];
    let g = vec![1f32; x.len()];
    let full: &[isize] = &[cols as isize];
    parallel::set_num_threads(1);
    for op in [RowOp::Softmax, RowOp::LogSoftmax, RowOp::LogSumExp] {
        // logsumexp's output (forward) and grad_out (derivative) hold one value per row.
        let (per_row, per_row_step): (&[isize], isize) = if op == RowOp::LogSumExp {
            (&[1], 0)
        } else {
            (full, 1)
        };
        for mode in [RowMode::Forward, RowMode::Derivative] {
            let forward = mode == RowMode::Forward;
            let mut best = f64::INFINITY;
            for _ in 0..20 {
                let t = std::time::Instant::now();
                // SAFETY: row-major rows×cols (or one value per row), inside `x`, `g` and `y`.
                unsafe {
                    apply_lanes::<f32>(
                        op,
                        mode,
                        &[rows],
                        cols,
                        LaneView {
                            ptr: x.as_ptr(),
                            outer: full,
                            step: 1,
                        },
                        (!forward).then_some(LaneView {
                            ptr: g.as_ptr(),
                            outer: per_row,
                            step: per_row_step,
                        }),
                        LaneView {
                            ptr: y.as_mut_ptr(),
                            outer: if forward { per_row } else { full },
                            step: if forward { per_row_step } else { 1 },
                        },
                    )
                };
                best = best.min(t.elapsed().as_secs_f64());
            }
            println!(
                "{op:?} {mode:?}: {:.2} ns/element",
                best * 1e9 / x.len() as f64
            );
        }
    }
    parallel::set_num_threads(0);
}

/// A masked forward over axis 1 (contiguous lanes) or axis 0 (strided lanes) of a rows×cols array, with a
/// mask of the same layout (one byte per element, any non-zero byte keeps the entry).
fn run_masked(
    op: RowOp,
    x: &[f64],
    mask: &[u8],
    rows: usize,
    cols: usize,
    axis: usize,
) -> Vec<f64> {
    let per_lane = op.reduces();
    let (outer_shape, n, outer, step) = if axis == 1 {
        ([rows], cols, [cols as isize], 1isize)
    } else {
        ([cols], rows, [1isize], cols as isize)
    };
    let mut y = vec![7.0; if per_lane { outer_shape[0] } else { x.len() }];
    let y_outer = if per_lane { [1isize] } else { outer };
    // SAFETY: every lane position lies inside `x`, `mask` and `y` (row-major rows×cols, or one value per
    // lane); the mask is only read.
    unsafe {
        fastact_core::apply_lanes_masked::<f64>(
            op,
            RowMode::Forward,
            &outer_shape,
            n,
            LaneView {
                ptr: x.as_ptr(),
                outer: &outer,
                step,
            },
            None,
            Some(LaneView {
                ptr: mask.as_ptr(),
                outer: &outer,
                step,
            }),
            LaneView {
                ptr: y.as_mut_ptr(),
                outer: &y_outer,
                step: if per_lane { 0 } else { step },
            },
        )
    };
    y
}

/// A masked lane is the unmasked lane of its kept entries: 0 (softmax) or -inf (log_softmax) elsewhere,
/// whatever the masked entries hold; a fully masked lane gives 0s / -inf; both layouts give the same bits.
#[test]
fn masked_lanes_ignore_the_masked_entries() {
    let (rows, cols) = (5, 9);
    let mut x = data(rows * cols);
    let mask: Vec<u8> = (0..rows * cols)
        .map(|i| u8::from(i / cols != 0 && i % 3 != 1) * (1 + (i % 2) as u8)) // 1 or 2 = kept
        .collect();
    for (v, &m) in x.iter_mut().zip(&mask) {
        if m == 0 {
            *v = f64::NAN;
        }
    }
    let y = run_masked(RowOp::Softmax, &x, &mask, rows, cols, 1);
    assert!(y[..cols].iter().all(|&v| v == 0.0), "fully masked row");
    for r in 1..rows {
        let kept: Vec<f64> = (0..cols)
            .filter(|c| mask[r * cols + c] != 0)
            .map(|c| x[r * cols + c])
            .collect();
        let want = softmax_rows(&kept, 1, kept.len());
        let got: Vec<f64> = (0..cols)
            .filter(|c| mask[r * cols + c] != 0)
            .map(|c| y[r * cols + c])
            .collect();
        for (g, w) in got.iter().zip(&want) {
            // As above: the oracle's own error is |v - m|·eps, v - m up to 60.
            assert!((g - w).abs() <= 64.0 * f64::EPSILON * w, "{g} vs {w}");
        }
        for c in (0..cols).filter(|c| mask[r * cols + c] == 0) {
            assert_eq!(y[r * cols + c].to_bits(), 0f64.to_bits());
        }
    }
    let log = run_masked(RowOp::LogSoftmax, &x, &mask, rows, cols, 1);
    assert!(log[..cols].iter().all(|&v| v == f64::NEG_INFINITY));
    let lse = run_masked(RowOp::LogSumExp, &x, &mask, rows, cols, 1);
    assert_eq!(lse[0], f64::NEG_INFINITY);
    assert!(lse[1..].iter().all(|v| v.is_finite()));
    // The transposed layout (strided lanes) gives the same bits.
    let mut xt = vec![0.0; x.len()];
    let mut mt = vec![0u8; mask.len()];
    for r in 0..rows {
        for c in 0..cols {
            xt[c * rows + r] = x[r * cols + c];
            mt[c * rows + r] = mask[r * cols + c];
        }
    }
    let yt = run_masked(RowOp::Softmax, &xt, &mt, cols, rows, 0);
    for r in 0..rows {
        for c in 0..cols {
            assert_eq!(yt[c * rows + r].to_bits(), y[r * cols + c].to_bits());
        }
    }
}

/// quiet_softmax is softmax with an extra 0 logit; logmeanexp of equal values is that value; sparsemax
/// projects onto the simplex (sums to 1, exact zeros, the known threshold).
#[test]
fn quiet_softmax_logmeanexp_and_sparsemax_lanes() {
    let (rows, cols) = (3, 7);
    let x = data(rows * cols);
    let quiet = run(RowOp::QuietSoftmax, &x, rows, cols, 1);
    for r in 0..rows {
        let mut padded: Vec<f64> = x[r * cols..(r + 1) * cols].to_vec();
        padded.push(0.0);
        let want = softmax_rows(&padded, 1, cols + 1);
        for c in 0..cols {
            let (g, w) = (quiet[r * cols + c], want[c]);
            // The oracle's exp(v - m) carries |v - m|·eps of error, and v - m reaches 60 here.
            assert!((g - w).abs() <= 64.0 * f64::EPSILON * w, "{g} vs {w}");
        }
    }
    let minus_inf = [f64::NEG_INFINITY; 4];
    assert!(run(RowOp::QuietSoftmax, &minus_inf, 1, 4, 1)
        .iter()
        .all(|&v| v == 0.0));
    for n in [1usize, 3, 97] {
        let same = vec![0.3f64; n];
        assert_eq!(run(RowOp::LogMeanExp, &same, 1, n, 1), vec![0.3]);
    }
    let sparse = run(RowOp::Sparsemax, &[-1.0, 0.0, 1.0, 0.5, 0.5, 0.0], 2, 3, 1);
    assert_eq!(sparse, vec![0.0, 0.0, 1.0, 0.5, 0.5, 0.0]);
    let y = run(RowOp::Sparsemax, &x, rows, cols, 0);
    for c in 0..cols {
        let s: f64 = (0..rows).map(|r| y[r * cols + c]).sum();
        assert!((s - 1.0).abs() <= 4.0 * f64::EPSILON);
    }
}

/// The bytes of a slice of floats, to compare results bit for bit (NaN payloads and signs included).
fn bytes<T: Copy>(v: &[T]) -> Vec<u8> {
    // SAFETY: f32 and f64 have no padding and every byte of them is initialised.
    unsafe { core::slice::from_raw_parts(v.as_ptr().cast::<u8>(), core::mem::size_of_val(v)) }
        .to_vec()
}

/// `op` in `mode` over lanes of length n, `lanes` of them: contiguous (a lanes×n array over axis 1) or
/// strided (an n×lanes array over axis 0, the panel path), in place (x overwritten) when `in_place`. `g`
/// (derivatives) has x's layout, or one value per lane for logsumexp and logmeanexp.
fn run_lanes<T: fastact_core::real::Elem>(
    op: RowOp,
    mode: RowMode,
    x: &mut [T],
    g: &[T],
    (lanes, n): (usize, usize),
    strided: bool,
    in_place: bool,
) -> Vec<T> {
    let per_lane = op.reduces();
    let (outer, step) = if strided {
        ([1isize], lanes as isize)
    } else {
        ([n as isize], 1isize)
    };
    let per_lane_out = per_lane && mode == RowMode::Forward;
    let mut y = vec![T::c(7.0); if per_lane_out { lanes } else { x.len() }];
    let per_lane_view = ([1isize], 0isize);
    let (y_outer, y_step) = if per_lane_out {
        per_lane_view
    } else {
        (outer, step)
    };
    let (g_outer, g_step) = if per_lane {
        per_lane_view
    } else {
        (outer, step)
    };
    let x_ptr = x.as_mut_ptr();
    let y_ptr = if in_place { x_ptr } else { y.as_mut_ptr() };
    // SAFETY: every lane position lies inside `x`, `g` and `y` (lanes×n or n×lanes, or one value per
    // lane); an in-place output is x itself, element for element.
    unsafe {
        apply_lanes::<T>(
            op,
            mode,
            &[lanes],
            n,
            LaneView {
                ptr: x_ptr as *const T,
                outer: &outer,
                step,
            },
            (mode != RowMode::Forward).then_some(LaneView {
                ptr: g.as_ptr(),
                outer: &g_outer,
                step: g_step,
            }),
            LaneView {
                ptr: y_ptr,
                outer: &y_outer,
                step: y_step,
            },
        )
    };
    if in_place {
        x.to_vec()
    } else {
        y
    }
}

/// Lanes of logits with the special rows among them: NaN (both signs), +inf, only -inf, -inf beside
/// finite values, +inf with -inf, zeros of both signs at the max, a row of equal values, huge values.
fn special_lanes<T: fastact_core::real::Elem>(lanes: usize, n: usize) -> Vec<T> {
    let mut x: Vec<f64> = data(lanes * n);
    let inf = f64::INFINITY;
    let mut lane = |k: usize, f: &dyn Fn(usize, f64) -> f64| {
        for i in 0..n {
            x[k * n + i] = f(i, x[k * n + i]);
        }
    };
    lane(0, &|i, v| if i == n / 2 { f64::NAN } else { v });
    lane(1, &|i, v| if i == n - 1 { inf } else { v });
    lane(2, &|_, _| -inf);
    lane(3, &|i, v| if i % 3 == 0 { -inf } else { v });
    lane(4, &|i, v| if i == 0 { -f64::NAN } else { v });
    lane(5, &|i, v| match i {
        1 => -0.0,
        16 => 0.0,
        _ => -v.abs() - 1.0,
    });
    lane(6, &|_, _| 0.25);
    lane(7, &|i, v| match i {
        0 => inf,
        1 => -inf,
        _ => v,
    });
    lane(8, &|i, v| v * 1e36 + i as f64);
    x.iter().map(|&v| T::from_f64(v)).collect()
}

/// lanes×n into n×lanes.
fn transpose<T: Copy>(x: &[T], lanes: usize, n: usize) -> Vec<T> {
    (0..n * lanes)
        .map(|j| x[(j % lanes) * n + j / lanes])
        .collect()
}

/// Every softmax-family call a panel takes: each op but sparsemax in each mode, but for the from-output
/// derivative of the reducing ops (not an entry point).
fn panel_calls() -> Vec<(RowOp, RowMode)> {
    let ops = [
        RowOp::Softmax,
        RowOp::LogSoftmax,
        RowOp::Softmin,
        RowOp::LogSumExp,
        RowOp::QuietSoftmax,
        RowOp::LogMeanExp,
    ];
    let modes = [RowMode::Forward, RowMode::Derivative, RowMode::FromOutput];
    ops.into_iter()
        .flat_map(|op| modes.map(|mode| (op, mode)))
        .filter(|&(op, mode)| !(op.reduces() && mode == RowMode::FromOutput))
        .collect()
}

/// Every forward and derivative gives the contiguous lane's bits on strided lanes (the panels and the
/// tiles), on every ISA level and thread count, with special lanes, panels cut short by the end of the
/// lanes, and in place.
fn strided_lanes_match<T: fastact_core::real::Elem>() {
    let best = simd::Isa::detect();
    for (lanes, n) in [(300, 37), (40, 1000), (20, 140_000), (11, 2)] {
        let x = special_lanes::<T>(lanes, n);
        let xt = transpose(&x, lanes, n);
        let g: Vec<T> = data(lanes * n)
            .iter()
            .map(|&v| T::from_f64(v.sin()))
            .collect();
        let gt = transpose(&g, lanes, n);
        for (op, mode) in panel_calls() {
            let (g, gt) = if op.reduces() {
                (&g[..lanes], &g[..lanes])
            } else {
                (&g[..], &gt[..])
            };
            let want = run_lanes(op, mode, &mut x.clone(), g, (lanes, n), false, false);
            let per_lane_out = op.reduces() && mode == RowMode::Forward;
            let want_t = if per_lane_out {
                want.clone()
            } else {
                transpose(&want, lanes, n)
            };
            for isa in [simd::Isa::Portable, simd::Isa::Avx2, simd::Isa::Avx512] {
                if isa > best || (n > 1000 && isa == simd::Isa::Portable) {
                    continue;
                }
                simd::set_active(isa);
                for threads in [1, 2] {
                    parallel::set_num_threads(threads);
                    let shape = (lanes, n);
                    let got = run_lanes(op, mode, &mut xt.clone(), gt, shape, true, false);
                    let what = format!("{op:?} {mode:?} {isa:?} {threads} threads, {shape:?}");
                    assert!(bytes(&got) == bytes(&want_t), "{what}");
                    if !per_lane_out && threads == 2 {
                        let got = run_lanes(op, mode, &mut xt.clone(), gt, shape, true, true);
                        assert!(bytes(&got) == bytes(&want_t), "{what}, in place");
                    }
                }
            }
            simd::set_active(best);
        }
    }
    parallel::set_num_threads(0);
}

#[test]
fn strided_lanes_give_the_contiguous_bits_f32() {
    strided_lanes_match::<f32>();
}

#[test]
fn strided_lanes_give_the_contiguous_bits_f64() {
    strided_lanes_match::<f64>();
}

/// Contiguous lanes, which many at a time are computed as transposed panels (short lanes) or one after the
/// other where they lie (log_softmax's and logsumexp's up to 512 elements eight at a time), give the bits of
/// each lane computed alone (one lane per call takes the lane path), on every ISA level, in place too.
fn contiguous_lanes_match<T: fastact_core::real::Elem>() {
    let best = simd::Isa::detect();
    // 8, 12 and 16: whole 8×8 transpose blocks of f32, and 4 columns at the edge. 31: the longest short
    // lane; 32 and up: lanes one after the other (37 lanes: four groups of eight and one of five); 512 and
    // 513: the longest grouped lanes and the shortest lanes past them.
    for n in [1, 2, 5, 8, 12, 16, 17, 31, 32, 40, 100, 512, 513] {
        let lanes = 37;
        let x = special_lanes::<T>(lanes, n.max(17))
            .chunks(n.max(17))
            .flat_map(|lane| lane[..n].to_vec())
            .collect::<Vec<T>>();
        let g: Vec<T> = data(lanes * n)
            .iter()
            .map(|&v| T::from_f64(v.cos()))
            .collect();
        for (op, mode) in panel_calls() {
            let per_lane_g = op.reduces();
            let per_lane_out = op.reduces() && mode == RowMode::Forward;
            let g_of = |k: usize| {
                if per_lane_g {
                    g[k..k + 1].to_vec()
                } else {
                    g[k * n..(k + 1) * n].to_vec()
                }
            };
            for isa in [simd::Isa::Portable, simd::Isa::Avx2, simd::Isa::Avx512] {
                if isa > best {
                    continue;
                }
                simd::set_active(isa);
                let want: Vec<T> = (0..lanes)
                    .flat_map(|k| {
                        let mut lane = x[k * n..(k + 1) * n].to_vec();
                        run_lanes(op, mode, &mut lane, &g_of(k), (1, n), false, false)
                    })
                    .collect();
                let g_all = if per_lane_g { &g[..lanes] } else { &g[..] };
                let what = format!("{op:?} {mode:?} {isa:?}, {lanes} lanes of {n}");
                let got = run_lanes(op, mode, &mut x.clone(), g_all, (lanes, n), false, false);
                assert!(bytes(&got) == bytes(&want), "{what}");
                if !per_lane_out {
                    let got = run_lanes(op, mode, &mut x.clone(), g_all, (lanes, n), false, true);
                    assert!(bytes(&got) == bytes(&want), "{what}, in place");
                }
            }
            simd::set_active(best);
        }
    }
}

#[test]
fn contiguous_lanes_give_each_lanes_bits_f32() {
    contiguous_lanes_match::<f32>();
}

#[test]
fn contiguous_lanes_give_each_lanes_bits_f64() {
    contiguous_lanes_match::<f64>();
}
