//! `Real`: the small vocabulary every kernel is written in, implemented for `f32` and `f64`.
//!
//! Kernels are written once, branch-free (every `if` is a lane select), over this trait. Each kernel is
//! then instantiated inside `#[target_feature]` trampolines (`crate::simd`), where LLVM turns the loop over
//! a slice into AVX-512, AVX2 or SSE2 vector code. Rounding uses the 1.5·2^p trick, not `round()`, which
//! would be a libm call on the baseline. `mul_add` is a true fused multiply-add: one `vfmadd` in the AVX2 and
//! AVX-512 trampolines and on aarch64; on x86-64 CPUs without FMA it is a (slow, exact) libm call. Because an
//! FMA is exactly rounded everywhere, results are bitwise identical on every ISA level.

use core::fmt::Debug;
use core::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Shl, Shr, Sub};

/// The signed integer of the same width as a float, for exponent manipulation.
pub trait Int:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Shl<u32, Output = Self>
    + Shr<u32, Output = Self>
    + BitAnd<Output = Self>
    + BitOr<Output = Self>
    + PartialOrd
{
    fn from_i32(v: i32) -> Self;
    fn wrapping_add(self, other: Self) -> Self;
    fn wrapping_sub(self, other: Self) -> Self;
}

macro_rules! impl_int {
    ($t:ty) => {
        impl Int for $t {
            #[inline(always)]
            fn from_i32(v: i32) -> Self {
                v as $t
            }
            #[inline(always)]
            fn wrapping_add(self, other: Self) -> Self {
                <$t>::wrapping_add(self, other)
            }
            #[inline(always)]
            fn wrapping_sub(self, other: Self) -> Self {
                <$t>::wrapping_sub(self, other)
            }
        }
    };
}
impl_int!(i32);
impl_int!(i64);

pub trait Real:
    Copy
    + Debug
    + Default
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    type Bits: Int;
    /// Explicit mantissa bits (23 or 52).
    const MANT: u32;
    const BIAS: i32;
    /// The f64 bit layout (exponent range, magic constants, clamps).
    const IS_F64: bool;
    /// Full f64 accuracy: long polynomials. False for f32 and for `Lean64`, which only needs f32 accuracy.
    const PRECISE: bool;
    const INFINITY: Self;
    const NAN: Self;
    /// 1.5·2^MANT: adding and subtracting it rounds to the nearest integer (|v| < 2^(MANT-1)).
    const ROUND_MAGIC: Self;
    /// Every bit but the sign.
    const ABS_MASK: Self::Bits;

    /// A constant written in f64; folds away at compile time.
    fn c(v: f64) -> Self;
    fn to_f64(self) -> f64;
    fn to_bits(self) -> Self::Bits;
    fn from_bits(b: Self::Bits) -> Self;
    fn sqrt(self) -> Self;

    #[inline(always)]
    fn is_nan(self) -> bool {
        self.partial_cmp(&self).is_none()
    }
    #[inline(always)]
    fn abs(self) -> Self {
        Self::from_bits(self.to_bits() & Self::ABS_MASK)
    }
    /// `|self|` with the sign of `sign`.
    #[inline(always)]
    fn copysign(self, sign: Self) -> Self {
        let mag = self.abs().to_bits();
        let sgn = sign.to_bits() & Self::c(-0.0).to_bits();
        Self::from_bits(mag | sgn)
    }
    /// `a*b + c` with one rounding (see module docs).
    fn mul_add(self, b: Self, c: Self) -> Self;
    /// Nearest integer (ties to even) as a float, and the same integer in `Bits`.
    #[inline(always)]
    fn round_int(self) -> (Self, Self::Bits) {
        let shifted = self + Self::ROUND_MAGIC;
        let k = shifted.to_bits().wrapping_sub(Self::ROUND_MAGIC.to_bits());
        (shifted - Self::ROUND_MAGIC, k)
    }
    /// 2^k for k in the normal exponent range.
    #[inline(always)]
    fn pow2i(k: Self::Bits) -> Self {
        Self::from_bits(k.wrapping_add(Self::Bits::from_i32(Self::BIAS)) << Self::MANT)
    }
    /// Clamp to [lo, hi]; NaN passes through.
    #[inline(always)]
    fn clamp_nan(self, lo: Self, hi: Self) -> Self {
        let v = if self < lo { lo } else { self };
        if v > hi {
            hi
        } else {
            v
        }
    }
    #[inline(always)]
    fn is_infinite(self) -> bool {
        self.abs() == Self::INFINITY
    }
}

impl Real for f32 {
    type Bits = i32;
    const MANT: u32 = 23;
    const BIAS: i32 = 127;
    const IS_F64: bool = false;
    const PRECISE: bool = false;
    const INFINITY: Self = f32::INFINITY;
    const NAN: Self = f32::NAN;
    const ROUND_MAGIC: Self = 12_582_912.0;
    const ABS_MASK: i32 = i32::MAX;

