//! Passwords: from the environment (headless runs and tests) or the OS keyring. Never
//! from the config file, never written to the database or the logs, and no plaintext
//! fallback when the keyring is missing.

use thiserror::Error;

pub const SERVICE: &str = "blendesk";
pub const IMAP_ENV: &str = "BLENDESK_IMAP_PASSWORD";
pub const SMTP_ENV: &str = "BLENDESK_SMTP_PASSWORD";
/// The advisor's login to the team's PostgreSQL (`[coordination] backend = "postgres"`).
pub const PG_ENV: &str = "BLENDESK_PG_PASSWORD";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account {
    Imap,
    Smtp,
    Postgres,
}

impl Account {
    fn env(self) -> &'static str {
        match self {
            Self::Imap => IMAP_ENV,
            Self::Smtp => SMTP_ENV,
            Self::Postgres => PG_ENV,
        }
    }
    fn label(self) -> &'static str {
        match self {
            Self::Imap => "IMAP",
            Self::Smtp => "SMTP",
            Self::Postgres => "PostgreSQL",
        }
    }
    /// The keyring entry's user name, e.g. `imap:support@mail.shop.test`.
    pub fn keyring_user(self, username: &str, host: &str) -> String {
        format!("{}:{username}@{host}", self.label().to_lowercase())
    }
}

#[derive(Debug, Error)]
pub enum CredentialError {
    #[error("no {label} password for {user}: store it in the OS keyring (service \"blendesk\", user \"{entry}\") or set {env}")]
    NotStored { label: &'static str, user: String, entry: String, env: &'static str },
    #[error("the OS keyring is not available ({reason}): start a Secret Service (e.g. gnome-keyring) or set {env} for a headless run")]
    NoKeyring { reason: String, env: &'static str },
}

/// The password for `account`, from `$BLENDESK_*_PASSWORD` or the OS keyring.
/// Blocking (the keyring talks D-Bus): call from a blocking context.
pub fn password(account: Account, username: &str, host: &str) -> Result<String, CredentialError> {
    if let Ok(pw) = std::env::var(account.env()) {
        if !pw.is_empty() {
            return Ok(pw);
        }
    }
    let entry_user = account.keyring_user(username, host);
    let no_keyring = |e: keyring::Error| CredentialError::NoKeyring { reason: e.to_string(), env: account.env() };
    let entry = keyring::Entry::new(SERVICE, &entry_user).map_err(no_keyring)?;
    match entry.get_password() {
        Ok(pw) => Ok(pw),
        Err(keyring::Error::NoEntry) => {
            Err(CredentialError::NotStored { label: account.label(), user: username.to_owned(), entry: entry_user, env: account.env() })
        }
        Err(e) => Err(no_keyring(e)),
    }
}

/// Store a password in the OS keyring (first-run setup).
pub fn store_password(account: Account, username: &str, host: &str, password: &str) -> Result<(), CredentialError> {
    let no_keyring = |e: keyring::Error| CredentialError::NoKeyring { reason: e.to_string(), env: account.env() };
    let entry = keyring::Entry::new(SERVICE, &account.keyring_user(username, host)).map_err(no_keyring)?;
    entry.set_password(password).map_err(no_keyring)
}
