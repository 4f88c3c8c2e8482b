//! The watcher never IDLEs over a change it has been told about: mail that arrives
//! while it is in its catch-up sync is mirrored at once, not after an IDLE period
//! (4 minutes). Real Dovecot; the mail is APPENDed from the sync's own hook, so it lands
//! at a known point of the sync without sleeps: after the sync has read the new UIDs,
//! so the only news of it is the EXISTS among the answers to the sync's last command.

use blendesk_engine::events::Event;
use blendesk_mail::imap;
use blendesk_testkit::{customer_mail, login, wait_for_event, Customer, Desk};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn append(user: &str, raw: Vec<u8>) {
    let mut s = login(user).await.expect("login");
    imap::append(&mut s, "INBOX", "()", &raw).await.expect("append");
    // Another client of the shared mailbox opens it first and so takes \Recent (usual
    // for a team mailbox): the watcher's only news of the mail is then an EXISTS.
    imap::select(&mut s, "INBOX", false).await.expect("select");
    imap::logout(s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_delivered_during_the_catch_up_sync_is_mirrored_within_two_seconds() {
    let desk = Desk::new("catchup");
    let customer = Customer::new("cust");
    let engine = desk.engine();
    // A mirror that already holds mail, so the catch-up sync ends with a UID SEARCH
    // (looking for expunges), whose answer carries the new mail's EXISTS.
    let (_, first) = customer_mail(&customer.address, &desk.address, "first", "one");
    append(&desk.user, first).await;
    assert_eq!(engine.sync_once().await.unwrap().new, 1);

    let (id, second) = customer_mail(&customer.address, &desk.address, "second", "two");
    let delivered = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let once = Arc::new(AtomicBool::new(false));
    engine.on_sync_fetched(Some(Arc::new({
        let (user, delivered) = (desk.user.clone(), delivered.clone());
        move |folder: String| {
            let (user, raw, delivered, once) = (user.clone(), second.clone(), delivered.clone(), once.clone());
            Box::pin(async move {
                if folder == "INBOX" && !once.swap(true, Ordering::SeqCst) {
                    append(&user, raw).await;
                    *delivered.lock().unwrap() = Some(Instant::now());
                }
            })
        }
    })));

    let mut events = engine.subscribe();
    let watcher = tokio::spawn({
        let e = engine.clone();
        async move { e.watch().await }
    });
    wait_for_event(&mut events, Duration::from_secs(30), |e| matches!(e, Event::MessageArrived { message_id: Some(m), .. } if *m == id))
        .await;
    let since = delivered.lock().unwrap().expect("delivered from the sync hook").elapsed();
    println!("delivered during the catch-up sync → mirrored: {since:?}");
    assert!(since < Duration::from_secs(2), "took {since:?}");
    assert_eq!(engine.store().search("two", 10).unwrap().len(), 1);

    engine.shutdown();
    tokio::time::timeout(Duration::from_secs(15), watcher).await.expect("watch stops on shutdown").unwrap();
}
