//! Test support for Blendesk: the project's real local mail stack (Dovecot + OpenSMTPD
//! on loopback, started by `tests/mail-stack.sh`) and isolated accounts on it.
//! Nothing here fakes a server.

use anyhow::{bail, Context, Result};
use blendesk_domain::transport::Security;
use blendesk_engine::config::Config;
use blendesk_mail::imap::{self, Endpoint, ImapSession};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Password of every `t_*` test user on the local stack.
pub const TEST_PASSWORD: &str = "test";

#[derive(Debug, Clone)]
pub struct Stack {
    pub host: String,
    pub imap_port: u16,
    pub smtp_port: u16,
    pub dir: PathBuf,
    /// The second Dovecot, storing Maildir.
    pub maildir_port: u16,
    /// Cyrus IMAP (`tests/cyrus-stack.sh`).
    pub cyrus_port: u16,
    /// The Dovecot that logs in only by OAuth2 (XOAUTH2/OAUTHBEARER), same mailboxes.
    pub oauth_imap_port: u16,
    /// The tests' authorization server (`tests/oauth-server.py`), e.g. `http://127.0.0.1:14148`.
    pub oauth_server: String,
    /// Mail submission on the OAuth2 Dovecot: STARTTLS, then XOAUTH2 only.
    pub oauth_submission_port: u16,
    /// The test CA that signed the OAuth2 Dovecot's certificate (a config's `ca_file`).
    pub ca_file: PathBuf,
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap_or_else(|_| PathBuf::from("../.."))
}

/// Run `tests/mail-stack.sh <args>` and return its standard output.
pub fn stack_script(args: &[&str]) -> Result<String> {
    let out = Command::new(repo_root().join("tests/mail-stack.sh")).args(args).output().context("running tests/mail-stack.sh")?;
    if !out.status.success() {
        bail!("tests/mail-stack.sh {:?} failed: {}", args, String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The local mail stack, started on first use (or reused if already running).
pub fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let env = stack_script(&["start"]).unwrap_or_else(|e| panic!("the local mail stack did not start: {e:#}"));
        let get = |key: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .map(str::to_owned)
                .unwrap_or_else(|| panic!("mail-stack.sh env lacks {key}"))
        };
        Stack {
            host: get("BLENDESK_STACK_HOST"),
            imap_port: get("BLENDESK_STACK_IMAP_PORT").parse().expect("IMAP port"),
            smtp_port: get("BLENDESK_STACK_SMTP_PORT").parse().expect("SMTP port"),
            dir: PathBuf::from(get("BLENDESK_STACK_DIR")),
            maildir_port: get("BLENDESK_STACK_MAILDIR_PORT").parse().expect("Maildir port"),
            cyrus_port: get("BLENDESK_STACK_CYRUS_PORT").parse().expect("Cyrus port"),
            oauth_imap_port: get("BLENDESK_STACK_OAUTH_IMAP_PORT").parse().expect("OAuth2 IMAP port"),
            oauth_server: get("BLENDESK_STACK_OAUTH_SERVER"),
            oauth_submission_port: get("BLENDESK_STACK_OAUTH_SUBMISSION_PORT").parse().expect("OAuth2 submission port"),
            ca_file: PathBuf::from(get("BLENDESK_STACK_CA")),
        }
    })
}

/// The port of the stack's second Dovecot (no CONDSTORE, no custom keywords), started
/// on first use.
pub fn nocondstore_port() -> u16 {
    stack_script(&["start-nocondstore"])
        .unwrap_or_else(|e| panic!("the no-CONDSTORE Dovecot did not start: {e:#}"))
        .lines()
        .find_map(|l| l.strip_prefix("BLENDESK_STACK_NOCONDSTORE_PORT="))
        .and_then(|p| p.parse().ok())
        .expect("tests/mail-stack.sh start-nocondstore names its port")
}

/// A fresh user name on the stack: `t_<prefix>_<random>`; it exists on first login or
/// delivery and starts empty.
pub fn unique_user(prefix: &str) -> String {
    format!("t_{prefix}_{:08x}", rand::random::<u32>())
}

