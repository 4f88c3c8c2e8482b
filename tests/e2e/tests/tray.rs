//! The tray icon, read and clicked the way a desktop panel does it: through its
//! StatusNotifierItem menu (com.canonical.dbusmenu) on the session bus. The menu's first
//! line follows the advisor's state and load, its "On call" toggle starts a call in the
//! window and follows a call ended there, and "Quit Blendesk" ends the app.

use blendesk_e2e::mail::{customer_email, imap_append};
use blendesk_e2e::webdriver::KEY_ALT;
use blendesk_e2e::{stack_env, unique, wait_for, App, Launch, Mailboxes};
use std::process::Command;
use std::time::Duration;

fn gdbus(args: &[&str]) -> Result<String, String> {
    let out = Command::new("gdbus").arg("call").arg("--session").args(args).output().map_err(|e| format!("gdbus: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn bus(method: &str, arg: Option<&str>) -> Result<String, String> {
    let mut args = vec!["--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus", "--method", method];
    args.extend(arg);
    gdbus(&args)
}

/// One menu item as the panel sees it.
#[derive(Debug, Clone)]
struct Item {
    id: String,
    label: String,
    enabled: bool,
    ticked: Option<bool>,
}

/// The app's tray menu: the bus connection that serves it and its object path.
struct Tray {
    dest: String,
    menu: String,
}

impl Tray {
    /// The StatusNotifierItem exported by the process `pid`.
    fn find(pid: i32) -> Option<Tray> {
        let names = bus("org.freedesktop.DBus.ListNames", None).ok()?;
        for name in names.split('\'').filter(|n| n.starts_with(":1.")) {
            if bus("org.freedesktop.DBus.GetConnectionUnixProcessID", Some(name)).ok()?.trim() != format!("(uint32 {pid},)") {
                continue;
            }
            let out = Command::new("gdbus")
                .args(["introspect", "--session", "--dest", name, "--object-path", "/org/ayatana/NotificationItem"])
                .output()
                .ok()?;
            let text = String::from_utf8_lossy(&out.stdout);
            // The first node line is the path asked for; the item is its child.
            let child = text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("node ").map(|n| n.trim_end_matches('{').trim().to_owned()))
                .find(|n| !n.starts_with('/'));
            if let Some(node) = child {
                let menu = format!("/org/ayatana/NotificationItem/{node}/Menu");
                return Some(Tray { dest: name.to_owned(), menu });
            }
        }
        None
    }

    fn items(&self) -> Vec<Item> {
        let layout = gdbus(&[
            "--dest",
            &self.dest,
            "--object-path",
            &self.menu,
            "--method",
            "com.canonical.dbusmenu.GetLayout",
            "0",
            "int32 -1",
            "[]",
        ])
        .unwrap_or_else(|e| panic!("the tray's menu layout: {e}"));
        // Children print as <(id, {'label': <'…'>, …}, [])>.
        layout
            .split("<(")
            .skip(1)
            .filter_map(|chunk| {
                let (id, rest) = chunk.split_once(',')?;
                let props = &rest[..rest.find('}')?];
                let label =
                    props.split_once("'label': <'").map(|(_, l)| l[..l.find("'>").unwrap_or(l.len())].to_owned()).unwrap_or_default();
                let ticked = props.split_once("'toggle-state': <").map(|(_, t)| t.starts_with('1'));
                Some(Item { id: id.trim().to_owned(), label, enabled: !props.contains("'enabled': <false>"), ticked })
            })
            .collect()
    }

    fn status(&self) -> String {
        self.items().first().map(|i| i.label.clone()).unwrap_or_default()
    }

    fn item(&self, label: &str) -> Item {
        let items = self.items();
        items.iter().find(|i| i.label == label).cloned().unwrap_or_else(|| panic!("no {label:?} in the tray menu: {items:?}"))
    }

    /// Click the item labelled `label`, as a panel does.
    fn click(&self, label: &str) {
        let item = self.item(label);
        gdbus(&[
            "--dest",
            &self.dest,
            "--object-path",
            &self.menu,
            "--method",
            "com.canonical.dbusmenu.Event",
            &item.id,
            "clicked",
            "<int32 0>",
            "0",
        ])
        .unwrap_or_else(|e| panic!("click {label:?}: {e}"));
    }
}

fn state_of(app: &App) -> Option<String> {
    app.session.find("[data-testid=state-pill]").ok()?.attr("data-state").ok()?
}

fn wait_state(app: &App, want: &str) {
    wait_for(&format!("advisor state {want}"), Duration::from_secs(5), || (state_of(app).as_deref() == Some(want)).then_some(()));
}

fn wait_status(tray: &Tray, want: &str) {
    wait_for(&format!("the tray to say {want:?}"), Duration::from_secs(10), || {
        let now = tray.status();
        (now == want).then_some(()).or_else(|| {
            eprintln!("tray: {now:?}");
            None
        })
    });
}

#[test]
fn tray_shows_state_and_load_toggles_the_call_and_quits() {
    let mail = Mailboxes::new();
    let app = App::launch(Launch { mail: &mail, lang: "en_US.UTF-8", wrap_up_seconds: 30, queues: &["INBOX"], setup: false, env: &[] });
    app.wait_ready();
    let pid = *app.pids().first().expect("the app's process");
    // A bound, not a sleep: on a loaded 2-core CI machine the icon took over 10 s once.
    let tray = wait_for("the tray icon on the session bus", Duration::from_secs(30), || Tray::find(pid));
    let cap = app.session.find("[data-testid=load]").unwrap().attr("data-cap").unwrap().expect("cap");
    assert_ne!(cap, "0", "the default policy gives a cap");
    wait_status(&tray, &format!("Blendesk · Available · 0 of {cap} emails"));
    let call = tray.item("On call");
    assert!(call.enabled && call.ticked == Some(false), "{call:?}");
    let first = &tray.items()[0];
    assert!(!first.enabled, "the status line is not a button: {first:?}");

    // An email arrives and the claim loop takes it: the load follows.
    let (imap, _) = stack_env();
    let token = unique("tray-");
    let msg =
        customer_email(&mail.customer_address(), &mail.desk_address(), &format!("Tray {token}"), "Hello", &format!("{token}@example.com"));
    let now = Command::new("date").args(["-u", "+%d-%b-%Y %H:%M:%S +0000"]).output().expect("date");
    imap_append(imap, &mail.desk, "test", "INBOX", &msg, String::from_utf8_lossy(&now.stdout).trim()).expect("APPEND");
    wait_for("the claim", Duration::from_secs(30), || (tray.status() == format!("Blendesk · Available · 1 of {cap} emails")).then_some(()));

    // The tray's toggle starts a call in the window.
    tray.click("On call");
    wait_state(&app, "on_call");
    wait_status(&tray, &format!("Blendesk · On call · 1 of {cap} emails"));
    assert_eq!(tray.item("On call").ticked, Some(true), "the toggle is ticked during the call");
    app.screenshot("71-on-call-from-tray");

    // A call ended in the window unticks it.
    app.session.key_chord(KEY_ALT, "c").unwrap();
    wait_state(&app, "wrap_up");
    wait_status(&tray, &format!("Blendesk · Wrap-up · 1 of {cap} emails"));
    assert_eq!(tray.item("On call").ticked, Some(false), "unticked after the call");

    // Quit from the tray ends the app.
    tray.click("Quit Blendesk");
    wait_for("the app to exit", Duration::from_secs(10), || app.pids().is_empty().then_some(()));
}
