//! One set of error codes for every boundary: the CLI's exit codes and the window's
//! errors (`{code, message}`, localised in the window by code) come from `ErrorCode`, so
//! a new engine error gets a code once, here, and never reaches the window as a bare
//! English message.

use crate::engine::EngineError;
use serde::Serialize;

/// What went wrong, as the window and scripts tell cases apart. Serialised snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The configuration file is missing or wrong.
    Config,
    /// No password in the keyring or the environment.
    Credentials,
    /// The IMAP server or the network.
    Imap,
    /// The SMTP server.
    Smtp,
    /// The OAuth2 grant was revoked or expired: sign in again.
    SignInRevoked,
    /// The OAuth2 sign-in failed (provider refused, browser, redirect).
    SignIn,
    /// The server's access rights (IMAP ACLs) refuse it.
    NotPermitted,
    /// The server keeps no more keywords in a folder (Cyrus).
    KeywordLimit,
    /// The server lacks what team mode needs (CONDSTORE, keywords).
    Unsupported,
    /// The message is not (or no longer) in the mirror, or its folder was rebuilt.
    Missing,
    /// A rule refused it: not your conversation, not a supervisor, over a limit.
    Forbidden,
    /// The input is not valid (an unfilled placeholder, a bad document, an empty reply).
    Invalid,
    /// The local database.
    Store,
    /// A bug: tell the developers.
    Internal,
    /// The team's coordination database (PostgreSQL) failed or refused.
    Coordination,
    // The window's own: not from the engine.
    /// The engine has not started (or failed to).
    Starting,
    /// Email is paused during a call or wrap-up.
    Paused,
    /// Remote images could not be loaded.
    Images,
    /// The browser or dialer could not be started.
    Open,
    /// The OS keyring refused.
    Keyring,
    /// A local file could not be read or written.
    Io,
}

impl ErrorCode {
    /// Every code, for the window's table of messages (generated into the UI's contract;
    /// the contract test fails if one is missing here).
    pub const ALL: [ErrorCode; 21] = [
        ErrorCode::Config,
        ErrorCode::Credentials,
        ErrorCode::SignInRevoked,
        ErrorCode::SignIn,
        ErrorCode::Imap,
        ErrorCode::Smtp,
        ErrorCode::NotPermitted,
        ErrorCode::KeywordLimit,
        ErrorCode::Unsupported,
        ErrorCode::Missing,
        ErrorCode::Forbidden,
        ErrorCode::Invalid,
        ErrorCode::Store,
        ErrorCode::Internal,
        ErrorCode::Coordination,
        ErrorCode::Starting,
        ErrorCode::Paused,
        ErrorCode::Images,
        ErrorCode::Open,
        ErrorCode::Keyring,
        ErrorCode::Io,
    ];

    /// The `blendesk` command's exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorCode::Config => 2,
            ErrorCode::Credentials | ErrorCode::Keyring | ErrorCode::SignInRevoked | ErrorCode::SignIn => 3,
            ErrorCode::Imap | ErrorCode::Smtp | ErrorCode::Coordination => 4,
            ErrorCode::NotPermitted => 5,
            ErrorCode::KeywordLimit => 6,
            _ => 1,
        }
    }
}

impl EngineError {
    pub fn code(&self) -> ErrorCode {
        match self {
            EngineError::Config(_) => ErrorCode::Config,
            EngineError::Credentials(_) => ErrorCode::Credentials,
            EngineError::SignInRevoked(_) => ErrorCode::SignInRevoked,
            EngineError::SignIn(_) => ErrorCode::SignIn,
            EngineError::Imap(_) => ErrorCode::Imap,
            EngineError::Smtp(_) => ErrorCode::Smtp,
            EngineError::NotPermitted { .. } => ErrorCode::NotPermitted,
            EngineError::KeywordLimit { .. } => ErrorCode::KeywordLimit,
            EngineError::MissingCapability(_) | EngineError::NoKeywords(_) => ErrorCode::Unsupported,
            EngineError::NoSuchMessage(_) | EngineError::Stale(_) => ErrorCode::Missing,
            EngineError::Policy(_) | EngineError::Park(_) => ErrorCode::Forbidden,
            EngineError::Conversation(_) => ErrorCode::Invalid,
            EngineError::Compose(_) | EngineError::Document(_) | EngineError::Template(_) => ErrorCode::Invalid,
            EngineError::Store(_) => ErrorCode::Store,
            EngineError::Paused => ErrorCode::Paused,
            EngineError::EmptyReply => ErrorCode::Invalid,
            EngineError::Internal(_) => ErrorCode::Internal,
            EngineError::Coordination(_) => ErrorCode::Coordination,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        let cases = [
            (EngineError::Smtp("x".into()), 4),
            (EngineError::NotPermitted { user: "a".into(), action: "b", folder: "c".into(), hint: "d" }, 5),
            (EngineError::KeywordLimit { folder: "INBOX".into(), count: 100 }, 6),
            (EngineError::Policy("no".into()), 1),
        ];
        for (e, code) in cases {
            assert_eq!(e.code().exit_code(), code, "{e}");
        }
        assert_eq!(serde_json::to_string(&ErrorCode::KeywordLimit).unwrap(), "\"keyword_limit\"");
    }
}