/// An isolated support mailbox with its own config and database.
pub struct Desk {
    pub user: String,
    pub address: String,
    pub config: Config,
    pub config_path: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Desk {
    pub fn new(prefix: &str) -> Desk {
        Self::with_queues(prefix, &["INBOX"])
    }

    pub fn with_queues(prefix: &str, queues: &[&str]) -> Desk {
        Self::build(servers::Server::Dovecot, prefix, queues)
    }

    /// A desk whose mailbox lives on `server` (mail for it is APPENDed: only the main
    /// Dovecot receives SMTP deliveries).
    pub fn on(server: servers::Server, prefix: &str) -> Desk {
        Self::build(server, prefix, &["INBOX"])
    }

    fn build(server: servers::Server, prefix: &str, queues: &[&str]) -> Desk {
        let s = stack();
        let user = server.user(prefix);
        let address = format!("{user}@shop.test");
        let dir = tempfile::tempdir().expect("temp dir");
        let queues = queues.iter().map(|q| format!("\"{q}\"")).collect::<Vec<_>>().join(", ");
        let text = format!(
            r#"[advisor]
id = "alice"
name = "Alice Chen"
[imap]
host = "{host}"
port = {imap}
security = "plain"
username = "{user}"
queues = [{queues}]
sent = "Sent"
[smtp]
host = "{host}"
port = {smtp}
security = "plain"
username = "{user}"
from = "Shop Support <{address}>"
[store]
path = "{db}"
"#,
            host = s.host,
            imap = server.port(),
            smtp = s.smtp_port,
            db = dir.path().join("blendesk.db").display(),
        );
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, &text).expect("write config");
        let config = Config::parse(&text).expect("test config is valid");
        Desk { user, address, config, config_path, dir }
    }

    /// A desk whose IMAP login is OAuth2 through the tests' authorization server (an
    /// OIDC issuer) on the OAuth2-only Dovecot; mail for it arrives by SMTP as usual.
    pub fn with_oauth(prefix: &str) -> Desk {
        let mut desk = Self::new(prefix);
        let s = stack();
        let text = std::fs::read_to_string(&desk.config_path).expect("desk config").replacen(
            &format!("port = {}", s.imap_port),
            &format!("port = {}", s.oauth_imap_port),
            1,
        ) + &format!(
            "[oauth]\nprovider = \"issuer\"\nissuer = \"{}\"\nclient_id = \"blendesk-test\"\nscopes = [\"mail\"]\n",
            s.oauth_server
        );
        std::fs::write(&desk.config_path, &text).expect("write config");
        desk.config = Config::parse(&text).expect("OAuth2 test config is valid");
        desk
    }

    /// `with_oauth`, as a hosted team's mailbox is reached: IMAP over STARTTLS and mail
    /// submission (STARTTLS, then XOAUTH2) on the OAuth2 Dovecot, whose certificate is
    /// signed by the stack's test CA (`ca_file` in both sections).
    pub fn with_oauth_tls(prefix: &str) -> Desk {
        let mut desk = Self::with_oauth(prefix);
        let s = stack();
        let ca = s.ca_file.display();
        let text = std::fs::read_to_string(&desk.config_path)
            .expect("desk config")
            .replacen("security = \"plain\"", &format!("security = \"starttls\"\nca_file = \"{ca}\""), 2)
            .replacen(&format!("port = {}", s.smtp_port), &format!("port = {}", s.oauth_submission_port), 1);
        std::fs::write(&desk.config_path, &text).expect("write config");
        desk.config = Config::parse(&text).expect("OAuth2 TLS test config is valid");
        desk
    }

    /// This desk's apps coordinate through `team`'s database, their mail on the Dovecot
    /// at `imap_port` (the stack's no-CONDSTORE one): the config gets a
    /// `[coordination]` section whose login `config_for` renames per advisor.
    pub fn coordinated_by(&mut self, team: &pg::PgTeam, imap_port: u16) {
        let s = stack();
        let text = std::fs::read_to_string(&self.config_path).expect("desk config").replacen(
            &format!("port = {}", s.imap_port),
            &format!("port = {imap_port}"),
            1,
        ) + &team.section("alice");
        std::fs::write(&self.config_path, &text).expect("write config");
        self.config = Config::parse(&text).expect("coordinated test config is valid");
    }

    pub fn engine(&self) -> std::sync::Arc<blendesk_engine::Engine> {
        blendesk_engine::Engine::with_passwords(self.config.clone(), TEST_PASSWORD.into(), None).expect("engine opens")
    }

