//! The engine handle every caller uses.

use crate::config::Config;
use crate::connections::Connected;
use crate::credentials::{self, Account, CredentialError};
use crate::events::Event;
use blendesk_mail::imap::{self, Endpoint, ImapError};
use blendesk_mail::smtp;
use blendesk_store::{FolderSummary, Store, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use thiserror::Error;
use tokio::sync::{broadcast, Notify};

#[derive(Debug, Error)]
pub enum EngineError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("SMTP: {0}")]
    Smtp(String),
    #[error("{0}")]
    Compose(#[from] blendesk_mail::compose::ComposeError),
    #[error("no message {0} in the local mirror")]
    NoSuchMessage(i64),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("policy: {0}")]
    Policy(String),
    #[error("{0}")]
    Park(String),
    /// No such conversation to act on (nothing open, not yours).
    #[error("{0}")]
    Conversation(String),
    #[error("the folder {0} was recreated on the server since this message was mirrored; sync and try again")]
    Stale(String),
    #[error(
        "team mode needs custom keywords in {0}, and the server does not offer them there \
         (PERMANENTFLAGS lacks \\*: the server does not store keywords, or this login may not \
         write flags in that folder); use solo mode or grant the write right"
    )]
    NoKeywords(String),
    #[error("the server does not let {user} {action} in {folder}: {hint}")]
    NotPermitted { user: String, action: &'static str, folder: String, hint: &'static str },
    /// A knowledge article or template was refused (its reason), or is not there.
    #[error("{0}")]
    Document(String),
    /// A reply still has a required `{{placeholder}}` (the message names each).
    #[error("{0}")]
    Template(String),
    /// Cyrus refused a new keyword: the folder holds as many as the server keeps.
    #[error(
        "the server refuses new keywords in {folder}: it holds {count} distinct keywords, as many \
         as the server keeps (Cyrus: 100 per mailbox, freed only by `cyr_expire -t`). Ask the \
         mail administrator to run `cyr_expire -t` (as the cyrus user) on the server; Blendesk \
         needs up to four keywords per advisor and 14 more"
    )]
    KeywordLimit { folder: String, count: usize },
    /// Email is paused during a call and its wrap-up (`blending::email_paused`).
    #[error("email is paused during a call and its wrap-up")]
    Paused,
    /// A reply with nothing in it.
    #[error("the reply is empty")]
    EmptyReply,
    /// The OAuth2 grant was revoked or has expired: only signing in again helps.
    #[error("{0}")]
    SignInRevoked(String),
    /// The OAuth2 sign-in failed for another reason (provider refused, bad answer).
    #[error("{0}")]
    SignIn(String),
    /// The team's coordination database failed or refused (its reason).
    #[error("team database: {0}")]
    Coordination(String),
    #[error("the server lacks {0}, which team mode needs (claims are a compare-and-swap on the mailbox); use solo mode with this server")]
    MissingCapability(&'static str),
}

pub type Result<T> = std::result::Result<T, EngineError>;

impl From<blendesk_domain::oauth::OAuthError> for EngineError {
    fn from(e: blendesk_domain::oauth::OAuthError) -> Self {
        match e {
            blendesk_domain::oauth::OAuthError::Revoked { .. } => EngineError::SignInRevoked(e.to_string()),
            other => EngineError::SignIn(other.to_string()),
        }
    }
}

/// What `blendesk status` shows.
#[derive(Debug, Serialize)]
pub struct Status {
    pub advisor: String,
    pub folders: Vec<FolderSummary>,
    pub messages: u64,
    pub last_sync_at: Option<i64>,
    pub capabilities: Vec<String>,
    pub outbox: BTreeMap<&'static str, u64>,
    /// The IMAP connections an app with this configuration holds in team mode.
    pub connections_per_app: crate::connections::ConnectionPlan,
}

