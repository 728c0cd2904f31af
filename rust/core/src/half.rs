//! float16 and bfloat16 storage. The kernels compute in f32: a row of halves is widened a block at a time,
//! run through the f32 row loop, and each result rounded once (to nearest, ties to even) to the storage
//! type. The conversions are branch-free integer and float operations, so they vectorise inside the same
//! `#[target_feature]` trampolines as the kernels; on x86-64 with AVX2 or AVX-512, float16 uses F16C
//! instead (one instruction per eight lanes each way, where the portable code takes about 35 operations).

use crate::driver::{row_loop, Mode, RowFn};
use crate::ops::Kernel;
use crate::simd::{isa_trampolines, select_levels, Isa};

/// IEEE binary16 (NumPy's float16), stored as its bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct F16(pub u16);

/// bfloat16 (ml_dtypes' type: f32's top 16 bits), stored as its bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct Bf16(pub u16);

mod sealed {
    /// Only this module's transparent-u16 types are `Half`: the F16C path reads them as u16.
    pub trait Sealed {}
    impl Sealed for super::F16 {}
    impl Sealed for super::Bf16 {}
}

/// A 16-bit float the kernels reach through f32.
pub trait Half: sealed::Sealed + Copy + Default + Send + Sync + 'static {
    /// IEEE binary16, which x86's F16C converts in hardware.
    const IS_F16: bool;
    /// Exact widening.
    fn to_f32(self) -> f32;
    /// Rounded to nearest, ties to even; overflow to ±inf, NaN stays NaN.
    fn from_f32(v: f32) -> Self;
}

impl Half for F16 {
    const IS_F16: bool = true;
    #[inline(always)]
    fn to_f32(self) -> f32 {
        let h = u32::from(self.0);
        let sign = (h & 0x8000) << 16;
        let em = h & 0x7fff;
        // Exponent and mantissa moved to f32's positions, then rebiased by 2^(127 - 15): exact for normal
        // and subnormal halves alike (a subnormal half lands as an f32 subnormal and comes out normal).
        let finite = f32::from_bits(em << 13) * f32::from_bits((127 + 112) << 23);
        let special = f32::from_bits((em << 13) | 0x7f80_0000); // inf, or NaN with its payload
        let magnitude = if em >= 0x7c00 { special } else { finite };
        f32::from_bits(magnitude.to_bits() | sign)
    }

    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        // After F. Giesen's float_to_half_fast3_rtne, with the branches as selects.
        let u = v.to_bits();
        let sign = (u >> 16) & 0x8000;
        let a = u & 0x7fff_ffff;
        // |v| >= 65536 (and inf): inf; NaN: a quiet NaN keeping the top payload bits.
        let nan = 0x7e00 | ((a >> 13) & 0x1ff);
        let big = if a > 0x7f80_0000 { nan } else { 0x7c00 };
        // Results below 2^-14 are subnormal halves: adding 0.5 shifts the mantissa so that the f32
        // addition itself rounds (to nearest even) at the half's last place.
        let half_magic = 126u32 << 23;
        let subnormal = (f32::from_bits(a) + f32::from_bits(half_magic))
            .to_bits()
            .wrapping_sub(half_magic);
        // Normal: rebias, and round to nearest even by adding 0xfff plus the kept mantissa's last bit; a
        // carry out of the mantissa bumps the exponent (up to inf at 65520) as it should.
        let odd = (a >> 13) & 1;
        let normal = a.wrapping_sub(112 << 23).wrapping_add(0xfff + odd) >> 13;
        let h = if a >= 0x4780_0000 {
            big
        } else if a < 0x3880_0000 {
            subnormal
        } else {
            normal
        };
        F16((h | sign) as u16)
    }
}

impl Half for Bf16 {
    const IS_F16: bool = false;
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f32::from_bits(u32::from(self.0) << 16)
    }

    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        let u = v.to_bits();
        let rounded = u.wrapping_add(0x7fff + ((u >> 16) & 1)) >> 16;
        let nan = (u >> 16) | 0x0040; // quiet
        let is_nan = (u & 0x7fff_ffff) > 0x7f80_0000;
        Bf16((if is_nan { nan } else { rounded }) as u16)
    }
}

/// f64 to a half with one rounding: rounded to f32 with round-to-odd first (f32 keeps more than two extra
/// bits, so the final round-to-nearest-even then sees the same result as rounding v directly). Scalar: for
/// the rare lanes of the exact path.
pub(crate) fn half_from_f64<H: Half>(v: f64) -> H {
    let t = v as f32;
    let odd = if f64::from(t) == v || !t.is_finite() {
        t
    } else {
        // Toward zero, then the last bit set: the sticky "inexact" bit.
        let toward_zero = if f64::from(t).abs() > v.abs() {
            f32::from_bits(t.to_bits() - 1)
        } else {
            t
        };
        f32::from_bits(toward_zero.to_bits() | 1)
    };
    H::from_f32(odd)
}

