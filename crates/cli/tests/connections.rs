//! IMAP connections per app: hosted servers cap them per account (Gmail: 15, shared by
//! the whole team), so a team-mode app holds one IDLE connection per queue, the claim
//! loop's, and one for its chores (presence, duties, Sent). The app's own count (in its
//! presence note), `blendesk status --json` and the server's count agree; shutting
//! down leaves no session behind. Against the stack's Dovecot (`doveadm who`).

use blendesk_testkit::{eventually, server_sessions, Desk, HeadlessApp};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The newest `connections` advisor `id` published in Blendesk/Presence.
async fn published_connections(desk: &Desk, id: &str) -> Option<u64> {
    let notes = blendesk_testkit::fetch_all(&desk.user, "Blendesk/Presence").await.ok()?;
    notes
        .iter()
        .filter_map(|(uid, raw)| Some((*uid, serde_json::from_str::<serde_json::Value>(blendesk_mail::mime::parse(raw).text.trim()).ok()?)))
        .filter(|(_, v)| v["advisor"] == id)
        .max_by_key(|(uid, _)| *uid)
        .and_then(|(_, v)| v["connections"].as_u64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_mode_app_holds_three_connections_with_one_queue() {
    let desk = Desk::new("conns");
    let bin = Path::new(env!("CARGO_BIN_EXE_blendesk"));
    let status = Command::new(bin)
        .arg("--config")
        .arg(&desk.config_path)
        .args(["status", "--json"])
        .env("BLENDESK_IMAP_PASSWORD", "test")
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["connections_per_app"]["total"], 3, "{status}");

    let runtime = tempfile::tempdir().unwrap();
    let mut app = HeadlessApp::start(bin, &desk, "alice", runtime.path());
    // The app reports its own count once its tasks are up.
    let reported = eventually("alice publishes her connections", Duration::from_secs(30), || async {
        Ok(published_connections(&desk, "alice").await.filter(|n| *n == 3))
    })
    .await;
    let on_server = server_sessions(&desk.user);
    reported.unwrap_or_else(|e| panic!("{e}; the server holds {on_server}"));
    // The chores log in and out only at start and on failures: the server agrees.
    assert_eq!(on_server, 3, "sessions on the server for one team-mode app with one queue");
    println!("one app, one queue: 3 connections (five apps: 15)");

    assert!(app.stop(), "stops cleanly");
    eventually("no session left after shutdown", Duration::from_secs(10), || async {
        Ok((server_sessions(&desk.user) == 0).then_some(()))
    })
    .await
    .unwrap();
}
