//! IMAP sessions and the few commands Blendesk needs, each with a timeout and an error
//! that says what failed. The sync *decisions* live in the engine; this is the wire.

use async_imap::types::{Capability, Fetch, Flag};
use async_imap::{Client, Session};
use blendesk_domain::oauth::{sasl_initial_response, Mechanism};
use blendesk_domain::transport::{plain_allowed, Security};
use futures::TryStreamExt;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

pub trait ImapIo: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> ImapIo for T {}

/// A logged-in session that remembers whether a change notification (EXISTS, EXPUNGE,
/// FETCH flags, VANISHED) arrived among any command's answers: the commands drain the
/// library's bounded channel, and a dropped EXISTS would leave new mail waiting a whole
/// IDLE period. `pending_changes` reads and clears the mark.
pub struct ImapSession {
    inner: Session<Box<dyn ImapIo>>,
    changed: bool,
}

impl ImapSession {
    fn new(inner: Session<Box<dyn ImapIo>>) -> Self {
        ImapSession { inner, changed: false }
    }

    /// The next queued unsolicited response, noting a change as it passes.
    fn next_unsolicited(&mut self) -> Option<async_imap::types::UnsolicitedResponse> {
        let r = self.inner.unsolicited_responses.try_recv().ok()?;
        self.changed |= is_change(&r);
        Some(r)
    }
}

impl std::ops::Deref for ImapSession {
    type Target = Session<Box<dyn ImapIo>>;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl std::ops::DerefMut for ImapSession {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    /// PEM certificates of a certificate authority to trust besides the public ones (a
    /// company's own CA), for TLS and STARTTLS.
    pub ca_pem: Option<Vec<u8>>,
}

#[derive(Debug, Error)]
pub enum ImapError {
    #[error("cannot reach the IMAP server {host}:{port}: {reason}")]
    Unreachable { host: String, port: u16, reason: String },
    #[error("TLS with the IMAP server {host} failed: {reason}")]
    Tls { host: String, reason: String },
    #[error("the IMAP server refused the login for {user:?} (wrong user name or password?): {reason}")]
    LoginRefused { user: String, reason: String },
    #[error("plain-text IMAP is allowed only to this machine; use security = \"tls\" or \"starttls\" for {host}")]
    PlainRefused { host: String },
    #[error("IMAP {what} timed out after {secs} s")]
    Timeout { what: String, secs: u64 },
    #[error("IMAP {what} failed: {source}")]
    Command { what: String, source: async_imap::error::Error },
    #[error("IMAP {what}: unexpected answer from the server: {detail}")]
    Unexpected { what: String, detail: String },
}

impl ImapError {
    /// True when retrying later can help (network, timeouts); false for configuration
    /// problems (wrong password, plain text refused) that need a person.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unreachable { .. } | Self::Timeout { .. } | Self::Command { .. } | Self::Unexpected { .. })
            && !self.is_permission_denied()
    }

    /// The server answered the command with NO (rights, a missing folder, a limit): the
    /// connection is fine, the command was refused.
    pub fn is_refused(&self) -> bool {
        // The library reports a refused APPEND (e.g. `NO [TRYCREATE]`) as its own variant.
        matches!(self, Self::Command { source: async_imap::error::Error::No(_) | async_imap::error::Error::Append, .. })
    }

    /// The server refused a command for lack of rights (RFC 4314 ACLs: `NO [NOPERM]`).
    /// Retrying does not help; the mailbox owner has to grant the right.
    pub fn is_permission_denied(&self) -> bool {
        match self {
            Self::Command { source: async_imap::error::Error::No(reason), .. } => {
                let r = reason.to_ascii_lowercase();
                r.contains("noperm") || r.contains("permission denied")
            }
            _ => false,
        }
    }
}

pub type Result<T> = std::result::Result<T, ImapError>;

/// Commands normally answer within seconds; a folder fetch of thousands of messages may
/// take longer, so bulk fetches get their own budget.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
pub const BULK_TIMEOUT: Duration = Duration::from_secs(600);

async fn timed<T, F>(what: &str, dur: Duration, fut: F) -> Result<T>
where
    F: std::future::Future<Output = std::result::Result<T, async_imap::error::Error>>,
{
    match tokio::time::timeout(dur, fut).await {
        Ok(r) => r.map_err(|source| ImapError::Command { what: what.to_owned(), source }),
        Err(_) => Err(ImapError::Timeout { what: what.to_owned(), secs: dur.as_secs() }),
    }
}

