//! The real world: a folder deleted and recreated (UIDVALIDITY change) and a Dovecot
//! restart while idling. Tests here restart servers, so they take a lock and run one
//! at a time (other test binaries run before or after this one, never alongside).

use blendesk_engine::events::{ConnectionState, Event};
use blendesk_mail::imap;
use blendesk_mail::mime;
use blendesk_testkit::{customer_mail, login, smtp_send, stack_script, wait_for_event, Customer, Desk};
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::const_new(());

fn raw(id: Option<&str>, subject: &str, body: &str) -> Vec<u8> {
    let id = id.map(|i| format!("Message-ID: <{i}>\r\n")).unwrap_or_default();
    format!("From: c@example.com\r\nTo: s@shop.test\r\nSubject: {subject}\r\n{id}\r\n{body}\r\n").into_bytes()
}

/// (uid, identity) on the server, in UID order.
async fn server_identities(user: &str, folder: &str) -> Vec<(u32, String)> {
    blendesk_testkit::fetch_all(user, folder).await.unwrap().into_iter().map(|(uid, raw)| (uid, mime::parse(&raw).identity)).collect()
}

fn mirror_identities(engine: &blendesk_engine::Engine, folder: &str) -> Vec<(u32, String)> {
    let mut v: Vec<(u32, String)> =
        engine.store().list_messages(folder, 10_000).unwrap().into_iter().map(|m| (m.uid, m.identity)).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folder_recreated_with_new_uidvalidity_is_rebuilt_by_message_id() {
    let _serial = SERIAL.lock().await;
    let desk = Desk::with_queues("uidv", &["INBOX", "Billing"]);
    let mut s = login(&desk.user).await.unwrap();
    imap::create_folder(&mut s, "Billing").await.unwrap();
    let a = raw(Some("a@example.com"), "alpha", "first message alpha");
    let b = raw(Some("b@example.com"), "bravo", "second message bravo");
    let c = raw(None, "charlie", "third message charlie without an id");
    for m in [&a, &b, &c] {
        imap::append(&mut s, "Billing", "()", m).await.unwrap();
    }
    let engine = desk.engine();
    engine.sync_once().await.unwrap();
    assert_eq!(mirror_identities(&engine, "Billing"), server_identities(&desk.user, "Billing").await);
    let before = engine.store().ensure_folder("Billing").unwrap().uidvalidity;

    // A reply to bravo (UID 2) is queued before the folder is recreated.
    let bravo = engine.store().message_by_uid("Billing", 2).unwrap().unwrap();
    assert_eq!(bravo.identity, "mid:b@example.com");
    engine.queue_reply(bravo.id, "Answer to bravo").unwrap();

    // Recreate: charlie is now UID 1, bravo UID 2... in a different order, plus delta.
    s.delete("Billing").await.unwrap();
    imap::create_folder(&mut s, "Billing").await.unwrap();
    let d = raw(Some("d@example.com"), "delta", "a new message delta");
    for m in [&c, &d, &b] {
        imap::append(&mut s, "Billing", "()", m).await.unwrap();
    }
    imap::logout(s).await;

    let mut events = engine.subscribe();
    let report = engine.sync_once().await.unwrap();
    let billing = report.folders.iter().find(|f| f.folder == "Billing").unwrap();
    assert!(billing.rebuilt);
    match wait_for_event(&mut events, Duration::from_secs(1), |e| matches!(e, Event::FolderRebuilt { .. })).await {
        Event::FolderRebuilt { kept, dropped, .. } => assert_eq!((kept, dropped), (2, 1)),
        _ => unreachable!(),
    }
    let after = engine.store().ensure_folder("Billing").unwrap().uidvalidity;
    assert_ne!(before, after);
    let server = server_identities(&desk.user, "Billing").await;
    let mirror = mirror_identities(&engine, "Billing");
    assert_eq!(mirror, server, "the mirror matches the server after the rebuild");
    let unique: HashSet<_> = mirror.iter().map(|(_, i)| i).collect();
    assert_eq!(unique.len(), mirror.len(), "nothing duplicated");
    assert!(engine.store().search("alpha", 5).unwrap().is_empty(), "the expunged message left the index");
    // bravo kept its mirrored row (same local id) under its new UID.
    let bravo_now = engine.store().message(bravo.id).unwrap().unwrap();
    assert_eq!(bravo_now.uid, 3);

    // The reply queued under the old UIDVALIDITY flags bravo, not whatever is UID 2 now.
    engine.flush_outbox(Duration::from_secs(60)).await.unwrap();
    let mut s = login(&desk.user).await.unwrap();
    imap::select(&mut s, "Billing", false).await.unwrap();
    let flags = imap::fetch_flags(&mut s, None).await.unwrap();
    imap::logout(s).await;
    let answered: Vec<u32> = flags.iter().filter(|(_, f, _)| f.iter().any(|x| x == "\\Answered")).map(|(u, _, _)| *u).collect();
    assert_eq!(answered, vec![3], "only bravo (now UID 3) is answered: {flags:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dovecot_restart_during_idle_reconnects_and_catches_up() {
    let _serial = SERIAL.lock().await;
    let desk = Desk::new("restart");
    let customer = Customer::new("cust");
    let engine = desk.engine();
    let mut events = engine.subscribe();
    let watcher = tokio::spawn({
        let e = engine.clone();
        async move { e.watch().await }
    });
    let online = |e: &Event| matches!(e, Event::Connection { folder, state: ConnectionState::Online, .. } if folder == "INBOX");
    wait_for_event(&mut events, Duration::from_secs(30), online).await;
    let (first, raw1) = customer_mail(&customer.address, &desk.address, "before restart", "one");
    smtp_send(&customer.address, &[&desk.address], &raw1).await.unwrap();
    wait_for_event(&mut events, Duration::from_secs(10), |e| matches!(e, Event::MessageArrived { message_id: Some(m), .. } if *m == first))
        .await;

    stack_script(&["restart-imap"]).unwrap();
    wait_for_event(
        &mut events,
        Duration::from_secs(30),
        |e| matches!(e, Event::Connection { folder, state: ConnectionState::Offline, .. } if folder == "INBOX"),
    )
    .await;
    // Back within the backoff window (first retry after about 2 s).
    wait_for_event(&mut events, Duration::from_secs(30), online).await;

    let (second, raw2) = customer_mail(&customer.address, &desk.address, "after restart", "two");
    smtp_send(&customer.address, &[&desk.address], &raw2).await.unwrap();
    wait_for_event(
        &mut events,
        Duration::from_secs(30),
        |e| matches!(e, Event::MessageArrived { message_id: Some(m), .. } if *m == second),
    )
    .await;

    engine.shutdown();
    tokio::time::timeout(Duration::from_secs(15), watcher).await.expect("watch stops").unwrap();
    let server = server_identities(&desk.user, "INBOX").await;
    assert_eq!(server.len(), 2);
    assert_eq!(mirror_identities(&engine, "INBOX"), server, "0 lost, 0 duplicated");
}
