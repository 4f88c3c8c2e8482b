//! The call-event socket.
//!
//! A softphone runs `blendesk call start|end` on call events; that command reaches the
//! running desktop app through a Unix socket in `$XDG_RUNTIME_DIR` (mode 0600, and the
//! peer's uid checked with SO_PEERCRED). The protocol is one JSON line per request,
//! `{"call":"start"}` or `{"call":"end"}`, optionally with the softphone's call id, the
//! customer's number and the direction (`{"call":"start","id":"c-42",
//! "number":"+8613800138000","direction":"inbound"}`), answered by one JSON line,
//! `{"ok":true,"state":"on_call"}` or `{"ok":false,"error":"..."}`.
//!
//! A call event only changes the advisor's state: the socket never sends mail and never
//! returns data beyond the resulting state. Loopback HTTP is deliberately not offered
//! (any web page can reach 127.0.0.1).

use serde::{Deserialize, Serialize};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// The longest request line accepted; anything longer is refused without parsing.
pub const MAX_REQUEST_BYTES: usize = 256;
/// How long a client may take to send its line before the server hangs up.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallEvent {
    Start,
    End,
    /// The customer is put on hold (talk time stops, hold time runs).
    Hold,
    /// Back from hold.
    Resume,
}

/// Who rang whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// One call event with what the softphone knows about the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallRequest {
    pub call: CallEvent,
    /// The softphone's call id: letters, digits, `.`, `_`, `-`, at most 64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The customer's number: `+` and digits (spaces and dashes dropped), at most 20 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
}

impl CallRequest {
    pub fn new(call: CallEvent) -> Self {
        Self { call, id: None, number: None, direction: None }
    }

    /// The request with its number in one spelling, or why it is refused.
    pub fn checked(mut self) -> Result<Self, String> {
        if let Some(id) = &self.id {
            if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
                return Err("call id: letters, digits, '.', '_' or '-', at most 64".into());
            }
        }
        if let Some(number) = &self.number {
            self.number = Some(normalise_number(number)?);
        }
        Ok(self)
    }
}

/// A phone number in one spelling: `+` (when written) and digits, spaces, dashes and
/// brackets dropped; anything else, or more than 20 digits, is refused.
pub fn normalise_number(number: &str) -> Result<String, String> {
    let plus = number.trim_start().starts_with('+');
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let allowed = number.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'));
    if !allowed || digits.is_empty() || digits.len() > 20 {
        return Err("number: digits, an optional leading '+', at most 20 digits".into());
    }
    Ok(if plus { format!("+{digits}") } else { digits })
}

/// The advisor state after the event, as the app reports it (`available`, `on_call`,
/// `wrap_up`, `away`, `offline`).
pub type State = String;

#[derive(Debug, Serialize, Deserialize)]
struct Reply {
    ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Error)]
pub enum ControlError {
    #[error("Blendesk is not running for this advisor (no socket at {0})")]
    NotRunning(PathBuf),
    #[error("cannot use the call socket {path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("the desktop app refused the call event: {0}")]
    Refused(String),
    #[error("the desktop app did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the desktop app sent an answer that is not understood: {0}")]
    BadReply(String),
    #[error("another Blendesk is already listening on {0}")]
    InUse(PathBuf),
    #[error("no private runtime directory: set XDG_RUNTIME_DIR")]
    NoRuntimeDir,
}

/// `$XDG_RUNTIME_DIR/blendesk-<advisor>.sock`. The advisor id alphabet (`[a-z0-9_]`) keeps
/// this a plain file name.
pub fn socket_path(advisor_id: &str) -> Result<PathBuf, ControlError> {
    let dir = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()).ok_or(ControlError::NoRuntimeDir)?;
    Ok(PathBuf::from(dir).join(format!("blendesk-{advisor_id}.sock")))
}

/// Send one call event to the running app and return the state it reports.
pub async fn send_call_event(socket_path: &Path, event: CallEvent) -> Result<State, ControlError> {
    send_call(socket_path, &CallRequest::new(event)).await
}

/// Send one call event with what is known about the call.
pub async fn send_call(socket_path: &Path, request: &CallRequest) -> Result<State, ControlError> {
    let timeout = Duration::from_secs(5);
    match tokio::time::timeout(timeout, exchange(socket_path, request)).await {
        Ok(r) => r,
        Err(_) => Err(ControlError::Timeout(timeout)),
    }
}

