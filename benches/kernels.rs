//! Kernel throughput, every row of the table, forward and derivative, against a plain copy of the same
//! bytes (the memory-bandwidth limit). Run: `cargo bench -p fastact-benches` (FASTACT_ISA and
//! FASTACT_NUM_THREADS select the ISA level and threads).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use fastact_core::{apply, Call, KernelId, Mode};
use std::hint::black_box;

fn kernels(c: &mut Criterion) {
    for &n in &[100_000usize, 10_000_000] {
        let x: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.001).sin() * 8.0).collect();
        let mut y = vec![0f32; n];
        let mut group = c.benchmark_group(format!("f32/{n}"));
        group.throughput(Throughput::Elements(n as u64));
        group.sample_size(20);
        group.bench_function("copy", |b| b.iter(|| y.copy_from_slice(black_box(&x))));
        for &kernel in KernelId::ALL {
            let name = kernel.info().name;
            for (mode, suffix) in [(Mode::Forward, ""), (Mode::Derivative, "_grad")] {
                let call = match Call::new(kernel, mode, kernel.info().sample_params) {
                    Ok(call) => call,
                    Err(_) => continue,
                };
                group.bench_function(
                    BenchmarkId::from_parameter(format!("{name}{suffix}")),
                    |b| b.iter(|| apply(call, black_box(&x), None, &mut y)),
                );
            }
        }
        group.finish();
    }
}

criterion_group!(benches, kernels);
criterion_main!(benches);
