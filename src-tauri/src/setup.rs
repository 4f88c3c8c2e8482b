//! First-run setup: the advisor types the mail server details, tests them (each failure
//! named exactly), and saves them to the configuration file and the OS keyring. The
//! passwords never reach the configuration file. With OAuth2 (Microsoft 365, Google, an
//! OIDC issuer) the advisor signs in in the system browser instead; the refresh token
//! goes to the keyring, never to the file.

use crate::commands::CommandError;
use crate::desk::{run_with, set_startup, Desk, Startup};
use blendesk_engine::config::Config;
use blendesk_engine::credentials::{store_password, Account};
use blendesk_engine::errors::ErrorCode;
use blendesk_engine::Engine;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;
use tauri::{AppHandle, State};

#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct SetupForm {
    pub advisor_id: String,
    pub advisor_name: String,
    pub imap_host: String,
    pub imap_port: u16,
    pub imap_security: String,
    pub imap_username: String,
    pub imap_password: String,
    /// Comma-separated queue folders.
    pub queues: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_security: String,
    pub smtp_username: String,
    pub smtp_password: String,
    pub from: String,
    /// OAuth2 sign-in instead of passwords; `null` for passwords.
    #[serde(default)]
    pub oauth: Option<OAuthForm>,
}

#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct OAuthForm {
    /// `microsoft365`, `google` or `issuer`.
    pub provider: String,
    pub client_id: String,
    /// Microsoft 365: the directory (tenant); empty for `organizations`.
    pub tenant: String,
    /// `issuer`: the issuer URL.
    pub issuer: String,
    /// Space- or comma-separated; empty for the provider's.
    pub scopes: String,
}

