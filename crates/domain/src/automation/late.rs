//! "Still working on it": when a conversation's SLA is breached, the customer gets one
//! note and the conversation is marked for supervisors. Which conversations qualify is
//! decided here from what the mirror knows; the engine takes the duty and sends.

use crate::automation::sla::SlaLevel;

/// "The still-working note is taken care of": set by the app holding the duty, which
/// is decided like the acknowledgement's (`crate::automation::duty`). One fixed name.
pub const LATE_KEYWORD: &str = "$bd_late";

/// Earlier versions' per-holder name, `$bd_late_<id>`. Still read.
pub const LATE_PREFIX: &str = "$bd_late_";

/// Set on the server on the message whose clock breached, so every app (and the
/// supervisor's) sees the breach, whatever its own clock says.
pub const BREACHED_KEYWORD: &str = "$bd_breached";

/// A breach older than this when an app first notices it gets the keyword but no note:
/// a team installing Blendesk on a busy mailbox must not send a burst of notes about
/// promises broken this morning. Running apps notice a breach within seconds (clocks
/// only breach in open hours, when the team's apps run), so an hour loses no real note.
pub const LATE_MAX_AGE_MS: i64 = 3600 * 1000;

pub fn is_late_flag(flag: &str) -> bool {
    flag.eq_ignore_ascii_case(LATE_KEYWORD) || flag.get(..LATE_PREFIX.len()).is_some_and(|h| h.eq_ignore_ascii_case(LATE_PREFIX))
}

pub fn is_breached_flag(flag: &str) -> bool {
    flag.eq_ignore_ascii_case(BREACHED_KEYWORD)
}

/// What the rule needs to know about one conversation with a running clock.
#[derive(Debug, Clone)]
pub struct LateCandidate<'a> {
    pub level: SlaLevel,
    pub due_ms: Option<i64>,
    /// The RFC 3834 verdict of the message the note would answer ("acknowledge" or
    /// "skip:…"): a note answers a person, never an automatic message.
    pub verdict: &'a str,
    /// Some message of this conversation already carries a `$bd_late_` keyword: one note
    /// per conversation, ever.
    pub already_noted: bool,
}

/// Why no note goes (the conversation may still be marked breached).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LateSkip {
    NotBreached,
    AlreadyNoted,
    Headers(String),
    BreachTooOld,
}

/// Should the "still working on it" note go now?
pub fn should_send_still_working(c: &LateCandidate<'_>, now_ms: i64) -> Result<(), LateSkip> {
    if c.level != SlaLevel::Breached {
        return Err(LateSkip::NotBreached);
    }
    if c.already_noted {
        return Err(LateSkip::AlreadyNoted);
    }
    if c.verdict != "acknowledge" {
        return Err(LateSkip::Headers(c.verdict.trim_start_matches("skip:").to_owned()));
    }
    match c.due_ms {
        Some(due) if now_ms.saturating_sub(due) <= LATE_MAX_AGE_MS => Ok(()),
        _ => Err(LateSkip::BreachTooOld),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(level: SlaLevel) -> LateCandidate<'static> {
        LateCandidate { level, due_ms: Some(1_000_000), verdict: "acknowledge", already_noted: false }
    }

    #[test]
    fn a_fresh_breach_gets_one_note() {
        assert_eq!(should_send_still_working(&c(SlaLevel::Breached), 1_000_000), Ok(()));
        assert_eq!(should_send_still_working(&c(SlaLevel::Breached), 1_000_000 + LATE_MAX_AGE_MS), Ok(()));
    }

    #[test]
    fn everything_else_is_skipped_with_a_reason() {
        assert_eq!(should_send_still_working(&c(SlaLevel::Ok), 0), Err(LateSkip::NotBreached));
        assert_eq!(should_send_still_working(&c(SlaLevel::AtRisk), 2_000_000), Err(LateSkip::NotBreached));
        let mut noted = c(SlaLevel::Breached);
        noted.already_noted = true;
        assert_eq!(should_send_still_working(&noted, 1_000_000), Err(LateSkip::AlreadyNoted));
        let mut auto = c(SlaLevel::Breached);
        auto.verdict = "skip:Auto-Submitted: auto-replied";
        assert_eq!(should_send_still_working(&auto, 1_000_000), Err(LateSkip::Headers("Auto-Submitted: auto-replied".into())));
        assert_eq!(should_send_still_working(&c(SlaLevel::Breached), 1_000_001 + LATE_MAX_AGE_MS), Err(LateSkip::BreachTooOld));
        let mut never = c(SlaLevel::Breached);
        never.due_ms = None;
        assert_eq!(should_send_still_working(&never, 0), Err(LateSkip::BreachTooOld));
    }

    #[test]
    fn keywords_are_recognised_case_insensitively() {
        assert!(is_late_flag(LATE_KEYWORD) && is_late_flag("$BD_Late"));
        assert!(is_late_flag("$BD_LATE_bob"));
        assert!(!is_late_flag("$bd_latex"));
        assert!(!is_late_flag("$bd_lat"));
        assert!(!is_late_flag("$bd_ack_bob"));
        assert!(is_breached_flag("$BD_Breached"));
    }
}
