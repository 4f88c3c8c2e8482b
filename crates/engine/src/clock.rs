//! The engine's clock, injectable: the advisor's state machine, claims, duties, SLA
//! clocks and parking read `Engine::now_ms`, so a test can move time
//! (`Engine::use_clock(ManualClock)`) instead of publishing zero-minute policies or
//! waiting out a wrap-up. Network timing (outbox retries, reconnect backoff, IDLE) stays
//! on the system's clock: it is about real sockets.

use std::sync::atomic::{AtomicI64, Ordering};

/// Unix time in milliseconds.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// The system's clock (the default).
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        crate::engine::now_ms()
    }
}

/// A clock that moves only when told to (tests).
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn starting_at(now_ms: i64) -> ManualClock {
        ManualClock(AtomicI64::new(now_ms))
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
