//! The outbox's states and the rules for moving between them.
//!
//! A reply is stored with its final bytes before the first SMTP attempt; after a crash a
//! row left in `Sending` is retried with the same bytes (at-least-once delivery with a
//! stable Message-ID, so a rare duplicate is recognisable).

use crate::transport::SmtpOutcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    Queued,
    Sending,
    Sent,
    Failed,
}

impl OutboxState {
    pub const ALL: [OutboxState; 4] = [Self::Queued, Self::Sending, Self::Sent, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// Attempts after which a temporarily failing reply is shown as failed.
pub const MAX_ATTEMPTS: u32 = 12;

/// What to do after an SMTP attempt (`attempts` counts this one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterAttempt {
    MarkSent,
    RetryLater,
    MarkFailed { reason: String },
}

pub fn after_attempt(outcome: &SmtpOutcome, attempts: u32) -> AfterAttempt {
    match outcome {
        SmtpOutcome::Accepted => AfterAttempt::MarkSent,
        SmtpOutcome::Permanent { reason } => AfterAttempt::MarkFailed { reason: reason.clone() },
        SmtpOutcome::Temporary { reason } if attempts >= MAX_ATTEMPTS => {
            AfterAttempt::MarkFailed { reason: format!("gave up after {attempts} attempts; last error: {reason}") }
        }
        SmtpOutcome::Temporary { .. } => AfterAttempt::RetryLater,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_text() {
        for s in OutboxState::ALL {
            assert_eq!(OutboxState::parse(s.as_str()), Some(s));
        }
        assert_eq!(OutboxState::parse("lost"), None);
    }

    #[test]
    fn temporary_failures_retry_until_the_limit() {
        let t = SmtpOutcome::Temporary { reason: "451 try later".into() };
        assert_eq!(after_attempt(&t, 1), AfterAttempt::RetryLater);
        assert_eq!(after_attempt(&t, MAX_ATTEMPTS - 1), AfterAttempt::RetryLater);
        assert!(matches!(after_attempt(&t, MAX_ATTEMPTS), AfterAttempt::MarkFailed { .. }));
    }

    #[test]
    fn permanent_failures_keep_the_server_reason() {
        let p = SmtpOutcome::Permanent { reason: "550 mailbox unavailable".into() };
        assert_eq!(after_attempt(&p, 1), AfterAttempt::MarkFailed { reason: "550 mailbox unavailable".into() });
        assert_eq!(after_attempt(&SmtpOutcome::Accepted, 3), AfterAttempt::MarkSent);
    }
}
