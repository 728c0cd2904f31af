//! Threads: a private rayon pool (fastact never competes with other rayon users in the process), its size,
//! and when work is worth splitting.
//!
//! Fork safety: rayon's worker threads do not exist in a `fork()`ed child, and a pool inherited that way
//! would deadlock. The pool records the pid that built it; in any other process fastact runs inline, on
//! the calling thread, without touching the inherited pool or its lock.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::ThreadPool;

/// Single-thread work (in the table's cost unit, tenths of a nanosecond) below which a call runs inline:
/// 30 µs. Measured on 2 cores (1 vs 2 threads, float32): the second thread starts to pay at 2^18 elements
/// for relu (~0.14 ns/element, memory-bound), 2^15 for sigmoid (0.9 ns), 2^13-2^14 for gelu (5.3 ns) — all
/// about 30-40 µs of work, the price of waking the pool and joining it.
pub const PARALLEL_WORK: usize = 300_000;
/// No task smaller than 15 µs of work, so each hand-off stays a small fraction of its chunk.
pub const MIN_CHUNK_WORK: usize = 150_000;

static REQUESTED: AtomicUsize = AtomicUsize::new(0);
static POOL_PID: AtomicU32 = AtomicU32::new(0);
static POOL: Mutex<Option<(usize, Arc<ThreadPool>)>> = Mutex::new(None);

fn default_threads() -> usize {
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        std::env::var("FASTACT_NUM_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    })
}

/// The number of threads large calls use.
pub fn num_threads() -> usize {
    match REQUESTED.load(Ordering::Relaxed) {
        0 => default_threads(),
        n => n,
    }
}

/// Use `n` threads from now on (`0` restores the default: `FASTACT_NUM_THREADS` or all cores).
pub fn set_num_threads(n: usize) {
    REQUESTED.store(n, Ordering::Relaxed);
}

/// Whether this process is a fork of the one that built the pool.
fn in_forked_child() -> bool {
    let owner = POOL_PID.load(Ordering::Acquire);
    owner != 0 && owner != std::process::id()
}

/// The pool for a call on `threads` threads: `threads - 1` workers, since the calling thread works too;
/// None to run inline (one thread, a forked child, or no pool could be built).
pub(crate) fn pool(threads: usize) -> Option<Arc<ThreadPool>> {
    if threads <= 1 || in_forked_child() {
        return None;
    }
    let mut slot = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((n, pool)) = slot.as_ref() {
        if *n == threads {
            return Some(Arc::clone(pool));
        }
    }
    let built = rayon::ThreadPoolBuilder::new()
        .num_threads(threads - 1)
        .thread_name(|i| format!("fastact-{i}"))
        .build()
        .ok()
        .map(Arc::new)?;
    POOL_PID.store(std::process::id(), Ordering::Release);
    *slot = Some((threads, Arc::clone(&built)));
    Some(built)
}

/// How many chunks to split `n` elements of a kernel of the given cost into, and their size (1 = inline).
pub(crate) fn chunking(n: usize, cost: usize, threads: usize) -> (usize, usize) {
    let cost = cost.max(1);
    if threads <= 1 || n.saturating_mul(cost) < PARALLEL_WORK {
        return (1, n);
    }
    // About four chunks per thread leaves room for work stealing; multiples of 64 elements keep every
    // chunk's start aligned to whole cache lines and vector widths relative to the base.
    let per_chunk = n
        .div_ceil(4 * threads)
        .max(MIN_CHUNK_WORK / cost)
        .next_multiple_of(64);
    (n.div_ceil(per_chunk), per_chunk)
}

/// Run `task(c)` for every chunk c < `chunks` on `threads` threads: the calling thread and the pool's
/// workers take chunk indices from one counter until none are left (one wake-up, no hand-off of the
/// caller). Inline when there is no pool (one thread, a forked child).
pub(crate) fn run_chunks(chunks: usize, threads: usize, task: impl Fn(usize) + Sync) {
    let Some(pool) = pool(threads) else {
        (0..chunks).for_each(&task);
        return;
    };
    let next = AtomicUsize::new(0);
    let work = || loop {
        let c = next.fetch_add(1, Ordering::Relaxed);
        if c >= chunks {
            break;
        }
        task(c);
    };
    pool.in_place_scope(|scope| {
        for _ in 0..pool.current_num_threads().min(chunks.saturating_sub(1)) {
            scope.spawn(|_| work());
        }
        work();
    });
}

/// A pointer to memory that several tasks write, each its own disjoint part (the caller's to guarantee, and
/// to state where it dereferences it).
#[derive(Clone, Copy)]
pub(crate) struct SharedMut<T>(pub(crate) *mut T);
// SAFETY: the pointer itself is only an address; every task that writes through it writes a part of the
// memory no other task touches, and the caller borrows that memory uniquely for the whole run.
unsafe impl<T: Send> Send for SharedMut<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SharedMut<T> {}

/// Run `task(first, last)` over `0..units` on the active thread count: each unit is `unit_len` elements of a
/// kernel of the given cost, split as `chunking` splits elements (whole units per task), inline when small.
pub(crate) fn run_ranges(
    units: usize,
    unit_len: usize,
    cost: usize,
    task: impl Fn(usize, usize) + Sync,
) {
    let threads = num_threads();
    let unit_len = unit_len.max(1);
    let (chunks, per_chunk) = chunking(units.saturating_mul(unit_len), cost, threads);
    if chunks <= 1 {
        task(0, units);
        return;
    }
    let per_task = per_chunk.div_ceil(unit_len).max(1);
    run_chunks(units.div_ceil(per_task), threads, |c| {
        task(c * per_task, ((c + 1) * per_task).min(units))
    });
}