/// The public roots, plus the PEM certificates in `extra_ca` (a company's own CA).
pub fn root_store(extra_ca: Option<&[u8]>, host: &str) -> Result<rustls::RootCertStore> {
    use rustls::pki_types::pem::PemObject;
    let bad = |reason: String| ImapError::Tls { host: host.to_owned(), reason };
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_ca {
        let mut added = 0;
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| bad(format!("the CA file is not PEM certificates: {e}")))?;
            roots.add(cert).map_err(|e| bad(format!("a certificate in the CA file is unusable: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(bad("the CA file holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)".into()));
        }
    }
    Ok(roots)
}

fn tls_connector(roots: rustls::RootCertStore) -> tokio_rustls::TlsConnector {
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth());
    let config = match config {
        Ok(c) => c,
        // The ring provider always supports the default protocol versions.
        Err(_) => unreachable!("ring supports TLS 1.2 and 1.3"),
    };
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

async fn tls_wrap(endpoint: &Endpoint, tcp: TcpStream) -> Result<Box<dyn ImapIo>> {
    let host = endpoint.host.as_str();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| ImapError::Tls { host: host.to_owned(), reason: e.to_string() })?;
    let connector = tls_connector(root_store(endpoint.ca_pem.as_deref(), host)?);
    let stream = connector.connect(name, tcp).await.map_err(|e| ImapError::Tls { host: host.to_owned(), reason: e.to_string() })?;
    Ok(Box::new(stream))
}

/// A logged-in session and the capabilities the server announced after login.
pub struct Connected {
    pub session: ImapSession,
    pub capabilities: Vec<String>,
}

impl Connected {
    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c.eq_ignore_ascii_case(capability))
    }
}

/// How to log in: a password (LOGIN), or an OAuth2 access token by SASL.
#[derive(Clone, Copy)]
pub enum Login<'a> {
    Password(&'a str),
    Bearer { mechanism: Mechanism, token: &'a str },
}

impl Debug for Login<'_> {
    // Never the secret itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Login::Password(_) => f.write_str("Login::Password(..)"),
            Login::Bearer { mechanism, .. } => write!(f, "Login::Bearer({})", mechanism.name()),
        }
    }
}

/// The SASL exchange for a bearer token: the initial response first; to the error
/// challenge a failing server sends, the answer that ends the exchange (empty for
/// XOAUTH2, `^A` for OAUTHBEARER, RFC 7628 §3.2.3) so the server answers NO.
struct BearerAuth {
    initial: Option<String>,
    mechanism: Mechanism,
}

impl async_imap::Authenticator for BearerAuth {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        match self.initial.take() {
            Some(first) => first,
            None if self.mechanism == Mechanism::Oauthbearer => "\x01".to_owned(),
            None => String::new(),
        }
    }
}

/// Connect, secure and log in with a password.
pub async fn connect(endpoint: &Endpoint, password: &str) -> Result<Connected> {
    connect_with(endpoint, Login::Password(password)).await
}