    /// A config file `<name>.toml` for advisor `id` on this desk's mailbox, with its own
    /// database `<name>.db` (a CLI beside a running app of the same advisor uses another
    /// name, so the two never share a database).
    pub fn config_for(&self, id: &str, name: &str) -> PathBuf {
        let text = std::fs::read_to_string(&self.config_path)
            .expect("desk config")
            .replace("id = \"alice\"", &format!("id = \"{id}\""))
            // The database login of `coordinated_by` (`<database>_<advisor>`).
            .replace("_alice\"\ntls", &format!("_{id}\"\ntls"))
            .replace("blendesk.db", &format!("{name}.db"));
        let path = self.dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, text).expect("write config");
        path
    }

    /// Send one email from `customer` and wait until the desk's INBOX holds `expect`.
    pub async fn deliver(&self, customer: &Customer, subject: &str, expect: u32) {
        let (_, raw) = customer_mail(&customer.address, &self.address, subject, "hello?");
        smtp_send(&customer.address, &[&self.address], &raw).await.expect("smtp");
        eventually("delivery", Duration::from_secs(15), || async {
            Ok((count_messages(&self.user, "INBOX").await? == expect).then_some(()))
        })
        .await
        .expect("delivered");
    }

    /// The load advisor `id` last published in Blendesk/Presence.
    pub async fn published_load(&self, id: &str) -> Option<u64> {
        let notes = fetch_all(&self.user, "Blendesk/Presence").await.ok()?;
        notes
            .iter()
            .filter_map(|(uid, raw)| {
                Some((*uid, serde_json::from_str::<serde_json::Value>(blendesk_mail::mime::parse(raw).text.trim()).ok()?))
            })
            .filter(|(_, v)| v["advisor"] == id)
            .max_by_key(|(uid, _)| *uid)
            .and_then(|(_, v)| v["load"].as_u64())
    }
}

/// A customer mailbox on example.com.
pub struct Customer {
    pub user: String,
    pub address: String,
}

impl Customer {
    pub fn new(prefix: &str) -> Customer {
        let user = unique_user(prefix);
        Customer { address: format!("{user}@example.com"), user }
    }
}

/// Submit raw bytes over SMTP to the local stack.
pub async fn smtp_send(from: &str, to: &[&str], raw: &[u8]) -> Result<()> {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    let s = stack();
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host).port(s.smtp_port).build();
    let envelope =
        lettre::address::Envelope::new(Some(from.parse()?), to.iter().map(|t| t.parse()).collect::<std::result::Result<Vec<_>, _>>()?)?;
    transport.send_raw(&envelope, raw).await?;
    Ok(())
}

/// A plain customer email with a fresh Message-ID; returns (Message-ID, raw).
pub fn customer_mail(from: &str, to: &str, subject: &str, body: &str) -> (String, Vec<u8>) {
    let id = format!("{:016x}@example.com", rand::random::<u64>());
    let raw = format!(
        "From: Customer <{from}>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Wed, 25 Nov 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    );
    (id, raw.into_bytes())
}

/// Log in to the local stack as a test user.
pub async fn login(user: &str) -> Result<ImapSession> {
    let s = stack();
    let endpoint = Endpoint { host: s.host.clone(), port: s.imap_port, security: Security::Plain, username: user.to_owned(), ca_pem: None };
    Ok(imap::connect(&endpoint, TEST_PASSWORD).await?.session)
}

/// Poll `check` until it returns `Some`, or fail after `limit`. For waiting on another
/// process (the mail server) that has no event to wait on.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_millis(20);
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if start.elapsed() > limit {
            bail!("{what}: not true after {:?}", limit);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(250));
    }
}

/// Number of messages in `folder` of `user`'s mailbox (0 if it does not exist).
pub async fn count_messages(user: &str, folder: &str) -> Result<u32> {
    let mut s = login(user).await?;
    let n = match imap::select(&mut s, folder, false).await {
        Ok(sel) => sel.exists,
        Err(_) => 0,
    };
    imap::logout(s).await;
    Ok(n)
}

/// Raw messages of a folder, in UID order.
pub async fn fetch_all(user: &str, folder: &str) -> Result<Vec<(u32, Vec<u8>)>> {
    let mut s = login(user).await?;
    let sel = imap::select(&mut s, folder, false).await?;
    let out = if sel.exists == 0 { Vec::new() } else { imap::fetch_raw(&mut s, "1:*", false).await? };
    imap::logout(s).await;
    Ok(out)
}

