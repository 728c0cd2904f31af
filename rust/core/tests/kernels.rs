//! Table-driven tests of the kernels and the driver: every row of the kernel table, every mode, every ISA
//! level this CPU has. Accuracy is tested elsewhere (f32: tests/sweep.rs, f64: tests/test_accuracy.py
//! against mpmath); here the machinery (ISA parity, strides, aliasing, threads) is checked against the
//! plain contiguous call.

use fastact_core::half::Half;
use fastact_core::simd::{self, Isa};
use fastact_core::{
    apply, apply_inplace, apply_strided, Bf16, Call, KernelId, Mode, Store, View, ViewMut, F16,
};

fn modes(kernel: KernelId) -> Vec<Mode> {
    let mut m = vec![Mode::Forward, Mode::Derivative];
    if kernel.info().from_output {
        m.push(Mode::FromOutput);
    }
    m
}

/// A deterministic spread of inputs: a dense grid, wide magnitudes, and the special values.
fn samples() -> Vec<f64> {
    let mut v: Vec<f64> = (-4000..=4000).map(|i| i as f64 * 0.005).collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..4000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mag = (seed % 2000) as f64 / 20.0 - 60.0; // 10^-60 .. 10^40
        let sign = if seed & 1 == 0 { 1.0 } else { -1.0 };
        v.push(sign * 10f64.powf(mag / 2.0));
    }
    v.extend([
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1e-310,
        -1e-310,
        88.0,
        -88.0,
        700.0,
    ]);
    v
}

fn run<T: Store>(call: Call, x: &[T], g: Option<&[T]>) -> Vec<T> {
    let mut y = vec![T::default(); x.len()];
    apply(call, x, g, &mut y).expect("lengths match");
    y
}

fn all_levels() -> Vec<Isa> {
    [Isa::Portable, Isa::Avx2, Isa::Avx512]
        .into_iter()
        .filter(|&i| i <= Isa::detect())
        .collect()
}

#[test]
fn every_isa_level_gives_the_same_bits() {
    // Every loop is the same scalar code and FMA is exactly rounded everywhere, so levels differ only in
    // vector width.
    let xs64 = samples();
    let xs32: Vec<f32> = xs64.iter().map(|&v| v as f32).collect();
    for &kernel in KernelId::ALL {
        for mode in modes(kernel) {
            let call = Call::new(kernel, mode, kernel.info().sample_params).unwrap();
            let mut first: Option<(Vec<u32>, Vec<u64>)> = None;
            for isa in all_levels() {
                simd::set_active(isa);
                // NaN payloads may differ (libm's fma vs vfmadd); every NaN compares as the canonical one.
                let a: Vec<u32> = run(call, &xs32, None)
                    .iter()
                    .map(|v| if v.is_nan() { u32::MAX } else { v.to_bits() })
                    .collect();
                let b: Vec<u64> = run(call, &xs64, None)
                    .iter()
                    .map(|v| if v.is_nan() { u64::MAX } else { v.to_bits() })
                    .collect();
                match &first {
                    None => first = Some((a, b)),
                    Some((a0, b0)) => {
                        assert!(
                            a == *a0 && b == *b0,
                            "{} {mode:?} differs on {isa:?}",
                            kernel.info().name
                        )
                    }
                }
            }
            simd::set_active(Isa::detect());
        }
    }
}

#[test]
fn grad_out_multiplies_the_derivative() {
    let xs: Vec<f64> = (-200..200).map(|i| i as f64 * 0.05).collect();
    let g: Vec<f64> = xs.iter().map(|v| 0.5 - v * 0.25).collect();
    for &kernel in KernelId::ALL {
        let call = Call::new(kernel, Mode::Derivative, kernel.info().sample_params).unwrap();
        let plain = run(call, &xs, None);
        let scaled = run(call, &xs, Some(&g));
        for i in 0..xs.len() {
            assert_eq!(
                scaled[i].to_bits(),
                (g[i] * plain[i]).to_bits(),
                "{} at {}",
                kernel.info().name,
                xs[i]
            );
        }
    }
}

#[test]
fn from_output_is_refused_where_it_does_not_exist() {
    assert!(Call::new(KernelId::gelu, Mode::FromOutput, [0.0; 2]).is_err());
    assert!(Call::new(KernelId::sigmoid, Mode::FromOutput, [0.0; 2]).is_ok());
}

