//! What can go wrong, in words a caller can act on.

use thiserror::Error;

pub type Result<T, E = CoordError> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum CoordError {
    #[error("cannot connect to PostgreSQL at {target}: {detail}")]
    Connect {
        target: String,
        /// The error and its causes ("error performing TLS handshake: invalid peer certificate: …").
        detail: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("refusing an unencrypted PostgreSQL connection to {0}: only loopback or a Unix socket may be used without TLS")]
    PlaintextRefused(String),
    /// The database refused the write (SQLSTATE 42501): row-level security or a missing
    /// grant. The message is the server's.
    #[error("{what}: not permitted by the database ({message})")]
    NotPermitted { what: &'static str, message: String },
    #[error("{what}: {name:?} is not a registered advisor")]
    UnknownAdvisor { what: &'static str, name: String },
    #[error("invalid {what}: {problem}")]
    Invalid { what: &'static str, problem: String },
    #[error("the database's coordination schema is version {found}, newer than this app knows ({known}): update Blendesk")]
    SchemaTooNew { found: i32, known: i32 },
    #[error("applying migration {version} ({name}): {source}")]
    Migration { version: i32, name: &'static str, source: tokio_postgres::Error },
    #[error("the database holds something this app cannot read: {0}")]
    Corrupt(String),
    /// Claimed and released by others every time we looked; the caller moves on and may
    /// try again later.
    #[error("{email_key} changed hands {attempts} times while we claimed it")]
    Contended { email_key: String, attempts: usize },
    #[error("the change feed's connection ended")]
    FeedClosed,
    #[error("{what}: {source}")]
    Database { what: &'static str, source: tokio_postgres::Error },
}

impl CoordError {
    /// The server's SQLSTATE, when the database refused something.
    pub fn sqlstate(&self) -> Option<&'static str> {
        match self {
            CoordError::NotPermitted { .. } => Some("42501"),
            _ => None,
        }
    }

    /// Row-level security hides the key from a foreign key error's detail: name the
    /// advisor the caller wrote.
    pub(crate) fn naming(self, advisor: &str) -> CoordError {
        match self {
            CoordError::UnknownAdvisor { what, name } if name.is_empty() => CoordError::UnknownAdvisor { what, name: advisor.to_owned() },
            other => other,
        }
    }
}

/// Turns a statement's error into a `CoordError` that names what was being done; refusals
/// by row-level security or grants become `NotPermitted`.
pub(crate) fn db(what: &'static str) -> impl FnOnce(tokio_postgres::Error) -> CoordError {
    move |source| match source.as_db_error() {
        Some(e) if e.code() == &tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE => {
            CoordError::NotPermitted { what, message: e.message().to_owned() }
        }
        Some(e) if e.code() == &tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION => {
            CoordError::UnknownAdvisor { what, name: e.detail().and_then(quoted_value).unwrap_or_default() }
        }
        Some(e) if e.code() == &tokio_postgres::error::SqlState::CHECK_VIOLATION => {
            CoordError::Invalid { what, problem: e.message().to_owned() }
        }
        _ => CoordError::Database { what, source },
    }
}

/// An error with its causes, one sentence.
pub(crate) fn with_causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let next = c.to_string();
        if !text.contains(&next) {
            text = format!("{text}: {next}");
        }
        cause = c.source();
    }
    text
}

/// `Key (owner)=(zoe) is not present in table "advisors".` → `zoe`.
fn quoted_value(detail: &str) -> Option<String> {
    let rest = detail.split(")=(").nth(1)?;
    Some(rest.split(')').next()?.to_owned())
}

/// Keys name queue emails and duties; the schema bounds them to 512 characters.
pub(crate) fn check_key(what: &'static str, key: &str) -> Result<()> {
    let problem = if key.is_empty() {
        "it is empty"
    } else if key.chars().count() > 512 {
        "it is longer than 512 characters"
    } else if key.contains('\0') {
        "it contains a NUL character"
    } else {
        return Ok(());
    };
    Err(CoordError::Invalid { what, problem: problem.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_foreign_key_detail_names_the_advisor() {
        assert_eq!(quoted_value("Key (owner)=(zoe) is not present in table \"advisors\"."), Some("zoe".into()));
        assert_eq!(quoted_value("something else"), None);
    }

    #[test]
    fn keys_are_bounded() {
        assert!(check_key("email key", "<a@b>").is_ok());
        assert!(check_key("email key", &"é".repeat(512)).is_ok());
        for bad in [String::new(), "x".repeat(513), "a\0b".into()] {
            assert!(matches!(check_key("email key", &bad), Err(CoordError::Invalid { .. })), "{bad:?}");
        }
    }
}
