//! The configuration file (TOML at the XDG config path, or `--config FILE`).
//! Passwords are never here: see `credentials`.

use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::transport::{plain_allowed, Security};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Unknown keys are accepted (other tools may add their own), except passwords.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    pub advisor: AdvisorSection,
    pub imap: ImapSection,
    pub smtp: SmtpSection,
    pub store: StoreSection,
    /// OAuth2 sign-in instead of passwords (`oauth::OAuthSection`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<crate::oauth::OAuthSection>,
    /// Who coordinates the team: the mailbox (default) or PostgreSQL (`coordination.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordination: Option<crate::coordination::CoordinationSection>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdvisorSection {
    pub id: AdvisorId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImapSection {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    #[serde(default = "default_queues")]
    pub queues: Vec<String>,
    #[serde(default = "default_sent")]
    pub sent: String,
    /// Where the team's own folders live (`<team_folders>/Policy`, `/Presence`, ...).
    /// `Blendesk` when everyone logs in to the support mailbox itself; with a shared
    /// mailbox and per-advisor logins (IMAP ACLs), its shared name, e.g.
    /// `shared/support/Blendesk` — queues and Sent are then `shared/support/INBOX` etc.
    #[serde(default = "default_team_folders")]
    pub team_folders: String,
    /// A PEM file of a certificate authority to trust besides the public ones (a
    /// company's own CA), for TLS and STARTTLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmtpSection {
    pub host: String,
    pub port: u16,
    pub security: Security,
    #[serde(default)]
    pub username: String,
    /// The team address replies come from, e.g. `Shop Support <support@shop.test>`.
    pub from: String,
    /// As `imap.ca_file`, for the submission server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreSection {
    pub path: PathBuf,
}

fn default_queues() -> Vec<String> {
    vec!["INBOX".to_owned()]
}

fn default_sent() -> String {
    "Sent".to_owned()
}

fn default_team_folders() -> String {
    "Blendesk".to_owned()
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("no configuration at {0}: create it (see README) or pass --config FILE")]
    Missing(PathBuf),
    #[error("cannot read the configuration {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("configuration {path} is not valid: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

/// `$XDG_CONFIG_HOME/blendesk/config.toml`, falling back to `~/.config/blendesk/config.toml`.
pub fn default_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from(".config"));
    base.join("blendesk").join("config.toml")
}

