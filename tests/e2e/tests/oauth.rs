//! OAuth2 sign-in in the real window: the setup screen's "Sign in with the browser" opens
//! the system browser ($BROWSER: tests/e2e/bin/consent-browser, which follows the test
//! authorization server's consent redirect back to the app's loopback listener), the app
//! exchanges the code (PKCE), logs in to the OAuth2-only Dovecot with XOAUTH2, saves and
//! receives mail. Then consent is revoked: the window says so and offers "Sign in again",
//! which signs in in the browser once more and brings the mail back. The refresh and
//! access tokens appear in no file the app wrote and not in its log.

use blendesk_e2e::mail::{customer_email, smtp_send};
use blendesk_e2e::{stack_env, unique, wait_for, App, Launch, Mailboxes};
use std::path::Path;
use std::time::Duration;

fn fill(app: &App, testid: &str, value: &str) {
    let e = app.session.find(&format!("[data-testid={testid}]")).unwrap_or_else(|e| panic!("{testid}: {e}"));
    e.clear().unwrap();
    e.send_keys(value).unwrap();
}

fn pick(app: &App, testid: &str, value: &str) {
    app.session.find(&format!("[data-testid={testid}] option[value={value}]")).unwrap().click().unwrap();
}

fn oauth_stack() -> (u16, String) {
    let imap: u16 = std::env::var("BLENDESK_STACK_OAUTH_IMAP_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(stack_env().0 + 4);
    let server = std::env::var("BLENDESK_STACK_OAUTH_SERVER").unwrap_or_else(|_| format!("http://127.0.0.1:{}", stack_env().0 + 5));
    (imap, server)
}

/// End the user's IMAP sessions on the OAuth2 Dovecot, so the app must log in again.
fn kick(user: &str) {
    let root = blendesk_e2e::workspace_root();
    let env = std::process::Command::new(root.join("tests/mail-stack.sh")).arg("env").output().expect("mail-stack.sh env");
    let env = String::from_utf8_lossy(&env.stdout).into_owned();
    let dir = env.lines().find_map(|l| l.strip_prefix("BLENDESK_STACK_DIR=")).expect("the stack's directory");
    let conf = Path::new(dir).join("dovecot-oauth.conf");
    let out = std::process::Command::new("doveadm").arg("-c").arg(&conf).args(["kick", user]).output().expect("doveadm");
    assert!(out.status.success(), "doveadm kick: {}", String::from_utf8_lossy(&out.stderr));
}

/// Every file under `dir`, recursively.
fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn sign_in_with_the_browser_saves_no_token_and_receives_mail() {
    let mail = Mailboxes::new();
    let (oauth_imap, server) = oauth_stack();
    let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("bin/consent-browser");
    let browser = browser.to_str().unwrap();
    let app = App::launch(Launch {
        mail: &mail,
        lang: "en_US.UTF-8",
        wrap_up_seconds: 3,
        queues: &["INBOX"],
        setup: true,
        env: &[("BROWSER", browser), ("BLENDESK_IMAP_PASSWORD", "")],
    });
    wait_for("the setup screen", Duration::from_secs(20), || app.session.find("[data-testid=setup]").ok());
    let (_, smtp) = stack_env();
    fill(&app, "setup-advisor-id", "olga_oauth");
    fill(&app, "setup-advisor-name", "Olga OAuth");
    fill(&app, "setup-imap-host", "127.0.0.1");
    fill(&app, "setup-imap-port", &oauth_imap.to_string());
    pick(&app, "setup-imap-security", "plain");
    fill(&app, "setup-imap-user", &mail.desk);
    pick(&app, "setup-signin-kind", "issuer");
    fill(&app, "setup-oauth-client", "blendesk-e2e");
    fill(&app, "setup-oauth-issuer", &server);
    fill(&app, "setup-oauth-scopes", "mail");
    fill(&app, "setup-queues", "INBOX");
    fill(&app, "setup-smtp-host", "127.0.0.1");
    fill(&app, "setup-smtp-port", &smtp.to_string());
    pick(&app, "setup-smtp-security", "plain");
    fill(&app, "setup-from", &format!("Shop Support <{}>", mail.desk_address()));

    app.session.find("[data-testid=setup-oauth-signin]").unwrap().click().unwrap();
    let result = wait_for("the sign-in result", Duration::from_secs(60), || app.session.find("[data-testid=setup-result]").ok());
    let text = result.text().unwrap();
    assert_eq!(result.attr("data-ok").unwrap().as_deref(), Some("true"), "signed in and logged in: {text}");
    app.screenshot("oauth-1-signed-in");

    app.session.find("[data-testid=setup-save]").unwrap().click().unwrap();
    app.wait_ready();
    let config = std::fs::read_to_string(app.dir.join("config/config.toml")).expect("config written");
    assert!(config.contains("[oauth]") && config.contains("blendesk-e2e"), "{config}");

    // Mail arrives over the OAuth2 login.
    let token = unique("oauth-");
    let msg = customer_email(
        &mail.customer_address(),
        &mail.desk_address(),
        &format!("Signed in {token}"),
        "Hello",
        &format!("{token}@example.com"),
    );
    smtp_send(smtp, &mail.customer_address(), &mail.desk_address(), &msg).unwrap();
    let css = format!("[data-testid=conversation][data-customer='{}']", mail.customer_address());
    wait_for("mail after the OAuth2 sign-in", Duration::from_secs(30), || app.session.find(&css).ok());
    app.screenshot("oauth-2-workspace");

    // Consent revoked at the provider: the window says so and offers "Sign in again".
    ureq::post(&format!("{server}/admin/revoke?user={}", mail.desk)).send_string("").unwrap();
    kick(&mail.desk);
    let again = wait_for("the sign-in-again button", Duration::from_secs(60), || app.session.find("[data-testid=sign-in-again]").ok());
    let conn = app.session.find("[data-testid=connection]").unwrap().text().unwrap();
    assert!(conn.contains("sign in again"), "the state says why: {conn}");
    app.screenshot("oauth-3-revoked");
    again.click().unwrap();
    wait_for("back online after signing in again", Duration::from_secs(60), || {
        let c = app.session.find("[data-testid=connection]").ok()?;
        (c.attr("data-state").ok()??.as_str() == "online").then_some(())
    });
    assert!(app.session.find("[data-testid=sign-in-again]").is_err(), "the button is gone once signed in");
    // A new customer's mail arrives over the new grant.
    let token2 = unique("again-");
    let second = format!("{token2}@example.com");
    let msg = customer_email(
        &second,
        &mail.desk_address(),
        &format!("Signed in again {token2}"),
        "Hello again",
        &format!("{token2}.m@example.com"),
    );
    smtp_send(smtp, &second, &mail.desk_address(), &msg).unwrap();
    let css = format!("[data-testid=conversation][data-customer='{second}']");
    wait_for("mail after signing in again", Duration::from_secs(30), || app.session.find(&css).ok());
    app.screenshot("oauth-4-signed-in-again");
    let body = ureq::get(&format!("{server}/admin/stats?user={}", mail.desk)).call().unwrap().into_string().unwrap();
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stats["code_grant"], 2, "two sign-ins in the browser: {stats}");

    // The server's tokens for this user: in no file the app wrote, not in its log.
    let body = ureq::get(&format!("{server}/admin/tokens?user={}", mail.desk)).call().unwrap().into_string().unwrap();
    let tokens: serde_json::Value = serde_json::from_str(&body).unwrap();
    let secrets: Vec<String> = ["refresh", "access"]
        .iter()
        .flat_map(|k| tokens[k].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert!(secrets.len() >= 4, "the server issued two grants and their access tokens: {body}");
    let log = app.log();
    assert!(log.contains("signed in with OAuth2"), "the log says the sign-in happened");
    let mut all = Vec::new();
    files(&app.dir, &mut all);
    assert!(all.iter().any(|p| p.ends_with("config/config.toml")) && all.iter().any(|p| p.ends_with("app.log")));
    for path in &all {
        let bytes = std::fs::read(path).unwrap_or_default();
        for s in &secrets {
            assert!(!bytes.windows(s.len()).any(|w| w == s.as_bytes()), "{} holds a token", path.display());
        }
    }
}