#[test]
fn strided_views_match_the_contiguous_call() {
    // A 2-D array of 37 x 53, read transposed, reversed and with steps; output in another layout.
    let (rows, cols) = (37usize, 53usize);
    let base: Vec<f32> = (0..rows * cols * 2)
        .map(|i| (i as f32 * 0.37).sin() * 7.0)
        .collect();
    let call = Call::new(
        KernelId::from_name("gelu").unwrap(),
        Mode::Forward,
        [0.0; 2],
    )
    .unwrap();
    let expect_fn = |v: f32| run(call, &[v], None)[0];
    for (x_strides, offset) in [
        ([cols as isize * 2, 2isize], 0isize),
        ([-(cols as isize) * 2, 1], ((rows - 1) * cols * 2) as isize),
    ] {
        let mut out = vec![0f32; rows * cols];
        let y_strides = [1isize, rows as isize]; // Fortran order output
        let x = View {
            ptr: base.as_ptr().wrapping_offset(offset),
            strides: &x_strides,
        };
        let y = ViewMut {
            ptr: out.as_mut_ptr(),
            strides: &y_strides,
        };
        // SAFETY: every offset r*xs0 + c*xs1 (+ offset) lies inside `base`, every r + c*rows inside `out`.
        unsafe { apply_strided(call, &[rows, cols], x, None, y) };
        for r in 0..rows {
            for c in 0..cols {
                let xi =
                    base[(offset + r as isize * x_strides[0] + c as isize * x_strides[1]) as usize];
                assert_eq!(out[r + c * rows].to_bits(), expect_fn(xi).to_bits());
            }
        }
    }
}

