//! The kernel table: one row per native kernel. Everything in Rust that enumerates kernels — the
//! `KernelId` enum, the metadata the bindings export, the dispatch match, the tests and benches —
//! is generated from [`for_each_kernel!`]. The Python catalogue (`python/fastact/_catalogue.py`) names
//! these kernels and adds the documentation; a test checks that the two agree.

/// Calls `$m!` with the whole table. Columns: python name => kernel type, number of parameters and the
/// values Rust tests and benches use for them (PyTorch's defaults; threshold has none, so 0.5 and -2.0),
/// cost (single-thread time per element in tenths of a nanosecond, the larger of forward and derivative,
/// float32 at 2^16 elements, measured on an AVX2 EPYC on 2026-11-25; it sets the parallel threshold),
/// ULP bounds enforced by the tests: (f32 forward, f32 derivative, f64 forward, f64 derivative). A bound
/// of N means "within N ULP of the correctly rounded result"; 0 means correctly rounded. f32 bounds come
/// from the exhaustive sweep (rust/core/tests/sweep.rs), f64 bounds from mpmath (tests/test_accuracy.py).
/// Parameters are rounded to the input's precision first, as PyTorch casts a scalar to the tensor's dtype.
#[macro_export]
macro_rules! for_each_kernel {
    ($m:ident) => {
        $m! {
            identity    => Identity,    params 1 [1.0, 0.0], cost 1,  ulp (1, 0, 0, 0);
            binary_step => BinaryStep,  params 1 [0.0, 0.0], cost 1,  ulp (0, 0, 0, 0);
            sigmoid     => Sigmoid,     params 0 [0.0, 0.0], cost 9,  ulp (2, 4, 2, 4);
            tanh        => Tanh,        params 0 [0.0, 0.0], cost 12,  ulp (2, 4, 2, 4);
            relu        => Relu,        params 0 [0.0, 0.0], cost 1,  ulp (0, 0, 0, 0);
            leaky_relu  => LeakyRelu,   params 1 [0.01, 0.0], cost 1,  ulp (1, 0, 0, 0);
            softplus    => Softplus,    params 2 [1.0, 20.0], cost 32, ulp (3, 3, 4, 4);
            elu         => Elu,         params 1 [1.0, 0.0], cost 8,  ulp (2, 2, 4, 4);
            celu        => Celu,        params 1 [1.0, 0.0], cost 12,  ulp (3, 2, 4, 4);
            selu        => Selu,        params 0 [0.0, 0.0], cost 8,  ulp (3, 2, 4, 4);
            gelu        => Gelu,        params 0 [0.0, 0.0], cost 18, ulp (3, 3, 16, 16);
            gelu_tanh   => GeluTanh,    params 0 [0.0, 0.0], cost 25, ulp (3, 1, 4, 8);
            relu6       => Relu6,       params 0 [0.0, 0.0], cost 1,  ulp (0, 0, 0, 0);
            log_sigmoid => LogSigmoid,  params 0 [0.0, 0.0], cost 25, ulp (2, 3, 4, 4);
            hard_sigmoid => HardSigmoid, params 2 [1.0 / 6.0, 0.5], cost 1, ulp (1, 0, 1, 0);
            sine        => Sine,        params 1 [1.0, 0.0], cost 19, ulp (1, 1, 2, 2);
            silu        => Silu,        params 0 [0.0, 0.0], cost 11,  ulp (4, 3, 4, 4);
            mish        => Mish,        params 0 [0.0, 0.0], cost 14, ulp (4, 1, 4, 16);
            hard_swish  => HardSwish,   params 0 [0.0, 0.0], cost 3,  ulp (1, 1, 1, 1);
            hard_tanh   => HardTanh,    params 2 [-1.0, 1.0], cost 1,  ulp (0, 0, 0, 0);
            softsign    => Softsign,    params 0 [0.0, 0.0], cost 4,  ulp (1, 1, 2, 2);
            tanhshrink  => Tanhshrink,  params 0 [0.0, 0.0], cost 19,  ulp (3, 3, 16, 4);
            softshrink  => Softshrink,  params 1 [0.5, 0.0], cost 1,  ulp (0, 0, 0, 0);
            hardshrink  => Hardshrink,  params 1 [0.5, 0.0], cost 1,  ulp (0, 0, 0, 0);
            threshold   => Threshold,   params 2 [0.5, -2.0], cost 1,  ulp (0, 0, 0, 0);
            relu2       => Relu2,       params 0 [0.0, 0.0], cost 2,  ulp (0, 0, 0, 0);
            squareplus  => Squareplus,  params 1 [4.0, 0.0], cost 23, ulp (1, 1, 1, 1);
            sparse_plus => SparsePlus,  params 0 [0.0, 0.0], cost 10, ulp (0, 0, 1, 0);
            sparse_sigmoid => SparseSigmoid, params 0 [0.0, 0.0], cost 2, ulp (0, 0, 0, 0);
            shrink      => Shrink,      params 2 [0.5, 0.0], cost 2,  ulp (0, 0, 0, 0);
            gelu_sigmoid => GeluSigmoid, params 0 [0.0, 0.0], cost 25, ulp (2, 2, 2, 2);
            swish       => Swish,       params 1 [1.0, 0.0], cost 17, ulp (4, 4, 4, 4);
            logit       => Logit,       params 1 [-1.0, 0.0], cost 23, ulp (3, 1, 2, 1);
            erf         => Erf,         params 0 [0.0, 0.0], cost 37, ulp (1, 1, 2, 2);
            erfc        => Erfc,        params 0 [0.0, 0.0], cost 39, ulp (1, 1, 8, 2);
            ndtr        => Ndtr,        params 0 [0.0, 0.0], cost 40, ulp (1, 1, 8, 2);
            log_ndtr    => LogNdtr,     params 0 [0.0, 0.0], cost 120, ulp (1, 1, 8, 8);
        }
    };
}

