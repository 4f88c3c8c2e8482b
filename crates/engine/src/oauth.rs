//! OAuth2 sign-in for an account whose config has an `[oauth]` section: the browser
//! sign-in (authorization code with PKCE, loopback redirect), the refresh token kept in
//! the OS keyring (or `$BLENDESK_OAUTH_REFRESH_TOKEN` for headless runs), and access
//! tokens refreshed before they expire and once after a refused login. A revoked grant
//! (`invalid_grant`) is remembered: from then on nothing is sent to any server until the
//! advisor signs in again, so no reconnect loop can hammer the provider or the mailbox.
//!
//! Tokens are never logged, never written to the config file or the database.

use blendesk_domain::oauth::{self as rules, Mechanism, OAuthError, Preset, ProviderEndpoints, TokenGrant};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Mutex;
use std::time::Duration;

pub const REFRESH_ENV: &str = "BLENDESK_OAUTH_REFRESH_TOKEN";
/// Google's desktop clients come with a "secret" that is not one (it ships in every
/// copy); it is read from here, never from the config file.
pub const CLIENT_SECRET_ENV: &str = "BLENDESK_OAUTH_CLIENT_SECRET";
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the loopback listener waits for the browser to come back.
pub const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(300);

/// Which provider signs the account in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    Microsoft365,
    Google,
    /// Any OpenID Connect issuer (its discovery document names the endpoints).
    Issuer,
}

/// The config's `[oauth]` section: present means IMAP (and SMTP over TLS) log in with
/// OAuth2 instead of a password.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OAuthSection {
    pub provider: ProviderKind,
    /// The application (client) id registered with the provider.
    pub client_id: String,
    /// Microsoft 365 only: the directory (tenant) id or domain; `organizations` by default.
    #[serde(default)]
    pub tenant: Option<String>,
    /// `provider = "issuer"` only: the issuer URL.
    #[serde(default)]
    pub issuer: Option<String>,
    /// The scopes to ask for; the preset's when empty (an issuer needs them).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// `xoauth2` (default) or `oauthbearer` for IMAP; SMTP always uses XOAUTH2.
    #[serde(default)]
    pub mechanism: Mechanism,
}

