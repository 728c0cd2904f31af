//! The fused `f(x + bias)` of `apply_bias_strided` against the plain call on `x + bias` computed first:
//! bitwise, for every kernel, mode, element type and ISA level, along each axis of a 2-d array whose rows
//! are longer than the driver's block, contiguous and transposed, and in place.

use fastact_core::simd::{self, Isa};
use fastact_core::{
    apply, apply_bias_strided, Bf16, Call, Mode, Store, View, ViewMut, F16, KERNELS,
};

const ROWS: usize = 3;
const COLS: usize = 700;

fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            match i % 97 {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => -1e6,
                _ => (s % 20_000) as f64 / 1000.0 - 10.0,
            }
        })
        .collect()
}

fn bits<T: Store>(v: &[T]) -> Vec<u64> {
    v.iter()
        .map(|x| {
            if x.to_f64().is_nan() {
                u64::MAX
            } else {
                x.to_f64().to_bits()
            }
        })
        .collect()
}

/// `apply_bias_strided` with x, g and y all laid out by `strides`.
///
/// # Safety
/// x, g (if any) and y reach `shape`'s elements through `strides`; y is a separate buffer or x itself; the
/// bias holds `shape[axis]` elements.
#[allow(clippy::too_many_arguments)]
unsafe fn fused<T: Store>(
    call: Call,
    shape: &[usize; 2],
    strides: &[isize; 2],
    x: *const T,
    bias: &[T],
    axis: usize,
    grad: Option<&[T]>,
    y: *mut T,
) {
    let view = |ptr| View { ptr, strides };
    // SAFETY: forwarded from this function's contract.
    unsafe {
        apply_bias_strided(
            call,
            shape,
            view(x),
            bias,
            axis,
            grad.map(|g| view(g.as_ptr())),
            ViewMut { ptr: y, strides },
        )
    };
}

fn check<T: Store>() {
    let x: Vec<T> = values(ROWS * COLS, 7)
        .into_iter()
        .map(T::from_f64)
        .collect();
    let g: Vec<T> = values(ROWS * COLS, 11)
        .into_iter()
        .map(T::from_f64)
        .collect();
    let shape = [ROWS, COLS];
    for (index, info) in KERNELS.iter().enumerate() {
        let kernel = fastact_core::KernelId::from_index(index).expect("table index");
        for mode in [Mode::Forward, Mode::Derivative] {
            let call =
                Call::new(kernel, mode, info.sample_params).expect("forward and derivative exist");
            let grad = (mode == Mode::Derivative).then_some(g.as_slice());
            for axis in 0..2 {
                let bias: Vec<T> = values(shape[axis], 3)
                    .into_iter()
                    .map(T::from_f64)
                    .collect();
                let summed: Vec<T> = (0..ROWS * COLS)
                    .map(|i| x[i].add(bias[if axis == 0 { i / COLS } else { i % COLS }]))
                    .collect();
                let mut want = vec![T::default(); x.len()];
                apply(call, &summed, grad, &mut want).expect("same lengths");
                // C order, then the same memory read as the transposed (COLS, ROWS) array.
                for (shape, strides, bias_axis) in [
                    ([ROWS, COLS], [COLS as isize, 1], axis),
                    ([COLS, ROWS], [1, COLS as isize], 1 - axis),
                ] {
                    let mut got = vec![T::default(); x.len()];
                    // SAFETY: x, g and got hold ROWS·COLS elements, reached exactly by these strides; got
                    // is a separate buffer and the bias holds shape[bias_axis] elements.
                    unsafe {
                        fused(
                            call,
                            &shape,
                            &strides,
                            x.as_ptr(),
                            &bias,
                            bias_axis,
                            grad,
                            got.as_mut_ptr(),
                        )
                    };
                    let what = format!("{} {mode:?} axis {axis}", info.name);
                    assert_eq!(bits(&got), bits(&want), "{what}");
                }
                // In place: y is x itself.
                let mut inplace = x.clone();
                let ptr = inplace.as_mut_ptr();
                // SAFETY: `inplace` holds ROWS·COLS elements; x aliases y element for element, which the
                // driver allows.
                unsafe {
                    fused(
                        call,
                        &shape,
                        &[COLS as isize, 1],
                        ptr,
                        &bias,
                        axis,
                        grad,
                        ptr,
                    )
                };
                let what = format!("{} {mode:?} axis {axis} in place", info.name);
                assert_eq!(bits(&inplace), bits(&want), "{what}");
            }
        }
    }
}

#[test]
fn bias_matches_two_passes_on_every_isa() {
    let best = Isa::detect();
    for isa in [Isa::Portable, Isa::Avx2, Isa::Avx512] {
        if simd::set_active(isa) != isa {
            continue;
        }
        check::<f32>();
        check::<f64>();
        check::<F16>();
        check::<Bf16>();
    }
    simd::set_active(best);
}

/// A bias along the middle axis of a C-ordered 3-d array (runs of constant bias shorter than a row, and
/// a trailing axis of length 1), and along the last axis of one with short rows: the driver's one-run
/// path against the plain call on `x + bias`.
#[test]
fn bias_inside_a_c_ordered_array() {
    for (shape, axis) in [
        ([4usize, 3, 5], 1usize),
        ([6, 7, 1], 1),
        ([9, 2, 3], 2),
        ([5, 1, 4], 0),
    ] {
        let n: usize = shape.iter().product();
        let strides = [(shape[1] * shape[2]) as isize, shape[2] as isize, 1];
        let x: Vec<f32> = values(n, 5).into_iter().map(|v| v as f32).collect();
        let g: Vec<f32> = values(n, 13).into_iter().map(|v| v as f32).collect();
        let bias: Vec<f32> = values(shape[axis], 17)
            .into_iter()
            .map(|v| v as f32)
            .collect();
        let channel = |i: usize| (i / strides[axis] as usize) % shape[axis];
        let summed: Vec<f32> = (0..n).map(|i| x[i] + bias[channel(i)]).collect();
        for (index, info) in KERNELS.iter().enumerate() {
            let kernel = fastact_core::KernelId::from_index(index).expect("table index");
            for mode in [Mode::Forward, Mode::Derivative] {
                let call = Call::new(kernel, mode, info.sample_params).expect("both modes exist");
                let grad = (mode == Mode::Derivative).then_some(g.as_slice());
                let mut want = vec![0.0f32; n];
                apply(call, &summed, grad, &mut want).expect("same lengths");
                let mut got = vec![0.0f32; n];
                let view = |ptr| View {
                    ptr,
                    strides: &strides,
                };
                // SAFETY: x, g and got hold the n elements these C-order strides reach; got is a separate
                // buffer and the bias holds shape[axis] elements.
                unsafe {
                    apply_bias_strided(
                        call,
                        &shape,
                        view(x.as_ptr()),
                        &bias,
                        axis,
                        grad.map(|g| view(g.as_ptr())),
                        ViewMut {
                            ptr: got.as_mut_ptr(),
                            strides: &strides,
                        },
                    )
                };
                let what = format!("{} {mode:?} {shape:?} axis {axis}", info.name);
                assert_eq!(bits(&got), bits(&want), "{what}");
            }
        }
    }
}
