//! The ISA layer: which instruction set the kernels run with, chosen once from the CPU and the
//! `FASTACT_ISA` override (`portable`, `avx2`, `avx512`), and the `#[target_feature]` trampolines that
//! compile each kernel's row loop for that instruction set.
//!
//! The kernels themselves are plain branch-free scalar code (`crate::real`); inside a trampoline, LLVM
//! vectorises their loops with the enabled features (16 f32 / 8 f64 lanes on AVX-512). The portable level
//! is SSE2 on x86-64 and NEON on aarch64, both part of their baseline.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::driver::{row_loop, Mode, RowFn};
use crate::ops::Kernel;
use crate::real::Elem;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Isa {
    Portable = 1,
    Avx2 = 2,
    Avx512 = 3,
}

impl Isa {
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => {
                if cfg!(target_arch = "aarch64") {
                    "neon"
                } else {
                    "sse2"
                }
            }
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    pub fn parse(name: &str) -> Option<Isa> {
        match name.trim().to_ascii_lowercase().as_str() {
            "portable" | "sse2" | "neon" | "baseline" => Some(Isa::Portable),
            "avx2" => Some(Isa::Avx2),
            "avx512" | "avx512f" => Some(Isa::Avx512),
            _ => None,
        }
    }

    /// The best level this CPU supports.
    pub fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512dq")
                && std::is_x86_feature_detected!("avx512vl")
                && std::is_x86_feature_detected!("avx512bw")
                && std::is_x86_feature_detected!("fma")
                && std::is_x86_feature_detected!("f16c")
            {
                return Isa::Avx512;
            }
            // The trampolines enable F16C too (the float16 conversions): every AVX2 CPU has it, but it
            // is checked rather than assumed.
            if std::is_x86_feature_detected!("avx2")
                && std::is_x86_feature_detected!("fma")
                && std::is_x86_feature_detected!("f16c")
            {
                return Isa::Avx2;
            }
        }
        Isa::Portable
    }
}

static ACTIVE: AtomicU8 = AtomicU8::new(0);

/// The ISA in use: the CPU's best, lowered by `FASTACT_ISA` if set (never raised above what the CPU has).
pub fn active() -> Isa {
    match ACTIVE.load(Ordering::Relaxed) {
        1 => Isa::Portable,
        2 => Isa::Avx2,
        3 => Isa::Avx512,
        _ => {
            let detected = Isa::detect();
            let chosen = std::env::var("FASTACT_ISA")
                .ok()
                .and_then(|v| Isa::parse(&v))
                .map_or(detected, |wanted| wanted.min(detected));
            ACTIVE.store(chosen as u8, Ordering::Relaxed);
            chosen
        }
    }
}

/// Use `isa` from now on (clamped to what the CPU supports); returns the level actually set.
pub fn set_active(isa: Isa) -> Isa {
    let chosen = isa.min(Isa::detect());
    ACTIVE.store(chosen as u8, Ordering::Relaxed);
    chosen
}

/// The three instantiations of one loop, one per ISA level: `portable`, and on x86-64 `avx2` and `avx512`
/// compiled with those target features (so LLVM vectorises the loop for them). The loop itself must be
/// `#[inline(always)]` and free of closures doing arithmetic: a closure is compiled without the caller's
/// target features, and its `mul_add` would become a libm call.
///
/// `isa_trampolines!([generic params] (args) => body)` defines the three functions in the current module.
/// Inside each, the constant `F16C` says whether the level enables F16C (the float16 conversions).
macro_rules! isa_trampolines {
    ([$($generic:tt)*] ($($arg:ident: $ty:ty),* $(,)?) => $body:expr) => {
        pub(crate) fn portable<$($generic)*>($($arg: $ty),*) {
            #[allow(dead_code)]
            const F16C: bool = false;
            $body
        }

        /// # Safety
        /// The CPU must support AVX2, FMA and F16C (`Isa::detect` checked them before this is selected).
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma,f16c")]
        pub(crate) unsafe fn avx2<$($generic)*>($($arg: $ty),*) {
            #[allow(dead_code)]
            const F16C: bool = true;
            $body
        }

        /// # Safety
        /// The CPU must support AVX-512 F/DQ/VL/BW, FMA and F16C (`Isa::detect` checked them before this
        /// is selected).
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma,f16c")]
        pub(crate) unsafe fn avx512<$($generic)*>($($arg: $ty),*) {
            #[allow(dead_code)]
            const F16C: bool = true;
            $body
        }
    };
}
pub(crate) use isa_trampolines;

/// The row function for `mode` on `isa` from a module of `isa_trampolines!` row loops whose last generic
/// parameter is the mode: `select_levels!(levels::<T, K>, mode, isa)`.
macro_rules! select_levels {
    ($levels:ident :: <$($g:ty),*>, $mode:expr, $isa:expr) => {
        match $mode {
            Mode::Forward => select_levels!(@isa $levels [$($g),*] 0, $isa),
            Mode::Derivative => select_levels!(@isa $levels [$($g),*] 1, $isa),
            Mode::FromOutput => select_levels!(@isa $levels [$($g),*] 2, $isa),
        }
    };
    (@isa $levels:ident [$($g:ty),*] $m:literal, $isa:expr) => {
        match $isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => RowFn::Unsafe($levels::avx512::<$($g,)* $m>),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => RowFn::Unsafe($levels::avx2::<$($g,)* $m>),
            _ => RowFn::Safe($levels::portable::<$($g,)* $m>),
        }
    };
}
pub(crate) use select_levels;

/// The elementwise row loops, per ISA level.
pub(crate) mod levels {
    use super::*;

    isa_trampolines!([T: Elem, K: Kernel, const MODE: u8]
        (p: &[f64; 2], x: &[T], g: Option<&[T]>, y: &mut [T]) => row_loop::<T, K, MODE>(p, x, g, y));
}

/// The row function for kernel `K` in `mode` on `isa`.
pub(crate) fn select_row<T: Elem, K: Kernel>(mode: Mode, isa: Isa) -> RowFn<T> {
    select_levels!(levels::<T, K>, mode, isa)
}

/// The pass that decides whether a row needs a kernel's scalar exact path, per ISA level.
pub(crate) mod scan {
    use super::*;

    isa_trampolines!([T: Elem] (x: &[T], bound: T, all: &mut bool) => *all = all_abs_below(x, bound));

    /// Whether every |x| is below `bound` (NaN is not): one pass without early exit, so it vectorises.
    #[inline(always)]
    fn all_abs_below<T: Elem>(x: &[T], bound: T) -> bool {
        x.iter().fold(true, |all, v| all & (v.abs() < bound))
    }
}

/// Whether every |x| is below `bound` (NaN is not), on `isa`.
pub(crate) fn all_abs_below<T: Elem>(isa: Isa, x: &[T], bound: T) -> bool {
    let mut all = false;
    match isa {
        // SAFETY: the caller passes the active ISA, which `active` and `set_active` never set above what
        // `Isa::detect` found on this CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { scan::avx512(x, bound, &mut all) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { scan::avx2(x, bound, &mut all) },
        _ => scan::portable(x, bound, &mut all),
    }
    all
}