impl Config {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ConfigError::Missing(path.to_owned())),
            Err(e) => return Err(ConfigError::Unreadable { path: path.to_owned(), reason: e.to_string() }),
        };
        Self::parse(&text).map_err(|reason| ConfigError::Invalid { path: path.to_owned(), reason })
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let value: toml::Table = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        if let Some(key) = find_password_key(&value) {
            return Err(format!(
                "{key}: passwords do not belong in the config file, nor do tokens; store them in the OS keyring or set {} / {} / {}",
                crate::credentials::IMAP_ENV,
                crate::credentials::SMTP_ENV,
                crate::oauth::REFRESH_ENV
            ));
        }
        let config: Config = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.imap.host.trim().is_empty() || self.smtp.host.trim().is_empty() {
            return Err("imap.host and smtp.host must be set".into());
        }
        if self.imap.security == Security::Plain && !plain_allowed(&self.imap.host) {
            return Err(format!("imap.security = \"plain\" is allowed only for this machine (loopback), not {}", self.imap.host));
        }
        if self.smtp.security == Security::Plain && !plain_allowed(&self.smtp.host) {
            return Err(format!("smtp.security = \"plain\" is allowed only for this machine (loopback), not {}", self.smtp.host));
        }
        if self.imap.queues.is_empty() {
            return Err("imap.queues must name at least one folder".into());
        }
        for folder in self.imap.queues.iter().chain([&self.imap.sent]) {
            if folder.is_empty() || folder.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
                return Err(format!("folder name {folder:?} is not allowed"));
            }
        }
        if self.imap.queues.contains(&self.imap.sent) {
            return Err(format!("the Sent folder {:?} cannot also be a queue", self.imap.sent));
        }
        if self.imap.team_folders.trim_matches('/').trim().is_empty() {
            return Err("imap.team_folders must name a folder (default \"Blendesk\")".into());
        }
        if let Some(crate::coordination::CoordinationSection::Postgres(pg)) = &self.coordination {
            pg.validate()?;
        }
        if let Some(oauth) = &self.oauth {
            oauth.validate()?;
        }
        if self.from_address().is_none() {
            return Err(format!("smtp.from {:?} is not an address like \"Shop Support <support@shop.test>\"", self.smtp.from));
        }
        Ok(())
    }

    /// The bare address of `smtp.from`.
    pub fn from_address(&self) -> Option<String> {
        let f = self.smtp.from.trim();
        let addr = match (f.rfind('<'), f.rfind('>')) {
            (Some(a), Some(b)) if a < b => &f[a + 1..b],
            _ => f,
        };
        let addr = addr.trim();
        let (local, domain) = addr.split_once('@')?;
        let ok = !local.is_empty() && !domain.is_empty() && !addr.chars().any(|c| c.is_whitespace() || c.is_control());
        ok.then(|| addr.to_lowercase())
    }

    /// A team folder by its leaf name: `team_folder("Policy")` = `Blendesk/Policy`.
    pub fn team_folder(&self, leaf: &str) -> String {
        format!("{}/{leaf}", self.imap.team_folders.trim_end_matches('/'))
    }

    /// Folders mirrored: the queues, then Sent.
    pub fn folders(&self) -> Vec<String> {
        let mut f = self.imap.queues.clone();
        f.push(self.imap.sent.clone());
        f
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

fn find_password_key(table: &toml::Table) -> Option<String> {
    for (k, v) in table {
        let k_lower = k.to_ascii_lowercase();
        if k_lower.contains("password") || k_lower.contains("secret") || k_lower.contains("token") {
            return Some(k.clone());
        }
        if let Some(t) = v.as_table() {
            if let Some(inner) = find_password_key(t) {
                return Some(format!("{k}.{inner}"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[advisor]
id = "alice"
name = "Alice Chen"
[imap]
host = "127.0.0.1"
port = 14143
security = "plain"
username = "support"
queues = ["INBOX", "Billing"]
sent = "Sent"
[smtp]
host = "127.0.0.1"
port = 12525
security = "plain"
username = "support"
from = "Shop Support <support@shop.test>"
[store]
path = "/tmp/x.db"
"#;

    #[test]
    fn the_documented_shape_parses() {
        let c = Config::parse(GOOD).unwrap();
        assert_eq!(c.advisor.id.as_str(), "alice");
        assert_eq!(c.folders(), vec!["INBOX", "Billing", "Sent"]);
        assert_eq!(c.from_address().as_deref(), Some("support@shop.test"));
        assert_eq!(c.team_folder("Policy"), "Blendesk/Policy");
        let shared = GOOD.replace("sent = \"Sent\"", "sent = \"Sent\"\nteam_folders = \"shared/support/Blendesk/\"");
        assert_eq!(Config::parse(&shared).unwrap().team_folder("Presence"), "shared/support/Blendesk/Presence");
        // Round trip.
        assert_eq!(Config::parse(&c.to_toml()).unwrap().imap.queues, c.imap.queues);
    }

    #[test]
    fn bad_configs_say_what_is_wrong() {
        let remote_plain = GOOD.replacen("host = \"127.0.0.1\"", "host = \"mail.shop.test\"", 1);
        assert!(Config::parse(&remote_plain).unwrap_err().contains("loopback"));
        let bad_id = GOOD.replace("id = \"alice\"", "id = \"Alice!\"");
        assert!(Config::parse(&bad_id).unwrap_err().contains("advisor id"));
        let bad_from = GOOD.replace("Shop Support <support@shop.test>", "nobody");
        assert!(Config::parse(&bad_from).unwrap_err().contains("smtp.from"));
        let password_in_file = GOOD.replace("[store]", "[store]\npassword = \"x\"");
        assert!(Config::parse(&password_in_file).unwrap_err().contains("store.password: passwords do not belong"));
        let extra = GOOD.replace("[store]", "[ui]\ntheme = \"dark\"\n[store]");
        assert!(Config::parse(&extra).is_ok(), "other keys are fine");
        assert!(Config::parse("not toml [").is_err());
        let no_team_folders = GOOD.replace("sent = \"Sent\"", "sent = \"Sent\"\nteam_folders = \"/\"");
        assert!(Config::parse(&no_team_folders).unwrap_err().contains("team_folders"));
    }

    #[test]
    fn an_oauth_section_parses_and_tokens_stay_out() {
        let ms = format!("{GOOD}\n[oauth]\nprovider = \"microsoft365\"\nclient_id = \"app-1\"\n");
        let c = Config::parse(&ms).unwrap();
        let o = c.oauth.clone().unwrap();
        assert_eq!((o.provider, o.mechanism), (crate::oauth::ProviderKind::Microsoft365, blendesk_domain::oauth::Mechanism::Xoauth2));
        assert_eq!(Config::parse(&c.to_toml()).unwrap().oauth, c.oauth, "round trip");
        assert!(Config::parse(GOOD).unwrap().oauth.is_none());
        let token = format!("{ms}refresh_token = \"1//abc\"\n");
        assert!(Config::parse(&token).unwrap_err().contains("oauth.refresh_token: passwords do not belong"));
        let issuer = format!("{GOOD}\n[oauth]\nprovider = \"issuer\"\nclient_id = \"a\"\nissuer = \"https://id.shop.test\"\n");
        assert!(Config::parse(&issuer).unwrap_err().contains("oauth.scopes"));
        let no_client = format!("{GOOD}\n[oauth]\nprovider = \"google\"\nclient_id = \" \"\n");
        assert!(Config::parse(&no_client).unwrap_err().contains("client_id"));
        let unknown = format!("{GOOD}\n[oauth]\nprovider = \"yahoo\"\nclient_id = \"a\"\n");
        assert!(Config::parse(&unknown).is_err());
    }
}