impl OAuthSection {
    pub fn validate(&self) -> Result<(), String> {
        if self.client_id.trim().is_empty() {
            return Err("oauth.client_id must be set (the application id registered with the provider)".into());
        }
        match self.provider {
            ProviderKind::Issuer => {
                let issuer = self.issuer.as_deref().unwrap_or("");
                rules::discovery_url(issuer).map_err(|e| format!("oauth.issuer: {e}"))?;
                if self.scopes.is_empty() {
                    return Err("oauth.scopes must be set for an issuer (which scope opens the mailbox?)".into());
                }
            }
            ProviderKind::Microsoft365 | ProviderKind::Google => {
                self.preset().and_then(|p| p.endpoints()).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    fn preset(&self) -> Result<Preset, OAuthError> {
        match self.provider {
            ProviderKind::Microsoft365 => {
                Ok(Preset::Microsoft365 { tenant: self.tenant.clone().unwrap_or_else(|| "organizations".into()) })
            }
            ProviderKind::Google => Ok(Preset::Google),
            ProviderKind::Issuer => Err(OAuthError::Invalid("an issuer has no preset".into())),
        }
    }

    /// The provider's endpoints: the preset's, or the issuer's discovery document
    /// (fetched; blocking).
    pub fn endpoints_blocking(&self) -> Result<ProviderEndpoints, OAuthError> {
        let mut endpoints = match self.provider {
            ProviderKind::Issuer => {
                let url = rules::discovery_url(self.issuer.as_deref().unwrap_or(""))?;
                let (status, body) = http_get(&url)?;
                if status != 200 {
                    return Err(OAuthError::Refused { error: format!("HTTP {status} from {url}"), description: None });
                }
                rules::parse_discovery(&body, &self.scopes)?
            }
            _ => self.preset()?.endpoints()?,
        };
        if !self.scopes.is_empty() {
            endpoints.scopes = self.scopes.clone();
        }
        Ok(endpoints)
    }
}

fn http_error(e: ureq::Error) -> Result<(u16, String), OAuthError> {
    match e {
        ureq::Error::Status(code, response) => Ok((code, response.into_string().unwrap_or_default())),
        ureq::Error::Transport(t) => {
            Err(OAuthError::Refused { error: "cannot reach the sign-in server".into(), description: Some(t.to_string()) })
        }
    }
}

fn http_get(url: &str) -> Result<(u16, String), OAuthError> {
    match ureq::get(url).timeout(HTTP_TIMEOUT).call() {
        Ok(r) => Ok((r.status(), r.into_string().unwrap_or_default())),
        Err(e) => http_error(e),
    }
}

fn http_post_form(url: &str, pairs: &[(&str, &str)]) -> Result<(u16, String), OAuthError> {
    rules::check_url(url, "token_endpoint")?;
    match ureq::post(url).timeout(HTTP_TIMEOUT).set("Accept", "application/json").send_form(pairs) {
        Ok(r) => Ok((r.status(), r.into_string().unwrap_or_default())),
        Err(e) => http_error(e),
    }
}

fn now_ms() -> i64 {
    crate::engine::now_ms()
}

/// Exchange a refresh token for an access token (blocking).
pub fn refresh_blocking(endpoints: &ProviderEndpoints, client_id: &str, refresh_token: &str) -> Result<TokenGrant, OAuthError> {
    let secret = std::env::var(CLIENT_SECRET_ENV).unwrap_or_default();
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", client_id)];
    if !secret.is_empty() {
        form.push(("client_secret", secret.as_str()));
    }
    let sent_at = now_ms();
    let (status, body) = http_post_form(&endpoints.token_endpoint, &form)?;
    rules::parse_token_response(status, &body, sent_at)
}

/// The sign-in in the browser: listen on a loopback port, hand `open` the authorization
/// URL (the system browser, or a test's), wait for the redirect, exchange the code with
/// its PKCE verifier. Blocking. Returns the grant, whose refresh token the caller stores.
pub fn sign_in_blocking(
    section: &OAuthSection,
    login_hint: &str,
    open: impl FnOnce(&str) -> Result<(), String>,
) -> Result<TokenGrant, OAuthError> {
    let endpoints = section.endpoints_blocking()?;
    let listener =
        TcpListener::bind(("127.0.0.1", 0)).map_err(|e| OAuthError::Invalid(format!("cannot listen on loopback for the redirect: {e}")))?;
    let port = listener.local_addr().map_err(|e| OAuthError::Invalid(e.to_string()))?.port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let verifier = rules::pkce_verifier(&rand::random::<[u8; 32]>());
    let state = rules::base64url(&rand::random::<[u8; 16]>());
    let url = rules::authorization_url(&rules::AuthorizationRequest {
        endpoints: &endpoints,
        client_id: &section.client_id,
        redirect_uri: &redirect_uri,
        state: &state,
        code_challenge: &rules::pkce_challenge(&verifier),
        login_hint: Some(login_hint),
    })?;
    open(&url).map_err(|e| OAuthError::Invalid(format!("cannot open the browser: {e}")))?;
    let code = wait_for_redirect(&listener, &state, SIGN_IN_TIMEOUT)?;
    let secret = std::env::var(CLIENT_SECRET_ENV).unwrap_or_default();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("client_id", section.client_id.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    if !secret.is_empty() {
        form.push(("client_secret", secret.as_str()));
    }
    let sent_at = now_ms();
    let (status, body) = http_post_form(&endpoints.token_endpoint, &form)?;
    let grant = rules::parse_token_response(status, &body, sent_at)?;
    if grant.refresh_token.is_none() {
        return Err(OAuthError::Invalid("the provider gave no refresh token (is offline access allowed for this app?)".into()));
    }
    Ok(grant)
}

/// Accept connections until one is the redirect with our state (a stray request, e.g.
/// the browser's favicon, gets a 404 and is not the end of the sign-in).
fn wait_for_redirect(listener: &TcpListener, state: &str, timeout: Duration) -> Result<String, OAuthError> {
    let deadline = std::time::Instant::now() + timeout;
    listener.set_nonblocking(false).map_err(|e| OAuthError::Invalid(e.to_string()))?;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(OAuthError::Invalid(format!("no answer from the browser within {} s", timeout.as_secs())));
        }
        // accept() has no timeout: poll a non-blocking listener at a short interval.
        listener.set_nonblocking(true).map_err(|e| OAuthError::Invalid(e.to_string()))?;
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50).min(left));
                continue;
            }
            Err(e) => return Err(OAuthError::Invalid(format!("the redirect listener failed: {e}"))),
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        if reader.by_ref().take(8192).read_line(&mut line).is_err() {
            continue;
        }
        let target = line.split_whitespace().nth(1).unwrap_or("");
        let mut stream = reader.into_inner();
        let Some(query) = target.strip_prefix("/callback?") else {
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            continue;
        };
        let result = rules::code_from_redirect(query, state);
        let page = match &result {
            Ok(_) => "Blendesk: signed in. You can close this tab.".to_owned(),
            Err(e) => format!("Blendesk: sign-in failed: {e}"),
        };
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
            page.len()
        );
        // A request with another state (an old tab) is answered and ignored.
        match result {
            Err(OAuthError::Invalid(ref m)) if m.contains("state does not match") => continue,
            other => return other,
        }
    }
}