/// Wait for the first engine event matching `pred`, printing the others (they explain a
/// failure in the test log). Fails after `limit`.
pub async fn wait_for_event(
    rx: &mut tokio::sync::broadcast::Receiver<blendesk_engine::events::Event>,
    limit: Duration,
    pred: impl Fn(&blendesk_engine::events::Event) -> bool,
) -> blendesk_engine::events::Event {
    tokio::time::timeout(limit, async {
        loop {
            match rx.recv().await {
                Ok(e) if pred(&e) => {
                    eprintln!("event (awaited): {e:?}");
                    return e;
                }
                Ok(e) => eprintln!("event: {e:?}"),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("event channel closed: {e}"),
            }
        }
    })
    .await
    .expect("the expected engine event did not come")
}

/// The window's generated TypeScript (`ui/src/lib/generated/`): both generators (the
/// engine's types in `crates/engine/tests/contract.rs`, the desktop's payloads in
/// `src-tauri/src/contract.rs`) shape declarations and check the committed file the same way.
pub mod pg;

pub mod contract {
    use std::path::Path;

    /// `decls` (ts-rs declarations) as exported TypeScript. 64-bit integers are numbers:
    /// serde_json writes them so, and ids and unix milliseconds stay below 2^53.
    pub fn exported(decls: &[String]) -> String {
        decls.iter().map(|d| format!("export {}\n\n", d.replace("bigint", "number"))).collect()
    }

    /// Fail when the committed file at `path` differs from `fresh`, saying how to
    /// regenerate (`regenerate`: the command); with `BLENDESK_BLESS` set, write it instead.
    pub fn check_generated(path: &Path, fresh: &str, regenerate: &str) {
        if std::env::var_os("BLENDESK_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().expect("a file in a folder")).expect("create the folder");
            std::fs::write(path, fresh).expect("write the generated file");
            return;
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == fresh,
            "{} is stale: a Rust type the window sees changed. Regenerate with `BLENDESK_BLESS=1 {regenerate}`, then update the UI.",
            path.display()
        );
    }
}

/// IMAP sessions the stack's Dovecot holds for `user` right now (`doveadm who`): what
/// the server says, whatever the app believes.
pub fn server_sessions(user: &str) -> usize {
    let conf = stack().dir.join("dovecot.conf");
    let out = Command::new("doveadm").arg("-c").arg(&conf).args(["who", "-1", user]).output().expect("doveadm runs");
    assert!(out.status.success(), "doveadm who: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.split_whitespace().next() == Some(user)).count()
}

/// A `blendesk run --headless` process for one advisor of `desk`, its events (JSON lines
/// from standard output, without the per-message ones) collected as they come. Killed
/// when dropped, so a failing test leaves nothing running.
pub struct HeadlessApp {
    pub id: String,
    pub config: PathBuf,
    pub child: std::process::Child,
    pub events: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
    pub killed: bool,
    bin: PathBuf,
    runtime: PathBuf,
    /// Reads the app's event lines until its stdout closes.
    reader: Option<std::thread::JoinHandle<()>>,
    /// Set (and signalled) when the app printed `starting` (its SIGTERM handler is in
    /// place) or its output ended.
    listening: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
}

impl HeadlessApp {
    /// `bin` is the `blendesk` binary (`env!("CARGO_BIN_EXE_blendesk")` in the CLI's tests);
    /// `runtime` the `XDG_RUNTIME_DIR` where its call socket goes.
    pub fn start(bin: &Path, desk: &Desk, id: &str, runtime: &Path) -> HeadlessApp {
        Self::start_with(bin, desk, id, runtime, &[])
    }

    /// `start`, with more arguments to `run --headless` (`--no-claims`).
    pub fn start_with(bin: &Path, desk: &Desk, id: &str, runtime: &Path, args: &[&str]) -> HeadlessApp {
        use std::io::BufRead;
        let config = desk.config_for(id, id);
        let mut child = Command::new(bin)
            .arg("--config")
            .arg(&config)
            .args(["run", "--headless"])
            .args(args)
            .env("BLENDESK_IMAP_PASSWORD", TEST_PASSWORD)
            .env("XDG_RUNTIME_DIR", runtime)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("blendesk runs");
        let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = events.clone();
        let listening = std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let heard = listening.clone();
        let hear = move || {
            *heard.0.lock().unwrap_or_else(|p| p.into_inner()) = true;
            heard.1.notify_all();
        };
        let stdout = child.stdout.take().expect("piped stdout");
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(std::result::Result::ok) {
                if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(&line) {
                    if v["type"] == "starting" {
                        hear();
                    }
                    if v["type"] == "sync_progress" {
                        continue;
                    }
                    if v["type"] == "message_arrived" {
                        // Only when it reached the app's mirror (for reports of slow claims).
                        v = serde_json::json!({ "type": "message_arrived", "message_id": v["message_id"] });
                    }
                    // When the driver read it: unix ms, on the driver's clock.
                    let read_ms =
                        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
                    v["read_ms"] = read_ms.into();
                    sink.lock().unwrap_or_else(|p| p.into_inner()).push(v);
                }
            }
            hear();
        });
        HeadlessApp {
            id: id.to_owned(),
            config,
            child,
            events,
            killed: false,
            bin: bin.to_owned(),
            runtime: runtime.to_owned(),
            reader: Some(reader),
            listening,
        }
    }

    /// `blendesk call start|end` for this advisor, as a softphone runs it.
    pub fn call(&self, event: &str) -> std::process::Output {
        Command::new(&self.bin)
            .arg("--config")
            .arg(&self.config)
            .args(["call", event])
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .output()
            .expect("blendesk call runs")
    }

    /// Ask the app to stop (SIGTERM) and wait; true if it exited cleanly. Every event it
    /// printed is in `events` when this returns.
    pub fn stop(&mut self) -> bool {
        // A signal before the app's handler is in place would kill it outright (seen on a
        // loaded machine: an app still starting when its team had claimed everything).
        let (started, signal) = &*self.listening;
        let guard = started.lock().unwrap_or_else(|p| p.into_inner());
        let (guard, _) =
            signal.wait_timeout_while(guard, std::time::Duration::from_secs(120), |started| !*started).unwrap_or_else(|p| p.into_inner());
        drop(guard);
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let clean = self.child.wait().map(|s| s.success()).unwrap_or(false);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        clean
    }

    /// Kill the app without a word (SIGKILL), as a crash would.
    pub fn crash(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.killed = true;
        // Every line it wrote before dying is in `events` when this returns.
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }

    /// Events of one type.
    pub fn events_of(&self, kind: &str) -> Vec<serde_json::Value> {
        self.events.lock().unwrap_or_else(|p| p.into_inner()).iter().filter(|e| e["type"] == kind).cloned().collect()
    }
}

