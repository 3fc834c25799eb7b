//! Counters bumped on every request by every worker thread (tile cache hits, request
//! counts and latencies): striped over cache lines, one stripe per thread, summed when
//! read. A single shared atomic is one cache line bounced between the cores on each
//! increment; under a cached-tile load that cost showed in the profile (BENCHMARKS.md,
//! "Tile speed, raised").

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// One `T` per thread (threads past `N` share), each on cache lines of its own.
#[derive(Debug)]
pub struct PerThread<T, const N: usize>([Aligned<T>; N]);

#[derive(Debug, Default)]
#[repr(align(128))]
struct Aligned<T>(T);

impl<T: Default, const N: usize> Default for PerThread<T, N> {
    fn default() -> Self {
        PerThread(std::array::from_fn(|_| Aligned::default()))
    }
}

/// This thread's number: threads take numbers in the order they first count.
fn thread_number() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static MINE: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    MINE.with(|m| *m)
}

impl<T, const N: usize> PerThread<T, N> {
    /// This thread's `T`.
    #[inline]
    pub fn mine(&self) -> &T {
        &self.0[thread_number() % N].0
    }

    /// Every thread's, to sum.
    pub fn all(&self) -> impl Iterator<Item = &T> {
        self.0.iter().map(|a| &a.0)
    }
}

/// A sum of `u64`s added from many threads.
#[derive(Debug, Default)]
pub struct Striped(PerThread<AtomicU64, 16>);

impl Striped {
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.mine().fetch_add(n, Ordering::Relaxed);
    }

    /// The total so far (stripes read one by one: a sum taken while others add is some
    /// total between the one before and the one after).
    pub fn sum(&self) -> u64 {
        self.0.all().map(|s| s.load(Ordering::Relaxed)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_from_many_threads_sum_exactly() {
        let c = std::sync::Arc::new(Striped::default());
        let threads: Vec<_> = (0..24)
            .map(|i| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        c.add(i);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(c.sum(), (0..24).sum::<u64>() * 1000);
    }
}
