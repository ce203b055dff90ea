//! The in-engine latency probe (cargo feature `probe`): how long a worker takes
//! from a `read` that returned bytes to the `write` that hands the replies to the
//! kernel (PERFORMANCE.md T4: parse, sequence check, store append, callback,
//! encode). Without the feature every method is an empty inline function, so the
//! hot path carries no clock reads in normal builds.
//!
//! Samples go into a fixed histogram (10 ns buckets up to 100 µs, one overflow
//! bucket) allocated when the session's worker starts, so recording never
//! allocates; the percentiles are logged at `info` when a connection closes.

#[cfg(feature = "probe")]
mod imp {
    use std::time::Instant;

    /// Bucket width in nanoseconds.
    const BUCKET_NS: u64 = 10;
    /// Buckets up to 100 µs; one more holds everything longer.
    const BUCKETS: usize = 10_000;

    /// The histogram and the read in progress.
    pub(crate) struct Probe {
        started: Option<Instant>,
        counts: Box<[u32]>,
        total: u64,
        max_ns: u64,
    }

    impl Probe {
        pub(crate) fn new() -> Self {
            Self {
                started: None,
                counts: vec![0; BUCKETS + 1].into_boxed_slice(),
                total: 0,
                max_ns: 0,
            }
        }

        /// A read returned bytes.
        #[inline]
        pub(crate) fn read_done(&mut self) {
            self.started = Some(crate::engine::now());
        }

        /// A write is about to be issued for the replies.
        #[inline]
        pub(crate) fn write_start(&mut self) {
            if let Some(t) = self.started.take() {
                let ns = crate::engine::now().duration_since(t).as_nanos() as u64;
                let bucket = ((ns / BUCKET_NS) as usize).min(BUCKETS);
                self.counts[bucket] += 1;
                self.total += 1;
                self.max_ns = self.max_ns.max(ns);
            }
        }

        /// A read that produced nothing to write: not a sample.
        #[inline]
        pub(crate) fn discard(&mut self) {
            self.started = None;
        }

        fn percentile(&self, p: f64) -> u64 {
            let rank = ((self.total as f64) * p).ceil().max(1.0) as u64;
            let mut seen = 0u64;
            for (i, &c) in self.counts.iter().enumerate() {
                seen += u64::from(c);
                if seen >= rank {
                    // A bucket's lower edge; past the last one, only the
                    // largest sample is known.
                    return if i == BUCKETS {
                        self.max_ns
                    } else {
                        i as u64 * BUCKET_NS
                    };
                }
            }
            self.max_ns
        }

        /// Logs the percentiles so far and starts again.
        pub(crate) fn report(&mut self, session: &dyn std::fmt::Display) {
            if self.total > 0 {
                log::info!(
                    "session {session}: read→write in the engine over {} reads: p50 {} ns, \
                     p90 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
                    self.total,
                    self.percentile(0.50),
                    self.percentile(0.90),
                    self.percentile(0.99),
                    self.percentile(0.999),
                    self.max_ns
                );
            }
            self.counts.fill(0);
            self.total = 0;
            self.max_ns = 0;
            self.started = None;
        }
    }
}

#[cfg(not(feature = "probe"))]
mod imp {
    /// Nothing: the `probe` feature is off.
    pub(crate) struct Probe;

    impl Probe {
        pub(crate) fn new() -> Self {
            Self
        }
        #[inline(always)]
        pub(crate) fn read_done(&mut self) {}
        #[inline(always)]
        pub(crate) fn write_start(&mut self) {}
        #[inline(always)]
        pub(crate) fn discard(&mut self) {}
        #[inline(always)]
        pub(crate) fn report(&mut self, _session: &dyn std::fmt::Display) {}
    }
}

pub(crate) use imp::Probe;
