//! Rate limits on automatic mail, as pure state (times are unix milliseconds, passed in).
//!
//! The header rules in [`super::autoreply`] stop the loops we can recognise; these limits
//! stop the ones we cannot (a responder that marks nothing): one acknowledgement per
//! sender per window, a cap per conversation, and a global breaker that stops all
//! automatic mail after a burst until a supervisor resets it.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

/// The limits, from the supervisor's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoReplyLimits {
    /// At most one acknowledgement per sender within this window (FreeScout: a day).
    pub per_sender_window_ms: i64,
    /// At most this many automatic messages in one conversation (acknowledgement plus
    /// one "still working on it" note).
    pub per_conversation_max: u32,
    /// More than this many automatic messages within `breaker_window_ms` trips the breaker.
    pub breaker_max: u32,
    pub breaker_window_ms: i64,
}

impl Default for AutoReplyLimits {
    fn default() -> Self {
        AutoReplyLimits {
            per_sender_window_ms: 24 * 60 * 60 * 1000,
            per_conversation_max: 2,
            breaker_max: 50,
            breaker_window_ms: 10 * 60 * 1000,
        }
    }
}

/// Why an automatic message may not go now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Throttle {
    /// This sender already had an acknowledgement; the next is allowed from `retry_at_ms`.
    SenderWindow { retry_at_ms: i64 },
    /// The conversation already had `max` automatic messages.
    ConversationCap { max: u32 },
    /// The global breaker is tripped (since `since_ms`): all automatic mail stops until a
    /// supervisor resets it. `just_now` is true for the attempt that tripped it, so the
    /// engine alerts supervisors once.
    BreakerTripped { since_ms: i64, just_now: bool },
}

/// The rate-limit state. Serializable so the engine can keep it across restarts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoReplyLimiter {
    pub limits: AutoReplyLimits,
    /// Lower-cased sender → time of the last acknowledgement.
    last_ack: HashMap<String, i64>,
    /// Conversation → automatic messages sent in it.
    per_conversation: HashMap<String, u32>,
    /// Times of automatic messages within the breaker window, oldest first.
    recent: VecDeque<i64>,
    tripped_since: Option<i64>,
}

impl AutoReplyLimiter {
    pub fn new(limits: AutoReplyLimits) -> Self {
        AutoReplyLimiter {
            limits,
            ..Default::default()
        }
    }

    /// May an acknowledgement go to `sender` in `conversation` at `now_ms`? On `Ok` the
    /// send is recorded (call it only when you will send).
    pub fn check_and_record(
        &mut self,
        sender: &str,
        conversation: &str,
        now_ms: i64,
    ) -> Result<(), Throttle> {
        let sender = sender.trim().to_ascii_lowercase();
        self.check_tripped()?;
        if let Some(&last) = self.last_ack.get(&sender) {
            let retry_at_ms = last.saturating_add(self.limits.per_sender_window_ms);
            if now_ms < retry_at_ms {
                return Err(Throttle::SenderWindow { retry_at_ms });
            }
        }
        self.check_conversation_and_breaker(conversation, now_ms)?;
        self.last_ack.insert(sender, now_ms);
        Ok(())
    }

    /// May another automatic message (a "still working on it" note) go in `conversation`?
    /// The per-sender window is for acknowledgements only; the cap and breaker apply.
    pub fn check_and_record_note(
        &mut self,
        conversation: &str,
        now_ms: i64,
    ) -> Result<(), Throttle> {
        self.check_tripped()?;
        self.check_conversation_and_breaker(conversation, now_ms)
    }

    fn check_tripped(&self) -> Result<(), Throttle> {
        match self.tripped_since {
            Some(since_ms) => Err(Throttle::BreakerTripped {
                since_ms,
                just_now: false,
            }),
            None => Ok(()),
        }
    }