/// Elements per block of the widened row: three f32 buffers of it stay in L1.
const HALF_BLOCK: usize = 512;

/// `dst[i] = src[i]` widened. With `F16C` (only inside the AVX2 and AVX-512 trampolines, which enable it)
/// float16 uses the hardware conversion, eight lanes per instruction; otherwise the portable code above.
#[inline(always)]
fn widen<H: Half, const F16C: bool>(src: &[H], dst: &mut [f32]) {
    let n = dst.len().min(src.len());
    // The elements the hardware conversion handled (none off x86-64).
    #[cfg(not(target_arch = "x86_64"))]
    let done = 0;
    #[cfg(target_arch = "x86_64")]
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if F16C && H::IS_F16 {
        use core::arch::x86_64::{_mm256_cvtph_ps, _mm256_storeu_ps, _mm_loadu_si128};
        while done + 8 <= n {
            // SAFETY: F16C is set only by the AVX2/AVX-512 trampolines, which `Isa::detect` selects on CPUs
            // with F16C and which enable it; `done + 8 <= n` keeps both 8-lane accesses in bounds (16 bytes
            // of src, a sealed transparent u16 type, and 32 bytes of dst), unaligned loads and stores.
            unsafe {
                let h = _mm_loadu_si128(src.as_ptr().add(done).cast());
                _mm256_storeu_ps(dst.as_mut_ptr().add(done), _mm256_cvtph_ps(h));
            }
            done += 8;
        }
    }
    for (d, s) in dst[done..n].iter_mut().zip(&src[done..n]) {
        *d = s.to_f32();
    }
}

/// `dst[i] = src[i]` rounded to nearest even; F16C as in `widen`.
#[inline(always)]
fn narrow<H: Half, const F16C: bool>(src: &[f32], dst: &mut [H]) {
    let n = dst.len().min(src.len());
    #[cfg(not(target_arch = "x86_64"))]
    let done = 0;
    #[cfg(target_arch = "x86_64")]
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if F16C && H::IS_F16 {
        use core::arch::x86_64::{
            _mm256_cvtps_ph, _mm256_loadu_ps, _mm_storeu_si128, _MM_FROUND_TO_NEAREST_INT,
        };
        while done + 8 <= n {
            // SAFETY: as in `widen` (32 bytes read from src, 16 written to dst). The rounding mode is
            // round to nearest even, NaN stays NaN (quiet), overflow gives inf: `Half::from_f32`'s results.
            unsafe {
                let v = _mm256_loadu_ps(src.as_ptr().add(done));
                let h = _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(v);
                _mm_storeu_si128(dst.as_mut_ptr().add(done).cast(), h);
            }
            done += 8;
        }
    }
    for (d, &s) in dst[done..n].iter_mut().zip(&src[done..n]) {
        *d = H::from_f32(s);
    }
}

/// The f32 row loop over blocks of widened halves.
#[inline(always)]
pub(crate) fn half_row_loop<H: Half, K: Kernel, const MODE: u8, const F16C: bool>(
    p: &[f64; 2],
    x: &[H],
    g: Option<&[H]>,
    y: &mut [H],
) {
    let n = y.len();
    let (x, g) = (&x[..n], g.map(|g| &g[..n]));
    let mut bx = [0f32; HALF_BLOCK];
    let mut bg = [0f32; HALF_BLOCK];
    let mut by = [0f32; HALF_BLOCK];
    let mut start = 0;
    if F16C && H::IS_F16 {
        // Eight lanes at a time, each block held in registers: widen, the kernel, narrow.
        while start + 8 <= n {
            let mut x8 = [0f32; 8];
            let mut g8 = [0f32; 8];
            let mut y8 = [0f32; 8];
            widen::<H, F16C>(&x[start..start + 8], &mut x8);
            let gb = match g {
                Some(g) => {
                    widen::<H, F16C>(&g[start..start + 8], &mut g8);
                    Some(&g8[..])
                }
                None => None,
            };
            row_loop::<f32, K, MODE>(p, &x8, gb, &mut y8);
            narrow::<H, F16C>(&y8, &mut y[start..start + 8]);
            start += 8;
        }
    }
    while start < n {
        let m = HALF_BLOCK.min(n - start);
        widen::<H, F16C>(&x[start..start + m], &mut bx[..m]);
        let gb = match g {
            Some(g) => {
                widen::<H, F16C>(&g[start..start + m], &mut bg[..m]);
                Some(&bg[..m])
            }
            None => None,
        };
        row_loop::<f32, K, MODE>(p, &bx[..m], gb, &mut by[..m]);
        narrow::<H, F16C>(&by[..m], &mut y[start..start + m]);
        start += m;
    }
}

/// The half row loops, per ISA level (F16C where the level enables it).
mod levels {
    use super::*;

