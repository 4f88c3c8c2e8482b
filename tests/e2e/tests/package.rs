//! Install like a desktop app: the Debian package that `scripts/package.sh` builds
//! ($BLENDESK_DEB, set by scripts/test-e2e.sh) is installed on this machine with apt, the
//! installed `blendesk` command answers, the installed window opens its first-run setup
//! screen under Xvfb, and purging the package leaves none of its files behind.
//!
//! Changes the machine: needs root (or password-less sudo). Two runs on one machine take
//! turns through a lock file.

use blendesk_e2e::{screenshot_dir, wait_for, App, Launch, Mailboxes, Team};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const PACKAGE: &str = "blendesk";
const WINDOW: &str = "/usr/bin/blendesk-desktop";
const COMMAND: &str = "/usr/bin/blendesk";

/// `args` as root: directly when we are root, else through `sudo -n`.
fn root(args: &[&str]) -> Output {
    let (program, rest): (&str, Vec<&str>) =
        if unsafe { libc::geteuid() } == 0 { (args[0], args[1..].to_vec()) } else { ("sudo", [&["-n"], args].concat()) };
    Command::new(program).args(rest).env("DEBIAN_FRONTEND", "noninteractive").output().unwrap_or_else(|e| panic!("run {args:?}: {e}"))
}

fn ok(args: &[&str]) -> String {
    let out = root(args);
    assert!(
        out.status.success(),
        "{args:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether dpkg has the package installed (not merely known from an earlier removal).
fn installed() -> bool {
    let out = Command::new("dpkg-query").args(["-W", "-f=${db:Status-Status}", PACKAGE]).output().expect("dpkg-query");
    out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "installed"
}

fn purge() {
    ok(&["dpkg", "--purge", PACKAGE]);
}

/// Held for the whole test: two test runs on one machine would install and remove the
/// same package under each other.
struct MachineLock {
    _file: std::fs::File,
}

impl MachineLock {
    fn take() -> MachineLock {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(std::env::temp_dir().join("blendesk-package-test.lock"))
            .expect("lock file");
        use std::os::fd::AsRawFd;
        // Blocks until another run has finished; released when the file closes.
        assert_eq!(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) }, 0, "flock");
        MachineLock { _file: f }
    }
}

/// Purges the package if the test ends early, so a failure does not leave it installed.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        if std::thread::panicking() && installed() {
            let _ = root(&["dpkg", "--purge", PACKAGE]);
        }
    }
}

/// The desktop entry's `key=` value.
fn entry_value<'a>(entry: &'a str, key: &str) -> &'a str {
    entry
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in the desktop entry:\n{entry}"))
        .trim()
}