/// The setup's sign-in, kept in memory until saved.
#[derive(Debug, Clone)]
pub struct SignedIn {
    account: String,
    refresh_token: String,
    in_keyring: bool,
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct SetupReport {
    pub capabilities: Vec<String>,
    /// Team mode needs these; without them Blendesk runs for one advisor only.
    pub missing_for_team: Vec<&'static str>,
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct SaveReport {
    pub config_path: String,
    /// Why the passwords could not be stored in the keyring (they are used for this
    /// session only), if so.
    pub keyring_warning: Option<String>,
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct SignInReport {
    pub connection: SetupReport,
    /// Why the refresh token could not be stored in the keyring (it is kept for this
    /// session only), if so.
    pub keyring_warning: Option<String>,
}

fn invalid(message: String) -> CommandError {
    CommandError { code: ErrorCode::Invalid, message }
}

fn default_store_path() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("blendesk").join("blendesk.sqlite")
}

/// The configuration the form describes, validated by the engine's own rules.
pub fn config_from(form: &SetupForm, store: PathBuf) -> Result<Config, CommandError> {
    let queues: Vec<String> = form.queues.split(',').map(|q| q.trim().to_owned()).filter(|q| !q.is_empty()).collect();
    let value = serde_json::json!({
        "advisor": {"id": form.advisor_id.trim(), "name": form.advisor_name.trim()},
        "imap": {"host": form.imap_host.trim(), "port": form.imap_port, "security": form.imap_security,
                 "username": form.imap_username.trim(), "queues": queues},
        "smtp": {"host": form.smtp_host.trim(), "port": form.smtp_port, "security": form.smtp_security,
                 "username": form.smtp_username.trim(), "from": form.from.trim()},
        "store": {"path": store},
    });
    let mut value = value;
    if let Some(o) = &form.oauth {
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        let scopes: Vec<String> = o.scopes.split([' ', ',']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        value["oauth"] = serde_json::json!({
            "provider": o.provider, "client_id": o.client_id.trim(), "tenant": opt(&o.tenant),
            "issuer": opt(&o.issuer), "scopes": scopes,
        });
    }
    let config: Config = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
    config.validate().map_err(invalid)?;
    Ok(config)
}

fn smtp_password(form: &SetupForm) -> Option<String> {
    (!form.smtp_password.is_empty()).then(|| form.smtp_password.clone())
}

async fn smtp_reachable(host: &str, port: u16) -> Result<(), CommandError> {
    let connect = tokio::net::TcpStream::connect((host, port));
    match tokio::time::timeout(Duration::from_secs(10), connect).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(CommandError { code: ErrorCode::Smtp, message: format!("cannot reach the SMTP server {host}:{port}: {e}") }),
        Err(_) => Err(CommandError { code: ErrorCode::Smtp, message: format!("the SMTP server {host}:{port} did not answer within 10 s") }),
    }
}

/// Open `url` in the system browser: `$BROWSER` when set (one program, no shell), else
/// xdg-open.
fn open_in_browser(url: &str) -> Result<(), String> {
    let browser = std::env::var("BROWSER").ok().filter(|b| !b.trim().is_empty());
    let program = browser.as_deref().unwrap_or("xdg-open");
    std::process::Command::new(program)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("cannot start the browser ({program}): {e}"))
}

fn account_of(config: &Config) -> String {
    format!("{}@{}", config.imap.username, config.imap.host)
}

/// The browser sign-in (PKCE, loopback redirect) for `config`'s account; the refresh
/// token is kept in the keyring. Returns the token and, when the keyring refused it, why.
async fn browser_sign_in(config: &Config, section: blendesk_engine::oauth::OAuthSection) -> Result<(String, Option<String>), CommandError> {
    let user = config.imap.username.clone();
    let grant = tauri::async_runtime::spawn_blocking(move || blendesk_engine::oauth::sign_in_blocking(&section, &user, open_in_browser))
        .await
        .map_err(|e| CommandError { code: ErrorCode::Internal, message: e.to_string() })?
        .map_err(|e| crate::commands::engine_err(e.into()))?;
    let refresh = grant.refresh_token.unwrap_or_default();
    let (u, h, t) = (config.imap.username.clone(), config.imap.host.clone(), refresh.clone());
    let stored =
        tauri::async_runtime::spawn_blocking(move || blendesk_engine::oauth::store_refresh_token(&u, &h, &t).map_err(|e| e.to_string()))
            .await
            .map_err(|e| CommandError { code: ErrorCode::Keyring, message: e.to_string() })?;
    let keyring_warning = stored.err();
    if let Some(w) = &keyring_warning {
        tracing::warn!("refresh token not stored: {w}");
    }
    Ok((refresh, keyring_warning))
}

/// After the provider revoked the sign-in (the window shows `sign_in_needed`): sign in
/// again in the browser for the running engine's account, keep the new refresh token,
/// and restart the engine's tasks (those that stopped on the revocation run again).
#[tauri::command]
pub async fn sign_in_again(desk: State<'_, Desk>) -> Result<(), CommandError> {
    let engine = desk.engine().map_err(crate::commands::starting)?.clone();
    let Some(section) = engine.config().oauth.clone() else {
        return Err(invalid("this account logs in with a password, not a browser sign-in".into()));
    };
    let (refresh, _) = browser_sign_in(engine.config(), section).await?;
    engine.sign_in_again(refresh).await.map_err(crate::commands::engine_err)?;
    desk.restart_tasks().await.map_err(|e| CommandError { code: ErrorCode::Internal, message: format!("{e:#}") })?;
    tracing::info!(account = %account_of(engine.config()), "signed in again with OAuth2; tasks restarted");
    Ok(())
}

/// OAuth2: sign in in the system browser (PKCE, loopback redirect), keep the refresh
/// token in the keyring, and test the login with it, as `test_setup` does.
#[tauri::command]
pub async fn oauth_sign_in(desk: State<'_, Desk>, form: SetupForm) -> Result<SignInReport, CommandError> {
    let config = config_from(&form, PathBuf::from("unused"))?;
    let Some(section) = config.oauth.clone() else {
        return Err(invalid("choose a sign-in provider first".into()));
    };
    let (refresh, keyring_warning) = browser_sign_in(&config, section).await?;
    *desk.signed_in.lock().unwrap_or_else(|e| e.into_inner()) =
        Some(SignedIn { account: account_of(&config), refresh_token: refresh.clone(), in_keyring: keyring_warning.is_none() });
    tracing::info!(account = %account_of(&config), "signed in with OAuth2");
    let connection = test_with(&form, Some(refresh)).await?;
    Ok(SignInReport { connection, keyring_warning })
}

/// Log in to IMAP with the typed password and reach the SMTP server. Nothing is saved.
#[tauri::command]
pub async fn test_setup(desk: State<'_, Desk>, form: SetupForm) -> Result<SetupReport, CommandError> {
    let refresh = desk.signed_in.lock().unwrap_or_else(|e| e.into_inner()).clone().map(|s| s.refresh_token);
    test_with(&form, refresh).await
}

async fn test_with(form: &SetupForm, refresh: Option<String>) -> Result<SetupReport, CommandError> {
    let scratch = std::env::temp_dir().join(format!("blendesk-setup-{}.sqlite", std::process::id()));
    let config = config_from(form, scratch.clone())?;
    let engine = match (&config.oauth, refresh) {
        (Some(_), Some(refresh)) => Engine::with_refresh_token(config, refresh, false),
        (Some(_), None) => return Err(invalid("sign in with the browser first".into())),
        (None, _) => Engine::with_passwords(config, form.imap_password.clone(), smtp_password(form)),
    }
    .map_err(|e| CommandError { code: e.code(), message: e.to_string() })?;
    let result = engine.test_connection().await;
    drop(engine);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", scratch.display()));
    }
    let capabilities = result.map_err(|e| {
        let code = if e.code() == ErrorCode::SignInRevoked || e.code() == ErrorCode::SignIn { e.code() } else { ErrorCode::Imap };
        CommandError { code, message: e.to_string() }
    })?;
    smtp_reachable(form.smtp_host.trim(), form.smtp_port).await?;
    let has = |c: &str| capabilities.iter().any(|x| x.eq_ignore_ascii_case(c));
    let missing_for_team = ["CONDSTORE", "UIDPLUS", "IDLE"].into_iter().filter(|c| !has(c)).collect();
    Ok(SetupReport { capabilities, missing_for_team })
}

