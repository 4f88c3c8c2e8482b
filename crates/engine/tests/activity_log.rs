//! The team's event log is read with suspicion, against the real Dovecot: a batch in one
//! advisor's folder that speaks for another advisor (or copies a colleague's event id),
//! a line that is not an event, and a message too large to be a batch are left out;
//! the rest is read.

use blendesk_domain::activity::{encode_batch, Activity, ActivityKind};
use blendesk_mail::imap;
use blendesk_testkit::{login, Desk};

fn state(id: &str, advisor: &str) -> Activity {
    Activity { id: id.into(), advisor: advisor.into(), at_ms: 1_796_342_400_000, kind: ActivityKind::State { state: "available".into() } }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_that_speak_for_another_advisor_are_ignored() {
    let desk = Desk::new("evlog");
    let mut s = login(&desk.user).await.unwrap();
    let folder = "Blendesk/Events/bob";
    imap::create_folder(&mut s, folder).await.unwrap();
    let batch = encode_batch(&[state("bob-i1-1", "bob"), state("alice-i9-1", "alice"), state("alice-i9-2", "bob")]);
    let raw = format!("From: x@y\r\nSubject: events\r\nMessage-ID: <b1@x>\r\n\r\n{}not an event\r\n", batch.replace('\n', "\r\n"));
    imap::append(&mut s, folder, "()", raw.as_bytes()).await.unwrap();
    let big = format!("From: x@y\r\nSubject: big\r\n\r\n{}\r\n", "x".repeat(3 * 1024 * 1024));
    imap::append(&mut s, folder, "()", big.as_bytes()).await.unwrap();
    imap::logout(s).await;

    let engine = desk.engine();
    let (_, read) = engine.sync_activity().await.unwrap();
    assert_eq!(read, 1, "only Bob's own event");
    let events = engine.team_activity(0, i64::MAX).unwrap();
    assert_eq!(events.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["bob-i1-1"]);
    // Read once: a second pass finds nothing new (the large message is not read again).
    assert_eq!(engine.sync_activity().await.unwrap().1, 0);
}
