//! Threads: a private rayon pool (fastact never competes with other rayon users in the process), its size,
//! and when work is worth splitting.
//!
//! Fork safety: rayon's worker threads do not exist in a `fork()`ed child, and a pool inherited that way
//! would deadlock. The pool records the pid that built it; in any other process fastact runs inline, on
//! the calling thread, without touching the inherited pool or its lock.
//!
//! Waking: a sleeping rayon worker takes 10-20 µs to wake on a 2-core VM and up to ~100 µs on a 16-core
//! one, longer than a whole 10^5-element call. So a worker that finishes a call stays awake for a short
//! window (`FASTACT_SPIN_US`, default 100 µs; 0 turns it off) watching for the next call, as OpenMP's
//! workers do. Calls made back to back then start on awake workers; a worker that sees no call in the
//! window returns to rayon and sleeps.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rayon::ThreadPool;

/// Single-thread work (in the table's cost unit, tenths of a nanosecond) below which a call runs inline:
/// 30 µs. Measured on 2 cores (1 vs 2 threads, float32): the second thread starts to pay at 2^18 elements
/// for relu (~0.14 ns/element, memory-bound), 2^15 for sigmoid (0.9 ns), 2^13-2^14 for gelu (5.3 ns) — all
/// about 30-40 µs of work, the price of waking the pool and joining it. Workers that are still awake
/// (see the module's notes) join in a few µs, but the first call of a burst finds them asleep, and a
/// threshold that depended on whether they are awake never split a steady stream of mid-size calls (their
/// workers are never awake): tried on 2 cores, no gain over this constant at 5·10^3-8·10^4 elements.
pub const PARALLEL_WORK: usize = 300_000;
/// No task smaller than 15 µs of work, so each hand-off stays a small fraction of its chunk. On a 16-core
/// Xeon (before the workers stayed awake) 30 and 60 µs chunks, a 60 µs split threshold and one chunk per
/// thread all did no better across 3·10^4-10^6 elements; larger chunks lost 1.3-2× at 10^5
/// (benches/results/chunking-2026-11-27-*).
pub const MIN_CHUNK_WORK: usize = 150_000;

static REQUESTED: AtomicUsize = AtomicUsize::new(0);
static POOL_PID: AtomicU32 = AtomicU32::new(0);
static POOL: Mutex<Option<(usize, Arc<Pool>)>> = Mutex::new(None);

/// The private pool and the state its awake workers watch.
pub(crate) struct Pool {
    threads: ThreadPool,
    hot: Arc<Hot>,
}

/// How long a worker stays awake after a call (`FASTACT_SPIN_US` microseconds, default 100).
fn spin_window() -> Duration {
    static WINDOW: OnceLock<Duration> = OnceLock::new();
    *WINDOW.get_or_init(|| {
        Duration::from_micros(
            env_number::<u64>("FASTACT_SPIN_US").map_or(100, |us| us.min(1_000_000)),
        )
    })
}

/// The environment variable `name` as a number (surrounding spaces allowed); None if unset or not one.
fn env_number<N: std::str::FromStr>(name: &str) -> Option<N> {
    std::env::var(name).ok()?.trim().parse().ok()
}

fn default_threads() -> usize {
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        env_number::<usize>("FASTACT_NUM_THREADS")
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
pub(crate) fn pool(threads: usize) -> Option<Arc<Pool>> {
    if threads <= 1 || in_forked_child() {
        return None;
    }
    let mut slot = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((n, pool)) = slot.as_ref() {
        if *n == threads {
            return Some(Arc::clone(pool));
        }
    }
    let threads_pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads - 1)
        .thread_name(|i| format!("fastact-{i}"))
        .build()
        .ok()?;
    let built = Arc::new(Pool {
        threads: threads_pool,
        hot: Arc::new(Hot::default()),
    });
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
/// workers take chunk indices from one counter until none are left. Inline when there is no pool (one
/// thread, a forked child) or another thread's call holds the pool's workers.
pub(crate) fn run_chunks(chunks: usize, threads: usize, task: impl Fn(usize) + Sync) {
    let pool = match pool(threads) {
        Some(pool) if chunks > 1 => pool,
        _ => return (0..chunks).for_each(&task),
    };
    let hot = &pool.hot;
    if hot.publishing.swap(true, Ordering::Acquire) {
        // Another thread's call is running on the workers: doing this one here is as fast as queueing.
        return (0..chunks).for_each(&task);
    }
    let call = Call::new(chunks, &task);
    let erased: *const Call<'static> = (&call as *const Call<'_>).cast();
    hot.call.store(erased.cast_mut(), Ordering::SeqCst);
    hot.epoch.fetch_add(1, Ordering::SeqCst);
    // Workers awake now take the call as soon as it is published; wake more, up to one per chunk after
    // the caller's first. A worker counted in `awake` either sees the call or, leaving, is replaced here
    // (it leaves only after an empty look at `call`, which the SeqCst store above orders against).
    let wanted = pool.threads.current_num_threads().min(chunks - 1);
    let mut awake = hot.awake.load(Ordering::SeqCst);
    while awake < wanted {
        match hot
            .awake
            .compare_exchange(awake, awake + 1, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => {
                let hot = Arc::clone(hot);
                pool.threads.spawn(move || hot.watch());
                awake += 1;
            }
            Err(now) => awake = now,
        }
    }
    call.work();
    // Chunks other workers took may still be running: wait for them, then withdraw the call and wait
    // until no worker still holds it, before `call` and `task` go out of scope.
    wait_until(|| call.done.load(Ordering::Acquire) == chunks);
    hot.call.store(std::ptr::null_mut(), Ordering::SeqCst);
    wait_until(|| hot.users.load(Ordering::SeqCst) == 0);
    hot.publishing.store(false, Ordering::Release);
    // No worker holds the call any more: the first panic of a chunk, if any, goes on on this thread.
    if let Some(payload) = call.panic.into_inner().unwrap_or_else(|p| p.into_inner()) {
        std::panic::resume_unwind(payload);
    }
}

