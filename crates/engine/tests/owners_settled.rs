//! An email with two or more owner keywords (a server that let two claims through, a
//! restore, an old version) is settled by every app the same way: the owner of the rest
//! of its conversation, else the lowest advisor id; the others' keywords removed with
//! the conditional rewrite, reported as an event. Against the real Dovecot.

use blendesk_domain::blending::{AdvisorEvent, ManualState};
use blendesk_domain::claim::owners;
use blendesk_engine::events::Event;
use blendesk_mail::imap;
use blendesk_testkit::{customer_mail, login, smtp_send, wait_for_event, Customer, Desk};
use std::time::Duration;

async fn server_owners(user: &str) -> Vec<(u32, Vec<String>)> {
    let mut s = login(user).await.unwrap();
    imap::select(&mut s, "INBOX", true).await.unwrap();
    let flags = imap::fetch_flags(&mut s, None).await.unwrap();
    imap::logout(s).await;
    let mut out: Vec<(u32, Vec<String>)> = flags.into_iter().map(|(uid, f, _)| (uid, owners(&f).map(str::to_owned).collect())).collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_with_several_owners_are_settled_by_one_rule() {
    let desk = Desk::new("settle");
    let (anna, ben) = (Customer::new("settlea"), Customer::new("settleb"));
    // Anna's conversation: her first email is bob's; her chaser ended with bob and carol.
    // Ben's email ended with three owners.
    for (c, subject) in [(&anna, "Broken kettle"), (&anna, "Any news?"), (&ben, "Refund")] {
        let (_, raw) = customer_mail(&c.address, &desk.address, subject, "Hello.");
        smtp_send(&c.address, &[&desk.address], &raw).await.unwrap();
        desk_count(&desk, subject).await;
    }
    let mut s = login(&desk.user).await.unwrap();
    imap::select(&mut s, "INBOX", true).await.unwrap();
    imap::store(&mut s, 1, "+FLAGS.SILENT ($bd_owner_bob)").await.unwrap();
    imap::store(&mut s, 2, "+FLAGS.SILENT ($bd_owner_carol $bd_owner_bob)").await.unwrap();
    imap::store(&mut s, 3, "+FLAGS.SILENT ($bd_owner_zoe $bd_owner_dan $bd_owner_erin)").await.unwrap();
    imap::logout(s).await;

    // Alice's app, away (settling does not wait for her to be available, and she takes
    // nothing over meanwhile).
    let engine = desk.engine();
    engine.presence_event(AdvisorEvent::Set(ManualState::Away));
    engine.sync_once().await.unwrap();
    let mut events = engine.subscribe();
    let (w, c) = (engine.clone(), engine.clone());
    let watch = tokio::spawn(async move { w.watch().await });
    let claims = tokio::spawn(async move { c.run_claims().await });
    let mut settled = Vec::new();
    for _ in 0..2 {
        let e = wait_for_event(&mut events, Duration::from_secs(20), |e| matches!(e, Event::OwnersSettled { .. })).await;
        if let Event::OwnersSettled { uid, kept, mut removed, .. } = e {
            removed.sort();
            settled.push((uid, kept, removed));
        }
    }
    settled.sort();
    assert_eq!(
        settled,
        [(2, "bob".to_owned(), vec!["carol".to_owned()]), (3, "dan".to_owned(), vec!["erin".to_owned(), "zoe".to_owned()])],
        "the conversation's owner is kept, else the lowest id"
    );
    assert_eq!(engine.owners_settled(), 2);
    // The server agrees: one owner each, and Alice took none of them.
    let owners = server_owners(&desk.user).await;
    assert_eq!(owners, [(1, vec!["bob".to_owned()]), (2, vec!["bob".to_owned()]), (3, vec!["dan".to_owned()])], "{owners:?}");
    engine.shutdown();
    watch.await.unwrap();
    claims.await.unwrap().unwrap();
}

/// Wait until the desk's INBOX holds the email with `subject`.
async fn desk_count(desk: &Desk, subject: &str) {
    let user = desk.user.clone();
    let subject = subject.to_owned();
    blendesk_testkit::eventually(&format!("{subject} delivered"), Duration::from_secs(20), || {
        let (user, subject) = (user.clone(), subject.clone());
        async move {
            let mail = blendesk_testkit::fetch_all(&user, "INBOX").await?;
            Ok(mail.iter().any(|(_, raw)| String::from_utf8_lossy(raw).contains(&subject)).then_some(()))
        }
    })
    .await
    .unwrap();
}
