//! fastact-core: SIMD, multithreaded kernels for neural-network activation functions and their
//! derivatives. No Python here: the bindings live in `rust/python`.
//!
//! Layout: [`math`] (vectorisable exp, expm1, log1p, tanh, erfc, sin), [`ops`] (the activations, by family),
//! [`table`] (the one list of kernels), [`simd`] (ISA detection and trampolines), [`driver`] (strided loops,
//! blocks, aliasing), [`gated`] (GLU's one-pass backward), [`maxout`], [`channels`] (per-channel passes: PReLU with its weight gradient, a bias's gradient), [`crelu`] (small CReLU calls in one pass), [`half`] (float16/bfloat16 storage, computed in f32), [`transpose`] (short lanes into panels and back), [`parallel`] (the thread pool).

pub mod channels;
pub mod crelu;
pub mod driver;
pub mod gated;
pub mod half;
pub mod math;
pub mod maxout;
pub mod ops;
pub mod parallel;
pub mod real;
pub mod rows;
pub mod simd;
pub mod table;
pub mod transpose;

pub use driver::{
    apply, apply_bias_strided, apply_inplace, apply_strided, Call, Error, Mode, Store, View,
    ViewMut,
};
pub use half::{Bf16, F16};
pub use rows::{apply_lanes, apply_lanes_masked, LaneView, RowMode, RowOp};
pub use table::{KernelId, KernelInfo, KERNELS};
