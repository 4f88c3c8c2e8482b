//! The real desktop app, driven through tauri-driver + WebKitWebDriver under Xvfb,
//! against the local mail stack. Run with scripts/test-e2e.sh.

use blendesk_e2e::mail::{customer_email, imap_fetch_all, smtp_send};
use blendesk_e2e::webdriver::KEY_ALT;
use blendesk_e2e::{stack_env, unique, wait_for, App, Launch, Mailboxes};
use std::time::{Duration, Instant};

const SYNC: Duration = Duration::from_secs(30);

fn launch(mail: &Mailboxes) -> App {
    let app = App::launch(Launch { mail, lang: "en_US.UTF-8", wrap_up_seconds: 3, queues: &["INBOX"], setup: false, env: &[] });
    app.wait_ready();
    app
}

/// A customer writes in; returns (subject, token in the body, Message-ID).
fn customer_writes(mail: &Mailboxes) -> (String, String, String) {
    let (_, smtp) = stack_env();
    let token = unique("ord-");
    let subject = format!("Where is my parcel {token}?");
    let mid = format!("{token}@example.com");
    let body = format!("Hello, my order {token} has not arrived. Tracking: https://carrier.example/track/{token}\nThanks, Casey");
    smtp_send(
        smtp,
        &mail.customer_address(),
        &mail.desk_address(),
        &customer_email(&mail.customer_address(), &mail.desk_address(), &subject, &body, &mid),
    )
    .expect("SMTP delivery to the support mailbox");
    (subject, token, mid)
}

fn conversation_css(mail: &Mailboxes) -> String {
    format!("[data-testid=conversation][data-customer='{}']", mail.customer_address())
}

fn open_customer_conversation(app: &App, mail: &Mailboxes, token: &str) {
    let css = conversation_css(mail);
    let conv = wait_for("the customer's email in my conversations", SYNC, || app.session.find(&css).ok());
    conv.click().expect("open conversation");
    wait_for("the thread showing the customer's text", Duration::from_secs(10), || {
        let msgs = app.session.find_all("[data-testid=thread-message]").ok()?;
        msgs.iter().any(|m| m.text().map(|t| t.contains(token)).unwrap_or(false)).then_some(())
    });
}

fn state_of(app: &App) -> Option<String> {
    app.session.find("[data-testid=state-pill]").ok()?.attr("data-state").ok()?
}

fn wait_state(app: &App, want: &str, deadline: Duration) {
    wait_for(&format!("advisor state {want}"), deadline, || (state_of(app).as_deref() == Some(want)).then_some(()));
}

