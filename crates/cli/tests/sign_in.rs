//! `blendesk sign-in` against the tests' authorization server and the OAuth2-only
//! Dovecot: the command prints the address to open, an HTTP client follows it (the
//! server consents and redirects to the command's loopback listener), the refresh token
//! lands in a real Secret Service (`tests/keyring-session.sh`) and nowhere else: not in
//! the command's output or its debug log, not in any file under the config's directory
//! or the home it ran with. A declined consent and a password account fail clearly.
//! Its own test binary: it points this process at the private bus.

use blendesk_engine::oauth;
use blendesk_testkit::oauth_server::admin;
use blendesk_testkit::{stack, Desk, KeyringSession};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

struct SignIn {
    status: std::process::ExitStatus,
    stdout: String,
    stderr: String,
    /// What the consenting browser got back from the command's redirect listener.
    page: String,
}

/// Run `blendesk sign-in` for `config` with `home` as its home, follow the address it
/// prints, and wait for it to end (its own sign-in timeout bounds the wait).
fn sign_in(config: &Path, home: &Path, bus: &str) -> SignIn {
    let mut child = Command::new(env!("CARGO_BIN_EXE_blendesk"))
        .arg("--config")
        .arg(config)
        .arg("sign-in")
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("BLENDESK_LOG", "debug")
        .env_remove(oauth::REFRESH_ENV)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("blendesk runs");
    let mut stderr_pipe = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr_pipe.read_to_string(&mut s);
        s
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let mut page = String::new();
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap_or(0) > 0 {
        if line.starts_with("http://") || line.starts_with("https://") {
            // The browser: the server consents at once and redirects to the command.
            page = match ureq::get(line.trim()).call() {
                Ok(r) => r.into_string().unwrap_or_default(),
                Err(e) => format!("{e}"),
            };
        }
        printed.push_str(&line);
        line.clear();
    }
    let status = child.wait().unwrap();
    SignIn { status, stdout: printed, stderr: stderr.join().unwrap(), page }
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn sign_in_prints_the_address_keeps_the_token_in_the_keyring_and_nowhere_else() {
    let session = KeyringSession::start();
    let bus = session.bus.clone();
    // The only test in this binary, before any thread reads the environment.
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus);
    std::env::remove_var(oauth::REFRESH_ENV);

    let desk = Desk::with_oauth("oa_cli");
    let (user, host) = (desk.config.imap.username.clone(), desk.config.imap.host.clone());
    let home = tempfile::tempdir().unwrap();
    let run = sign_in(&desk.config_path, home.path(), &bus);
    assert!(run.status.success(), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains(&format!("{}/authorize?", stack().oauth_server)), "the address to open: {}", run.stdout);
    assert!(run.page.contains("signed in"), "the browser's page: {}", run.page);
    assert!(run.stdout.contains(&format!("user \"{}\"", oauth::keyring_user(&user, &host))), "{}", run.stdout);
    assert!(run.stdout.contains("IMAP login") && run.stdout.contains("works"), "{}", run.stdout);
    assert!(run.stderr.contains("DEBUG") || run.stderr.contains("INFO"), "the debug log was on: {}", run.stderr);

    // The server's tokens for this user: the keyring holds its refresh token.
    let url = format!("{}/admin/tokens?user={user}", stack().oauth_server);
    let tokens: serde_json::Value = serde_json::from_str(&ureq::get(&url).call().unwrap().into_string().unwrap()).unwrap();
    let refresh: Vec<String> = tokens["refresh"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect();
    let access: Vec<String> = tokens["access"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect();
    assert_eq!(refresh.len(), 1, "one sign-in, one grant: {tokens}");
    assert!(!access.is_empty(), "the login used an access token: {tokens}");
    let (found, in_keyring) = oauth::refresh_token(&user, &host).expect("in the keyring");
    assert_eq!((found.as_str(), in_keyring), (refresh[0].as_str(), true));

    // Never printed, never logged, in no file under the config's directory or the home.
    let mut files = Vec::new();
    files_under(desk.dir.path(), &mut files);
    files_under(home.path(), &mut files);
    assert!(files.iter().any(|f| f.ends_with("config.toml")) && files.iter().any(|f| f.ends_with("blendesk.db")), "{files:?}");
    for token in refresh.iter().chain(&access) {
        assert!(!run.stdout.contains(token.as_str()) && !run.stderr.contains(token.as_str()), "a token was printed or logged");
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()), "{} holds a token", f.display());
        }
    }

    // A declined consent: a clear failure (credentials, exit 3), nothing stored.
    let declined = Desk::with_oauth("oa_cli_deny");
    admin("deny", &declined.user, "").unwrap();
    let run = sign_in(&declined.config_path, home.path(), &bus);
    assert_eq!(run.status.code(), Some(3), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("access_denied") || run.stderr.contains("declined"), "{}", run.stderr);
    assert!(oauth::refresh_token(&declined.config.imap.username, &host).is_err(), "nothing in the keyring");
    drop(session);

    // A password account has nothing to sign in to: a configuration error (exit 2).
    let password = Desk::new("oa_cli_pw");
    let run = sign_in(&password.config_path, home.path(), &bus);
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("[oauth]"), "{}", run.stderr);
}