pub struct Engine {
    pub(crate) config: Config,
    pub(crate) store: Arc<Store>,
    pub(crate) events: broadcast::Sender<Event>,
    pub(crate) imap_password: String,
    pub(crate) smtp_password: Option<String>,
    /// The certificate authorities of `imap.ca_file` and `smtp.ca_file`, read once.
    imap_ca: Option<Vec<u8>>,
    smtp_ca: Option<Vec<u8>>,
    /// OAuth2 sign-in, when the config has an `[oauth]` section (then the passwords are empty).
    pub(crate) oauth: Option<Arc<crate::oauth::OAuthLogin>>,
    /// Wakes the outbox worker when a reply is queued.
    pub(crate) outbox_wake: Notify,
    /// Tells long-running tasks to stop. A watch channel, not a Notify: a task that
    /// starts waiting after shutdown was requested must still see it.
    pub(crate) stop_tx: tokio::sync::watch::Sender<bool>,
    pub(crate) stopping: std::sync::atomic::AtomicBool,
    /// Presence, policy and the claim loop's wake-up.
    pub(crate) team: crate::team::TeamState,
    pub(crate) breaker_reported: std::sync::atomic::AtomicBool,
    /// IMAP sessions open now (`connections::Connected`).
    pub(crate) open_connections: Arc<std::sync::atomic::AtomicUsize>,
    /// Test hook run once a folder's sync has fetched its new mail (`on_sync_fetched`).
    pub(crate) sync_hook: std::sync::Mutex<Option<SyncHook>>,
    /// Folders whose first sync since this engine opened has ended (mirrored, or failed:
    /// a queue the server refuses must not stop the others). The claim loop waits for
    /// every queue, or it would push what the first synced queue holds instead of the
    /// team's most urgent email.
    pub(crate) synced_this_run: std::sync::Mutex<std::collections::HashSet<String>>,
    /// What `now_ms` reads (`clock.rs`): the system's, or a test's.
    pub(crate) clock: std::sync::RwLock<Arc<dyn crate::clock::Clock>>,
    /// The team's database, when it coordinates instead of the mailbox (`coordination.rs`).
    pub(crate) coord: Option<Arc<crate::coordination::PgCoordination>>,
}

/// Called with the folder name once a sync has fetched the new mail it saw, before its
/// last command (UID SEARCH): lets a test deliver mail at a known point of a sync, where
/// the only news of it is an EXISTS among that command's answers, without sleeps.
pub type SyncHook = Arc<dyn Fn(String) -> futures::future::BoxFuture<'static, ()> + Send + Sync>;

impl Engine {
    /// Open the store and read the passwords (environment or keyring).
    pub async fn open(config: Config) -> Result<Arc<Self>> {
        if config.oauth.is_some() {
            let (user, host) = (config.imap.username.clone(), config.imap.host.clone());
            let (token, in_keyring) = tokio::task::spawn_blocking(move || crate::oauth::refresh_token(&user, &host))
                .await
                .map_err(|e| EngineError::Internal(e.to_string()))??;
            return Self::with_refresh_token(config, token, in_keyring);
        }
        let imap_user = config.imap.username.clone();
        let imap_host = config.imap.host.clone();
        let imap_password = tokio::task::spawn_blocking(move || credentials::password(Account::Imap, &imap_user, &imap_host))
            .await
            .map_err(|e| EngineError::Internal(e.to_string()))??;
        // Plain SMTP (loopback only) submits without authentication.
        let smtp_password = if config.smtp.security == blendesk_domain::transport::Security::Plain {
            None
        } else {
            let (u, h) = (config.smtp.username.clone(), config.smtp.host.clone());
            Some(
                tokio::task::spawn_blocking(move || credentials::password(Account::Smtp, &u, &h))
                    .await
                    .map_err(|e| EngineError::Smtp(e.to_string()))??,
            )
        };
        Self::with_passwords(config, imap_password, smtp_password)
    }

    /// An engine signing in with OAuth2 (the config's `[oauth]` section) from this refresh
    /// token; `in_keyring`: a rotated refresh token is written back to the keyring.
    pub fn with_refresh_token(config: Config, refresh_token: String, in_keyring: bool) -> Result<Arc<Self>> {
        let section = config.oauth.clone().ok_or_else(|| EngineError::Internal("with_refresh_token needs an [oauth] section".into()))?;
        let login = crate::oauth::OAuthLogin::new(section, &config.imap.username, &config.imap.host, refresh_token, in_keyring);
        Self::build(config, String::new(), None, Some(Arc::new(login)))
    }

    pub fn with_passwords(config: Config, imap_password: String, smtp_password: Option<String>) -> Result<Arc<Self>> {
        Self::build(config, imap_password, smtp_password, None)
    }

