//! Wall-clock time for SendingTime(52), injected so the session layer never reads a clock.
//!
//! Protocol timers run on `Instant`s passed in by the caller; only the UTC stamp on
//! outgoing messages needs the wall clock, and it comes from a [`Clock`]. Tests use
//! [`ManualClock`], which moves only when told to.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::codec::UtcTimestamp;

/// A source of UTC time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current UTC time.
    fn now_utc(&self) -> UtcTimestamp;
}

/// The system's real-time clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that reads wall time
    fn now_utc(&self) -> UtcTimestamp {
        UtcTimestamp::from_system_time(std::time::SystemTime::now())
    }
}

/// A clock that stands still until advanced: for tests and benchmarks.
///
/// Clones share the same time, so a test can keep one and give one to a session.
#[derive(Debug, Clone)]
pub struct ManualClock {
    nanos: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: UtcTimestamp) -> Self {
        let nanos = i64::try_from(start.unix_nanos()).unwrap_or(i64::MAX);
        Self {
            nanos: Arc::new(AtomicI64::new(nanos)),
        }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let d = i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        self.nanos.fetch_add(d, Ordering::Relaxed);
    }

    /// Sets the clock to `t`.
    pub fn set(&self, t: UtcTimestamp) {
        let nanos = i64::try_from(t.unix_nanos()).unwrap_or(i64::MAX);
        self.nanos.store(nanos, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now_utc(&self) -> UtcTimestamp {
        let n = self.nanos.load(Ordering::Relaxed);
        UtcTimestamp::from_unix(
            n.div_euclid(1_000_000_000),
            n.rem_euclid(1_000_000_000) as u32,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = UtcTimestamp::parse(b"20261125-20:16:27.000").unwrap();
        let clock = ManualClock::new(start);
        let shared = clock.clone();
        assert_eq!(clock.now_utc(), start);
        shared.advance(Duration::from_millis(1500));
        assert_eq!(clock.now_utc().to_string(), "20261125-20:16:28.500000000");
        clock.set(start);
        assert_eq!(shared.now_utc(), start);
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now_utc().unix_secs() > 1_577_836_800);
    }
}
