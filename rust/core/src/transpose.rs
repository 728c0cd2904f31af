//! Matrix transposes between strided rows, for short lanes taken as panels (`rows::run_short`): t lanes of
//! n contiguous elements become n rows of t, and back. Element by element, these transposes took a third
//! of the softmax of lanes of 16; LLVM does not vectorise a transpose, so on x86-64 with AVX the f32 and
//! f64 blocks are shuffled explicitly (8×8 and 4×4 blocks), elsewhere copied in 4×4 blocks.

use crate::real::Elem;
use crate::simd::Isa;

/// A matrix's rows, row r at `base + r·stride` (elements), each contiguous.
#[derive(Clone, Copy)]
pub(crate) struct Matrix<P> {
    pub base: P,
    pub stride: isize,
}

/// dst's row c, element r = src's row r, element c, for r < rows, c < cols, on `isa`.
///
/// # Safety
/// src's `rows` rows of `cols` elements are readable, dst's `cols` rows of `rows` elements writable, and
/// the two do not overlap; `isa` is at most what the CPU supports (`simd::active` never exceeds it).
pub(crate) unsafe fn transpose_on<T: Elem>(
    isa: Isa,
    src: Matrix<*const T>,
    dst: Matrix<*mut T>,
    rows: usize,
    cols: usize,
) {
    #[cfg(target_arch = "x86_64")]
    if isa >= Isa::Avx2 {
        // SAFETY: the caller's contract; AVX2 (hence AVX) is supported at this level.
        return unsafe { x86::transpose(src, dst, rows, cols) };
    }
    let _ = isa;
    // SAFETY: the caller's contract; `blocks` passes whole blocks inside both matrices.
    unsafe { blocks::<T, 4>(src, dst, rows, cols, |s, d| copy_block::<T, 4>(s, d)) }
}

/// The transpose in B×B blocks, each by `block` (from the block's top-left element in src to dst's), the
/// edges element by element.
///
/// # Safety
/// As `transpose_on`; `block`, given a B×B block inside both matrices, transposes it (and touches nothing
/// else).
#[inline(always)]
unsafe fn blocks<T: Elem, const B: usize>(
    src: Matrix<*const T>,
    dst: Matrix<*mut T>,
    rows: usize,
    cols: usize,
    block: impl Fn(Matrix<*const T>, Matrix<*mut T>),
) {
    // Addresses only (dereferenced below, each inside the matrices: r < rows, c < cols).
    let at = |r: usize, c: usize| {
        src.base
            .wrapping_offset(r as isize * src.stride + c as isize)
    };
    let to = |c: usize, r: usize| {
        dst.base
            .wrapping_offset(c as isize * dst.stride + r as isize)
    };
    let (rows_b, cols_b) = (rows / B * B, cols / B * B);
    for r0 in (0..rows_b).step_by(B) {
        for c0 in (0..cols_b).step_by(B) {
            block(
                Matrix {
                    base: at(r0, c0),
                    stride: src.stride,
                },
                Matrix {
                    base: to(c0, r0),
                    stride: dst.stride,
                },
            );
        }
        for c in cols_b..cols {
            for r in r0..r0 + B {
                // SAFETY: as above.
                unsafe { *to(c, r) = *at(r, c) };
            }
        }
    }
    for r in rows_b..rows {
        for c in 0..cols {
            // SAFETY: as above.
            unsafe { *to(c, r) = *at(r, c) };
        }
    }
}

