//! Another app's claim reaches a watching app's mirror within a second even when the
//! folder holds 40 advisors' owner keywords. Dovecot Maildir keeps only the first 26
//! keywords in file names and never announces changes to the others to IDLE; the
//! stack's format (mdbox) announces every change. Against the stack's Dovecot.

use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::claim::{owner_keyword, owners, ClaimOutcome, OWNER_PREFIX};
use blendesk_engine::claims::take_keyword;
use blendesk_engine::events::Event;
use blendesk_mail::imap;
use blendesk_testkit::{login, Desk};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_by_the_fortieth_advisor_is_seen_within_a_second() {
    let desk = Desk::new("visible");
    let mut s = login(&desk.user).await.unwrap();
    for i in 0..3 {
        let raw = format!(
            "From: c{i}@example.com\r\nSubject: visible {i}\r\nMessage-ID: <visible{i}.{}@example.com>\r\n\r\nhello\r\n",
            rand::random::<u32>()
        );
        imap::append(&mut s, "INBOX", "()", raw.as_bytes()).await.unwrap();
    }
    // Yesterday's resolved email, which the apps register their keywords on.
    let raw =
        format!("From: old@example.com\r\nSubject: done\r\nMessage-ID: <done.{}@example.com>\r\n\r\nthanks\r\n", rand::random::<u32>());
    imap::append(&mut s, "INBOX", "(\\Seen $Resolved)", raw.as_bytes()).await.unwrap();
    // A team of 40: every owner keyword registered in the folder, as the apps do at start.
    let team: Vec<AdvisorId> = (0..40).map(|i| AdvisorId::parse(&format!("adv{i:02}")).unwrap()).collect();
    let engine = desk.engine();
    let mut c = engine.connect_for_team().await.unwrap();
    engine.register_team_keywords(&mut c.session, &team).await.unwrap();
    imap::logout(c.session).await;
    let sel = imap::select(&mut s, "INBOX", true).await.unwrap();
    assert!(sel.keywords.len() >= 40 + 16, "{:?}", sel.keywords);

    // Alice's app watches; the last advisor's app claims.
    engine.sync_once().await.unwrap();
    let mut events = engine.subscribe();
    let w = engine.clone();
    let watch = tokio::spawn(async move { w.watch().await });
    while !matches!(events.recv().await.unwrap(), Event::Connection { ref folder, .. } if folder == "INBOX") {}
    let mut slowest = Duration::ZERO;
    for (n, uid) in imap::uid_search(&mut s, "UNKEYWORD $Resolved").await.unwrap().into_iter().enumerate() {
        let advisor = &team[39 - n];
        let outcome = take_keyword(&mut s, "INBOX", sel.uidvalidity, uid, &owner_keyword(advisor), OWNER_PREFIX).await.unwrap();
        assert_eq!(outcome, ClaimOutcome::Won);
        let claimed = Instant::now();
        let seen = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let heads = engine.store().queue_heads(&["INBOX".to_owned()]).unwrap();
                if heads.iter().any(|h| h.uid == uid && owners(&h.flags).any(|o| o == advisor.as_str())) {
                    return claimed.elapsed();
                }
                // The watcher reports each flag change it mirrors.
                while !matches!(events.recv().await.unwrap(), Event::FlagsChanged { .. }) {}
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{advisor}'s claim of UID {uid} never reached the watching app (IDLE said nothing)"));
        println!("{advisor}'s claim seen after {seen:?}");
        slowest = slowest.max(seen);
    }
    imap::logout(s).await;
    assert!(slowest <= Duration::from_secs(1), "a claim took {slowest:?} to reach another app's mirror");
    engine.shutdown();
    watch.await.unwrap();
}
