//! "Pick up the phone" against the real local mail stack: call suggestions after
//! back-and-forth exchanges or frustration words, the customer's number from their
//! signature or earlier mail (never our own), and call notes every app sees but the
//! customer never receives.

use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::blending::Policy;
use blendesk_engine::callback::{CallReasonView, CallSuggestionView};
use blendesk_engine::Engine;
use blendesk_mail::mime;
use blendesk_testkit::{count_messages, customer_mail, eventually, fetch_all, smtp_send, Customer, Desk};
use std::sync::Arc;
use std::time::{Duration, Instant};

const OUR_NUMBER: &str = "020 7946 0000";

fn policy() -> Policy {
    let json = format!(r#"{{"version":1,"callback":{{"region":"gb","our_numbers":["{OUR_NUMBER}"]}}}}"#);
    Policy::parse(json.as_bytes()).expect("test policy is valid")
}

async fn engine_with_policy(desk: &Desk) -> Arc<Engine> {
    let engine = desk.engine();
    engine.publish_policy(&policy()).await.unwrap();
    let p = engine.load_policy().await.unwrap();
    assert_eq!(p.callback.our_numbers, [OUR_NUMBER]);
    engine
}

fn app(desk: &Desk, id: &str) -> Arc<Engine> {
    let mut config = desk.config.clone();
    config.advisor.id = AdvisorId::parse(id).unwrap();
    config.store.path = desk.dir.path().join(format!("{id}.db"));
    Engine::with_passwords(config, "test".into(), None).unwrap()
}

/// Send, then sync until the message is mirrored; returns its mirror id.
async fn deliver(engine: &Arc<Engine>, desk: &Desk, from: &str, subject: &str, body: &str) -> i64 {
    let (mid, raw) = customer_mail(from, &desk.address, subject, body);
    smtp_send(from, &[&desk.address], &raw).await.unwrap();
    eventually(&format!("{subject:?} mirrored"), Duration::from_secs(15), || async {
        engine.sync_once().await?;
        let found = engine.store().list_messages("INBOX", 500)?.into_iter().find(|m| m.message_id.as_deref() == Some(mid.as_str()));
        Ok(found.map(|m| m.id))
    })
    .await
    .unwrap()
}

async fn reply(engine: &Arc<Engine>, id: i64, text: &str) {
    engine.queue_reply(id, text).unwrap();
    let r = engine.flush_outbox(Duration::from_secs(30)).await.unwrap();
    assert_eq!((r.sent, r.failed), (1, 0));
}

fn frustration(s: &CallSuggestionView) -> Option<&str> {
    s.reasons.iter().find_map(|r| match r {
        CallReasonView::Frustration { word } => Some(word.as_str()),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_exchanges_suggest_a_call_with_the_customers_number_not_ours() {
    let desk = Desk::new("cbex");
    let engine = engine_with_policy(&desk).await;
    let customer = Customer::new("cbexc");
    let signature = "Jane Doe\nAcme Ltd\nTel: 020 7946 0958";
    let first = deliver(&engine, &desk, &customer.address, "Printer setup", &format!("My printer will not connect.\n\n{signature}")).await;
    assert_eq!(engine.call_suggestion(first).unwrap(), None, "a first email is no reason to call");
    reply(&engine, first, &format!("Please restart it.\n\nShop Support\nCall us: {OUR_NUMBER}")).await;

    // Two more rounds; each customer message quotes our signature, and the last one
    // mentions our number in their own words too.
    for (round, body) in [
        (2, "Restarted, still nothing.\n\n> Please restart it.\n> Call us: 020 7946 0000".to_owned()),
        (3, format!("I rang {OUR_NUMBER} but nobody picked up. Still broken.\n\n> Call us: {OUR_NUMBER}")),
    ] {
        let id = deliver(&engine, &desk, &customer.address, "Re: Printer setup", &body).await;
        assert_eq!(engine.call_suggestion(id).unwrap(), None, "only {} exchanges so far", round - 1);
        reply(&engine, id, &format!("Try the cable.\n\nShop Support\nCall us: {OUR_NUMBER}")).await;
    }
    let id =
        deliver(&engine, &desk, &customer.address, "Re: Printer setup", "Cable tried.\n\n> Try the cable.\n> Call us: 020 7946 0000").await;
    let s = engine.call_suggestion(id).unwrap().expect("three exchanges suggest a call");
    assert!(s.reasons.contains(&CallReasonView::Exchanges { count: 3 }), "{s:?}");
    assert_eq!(frustration(&s), None, "{s:?}");
    let phone = s.phone.expect("the number from the first email's signature");
    assert_eq!(phone.tel, "tel:+442079460958", "never our own number: {phone:?}");
    assert_eq!(phone.written, "020 7946 0958");
    assert_eq!(s.customer, customer.address.to_lowercase());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frustration_words_suggest_a_call_at_once_with_numbers_from_the_signature_or_earlier_mail() {
    let desk = Desk::new("cbfr");
    let engine = engine_with_policy(&desk).await;

    let wang = Customer::new("cbzh");
    let id = deliver(&engine, &desk, &wang.address, "订单问题", "已经等了两个星期，我要投诉！\n\n王先生\n手机：+86 138 0013 8000").await;
    let s = engine.call_suggestion(id).unwrap().expect("投诉 suggests a call");
    assert_eq!(frustration(&s), Some("投诉"));
    assert_eq!(s.phone.map(|p| p.tel).as_deref(), Some("tel:+8613800138000"));

    // An English customer: the number is in an earlier, resolved conversation only.
    let bob = Customer::new("cben");
    let earlier = deliver(&engine, &desk, &bob.address, "Question", "How do I reset my password?\n\nBob\nMobile: +44 7700 900123").await;
    assert_eq!(engine.resolve_conversation(earlier).await.unwrap(), 1);
    engine.sync_once().await.unwrap();
    let id = deliver(&engine, &desk, &bob.address, "Refund", "This is UNACCEPTABLE. I want my money back.").await;
    let s = engine.call_suggestion(id).unwrap().expect("unacceptable suggests a call");
    assert_eq!(frustration(&s), Some("unacceptable"));
    assert_eq!(s.phone.map(|p| p.tel).as_deref(), Some("tel:+447700900123"), "found in the customer's earlier mail");

    // A calm customer: nothing; a quoted complaint is not the customer's own words.
    let calm = Customer::new("cbok");
    let id = deliver(&engine, &desk, &calm.address, "Thanks", "All sorted, thank you!\n\n> unacceptable delays, 投诉").await;
    assert_eq!(engine.call_suggestion(id).unwrap(), None);

    // Hostile: a huge body of digit runs and plus signs is read in bounded time.
    let noisy = Customer::new("cbbig");
    let body: String =
        (0..60_000).map(|i| format!("+{}{}", i % 97, if i % 50 == 49 { "\n" } else { " " })).collect::<String>() + "\nunacceptable";
    let id = deliver(&engine, &desk, &noisy.address, "Numbers", &body).await;
    let started = Instant::now();
    let s = engine.call_suggestion(id).unwrap();
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert!(s.is_none() || s.unwrap().phone.is_none(), "no number made up from the noise");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_note_reaches_every_app_and_never_the_customer() {
    let desk = Desk::new("cbnote");
    let alice = engine_with_policy(&desk).await;
    let bob = app(&desk, "bob");
    bob.load_policy().await.unwrap();
    let customer = Customer::new("cbnc");
    let id = deliver(&alice, &desk, &customer.address, "Late delivery", "Unacceptable, three weeks now.\n\nTel: 07700 900456").await;
    assert_eq!(alice.call_suggestion(id).unwrap().and_then(|s| s.phone).map(|p| p.tel).as_deref(), Some("tel:+447700900456"));
    assert!(alice.sla_clocks(now_ms()).unwrap().iter().any(|c| c.customer == customer.address.to_lowercase()), "a reply is owed");

    assert!(alice.log_call_note(id, "   ").await.is_err(), "an empty note is refused");
    let note_id = alice.log_call_note(id, "Called Jane: parcel re-sent, she is happy.").await.unwrap();
    assert!(note_id.starts_with("blendesk-note."));
    assert_eq!(alice.call_suggestion(id).unwrap(), None, "called since the customer wrote");
    // A call is a response: the SLA clock stops; the email stays open (not \Answered).
    assert!(!alice.sla_clocks(now_ms()).unwrap().iter().any(|c| c.customer == customer.address.to_lowercase()));
    let original = alice.store().message(id).unwrap().unwrap();
    assert!(!original.flags.iter().any(|f| f == "\\Answered"), "{:?}", original.flags);

    // On the server: in Sent, marked as a note.
    let sent = fetch_all(&desk.user, "Sent").await.unwrap();
    assert_eq!(sent.len(), 1);
    let parsed = mime::parse(&sent[0].1);
    assert!(parsed.headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("X-Blendesk-Note") && v == "call"));
    assert_eq!(parsed.in_reply_to.as_deref(), original.message_id.as_deref());
    assert!(parsed.text.contains("parcel re-sent"));

    // Bob's app sees it in the thread after a sync, and no longer suggests a call.
    bob.sync_once().await.unwrap();
    let bob_id = bob.store().list_messages("INBOX", 10).unwrap()[0].id;
    let thread = bob.thread(bob_id).unwrap();
    let note = thread.iter().find(|m| m.note).expect("the note is in bob's thread");
    assert!(note.outgoing && note.folder == "Sent", "{note:?}");
    assert_eq!(thread.iter().filter(|m| m.note).count(), 1);
    assert_eq!(bob.call_suggestion(bob_id).unwrap(), None);

    // A note is never offered as a snippet to insert into another customer's reply.
    let snippets = alice.knowledge_snippets("Called Jane parcel happy", "someone-else@example.com", 10).unwrap();
    assert!(!snippets.iter().any(|s| s.excerpt.contains("parcel re-sent")), "{snippets:?}");

    // Nothing was submitted: the outbox is empty, and a real reply afterwards is the
    // only mail the customer ever gets.
    let r = alice.flush_outbox(Duration::from_secs(5)).await.unwrap();
    assert_eq!(r.attempted, 0, "the note never went through the outbox");
    reply(&alice, id, "As promised on the phone: your parcel is on its way.").await;
    eventually("the customer has the reply", Duration::from_secs(15), || async {
        Ok((count_messages(&customer.user, "INBOX").await? >= 1).then_some(()))
    })
    .await
    .unwrap();
    let inbox = fetch_all(&customer.user, "INBOX").await.unwrap();
    assert_eq!(inbox.len(), 1, "only the reply reached the customer");
    let text = mime::parse(&inbox[0].1).text;
    assert!(text.contains("As promised") && !text.contains("parcel re-sent"), "{text}");
    // The reply is filed next to the note, and the thread shows both.
    alice.sync_once().await.unwrap();
    let thread = alice.thread(id).unwrap();
    assert_eq!((thread.iter().filter(|m| m.note).count(), thread.iter().filter(|m| m.outgoing && !m.note).count()), (1, 1));
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}