impl Drop for HeadlessApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The IMAP servers a team may run, all on loopback from the project's scripts: the
/// stack's Dovecot (mdbox), a Dovecot storing Maildir, and Cyrus IMAP 3.6. Tests that
/// must hold everywhere loop over `ALL_SERVERS`.
pub mod servers {
    use super::{stack, unique_user, TEST_PASSWORD};
    use anyhow::{bail, Context, Result};
    use blendesk_domain::transport::Security;
    use blendesk_mail::imap::{self, Endpoint, ImapSession};

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Server {
        /// The stack's Dovecot, mdbox.
        Dovecot,
        DovecotMaildir,
        Cyrus,
    }

    /// `server.login(user)`, spelled as a function.
    pub async fn login_on(server: Server, user: &str) -> Result<ImapSession> {
        server.login(user).await
    }

    pub const ALL_SERVERS: [Server; 3] = [Server::Dovecot, Server::DovecotMaildir, Server::Cyrus];

    impl Server {
        pub fn label(&self) -> &'static str {
            match self {
                Server::Dovecot => "dovecot-mdbox",
                Server::DovecotMaildir => "dovecot-maildir",
                Server::Cyrus => "cyrus",
            }
        }

        pub fn is_dovecot(&self) -> bool {
            !matches!(self, Server::Cyrus)
        }

        pub fn port(&self) -> u16 {
            let s = stack();
            match self {
                Server::Dovecot => s.imap_port,
                Server::DovecotMaildir => s.maildir_port,
                Server::Cyrus => s.cyrus_port,
            }
        }

        /// A fresh, empty login (password "test"). Dovecot takes any `t_*` name; Cyrus
        /// gets the user and its INBOX made by `tests/cyrus-stack.sh adduser`.
        pub fn user(&self, prefix: &str) -> String {
            let user = unique_user(prefix);
            if *self == Server::Cyrus {
                let s = stack();
                let out = std::process::Command::new(super::repo_root().join("tests/cyrus-stack.sh"))
                    .args(["adduser", &user, TEST_PASSWORD])
                    .env("BLENDESK_STACK_DIR", &s.dir)
                    .env("BLENDESK_CYRUS_PORT", s.cyrus_port.to_string())
                    .output()
                    .expect("tests/cyrus-stack.sh runs");
                assert!(out.status.success(), "adding Cyrus user {user}: {}", String::from_utf8_lossy(&out.stderr));
            }
            user
        }

