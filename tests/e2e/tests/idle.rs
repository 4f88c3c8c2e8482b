//! Idle-to-away from the OS: input anywhere on the desktop (the X pointer moved by
//! xdotool: no event reaches the page, as with a softphone or CRM in another window)
//! keeps the advisor available past the policy's idle time; with no input at all they
//! move to away, and input brings them back.

use blendesk_e2e::{wait_for, App, Launch, Mailboxes, Team};
use serde_json::json;
use std::process::Command;
use std::time::{Duration, Instant};

const IDLE_TO_AWAY: Duration = Duration::from_secs(8);

fn state_of(app: &App) -> Option<String> {
    app.session.find("[data-testid=state-pill]").ok()?.attr("data-state").ok()?
}

/// One input event on the X server, outside the page.
fn nudge(step: i32) {
    let out = Command::new("xdotool").args(["mousemove_relative", "--", &step.to_string(), "0"]).output().expect("xdotool runs");
    assert!(out.status.success(), "xdotool: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn input_anywhere_keeps_the_advisor_available_and_none_moves_them_to_away() {
    let mail = Mailboxes::new();
    let policy = json!({"version": 1, "wrap_up_seconds": 3, "idle_to_away_seconds": IDLE_TO_AWAY.as_secs()});
    let app = App::launch_as(
        Launch { mail: &mail, lang: "en_US.UTF-8", wrap_up_seconds: 3, queues: &["INBOX"], setup: false, env: &[] },
        Team { advisor: None, policy: Some(policy) },
    );
    app.wait_ready();
    wait_for("available", Duration::from_secs(10), || (state_of(&app).as_deref() == Some("available")).then_some(()));

    // Two and a half idle periods of input outside the window, one event a second (the
    // pace of the stimulus, not a wait for the app).
    let until = Instant::now() + IDLE_TO_AWAY * 5 / 2;
    let mut step = 1;
    while Instant::now() < until {
        nudge(step);
        step = -step;
        assert_eq!(state_of(&app).as_deref(), Some("available"), "input elsewhere on the desktop keeps the advisor available");
        std::thread::sleep(Duration::from_secs(1));
    }
    // No input at all: away once the idle time has passed since the last input.
    let last_input = Instant::now();
    wait_for("away after the idle time", Duration::from_secs(30), || (state_of(&app).as_deref() == Some("away")).then_some(()));
    let after = last_input.elapsed();
    assert!(after >= IDLE_TO_AWAY - Duration::from_secs(1), "away {after:?} after the last input, before the idle time");
    app.screenshot("40-idle-away");
    // Input again: back to available by itself.
    nudge(1);
    wait_for("back after input", Duration::from_secs(10), || (state_of(&app).as_deref() == Some("available")).then_some(()));
}
