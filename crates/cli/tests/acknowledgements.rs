//! One acknowledgement per new conversation from four real headless advisors
//! (`blendesk run --headless`, separate processes, each its own database) on one shared
//! mailbox: the duty is taken in turn and with the compare-and-swap, chasers that join an
//! open conversation get none, and nothing is sent twice.

use blendesk_mail::imap;
use blendesk_mail::mime;
use blendesk_testkit::{customer_mail, eventually, fetch_all, login, smtp_send, Customer, Desk, HeadlessApp};
use std::path::Path;
use std::time::Duration;

/// The messages in a customer's mailbox, all of which must be our acknowledgements.
async fn acknowledgements(user: &str) -> usize {
    let mail: Vec<_> = fetch_all(user, "INBOX").await.unwrap().into_iter().map(|(_, raw)| mime::parse(&raw)).collect();
    assert!(mail.iter().all(|m| m.text.contains("will reply by")), "only acknowledgements expected for {user}");
    mail.len()
}

async fn wait_for_acknowledgement(user: &str) {
    eventually(&format!("{user} has its acknowledgement"), Duration::from_secs(60), || async {
        Ok((acknowledgements(user).await >= 1).then_some(()))
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_headless_advisors_send_one_acknowledgement_per_new_conversation() {
    let desk = Desk::new("ackcli");
    let runtime = tempfile::tempdir().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_blendesk"));
    let mut apps: Vec<HeadlessApp> =
        ["alice", "bob", "carol", "dan"].into_iter().map(|id| HeadlessApp::start(bin, &desk, id, runtime.path())).collect();

    let customers: Vec<Customer> = (0..10).map(|_| Customer::new("ackc")).collect();
    for c in &customers {
        let (_, raw) = customer_mail(&c.address, &desk.address, "Order question", "Where is order 12?");
        smtp_send(&c.address, &[&desk.address], &raw).await.unwrap();
    }
    for c in &customers {
        wait_for_acknowledgement(&c.user).await;
    }
    // Two customers chase with a new subject while their conversation is open: they
    // join it and are promised nothing again.
    for c in &customers[..2] {
        let (_, raw) = customer_mail(&c.address, &desk.address, "Anyone there?", "I wrote an hour ago.");
        smtp_send(&c.address, &[&desk.address], &raw).await.unwrap();
    }
    // A later conversation is the barrier: once its acknowledgement is out, every app
    // has run duty passes over everything before it.
    let later = Customer::new("ackc");
    let (_, raw) = customer_mail(&later.address, &desk.address, "New question", "Do you ship to Norway?");
    smtp_send(&later.address, &[&desk.address], &raw).await.unwrap();
    wait_for_acknowledgement(&later.user).await;

    // Stop every app (SIGTERM): after that nothing more can be sent.
    for app in &mut apps {
        assert!(app.stop(), "{} stops cleanly", app.id);
    }
    let queued: usize = apps.iter().map(|a| a.events_of("acknowledged").len()).sum();
    assert_eq!(queued, customers.len() + 1, "one acknowledgement per new conversation across the four apps");
    let senders = apps.iter().filter(|a| !a.events_of("acknowledged").is_empty()).count();
    println!("acknowledgements sent by {senders} of 4 apps");
    for c in customers.iter().chain([&later]) {
        assert_eq!(acknowledgements(&c.user).await, 1, "{}: exactly one acknowledgement", c.address);
    }

    // The server agrees: one duty mark on each new conversation's email, none on the
    // chasers.
    let mut s = login(&desk.user).await.unwrap();
    imap::select(&mut s, "INBOX", true).await.unwrap();
    let flags = imap::fetch_flags(&mut s, None).await.unwrap();
    imap::logout(s).await;
    assert_eq!(flags.len(), customers.len() + 3);
    // Exactly the duty's one mark, `$bd_ack` (who held it: the apps' events above).
    let one_holder = |f: &Vec<String>| {
        let held: Vec<&String> = f.iter().filter(|k| k.starts_with("$bd_ack")).collect();
        held == ["$bd_ack"]
    };
    let with_duty = flags.iter().filter(|(_, f, _)| one_holder(f)).count();
    let without = flags.iter().filter(|(_, f, _)| !f.iter().any(|k| k.starts_with("$bd_ack"))).count();
    assert_eq!((with_duty, without), (customers.len() + 1, 2), "{flags:?}");
}