        /// Where the server listens: (host, port).
        pub fn endpoint(&self) -> (String, u16) {
            (stack().host.clone(), self.port())
        }

        /// `user(prefix)` with its password: the login a test hands to an app.
        pub fn credentials(&self, prefix: &str) -> (String, String) {
            (self.user(prefix), TEST_PASSWORD.to_owned())
        }

        /// A folder in `user`'s mailbox (Cyrus, altnamespace: a top-level name; both
        /// servers use '/' as the separator).
        pub async fn create_folder(&self, user: &str, folder: &str) -> Result<()> {
            let mut s = self.login(user).await?;
            s.create(folder).await.with_context(|| format!("CREATE {folder} on {}", self.label()))?;
            let _ = s.logout().await;
            Ok(())
        }

        /// Put one raw message into `user`'s `folder` over IMAP (APPEND): the way mail
        /// reaches the Maildir Dovecot and Cyrus, which get no SMTP delivery.
        pub async fn append(&self, user: &str, folder: &str, raw: &[u8]) -> Result<()> {
            let mut s = self.login(user).await?;
            s.append(folder, None, None, raw).await.with_context(|| format!("APPEND to {folder} on {}", self.label()))?;
            let _ = s.logout().await;
            Ok(())
        }

        pub async fn login(&self, user: &str) -> Result<ImapSession> {
            let endpoint = Endpoint {
                host: stack().host.clone(),
                port: self.port(),
                security: Security::Plain,
                username: user.to_owned(),
                ca_pem: None,
            };
            let c = imap::connect(&endpoint, TEST_PASSWORD).await.with_context(|| format!("login to {}", self.label()))?;
            if !c.capabilities.iter().any(|c| c.eq_ignore_ascii_case("CONDSTORE")) {
                bail!("{} lacks CONDSTORE", self.label());
            }
            Ok(c.session)
        }
    }
}

/// A private Secret Service (`tests/keyring-session.sh`: a D-Bus session bus and
/// gnome-keyring-daemon), stopped when dropped. `bus` is its DBUS_SESSION_BUS_ADDRESS.
pub struct KeyringSession {
    dir: tempfile::TempDir,
    pub bus: String,
}

impl KeyringSession {
    pub fn start() -> KeyringSession {
        let dir = tempfile::tempdir().expect("temp dir");
        let out =
            Command::new(repo_root().join("tests/keyring-session.sh")).arg("start").arg(dir.path()).output().expect("keyring-session.sh");
        assert!(out.status.success(), "keyring session: {}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let bus = stdout.lines().find_map(|l| l.strip_prefix("DBUS_SESSION_BUS_ADDRESS=")).expect("bus address").to_owned();
        KeyringSession { dir, bus }
    }
}

impl Drop for KeyringSession {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("tests/keyring-session.sh")).arg("stop").arg(self.dir.path()).status();
    }
}

/// The tests' authorization server (`tests/oauth-server.py`): its admin endpoints and
/// its counts. Nothing here signs anyone in: that is the engine's own code.
pub mod oauth_server {
    use anyhow::{Context, Result};

    /// `POST /admin/<what>?user=<user>[&extra]`: `revoke`, `expire`, `ttl` (with
    /// `seconds=N`), `deny`.
    pub fn admin(what: &str, user: &str, extra: &str) -> Result<()> {
        let url = format!("{}/admin/{what}?user={user}{extra}", super::stack().oauth_server);
        ureq::post(&url).send_string("").with_context(|| format!("POST {url}"))?;
        Ok(())
    }

    /// The server's counts for `user`: `authorize`, `code_grant`, `refresh_grant`,
    /// `introspect_active`, `introspect_inactive` (0 when absent).
    pub fn counts(user: &str) -> Result<std::collections::BTreeMap<String, u64>> {
        let url = format!("{}/admin/stats?user={user}", super::stack().oauth_server);
        let body = ureq::get(&url).call().with_context(|| format!("GET {url}"))?.into_string()?;
        Ok(serde_json::from_str(&body)?)
    }

    pub fn count(user: &str, what: &str) -> u64 {
        counts(user).ok().and_then(|c| c.get(what).copied()).unwrap_or(0)
    }

    /// A browser that consents at once: follows the authorization URL's redirects
    /// (the server consents and sends it to the app's loopback listener).
    pub fn browse(url: &str) -> std::result::Result<(), String> {
        let url = url.to_owned();
        std::thread::spawn(move || {
            let _ = ureq::get(&url).call();
        });
        Ok(())
    }
}
