//! Transport security rules and the classification of SMTP results.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    Tls,
    Starttls,
    Plain,
}

/// Plain-text connections expose the password: allowed only to this machine.
pub fn plain_allowed(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<std::net::IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}

/// The result of one SMTP attempt, as the outbox rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpOutcome {
    Accepted,
    /// 4xx replies, refused or dropped connections: try again later.
    Temporary {
        reason: String,
    },
    /// 5xx replies: the server will never take this message.
    Permanent {
        reason: String,
    },
}

/// Classify a numeric SMTP reply code.
pub fn classify_reply(code: u16, text: &str) -> SmtpOutcome {
    let reason = format!("{code} {}", text.trim());
    match code {
        200..=399 => SmtpOutcome::Accepted,
        500..=599 => SmtpOutcome::Permanent { reason },
        _ => SmtpOutcome::Temporary { reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_only_to_loopback() {
        for ok in ["127.0.0.1", "localhost", "::1", "[::1]", "127.1.2.3"] {
            assert!(plain_allowed(ok), "{ok}");
        }
        for bad in ["mail.shop.test", "10.0.0.1", "192.168.1.1", "localhost.evil.test", ""] {
            assert!(!plain_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn smtp_codes_classified() {
        assert_eq!(classify_reply(250, "ok"), SmtpOutcome::Accepted);
        assert!(matches!(classify_reply(421, "bye"), SmtpOutcome::Temporary { .. }));
        assert!(matches!(classify_reply(451, "later"), SmtpOutcome::Temporary { .. }));
        assert_eq!(classify_reply(550, "no such user "), SmtpOutcome::Permanent { reason: "550 no such user".into() });
    }
}
