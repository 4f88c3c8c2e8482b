//! Advisor identity.

use thiserror::Error;

/// An advisor id: `[a-z0-9_]{1,32}`. It names the advisor's IMAP owner keyword, so the
/// alphabet is restricted to what every IMAP server accepts in a keyword.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AdvisorId(String);

#[derive(Debug, Error, PartialEq, Eq)]
#[error("advisor id {0:?} is invalid: use 1 to 32 characters from a-z, 0-9 and _")]
pub struct InvalidAdvisorId(pub String);

impl AdvisorId {
    pub fn parse(s: &str) -> Result<Self, InvalidAdvisorId> {
        let ok = (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidAdvisorId(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AdvisorId {
    type Error = InvalidAdvisorId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<AdvisorId> for String {
    fn from(id: AdvisorId) -> String {
        id.0
    }
}

impl std::fmt::Display for AdvisorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        for ok in ["alice", "a", "bob_2", &"x".repeat(32)] {
            assert!(AdvisorId::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for bad in ["", "Alice", "al ice", "al-ice", "ålice", "a\\b", &"x".repeat(33), "a)b"] {
            assert_eq!(AdvisorId::parse(bad), Err(InvalidAdvisorId(bad.to_owned())));
        }
    }
}
