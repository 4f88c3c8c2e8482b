//! Queueing a reply, the engine's rules whatever the front end: the window addresses
//! messages by row id (`send_reply(message)`, `blendesk reply ID`), so a reply queued for
//! a message whose row is gone must never thread onto whichever message came next; and
//! email is paused during a call and its wrap-up. No mail server needed: queueing reads
//! only the mirror.

use blendesk_engine::config::Config;
use blendesk_engine::{Engine, EngineError};
use blendesk_store::NewMessage;

/// An engine on a fresh database; its servers are never contacted.
fn engine(dir: &std::path::Path) -> std::sync::Arc<Engine> {
    let text = format!(
        r#"[advisor]
id = "alice"
name = "Alice Chen"
[imap]
host = "127.0.0.1"
port = 1
security = "plain"
username = "support"
queues = ["INBOX"]
sent = "Sent"
[smtp]
host = "127.0.0.1"
port = 1
security = "plain"
username = "support"
from = "Shop Support <support@shop.test>"
[store]
path = "{}"
"#,
        dir.join("b.db").display()
    );
    Engine::with_passwords(Config::parse(&text).unwrap(), "unused".into(), None).unwrap()
}

fn mail(uid: u32, id: &str, subject: &str) -> NewMessage {
    NewMessage {
        uid,
        identity: format!("mid:{id}"),
        message_id: Some(id.into()),
        subject: subject.into(),
        from_addr: "customer@example.com".into(),
        body_text: "hello".into(),
        internal_date: uid as i64,
        ..Default::default()
    }
}

#[test]
fn a_reply_to_a_deleted_row_is_refused_not_threaded_onto_its_successor() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let store = engine.store();
    let f = store.ensure_folder("INBOX").unwrap();
    let gone = store.insert_messages(f.id, &[mail(1, "old@x", "old order")]).unwrap()[0].1;
    store.delete_uids(f.id, &[1]).unwrap();
    let other = store.insert_messages(f.id, &[mail(2, "new@x", "someone else")]).unwrap()[0].1;
    assert_ne!(other, gone, "the deleted row's id was given to another message");

    match engine.queue_reply(gone, "Your parcel left today.") {
        Err(EngineError::NoSuchMessage(id)) => assert_eq!(id, gone),
        other => panic!("a reply to a deleted message must be refused, got {other:?}"),
    }
    assert!(store.outbox_list(100).unwrap().is_empty(), "nothing queued");
    // The message that came next is answered by its own id, threaded onto its own Message-ID.
    engine.queue_reply(other, "Thanks!").unwrap();
    let queued = store.outbox_list(100).unwrap();
    assert_eq!(queued.len(), 1);
    assert!(String::from_utf8_lossy(&queued[0].raw).contains("In-Reply-To: <new@x>"));
}

#[test]
fn during_a_call_and_its_wrap_up_the_engine_refuses_replies() {
    use blendesk_domain::blending::{AdvisorEvent, ManualState};
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let store = engine.store();
    let f = store.ensure_folder("INBOX").unwrap();
    let id = store.insert_messages(f.id, &[mail(1, "q@x", "question")]).unwrap()[0].1;
    let clock = std::sync::Arc::new(blendesk_engine::clock::ManualClock::starting_at(engine.now_ms()));
    engine.use_clock(clock.clone());
    engine.presence_event(AdvisorEvent::Set(ManualState::Available));
    engine.presence_event(AdvisorEvent::CallStart);
    assert!(engine.email_paused());
    let refused = engine.queue_reply(id, "Answer").unwrap_err();
    assert!(matches!(refused, EngineError::Paused), "{refused:?}");
    assert_eq!(refused.code(), blendesk_engine::errors::ErrorCode::Paused);
    engine.presence_event(AdvisorEvent::CallEnd);
    assert_eq!(engine.advisor_state().as_str(), "wrap_up");
    assert!(matches!(engine.queue_reply(id, "Answer"), Err(EngineError::Paused)), "still paused in wrap-up");
    assert!(store.outbox_list(100).unwrap().is_empty(), "nothing queued while paused");
    // Wrap-up ends on time (the engine's clock moved, not the test's wall clock): back
    // to email, the same reply goes in; an empty one never does.
    clock.advance(engine.policy().wrap_up_seconds as i64 * 1000 + 1);
    engine.presence_event(AdvisorEvent::Tick);
    assert_eq!(engine.advisor_state().as_str(), "available");
    assert!(!engine.email_paused());
    assert!(matches!(engine.queue_reply(id, "  \n"), Err(EngineError::EmptyReply)));
    engine.queue_reply(id, "Answer").unwrap();
    assert_eq!(store.outbox_list(100).unwrap().len(), 1);
}
