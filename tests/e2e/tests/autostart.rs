//! Start at login is opt-in: off on a first start; the setting writes an XDG autostart
//! entry that starts this very binary with this configuration, and turning it off removes
//! the entry again.

use blendesk_e2e::{app_binary, wait_for, App, Launch, Mailboxes};
use std::time::Duration;

fn ticked(app: &App) -> Option<bool> {
    app.session.find("[data-testid=autostart]").ok()?.property("checked").ok()?.as_bool()
}

#[test]
fn start_at_login_is_opt_in_and_the_setting_writes_and_removes_the_entry() {
    let mail = Mailboxes::new();
    let app = App::launch(Launch { mail: &mail, lang: "en_US.UTF-8", wrap_up_seconds: 3, queues: &["INBOX"], setup: false, env: &[] });
    app.wait_ready();
    // The harness gives the app XDG_CONFIG_HOME=<dir>/config.
    let entry = app.dir.join("config/autostart/blendesk.desktop");
    assert!(!wait_for("the start-at-login setting", Duration::from_secs(10), || ticked(&app)), "off by default");
    assert!(!entry.exists(), "no autostart entry before the advisor asks for one");

    app.session.find("[data-testid=autostart]").unwrap().click().unwrap();
    let text = wait_for("the autostart entry", Duration::from_secs(5), || std::fs::read_to_string(&entry).ok());
    let exe = app_binary().canonicalize().expect("app binary");
    let config = app.dir.join("config/config.toml");
    let exec = text.lines().find_map(|l| l.strip_prefix("Exec=")).unwrap_or_else(|| panic!("no Exec line:\n{text}"));
    assert_eq!(exec, format!("{} --config {}", exe.display(), config.display()), "{text}");
    assert!(text.starts_with("[Desktop Entry]\n") && text.contains("\nType=Application\n"), "{text}");
    wait_for("the box ticked", Duration::from_secs(5), || (ticked(&app) == Some(true)).then_some(()));
    app.screenshot("72-start-at-login-on");

    app.session.find("[data-testid=autostart]").unwrap().click().unwrap();
    wait_for("the entry removed", Duration::from_secs(5), || (!entry.exists()).then_some(()));
    wait_for("the box unticked", Duration::from_secs(5), || (ticked(&app) == Some(false)).then_some(()));
}
