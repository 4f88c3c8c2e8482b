//! Which queue messages get the team's one acknowledgement, decided from what the
//! mirror knows. Pure: the engine passes the messages and the time in.

use crate::automation::sla::{due_at, BusinessCalendar, OpenHours};
use chrono::{DateTime, Utc};

/// "This message's acknowledgement is taken care of", set on the email by the app that
/// holds the duty (`automation::duty`: bids in a folder of their own decide who), so
/// the other apps skip it. One fixed name for the whole team.
pub const ACK_KEYWORD: &str = "$bd_ack";

/// Earlier versions took the duty with a compare-and-swap under the holder's own name,
/// `$bd_ack_<id>` (two names per advisor in every queue folder). Still read.
pub const ACK_PREFIX: &str = "$bd_ack_";

/// More than this many acknowledgements within `BREAKER_WINDOW_MS` trips the breaker:
/// automatic mail stops and supervisors are told.
pub const BREAKER_MAX: usize = 50;
pub const BREAKER_WINDOW_MS: i64 = 10 * 60 * 1000;

pub fn is_ack_flag(flag: &str) -> bool {
    flag.eq_ignore_ascii_case(ACK_KEYWORD) || flag.get(..ACK_PREFIX.len()).is_some_and(|h| h.eq_ignore_ascii_case(ACK_PREFIX))
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
    /// It joins a conversation that is still open (a chaser from the same customer, or
    /// an email merged into one): the customer already has our promise.
    pub joins_open_conversation: bool,
    pub already_acknowledged: bool,
    /// Resolved before any app got to it: answered already, or needing no answer.
    pub resolved: bool,
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
    if c.already_acknowledged || c.resolved {
        return Err(AckSkip::Done);
    }
    if c.verdict != "acknowledge" {
        return Err(AckSkip::Headers(c.verdict.trim_start_matches("skip:").to_owned()));
    }
    if now_ms - c.received_ms > ACK_MAX_AGE_MS {
        return Err(AckSkip::TooOld);
    }
    if c.threads_to_known || c.joins_open_conversation {
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

/// Who is on shift to answer, from the team's presence: what the promise depends on
/// beyond the calendar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShiftCapacity {
    /// Advisors present and taking email now or soon (available, on a call, in wrap-up).
    pub advisors_on_shift: u32,
    /// Conversations they can still take on before reaching their caps.
    pub free_slots: u32,
    /// The sum of their caps: how many conversations they work on at once.
    pub team_cap: u32,
    /// Unowned open conversations already waiting in the queue ahead of this one.
    pub waiting_ahead: u32,
}

/// The reply time the acknowledgement promises. The queue's first-response target is
/// counted in business time from the message, as the SLA clock does; then:
/// - nobody on shift: from the next business opening after `now_ms` instead (nobody is
///   there to answer before it);
/// - more conversations waiting than free slots: each further round of `team_cap`
///   conversations adds `handle_minutes` of business time.
///
/// Never earlier than the SLA's own due time.
pub fn expected_reply_by(
    received_ms: i64,
    now_ms: i64,
    first_response_minutes: i64,
    handle_minutes: i64,
    calendar: &BusinessCalendar,
    capacity: &ShiftCapacity,
) -> Option<DateTime<Utc>> {
    let received = DateTime::<Utc>::from_timestamp_millis(received_ms)?;
    let now = DateTime::<Utc>::from_timestamp_millis(now_ms)?.max(received);
    let start = if capacity.advisors_on_shift == 0 { calendar.next_opening(now).unwrap_or(received) } else { received };
    let extra_minutes = if capacity.advisors_on_shift > 0 && capacity.waiting_ahead >= capacity.free_slots {
        let beyond = i64::from(capacity.waiting_ahead - capacity.free_slots);
        let rounds = beyond / i64::from(capacity.team_cap.max(1)) + 1;
        rounds.saturating_mul(handle_minutes.max(0))
    } else {
        0
    };
    due_at(start, first_response_minutes.saturating_add(extra_minutes), calendar)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(verdict: &str) -> AckCandidate<'_> {
        AckCandidate {
            sender: "a@example.com",
            received_ms: 1_000_000,
            verdict,
            threads_to_known: false,
            joins_open_conversation: false,
            already_acknowledged: false,
            resolved: false,
        }
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
        // A chaser with a new subject, days after the sender's window: still no second
        // acknowledgement while the conversation is open.
        let mut chaser = c("acknowledge");
        chaser.joins_open_conversation = true;
        assert_eq!(should_acknowledge(&chaser, 1_000_500, Some(1_000_000 - 3 * 86_400_000), 86_400_000), Err(AckSkip::KnownConversation));
        assert_eq!(
            should_acknowledge(&c("acknowledge"), 1_000_500, Some(1_000_000 - 3_600_000), 86_400_000),
            Err(AckSkip::SenderAcknowledgedRecently)
        );
        let mut done = c("acknowledge");
        done.already_acknowledged = true;
        assert_eq!(should_acknowledge(&done, 1_000_500, None, 86_400_000), Err(AckSkip::Done));
        // Resolved before any app got to it (answered by phone, closed as spam).
        let mut resolved = c("acknowledge");
        resolved.resolved = true;
        assert_eq!(should_acknowledge(&resolved, 1_000_500, None, 86_400_000), Err(AckSkip::Done));
    }

    #[test]
    fn the_promise_follows_business_hours() {
        // Friday 2026-11-27 17:00 UTC + 4 business hours = Monday 12:00 UTC.
        let friday = DateTime::parse_from_rfc3339("2026-11-27T17:00:00Z").unwrap().timestamp_millis();
        let due = promised_by(friday, 240, &default_calendar()).unwrap();
        assert_eq!(due.to_rfc3339(), "2026-11-30T12:00:00+00:00");
    }

    fn at(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    fn shift(on: u32, free: u32, cap: u32, waiting: u32) -> ShiftCapacity {
        ShiftCapacity { advisors_on_shift: on, free_slots: free, team_cap: cap, waiting_ahead: waiting }
    }

    #[test]
    fn the_promise_is_the_target_when_advisors_have_room() {
        // Monday 2026-11-30 10:00 UTC, two advisors with four free slots, one waiting.
        let t = at("2026-11-30T10:00:00Z");
        let due = expected_reply_by(t, t, 240, 15, &default_calendar(), &shift(2, 4, 6, 1)).unwrap();
        assert_eq!(due.to_rfc3339(), "2026-11-30T14:00:00+00:00");
    }

    #[test]
    fn nobody_on_shift_means_the_next_opening_plus_the_target() {
        // Monday 10:00, open, but nobody there: Tuesday 09:00 + 4 h.
        let t = at("2026-11-30T10:00:00Z");
        let due = expected_reply_by(t, t, 240, 15, &default_calendar(), &shift(0, 0, 0, 0)).unwrap();
        assert_eq!(due.to_rfc3339(), "2026-12-01T13:00:00+00:00");
        // Saturday: Monday 09:00 + 4 h, the same as the SLA itself.
        let sat = at("2026-11-28T11:00:00Z");
        let due = expected_reply_by(sat, sat, 240, 15, &default_calendar(), &shift(0, 0, 0, 0)).unwrap();
        assert_eq!(due.to_rfc3339(), "2026-11-30T13:00:00+00:00");
    }

    #[test]
    fn a_backlog_beyond_free_capacity_pushes_the_promise_out() {
        let t = at("2026-11-30T10:00:00Z");
        let cal = default_calendar();
        // 2 free slots, 2 waiting: this one is in the next round → +15 min.
        let due = expected_reply_by(t, t, 240, 15, &cal, &shift(2, 2, 6, 2)).unwrap();
        assert_eq!(due.to_rfc3339(), "2026-11-30T14:15:00+00:00");
        // 2 free, 14 waiting, team works on 6 at a time: 12 beyond → 3 rounds → +45 min.
        let due = expected_reply_by(t, t, 240, 15, &cal, &shift(2, 2, 6, 14)).unwrap();
        assert_eq!(due.to_rfc3339(), "2026-11-30T14:45:00+00:00");
        // Late in the day the extra time runs into the next morning.
        let late = at("2026-11-30T17:00:00Z");
        let due = expected_reply_by(late, late, 240, 60, &cal, &shift(1, 0, 3, 0)).unwrap();
        assert_eq!(due.to_rfc3339(), "2026-12-01T13:00:00+00:00");
    }
}