/// Connect, secure and log in (LOGIN, or AUTHENTICATE XOAUTH2 / OAUTHBEARER).
pub async fn connect_with(endpoint: &Endpoint, login: Login<'_>) -> Result<Connected> {
    let host = endpoint.host.as_str();
    if endpoint.security == Security::Plain && !plain_allowed(host) {
        return Err(ImapError::PlainRefused { host: host.to_owned() });
    }
    let unreachable = |reason: String| ImapError::Unreachable { host: host.to_owned(), port: endpoint.port, reason };
    let tcp = tokio::time::timeout(Duration::from_secs(20), TcpStream::connect((host, endpoint.port)))
        .await
        .map_err(|_| unreachable("no answer within 20 s".into()))?
        .map_err(|e| unreachable(e.to_string()))?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn ImapIo> = match endpoint.security {
        Security::Tls => tls_wrap(endpoint, tcp).await?,
        Security::Plain => Box::new(tcp),
        Security::Starttls => {
            let mut client = Client::new(tcp);
            read_greeting(&mut client, host).await?;
            timed("STARTTLS", COMMAND_TIMEOUT, client.run_command_and_check_ok("STARTTLS", None)).await?;
            tls_wrap(endpoint, client.into_inner()).await?
        }
    };
    let mut client = Client::new(stream);
    if endpoint.security != Security::Starttls {
        read_greeting(&mut client, host).await?;
    }
    let (what, login) = match login {
        Login::Password(password) => ("LOGIN", tokio::time::timeout(COMMAND_TIMEOUT, client.login(&endpoint.username, password)).await),
        Login::Bearer { mechanism, token } => {
            let initial = sasl_initial_response(mechanism, &endpoint.username, token, host, endpoint.port)
                .map_err(|e| ImapError::Unexpected { what: "AUTHENTICATE".into(), detail: e.to_string() })?;
            let auth = BearerAuth { initial: Some(initial), mechanism };
            ("AUTHENTICATE", tokio::time::timeout(COMMAND_TIMEOUT, client.authenticate(mechanism.name(), auth)).await)
        }
    };
    let mut session = match login {
        Err(_) => return Err(ImapError::Timeout { what: what.into(), secs: COMMAND_TIMEOUT.as_secs() }),
        Ok(Err((async_imap::error::Error::No(reason), _))) => {
            return Err(ImapError::LoginRefused { user: endpoint.username.clone(), reason })
        }
        Ok(Err((source, _))) => return Err(ImapError::Command { what: what.into(), source }),
        Ok(Ok(session)) => session,
    };
    let caps = timed("CAPABILITY", COMMAND_TIMEOUT, session.capabilities()).await?;
    let capabilities = caps
        .iter()
        .map(|c| match c {
            Capability::Imap4rev1 => "IMAP4rev1".to_owned(),
            Capability::Auth(a) => format!("AUTH={a}"),
            Capability::Atom(a) => a.to_string(),
        })
        .collect();
    Ok(Connected { session: ImapSession::new(session), capabilities })
}

async fn read_greeting<T: ImapIo>(client: &mut Client<T>, host: &str) -> Result<()> {
    match tokio::time::timeout(Duration::from_secs(20), client.read_response()).await {
        Ok(Ok(Some(_))) => Ok(()),
        Ok(Ok(None)) => Err(ImapError::Unreachable { host: host.to_owned(), port: 0, reason: "closed before greeting".into() }),
        Ok(Err(e)) => Err(ImapError::Unreachable { host: host.to_owned(), port: 0, reason: e.to_string() }),
        Err(_) => Err(ImapError::Timeout { what: "greeting".into(), secs: 20 }),
    }
}

/// Empty the library's queue of unsolicited responses (its channel is bounded): the
/// engine re-reads state from the server instead of trusting their contents, but a
/// change among them is remembered (`pending_changes`), never thrown away.
pub fn drain_unsolicited(session: &mut ImapSession) -> usize {
    let mut n = 0;
    while session.next_unsolicited().is_some() {
        n += 1;
    }
    n
}

/// An IMAP quoted string; `None` for names that cannot be quoted (CR, LF, NUL).
fn quoted(name: &str) -> Option<String> {
    if name.chars().any(|c| matches!(c, '\r' | '\n' | '\0')) {
        return None;
    }
    Some(format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\"")))
}

/// This login's rights on `folder` as RFC 4314 letters (`MYRIGHTS`), e.g. `"lrsw"`.
/// Only for servers that announce `ACL`. Dovecot refuses an APPEND without the insert
/// right before the message is sent, and the client library then loses the reason:
/// asking first lets the caller say what is missing.
pub async fn my_rights(session: &mut ImapSession, folder: &str) -> Result<String> {
    use async_imap::imap_proto::{rfc4314::AclRight, Response};
    use async_imap::types::UnsolicitedResponse;
    let what = format!("MYRIGHTS {folder}");
    let name = quoted(folder).ok_or_else(|| ImapError::Unexpected { what: what.clone(), detail: "folder name has a line break".into() })?;
    drain_unsolicited(session);
    timed(&what, COMMAND_TIMEOUT, session.run_command_and_check_ok(format!("MYRIGHTS {name}"))).await?;
    let mut rights = None;
    while let Some(r) = session.next_unsolicited() {
        if let UnsolicitedResponse::Other(data) = r {
            if let Response::MyRights(m) = data.parsed() {
                let letters: String = m
                    .rights
                    .iter()
                    .map(|r| match r {
                        AclRight::Lookup => 'l',
                        AclRight::Read => 'r',
                        AclRight::Seen => 's',
                        AclRight::Write => 'w',
                        AclRight::Insert => 'i',
                        AclRight::Post => 'p',
                        AclRight::CreateMailbox => 'k',
                        AclRight::DeleteMailbox => 'x',
                        AclRight::DeleteMessage => 't',
                        AclRight::Expunge => 'e',
                        AclRight::Administer => 'a',
                        AclRight::Annotation => 'n',
                        AclRight::OldCreate => 'c',
                        AclRight::OldDelete => 'd',
                        AclRight::Custom(c) => *c,
                    })
                    .collect();
                rights = Some(letters);
            }
        }
    }
    rights.ok_or_else(|| ImapError::Unexpected { what, detail: "no MYRIGHTS answer".into() })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    pub uidvalidity: u32,
    pub uidnext: u32,
    pub highestmodseq: Option<u64>,
    pub exists: u32,
    /// PERMANENTFLAGS has `\*`: this login may store new keywords here (the server
    /// supports them and, with ACLs, grants the write right).
    pub keywords_allowed: bool,
    /// The folder's keywords as the untagged FLAGS list names them: every keyword the
    /// mailbox has ever seen (Dovecot and Cyrus keep a name once used). A conditional
    /// STORE of a keyword not in this list is not safe on Dovecot (see `claims`).
    pub keywords: Vec<String>,
}

