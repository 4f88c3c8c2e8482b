//! The engine against the real local mail stack: live delivery through IDLE, the reply
//! round trip, and search over what was mirrored.

use blendesk_engine::events::{ConnectionState, Event};
use blendesk_mail::mime;
use blendesk_testkit::{customer_mail, eventually, fetch_all, smtp_send, wait_for_event, Customer, Desk};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_sent_over_smtp_is_mirrored_within_two_seconds_through_idle() {
    let desk = Desk::new("live");
    let customer = Customer::new("cust");
    let engine = desk.engine();
    let mut events = engine.subscribe();
    let watcher = tokio::spawn({
        let e = engine.clone();
        async move { e.watch().await }
    });
    // Wait until the INBOX watcher is connected and idling.
    wait_for_event(
        &mut events,
        Duration::from_secs(30),
        |e| matches!(e, Event::Connection { folder, state: ConnectionState::Online, .. } if folder == "INBOX"),
    )
    .await;

    let (id, raw) = customer_mail(&customer.address, &desk.address, "我的订单在哪里？", "订单 8841 还没有到。");
    let start = Instant::now();
    smtp_send(&customer.address, &[&desk.address], &raw).await.unwrap();
    let arrived = wait_for_event(
        &mut events,
        Duration::from_secs(10),
        |e| matches!(e, Event::MessageArrived { message_id: Some(m), .. } if *m == id),
    )
    .await;
    let elapsed = start.elapsed();
    println!("SMTP accepted → mirrored: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");

    let Event::MessageArrived { id: row, subject, from, .. } = arrived else { unreachable!() };
    assert_eq!(subject, "我的订单在哪里？");
    assert_eq!(from, customer.address);
    let stored = engine.store().message(row).unwrap().unwrap();
    assert!(stored.body_text.contains("订单 8841"));
    // Found by a Chinese query through the FTS index.
    assert!(engine.store().search("订单", 10).unwrap().iter().any(|h| h.id == row));

    engine.shutdown();
    tokio::time::timeout(Duration::from_secs(15), watcher).await.expect("watch stops on shutdown").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_round_trip_threads_files_in_sent_once_and_flags_answered() {
    let desk = Desk::new("reply");
    let customer = Customer::new("cust");
    let engine = desk.engine();
    let (orig_id, raw) = customer_mail(&customer.address, &desk.address, "Refund for order 5512", "Please refund my order.");
    smtp_send(&customer.address, &[&desk.address], &raw).await.unwrap();
    eventually("delivery to the support mailbox", Duration::from_secs(10), || async {
        Ok((blendesk_testkit::count_messages(&desk.user, "INBOX").await? == 1).then_some(()))
    })
    .await
    .unwrap();

    engine.sync_once().await.unwrap();
    let original = engine.store().list_messages("INBOX", 10).unwrap().remove(0);
    assert_eq!(original.message_id.as_deref(), Some(orig_id.as_str()));

    let outbox_id = engine.queue_reply(original.id, "We have refunded order 5512.").unwrap();
    let report = engine.flush_outbox(Duration::from_secs(60)).await.unwrap();
    assert_eq!((report.sent, report.failed), (1, 0), "{report:?}");
    let item = engine.store().outbox_item(outbox_id).unwrap().unwrap();
    assert_eq!(item.state.as_str(), "sent");

    // The customer receives the threaded reply.
    let received = eventually("reply delivered to the customer", Duration::from_secs(10), || async {
        let all = fetch_all(&customer.user, "INBOX").await?;
        Ok(all.into_iter().map(|(_, raw)| mime::parse(&raw)).find(|p| p.message_id.as_deref() == Some(item.message_id.as_str())))
    })
    .await
    .unwrap();
    assert_eq!(received.in_reply_to.as_deref(), Some(orig_id.as_str()));
    assert_eq!(received.references, vec![orig_id.clone()]);
    assert_eq!(received.subject, "Re: Refund for order 5512");
    assert!(received.text.contains("We have refunded order 5512."));
    assert!(received.text.contains("> Please refund my order."));

    // Sent holds exactly one copy, also after another pass (idempotent APPEND).
    engine.flush_outbox(Duration::from_secs(10)).await.unwrap();
    let sent: Vec<_> = fetch_all(&desk.user, "Sent")
        .await
        .unwrap()
        .into_iter()
        .map(|(_, raw)| mime::parse(&raw))
        .filter(|p| p.message_id.as_deref() == Some(item.message_id.as_str()))
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(engine.store().count_message_id("Sent", &item.message_id).unwrap(), 1, "Sent is mirrored");

    // The original is \Answered on the server, and the mirror learns it.
    engine.sync_once().await.unwrap();
    let again = engine.store().message(original.id).unwrap().unwrap();
    assert!(again.flags.iter().any(|f| f == "\\Answered"), "{:?}", again.flags);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_smtp_failure_is_shown_with_the_server_reason() {
    let desk = Desk::new("fail");
    let engine = desk.engine();
    // A customer on a domain the local server does not deliver for: 550 at RCPT.
    let (_, raw) = customer_mail("someone@nowhere.invalid", &desk.address, "hello", "hi");
    smtp_send("someone@nowhere.invalid", &[&desk.address], &raw).await.unwrap();
    eventually("delivery", Duration::from_secs(10), || async {
        Ok((blendesk_testkit::count_messages(&desk.user, "INBOX").await? == 1).then_some(()))
    })
    .await
    .unwrap();
    engine.sync_once().await.unwrap();
    let original = engine.store().list_messages("INBOX", 1).unwrap().remove(0);
    let id = engine.queue_reply(original.id, "Thanks").unwrap();
    let report = engine.flush_outbox(Duration::from_secs(30)).await.unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
    let item = engine.store().outbox_item(id).unwrap().unwrap();
    assert_eq!(item.state.as_str(), "failed");
    let reason = item.last_error.unwrap();
    assert!(reason.contains("550") || reason.to_lowercase().contains("relay"), "{reason}");
}
