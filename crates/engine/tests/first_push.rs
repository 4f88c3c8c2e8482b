//! The first push waits for every queue: an app that starts (or restarts) claims nothing
//! until each of its queues is mirrored, so the first email it takes is the team's most
//! urgent one and not whatever the queue read first holds. Real Dovecot: Billing holds
//! an email six hours old (past its 4-hour promise), INBOX a fresh one, the cap is 1,
//! and Billing's first sync is held back (its sync hook) for up to 3 s or until any claim
//! is seen. Before this rule, the app claimed the fresh INBOX email in that window.

use blendesk_domain::blending::{AdvisorEvent, ManualState, Policy};
use blendesk_engine::config::Config;
use blendesk_engine::events::Event;
use blendesk_engine::Engine;
use blendesk_mail::imap;
use blendesk_testkit::{customer_mail, login, servers::Server, wait_for_event, Customer, Desk};
use std::sync::Arc;
use std::time::Duration;

const ALWAYS_OPEN: &str = r#"{"time_zone": "UTC", "hours": {"mon": ["00:00-24:00"], "tue": ["00:00-24:00"],
    "wed": ["00:00-24:00"], "thu": ["00:00-24:00"], "fri": ["00:00-24:00"], "sat": ["00:00-24:00"], "sun": ["00:00-24:00"]}}"#;

/// IMAP's date-time: "04-Dec-2026 09:15:00 +0000".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_first_claim_is_the_most_urgent_email_of_all_queues() {
    let desk = Desk::with_queues("firstpush", &["INBOX", "Billing"]);
    Server::Dovecot.create_folder(&desk.user, "Billing").await.unwrap();
    let (old_customer, new_customer) = (Customer::new("overdue"), Customer::new("fresh"));
    let now_s = time::OffsetDateTime::now_utc().unix_timestamp();
    let (overdue_id, overdue) = customer_mail(&old_customer.address, &desk.address, "Charged twice", "Please refund one.");
    let (_, fresh) = customer_mail(&new_customer.address, &desk.address, "Opening hours", "When do you open?");
    let mut s = login(&desk.user).await.unwrap();
    imap::append_at(&mut s, "Billing", "()", &imap::date_time(now_s - 6 * 3600), &overdue).await.unwrap();
    imap::append_at(&mut s, "INBOX", "()", &imap::date_time(now_s), &fresh).await.unwrap();
    imap::logout(s).await;

    let config = Config::load(&desk.config_for("alice", "Alice")).unwrap();
    let alice = Engine::with_passwords(config, blendesk_testkit::TEST_PASSWORD.into(), None).unwrap();
    let json = format!(
        r#"{{"version": 1, "default_cap": 1, "wrap_up_seconds": 0, "idle_to_away_seconds": 0,
            "sla": {{"default": {{"first_response_minutes": 240, "calendar": {ALWAYS_OPEN}}}}}}}"#
    );
    alice.publish_policy(&Policy::parse(json.as_bytes()).unwrap()).await.unwrap();
    alice.presence_event(AdvisorEvent::Set(ManualState::Available));

    // Billing's first sync waits (before its last command) for a claim, 3 s at most.
    alice.on_sync_fetched(Some(Arc::new({
        let alice = alice.clone();
        move |folder: String| {
            let mut events = alice.subscribe();
            Box::pin(async move {
                if folder == "Billing" {
                    let claimed = async { while !matches!(events.recv().await, Ok(Event::Claimed { .. }) | Err(_)) {} };
                    let _ = tokio::time::timeout(Duration::from_secs(3), claimed).await;
                }
            })
        }
    })));
    let mut events = alice.subscribe();
    let tasks = [
        tokio::spawn({
            let a = alice.clone();
            async move { a.watch().await }
        }),
        tokio::spawn({
            let a = alice.clone();
            async move { a.run_claims().await.unwrap() }
        }),
    ];
    let first = wait_for_event(&mut events, Duration::from_secs(30), |e| matches!(e, Event::Claimed { .. })).await;
    let Event::Claimed { folder, message_id, .. } = first else { unreachable!() };
    assert_eq!((folder.as_str(), message_id.as_deref()), ("Billing", Some(overdue_id.as_str())), "the overdue email is pushed first");

    alice.shutdown();
    for t in tasks {
        t.await.unwrap();
    }
}