/// SELECT a folder (with CONDSTORE when the server has it, so MODSEQs are reported).
pub async fn select(session: &mut ImapSession, folder: &str, condstore: bool) -> Result<Selected> {
    let what = format!("SELECT {folder}");
    let mb = if condstore {
        timed(&what, COMMAND_TIMEOUT, session.select_condstore(folder)).await?
    } else {
        timed(&what, COMMAND_TIMEOUT, session.select(folder)).await?
    };
    drain_unsolicited(session);
    let uidvalidity = mb.uid_validity.ok_or_else(|| ImapError::Unexpected { what: what.clone(), detail: "no UIDVALIDITY".into() })?;
    let keywords_allowed = mb.permanent_flags.iter().any(|f| matches!(f, Flag::MayCreate));
    let keywords = mb.flags.iter().filter_map(|f| if let Flag::Custom(c) = f { Some(c.to_string()) } else { None }).collect();
    Ok(Selected {
        uidvalidity,
        uidnext: mb.uid_next.unwrap_or(0),
        highestmodseq: mb.highest_modseq,
        exists: mb.exists,
        keywords_allowed,
        keywords,
    })
}

/// Create a folder; an existing folder is not an error. Neither is a refusal for lack of
/// rights: in a mailbox shared through ACLs the owner creates the folders and advisors
/// may not, so the next command on the folder is the one that reports a real problem.
pub async fn create_folder(session: &mut ImapSession, folder: &str) -> Result<()> {
    match tokio::time::timeout(COMMAND_TIMEOUT, session.create(folder)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(async_imap::error::Error::No(reason))) if reason.to_ascii_lowercase().contains("exist") => Ok(()),
        Ok(Err(source)) => {
            let e = ImapError::Command { what: format!("CREATE {folder}"), source };
            if e.is_permission_denied() {
                Ok(())
            } else {
                Err(e)
            }
        }
        Err(_) => Err(ImapError::Timeout { what: format!("CREATE {folder}"), secs: COMMAND_TIMEOUT.as_secs() }),
    }
}

