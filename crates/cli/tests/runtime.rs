//! The engine's runtime: `blendesk run --headless` starts the one task list the desktop
//! starts too (`runtime::plan`; the window's end-to-end test compares the two), and
//! stopping leaves no task running and no IMAP session on the server (`doveadm who`).

use blendesk_engine::runtime::{plan, Mode};
use blendesk_testkit::{eventually, server_sessions, Desk, HeadlessApp};
use std::path::Path;
use std::time::Duration;

fn names(mode: Mode) -> serde_json::Value {
    plan(mode).iter().map(|t| t.as_str()).collect()
}

async fn runs_its_plan_and_stops_clean(mode: Mode) {
    let desk = Desk::new(if mode == Mode::Team { "rtteam" } else { "rtsolo" });
    let bin = Path::new(env!("CARGO_BIN_EXE_blendesk"));
    let runtime_dir = tempfile::tempdir().unwrap();
    let mut app = if mode == Mode::Team {
        HeadlessApp::start(bin, &desk, "alice", runtime_dir.path())
    } else {
        HeadlessApp::start_with(bin, &desk, "alice", runtime_dir.path(), &["--no-claims"])
    };
    let started =
        eventually("the runtime starts", Duration::from_secs(20), || async { Ok(app.events_of("runtime_started").pop()) }).await.unwrap();
    assert_eq!(started["tasks"], names(mode), "{started}");
    assert_eq!(started["mode"], if mode == Mode::Team { "team" } else { "solo" });
    // Its sessions are up (one IDLE per queue at least) before it is asked to stop.
    eventually("the app is connected", Duration::from_secs(20), || async { Ok((server_sessions(&desk.user) > 0).then_some(())) })
        .await
        .unwrap();

    assert!(app.stop(), "exits cleanly on SIGTERM");
    let stopped = app.events_of("runtime_stopped").pop().expect("the last line says how it stopped");
    assert_eq!(stopped["finished"], names(mode), "every task finished by itself: {stopped}");
    assert_eq!(stopped["aborted"], serde_json::json!([]), "{stopped}");
    assert_eq!(stopped["open_connections"], 0, "{stopped}");
    // The server agrees: every session logged out (the process is gone, so nothing can
    // reconnect; a session that was merely dropped would linger as a closed socket).
    eventually("no session left on the server", Duration::from_secs(10), || async { Ok((server_sessions(&desk.user) == 0).then_some(())) })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_mode_runs_the_plan_and_stops_with_no_task_or_session_left() {
    runs_its_plan_and_stops_clean(Mode::Team).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solo_mode_runs_the_plan_and_stops_with_no_task_or_session_left() {
    runs_its_plan_and_stops_clean(Mode::Solo).await;
}

/// An app asked to stop while it is still starting — here its IMAP server accepts the
/// connection and never greets — stops cleanly and says so, instead of dying by the
/// signal (seen on a loaded machine: an app still connecting when its team stopped).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_while_still_connecting_is_a_clean_stop() {
    let desk = Desk::new("rtslow");
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let (accepted_tx, accepted) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming().map_while(Result::ok) {
            held.push(conn);
            let _ = accepted_tx.send(());
        }
    });
    // The desk's own config: each app's is written from it at start.
    let text = std::fs::read_to_string(&desk.config_path).unwrap().replacen(
        &format!("port = {}", blendesk_testkit::stack().imap_port),
        &format!("port = {port}"),
        1,
    );
    std::fs::write(&desk.config_path, text).unwrap();
    let runtime_dir = tempfile::tempdir().unwrap();
    let mut app = HeadlessApp::start(Path::new(env!("CARGO_BIN_EXE_blendesk")), &desk, "alice", runtime_dir.path());
    accepted.recv_timeout(Duration::from_secs(30)).expect("the app connects to the silent server");
    assert!(app.events_of("runtime_started").is_empty(), "the app cannot have started without a greeting");

    assert!(app.stop(), "exits cleanly on SIGTERM while connecting");
    let stopped = app.events_of("runtime_stopped").pop().expect("the last line says how it stopped");
    assert_eq!(stopped["open_connections"], 0, "{stopped}");
}