async fn exchange(path: &Path, request: &CallRequest) -> Result<State, ControlError> {
    let io = |e: std::io::Error| ControlError::Io { path: path.to_owned(), reason: e.to_string() };
    let mut stream = match UnixStream::connect(path).await {
        Ok(s) => s,
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused) => {
            return Err(ControlError::NotRunning(path.to_owned()))
        }
        Err(e) => return Err(io(e)),
    };
    let mut line = serde_json::to_string(request).map_err(|e| ControlError::BadReply(e.to_string()))?;
    line.push('\n');
    stream.write_all(line.as_bytes()).await.map_err(io)?;
    let mut reply = String::new();
    BufReader::new(stream.take(4096)).read_line(&mut reply).await.map_err(io)?;
    let reply: Reply = serde_json::from_str(reply.trim()).map_err(|e| ControlError::BadReply(format!("{e}: {reply:?}")))?;
    match (reply.ok, reply.state, reply.error) {
        (true, Some(state), _) => Ok(state),
        (false, _, Some(err)) => Err(ControlError::Refused(err)),
        (ok, state, error) => Err(ControlError::BadReply(format!("ok={ok} state={state:?} error={error:?}"))),
    }
}

/// What the app does with a call event: apply it and return the resulting state, or an
/// error message for the caller.
pub type Handler = Arc<dyn Fn(CallRequest) -> Result<State, String> + Send + Sync>;

/// A bound call socket. Dropping it removes the socket file.
pub struct CallSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl CallSocket {
    /// Bind at `path` with mode 0600. A stale socket (left by a crash: nobody answers) is
    /// replaced; a live one means another instance runs and is an error.
    pub async fn bind(path: &Path) -> Result<Self, ControlError> {
        let io = |e: std::io::Error| ControlError::Io { path: path.to_owned(), reason: e.to_string() };
        if path.exists() {
            if UnixStream::connect(path).await.is_ok() {
                return Err(ControlError::InUse(path.to_owned()));
            }
            std::fs::remove_file(path).map_err(io)?;
        }
        // Create the socket with no group/other bits from the start (umask), then set
        // 0600 explicitly: there is no moment when another user may connect.
        let listener = {
            // SAFETY: umask only swaps the process file-mode mask; restored right after.
            let old = unsafe { libc::umask(0o177) };
            let bound = UnixListener::bind(path);
            unsafe { libc::umask(old) };
            bound.map_err(io)?
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        Ok(Self { listener, path: path.to_owned() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Accept connections until the task is dropped or aborted. Each connection carries
    /// one request.
    pub async fn serve(self, handler: Handler) {
        // SAFETY: geteuid cannot fail.
        let my_uid = unsafe { libc::geteuid() };
        loop {
            let stream = match self.listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!("call socket: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let handler = handler.clone();
            tokio::spawn(async move {
                if let Err(e) = serve_one(stream, my_uid, handler).await {
                    tracing::debug!("call socket: {e}");
                }
            });
        }
    }
}

impl Drop for CallSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

async fn serve_one(mut stream: UnixStream, my_uid: u32, handler: Handler) -> std::io::Result<()> {
    let cred = stream.peer_cred()?;
    if cred.uid() != my_uid {
        tracing::warn!("call socket: refused a connection from uid {}", cred.uid());
        return write_reply(&mut stream, Reply { ok: false, state: None, error: Some("permission denied".into()) }).await;
    }
    let mut line = Vec::new();
    let read = {
        let mut reader = BufReader::new((&mut stream).take(MAX_REQUEST_BYTES as u64 + 1));
        tokio::time::timeout(REQUEST_TIMEOUT, reader.read_until(b'\n', &mut line)).await
    };
    let reply = match read {
        Err(_) => Reply { ok: false, state: None, error: Some("request timed out".into()) },
        Ok(Err(e)) => return Err(e),
        Ok(Ok(_)) if line.len() > MAX_REQUEST_BYTES => Reply { ok: false, state: None, error: Some("request too long".into()) },
        Ok(Ok(_)) => match serde_json::from_slice::<CallRequest>(line.trim_ascii()).map(CallRequest::checked) {
            Err(_) => Reply {
                ok: false,
                state: None,
                error: Some(r#"expected {"call":"start"}, {"call":"end"}, {"call":"hold"} or {"call":"resume"}"#.into()),
            },
            Ok(Err(why)) => Reply { ok: false, state: None, error: Some(why) },
            Ok(Ok(req)) => match handler(req) {
                Ok(state) => Reply { ok: true, state: Some(state), error: None },
                Err(e) => Reply { ok: false, state: None, error: Some(e) },
            },
        },
    };
    write_reply(&mut stream, reply).await
}

async fn write_reply(stream: &mut UnixStream, reply: Reply) -> std::io::Result<()> {
    let mut out = serde_json::to_vec(&reply).map_err(std::io::Error::other)?;
    out.push(b'\n');
    stream.write_all(&out).await?;
    stream.shutdown().await?;
    // Discard what the client sent beyond the one line (bounded), so closing does not
    // reset the connection before the client has read the reply.
    let mut sink = [0u8; 1024];
    let drain = async {
        let mut left = 64 * 1024;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left -= n.min(left),
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(200), drain).await;
    Ok(())
}