/// Save the configuration (0600) and the passwords (OS keyring), then start.
#[tauri::command]
pub async fn save_setup(app: AppHandle, desk: State<'_, Desk>, form: SetupForm) -> Result<SaveReport, CommandError> {
    if desk.engine.get().is_some() {
        return Err(CommandError { code: ErrorCode::Invalid, message: "Blendesk is already set up".into() });
    }
    let config = config_from(&form, default_store_path())?;
    let signed_in = match &config.oauth {
        None => None,
        Some(_) => {
            let s = desk.signed_in.lock().unwrap_or_else(|e| e.into_inner()).clone();
            match s {
                Some(s) if s.account == account_of(&config) => Some(s),
                _ => return Err(invalid("sign in with the browser first (for this user and server)".into())),
            }
        }
    };
    let path = desk.config_path.clone();
    let io = |e: std::io::Error| CommandError { code: ErrorCode::Io, message: format!("cannot write {}: {e}", path.display()) };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    if let Some(dir) = config.store.path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&path).map_err(io)?;
        f.write_all(config.to_toml().as_bytes()).map_err(io)?;
    }
    let (user, host) = (config.imap.username.clone(), config.imap.host.clone());
    let (suser, shost) = (config.smtp.username.clone(), config.smtp.host.clone());
    let imap_pw = form.imap_password.clone();
    let smtp_pw = smtp_password(&form);
    let smtp_pw_store = smtp_pw.clone();
    if let Some(s) = signed_in {
        let keyring_warning = (!s.in_keyring).then(|| "the refresh token is kept for this session only".to_owned());
        let engine = Engine::with_refresh_token(config, s.refresh_token, s.in_keyring)
            .map_err(|e| CommandError { code: e.code(), message: e.to_string() })?;
        start(&app, engine);
        return Ok(SaveReport { config_path: path.display().to_string(), keyring_warning });
    }
    let stored = tauri::async_runtime::spawn_blocking(move || -> Result<(), String> {
        store_password(Account::Imap, &user, &host, &imap_pw).map_err(|e| e.to_string())?;
        if let Some(pw) = smtp_pw_store {
            store_password(Account::Smtp, &suser, &shost, &pw).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
    .await
    .map_err(|e| CommandError { code: ErrorCode::Keyring, message: e.to_string() })?;
    let keyring_warning = stored.err();
    if let Some(w) = &keyring_warning {
        tracing::warn!("passwords not stored: {w}");
    }
    let engine = Engine::with_passwords(config, form.imap_password.clone(), smtp_pw)
        .map_err(|e| CommandError { code: e.code(), message: e.to_string() })?;
    start(&app, engine);
    Ok(SaveReport { config_path: path.display().to_string(), keyring_warning })
}

fn start(app: &AppHandle, engine: std::sync::Arc<Engine>) {
    set_startup(app, Startup::Starting);
    let a = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = run_with(a.clone(), engine).await {
            set_startup(&a, Startup::Failed { error: format!("{e:#}") });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> SetupForm {
        SetupForm {
            advisor_id: "alice".into(),
            advisor_name: "Alice".into(),
            imap_host: "127.0.0.1".into(),
            imap_port: 14143,
            imap_security: "plain".into(),
            imap_username: "support".into(),
            imap_password: "secret".into(),
            queues: "INBOX, Billing ,".into(),
            smtp_host: "127.0.0.1".into(),
            smtp_port: 12525,
            smtp_security: "plain".into(),
            smtp_username: String::new(),
            smtp_password: String::new(),
            from: "Shop Support <support@shop.test>".into(),
            oauth: None,
        }
    }

    #[test]
    fn an_oauth_form_becomes_an_oauth_section_without_tokens() {
        let mut f = form();
        f.oauth = Some(OAuthForm {
            provider: "microsoft365".into(),
            client_id: "app-1".into(),
            tenant: String::new(),
            issuer: String::new(),
            scopes: String::new(),
        });
        let c = config_from(&f, PathBuf::from("/tmp/x.sqlite")).unwrap();
        let o = c.oauth.clone().unwrap();
        assert_eq!((o.provider, o.tenant, o.scopes.len()), (blendesk_engine::oauth::ProviderKind::Microsoft365, None, 0));
        assert!(c.to_toml().contains("[oauth]"), "{}", c.to_toml());
        f.oauth.as_mut().unwrap().provider = "issuer".into();
        assert!(config_from(&f, PathBuf::from("/tmp/x")).unwrap_err().message.contains("issuer"));
        f.oauth.as_mut().unwrap().provider = "yahoo".into();
        assert_eq!(config_from(&f, PathBuf::from("/tmp/x")).unwrap_err().code, ErrorCode::Invalid);
    }

    #[test]
    fn a_valid_form_becomes_a_config_without_passwords() {
        let c = config_from(&form(), PathBuf::from("/tmp/x.sqlite")).unwrap();
        assert_eq!(c.imap.queues, ["INBOX", "Billing"]);
        let toml = c.to_toml();
        assert!(!toml.contains("secret"), "no password in the file: {toml}");
    }

    #[test]
    fn invalid_forms_say_what_is_wrong() {
        let mut f = form();
        f.advisor_id = "Alice Smith".into();
        assert!(config_from(&f, PathBuf::from("/tmp/x")).unwrap_err().message.contains("advisor id"));
        let mut f = form();
        f.imap_host = "mail.example.com".into();
        assert!(config_from(&f, PathBuf::from("/tmp/x")).unwrap_err().message.contains("plain"));
        let mut f = form();
        f.imap_security = "ssl".into();
        assert_eq!(config_from(&f, PathBuf::from("/tmp/x")).unwrap_err().code, ErrorCode::Invalid);
    }
}