/// What the rest of the world may know about a kernel.
#[derive(Clone, Copy, Debug)]
pub struct KernelInfo {
    pub name: &'static str,
    pub params: usize,
    /// Parameter values for tests and benches (see the table's doc).
    pub sample_params: [f64; 2],
    pub cost: usize,
    pub promote: bool,
    pub promote_derivative: bool,
    pub from_output: bool,
    /// (f32 forward, f32 derivative, f64 forward, f64 derivative)
    pub ulp: (u32, u32, u32, u32),
}

macro_rules! define_kernels {
    ($($name:ident => $kernel:ident, params $np:literal $defaults:expr, cost $cost:literal,
       ulp ($u0:literal, $u1:literal, $u2:literal, $u3:literal);)*) => {
        /// Every native kernel, in table order.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum KernelId { $($name),* }

        pub static KERNELS: &[KernelInfo] = &[$(KernelInfo {
            name: stringify!($name),
            params: $np,
            sample_params: $defaults,
            cost: $cost,
            promote: <$crate::ops::$kernel as $crate::ops::Kernel>::PROMOTE,
            promote_derivative: <$crate::ops::$kernel as $crate::ops::Kernel>::PROMOTE_DERIVATIVE,
            from_output: <$crate::ops::$kernel as $crate::ops::Kernel>::FROM_OUTPUT,
            ulp: ($u0, $u1, $u2, $u3),
        }),*];

        impl KernelId {
            pub const ALL: &'static [KernelId] = &[$(KernelId::$name),*];

            pub fn info(self) -> &'static KernelInfo {
                &KERNELS[self as usize]
            }

            pub fn from_index(index: usize) -> Option<KernelId> {
                Self::ALL.get(index).copied()
            }

            pub fn from_name(name: &str) -> Option<KernelId> {
                Self::ALL.iter().copied().find(|k| k.info().name == name)
            }
        }

        /// The monomorphised row function for (kernel, mode, element type, ISA).
        pub(crate) fn row_fn<T: $crate::driver::Store>(
            kernel: KernelId,
            mode: $crate::driver::Mode,
            isa: $crate::simd::Isa,
        ) -> $crate::driver::RowFn<T> {
            match kernel {
                $(KernelId::$name => T::select_row::<$crate::ops::$kernel>(mode, isa),)*
            }
        }

        /// The scalar exact patch for (kernel, mode), or None for kernels that never need one.
        pub(crate) fn exact_fn(kernel: KernelId) -> Option<$crate::driver::ExactFn> {
            match kernel {
                $(KernelId::$name => $crate::driver::exact_fn_of::<$crate::ops::$kernel>(),)*
            }
        }
    };
}

for_each_kernel!(define_kernels);