#[test]
fn in_place_and_overlapping_outputs_give_the_separate_output_answer() {
    let xs: Vec<f64> = (0..5000).map(|i| (i as f64 * 0.013).cos() * 5.0).collect();
    for name in ["sigmoid", "relu", "sine"] {
        let call = Call::new(
            KernelId::from_name(name).unwrap(),
            Mode::Forward,
            KernelId::from_name(name).unwrap().info().sample_params,
        )
        .unwrap();
        let expect = run(call, &xs, None);
        let mut inplace = xs.clone();
        apply_inplace(call, None, &mut inplace).unwrap();
        assert_eq!(inplace, expect, "{name} in place");
        // Output shifted by one element over the input: y[i] = f(x[i+1]) with y = buf[0..], x = buf[1..].
        let mut buf = xs.clone();
        let n = buf.len() - 1;
        let ptr = buf.as_mut_ptr();
        let x = View {
            ptr: ptr.wrapping_add(1) as *const f64,
            strides: &[1],
        };
        let y = ViewMut { ptr, strides: &[1] };
        // SAFETY: both views cover n elements inside `buf`, which nothing else touches.
        unsafe { apply_strided(call, &[n], x, None, y) };
        assert_eq!(&buf[..n], &expect[1..], "{name} overlapping");
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let xs: Vec<f32> = (0..1_000_003)
        .map(|i| ((i as f32) * 0.001).sin() * 30.0)
        .collect();
    for name in ["relu", "sigmoid", "gelu", "sine"] {
        let kernel = KernelId::from_name(name).unwrap();
        let call = Call::new(kernel, Mode::Derivative, kernel.info().sample_params).unwrap();
        fastact_core::parallel::set_num_threads(1);
        let one = run(call, &xs, None);
        for threads in [2, 3, 7] {
            fastact_core::parallel::set_num_threads(threads);
            let many = run(call, &xs, None);
            assert!(
                one.iter()
                    .zip(&many)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{name} with {threads} threads"
            );
        }
        fastact_core::parallel::set_num_threads(0);
    }
}

#[test]
fn zero_sized_and_single_element_calls() {
    let call = Call::new(
        KernelId::from_name("tanh").unwrap(),
        Mode::Forward,
        [0.0; 2],
    )
    .unwrap();
    let empty: Vec<f32> = vec![];
    assert!(run(call, &empty, None).is_empty());
    let mut y = [0f64; 1];
    // SAFETY: a 0-d call reads and writes exactly one element.
    unsafe {
        apply_strided(
            call,
            &[],
            View {
                ptr: [0.5f64].as_ptr(),
                strides: &[],
            },
            None,
            ViewMut {
                ptr: y.as_mut_ptr(),
                strides: &[],
            },
        )
    };
    assert_eq!(y[0], run(call, &[0.5f64], None)[0]);
    let mut short = [0f32; 2];
    assert!(apply(call, &[1.0f32; 3], None, &mut short).is_err());
}

/// Randomised layouts (the memory-safety check of the strided driver; `cargo test` builds with overflow
/// checks and debug assertions): for every ISA level and kernel, 2-D and 3-D shapes with odd lengths and
/// vector tails, offsets, negative and non-unit strides for x, grad_out and y, compared bit for bit with the
/// contiguous call. Every view lies inside a buffer with guard elements around it, which must stay intact.
#[test]
fn randomised_layouts_match_the_contiguous_call() {
    const GUARD: f32 = -12345.0;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    let initial = simd::active();
    for isa in all_levels() {
        simd::set_active(isa);
        for &kernel in KernelId::ALL {
            for mode in modes(kernel) {
                let call =
                    Call::new(kernel, mode, kernel.info().sample_params).expect("mode exists");
                for _ in 0..20 {
                    let ndim = 1 + next(3) as usize;
                    let shape: Vec<usize> = (0..ndim).map(|_| next(23) as usize).collect();
                    let n: usize = shape.iter().product();
                    // Element strides: a permuted, possibly reversed, possibly spaced-out layout.
                    let layout = |next: &mut dyn FnMut(u64) -> u64| -> (Vec<isize>, isize, usize) {
                        let mut strides = vec![0isize; ndim];
                        let mut span = 1isize;
                        let mut order: Vec<usize> = (0..ndim).collect();
                        for i in (1..ndim).rev() {
                            order.swap(i, next(i as u64 + 1) as usize);
                        }
                        for &d in &order {
                            let step = 1 + next(3) as isize;
                            strides[d] = span * step;
                            span *= step * shape[d].max(1) as isize;
                        }
                        let mut offset = 0isize;
                        for d in 0..ndim {
                            if next(2) == 0 && shape[d] > 0 {
                                offset += strides[d] * (shape[d] as isize - 1);
                                strides[d] = -strides[d];
                            }
                        }
                        (strides, offset, span as usize)
                    };
                    let (xs, xo, xspan) = layout(&mut next);
                    let (gs, go, gspan) = layout(&mut next);
                    let (ys, yo, yspan) = layout(&mut next);
                    let pad = 8usize;
                    let xbuf: Vec<f32> = (0..xspan + 2 * pad)
                        .map(|i| ((i as f32) * 0.731).sin() * 12.0)
                        .collect();
                    let gbuf: Vec<f32> = (0..gspan + 2 * pad)
                        .map(|i| ((i as f32) * 0.377).cos())
                        .collect();
                    let mut ybuf = vec![GUARD; yspan + 2 * pad];
                    let with_g = mode != Mode::Forward && next(2) == 0;
                    let x = View {
                        ptr: xbuf.as_ptr().wrapping_offset(pad as isize + xo),
                        strides: &xs,
                    };
                    let g = with_g.then(|| View {
                        ptr: gbuf.as_ptr().wrapping_offset(pad as isize + go),
                        strides: &gs,
                    });
                    let y = ViewMut {
                        ptr: ybuf.as_mut_ptr().wrapping_offset(pad as isize + yo),
                        strides: &ys,
                    };
                    // SAFETY: every in-shape offset of each view lies in [pad, pad + span) of its buffer
                    // (strides built from the shape, reversed axes shifted by the offset); y is disjoint.
                    unsafe { apply_strided(call, &shape, x, g, y) };
                    // Gather the same elements contiguously and compare.
                    let mut idx = vec![0usize; ndim];
                    let (mut cx, mut cg, mut cy) = (Vec::new(), Vec::new(), Vec::new());
                    for _ in 0..n {
                        let off = |s: &[isize], o: isize| {
                            (pad as isize
                                + o
                                + idx
                                    .iter()
                                    .zip(s)
                                    .map(|(&i, &st)| i as isize * st)
                                    .sum::<isize>()) as usize
                        };
                        cx.push(xbuf[off(&xs, xo)]);
                        cg.push(gbuf[off(&gs, go)]);
                        cy.push(ybuf[off(&ys, yo)]);
                        for d in (0..ndim).rev() {
                            idx[d] += 1;
                            if idx[d] < shape[d] {
                                break;
                            }
                            idx[d] = 0;
                        }
                    }
                    let expect = run(call, &cx, with_g.then_some(cg.as_slice()));
                    let same = cy
                        .iter()
                        .zip(&expect)
                        .all(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
                    assert!(
                        same,
                        "{:?} {mode:?} {isa:?} shape {shape:?}",
                        kernel.info().name
                    );
                    let written = ybuf
                        .iter()
                        .filter(|&&v| v.to_bits() != GUARD.to_bits())
                        .count();
                    assert!(
                        written <= n,
                        "{:?}: {written} elements written for {n}",
                        kernel.info().name
                    );
                    assert!(
                        ybuf[..pad]
                            .iter()
                            .chain(&ybuf[pad + yspan..])
                            .all(|&v| v == GUARD),
                        "guard overwritten"
                    );
                }
            }
        }
    }
    simd::set_active(initial);
}

/// Every 16-bit value of `H`, through every kernel and mode (with and without grad_out), equals the f32
/// kernel on the widened values rounded once to `H`; and a reversed, spaced-out view gives the same bits.
fn half_matches_rounded_f32<H: Half + Store>(call: Call, label: &str) {
    // Every bf16 and every f16 value, as H: each of H's own 2^16 values is among them.
    let xs: Vec<H> = (0..=u16::MAX)
        .flat_map(|b| [Bf16(b).to_f32(), F16(b).to_f32()])
        .map(H::from_f32)
        .collect();
    let wide: Vec<f32> = xs.iter().map(|h| h.to_f32()).collect();
    let gs: Vec<H> = (0..xs.len())
        .map(|i| H::from_f32(((i as f32) * 0.377).cos() * 3.0))
        .collect();
    let gwide: Vec<f32> = gs.iter().map(|h| h.to_f32()).collect();
    let same = |a: H, b: H| {
        a.to_f32().to_bits() == b.to_f32().to_bits() || (a.to_f32().is_nan() && b.to_f32().is_nan())
    };
    let with_g: &[bool] = if call.mode == Mode::Forward {
        &[false]
    } else {
        &[false, true]
    };
    for &use_g in with_g {
        let got = run(call, &xs, use_g.then_some(gs.as_slice()));
        let want = run(call, &wide, use_g.then_some(gwide.as_slice()));
        for i in 0..xs.len() {
            assert!(
                same(got[i], H::from_f32(want[i])),
                "{label} {:?} {:?} grad_out {use_g}: x = {}",
                call.kernel.info().name,
                call.mode,
                wide[i]
            );
        }
        // The same elements read backwards with a stride of 2 (a strided row through the driver's blocks).
        let n = xs.len() / 2;
        let mut y = vec![H::default(); n];
        let strides = [-2isize];
        let x_view = View {
            ptr: xs.as_ptr().wrapping_add(2 * (n - 1)),
            strides: &strides,
        };
        let g_view = use_g.then(|| View {
            ptr: gs.as_ptr().wrapping_add(2 * (n - 1)),
            strides: &strides,
        });
        let unit = [1isize];
        // SAFETY: offsets 2·(n - 1) - 2i for i < n lie inside xs and gs (length 2n); y has n elements.
        unsafe {
            apply_strided(
                call,
                &[n],
                x_view,
                g_view,
                ViewMut {
                    ptr: y.as_mut_ptr(),
                    strides: &unit,
                },
            )
        };
        for i in 0..n {
            assert!(
                same(y[i], got[2 * (n - 1 - i)]),
                "{label} strided {:?}",
                call.kernel.info().name
            );
        }
    }
}

#[test]
fn half_storage_is_the_rounded_f32_result() {
    let initial = simd::active();
    for isa in all_levels() {
        simd::set_active(isa);
        for &kernel in KernelId::ALL {
            for mode in modes(kernel) {
                let call =
                    Call::new(kernel, mode, kernel.info().sample_params).expect("mode exists");
                half_matches_rounded_f32::<F16>(call, "f16");
                half_matches_rounded_f32::<Bf16>(call, "bf16");
            }
        }
    }
    simd::set_active(initial);
}
