//! First run: no configuration file, so the setup screen; a wrong password is reported
//! as exactly that; the right one connects; saving writes the configuration (without
//! passwords, mode 0600) and opens the workspace, which then receives mail.

use blendesk_e2e::mail::{customer_email, smtp_send};
use blendesk_e2e::{stack_env, unique, wait_for, App, Launch, Mailboxes};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

fn fill(app: &App, testid: &str, value: &str) {
    let e = app.session.find(&format!("[data-testid={testid}]")).unwrap_or_else(|e| panic!("{testid}: {e}"));
    e.clear().unwrap();
    e.send_keys(value).unwrap();
}

fn pick(app: &App, testid: &str, value: &str) {
    app.session.find(&format!("[data-testid={testid}] option[value={value}]")).unwrap().click().unwrap();
}

fn test_result(app: &App) -> (bool, String) {
    let r = wait_for("the connection test result", Duration::from_secs(20), || app.session.find("[data-testid=setup-result]").ok());
    (r.attr("data-ok").unwrap().as_deref() == Some("true"), r.text().unwrap())
}

#[test]
fn first_run_setup_tests_the_connection_saves_and_starts() {
    let mail = Mailboxes::new();
    let app = App::launch(Launch { mail: &mail, lang: "en_US.UTF-8", wrap_up_seconds: 3, queues: &["INBOX"], setup: true, env: &[] });
    wait_for("the setup screen", Duration::from_secs(20), || app.session.find("[data-testid=setup]").ok());
    let (imap, smtp) = stack_env();
    fill(&app, "setup-advisor-id", "sam_setup");
    fill(&app, "setup-advisor-name", "Sam Setup");
    fill(&app, "setup-imap-host", "127.0.0.1");
    fill(&app, "setup-imap-port", &imap.to_string());
    pick(&app, "setup-imap-security", "plain");
    fill(&app, "setup-imap-user", &mail.desk);
    fill(&app, "setup-imap-password", "not-the-password");
    fill(&app, "setup-queues", "INBOX");
    fill(&app, "setup-smtp-host", "127.0.0.1");
    fill(&app, "setup-smtp-port", &smtp.to_string());
    pick(&app, "setup-smtp-security", "plain");
    fill(&app, "setup-from", &format!("Shop Support <{}>", mail.desk_address()));

    app.session.find("[data-testid=setup-test]").unwrap().click().unwrap();
    let (ok, text) = test_result(&app);
    assert!(!ok && text.contains("refused the login"), "a wrong password is named as such: {text}");
    app.screenshot("14-setup-wrong-password");

    fill(&app, "setup-imap-password", "test");
    app.session.find("[data-testid=setup-test]").unwrap().click().unwrap();
    let (ok, text) = wait_for("a passing test", Duration::from_secs(20), || {
        let r = test_result(&app);
        r.0.then_some(r)
    });
    assert!(ok, "{text}");
    app.screenshot("15-setup-connection-ok");

    app.session.find("[data-testid=setup-save]").unwrap().click().unwrap();
    app.wait_ready();
    let config_path = app.dir.join("config/config.toml");
    let config = std::fs::read_to_string(&config_path).expect("config written");
    assert!(config.contains(&mail.desk) && config.contains("sam_setup"), "{config}");
    assert!(
        !config.contains("not-the-password") && !config.contains("\"test\"") && !config.contains("password"),
        "no password in {config}"
    );
    let mode = std::fs::metadata(&config_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "config file mode");

    // The engine runs on what was typed: mail arrives.
    let token = unique("setup-");
    let msg = customer_email(
        &mail.customer_address(),
        &mail.desk_address(),
        &format!("After setup {token}"),
        "Hello",
        &format!("{token}@example.com"),
    );
    smtp_send(smtp, &mail.customer_address(), &mail.desk_address(), &msg).unwrap();
    let css = format!("[data-testid=conversation][data-customer='{}']", mail.customer_address());
    wait_for("mail after setup", Duration::from_secs(30), || app.session.find(&css).ok());
}