/// Spin until `ready()`, yielding the core after the first few thousand looks.
fn wait_until(ready: impl Fn() -> bool) {
    let mut looks = 0u32;
    while !ready() {
        if looks < 4096 {
            looks += 1;
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// One parallel call: its chunk counter and task, on the calling thread's stack while it runs.
struct Call<'a> {
    next: AtomicUsize,
    done: AtomicUsize,
    chunks: usize,
    /// The first panic of a chunk, re-raised on the calling thread.
    panic: Mutex<Option<Box<dyn std::any::Any + Send>>>,
    task: &'a (dyn Fn(usize) + Sync),
}

impl<'a> Call<'a> {
    fn new(chunks: usize, task: &'a (dyn Fn(usize) + Sync)) -> Self {
        Self {
            next: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            chunks,
            panic: Mutex::new(None),
            task,
        }
    }

    /// Take chunks until none are left. A panicking chunk still counts as done (its panic is re-raised on
    /// the calling thread, as rayon's scope did), so the caller never waits for it forever.
    fn work(&self) {
        loop {
            let c = self.next.fetch_add(1, Ordering::Relaxed);
            if c >= self.chunks {
                break;
            }
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.task)(c)));
            if let Err(payload) = ran {
                let mut first = self.panic.lock().unwrap_or_else(|p| p.into_inner());
                first.get_or_insert(payload);
            }
            self.done.fetch_add(1, Ordering::Release);
        }
    }
}

/// What the awake workers watch: the published call (null when none) and a count of calls published (the
/// next call's `Call` often sits at the same stack address as the last), how many workers are inside a
/// call, how many are awake, and whether a thread is publishing (one call at a time).
#[derive(Default)]
pub(crate) struct Hot {
    call: AtomicPtr<Call<'static>>,
    epoch: AtomicUsize,
    users: AtomicUsize,
    awake: AtomicUsize,
    publishing: AtomicBool,
}

impl Hot {
    /// A worker's watch: take every call published while awake, and leave after a window with none.
    fn watch(&self) {
        let window = spin_window();
        let mut idle_since = Instant::now();
        let mut looks = 0u32;
        // A worker spawned for a call takes it even if it was published before the worker started.
        let mut served = self.epoch.load(Ordering::SeqCst).wrapping_sub(1);
        loop {
            let epoch = self.epoch.load(Ordering::SeqCst);
            let seen = self.call.load(Ordering::SeqCst);
            if epoch != served && !seen.is_null() {
                served = epoch;
                self.users.fetch_add(1, Ordering::SeqCst);
                if self.call.load(Ordering::SeqCst) == seen {
                    // SAFETY: `seen` is still published after this worker counted itself in `users`, and
                    // the publisher withdraws its call and then waits for `users` to reach 0 (all SeqCst)
                    // before the call leaves its stack; so the call behind `seen` (this one or a later one
                    // at the same address) is alive for this whole use.
                    unsafe { (*seen).work() };
                }
                self.users.fetch_sub(1, Ordering::SeqCst);
                idle_since = Instant::now();
                continue;
            }
            std::hint::spin_loop();
            looks = looks.wrapping_add(1);
            if looks.is_multiple_of(64) && idle_since.elapsed() >= window {
                self.awake.fetch_sub(1, Ordering::SeqCst);
                if self.call.load(Ordering::SeqCst).is_null() {
                    return;
                }
                // A call came in as this worker was leaving; its publisher may have counted it awake.
                self.awake.fetch_add(1, Ordering::SeqCst);
                idle_since = Instant::now();
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU8;

    /// Run `chunks` chunks on `threads` threads and check each ran exactly once.
    fn each_chunk_once(chunks: usize, threads: usize) {
        let seen: Vec<AtomicU8> = (0..chunks).map(|_| AtomicU8::new(0)).collect();
        run_chunks(chunks, threads, |c| {
            seen[c].fetch_add(1, Ordering::Relaxed);
        });
        assert!(
            seen.iter().all(|s| s.load(Ordering::Relaxed) == 1),
            "{chunks} chunks on {threads} threads"
        );
    }

    #[test]
    fn every_chunk_runs_once_back_to_back_and_after_idling() {
        for round in 0..300 {
            for (chunks, threads) in [(1, 4), (2, 2), (3, 4), (7, 3), (64, 4), (5, 8)] {
                each_chunk_once(chunks, threads);
            }
            if round % 100 == 99 {
                // Long enough for the workers to leave their watch and sleep in rayon.
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    #[test]
    fn callers_on_several_threads_share_the_pool() {
        std::thread::scope(|scope| {
            for t in 0..4 {
                scope.spawn(move || {
                    for i in 0..200 {
                        each_chunk_once(1 + (i * 7 + t) % 40, 3);
                    }
                });
            }
        });
    }

    #[test]
    fn a_panicking_chunk_reaches_the_caller_and_the_pool_recovers() {
        let outcome = std::panic::catch_unwind(|| {
            run_chunks(16, 4, |c| {
                if c == 11 {
                    panic!("chunk 11");
                }
            })
        });
        let payload = outcome.expect_err("the chunk's panic reaches the caller");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"chunk 11"));
        each_chunk_once(16, 4);
    }
}
