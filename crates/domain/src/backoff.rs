//! Retry timing: reconnects to the mail server and outbox retries.
//!
//! Jitter is an input in `[0, 1)` so the schedule is deterministic under test.

use std::time::Duration;

/// Reconnect delay after `failures` consecutive failed attempts (1 = first failure):
/// 2 s doubling to at most 80 s, then up to ±25 % jitter so a team's apps do not
/// reconnect in lock-step after a server restart.
pub fn reconnect_delay(failures: u32, jitter: f64) -> Duration {
    const BASE_MS: u64 = 2_000;
    const MAX_MS: u64 = 80_000;
    let exp = failures.saturating_sub(1).min(16);
    let ms = BASE_MS.saturating_mul(1u64 << exp).min(MAX_MS);
    let jitter = jitter.clamp(0.0, 1.0);
    // Map [0,1) to [-25 %, +25 %), then keep inside the documented 2 s .. 80 s band.
    let factor = 0.75 + 0.5 * jitter;
    let jittered = (ms as f64 * factor) as u64;
    Duration::from_millis(jittered.clamp(BASE_MS, MAX_MS))
}

/// Delay before outbox attempt number `attempt + 1` after a temporary failure:
/// 5 s doubling to at most 10 minutes.
pub fn outbox_retry_delay(attempts: u32, jitter: f64) -> Duration {
    const BASE_MS: u64 = 5_000;
    const MAX_MS: u64 = 600_000;
    let exp = attempts.saturating_sub(1).min(16);
    let ms = BASE_MS.saturating_mul(1u64 << exp).min(MAX_MS);
    let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    Duration::from_millis((ms as f64 * factor) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reconnect_starts_at_two_seconds_and_caps_at_eighty() {
        assert_eq!(reconnect_delay(1, 0.5), Duration::from_secs(2));
        assert_eq!(reconnect_delay(2, 0.5), Duration::from_secs(4));
        assert_eq!(reconnect_delay(6, 0.5), Duration::from_secs(64));
        assert_eq!(reconnect_delay(7, 0.5), Duration::from_secs(80));
        assert_eq!(reconnect_delay(u32::MAX, 0.5), Duration::from_secs(80));
    }

    #[test]
    fn jitter_spreads_the_delay() {
        assert!(reconnect_delay(4, 0.0) < reconnect_delay(4, 0.99));
    }

    proptest! {
        #[test]
        fn reconnect_delay_stays_in_band(failures in 0u32..1000, jitter in -1.0f64..2.0) {
            let d = reconnect_delay(failures, jitter);
            prop_assert!(d >= Duration::from_secs(2) && d <= Duration::from_secs(80));
        }

        #[test]
        fn reconnect_delay_never_shrinks_much(failures in 1u32..30) {
            // Without jitter the schedule is monotone.
            prop_assert!(reconnect_delay(failures + 1, 0.5) >= reconnect_delay(failures, 0.5));
        }

        #[test]
        fn outbox_delay_is_bounded(attempts in 0u32..1000, jitter in 0.0f64..1.0) {
            let d = outbox_retry_delay(attempts, jitter);
            prop_assert!(d >= Duration::from_secs(4) && d <= Duration::from_secs(720));
        }
    }
}
