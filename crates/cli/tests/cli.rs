//! The `blendesk` command as a user runs it: exit codes, one-line errors, JSON output,
//! and the password kept out of every file Blendesk writes.

use blendesk_testkit::{customer_mail, eventually, smtp_send, Customer, Desk};
use std::process::{Command, Output};
use std::time::Duration;

fn blendesk(desk: &Desk, args: &[&str], password: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_blendesk"));
    cmd.arg("--config").arg(&desk.config_path).args(args);
    cmd.env_remove("BLENDESK_IMAP_PASSWORD").env_remove("BLENDESK_SMTP_PASSWORD");
    // No Secret Service in tests: the keyring lookup must fail cleanly.
    cmd.env_remove("DBUS_SESSION_BUS_ADDRESS").env("BLENDESK_LOG", "debug");
    if let Some(pw) = password {
        cmd.env("BLENDESK_IMAP_PASSWORD", pw);
    }
    cmd.output().expect("blendesk runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn deliver(desk: &Desk, n: usize) {
    let customer = Customer::new("cust");
    for i in 0..n {
        let (_, raw) = customer_mail(&customer.address, &desk.address, &format!("question {i}"), "退款 refund");
        smtp_send(&customer.address, &[&desk.address], &raw).await.unwrap();
    }
    eventually("delivery", Duration::from_secs(15), || async {
        Ok((blendesk_testkit::count_messages(&desk.user, "INBOX").await? as usize == n).then_some(()))
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_json_reports_messages_and_status_shows_the_mirror() {
    let desk = Desk::new("cli");
    deliver(&desk, 3).await;
    let out = blendesk(&desk, &["sync", "--json"], Some("test"));
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(report["messages"], 3);

    let out = blendesk(&desk, &["status", "--json"], Some("test"));
    assert!(out.status.success(), "{}", stderr(&out));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["messages"], 3);
    assert!(status["last_sync_at"].as_i64().unwrap() > 0);
    let caps: Vec<&str> = status["capabilities"].as_array().unwrap().iter().filter_map(|c| c.as_str()).collect();
    for needed in ["IDLE", "CONDSTORE", "UIDPLUS"] {
        assert!(caps.contains(&needed), "{caps:?}");
    }
    for state in ["queued", "sending", "sent", "failed"] {
        assert_eq!(status["outbox"][state], 0);
    }
    let text = blendesk(&desk, &["status"], Some("test"));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("INBOX") && text.contains("outbox"), "{text}");
}

#[test]
fn errors_are_one_line_with_distinct_exit_codes() {
    let desk = Desk::new("err");
    // No password anywhere: names both ways to provide one.
    let out = blendesk(&desk, &["sync"], None);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    let last = err.lines().last().unwrap_or_default();
    assert!(last.contains("BLENDESK_IMAP_PASSWORD") && last.contains("keyring"), "{err}");

    // Wrong password.
    let out = blendesk(&desk, &["sync"], Some("wrong"));
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).lines().last().unwrap().contains("refused the login"), "{}", stderr(&out));

    // Missing and broken configuration.
    let out = Command::new(env!("CARGO_BIN_EXE_blendesk")).args(["--config", "/nonexistent/blendesk.toml", "status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no configuration at /nonexistent/blendesk.toml"));
    let bad = desk.dir.path().join("bad.toml");
    std::fs::write(&bad, std::fs::read_to_string(&desk.config_path).unwrap().replace("\"plain\"", "\"rot13\"")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_blendesk")).arg("--config").arg(&bad).arg("status").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));

    // Unreachable server: a port nothing listens on.
    let unreachable = desk.dir.path().join("unreachable.toml");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let text = std::fs::read_to_string(&desk.config_path).unwrap();
    std::fs::write(&unreachable, text.replacen(&format!("port = {}", blendesk_testkit::stack().imap_port), &format!("port = {port}"), 1))
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_blendesk"))
        .arg("--config")
        .arg(&unreachable)
        .arg("sync")
        .env("BLENDESK_IMAP_PASSWORD", "test")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("cannot reach the IMAP server"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_never_reaches_the_database_wal_logs_or_config() {
    // The stack's user "canary" has a password found nowhere else; any file holding it
    // got it from Blendesk.
    let canary = "Canary-7f3a9c1e-PW";
    let desk = Desk::new("canary");
    let text = std::fs::read_to_string(&desk.config_path).unwrap().replace(&desk.user, "canary");
    std::fs::write(&desk.config_path, text).unwrap();
    let customer = Customer::new("cust");
    let (_, raw) = customer_mail(&customer.address, "canary@shop.test", "canary check", "hello");
    smtp_send(&customer.address, &["canary@shop.test"], &raw).await.unwrap();
    let mut outputs = Vec::new();
    for args in [&["sync"][..], &["status"], &["outbox", "list"]] {
        let out = blendesk(&desk, args, Some(canary));
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        outputs.push(out);
    }
    let wrong = blendesk(&desk, &["sync"], Some("Canary-wrong-PW"));
    assert_eq!(wrong.status.code(), Some(4));
    assert!(!stderr(&wrong).contains("Canary-wrong-PW"), "a rejected password is not echoed");
    for out in &outputs {
        for stream in [&out.stdout, &out.stderr] {
            assert!(!String::from_utf8_lossy(stream).contains(canary), "the password appears in output or debug logs");
        }
    }
    // Keep a connection open so the WAL exists while we look.
    let store = blendesk_store::Store::open(&desk.config.store.path).unwrap();
    store.set_meta("probe", "x").unwrap();
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(desk.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(canary.len()).any(|w| w == canary.as_bytes()), "{} holds the password", path.display());
        checked.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    for must in ["blendesk.db", "blendesk.db-wal", "config.toml"] {
        assert!(checked.iter().any(|c| c == must), "{must} was checked: {checked:?}");
    }
}

#[test]
fn team_mode_is_refused_without_condstore_and_solo_mode_still_works() {
    let desk = Desk::new("nocs");
    let port = blendesk_testkit::nocondstore_port();
    let text = std::fs::read_to_string(&desk.config_path).unwrap().replacen(
        &format!("port = {}", blendesk_testkit::stack().imap_port),
        &format!("port = {port}"),
        1,
    );
    std::fs::write(&desk.config_path, text).unwrap();
    // Solo: mirroring works without CONDSTORE.
    let out = blendesk(&desk, &["sync", "--json"], Some("test"));
    assert!(out.status.success(), "{}", stderr(&out));
    let status: serde_json::Value = serde_json::from_slice(&blendesk(&desk, &["status", "--json"], Some("test")).stdout).unwrap();
    let caps: Vec<&str> = status["capabilities"].as_array().unwrap().iter().filter_map(|c| c.as_str()).collect();
    assert!(!caps.contains(&"CONDSTORE"), "{caps:?}");
    // Team: refused at start, naming what is missing.
    let runtime = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_blendesk"));
    cmd.arg("--config").arg(&desk.config_path).args(["run", "--headless"]);
    cmd.env("BLENDESK_IMAP_PASSWORD", "test").env("XDG_RUNTIME_DIR", runtime.path());
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("CONDSTORE") && err.contains("solo"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_shows_first_response_sla_attainment_and_one_touch_from_the_mirror() {
    let desk = Desk::new("report");
    let (answered, waiting) = (Customer::new("repa"), Customer::new("repw"));
    for c in [&answered, &waiting] {
        let (_, raw) = customer_mail(&c.address, &desk.address, "Where is my order?", "Order 12 has not arrived.");
        smtp_send(&c.address, &[&desk.address], &raw).await.unwrap();
    }
    eventually("delivery", Duration::from_secs(15), || async {
        Ok((blendesk_testkit::count_messages(&desk.user, "INBOX").await? == 2).then_some(()))
    })
    .await
    .unwrap();
    // One customer gets a reply (sent and filed in Sent); the other waits.
    let engine = desk.engine();
    engine.sync_once().await.unwrap();
    let heads = engine.store().queue_heads(&["INBOX".to_owned()]).unwrap();
    let id = heads.iter().find(|h| h.from_addr == answered.address).unwrap().id;
    engine.queue_reply(id, "It left our warehouse today.").unwrap();
    let sent = engine.flush_outbox(Duration::from_secs(30)).await.unwrap();
    assert_eq!(sent.sent, 1);

    let out = blendesk(&desk, &["report", "--json"], Some("test"));
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["conversations"], 2, "{r}");
    assert_eq!(r["first_response_minutes"]["count"], 1, "one answered: {r}");
    assert!(r["first_response_minutes"]["median"].as_i64().unwrap() < 5, "answered within minutes: {r}");
    // The waiting one is not late yet, so only the answered one is judged.
    assert_eq!(r["sla_attainment_pct"], 100.0, "{r}");
    assert_eq!(r["one_touch_pct"], 100.0, "{r}");
    assert_eq!(r["first_response_buckets"], serde_json::json!([1, 0, 0, 0, 0]), "answered within the hour: {r}");
    let text = blendesk(&desk, &["report"], Some("test"));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("first response") && text.contains("median"), "{text}");

    // Cut by queue and by day: the same two conversations, the same figures.
    let out = blendesk(&desk, &["report", "--by", "queue", "--json"], Some("test"));
    assert!(out.status.success(), "{}", stderr(&out));
    let by_queue: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(by_queue[0]["group"], "INBOX", "{by_queue}");
    assert_eq!(by_queue[0]["report"]["conversations"], 2, "{by_queue}");
    assert_eq!(by_queue[0]["report"]["first_response_minutes"], r["first_response_minutes"]);
    let out = blendesk(&desk, &["report", "--by", "day", "--csv"], Some("test"));
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("group,conversations,first_response_minutes_mean"), "{csv}");
    assert_eq!(lines.len(), 2, "one day: {csv}");
    assert_eq!(lines[1].split(',').nth(1), Some("2"), "{csv}");
    // A day with nothing opened has no rows; a bad day is refused with the reason.
    let out = blendesk(&desk, &["report", "--by", "day", "--from", "2020-01-01", "--to", "2020-01-31", "--json"], Some("test"));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    let out = blendesk(&desk, &["report", "--by", "day", "--from", "1/1/2020"], Some("test"));
    assert!(!out.status.success() && stderr(&out).contains("YYYY-MM-DD"), "{}", stderr(&out));

    // Per owner: Bob holds the answered one; the waiting one is nobody's ("").
    let mut s = blendesk_testkit::login(&desk.user).await.unwrap();
    blendesk_mail::imap::select(&mut s, "INBOX", true).await.unwrap();
    let uid = heads.iter().find(|h| h.from_addr == answered.address).unwrap().uid;
    blendesk_mail::imap::store(&mut s, uid, "+FLAGS.SILENT ($bd_owner_bob)").await.unwrap();
    blendesk_mail::imap::logout(s).await;
    let out = blendesk(&desk, &["report", "--by", "advisor", "--json"], Some("test"));
    assert!(out.status.success(), "{}", stderr(&out));
    let by_owner: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let groups: Vec<(String, u64)> = by_owner
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["group"].as_str().unwrap().to_owned(), g["report"]["conversations"].as_u64().unwrap()))
        .collect();
    assert_eq!(groups, [(String::new(), 1), ("bob".to_owned(), 1)], "{by_owner}");
    assert_eq!(by_owner[1]["report"]["first_response_minutes"]["count"], 1, "Bob's was answered: {by_owner}");

    // Tag the answered one from the command line (normalised; a bad tag refused with the
    // reason): the report of that email type counts only it.
    let out = blendesk(&desk, &["tag", &answered.address, "Late delivery"], Some("test"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "late-delivery");
    let out = blendesk(&desk, &["tag", &answered.address, "late?"], Some("test"));
    assert!(!out.status.success() && stderr(&out).contains("'?'"), "{}", stderr(&out));
    let out = blendesk(&desk, &["report", "--by", "queue", "--tag", "Late-Delivery", "--json"], Some("test"));
    assert!(out.status.success(), "{}", stderr(&out));
    let tagged: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(tagged[0]["group"], "INBOX", "{tagged}");
    assert_eq!(tagged[0]["report"]["conversations"], 1, "{tagged}");
    assert_eq!(tagged[0]["report"]["first_response_minutes"]["count"], 1, "the answered one: {tagged}");
}
