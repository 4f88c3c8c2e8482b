//! The keyword budget on real servers: what a team does all day (claims by 40 advisors,
//! 2,000 acknowledgements taken by them in turn, 500 merges and splits) must not grow a
//! queue folder's distinct keywords past one per advisor + the 16 fixed names (Cyrus
//! keeps at most 100 per mailbox, for ever). Nobody released an email here, so no
//! declined keyword; the folder has resolved mail, so no `$bd_touch`.

use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::automation::duty::{Duty, DutyKind};
use blendesk_domain::claim::{owner_keyword, ClaimOutcome, OWNER_PREFIX};
use blendesk_domain::keywords::FIXED_KEYWORDS;
use blendesk_engine::claims::take_keyword;
use blendesk_engine::duty_bids::take_duty;
use blendesk_mail::imap;
use blendesk_testkit::servers::Server;
use blendesk_testkit::Desk;

const ADVISORS: usize = 40;
const EMAILS: usize = 2_000;
const PAIRS: usize = 20;
const REARRANGEMENTS: usize = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_team_stays_within_its_keyword_budget_on_dovecot() {
    busy_team(Server::Dovecot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_team_stays_within_its_keyword_budget_on_cyrus() {
    busy_team(Server::Cyrus).await;
}

/// A Cyrus folder that holds as many keywords as Cyrus keeps: the claim fails with an
/// error that names the folder, the count and the fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_cyrus_folder_is_a_clear_error() {
    let server = Server::Cyrus;
    let desk = Desk::on(server, "full");
    let mut s = server.login(&desk.user).await.unwrap();
    for i in 0..2 {
        let raw = format!(
            "From: c{i}@example.com\r\nSubject: full {i}\r\nMessage-ID: <full{i}.{}@example.com>\r\n\r\nhello\r\n",
            rand::random::<u32>()
        );
        imap::append(&mut s, "INBOX", "()", raw.as_bytes()).await.unwrap();
    }
    imap::select(&mut s, "INBOX", true).await.unwrap();
    // Another client's 100 keywords.
    let junk: Vec<String> = (0..100).map(|i| format!("$other{i}")).collect();
    imap::store(&mut s, 1, &format!("+FLAGS.SILENT ({})", junk.join(" "))).await.unwrap();
    let sel = imap::select(&mut s, "INBOX", true).await.unwrap();
    assert_eq!(sel.keywords.len(), 100, "{:?}", sel.keywords);
    let alice = AdvisorId::parse("alice").unwrap();
    let err = take_keyword(&mut s, "INBOX", sel.uidvalidity, 2, &owner_keyword(&alice), OWNER_PREFIX).await.unwrap_err();
    imap::logout(s).await;
    let text = err.to_string();
    assert_eq!(err.code().exit_code(), 6, "{text}");
    assert!(text.contains("INBOX") && text.contains("100") && text.contains("cyr_expire -t"), "{text}");
}

async fn busy_team(server: Server) {
    let desk = Desk::on(server, "budget");
    let mut s = server.login(&desk.user).await.unwrap();
    // Customers c0..c39 write one email each (the merge and split pairs), then
    // everyone else: 2,000 emails in all.
    for i in 0..EMAILS {
        let raw = format!(
            "From: Customer {i} <budget{i}@example.com>\r\nTo: {to}\r\nSubject: question {i}\r\nMessage-ID: <budget{i}.{r}@example.com>\r\n\
             Date: Wed, 25 Nov 2026 09:00:00 +0000\r\n\r\nhello {i}\r\n",
            to = desk.address,
            r = rand::random::<u32>()
        );
        imap::append(&mut s, "INBOX", "()", raw.as_bytes()).await.unwrap();
    }
    // A folder that has been worked in: yesterday's resolved email.
    let resolved =
        format!("From: done@example.com\r\nSubject: done\r\nMessage-ID: <done.{}@example.com>\r\n\r\nthanks\r\n", rand::random::<u32>());
    imap::append(&mut s, "INBOX", "(\\Seen \\Answered $Resolved)", resolved.as_bytes()).await.unwrap();
    let sel = imap::select(&mut s, "INBOX", true).await.unwrap();
    let uids = imap::uid_search(&mut s, "UNKEYWORD $Resolved").await.unwrap();
    assert_eq!(uids.len(), EMAILS);

    // 40 advisors each claim one email (emails 100..140), each keyword new to the folder.
    for (a, uid) in uids[100..100 + ADVISORS].iter().enumerate() {
        let id = AdvisorId::parse(&format!("adv{a:02}")).unwrap();
        let outcome = take_keyword(&mut s, "INBOX", sel.uidvalidity, *uid, &owner_keyword(&id), OWNER_PREFIX).await.unwrap();
        assert_eq!(outcome, ClaimOutcome::Won);
    }
    // 2,000 acknowledgement duties, taken by whichever app.
    for (n, uid) in uids.iter().enumerate() {
        let holder = AdvisorId::parse(&format!("adv{:02}", n % ADVISORS)).unwrap();
        let duty = Duty { kind: DutyKind::Ack, folder: "INBOX", uidvalidity: sel.uidvalidity, uid: *uid };
        let outcome = take_duty(&mut s, "Blendesk/Duties", &duty, &holder, &desk.address).await.unwrap();
        assert_eq!(outcome, ClaimOutcome::Won, "UID {uid}");
    }
    // 500 merges and splits by hand, over 20 pairs of customers' conversations.
    let engine = desk.engine();
    engine.sync_once().await.unwrap();
    let heads = engine.store().queue_heads(&["INBOX".to_owned()]).unwrap();
    let email_of = |customer: usize| {
        let from = format!("budget{customer}@example.com");
        heads.iter().find(|h| h.from_addr == from).map(|h| h.id).unwrap()
    };
    for n in 0..REARRANGEMENTS / 2 {
        let p = n % PAIRS;
        let (a, b) = (format!("budget{}@example.com", 2 * p), format!("budget{}@example.com", 2 * p + 1));
        let merged = engine.merge_conversations(&b, &a).await.unwrap();
        assert_eq!((merged.changed, merged.lost), (2, 0), "merge {n}");
        let split = engine.split_conversation(&[email_of(2 * p + 1)]).await.unwrap();
        assert_eq!(split.lost, 0, "split {n}");
    }

    let sel = imap::select(&mut s, "INBOX", true).await.unwrap();
    imap::logout(s).await;
    println!(
        "{}: INBOX after {ADVISORS} advisors' claims, {EMAILS} acknowledgements, {REARRANGEMENTS} merges and splits: {} keywords: {:?}",
        server.label(),
        sel.keywords.len(),
        sel.keywords
    );
    assert_eq!(FIXED_KEYWORDS, 16);
    assert!(sel.keywords.len() <= ADVISORS + FIXED_KEYWORDS, "{} keywords > {ADVISORS} + {FIXED_KEYWORDS}", sel.keywords.len());
    assert!(!sel.keywords.iter().any(|k| k.starts_with("$bd_ack_")), "no acknowledgement name per advisor");
    // Every pair ended as two conversations with a token each, told apart.
    let heads = engine.store().queue_heads(&["INBOX".to_owned()]).unwrap();
    let keys = blendesk_engine::conversation::keys_of(&heads, &["INBOX".to_owned()]);
    for p in 0..PAIRS {
        let key = |c: usize| keys[heads.iter().position(|h| h.id == email_of(c)).unwrap()].clone();
        assert_ne!(key(2 * p), key(2 * p + 1), "pair {p}");
        assert!(!key(2 * p).contains('@') && !key(2 * p + 1).contains('@'), "pair {p}: tokens");
    }
}
