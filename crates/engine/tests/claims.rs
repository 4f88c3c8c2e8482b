//! The claim primitive against the real Dovecot: 20 apps (20 independent IMAP sessions,
//! each its own advisor) race for the same 500 emails → exactly one owner each. Every
//! app's keyword is new to the mailbox, so this is also 20 first claims at once.

use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::claim::{owner_keyword, owners, ClaimOutcome, OWNER_PREFIX};
use blendesk_engine::claims::take_keyword;
use blendesk_mail::imap;
use blendesk_testkit::{login, unique_user};
use std::collections::HashMap;

const APPS: usize = 20;
const EMAILS: u32 = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_apps_racing_for_500_emails_leave_exactly_one_owner_each() {
    let user = unique_user("race");
    let mut s = login(&user).await.unwrap();
    // Seed quickly: one APPEND per message is fine at this size.
    for i in 0..EMAILS {
        let raw = format!("From: c{i}@example.com\r\nSubject: race {i}\r\nMessage-ID: <race{i}@example.com>\r\n\r\nbody {i}\r\n");
        imap::append(&mut s, "INBOX", "()", raw.as_bytes()).await.unwrap();
    }
    let uidvalidity = imap::select(&mut s, "INBOX", true).await.unwrap().uidvalidity;
    imap::logout(s).await;

    let mut tasks = Vec::new();
    for app in 0..APPS {
        let user = user.clone();
        tasks.push(tokio::spawn(async move {
            let advisor = AdvisorId::parse(&format!("adv{app:02}")).unwrap();
            let keyword = owner_keyword(&advisor);
            let mut session = login(&user).await.unwrap();
            // Every app walks the emails from a different starting point, so races
            // happen all the way through, not only on the first few.
            let mut won = Vec::new();
            let mut outcomes: HashMap<&'static str, u32> = HashMap::new();
            for k in 0..EMAILS {
                let uid = (k + app as u32 * 7) % EMAILS + 1;
                let outcome = take_keyword(&mut session, "INBOX", uidvalidity, uid, &keyword, OWNER_PREFIX).await.unwrap();
                let label = match outcome {
                    ClaimOutcome::Won => {
                        won.push(uid);
                        "won"
                    }
                    ClaimOutcome::Lost { .. } => "lost",
                    ClaimOutcome::Changed => "changed",
                    ClaimOutcome::Gone => "gone",
                    ClaimOutcome::Stale => "stale",
                    ClaimOutcome::Withdrawn => "withdrawn",
                };
                *outcomes.entry(label).or_default() += 1;
            }
            imap::logout(session).await;
            (advisor.to_string(), won, outcomes)
        }));
    }
    let mut claimed: HashMap<u32, String> = HashMap::new();
    for t in tasks {
        let (advisor, won, outcomes) = t.await.unwrap();
        println!("{advisor}: {outcomes:?}");
        for uid in won {
            if let Some(other) = claimed.insert(uid, advisor.clone()) {
                panic!("UID {uid} won by both {other} and {advisor}");
            }
        }
    }

    // The server's keywords are the truth, not the apps' view.
    let mut s = login(&user).await.unwrap();
    imap::select(&mut s, "INBOX", true).await.unwrap();
    let flags = imap::fetch_flags(&mut s, None).await.unwrap();
    imap::logout(s).await;
    assert_eq!(flags.len(), EMAILS as usize);
    for (uid, f, _) in &flags {
        let holders: Vec<&str> = owners(f).collect();
        assert_eq!(holders.len(), 1, "UID {uid} has owners {holders:?}");
        assert_eq!(claimed.get(uid).map(String::as_str), Some(holders[0]), "UID {uid}: the app that won is the owner");
    }
    assert_eq!(claimed.len(), EMAILS as usize);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_under_a_stale_uidvalidity_writes_nothing() {
    let user = unique_user("stale");
    let mut s = login(&user).await.unwrap();
    imap::append(&mut s, "INBOX", "()", b"From: a@example.com\r\nSubject: x\r\n\r\nx\r\n").await.unwrap();
    let uidvalidity = imap::select(&mut s, "INBOX", true).await.unwrap().uidvalidity;
    let outcome = take_keyword(&mut s, "INBOX", uidvalidity.wrapping_add(1), 1, "$bd_owner_alice", OWNER_PREFIX).await.unwrap();
    assert_eq!(outcome, ClaimOutcome::Stale);
    let (flags, _) = imap::flags_of(&mut s, 1).await.unwrap().unwrap();
    assert!(owners(&flags).next().is_none(), "{flags:?}");
    // Under the right UIDVALIDITY the same claim wins, and a second one is idempotent.
    assert_eq!(take_keyword(&mut s, "INBOX", uidvalidity, 1, "$bd_owner_alice", OWNER_PREFIX).await.unwrap(), ClaimOutcome::Won);
    assert_eq!(take_keyword(&mut s, "INBOX", uidvalidity, 1, "$bd_owner_alice", OWNER_PREFIX).await.unwrap(), ClaimOutcome::Won);
    assert_eq!(
        take_keyword(&mut s, "INBOX", uidvalidity, 1, "$bd_owner_bob", OWNER_PREFIX).await.unwrap(),
        ClaimOutcome::Lost { holder: "alice".into() }
    );
    assert_eq!(take_keyword(&mut s, "INBOX", uidvalidity, 99, "$bd_owner_bob", OWNER_PREFIX).await.unwrap(), ClaimOutcome::Gone);
    imap::logout(s).await;
}