pub fn flag_names(fetch: &Fetch) -> Vec<String> {
    fetch
        .flags()
        .filter_map(|f| match f {
            Flag::Seen => Some("\\Seen".to_owned()),
            Flag::Answered => Some("\\Answered".to_owned()),
            Flag::Flagged => Some("\\Flagged".to_owned()),
            Flag::Deleted => Some("\\Deleted".to_owned()),
            Flag::Draft => Some("\\Draft".to_owned()),
            // \Recent is per-session and meaningless to mirror.
            Flag::Recent | Flag::MayCreate => None,
            Flag::Custom(c) => Some(c.to_string()),
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMeta {
    pub uid: u32,
    pub flags: Vec<String>,
    pub modseq: u64,
    pub size: u32,
    pub internal_date: i64,
}

/// UID, flags, size, arrival time (and MODSEQ) of the messages in `uid_set`.
pub async fn fetch_meta(session: &mut ImapSession, uid_set: &str, condstore: bool) -> Result<Vec<MessageMeta>> {
    let query = if condstore { "(UID FLAGS RFC822.SIZE INTERNALDATE MODSEQ)" } else { "(UID FLAGS RFC822.SIZE INTERNALDATE)" };
    let what = format!("UID FETCH {uid_set} meta");
    let out = timed(&what, BULK_TIMEOUT, async {
        let stream = session.uid_fetch(uid_set, query).await?;
        stream
            .try_filter_map(|f| async move {
                Ok(f.uid.map(|uid| MessageMeta {
                    uid,
                    flags: flag_names(&f),
                    modseq: f.modseq.unwrap_or(0),
                    size: f.size.unwrap_or(0),
                    internal_date: f.internal_date().map(|d| d.timestamp()).unwrap_or(0),
                }))
            })
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    drain_unsolicited(session);
    Ok(out)
}

/// Full raw messages (`BODY.PEEK[]`, so \Seen is not set) or only their headers.
pub async fn fetch_raw(session: &mut ImapSession, uid_set: &str, headers_only: bool) -> Result<Vec<(u32, Vec<u8>)>> {
    let query = if headers_only { "(UID BODY.PEEK[HEADER])" } else { "(UID BODY.PEEK[])" };
    let what = format!("UID FETCH {uid_set} {}", if headers_only { "headers" } else { "bodies" });
    let out = timed(&what, BULK_TIMEOUT, async {
        let stream = session.uid_fetch(uid_set, query).await?;
        stream
            .try_filter_map(|f| async move {
                let bytes = if headers_only { f.header() } else { f.body() };
                Ok(f.uid.map(|uid| (uid, bytes.map(<[u8]>::to_vec).unwrap_or_default())))
            })
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    drain_unsolicited(session);
    Ok(out)
}

/// Flags of every message changed since `modseq` (CONDSTORE), or of all messages when
/// `modseq` is `None`.
pub async fn fetch_flags(session: &mut ImapSession, since_modseq: Option<u64>) -> Result<Vec<(u32, Vec<String>, u64)>> {
    let query = match since_modseq {
        Some(m) => format!("(UID FLAGS) (CHANGEDSINCE {m})"),
        None => "(UID FLAGS)".to_owned(),
    };
    let out = timed("UID FETCH flags", BULK_TIMEOUT, async {
        let stream = session.uid_fetch("1:*", &query).await?;
        stream
            .try_filter_map(|f| async move { Ok(f.uid.map(|uid| (uid, flag_names(&f), f.modseq.unwrap_or(0)))) })
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    drain_unsolicited(session);
    Ok(out)
}

/// The folders under `parent` (one level: `parent/%`), by their full names.
pub async fn list_children(session: &mut ImapSession, parent: &str) -> Result<Vec<String>> {
    let pattern = quoted(&format!("{parent}/%"))
        .ok_or_else(|| ImapError::Unexpected { what: format!("LIST {parent}"), detail: "folder name has a line break".into() })?;
    let out = timed(&format!("LIST {parent}"), COMMAND_TIMEOUT, async {
        let stream = session.list(Some(""), Some(&pattern)).await?;
        stream.map_ok(|n| n.name().to_owned()).try_collect::<Vec<_>>().await
    })
    .await?;
    drain_unsolicited(session);
    Ok(out)
}

/// Every UID in the selected folder, ascending.
pub async fn all_uids(session: &mut ImapSession) -> Result<Vec<u32>> {
    let set = timed("UID SEARCH ALL", COMMAND_TIMEOUT, session.uid_search("ALL")).await?;
    drain_unsolicited(session);
    let mut uids: Vec<u32> = set.into_iter().collect();
    uids.sort_unstable();
    Ok(uids)
}

/// UIDs of messages whose Message-ID header is `message_id` (no brackets).
pub async fn search_message_id(session: &mut ImapSession, message_id: &str) -> Result<Vec<u32>> {
    let quoted = message_id.replace('\\', "\\\\").replace('"', "\\\"");
    let query = format!("HEADER Message-ID \"<{quoted}>\"");
    let set = timed("UID SEARCH Message-ID", COMMAND_TIMEOUT, session.uid_search(&query)).await?;
    drain_unsolicited(session);
    Ok(set.into_iter().collect())
}

pub async fn append(session: &mut ImapSession, folder: &str, flags: &str, raw: &[u8]) -> Result<()> {
    timed(&format!("APPEND {folder}"), COMMAND_TIMEOUT, session.append(folder, Some(flags), None, raw)).await?;
    drain_unsolicited(session);
    Ok(())
}

/// APPEND with an INTERNALDATE (`"30-Nov-2026 09:15:00 +0000"`): mail as it arrived on
/// another day (imports, tests of history).
pub async fn append_at(session: &mut ImapSession, folder: &str, flags: &str, internal_date: &str, raw: &[u8]) -> Result<()> {
    // The library sends the date as given: it goes quoted, and only a date's characters.
    if !internal_date.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '+' | ':')) {
        return Err(ImapError::Unexpected {
            what: format!("APPEND {folder}"),
            detail: format!("not an IMAP date-time: {internal_date:?}"),
        });
    }
    let quoted = format!("\"{internal_date}\"");
    timed(&format!("APPEND {folder}"), COMMAND_TIMEOUT, session.append(folder, Some(flags), Some(&quoted), raw)).await?;
    drain_unsolicited(session);
    Ok(())
}

/// `UID STORE uid <change>` — e.g. `+FLAGS.SILENT (\Answered)`. A NO (a keyword the
/// server does not keep, a folder this login may not write) is an error: async-imap's
/// own `uid_store` stream ends quietly on one, which would report a refused write as done.
pub async fn store(session: &mut ImapSession, uid: u32, change: &str) -> Result<()> {
    let what = format!("UID STORE {uid}");
    drain_unsolicited(session);
    tagged(session, &what, format!("UID STORE {uid} {change}")).await?;
    drain_unsolicited(session);
    Ok(())
}

/// Runs `command` and reads up to its tagged answer: the answer's text when OK, an
/// error naming `what` on NO or BAD. Untagged answers in between are read and dropped.
async fn tagged(session: &mut ImapSession, what: &str, command: String) -> Result<String> {
    use async_imap::imap_proto::{Response, Status};
    let answer = timed(what, COMMAND_TIMEOUT, async {
        let tag = session.run_command(command).await?;
        loop {
            let Some(data) = session.read_response().await? else { return Err(async_imap::error::Error::ConnectionLost) };
            if let Response::Done { tag: t, status, outcome } = data.parsed() {
                if *t == tag {
                    let text = outcome.information.as_deref().unwrap_or_default().to_owned();
                    return Ok(match status {
                        Status::Ok => Ok(text),
                        Status::No => Err(async_imap::error::Error::No(text)),
                        _ => Err(async_imap::error::Error::Bad(text)),
                    });
                }
            }
        }
    })
    .await?;
    answer.map_err(|source| ImapError::Command { what: what.to_owned(), source })
}

pub async fn logout(mut session: ImapSession) {
    let _ = tokio::time::timeout(Duration::from_secs(5), session.logout()).await;
}

/// How an IDLE wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleEnd {
    /// The server reported a change (new mail, expunge, flags).
    Changed,
    /// Nothing happened within the re-IDLE period.
    Timeout,
    /// The application asked to stop waiting.
    Interrupted,
}

/// Wait in IDLE for up to `period`. Dovecot sends a keep-alive every 2 minutes, and
/// servers may drop IDLE after 30 minutes: callers re-IDLE every few minutes, so a dead
/// connection is noticed within one period.
pub async fn idle(
    session: ImapSession,
    period: Duration,
    interrupt: impl std::future::Future<Output = ()>,
) -> std::result::Result<(ImapSession, IdleEnd), ImapError> {
    // Changes the server reports before its "+ idling" land in the unsolicited channel,
    // not in the wait: look there first, or they wait out the whole period.
    // Never IDLE over a change already reported: the caller syncs first.
    if session.changed {
        return Ok((session, IdleEnd::Changed));
    }
    let early = session.unsolicited_responses.clone();
    let mut handle = session.inner.idle();
    timed("IDLE", COMMAND_TIMEOUT, handle.init()).await?;
    let reported_early = std::iter::from_fn(|| early.try_recv().ok()).filter(is_change).count() > 0;
    let end = if reported_early {
        IdleEnd::Changed
    } else {
        let (wait, stop) = handle.wait_with_timeout(period);
        tokio::select! {
            r = wait => {
                match r.map_err(|source| ImapError::Command { what: "IDLE".into(), source })? {
                    async_imap::extensions::idle::IdleResponse::NewData(_) => IdleEnd::Changed,
                    async_imap::extensions::idle::IdleResponse::Timeout => IdleEnd::Timeout,
                    async_imap::extensions::idle::IdleResponse::ManualInterrupt => IdleEnd::Interrupted,
                }
            }
            _ = interrupt => { drop(stop); IdleEnd::Interrupted }
        }
    };
    let mut session = ImapSession::new(timed("IDLE DONE", COMMAND_TIMEOUT, handle.done()).await?);
    drain_unsolicited(&mut session);
    // The change that ended the wait is being answered by the caller's sync.
    session.changed = false;
    Ok((session, end))
}

/// Whether an unsolicited response says the selected folder changed (new mail, flags,
/// expunges), as opposed to an alert or a capability.
fn is_change(r: &async_imap::types::UnsolicitedResponse) -> bool {
    use async_imap::imap_proto::Response;
    use async_imap::types::UnsolicitedResponse as U;
    matches!(r, U::Exists(_) | U::Recent(_) | U::Expunge(_))
        || matches!(r, U::Other(d) if matches!(d.parsed(), Response::Fetch(..) | Response::Vanished { .. }))
}

/// Whether the server has changes to report for the selected folder that the caller has
/// not read: what unsolicited responses are waiting, and what a `NOOP` brings. The
/// watcher asks before each IDLE, so a change during its catch-up sync (its
/// notification arrives among a sync command's answers) is synced at once, not after
/// a whole IDLE period.
pub async fn pending_changes(session: &mut ImapSession) -> Result<bool> {
    drain_unsolicited(session);
    if std::mem::take(&mut session.changed) {
        return Ok(true);
    }
    timed("NOOP", COMMAND_TIMEOUT, session.noop()).await?;
    drain_unsolicited(session);
    Ok(std::mem::take(&mut session.changed))
}

/// IMAP's month names (RFC 3501 `date-month`).
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

fn utc(unix_s: i64) -> time::OffsetDateTime {
    // Beyond what a date can say: the epoch (a SEARCH or APPEND date, never a panic).
    time::OffsetDateTime::from_unix_timestamp(unix_s).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// IMAP's date (`4-Dec-2026`, UTC) of a Unix time, for `SEARCH BEFORE`/`SINCE`.
pub fn search_date(unix_s: i64) -> String {
    let t = utc(unix_s);
    format!("{}-{}-{}", t.day(), MONTHS[usize::from(u8::from(t.month())) - 1], t.year())
}

/// IMAP's date-time (`04-Dec-2026 09:05:00 +0000`) of a Unix time, for `append_at`.
pub fn date_time(unix_s: i64) -> String {
    let t = utc(unix_s);
    let month = MONTHS[usize::from(u8::from(t.month())) - 1];
    format!("{:02}-{month}-{} {:02}:{:02}:{:02} +0000", t.day(), t.year(), t.hour(), t.minute(), t.second())
}

/// A compact UID set ("1:5,9,12:14") for ascending `uids`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end + 1 {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// `UID STORE uid (UNCHANGEDSINCE modseq) <change>` (CONDSTORE, RFC 7162). The server
/// applies the change only if the message's MODSEQ is still `modseq`; a failed condition
/// is reported with `[MODIFIED]` in an OK answer, so callers read the flags back to learn
/// the outcome (see `flags_of`).
pub async fn store_unchanged_since(session: &mut ImapSession, uid: u32, modseq: u64, change: &str) -> Result<()> {
    let what = format!("UID STORE {uid} UNCHANGEDSINCE {modseq}");
    timed(&what, COMMAND_TIMEOUT, async {
        let stream = session.uid_store(uid.to_string(), format!("(UNCHANGEDSINCE {modseq}) {change}")).await?;
        stream.try_collect::<Vec<_>>().await
    })
    .await?;
    drain_unsolicited(session);
    Ok(())
}

/// Flags and MODSEQ of one message, or `None` if it is gone.
pub async fn flags_of(session: &mut ImapSession, uid: u32) -> Result<Option<(Vec<String>, u64)>> {
    let what = format!("UID FETCH {uid} flags");
    let out = timed(&what, COMMAND_TIMEOUT, async {
        let stream = session.uid_fetch(uid.to_string(), "(UID FLAGS MODSEQ)").await?;
        stream
            .try_filter_map(|f| async move { Ok(f.uid.filter(|u| *u == uid).map(|_| (flag_names(&f), f.modseq.unwrap_or(0)))) })
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    drain_unsolicited(session);
    Ok(out.into_iter().next())
}

/// Delete messages by UID: `UID STORE +FLAGS.SILENT (\\Deleted)` then `UID EXPUNGE`
/// (UIDPLUS), so nothing else marked deleted in the folder is expunged with them.
pub async fn delete_uids(session: &mut ImapSession, uids: &[u32]) -> Result<()> {
    if uids.is_empty() {
        return Ok(());
    }
    let set = uid_set(uids);
    timed("UID STORE \\Deleted", COMMAND_TIMEOUT, async {
        let stream = session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)").await?;
        stream.try_collect::<Vec<_>>().await
    })
    .await?;
    timed("UID EXPUNGE", COMMAND_TIMEOUT, async {
        let stream = session.uid_expunge(&set).await?;
        stream.try_collect::<Vec<_>>().await
    })
    .await?;
    drain_unsolicited(session);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config's `ca_file` that holds no usable certificate is a clear TLS error, never
    /// a silent fall-back to the public roots alone.
    #[test]
    fn a_ca_file_must_hold_pem_certificates() {
        assert!(root_store(None, "h").is_ok());
        for bad in [&b""[..], b"not a certificate", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"] {
            match root_store(Some(bad), "h") {
                Err(ImapError::Tls { reason, .. }) => assert!(reason.contains("CA file"), "{reason}"),
                other => panic!("{:?} accepted: {:?}", String::from_utf8_lossy(bad), other.map(|r| r.len())),
            }
        }
    }

    #[test]
    fn uid_sets_are_compact() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(uid_set(&[4]), "4");
        assert_eq!(uid_set(&[]), "");
    }

    #[test]
    fn dates_are_written_as_imap_reads_them() {
        // 2026-12-04 09:05:07 UTC and the first second of 2027.
        assert_eq!(search_date(1_796_375_107), "4-Dec-2026");
        assert_eq!(date_time(1_796_375_107), "04-Dec-2026 09:05:07 +0000");
        assert_eq!(search_date(1_798_761_600), "1-Jan-2027");
        assert_eq!(date_time(0), "01-Jan-1970 00:00:00 +0000");
        // Out of range: the epoch, not a panic.
        assert_eq!(search_date(i64::MAX), "1-Jan-1970");
    }
}

/// `UID SEARCH <query>` in the selected folder, e.g. `KEYWORD $Resolved`.
pub async fn uid_search(session: &mut ImapSession, query: &str) -> Result<Vec<u32>> {
    let set = timed(&format!("UID SEARCH {query}"), COMMAND_TIMEOUT, session.uid_search(query)).await?;
    drain_unsolicited(session);
    let mut uids: Vec<u32> = set.into_iter().collect();
    uids.sort_unstable();
    Ok(uids)
}

/// How a conditional STORE ended, from the server's own answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conditional {
    /// Answered OK without `[MODIFIED]`: the server applied the change.
    Applied,
    /// `[MODIFIED]`: the message changed since the MODSEQ given; nothing was written.
    Modified,
}

/// `UID STORE uid (UNCHANGEDSINCE modseq) <change>`, telling whether the server applied
/// it (RFC 7162: a skipped message is named in `[MODIFIED …]` of an OK answer). The
/// client library does not surface that code, so the tagged answer is read here.
/// A `NO` (e.g. Cyrus's "Too many user flags in mailbox") is a `Command` error.
pub async fn store_conditional(session: &mut ImapSession, uid: u32, modseq: u64, change: &str) -> Result<Conditional> {
    let what = format!("UID STORE {uid} UNCHANGEDSINCE {modseq}");
    drain_unsolicited(session);
    let text = tagged(session, &what, format!("UID STORE {uid} (UNCHANGEDSINCE {modseq}) {change}")).await?;
    Ok(if text.to_ascii_uppercase().contains("[MODIFIED") { Conditional::Modified } else { Conditional::Applied })
}

/// Cyrus refuses a STORE that would give a folder more distinct keywords than it keeps
/// (100 by default): `NO Too many user flags in mailbox`.
pub fn is_keyword_limit(e: &ImapError) -> bool {
    match e {
        ImapError::Command { source: async_imap::error::Error::No(reason), .. } => {
            reason.to_ascii_lowercase().contains("too many user flags")
        }
        _ => false,
    }
}