    isa_trampolines!([H: Half, K: Kernel, const MODE: u8]
        (p: &[f64; 2], x: &[H], g: Option<&[H]>, y: &mut [H]) => half_row_loop::<H, K, MODE, { F16C }>(p, x, g, y));
}

/// The row function for kernel `K` in `mode` on `isa`, for half storage.
pub(crate) fn select_half_row<H: Half, K: Kernel>(mode: Mode, isa: Isa) -> RowFn<H> {
    select_levels!(levels::<H, K>, mode, isa)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every half: widening is exact and narrowing it back gives the same bits (NaN stays NaN).
    #[test]
    fn f16_round_trips_every_value() {
        for bits in 0..=u16::MAX {
            let h = F16(bits);
            let back = F16::from_f32(h.to_f32());
            if (bits & 0x7fff) > 0x7c00 {
                assert!(
                    h.to_f32().is_nan() && (back.0 & 0x7fff) > 0x7c00,
                    "{bits:#x}"
                );
            } else {
                assert_eq!(back, h, "{bits:#x}");
            }
        }
    }

    #[test]
    fn bf16_round_trips_every_value() {
        for bits in 0..=u16::MAX {
            let h = Bf16(bits);
            let back = Bf16::from_f32(h.to_f32());
            if (bits & 0x7fff) > 0x7f80 {
                assert!(
                    h.to_f32().is_nan() && (back.0 & 0x7fff) > 0x7f80,
                    "{bits:#x}"
                );
            } else {
                assert_eq!(back, h, "{bits:#x}");
            }
        }
    }

    /// Narrowing against an independent reference: the nearest half by exhaustive comparison with the
    /// neighbours, ties to the even one, on a dense sample of f32 including every rounding boundary region.
    #[test]
    fn f16_narrowing_is_round_to_nearest_even() {
        let check = |v: f32| {
            let got = F16::from_f32(v);
            if v.is_nan() {
                assert!((got.0 & 0x7fff) > 0x7c00);
                return;
            }
            let vf = f64::from(v);
            // The candidates: the half just below |v| and the one above, by walking the finite halves.
            let mag = vf.abs();
            let mut best: Option<(f64, u16)> = None;
            let lo = F16::from_f32(v.abs()).0.saturating_sub(1);
            for c in lo..=(lo + 2).min(0x7c00) {
                let cv = f64::from(F16(c).to_f32());
                let d = (cv - mag).abs();
                let better = match best {
                    None => true,
                    Some((bd, bc)) => d < bd || (d == bd && c % 2 == 0 && bc % 2 == 1),
                };
                if better {
                    best = Some((d, c));
                }
            }
            let (_, want) = best.unwrap_or((0.0, 0));
            // Overflow: at and above 65520 the result is inf.
            let want = if mag >= 65520.0 { 0x7c00 } else { want };
            let sign = if v.is_sign_negative() { 0x8000 } else { 0 };
            assert_eq!(got.0, want | sign, "{v:e}");
        };
        let mut bits: u32 = 0;
        while bits < 0x7f80_0000 {
            check(f32::from_bits(bits));
            check(-f32::from_bits(bits));
            bits += 4093; // odd step: every residue class of the rounding bits is visited
        }
        for v in [
            65504.0f32,
            65519.99,
            65520.0,
            f32::INFINITY,
            6.0e-8,
            5.96e-8,
            2.98e-8,
            2.99e-8,
        ] {
            check(v);
        }
    }

    #[test]
    fn bf16_narrowing_is_round_to_nearest_even() {
        for &(v, want) in &[
            (1.0f32, 0x3f80u16),
            (f32::from_bits(0x3f80_8000), 0x3f80), // tie, even stays
            (f32::from_bits(0x3f81_8000), 0x3f82), // tie, odd rounds up
            (f32::from_bits(0x3f80_8001), 0x3f81),
            (f32::MAX, 0x7f80), // rounds to inf
            (f32::INFINITY, 0x7f80),
            (-0.0, 0x8000),
        ] {
            assert_eq!(Bf16::from_f32(v).0, want, "{v:e}");
        }
    }

    #[test]
    fn from_f64_rounds_once() {
        // 1 + 2^-11 + 2^-40 is just above the tie between 1 and 1 + 2^-10: a double rounding through f32
        // (which drops 2^-40) would see a tie and round to even (1.0).
        let v = 1.0 + 2f64.powi(-11) + 2f64.powi(-40);
        assert_eq!(half_from_f64::<F16>(v).0, 0x3c01);
        assert_eq!(half_from_f64::<F16>(1.0 + 2f64.powi(-11)).0, 0x3c00);
        let v = 1.0 + 2f64.powi(-8) + 2f64.powi(-40);
        assert_eq!(half_from_f64::<Bf16>(v).0, 0x3f81);
    }
}
