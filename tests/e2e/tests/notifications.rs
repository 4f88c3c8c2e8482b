//! Notifications through a real notification daemon (dunst) on the private session bus
//! that scripts/test-e2e.sh starts: what notify-rust sends is read off the bus with
//! dbus-monitor. Customer text arrives escaped; nothing is shown during a call; "email
//! resumed" follows wrap-up.

use blendesk_e2e::mail::{customer_email, smtp_send};
use blendesk_e2e::{stack_env, unique, wait_for, App, Launch, Mailboxes, Team};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Daemons {
    dunst: Child,
    monitor: Child,
    log: PathBuf,
}

impl Daemons {
    fn start() -> Daemons {
        assert!(
            std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
            "needs a session bus: run under dbus-run-session (scripts/test-e2e.sh)"
        );
        let log = std::env::temp_dir().join(format!("{}.log", unique("blendesk-notify-")));
        let monitor = Command::new("dbus-monitor")
            .args(["--session", "type='method_call',interface='org.freedesktop.Notifications',member='Notify'"])
            .stdout(Stdio::from(std::fs::File::create(&log).expect("monitor log")))
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-monitor");
        let dunst =
            Command::new("dunst").stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("dunst (scripts/desktop-deps.sh installs it)");
        wait_for("dunst on the session bus", Duration::from_secs(10), || {
            let out = Command::new("dbus-send")
                .args(["--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus"])
                .args(["org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.Notifications"])
                .output()
                .ok()?;
            String::from_utf8_lossy(&out.stdout).contains("boolean true").then_some(())
        });
        Daemons { dunst, monitor, log }
    }

    fn seen(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemons {
    fn drop(&mut self) {
        for c in [&mut self.dunst, &mut self.monitor] {
            unsafe {
                libc_kill(c.id() as i32);
            }
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

unsafe fn libc_kill(pid: i32) {
    // SIGTERM, via the shell-free kill(2) the harness already links.
    extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
    kill(pid, 15);
}

fn write(mail: &Mailboxes, subject: &str, token: &str) {
    let (_, smtp) = stack_env();
    let mid = format!("{token}@example.com");
    let msg = customer_email(&mail.customer_address(), &mail.desk_address(), subject, &format!("Body {token}"), &mid);
    smtp_send(smtp, &mail.customer_address(), &mail.desk_address(), &msg).expect("SMTP");
}

fn open_messages(app: &App, customer: &str) -> Option<String> {
    let css = format!("[data-testid=conversation][data-customer='{customer}']");
    app.session.find(&css).ok()?.text().ok()
}

#[test]
fn notifications_are_escaped_held_during_calls_and_announce_resumption() {
    let daemons = Daemons::start();
    let mail = Mailboxes::new();
    // SLA clocks count business hours: an always-open calendar keeps the SLA-risk
    // notification below independent of when the test runs.
    let always: serde_json::Map<String, serde_json::Value> =
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].iter().map(|d| (d.to_string(), serde_json::json!(["00:00-24:00"]))).collect();
    let policy = serde_json::json!({"version": 1, "wrap_up_seconds": 2, "default_cap": 5,
        "sla": {"default": {"calendar": {"time_zone": "UTC", "hours": always}}}});
    let app = App::launch_as(
        Launch { mail: &mail, lang: "en_US.UTF-8", wrap_up_seconds: 2, queues: &["INBOX"], setup: false, env: &[] },
        Team { policy: Some(policy), ..Team::default() },
    );
    app.wait_ready();
    let customer = mail.customer_address();

    // The first email makes the conversation mine (no notification for new email).
    write(&mail, "Order question", &unique("n1-"));
    wait_for("the conversation", Duration::from_secs(30), || open_messages(&app, &customer));

    // On a call, a customer reply notifies nobody.
    app.session.find("[data-testid=call-toggle]").unwrap().click().unwrap();
    wait_for("on call", Duration::from_secs(2), || {
        (app.session.find("[data-testid=state-pill]").ok()?.attr("data-state").ok()?.as_deref() == Some("on_call")).then_some(())
    });
    write(&mail, "Held during the call", &unique("n2-"));
    wait_for("the second message mirrored", Duration::from_secs(30), || {
        open_messages(&app, &customer)?.contains("2 messages").then_some(())
    });
    assert!(!daemons.seen().contains("Held during the call"), "no notification during a call");

    // End the call: after wrap-up, "Email resumed".
    app.session.find("[data-testid=call-toggle]").unwrap().click().unwrap();
    wait_for("the resumed notification", Duration::from_secs(15), || daemons.seen().contains("Email resumed").then_some(()));
    assert!(!daemons.seen().contains("Held during the call"), "held notifications are not replayed");

    // A reply with markup in its subject arrives escaped.
    let started = Instant::now();
    write(&mail, "<b>Refund</b> & <i>now</i>", &unique("n3-"));
    let seen = wait_for("the customer-replied notification", Duration::from_secs(30), || {
        let s = daemons.seen();
        s.contains("Refund").then_some(s)
    });
    eprintln!("notification {:?} after delivery", started.elapsed());
    assert!(seen.contains("&lt;b&gt;Refund&lt;/b&gt; &amp; &lt;i&gt;now&lt;/i&gt;"), "escaped body on the bus: {seen}");
    assert!(!seen.contains("<b>Refund</b>"), "raw markup never reaches the daemon: {seen}");
    assert!(seen.contains("A customer replied in your conversation"), "summary: {seen}");

    // Mail that has waited 3 h 50 min of its 4 h promise becomes mine and is announced.
    let (imap, _) = stack_env();
    let late = Mailboxes::new();
    let out = Command::new("date").args(["-u", "-d", "-230 minutes", "+%d-%b-%Y %H:%M:%S +0000"]).output().expect("date");
    let when = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let token = unique("late-");
    let msg = customer_email(
        &late.customer_address(),
        &mail.desk_address(),
        &format!("Waiting a long time {token}"),
        "Still waiting",
        &format!("{token}@example.com"),
    );
    blendesk_e2e::mail::imap_append(imap, &mail.desk, "test", "INBOX", &msg, &when).expect("APPEND old mail");
    wait_for("the SLA-risk notification", Duration::from_secs(30), || {
        daemons.seen().contains(&format!("{}: Waiting a long time {token}", late.customer_address())).then_some(())
    });
    assert!(daemons.seen().contains("An email of yours is at SLA risk"));
    assert!(seen.contains(&format!("{customer}: &lt;b&gt;")), "sender named in the body: {seen}");
}