#[test]
fn installed_package_opens_the_window_and_purges_cleanly() {
    let deb = std::env::var_os("BLENDESK_DEB").map(PathBuf::from).expect(
        "BLENDESK_DEB must name the .deb to test: scripts/test-e2e.sh builds it with \
         scripts/package.sh --debug and sets it",
    );
    assert!(deb.is_file(), "BLENDESK_DEB={} is not a file", deb.display());
    let _lock = MachineLock::take();

    let field = |name: &str| {
        let out = Command::new("dpkg-deb").args(["-f"]).arg(&deb).arg(name).output().expect("dpkg-deb");
        assert!(out.status.success(), "dpkg-deb -f {name}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(field("Package"), PACKAGE, "the package's name");
    let version = field("Version");
    let depends = field("Depends");
    // WebKitGTK is linked; the X screen-saver library is loaded at run time (our list in
    // tauri.conf.json brings it), the tray's by the bundler's own rule for tray-icon.
    for lib in ["libwebkit2gtk-4.1-0", "libxss1", "libayatana-appindicator3-1"] {
        assert!(depends.split(", ").any(|d| d.starts_with(lib)), "{lib} is not among the dependencies: {depends}");
    }

    if installed() {
        eprintln!("{PACKAGE} was left installed (an interrupted run?): purging it first");
        purge();
    }
    let deb_arg = deb.canonicalize().expect("deb path").display().to_string();
    let guard = Installed;
    // apt, not dpkg -i: it installs the dependencies the package names.
    ok(&["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "-q", "--no-install-recommends", &deb_arg]);
    assert!(installed(), "dpkg does not report {PACKAGE} installed after apt-get install");

    // What dpkg says the package put on the machine.
    let listed: Vec<PathBuf> = ok(&["dpkg", "-L", PACKAGE]).lines().filter(|l| l.starts_with('/')).map(PathBuf::from).collect();
    let files: BTreeSet<&Path> = listed.iter().map(PathBuf::as_path).filter(|p| !p.is_dir()).collect();
    for wanted in [WINDOW, COMMAND] {
        assert!(files.contains(Path::new(wanted)), "{wanted} not among the package's files: {files:?}");
        let meta = std::fs::metadata(wanted).unwrap_or_else(|e| panic!("{wanted}: {e}"));
        use std::os::unix::fs::PermissionsExt;
        assert!(meta.permissions().mode() & 0o111 != 0, "{wanted} is not executable");
    }
    let entry_path = files
        .iter()
        .find(|p| p.starts_with("/usr/share/applications") && p.extension().is_some_and(|e| e == "desktop"))
        .unwrap_or_else(|| panic!("no desktop entry among the package's files: {files:?}"));
    let entry = std::fs::read_to_string(entry_path).expect("read the desktop entry");
    assert_eq!(entry_value(&entry, "Type"), "Application", "{entry}");
    assert_eq!(entry_value(&entry, "Name"), "Blendesk", "{entry}");
    let exec = entry_value(&entry, "Exec").split_whitespace().next().expect("Exec has a program");
    let exec_path = if exec.starts_with('/') { PathBuf::from(exec) } else { Path::new("/usr/bin").join(exec) };
    assert_eq!(exec_path, Path::new(WINDOW), "the desktop entry starts the window: {entry}");
    let icon = entry_value(&entry, "Icon");
    let icons: Vec<&&Path> =
        files.iter().filter(|p| p.starts_with("/usr/share/icons/hicolor") && p.file_stem().is_some_and(|s| s == icon)).collect();
    assert!(!icons.is_empty(), "no icon named {icon} among the package's files: {files:?}");
    for p in &icons {
        let head = std::fs::read(p).expect("read icon");
        assert!(head.starts_with(b"\x89PNG"), "{} is not a PNG", p.display());
    }

    // The command beside the window, from the installed path.
    let out = Command::new(COMMAND).arg("--version").output().expect("run the installed blendesk");
    assert!(out.status.success(), "blendesk --version: {}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(said.trim(), format!("blendesk {version}"), "the installed command's version");
    let out = Command::new(COMMAND).arg("--help").output().expect("run the installed blendesk");
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Usage: blendesk"), "blendesk --help");

    // The installed window, on first run: the setup screen.
    let mail = Mailboxes::new();
    {
        let app = App::launch_binary(
            Path::new(WINDOW),
            Launch { mail: &mail, lang: "en_US.UTF-8", wrap_up_seconds: 3, queues: &["INBOX"], setup: true, env: &[] },
            Team::default(),
        );
        let setup = wait_for("the installed app's setup screen", Duration::from_secs(30), || app.session.find("[data-testid=setup]").ok());
        // It is this launch's first run: it offers to write the configuration it was given.
        let config = app.dir.join("config/config.toml").display().to_string();
        let text = setup.text().expect("setup text");
        assert!(text.contains(&config), "the setup screen names {config}: {text}");
        assert!(app.session.find("[data-testid=setup-imap-host]").is_ok(), "the setup form has its fields");
        app.screenshot("70-installed-package-setup");
        // Dropping the app closes the window and waits for the process to be gone.
    }
    assert!(screenshot_dir().join("70-installed-package-setup.png").is_file());

    // Remove it: nothing the package installed is left behind.
    purge();
    drop(guard);
    assert!(!installed(), "{PACKAGE} still installed after dpkg --purge");
    let mut left = Vec::new();
    for p in &listed {
        match std::fs::symlink_metadata(p) {
            Err(_) => {}
            Ok(m) if m.is_dir() => {
                // A directory may stay only when another package still owns it.
                let owner = Command::new("dpkg-query").arg("-S").arg(p).output().expect("dpkg-query -S");
                if !owner.status.success() {
                    left.push(format!("{} (directory, owned by no package)", p.display()));
                }
            }
            Ok(m) => left.push(format!("{} ({})", p.display(), if m.file_type().is_symlink() { "link" } else { "file" })),
        }
    }
    assert!(left.is_empty(), "left behind after purging {PACKAGE}: {left:?}");
    for gone in [WINDOW, COMMAND] {
        assert!(!Path::new(gone).exists(), "{gone} still exists");
    }
}