    fn check_conversation_and_breaker(
        &mut self,
        conversation: &str,
        now_ms: i64,
    ) -> Result<(), Throttle> {
        let sent = self
            .per_conversation
            .get(conversation)
            .copied()
            .unwrap_or(0);
        if sent >= self.limits.per_conversation_max {
            return Err(Throttle::ConversationCap {
                max: self.limits.per_conversation_max,
            });
        }
        let window_start = now_ms.saturating_sub(self.limits.breaker_window_ms);
        while self.recent.front().is_some_and(|&t| t <= window_start) {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.limits.breaker_max as usize {
            self.tripped_since = Some(now_ms);
            return Err(Throttle::BreakerTripped {
                since_ms: now_ms,
                just_now: true,
            });
        }
        self.recent.push_back(now_ms);
        self.per_conversation
            .insert(conversation.to_owned(), sent + 1);
        Ok(())
    }

    /// When the breaker tripped, if it is tripped.
    pub fn tripped_since(&self) -> Option<i64> {
        self.tripped_since
    }

    /// A supervisor resets the breaker; the burst count starts again.
    pub fn reset_breaker(&mut self) {
        self.tripped_since = None;
        self.recent.clear();
    }

    /// Forgets a conversation's count (it was resolved or merged away).
    pub fn forget_conversation(&mut self, conversation: &str) {
        self.per_conversation.remove(conversation);
    }

    /// Drops sender entries whose window has passed, so the state stays small.
    pub fn prune(&mut self, now_ms: i64) {
        let window = self.limits.per_sender_window_ms;
        self.last_ack
            .retain(|_, last| now_ms < last.saturating_add(window));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOUR: i64 = 60 * 60 * 1000;

    #[test]
    fn one_acknowledgement_per_sender_per_window() {
        let mut l = AutoReplyLimiter::new(AutoReplyLimits::default());
        assert_eq!(l.check_and_record("Anna@x", "c1", 0), Ok(()));
        assert_eq!(
            l.check_and_record("anna@X", "c2", HOUR),
            Err(Throttle::SenderWindow {
                retry_at_ms: 24 * HOUR
            })
        );
        assert_eq!(l.check_and_record("ben@x", "c3", HOUR), Ok(()));
        assert_eq!(l.check_and_record("anna@x", "c4", 24 * HOUR), Ok(()));
    }

    #[test]
    fn a_conversation_gets_at_most_its_cap() {
        let mut l = AutoReplyLimiter::new(AutoReplyLimits::default());
        assert_eq!(l.check_and_record("a@x", "c1", 0), Ok(()));
        assert_eq!(l.check_and_record_note("c1", HOUR), Ok(()));
        assert_eq!(
            l.check_and_record_note("c1", 2 * HOUR),
            Err(Throttle::ConversationCap { max: 2 })
        );
        l.forget_conversation("c1");
        assert_eq!(l.check_and_record_note("c1", 3 * HOUR), Ok(()));
    }

    #[test]
    fn a_burst_trips_the_breaker_until_a_supervisor_resets_it() {
        let limits = AutoReplyLimits {
            breaker_max: 3,
            breaker_window_ms: 60_000,
            ..Default::default()
        };
        let mut l = AutoReplyLimiter::new(limits);
        for i in 0..3 {
            assert_eq!(
                l.check_and_record(&format!("s{i}@x"), &format!("c{i}"), i * 1000),
                Ok(())
            );
        }
        assert_eq!(
            l.check_and_record("s9@x", "c9", 5000),
            Err(Throttle::BreakerTripped {
                since_ms: 5000,
                just_now: true
            })
        );
        // Still tripped long after the burst: only a supervisor clears it.
        assert_eq!(
            l.check_and_record("t@x", "d", 10 * HOUR),
            Err(Throttle::BreakerTripped {
                since_ms: 5000,
                just_now: false
            })
        );
        assert_eq!(l.tripped_since(), Some(5000));
        l.reset_breaker();
        assert_eq!(l.check_and_record("t@x", "d", 10 * HOUR), Ok(()));
    }

    #[test]
    fn messages_spread_out_do_not_trip_the_breaker() {
        let limits = AutoReplyLimits {
            breaker_max: 3,
            breaker_window_ms: 60_000,
            ..Default::default()
        };
        let mut l = AutoReplyLimiter::new(limits);
        for i in 0..100 {
            assert_eq!(
                l.check_and_record(&format!("s{i}@x"), &format!("c{i}"), i * 30_000),
                Ok(())
            );
        }
    }

    #[test]
    fn prune_keeps_live_windows() {
        let mut l = AutoReplyLimiter::new(AutoReplyLimits::default());
        l.check_and_record("a@x", "c1", 0).ok();
        l.check_and_record("b@x", "c2", 20 * HOUR).ok();
        l.prune(25 * HOUR);
        assert_eq!(l.last_ack.len(), 1);
        assert!(l.check_and_record("b@x", "c3", 26 * HOUR).is_err());
    }

    proptest! {
        #[test]
        fn never_more_than_one_ack_per_sender_per_window(
            steps in proptest::collection::vec((0usize..4, 0usize..6, 0i64..(6 * HOUR)), 1..200),
            window_hours in 1i64..48,
        ) {
            let limits = AutoReplyLimits {
                per_sender_window_ms: window_hours * HOUR,
                per_conversation_max: 1000,
                breaker_max: 1000,
                ..Default::default()
            };
            let mut l = AutoReplyLimiter::new(limits);
            let mut now = 0i64;
            let mut sent: Vec<(usize, i64)> = Vec::new();
            for (sender, conv, gap) in steps {
                now += gap;
                let name = if sender % 2 == 0 { format!("S{sender}@X") } else { format!("s{sender}@x") };
                if l.check_and_record(&name, &format!("c{conv}"), now).is_ok() {
                    sent.push((sender, now));
                }
            }
            for s in 0..4 {
                let times: Vec<i64> = sent.iter().filter(|(x, _)| *x == s).map(|(_, t)| *t).collect();
                for pair in times.windows(2) {
                    prop_assert!(pair[1] - pair[0] >= window_hours * HOUR);
                }
            }
        }

        #[test]
        fn the_breaker_never_lets_more_than_max_through_in_a_window(
            gaps in proptest::collection::vec(0i64..20_000, 1..300),
        ) {
            let limits = AutoReplyLimits { breaker_max: 5, breaker_window_ms: 60_000, ..Default::default() };
            let mut l = AutoReplyLimiter::new(limits);
            let mut now = 0;
            let mut sent = Vec::new();
            for (i, gap) in gaps.into_iter().enumerate() {
                now += gap;
                if l.check_and_record(&format!("s{i}@x"), &format!("c{i}"), now).is_ok() {
                    sent.push(now);
                }
            }
            for (i, &t) in sent.iter().enumerate() {
                let in_window = sent[i..].iter().filter(|&&u| u < t + 60_000).count();
                prop_assert!(in_window <= 5);
            }
        }
    }
}