/// One B×B block, element by element (LLVM keeps it in registers, unrolled).
///
/// # Safety
/// src's B rows of B elements are readable, dst's B rows of B writable, the two apart.
#[inline(always)]
unsafe fn copy_block<T: Elem, const B: usize>(src: Matrix<*const T>, dst: Matrix<*mut T>) {
    for r in 0..B {
        for c in 0..B {
            // SAFETY: per the contract.
            unsafe {
                *dst.base.offset(c as isize * dst.stride + r as isize) =
                    *src.base.offset(r as isize * src.stride + c as isize)
            };
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{blocks, copy_block, Matrix};
    use crate::real::Elem;
    use core::arch::x86_64::*;

    /// `transpose_on` with AVX: f32 in 8×8 blocks (24 shuffles for 64 elements), f64 in 4×4 (8 for 16);
    /// f32 lanes of fewer than 8 elements in 4×4 blocks of copies.
    ///
    /// # Safety
    /// As `transpose_on`, on a CPU with AVX.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn transpose<T: Elem>(
        src: Matrix<*const T>,
        dst: Matrix<*mut T>,
        rows: usize,
        cols: usize,
    ) {
        // SAFETY: (every arm) the caller's contract; T is f32 (4 bytes) or f64 where the matrices are
        // retyped, so they are the same memory, and `blocks` passes whole blocks inside them.
        unsafe {
            if core::mem::size_of::<T>() == 4 && rows.min(cols) >= 8 {
                let (s, d) = (retype::<T, f32>(src), retype_mut::<T, f32>(dst));
                blocks::<f32, 8>(s, d, rows, cols, |s, d| block_f32(s, d));
            } else if T::IS_F64 {
                let (s, d) = (retype::<T, f64>(src), retype_mut::<T, f64>(dst));
                blocks::<f64, 4>(s, d, rows, cols, |s, d| block_f64(s, d));
            } else {
                blocks::<T, 4>(src, dst, rows, cols, |s, d| copy_block::<T, 4>(s, d));
            }
        }
    }

    fn retype<T, U>(m: Matrix<*const T>) -> Matrix<*const U> {
        Matrix {
            base: m.base.cast(),
            stride: m.stride,
        }
    }

    fn retype_mut<T, U>(m: Matrix<*mut T>) -> Matrix<*mut U> {
        Matrix {
            base: m.base.cast(),
            stride: m.stride,
        }
    }

    /// An 8×8 f32 block: unpack pairs of rows, shuffle pairs of pairs, swap 128-bit halves.
    ///
    /// # Safety
    /// As `copy_block` (B = 8), on a CPU with AVX; inlined into `transpose`, which enables it.
    #[inline(always)]
    unsafe fn block_f32(src: Matrix<*const f32>, dst: Matrix<*mut f32>) {
        // SAFETY: per the contract.
        unsafe {
            let r: [__m256; 8] =
                core::array::from_fn(|i| _mm256_loadu_ps(src.base.offset(i as isize * src.stride)));
            let t0 = _mm256_unpacklo_ps(r[0], r[1]);
            let t1 = _mm256_unpackhi_ps(r[0], r[1]);
            let t2 = _mm256_unpacklo_ps(r[2], r[3]);
            let t3 = _mm256_unpackhi_ps(r[2], r[3]);
            let t4 = _mm256_unpacklo_ps(r[4], r[5]);
            let t5 = _mm256_unpackhi_ps(r[4], r[5]);
            let t6 = _mm256_unpacklo_ps(r[6], r[7]);
            let t7 = _mm256_unpackhi_ps(r[6], r[7]);
            let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
            let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
            let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
            let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
            let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
            let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
            let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
            let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
            let out = [
                _mm256_permute2f128_ps::<0x20>(u0, u4),
                _mm256_permute2f128_ps::<0x20>(u1, u5),
                _mm256_permute2f128_ps::<0x20>(u2, u6),
                _mm256_permute2f128_ps::<0x20>(u3, u7),
                _mm256_permute2f128_ps::<0x31>(u0, u4),
                _mm256_permute2f128_ps::<0x31>(u1, u5),
                _mm256_permute2f128_ps::<0x31>(u2, u6),
                _mm256_permute2f128_ps::<0x31>(u3, u7),
            ];
            for (c, v) in out.into_iter().enumerate() {
                _mm256_storeu_ps(dst.base.offset(c as isize * dst.stride), v);
            }
        }
    }

    /// A 4×4 f64 block: unpack pairs of rows, swap 128-bit halves.
    ///
    /// # Safety
    /// As `copy_block` (B = 4), on a CPU with AVX; inlined into `transpose`, which enables it.
    #[inline(always)]
    unsafe fn block_f64(src: Matrix<*const f64>, dst: Matrix<*mut f64>) {
        // SAFETY: per the contract.
        unsafe {
            let r: [__m256d; 4] =
                core::array::from_fn(|i| _mm256_loadu_pd(src.base.offset(i as isize * src.stride)));
            let t0 = _mm256_unpacklo_pd(r[0], r[1]);
            let t1 = _mm256_unpackhi_pd(r[0], r[1]);
            let t2 = _mm256_unpacklo_pd(r[2], r[3]);
            let t3 = _mm256_unpackhi_pd(r[2], r[3]);
            let out = [
                _mm256_permute2f128_pd::<0x20>(t0, t2),
                _mm256_permute2f128_pd::<0x20>(t1, t3),
                _mm256_permute2f128_pd::<0x31>(t0, t2),
                _mm256_permute2f128_pd::<0x31>(t1, t3),
            ];
            for (c, v) in out.into_iter().enumerate() {
                _mm256_storeu_pd(dst.base.offset(c as isize * dst.stride), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{transpose_on, Matrix};
    use crate::real::Elem;
    use crate::simd::Isa;

    /// Every shape from 1×1 to 19×19, between padded strides, on every level: each element lands where it
    /// belongs, and nothing outside dst's rows is written.
    fn check<T: Elem>() {
        for isa in [Isa::Portable, Isa::Avx2, Isa::Avx512] {
            if isa > Isa::detect() {
                continue;
            }
            for rows in 1..20 {
                for cols in 1..20 {
                    let (src_stride, dst_stride) = (cols + 3, rows + 5);
                    let src: Vec<T> = (0..rows * src_stride).map(|i| T::c(i as f64)).collect();
                    let mut dst = vec![T::c(-1.0); cols * dst_stride];
                    // SAFETY: src has `rows` rows of `cols` (stride cols + 3), dst `cols` rows of `rows`
                    // (stride rows + 5), separate vectors; `isa` is at most the CPU's.
                    unsafe {
                        transpose_on(
                            isa,
                            Matrix {
                                base: src.as_ptr(),
                                stride: src_stride as isize,
                            },
                            Matrix {
                                base: dst.as_mut_ptr(),
                                stride: dst_stride as isize,
                            },
                            rows,
                            cols,
                        )
                    };
                    for c in 0..cols {
                        for r in 0..dst_stride {
                            let want = if r < rows {
                                src[r * src_stride + c]
                            } else {
                                T::c(-1.0)
                            };
                            assert!(
                                dst[c * dst_stride + r] == want,
                                "{isa:?} {rows}x{cols} at {c}, {r}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn transposes_f32() {
        check::<f32>();
    }

    #[test]
    fn transposes_f64() {
        check::<f64>();
    }
}
