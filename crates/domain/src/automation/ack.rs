//! Which queue messages get the team's one acknowledgement, decided from what the
//! mirror knows. Pure: the engine passes the messages and the time in.

use crate::automation::sla::{due_at, BusinessCalendar, OpenHours};
use chrono::{DateTime, Utc};

/// Keywords marking "this message's acknowledgement is taken care of": the team-wide
/// duty, claimed with the same compare-and-swap as ownership. Each app takes
/// `$bd_ack_<advisor id>`; whoever holds the one keyword of this prefix sends it.
pub const ACK_PREFIX: &str = "$bd_ack_";

/// More than this many acknowledgements within `BREAKER_WINDOW_MS` trips the breaker:
/// automatic mail stops and supervisors are told.
pub const BREAKER_MAX: usize = 50;
pub const BREAKER_WINDOW_MS: i64 = 10 * 60 * 1000;

pub fn ack_keyword(advisor: &crate::advisor::AdvisorId) -> String {
    format!("{ACK_PREFIX}{advisor}")
}

pub fn is_ack_flag(flag: &str) -> bool {
    flag.len() >= ACK_PREFIX.len() && flag[..ACK_PREFIX.len()].eq_ignore_ascii_case(ACK_PREFIX)
}

/// Mail older than this when an app first sees it is never acknowledged: a first sync
/// of an existing mailbox must not answer yesterday's mail.
pub const ACK_MAX_AGE_MS: i64 = 15 * 60 * 1000;

/// What the rule needs to know about one mirrored queue message.
#[derive(Debug, Clone)]
pub struct AckCandidate<'a> {
    pub sender: &'a str,
    pub received_ms: i64,
    /// The RFC 3834 verdict from the headers ("acknowledge" or "skip:…").
    pub verdict: &'a str,
    /// It threads to a message we already have (a reply in a known conversation).
    pub threads_to_known: bool,
    pub already_acknowledged: bool,
}

/// Why a message gets no acknowledgement (beyond the header rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckSkip {
    Headers(String),
    TooOld,
    KnownConversation,
    SenderAcknowledgedRecently,
    Done,
}

/// Should `c` be acknowledged now? `sender_last_ack_ms` is when this sender last got an
/// acknowledgement (team-wide, from the mirror's keywords); `window_ms` is the per-sender
/// window.
pub fn should_acknowledge(c: &AckCandidate<'_>, now_ms: i64, sender_last_ack_ms: Option<i64>, window_ms: i64) -> Result<(), AckSkip> {
    if c.already_acknowledged {
        return Err(AckSkip::Done);
    }
    if c.verdict != "acknowledge" {
        return Err(AckSkip::Headers(c.verdict.trim_start_matches("skip:").to_owned()));
    }
    if now_ms - c.received_ms > ACK_MAX_AGE_MS {
        return Err(AckSkip::TooOld);
    }
    if c.threads_to_known {
        return Err(AckSkip::KnownConversation);
    }
    if sender_last_ack_ms.is_some_and(|t| now_ms - t < window_ms) {
        return Err(AckSkip::SenderAcknowledgedRecently);
    }
    Ok(())
}

/// The default calendar until per-queue calendars are in the policy: Monday to Friday,
/// 09:00–18:00 UTC.
pub fn default_calendar() -> BusinessCalendar {
    BusinessCalendar::weekdays(chrono_tz::UTC, &[OpenHours::hm(9, 0, 18, 0)], [])
        .unwrap_or_else(|_| unreachable!("09:00-18:00 is a valid day"))
}

/// When a human will answer, as promised in the acknowledgement: the first-response
/// target (business minutes) counted from `received_ms` on `calendar`.
pub fn promised_by(received_ms: i64, target_minutes: i64, calendar: &BusinessCalendar) -> Option<DateTime<Utc>> {
    let received = DateTime::<Utc>::from_timestamp_millis(received_ms)?;
    due_at(received, target_minutes, calendar)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(verdict: &str) -> AckCandidate<'_> {
        AckCandidate { sender: "a@example.com", received_ms: 1_000_000, verdict, threads_to_known: false, already_acknowledged: false }
    }

    #[test]
    fn fresh_new_conversations_from_people_are_acknowledged() {
        assert_eq!(should_acknowledge(&c("acknowledge"), 1_000_500, None, 86_400_000), Ok(()));
    }

    #[test]
    fn everything_else_is_skipped_with_a_reason() {
        assert_eq!(
            should_acknowledge(&c("skip:Auto-Submitted: auto-replied"), 1_000_500, None, 86_400_000),
            Err(AckSkip::Headers("Auto-Submitted: auto-replied".into()))
        );
        assert_eq!(should_acknowledge(&c("acknowledge"), 1_000_000 + ACK_MAX_AGE_MS + 1, None, 86_400_000), Err(AckSkip::TooOld));
        let mut known = c("acknowledge");
        known.threads_to_known = true;
        assert_eq!(should_acknowledge(&known, 1_000_500, None, 86_400_000), Err(AckSkip::KnownConversation));
        assert_eq!(
            should_acknowledge(&c("acknowledge"), 1_000_500, Some(1_000_000 - 3_600_000), 86_400_000),
            Err(AckSkip::SenderAcknowledgedRecently)
        );
        let mut done = c("acknowledge");
        done.already_acknowledged = true;
        assert_eq!(should_acknowledge(&done, 1_000_500, None, 86_400_000), Err(AckSkip::Done));
    }

    #[test]
    fn the_promise_follows_business_hours() {
        // Friday 2026-11-27 17:00 UTC + 4 business hours = Monday 12:00 UTC.
        let friday = DateTime::parse_from_rfc3339("2026-11-27T17:00:00Z").unwrap().timestamp_millis();
        let due = promised_by(friday, 240, &default_calendar()).unwrap();
        assert_eq!(due.to_rfc3339(), "2026-11-30T12:00:00+00:00");
    }
}
