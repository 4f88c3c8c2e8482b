//! Hand back on long calls against the real Dovecot (policy switch `hand_back`): Alice
//! claims an email and starts a call; once the call has lasted so long that waiting it
//! out would miss the reply's promise, her app gives the email back, Bob's app (the one
//! available advisor) owns it within 5 s, Alice's unfinished reply travels with it
//! through `Blendesk/Drafts`, and Alice is told why after the call, not during it.
//!
//! Alice's app reads a manual clock (`Engine::use_clock`), so "a 13-minute call" is a
//! clock move, not a wait. The promise: 30 minutes on an always-open calendar, 5 minutes
//! of work per email, no wrap-up.

use blendesk_domain::blending::{AdvisorEvent, ManualState, Policy};
use blendesk_domain::claim::owners;
use blendesk_engine::clock::ManualClock;
use blendesk_engine::config::Config;
use blendesk_engine::events::Event;
use blendesk_engine::Engine;
use blendesk_mail::imap;
use blendesk_testkit::{customer_mail, eventually, login, smtp_send, wait_for_event, Customer, Desk};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ALWAYS_OPEN: &str = r#"{"time_zone": "UTC", "hours": {"mon": ["00:00-24:00"], "tue": ["00:00-24:00"],
    "wed": ["00:00-24:00"], "thu": ["00:00-24:00"], "fri": ["00:00-24:00"], "sat": ["00:00-24:00"], "sun": ["00:00-24:00"]}}"#;

fn policy() -> Policy {
    let json = format!(
        r#"{{"version": 1, "hand_back": true, "wrap_up_seconds": 0, "idle_to_away_seconds": 0, "sla": {{
            "default": {{"first_response_minutes": 30, "next_response_minutes": 30, "handle_minutes": 5,
                         "calendar": {ALWAYS_OPEN}}}}}}}"#
    );
    Policy::parse(json.as_bytes()).expect("test policy is valid")
}

fn engine_for(desk: &Desk, id: &str) -> Arc<Engine> {
    let config = Config::load(&desk.config_for(id, id)).unwrap();
    Engine::with_passwords(config, blendesk_testkit::TEST_PASSWORD.into(), None).unwrap()
}

/// The email's owners on the server.
async fn server_owners(user: &str) -> Vec<String> {
    let mut s = login(user).await.unwrap();
    imap::select(&mut s, "INBOX", true).await.unwrap();
    let flags = imap::fetch_flags(&mut s, None).await.unwrap();
    imap::logout(s).await;
    flags.iter().flat_map(|(_, f, _)| owners(f).map(str::to_owned).collect::<Vec<_>>()).collect()
}

/// Start an app's watch and claim loop; the handles end at `shutdown`.
fn run(engine: &Arc<Engine>) -> Vec<tokio::task::JoinHandle<()>> {
    let (w, c) = (engine.clone(), engine.clone());
    vec![
        tokio::spawn(async move { w.watch().await }),
        tokio::spawn(async move {
            c.run_claims().await.unwrap();
        }),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_email_goes_back_during_a_long_call_with_its_draft_and_the_owner_is_told_after() {
    let desk = Desk::new("handback");
    let customer = Customer::new("handback");
    let alice = engine_for(&desk, "alice");
    let bob = engine_for(&desk, "bob");
    alice.publish_policy(&policy()).await.unwrap();

    let clock = Arc::new(ManualClock::starting_at(alice.now_ms()));
    alice.use_clock(clock.clone());
    // Bob is away until Alice holds the email: the first claim is hers.
    bob.presence_event(AdvisorEvent::Set(ManualState::Away));
    alice.presence_event(AdvisorEvent::Set(ManualState::Available));
    let mut alice_events = alice.subscribe();
    let mut bob_events = bob.subscribe();
    let mut tasks = run(&alice);
    tasks.extend(run(&bob));

    let (_, raw) = customer_mail(&customer.address, &desk.address, "Parcel never arrived", "Order 5521 is two weeks late.");
    smtp_send(&customer.address, &[&desk.address], &raw).await.unwrap();
    wait_for_event(&mut alice_events, Duration::from_secs(20), |e| matches!(e, Event::Claimed { .. })).await;
    assert_eq!(server_owners(&desk.user).await, ["alice"]);
    let key = alice.conversation_key(&customer.address).unwrap();
    alice.save_draft(&key, "Dear customer,\nyour parcel left our warehouse on").unwrap();
    assert_eq!(alice.draft_for(&key).unwrap().text, "Dear customer,\nyour parcel left our warehouse on", "the draft is kept");
    bob.presence_event(AdvisorEvent::Set(ManualState::Available));

    // A five-minute call: waiting it out still keeps the promise (5 + 5 + 5 < 30).
    alice.presence_event(AdvisorEvent::CallStart);
    clock.advance(5 * 60_000);
    assert!(alice.hand_back_due(alice.now_ms()).unwrap().is_empty(), "a short call hands nothing back");
    // Thirteen minutes: as long again, plus the work, ends past the due time.
    clock.advance(8 * 60_000);
    let due = alice.hand_back_due(alice.now_ms()).unwrap();
    assert_eq!(due.len(), 1, "the email is due to go back");
    let started = Instant::now();
    let handed = wait_for_event(&mut alice_events, Duration::from_secs(20), |e| matches!(e, Event::HandedBack { .. })).await;
    let Event::HandedBack { notice } = handed else { unreachable!() };
    assert_eq!((notice.kind.as_str(), notice.subject.as_str(), notice.draft_sent), ("handed_back", "Parcel never arrived", true));

    // Bob's app owns it within 5 s, by the server's keywords.
    wait_for_event(&mut bob_events, Duration::from_secs(5), |e| matches!(e, Event::Claimed { .. })).await;
    let owned_after = started.elapsed();
    assert!(owned_after < Duration::from_secs(5), "owned by Bob after {owned_after:?}");
    assert_eq!(server_owners(&desk.user).await, ["bob"]);
    println!("hand-back: owned by another advisor {owned_after:?} after the hand-back began");

    // The draft travelled: Bob's composer starts from Alice's text.
    eventually("the draft reaches Bob", Duration::from_secs(10), || async {
        bob.refresh_shared_docs().await?;
        let d = bob.draft_for(&key)?;
        Ok((!d.text.is_empty()).then_some(d))
    })
    .await
    .map(|d| {
        assert_eq!(d.text, "Dear customer,\nyour parcel left our warehouse on");
        assert_eq!(d.handed_by.as_deref(), Some("alice"));
    })
    .unwrap();
    assert_eq!(alice.draft_for(&key).unwrap().handed_by.as_deref(), Some("alice"), "Alice's local copy gave way to the mailbox's");

    // Alice hears why only after the call.
    assert!(alice.notices().is_empty(), "nothing interrupts the call");
    alice.presence_event(AdvisorEvent::CallEnd);
    let notices = alice.notices();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0].customer, customer.address.to_lowercase());
    assert!(notices[0].due_at_ms > 0);
    alice.dismiss_notice(notices[0].id);
    assert!(alice.notices().is_empty());

    alice.shutdown();
    bob.shutdown();
    for t in tasks {
        t.await.unwrap();
    }
}
