//! The harness for Blendesk's end-to-end tests: a minimal WebDriver client (plain HTTP
//! against tauri-driver), the app launched per test with its own mailbox, config and
//! runtime directories, and plain SMTP/IMAP helpers for the customer's side.
//!
//! Synchronisation is always "poll until a deadline", never a fixed sleep.

pub mod mail;
pub mod webdriver;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
pub use webdriver::{Element, Session};

/// One app at a time: tests share the display and tauri-driver's single-app model.
static SERIAL: Mutex<()> = Mutex::new(());

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// The app under test: $BLENDESK_DESKTOP_BIN or target/debug/blendesk-desktop.
pub fn app_binary() -> PathBuf {
    std::env::var_os("BLENDESK_DESKTOP_BIN").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target/debug/blendesk-desktop"))
}

pub fn screenshot_dir() -> PathBuf {
    let d = workspace_root().join("target/e2e-screenshots");
    std::fs::create_dir_all(&d).expect("screenshot dir");
    d
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn wait_port(port: u16, deadline: Duration) -> bool {
    let end = Instant::now() + deadline;
    while Instant::now() < end {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Poll `f` until it returns `Some`, or panic with `what` at the deadline.
pub fn wait_for<T>(what: &str, deadline: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + deadline;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() >= end {
            panic!("timed out after {deadline:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}{:08x}", rand::random::<u32>())
}

/// Per-test identities on the local mail stack (`t_*` users log in with "test").
pub struct Mailboxes {
    /// The shared support mailbox the app syncs.
    pub desk: String,
    /// A customer who writes in.
    pub customer: String,
}

impl Mailboxes {
    pub fn new() -> Self {
        Self { desk: unique("t_desk"), customer: unique("t_cust") }
    }
    pub fn desk_address(&self) -> String {
        format!("{}@shop.test", self.desk)
    }
    pub fn customer_address(&self) -> String {
        format!("{}@example.com", self.customer)
    }
}

impl Default for Mailboxes {
    fn default() -> Self {
        Self::new()
    }
}

/// The running app: tauri-driver, the WebDriver session, and the files it uses.
pub struct App {
    pub session: Session,
    pub dir: PathBuf,
    pub advisor_id: String,
    pub socket: PathBuf,
    /// A policy was published before the launch: `wait_ready` also waits for the app
    /// to have it in force.
    policy_published: bool,
    driver: Child,
    _serial: MutexGuard<'static, ()>,
}

pub struct Launch<'a> {
    pub mail: &'a Mailboxes,
    pub lang: &'a str,
    pub wrap_up_seconds: u32,
    /// Queue folders, e.g. `["INBOX"]`.
    pub queues: &'a [&'a str],
    /// Start without a configuration file: the first-run setup screen.
    pub setup: bool,
    /// Extra environment for the app.
    pub env: &'a [(&'a str, &'a str)],
}

/// Who the app runs as and the team policy published before it starts.
#[derive(Default)]
pub struct Team<'a> {
    /// The advisor id (default: a fresh `e2e_…`).
    pub advisor: Option<&'a str>,
    /// The policy document; default `{"version": 1, "wrap_up_seconds": <launch's>}`.
    pub policy: Option<serde_json::Value>,
}

/// A Blendesk configuration for `advisor_id` on the test's shared mailbox.
pub fn config_text(advisor_id: &str, name: &str, mail: &Mailboxes, queues: &[&str], store: &Path) -> String {
    let (imap_port, smtp_port) = stack_env();
    format!(
        r#"[advisor]
id = "{advisor_id}"
name = "{name}"

[imap]
host = "127.0.0.1"
port = {imap_port}
security = "plain"
username = "{desk}"
queues = {queues}
sent = "Sent"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "plain"
username = ""
from = "Shop Support <{desk_addr}>"

[store]
path = "{store}"
"#,
        desk = mail.desk,
        queues = serde_json::to_string(queues).expect("queues"),
        desk_addr = mail.desk_address(),
        store = store.display(),
    )
}

/// The `blendesk` CLI: $BLENDESK_CLI_BIN or target/debug/blendesk.
pub fn cli_binary() -> PathBuf {
    let cli = std::env::var_os("BLENDESK_CLI_BIN").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target/debug/blendesk"));
    assert!(cli.exists(), "no blendesk CLI at {} (scripts/test-e2e.sh builds it)", cli.display());
    cli
}

/// Publish `policy` to the mailbox's Blendesk/Policy with `blendesk policy publish`
/// (its own config and store under `dir`, so the app's store is untouched).
pub fn publish_policy(mail: &Mailboxes, dir: &Path, policy: &serde_json::Value) {
    let config = dir.join("publisher.toml");
    std::fs::write(&config, config_text("e2e_publisher", "Policy Publisher", mail, &["INBOX"], &dir.join("publisher.sqlite")))
        .expect("publisher config");
    let file = dir.join("policy.json");
    std::fs::write(&file, serde_json::to_vec_pretty(policy).expect("policy json")).expect("policy file");
    let out = Command::new(cli_binary())
        .arg("--config")
        .arg(&config)
        .args(["policy", "publish"])
        .arg(&file)
        .env("BLENDESK_IMAP_PASSWORD", "test")
        .output()
        .expect("run blendesk policy publish");
    assert!(out.status.success(), "blendesk policy publish: {}", String::from_utf8_lossy(&out.stderr));
}

/// A headless advisor (`blendesk run --headless`) on the same mailbox; its JSON event
/// lines are kept with the moment each was read. Stopped (SIGTERM) on drop.
pub struct Headless {
    pub advisor_id: String,
    pub dir: PathBuf,
    child: Child,
    events: std::sync::Arc<Mutex<Vec<(Instant, serde_json::Value)>>>,
}

impl Headless {
    pub fn start(mail: &Mailboxes, advisor_id: &str, name: &str, queues: &[&str]) -> Headless {
        let dir = std::env::temp_dir().join(unique("blendesk-headless-"));
        std::fs::create_dir_all(dir.join("run")).expect("headless dirs");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("run"), std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let config = dir.join("config.toml");
        std::fs::write(&config, config_text(advisor_id, name, mail, queues, &dir.join("blendesk.sqlite"))).expect("config");
        let mut child = Command::new(cli_binary())
            .arg("--config")
            .arg(&config)
            .args(["run", "--headless"])
            .env("BLENDESK_IMAP_PASSWORD", "test")
            .env("XDG_RUNTIME_DIR", dir.join("run"))
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(dir.join("stderr.log")).expect("log")))
            .spawn()
            .expect("start blendesk run --headless");
        let events = std::sync::Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    sink.lock().unwrap_or_else(|e| e.into_inner()).push((Instant::now(), v));
                }
            }
        });
        Headless { advisor_id: advisor_id.to_owned(), dir, child, events }
    }

    /// Events of `kind` (their `type`) read after `after`, with when each was read.
    pub fn events(&self, kind: &str, after: Instant) -> Vec<(Instant, serde_json::Value)> {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).iter().filter(|(at, v)| *at >= after && v["type"] == kind).cloned().collect()
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- headless {} stderr ---\n{}",
                self.advisor_id,
                std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub fn stack_env() -> (u16, u16) {
    let imap = std::env::var("BLENDESK_STACK_IMAP_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(14143);
    let smtp = std::env::var("BLENDESK_STACK_SMTP_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(12525);
    (imap, smtp)
}

impl App {
    pub fn launch(opts: Launch<'_>) -> App {
        Self::launch_as(opts, Team::default())
    }

    /// Launch as `team.advisor` after publishing `team.policy` (not in setup mode).
    pub fn launch_as(opts: Launch<'_>, team: Team<'_>) -> App {
        Self::launch_binary(&app_binary(), opts, team)
    }

    /// Launch the app at `bin` (e.g. an installed `/usr/bin/blendesk-desktop`) instead
    /// of the build under test.
    pub fn launch_binary(bin: &Path, opts: Launch<'_>, team: Team<'_>) -> App {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "end-to-end tests need a display and a session bus: run scripts/test-e2e.sh \
             (a plain workspace test run should use --exclude blendesk-e2e)"
        );
        let (imap_port, _) = stack_env();
        assert!(wait_port(imap_port, Duration::from_secs(2)), "the mail stack is not running: tests/mail-stack.sh start");
        assert!(bin.exists(), "no app binary at {} (scripts/test-e2e.sh builds it)", bin.display());
        let dir = std::env::temp_dir().join(unique("blendesk-e2e-"));
        for sub in ["run", "config", "data", "cache"] {
            std::fs::create_dir_all(dir.join(sub)).expect("temp dirs");
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("run"), std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let advisor_id = team.advisor.map(str::to_owned).unwrap_or_else(|| unique("e2e_"));
        let config = config_text(&advisor_id, "Erin Example", opts.mail, opts.queues, &dir.join("data/blendesk.sqlite"));
        let policy_published = !opts.setup;
        if policy_published {
            let policy = team.policy.unwrap_or_else(|| serde_json::json!({"version": 1, "wrap_up_seconds": opts.wrap_up_seconds}));
            publish_policy(opts.mail, &dir, &policy);
        }
        let config_path = dir.join("config/config.toml");
        if opts.setup {
            // What the setup screen would write, for the test to fill in.
            std::fs::write(dir.join("expected-config.toml"), config).expect("write expected config");
        } else {
            std::fs::write(&config_path, config).expect("write config");
        }

        let port = free_port();
        let native_port = free_port();
        let driver_bin = std::env::var_os("TAURI_DRIVER")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/tauri-driver")))
            .filter(|p| p.exists())
            .unwrap_or_else(|| PathBuf::from("tauri-driver"));
        let log = std::fs::File::create(dir.join("app.log")).expect("log file");
        let driver = Command::new(driver_bin)
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("BLENDESK_IMAP_PASSWORD", "test")
            .env("BLENDESK_LOG", "info,blendesk=debug")
            .env("XDG_RUNTIME_DIR", dir.join("run"))
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .env("LANG", opts.lang)
            .env("LANGUAGE", opts.lang.split('.').next().unwrap_or("en_US"))
            .env("LC_ALL", opts.lang)
            .envs(opts.env.iter().copied())
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start tauri-driver (scripts/desktop-deps.sh installs it)");
        let mut driver = driver;
        // tauri-driver listens before the WebKitWebDriver it starts does: wait for both.
        if !wait_port(port, Duration::from_secs(10)) || !wait_port(native_port, Duration::from_secs(10)) {
            stop_driver(&mut driver);
            panic!("tauri-driver / WebKitWebDriver did not listen on {port} / {native_port}");
        }
        let caps = serde_json::json!({
            "capabilities": {"alwaysMatch": {"tauri:options": {
                "application": bin.display().to_string(),
                "args": ["--config", config_path.display().to_string()],
            }}}
        });
        let session = match Session::new(&format!("http://127.0.0.1:{port}"), caps) {
            Ok(s) => s,
            Err(e) => {
                stop_driver(&mut driver);
                panic!("no WebDriver session (did the app start? see {}): {e}", dir.join("app.log").display());
            }
        };
        let socket = dir.join("run").join(format!("blendesk-{advisor_id}.sock"));
        App { session, dir, advisor_id, socket, policy_published, driver, _serial: serial }
    }

    /// Wait for the workspace (startup finished) and return.
    pub fn wait_ready(&self) {
        wait_for("the workspace top bar", Duration::from_secs(30), || {
            if let Ok(e) = self.session.find("[data-testid=startup-error]") {
                panic!("app failed to start: {}", e.text().unwrap_or_default());
            }
            match self.session.find("[data-testid=state-pill]") {
                Ok(e) => Some(e),
                Err(e) => {
                    eprintln!("waiting for the workspace: {e}");
                    None
                }
            }
        });
        if self.policy_published {
            // The published policy is in force (its wrap-up, caps, supervisors).
            wait_for("the team policy in force", Duration::from_secs(15), || {
                let uid = self.session.find("[data-testid=load]").ok()?.attr("data-policy").ok()??;
                (uid != "0").then_some(())
            });
        }
    }

    pub fn screenshot(&self, name: &str) -> PathBuf {
        let path = screenshot_dir().join(format!("{name}.png"));
        let png = self.session.screenshot().expect("screenshot");
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// The app's processes (those started with this launch's configuration).
    pub fn pids(&self) -> Vec<i32> {
        pids_with_arg(&self.dir.join("config/config.toml").display().to_string())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("app.log")).unwrap_or_default()
    }
}

fn stop_driver(driver: &mut Child) {
    // SIGTERM lets tauri-driver stop WebKitWebDriver too; SIGKILL would orphan it.
    unsafe {
        libc::kill(driver.id() as i32, libc::SIGTERM);
    }
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        if let Ok(Some(_)) = driver.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = driver.kill();
    let _ = driver.wait();
}

/// Pids of processes whose command line mentions `needle`.
fn pids_with_arg(needle: &str) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).map(|c| String::from_utf8_lossy(&c).contains(needle)).unwrap_or(false))
        .collect()
}

/// The app is single-instance: the next test's launch would hand over to a closing one.
/// Wait for this test's app to be gone (it closes with the session), then make sure.
fn wait_app_gone(config_dir: &Path) {
    let needle = config_dir.join("config/config.toml").display().to_string();
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if pids_with_arg(&needle).is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let stuck = pids_with_arg(&needle);
    eprintln!("the app did not exit within 10 s of its window closing: killing {stuck:?}");
    for pid in stuck {
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
    // A killed process still holds the single-instance name until it is reaped.
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end && !pids_with_arg(&needle).is_empty() {
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let name = format!("FAILED-{}", self.advisor_id);
            if let Ok(png) = self.session.screenshot() {
                let _ = std::fs::write(screenshot_dir().join(format!("{name}.png")), png);
            }
            if let Ok(src) = self.session.source() {
                eprintln!("--- page source ---\n{}", src.chars().take(4000).collect::<String>());
            }
            eprintln!("--- app log ({}) ---\n{}", self.dir.join("app.log").display(), self.log());
        }
        let _ = self.session.delete();
        stop_driver(&mut self.driver);
        wait_app_gone(&self.dir);
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