/// The keyring entry's user name for an account's refresh token.
pub fn keyring_user(username: &str, host: &str) -> String {
    format!("oauth:{username}@{host}")
}

/// Store a refresh token in the OS keyring (blocking).
pub fn store_refresh_token(username: &str, host: &str, token: &str) -> Result<(), crate::credentials::CredentialError> {
    let no_keyring = |e: keyring::Error| crate::credentials::CredentialError::NoKeyring { reason: e.to_string(), env: REFRESH_ENV };
    let entry = keyring::Entry::new(crate::credentials::SERVICE, &keyring_user(username, host)).map_err(no_keyring)?;
    entry.set_password(token).map_err(no_keyring)
}

/// The refresh token: `$BLENDESK_OAUTH_REFRESH_TOKEN` or the OS keyring (blocking).
/// Returns it and whether it came from the keyring (a rotated token is written back there).
pub fn refresh_token(username: &str, host: &str) -> Result<(String, bool), crate::credentials::CredentialError> {
    use crate::credentials::CredentialError;
    if let Ok(t) = std::env::var(REFRESH_ENV) {
        if !t.is_empty() {
            return Ok((t, false));
        }
    }
    let entry_user = keyring_user(username, host);
    let no_keyring = |e: keyring::Error| CredentialError::NoKeyring { reason: e.to_string(), env: REFRESH_ENV };
    let entry = keyring::Entry::new(crate::credentials::SERVICE, &entry_user).map_err(no_keyring)?;
    match entry.get_password() {
        Ok(t) => Ok((t, true)),
        Err(keyring::Error::NoEntry) => {
            Err(CredentialError::NotStored { label: "OAuth2 sign-in", user: username.to_owned(), entry: entry_user, env: REFRESH_ENV })
        }
        Err(e) => Err(no_keyring(e)),
    }
}

struct Access {
    token: String,
    granted_at_ms: i64,
    expires_at_ms: i64,
}

/// An account's live OAuth2 state in the engine.
pub struct OAuthLogin {
    pub(crate) section: OAuthSection,
    username: String,
    host: String,
    endpoints: Mutex<Option<ProviderEndpoints>>,
    refresh: Mutex<String>,
    in_keyring: bool,
    /// Serialises refreshes: two connections needing a token at once make one request.
    access: tokio::sync::Mutex<Option<Access>>,
    /// Set once the provider said `invalid_grant`: nothing more is sent anywhere.
    revoked: Mutex<Option<String>>,
    refreshes: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for OAuthLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthLogin").field("provider", &self.section.provider).field("username", &self.username).finish_non_exhaustive()
    }
}