    #[inline(always)]
    fn c(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn to_bits(self) -> i32 {
        f32::to_bits(self) as i32
    }
    #[inline(always)]
    fn from_bits(b: i32) -> Self {
        f32::from_bits(b as u32)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        f32::mul_add(self, b, c)
    }
}

impl Real for f64 {
    type Bits = i64;
    const MANT: u32 = 52;
    const BIAS: i32 = 1023;
    const IS_F64: bool = true;
    const PRECISE: bool = true;
    const INFINITY: Self = f64::INFINITY;
    const NAN: Self = f64::NAN;
    const ROUND_MAGIC: Self = 6_755_399_441_055_744.0;
    const ABS_MASK: i64 = i64::MAX;

    #[inline(always)]
    fn c(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn to_bits(self) -> i64 {
        f64::to_bits(self) as i64
    }
    #[inline(always)]
    fn from_bits(b: i64) -> Self {
        f64::from_bits(b as u64)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        f64::mul_add(self, b, c)
    }
}

/// f64 arithmetic with f32-accurate polynomials: what f32 kernels marked `PROMOTE` compute in. Their
/// result is rounded to f32, so the short (f32) series suffice while the f64 range and precision of
/// every intermediate remove the f32 kernel's cancellations and argument roundings.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
#[repr(transparent)]
pub struct Lean64(pub f64);

macro_rules! lean_binop {
    ($trait:ident, $method:ident, $op:tt) => {
        impl $trait for Lean64 {
            type Output = Lean64;
            #[inline(always)]
            fn $method(self, other: Lean64) -> Lean64 {
                Lean64(self.0 $op other.0)
            }
        }
    };
}
lean_binop!(Add, add, +);
lean_binop!(Sub, sub, -);
lean_binop!(Mul, mul, *);
lean_binop!(Div, div, /);

impl Neg for Lean64 {
    type Output = Lean64;
    #[inline(always)]
    fn neg(self) -> Lean64 {
        Lean64(-self.0)
    }
}

impl Real for Lean64 {
    type Bits = i64;
    const MANT: u32 = 52;
    const BIAS: i32 = 1023;
    const IS_F64: bool = true;
    const PRECISE: bool = false;
    const INFINITY: Self = Lean64(f64::INFINITY);
    const NAN: Self = Lean64(f64::NAN);
    const ROUND_MAGIC: Self = Lean64(6_755_399_441_055_744.0);
    const ABS_MASK: i64 = i64::MAX;

    #[inline(always)]
    fn c(v: f64) -> Self {
        Lean64(v)
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self.0
    }
    #[inline(always)]
    fn to_bits(self) -> i64 {
        f64::to_bits(self.0) as i64
    }
    #[inline(always)]
    fn from_bits(b: i64) -> Self {
        Lean64(f64::from_bits(b as u64))
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        Lean64(self.0.sqrt())
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        Lean64(self.0.mul_add(b.0, c.0))
    }
}

/// The element types arrays hold. f32 kernels marked `PROMOTE` compute in f64 and round once.
pub trait Elem: Real {
    fn from_f64(v: f64) -> Self;
    /// The larger of self and `other`, the other where one is NaN (IEEE maxNum); which of two zeros is
    /// unspecified. A vector max instruction where `if a > b { a } else { b }` into memory may become a
    /// masked store.
    fn max_num(self, other: Self) -> Self;
}
impl Elem for f32 {
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn max_num(self, other: Self) -> Self {
        self.max(other)
    }
}
impl Elem for f64 {
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn max_num(self, other: Self) -> Self {
        self.max(other)
    }
}

/// Horner evaluation returned unsummed as (hi, rest): hi = c[0] rounded to R and rest = (c[0] - hi) +
/// x·(c[1] + ...). A caller that adds or subtracts the value from something else can then round once instead of
/// twice (c[0]'s own rounding can be a whole ULP of a result just below its binade).
#[inline(always)]
pub fn horner_split<R: Real, const N: usize>(x: R, c: &[f64; N]) -> (R, R) {
    let mut acc = R::c(c[N - 1]);
    let mut i = N - 1;
    while i > 1 {
        i -= 1;
        acc = acc.mul_add(x, R::c(c[i]));
    }
    let hi = R::c(c[0]);
    let lo = R::c(c[0] - hi.to_f64()); // folds at compile time
    (hi, acc.mul_add(x, lo))
}

/// Horner evaluation of `c[0] + c[1] x + ... `; the constant-length loop unrolls completely.
#[inline(always)]
pub fn horner<R: Real, const N: usize>(x: R, c: &[f64; N]) -> R {
    let mut acc = R::c(c[N - 1]);
    let mut i = N - 1;
    while i > 0 {
        i -= 1;
        acc = acc.mul_add(x, R::c(c[i]));
    }
    acc
}