    fn build(
        config: Config,
        imap_password: String,
        smtp_password: Option<String>,
        oauth: Option<Arc<crate::oauth::OAuthLogin>>,
    ) -> Result<Arc<Self>> {
        let imap_ca = read_ca(config.imap.ca_file.as_deref(), "imap.ca_file")?;
        let smtp_ca = read_ca(config.smtp.ca_file.as_deref(), "smtp.ca_file")?;
        let store = Arc::new(Store::open(&config.store.path)?);
        let (events, _) = broadcast::channel(4096);
        let coord = match &config.coordination {
            Some(crate::coordination::CoordinationSection::Postgres(pg)) => {
                Some(Arc::new(crate::coordination::PgCoordination::new(pg.clone(), config.advisor.id.clone())))
            }
            _ => None,
        };
        Ok(Arc::new(Self {
            config,
            store,
            events,
            imap_password,
            smtp_password,
            imap_ca,
            smtp_ca,
            oauth,
            outbox_wake: Notify::new(),
            stop_tx: tokio::sync::watch::channel(false).0,
            stopping: std::sync::atomic::AtomicBool::new(false),
            team: crate::team::TeamState::new(),
            breaker_reported: std::sync::atomic::AtomicBool::new(false),
            open_connections: Default::default(),
            sync_hook: Default::default(),
            synced_this_run: Default::default(),
            clock: std::sync::RwLock::new(Arc::new(crate::clock::SystemClock)),
            coord,
        }))
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A new Message-ID for mail Blendesk writes, of `kind` (`domain::reply::new_message_id`).
    pub(crate) fn mint_message_id(&self, kind: &str) -> String {
        let from = self.config.from_address().unwrap_or_default();
        blendesk_domain::reply::new_message_id(kind, &format!("{:032x}", rand::random::<u128>()), &from)
    }

    /// Now, on the engine's clock (unix ms): what every rule about the advisor's time reads.
    pub fn now_ms(&self) -> i64 {
        self.clock.read().unwrap_or_else(|e| e.into_inner()).now_ms()
    }

    /// Test hook: read time from `clock` from now on.
    #[doc(hidden)]
    pub fn use_clock(&self, clock: Arc<dyn crate::clock::Clock>) {
        *self.clock.write().unwrap_or_else(|e| e.into_inner()) = clock;
    }

    /// Who "we" are for the auto-reply rules: our addresses and our X-Loop marker.
    pub fn our_mailbox(&self) -> blendesk_domain::automation::OurMailbox {
        let from = self.config.from_address().unwrap_or_default();
        let mut addresses = vec![from.clone()];
        if self.config.imap.username.contains('@') {
            addresses.push(self.config.imap.username.to_lowercase());
        }
        blendesk_domain::automation::OurMailbox { addresses, loop_marker: from }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    pub(crate) fn emit(&self, event: Event) {
        // No subscriber is fine: the desktop may not be listening yet.
        let _ = self.events.send(event);
    }

    /// Ask every running task (watchers, outbox worker) to finish.
    pub fn shutdown(&self) {
        self.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
        self.stop_tx.send_replace(true);
        self.outbox_wake.notify_one();
    }

    /// Undo `shutdown` once every task has ended (`runtime::Runtime::restart`), so the
    /// tasks can start again.
    pub(crate) fn resume(&self) {
        self.stopping.store(false, std::sync::atomic::Ordering::SeqCst);
        self.stop_tx.send_replace(false);
    }

    /// After the grant was revoked (`SignInRevoked`), the advisor signed in again
    /// (`oauth::sign_in_blocking`): logins use `refresh_token` from now on. The loops that
    /// stopped on the revocation stay stopped until the runtime restarts them
    /// (`runtime::Runtime::restart`).
    pub async fn sign_in_again(&self, refresh_token: String) -> Result<()> {
        let Some(oauth) = &self.oauth else {
            return Err(EngineError::SignIn("this account logs in with a password, not a sign-in".into()));
        };
        oauth.signed_in_again(refresh_token).await;
        tracing::info!(user = %self.config.imap.username, "signed in again with OAuth2");
        Ok(())
    }

    /// Resolves once shutdown has been requested (at once if it already was).
    pub(crate) async fn stopped(&self) {
        let mut rx = self.stop_tx.subscribe();
        let _ = rx.wait_for(|stop| *stop).await;
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn imap_endpoint(&self) -> Endpoint {
        Endpoint {
            host: self.config.imap.host.clone(),
            port: self.config.imap.port,
            security: self.config.imap.security,
            username: self.config.imap.username.clone(),
            ca_pem: self.imap_ca.clone(),
        }
    }

    pub(crate) async fn smtp_submitter(&self) -> Result<smtp::Submitter> {
        let endpoint = smtp::Endpoint {
            host: self.config.smtp.host.clone(),
            port: self.config.smtp.port,
            security: self.config.smtp.security,
            username: self.config.smtp.username.clone(),
            ca_pem: self.smtp_ca.clone(),
        };
        match &self.oauth {
            // Plain SMTP (loopback only) submits without authentication.
            Some(oauth) if self.config.smtp.security != blendesk_domain::transport::Security::Plain => {
                let token = oauth.access_token(self.now_ms(), None).await?;
                smtp::Submitter::with_login(&endpoint, Some(smtp::SmtpLogin::Xoauth2(&token))).map_err(EngineError::Smtp)
            }
            _ => smtp::Submitter::new(&endpoint, self.smtp_password.as_deref()).map_err(EngineError::Smtp),
        }
    }

    /// The OAuth2 sign-in, when the account uses one.
    pub fn oauth(&self) -> Option<&Arc<crate::oauth::OAuthLogin>> {
        self.oauth.as_ref()
    }

    /// Log in: with the password, or with an OAuth2 access token refreshed before it
    /// expires and once more when the server refuses it (it may have been expired or
    /// revoked early). A revoked grant ends here as `SignInRevoked`, sending nothing.
    async fn login(&self) -> Result<imap::Connected> {
        let endpoint = self.imap_endpoint();
        let Some(oauth) = &self.oauth else {
            return Ok(imap::connect(&endpoint, &self.imap_password).await?);
        };
        let mechanism = oauth.mechanism();
        let token = oauth.access_token(self.now_ms(), None).await?;
        match imap::connect_with(&endpoint, imap::Login::Bearer { mechanism, token: &token }).await {
            Err(ImapError::LoginRefused { reason, .. }) => {
                tracing::info!(%reason, "IMAP refused the access token; refreshing it once");
                let token = oauth.access_token(self.now_ms(), Some(&token)).await?;
                Ok(imap::connect_with(&endpoint, imap::Login::Bearer { mechanism, token: &token }).await?)
            }
            other => Ok(other?),
        }
    }

    /// Log in and remember the capabilities the server announced.
    pub(crate) async fn connect(&self) -> Result<Connected> {
        let connected = self.login().await?;
        self.store.set_meta("capabilities", &connected.capabilities.join(" "))?;
        Ok(Connected::new(connected, &self.open_connections))
    }

    /// IMAP connections this engine holds open now.
    pub fn imap_connections(&self) -> usize {
        self.open_connections.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Check that the server is reachable and the login works (setup screen, `status`).
    pub async fn test_connection(&self) -> Result<Vec<String>> {
        self.with_session(async |c| Ok(c.capabilities.clone())).await
    }

    pub fn status(&self) -> Result<Status> {
        let folders = self.store.folder_summaries()?;
        let messages = folders.iter().map(|f| f.messages).sum();
        let last_sync_at = folders.iter().map(|f| f.last_sync_at).filter(|t| *t > 0).max();
        let capabilities = self.store.meta("capabilities")?.map(|c| c.split_whitespace().map(str::to_owned).collect()).unwrap_or_default();
        Ok(Status {
            advisor: self.config.advisor.id.to_string(),
            folders,
            messages,
            last_sync_at,
            capabilities,
            outbox: self.store.outbox_counts()?,
            connections_per_app: crate::connections::ConnectionPlan::new(
                self.config.imap.queues.len(),
                true,
                self.coordinated_by_database(),
            ),
        })
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The PEM file a config names as a certificate authority to trust (`ca_file`), read once
/// when the engine starts so a missing or unreadable file is named at once.
fn read_ca(path: Option<&std::path::Path>, key: &str) -> Result<Option<Vec<u8>>> {
    let Some(path) = path else { return Ok(None) };
    std::fs::read(path).map(Some).map_err(|e| {
        EngineError::Config(crate::config::ConfigError::Unreadable {
            path: path.to_owned(),
            reason: format!("{key}: {e} (a PEM file of the certificate authority to trust)"),
        })
    })
}