impl OAuthLogin {
    pub fn new(section: OAuthSection, username: &str, host: &str, refresh_token: String, in_keyring: bool) -> Self {
        OAuthLogin {
            section,
            username: username.to_owned(),
            host: host.to_owned(),
            endpoints: Mutex::new(None),
            refresh: Mutex::new(refresh_token),
            in_keyring,
            access: tokio::sync::Mutex::new(None),
            revoked: Mutex::new(None),
            refreshes: Default::default(),
        }
    }

    pub fn mechanism(&self) -> Mechanism {
        self.section.mechanism
    }

    /// How many access tokens this login has fetched with its refresh token.
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The reason the grant was revoked, once it was.
    pub fn revoked(&self) -> Option<String> {
        self.revoked.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The advisor signed in again: logins use this refresh token from now on; the old
    /// access token and the revocation are forgotten.
    pub async fn signed_in_again(&self, refresh_token: String) {
        // Under the access lock: a refresh running now finishes before the swap.
        let mut access = self.access.lock().await;
        *access = None;
        *self.refresh.lock().unwrap_or_else(|e| e.into_inner()) = refresh_token;
        *self.revoked.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// A usable access token: the current one, or a fresh one when it is close to
    /// expiry (`domain::oauth::needs_refresh`) or it is `refused` (a login was just
    /// refused with it; when another connection has refreshed meanwhile, its new token
    /// is used instead of a second refresh).
    pub async fn access_token(&self, now_ms: i64, refused: Option<&str>) -> Result<String, OAuthError> {
        if let Some(reason) = self.revoked() {
            return Err(OAuthError::Revoked { reason });
        }
        let mut access = self.access.lock().await;
        if let Some(a) = access.as_ref() {
            if refused != Some(a.token.as_str()) && !rules::needs_refresh(now_ms, a.granted_at_ms, a.expires_at_ms) {
                return Ok(a.token.clone());
            }
        }
        let grant = self.refresh_now().await?;
        tracing::info!(provider = ?self.section.provider, user = %self.username, "OAuth2 access token refreshed");
        let token = grant.access_token.clone();
        *access = Some(Access { token: grant.access_token, granted_at_ms: now_ms, expires_at_ms: grant.expires_at_ms });
        Ok(token)
    }

    async fn refresh_now(&self) -> Result<TokenGrant, OAuthError> {
        let section = self.section.clone();
        let known = self.endpoints.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let refresh = self.refresh.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let (endpoints, result) = tokio::task::spawn_blocking(move || {
            let endpoints = match known {
                Some(e) => e,
                None => match section.endpoints_blocking() {
                    Ok(e) => e,
                    Err(err) => return (None, Err(err)),
                },
            };
            let r = refresh_blocking(&endpoints, &section.client_id, &refresh);
            (Some(endpoints), r)
        })
        .await
        .map_err(|e| OAuthError::Invalid(format!("the token refresh task failed: {e}")))?;
        if let Some(e) = endpoints {
            *self.endpoints.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
        }
        self.refreshes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let grant = match result {
            Err(OAuthError::Revoked { reason }) => {
                tracing::warn!(user = %self.username, %reason, "OAuth2 grant revoked: sign in again");
                *self.revoked.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason.clone());
                return Err(OAuthError::Revoked { reason });
            }
            other => other?,
        };
        if let Some(rotated) = &grant.refresh_token {
            *self.refresh.lock().unwrap_or_else(|e| e.into_inner()) = rotated.clone();
            if self.in_keyring {
                let (u, h, t) = (self.username.clone(), self.host.clone(), rotated.clone());
                match tokio::task::spawn_blocking(move || store_refresh_token(&u, &h, &t)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "could not keep the provider's new refresh token in the keyring"),
                    Err(e) => tracing::warn!(error = %e, "keyring task failed"),
                }
            }
        }
        Ok(grant)
    }
}