fn composer_value(app: &App) -> String {
    app.session
        .find("[data-testid=composer]")
        .and_then(|c| c.property("value"))
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[test]
fn email_arrives_template_reply_reaches_the_customer() {
    let mail = Mailboxes::new();
    let app = launch(&mail);
    let (subject, token, mid) = customer_writes(&mail);
    open_customer_conversation(&app, &mail, &token);

    // The top bar counts it: load 1 / 3 and one waiting in INBOX.
    let load = app.session.find("[data-testid=load]").unwrap().text().unwrap();
    assert!(load.contains("1 / 3"), "load shows {load:?}");
    let queues = app.session.find("[data-testid=queue-summary]").unwrap().text().unwrap();
    assert!(queues.contains("INBOX") && queues.contains("1 waiting"), "queue summary {queues:?}");
    wait_for("connection indicator online", SYNC, || {
        let c = app.session.find("[data-testid=connection]").ok()?;
        (c.attr("data-state").ok()?.as_deref() == Some("online")).then_some(())
    });
    // Plain text is shown as text, with the link's real host beside it.
    let text = app.session.find("[data-testid=mail-text]").unwrap().text().unwrap();
    assert!(text.contains("[carrier.example]"), "link host shown: {text:?}");
    // A link asks first, naming the real host; cancel leaves it.
    app.session.find("[data-testid=mail-text] a").unwrap().click().unwrap();
    let host = wait_for("the link confirmation", Duration::from_secs(3), || app.session.find("[data-testid=link-host]").ok());
    assert_eq!(host.text().unwrap(), "carrier.example");
    app.session.find("[data-testid=link-cancel]").unwrap().click().unwrap();
    wait_for("the confirmation to close", Duration::from_secs(3), || app.session.find("[data-testid=link-confirm]").is_err().then_some(()));
    app.screenshot("01-email-arrived");

    // Insert a template.
    app.session.find("[data-testid=template-select] option[value=thanks]").unwrap().click().unwrap();
    let insert = app.session.find("[data-testid=insert-template]").unwrap();
    wait_for("insert button enabled", Duration::from_secs(5), || insert.enabled().ok()?.then_some(()));
    insert.click().unwrap();
    let draft = composer_value(&app);
    assert!(draft.contains("Thank you for contacting us") && draft.contains("Erin Example"), "draft {draft:?}");
    app.session.find("[data-testid=composer]").unwrap().send_keys(&format!("\nRef {token}")).unwrap();
    app.screenshot("02-template-inserted");

    // Send, and see it leave.
    app.session.find("[data-testid=send]").unwrap().click().unwrap();
    wait_for("the reply marked sent", SYNC, || {
        let s = app.session.find("[data-testid=send-status]").ok()?;
        let state = s.attr("data-state").ok()??;
        assert_ne!(state, "failed", "send failed: {}", s.text().unwrap_or_default());
        (state == "sent").then_some(())
    });
    app.screenshot("03-reply-sent");

    // The customer's mailbox receives a threaded reply with the template and our text.
    let (imap, _) = stack_env();
    let got = wait_for("the reply in the customer's mailbox", SYNC, || {
        let all = imap_fetch_all(imap, &mail.customer, "test").ok()?;
        all.contains(&format!("Ref {token}")).then_some(all)
    });
    assert!(got.contains(&format!("Re: {subject}")), "subject threaded: {got}");
    assert!(got.contains(&format!("<{mid}>")), "In-Reply-To/References name the original: {got}");
    assert!(got.contains("Thank you for contacting us"), "template text sent: {got}");

    // Answered: the conversation leaves my list once the \Answered flag syncs back.
    let css = conversation_css(&mail);
    wait_for("the answered conversation to leave my list", SYNC, || app.session.find(&css).is_err().then_some(()));
    app.screenshot("04-conversation-answered");
}

#[test]
fn on_call_pauses_email_then_wrap_up_then_resumes_with_draft_kept() {
    let mail = Mailboxes::new();
    let app = launch(&mail);
    let (_, token, _) = customer_writes(&mail);
    open_customer_conversation(&app, &mail, &token);
    wait_state(&app, "available", Duration::from_secs(5));
    let composer = app.session.find("[data-testid=composer]").unwrap();
    composer.send_keys("Half-written answer").unwrap();
    assert!(composer.enabled().unwrap());

    // The toggle starts the call: overlay, dimmed centre, composer disabled.
    app.session.find("[data-testid=call-toggle]").unwrap().click().unwrap();
    wait_state(&app, "on_call", Duration::from_secs(2));
    let overlay = wait_for("the on-call overlay", Duration::from_secs(2), || app.session.find("[data-testid=call-overlay]").ok());
    assert!(overlay.text().unwrap().contains("On call — email paused"));
    assert!(!app.session.find("[data-testid=composer]").unwrap().enabled().unwrap(), "composer disabled on a call");
    assert!(!app.session.find("[data-testid=send]").unwrap().enabled().unwrap(), "send disabled on a call");
    assert!(app.session.find("[data-testid=call-clock]").is_ok(), "call timer shown");
    // The email's handle-time clock stops for the call (checked across a visible tick of
    // the call clock, so time has certainly passed in the window).
    let handle = || app.session.find("[data-testid=handle-time]").unwrap().text().unwrap();
    let clock = || app.session.find("[data-testid=call-clock]").unwrap().text().unwrap();
    let (handle_before, clock_before) = (handle(), clock());
    wait_for("the call clock to tick", Duration::from_secs(3), || (clock() != clock_before).then_some(()));
    assert_eq!(handle(), handle_before, "handle time stopped during the call");
    app.screenshot("05-on-call");

    // End the call with the keyboard shortcut: wrap-up with a countdown.
    app.session.key_chord(KEY_ALT, "c").unwrap();
    wait_state(&app, "wrap_up", Duration::from_secs(2));
    let countdown = app.session.find("[data-testid=wrap-up-countdown]").unwrap().text().unwrap();
    assert!(countdown.ends_with('s'), "countdown {countdown:?}");
    assert!(app.session.find("[data-testid=call-overlay]").unwrap().text().unwrap().contains("Wrap-up"));
    assert!(!app.session.find("[data-testid=composer]").unwrap().enabled().unwrap(), "still paused in wrap-up");
    app.screenshot("06-wrap-up");
    // Wrap-up asks how the call ended; the answer is recorded with the call.
    app.session.find("[data-testid=disposition-resolved]").unwrap().click().unwrap();
    wait_for("the disposition recorded", Duration::from_secs(3), || app.session.find("[data-testid=disposition-done]").ok());
    assert!(app.session.find("[data-testid=disposition-resolved]").is_err(), "asked once");

    // Then email resumes by itself, with the draft intact.
    wait_state(&app, "available", Duration::from_secs(10));
    wait_for("the overlay to go", Duration::from_secs(2), || app.session.find("[data-testid=call-overlay]").is_err().then_some(()));
    assert!(app.session.find("[data-testid=composer]").unwrap().enabled().unwrap());
    assert_eq!(composer_value(&app), "Half-written answer", "draft kept across the call");
    app.screenshot("07-resumed");
}

#[test]
fn language_switches_to_chinese_and_back() {
    let mail = Mailboxes::new();
    let app = launch(&mail);
    let toggle_text = || app.session.find("[data-testid=call-toggle]").unwrap().text().unwrap();
    assert_eq!(toggle_text(), "Start call");
    app.session.find("[data-testid=lang-toggle]").unwrap().click().unwrap();
    wait_for("Chinese labels", Duration::from_secs(3), || (toggle_text() == "开始通话").then_some(()));
    let lang = app.session.execute("return document.documentElement.lang", vec![]).unwrap();
    assert_eq!(lang.as_str(), Some("zh-CN"));
    let pill = app.session.find("[data-testid=state-pill]").unwrap().text().unwrap();
    assert!(pill.contains("可接待"), "state pill {pill:?}");
    app.screenshot("08-chinese");
    app.session.find("[data-testid=lang-toggle]").unwrap().click().unwrap();
    wait_for("English labels again", Duration::from_secs(3), || (toggle_text() == "Start call").then_some(()));
    app.screenshot("09-english-again");
}

#[test]
fn system_language_chinese_is_the_default() {
    let mail = Mailboxes::new();
    let app = App::launch(Launch { mail: &mail, lang: "zh_CN.UTF-8", wrap_up_seconds: 3, queues: &["INBOX"], setup: false, env: &[] });
    app.wait_ready();
    let text = app.session.find("[data-testid=call-toggle]").unwrap().text().unwrap();
    assert_eq!(text, "开始通话", "navigator.language follows LANG");
}

#[test]
fn call_socket_from_another_process_switches_the_app() {
    let mail = Mailboxes::new();
    let app = launch(&mail);
    wait_state(&app, "available", Duration::from_secs(5));
    wait_for("the call socket", Duration::from_secs(10), || app.socket.exists().then_some(()));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&app.socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "call socket is private to the advisor");
    // The real `blendesk call start|end`, as a softphone runs it: another process, the
    // same configuration, the socket found through XDG_RUNTIME_DIR.
    let cli = std::env::var_os("BLENDESK_CLI_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| blendesk_e2e::workspace_root().join("target/debug/blendesk"));
    assert!(cli.exists(), "no blendesk CLI at {} (scripts/test-e2e.sh builds it)", cli.display());
    let call = |event: &str| {
        let out = std::process::Command::new(&cli)
            .arg("--config")
            .arg(app.dir.join("config/config.toml"))
            .args(["call", event])
            .env("XDG_RUNTIME_DIR", app.dir.join("run"))
            .output()
            .expect("run blendesk call");
        assert!(out.status.success(), "blendesk call {event} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    // Time the switch: the client's round trip (the app has applied the event when it
    // answers) and the moment the UI's pill changed (a MutationObserver stamps it with
    // the same wall clock).
    app.session
        .execute(
            "const pill = document.querySelector('[data-testid=state-pill]');
             window.__switchedAt = null;
             new MutationObserver(() => { if (pill.dataset.state === 'on_call' && !window.__switchedAt) window.__switchedAt = Date.now(); })
               .observe(pill, { attributes: true });
             return true;",
            vec![],
        )
        .unwrap();
    let epoch_ms = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as f64;
    let sent_at = epoch_ms();
    let started = Instant::now();
    assert_eq!(call("start"), "on_call");
    let round_trip = started.elapsed();
    wait_state(&app, "on_call", Duration::from_secs(2));
    let switched_at = app.session.execute("return window.__switchedAt", vec![]).unwrap().as_f64().expect("pill change stamped");
    let ui_ms = switched_at - sent_at;
    eprintln!("blendesk call start: {round_trip:?} for the whole command (process start, config, socket round trip); UI pill switched {ui_ms:.0} ms after it started");
    assert!(
        round_trip < Duration::from_millis(100),
        "the app applied the call event within 100 ms of the command starting: {round_trip:?}"
    );
    assert!(ui_ms < 250.0, "the window showed it promptly: {ui_ms} ms");
    assert!(app.session.find("[data-testid=call-overlay]").is_ok());
    app.screenshot("10-on-call-from-socket");
    assert_eq!(call("end"), "wrap_up");
    wait_state(&app, "wrap_up", Duration::from_secs(2));
    wait_state(&app, "available", Duration::from_secs(10));
}

#[test]
fn demo_mailbox_fills_the_three_panes() {
    let mail = Mailboxes::new();
    let (imap, smtp) = stack_env();
    let seed = std::process::Command::new("python3")
        .arg(blendesk_e2e::workspace_root().join("scripts/demo-seed.py"))
        .args(["--user", &mail.desk, "--password", "test", "--customers", "40"])
        .args(["--imap-port", &imap.to_string(), "--smtp-port", &smtp.to_string()])
        .output()
        .expect("run demo-seed.py");
    assert!(seed.status.success(), "demo-seed: {}", String::from_utf8_lossy(&seed.stderr));
    // The demo team's documents, as scripts/demo.sh publishes them: articles and
    // approved templates (the test's own policy, published at launch, then replaces
    // the demo policy; alice stays a supervisor, so her approvals count).
    let docs = std::env::temp_dir().join(blendesk_e2e::unique("demo-docs-"));
    std::fs::create_dir_all(&docs).unwrap();
    let config = docs.join("alice.toml");
    let text = blendesk_e2e::config_text("alice", "Alice Advisor", &mail, &["INBOX", "Billing", "Returns"], &docs.join("alice.sqlite"));
    std::fs::write(&config, text).unwrap();
    let content = std::process::Command::new(blendesk_e2e::workspace_root().join("scripts/demo-content.sh"))
        .arg(&config)
        .env("BLENDESK_BIN", blendesk_e2e::cli_binary())
        .env("BLENDESK_IMAP_PASSWORD", "test")
        .output()
        .expect("run demo-content.sh");
    assert!(content.status.success(), "demo-content: {}", String::from_utf8_lossy(&content.stderr));
    // SLA clocks count business hours; an always-open calendar keeps the red chips
    // below independent of when the test runs (the seed spreads mail over 6 hours).
    let always: serde_json::Map<String, serde_json::Value> =
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].iter().map(|d| (d.to_string(), serde_json::json!(["00:00-24:00"]))).collect();
    let policy = serde_json::json!({"version": 1, "wrap_up_seconds": 3, "supervisors": ["alice"],
        "sla": {"default": {"calendar": {"time_zone": "UTC", "hours": always}}}});
    let app = App::launch_as(
        Launch { mail: &mail, lang: "en_US.UTF-8", wrap_up_seconds: 3, queues: &["INBOX", "Billing", "Returns"], setup: false, env: &[] },
        blendesk_e2e::Team { advisor: None, policy: Some(policy) },
    );
    app.wait_ready();
    // The advisor gets exactly their cap, pushed in SLA order; the rest is a count.
    wait_for("three conversations pushed", SYNC, || (app.session.find_all("[data-testid=conversation]").ok()?.len() == 3).then_some(()));
    let load = app.session.find("[data-testid=load]").unwrap().text().unwrap();
    assert!(load.contains("3 / 3"), "load {load:?}");
    let queues = app.session.find("[data-testid=queue-summary]").unwrap().text().unwrap();
    for q in ["INBOX", "Billing", "Returns"] {
        assert!(queues.contains(q), "queue {q} in {queues:?}");
    }
    // The oldest waiting are past their 4-hour promise: red chips come first.
    let first_sla = app.session.find("[data-testid=sla-chip]").unwrap().attr("data-sla").unwrap().unwrap();
    assert_eq!(first_sla, "breached");
    // The first conversation opens by itself, with history and knowledge beside it.
    wait_for("customer history", Duration::from_secs(10), || {
        (!app.session.find_all("[data-testid=history-item]").ok()?.is_empty()).then_some(())
    });
    wait_for("similar emails", Duration::from_secs(10), || {
        (!app.session.find_all("[data-testid=knowledge-item]").ok()?.is_empty()).then_some(())
    });
    wait_for("knowledge articles for the open email", Duration::from_secs(10), || {
        (!app.session.find_all("[data-testid=kb-snippet]").ok()?.is_empty()).then_some(())
    });
    let offered = wait_for("the team's approved templates", Duration::from_secs(10), || {
        let t = app.session.find_all("[data-testid=team-template]").ok()?;
        (!t.is_empty()).then_some(t.len())
    });
    assert!(offered >= 7, "the demo's approved templates: {offered}");
    app.screenshot("11-demo-workspace");
    app.session.find("[data-testid=lang-toggle]").unwrap().click().unwrap();
    wait_for("Chinese labels", Duration::from_secs(3), || {
        (app.session.find("[data-testid=call-toggle]").ok()?.text().ok()? == "开始通话").then_some(())
    });
    app.screenshot("12-demo-workspace-zh");
    app.session.find("[data-testid=lang-toggle]").unwrap().click().unwrap();
}

#[test]
fn a_second_launch_hands_over_to_the_running_window() {
    let mail = Mailboxes::new();
    let app = launch(&mail);
    let mut second = std::process::Command::new(blendesk_e2e::app_binary())
        .arg("--config")
        .arg(app.dir.join("config/config.toml"))
        .env("BLENDESK_IMAP_PASSWORD", "test")
        .env("XDG_RUNTIME_DIR", app.dir.join("run"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("second launch");
    let status = wait_for("the second instance to hand over and exit", Duration::from_secs(15), || second.try_wait().ok()?);
    assert!(status.success(), "second instance exit: {status:?}");
    // The first window is still there and working.
    app.session.find("[data-testid=call-toggle]").unwrap().click().unwrap();
    wait_state(&app, "on_call", Duration::from_secs(2));
    assert!(app.socket.exists(), "the running instance kept its call socket");
}

#[test]
fn away_holds_new_email_in_the_queue_until_back() {
    let mail = Mailboxes::new();
    let app = launch(&mail);
    app.session.find("[data-testid=away-toggle]").unwrap().click().unwrap();
    wait_state(&app, "away", Duration::from_secs(2));
    let (_, token, _) = customer_writes(&mail);
    // It reaches the queue count, not me.
    wait_for("the email counted in the queue", SYNC, || {
        app.session.find("[data-testid=queue-summary]").ok()?.text().ok()?.contains("1 waiting").then_some(())
    });
    assert!(app.session.find(&conversation_css(&mail)).is_err(), "nothing is pushed while away");
    assert!(app.session.find("[data-testid=load]").unwrap().text().unwrap().contains("0 / 3"));
    app.screenshot("16-away-queue-held");
    // Back to work: it is pushed and opens by itself.
    app.session.key_chord(KEY_ALT, "a").unwrap();
    wait_state(&app, "available", Duration::from_secs(2));
    wait_for("the email pushed after the break", SYNC, || app.session.find(&conversation_css(&mail)).ok());
    wait_for("the thread", Duration::from_secs(10), || {
        app.session.find("[data-testid=mail-text]").ok()?.text().ok()?.contains(&token).then_some(())
    });
}

#[test]
fn resolve_closes_a_conversation_without_a_reply() {
    let mail = Mailboxes::new();
    let app = launch(&mail);
    let (_, token, _) = customer_writes(&mail);
    open_customer_conversation(&app, &mail, &token);
    app.session.find("[data-testid=resolve]").unwrap().click().unwrap();
    let css = conversation_css(&mail);
    wait_for("the resolved conversation to leave my list", SYNC, || app.session.find(&css).is_err().then_some(()));
    wait_for("the queue to be empty", SYNC, || {
        app.session.find("[data-testid=queue-summary]").ok()?.text().ok()?.contains("0 waiting").then_some(())
    });
    // Nothing but the team's automatic acknowledgement (RFC 3834, sent on arrival) went
    // to the customer: no reply.
    let (imap, _) = stack_env();
    let inbox = imap_fetch_all(imap, &mail.customer, "test").unwrap_or_default();
    for message in inbox.split("\n* ").filter(|m| m.contains(&token)) {
        assert!(message.contains("Auto-Submitted: auto-replied"), "no reply for a resolved conversation: {message}");
    }
    // A new message from the customer opens it again.
    let (_, token2, _) = customer_writes(&mail);
    open_customer_conversation(&app, &mail, &token2);
    wait_for("the earlier one shown as resolved in the history", Duration::from_secs(10), || {
        app.session.find("[data-testid=history-item][data-status=resolved]").ok()
    });
    app.screenshot("17-resolved-then-reopened");
}

#[test]
fn park_sets_a_conversation_aside_and_it_comes_back_by_itself() {
    let mail = Mailboxes::new();
    let app = launch(&mail);
    let (_, token, _) = customer_writes(&mail);
    open_customer_conversation(&app, &mail, &token);
    app.session.find("[data-testid=park-for] option[value='900']").unwrap().click().unwrap();
    app.session.find("[data-testid=park]").unwrap().click().unwrap();
    let parked_css = format!("[data-testid=parked][data-customer='{}']", mail.customer_address());
    let parked = wait_for("the conversation in the parked list", Duration::from_secs(5), || app.session.find(&parked_css).ok());
    assert!(parked.text().unwrap().contains("returns"), "return time shown");
    assert!(app.session.find(&conversation_css(&mail)).is_err(), "no longer among my active conversations");
    assert!(app.session.find("[data-testid=load]").unwrap().text().unwrap().contains("0 / 3"), "parked does not count as load");
    app.screenshot("19-parked");

    // Move its return to a few seconds from now (as a re-park does), then let the window
    // refresh (a break and back): it comes back by itself when due.
    let moved = app
        .session
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI_INTERNALS__.invoke('park', { customer: arguments[0], seconds: 3 }).then(done, (e) => done('error: ' + JSON.stringify(e)));",
            vec![serde_json::json!(mail.customer_address())],
        )
        .unwrap();
    assert!(moved.is_number(), "re-park accepted: {moved}");
    app.session.key_chord(KEY_ALT, "a").unwrap();
    wait_state(&app, "away", Duration::from_secs(2));
    app.session.key_chord(KEY_ALT, "a").unwrap();
    wait_state(&app, "available", Duration::from_secs(2));
    wait_for("the parked conversation to return", Duration::from_secs(15), || app.session.find(&conversation_css(&mail)).ok());
    assert!(app.session.find(&parked_css).is_err(), "no longer parked");
}
