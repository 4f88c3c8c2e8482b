//! Acknowledgements that never loop, against the real local mail stack: a naive
//! auto-responder that answers everything, two Blendesk teams mailing each other, the
//! breaker, and exactly one acknowledgement per new conversation with several apps.

use blendesk_domain::automation::ack::is_ack_flag;
use blendesk_engine::events::Event;
use blendesk_engine::Engine;
use blendesk_mail::mime::{self, ParsedMail};
use blendesk_testkit::{customer_mail, eventually, fetch_all, smtp_send, Customer, Desk};
use std::sync::Arc;
use std::time::Duration;

/// One round of an app's work, without timers: sync, acknowledge, send.
async fn round(engine: &Arc<Engine>) -> u32 {
    engine.sync_once().await.unwrap();
    let mut c = engine.connect_for_team().await.unwrap();
    let n = engine.acknowledge_new_mail(&mut c.session).await.unwrap();
    blendesk_mail::imap::logout(c.session).await;
    engine.flush_outbox(Duration::from_secs(30)).await.unwrap();
    n
}

async fn inbox(user: &str) -> Vec<ParsedMail> {
    fetch_all(user, "INBOX").await.unwrap().into_iter().map(|(_, raw)| mime::parse(&raw)).collect()
}

async fn wait_count(user: &str, n: usize) -> Vec<ParsedMail> {
    eventually(&format!("{user} has {n} messages"), Duration::from_secs(15), || async {
        let m = inbox(user).await;
        Ok((m.len() >= n).then_some(m))
    })
    .await
    .unwrap()
}

fn header<'a>(m: &'a ParsedMail, name: &str) -> Option<&'a str> {
    m.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_naive_responder_gets_one_acknowledgement_and_the_exchange_stops() {
    let desk = Desk::new("ackloop");
    let engine = desk.engine();
    let customer = Customer::new("naive");
    let (_, raw) = customer_mail(&customer.address, &desk.address, "Where is my order?", "Order 77 has not arrived.");
    smtp_send(&customer.address, &[&desk.address], &raw).await.unwrap();
    wait_count(&desk.user, 1).await;

    let mut sent_by_us = 0;
    let mut answered_by_responder = 0;
    for r in 0..4 {
        sent_by_us += round(&engine).await;
        // The responder answers everything it has not answered yet, like a naive
        // out-of-office without RFC 3834 headers.
        let got = wait_count(&customer.user, sent_by_us as usize).await;
        for m in got.iter().skip(answered_by_responder) {
            let id = m.message_id.clone().unwrap_or_default();
            let reply = format!(
                "From: <{c}>\r\nTo: {d}\r\nSubject: Re: {s}\r\nMessage-ID: <naive{r}.{n}@example.com>\r\nIn-Reply-To: <{id}>\r\nReferences: <{id}>\r\n\r\nI am away. (answered automatically)\r\n",
                c = customer.address,
                d = desk.address,
                s = m.subject,
                n = answered_by_responder,
            );
            smtp_send(&customer.address, &[&desk.address], reply.as_bytes()).await.unwrap();
            answered_by_responder += 1;
        }
        wait_count(&desk.user, 1 + answered_by_responder).await;
    }
    assert_eq!(sent_by_us, 1, "one acknowledgement, then the exchange stops");
    let got = inbox(&customer.user).await;
    assert_eq!(got.len(), 1);
    let ack = &got[0];
    assert_eq!(header(ack, "Auto-Submitted"), Some("auto-replied"));
    assert_eq!(header(ack, "X-Auto-Response-Suppress"), Some("All"));
    assert_eq!(header(ack, "X-Loop"), Some(desk.address.as_str()));
    assert!(ack.in_reply_to.is_some());
    assert!(ack.text.contains("will reply by"), "{}", ack.text);
    // An acknowledgement is not an answer: the customer's email is still open.
    let original = engine.store().list_messages("INBOX", 100).unwrap().into_iter().find(|m| m.subject == "Where is my order?").unwrap();
    assert!(!original.flags.iter().any(|f| f == "\\Answered"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_blendesk_teams_mailing_each_other_stop_after_the_first_exchange() {
    let team_a = Desk::new("teama");
    let team_b = Desk::new("teamb");
    let (a, b) = (team_a.engine(), team_b.engine());
    // Someone at team B writes to team A from B's shared address.
    let (_, raw) = customer_mail(&team_b.address, &team_a.address, "Partnership question", "Hello from team B.");
    smtp_send(&team_b.address, &[&team_a.address], &raw).await.unwrap();
    wait_count(&team_a.user, 1).await;
    let mut a_sent = 0;
    let mut b_sent = 0;
    for _ in 0..3 {
        a_sent += round(&a).await;
        b_sent += round(&b).await;
    }
    assert_eq!(a_sent, 1, "A acknowledges B's human email once");
    assert_eq!(b_sent, 0, "B never answers A's automatic acknowledgement");
    let b_inbox = inbox(&team_b.user).await;
    assert_eq!(b_inbox.len(), 1);
    assert_eq!(header(&b_inbox[0], "Auto-Submitted"), Some("auto-replied"));
    let b_mirror = b.store().list_messages("INBOX", 10).unwrap();
    assert_eq!(b_mirror.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_trips_the_breaker() {
    let desk = Desk::new("flood");
    let engine = desk.engine();
    let mut events = engine.subscribe();
    for _ in 0..55 {
        let c = Customer::new("fl");
        let (_, raw) = customer_mail(&c.address, &desk.address, "hello", "please help");
        smtp_send(&c.address, &[&desk.address], &raw).await.unwrap();
    }
    wait_count(&desk.user, 55).await;
    let sent = round(&engine).await;
    assert_eq!(sent, 50, "automatic mail stops at the breaker's limit");
    blendesk_testkit::wait_for_event(&mut events, Duration::from_secs(5), |e| matches!(e, Event::BreakerTripped { .. })).await;
    // Supervisors see it in the engine's alerts, from the mirror.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let alerts = engine.automation_alerts(now).unwrap();
    let breaker = alerts.breaker.expect("the breaker shows as an alert");
    assert_eq!((breaker.recent, breaker.limit), (50, 50));
    // Still tripped on the next pass: nothing more goes out.
    assert_eq!(round(&engine).await, 0);
}

/// A new team's folder: nothing resolved yet to register the duty names on before their
/// first race (the touch fallback).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_apps_send_exactly_one_acknowledgement_per_new_conversation() {
    four_apps_acknowledge(false).await;
}

/// A folder with a resolved email, which the duty names are registered on first (and
/// which itself gets no acknowledgement).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_apps_acknowledge_once_in_a_folder_with_resolved_mail() {
    four_apps_acknowledge(true).await;
}

async fn four_apps_acknowledge(resolved_marker: bool) {
    let desk = Desk::new("ack4");
    let mut expected = 0;
    if resolved_marker {
        let (_, raw) = customer_mail("old@example.com", &desk.address, "Done", "Thanks, all sorted.");
        let mut s = blendesk_testkit::login(&desk.user).await.unwrap();
        s.append("INBOX", Some("(\\Seen $Resolved)"), None, &raw).await.unwrap();
        blendesk_mail::imap::logout(s).await;
        expected += 1;
    }
    let customers: Vec<Customer> = (0..8).map(|_| Customer::new("a4c")).collect();
    for c in &customers {
        let (_, raw) = customer_mail(&c.address, &desk.address, "Refund", "Please refund order 12.");
        smtp_send(&c.address, &[&desk.address], &raw).await.unwrap();
    }
    wait_count(&desk.user, expected + customers.len()).await;
    // Four apps of the same team (four advisors), each with its own database, racing.
    let apps: Vec<Arc<Engine>> = ["alice", "bob", "carol", "dan"]
        .into_iter()
        .map(|id| {
            let mut config = desk.config.clone();
            config.advisor.id = blendesk_domain::advisor::AdvisorId::parse(id).unwrap();
            config.store.path = desk.dir.path().join(format!("{id}.db"));
            Engine::with_passwords(config, "test".into(), None).unwrap()
        })
        .collect();
    for app in &apps {
        app.sync_once().await.unwrap();
    }
    let mut tasks = Vec::new();
    for app in &apps {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = app.connect_for_team().await.unwrap();
            let n = app.acknowledge_new_mail(&mut c.session).await.unwrap();
            blendesk_mail::imap::logout(c.session).await;
            app.flush_outbox(Duration::from_secs(30)).await.unwrap();
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total as usize, customers.len(), "one acknowledgement per conversation across all apps");
    for c in &customers {
        let got = wait_count(&c.user, 1).await;
        assert_eq!(got.len(), 1, "{} got {} acknowledgements", c.address, got.len());
    }
    // The server agrees: the duty's one mark (`$bd_ack`) per message.
    let mut s = blendesk_testkit::login(&desk.user).await.unwrap();
    blendesk_mail::imap::select(&mut s, "INBOX", true).await.unwrap();
    for (uid, flags, _) in blendesk_mail::imap::fetch_flags(&mut s, None).await.unwrap() {
        let acks: Vec<&String> = flags.iter().filter(|f| is_ack_flag(f)).collect();
        if flags.iter().any(|f| f == "$Resolved") {
            assert!(acks.is_empty(), "UID {uid}: {flags:?}");
        } else {
            assert_eq!(acks.len(), 1, "UID {uid}: {flags:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_acknowledgement_promises_the_queues_sla_on_its_calendar() {
    // Shanghai, open on one weekday only, two days from today there; 90 business minutes.
    // Nobody is on shift (no advisor runs the claim loop), so the promise is the next
    // opening plus the target: that weekday at 10:30 China Standard Time.
    let now_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let days_since_epoch = (now_s + 8 * 3600).div_euclid(86_400);
    let weekday = ((days_since_epoch + 3 + 2) % 7) as usize; // 1970-01-01 was a Thursday (index 3, Monday = 0)
    let keys = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let policy = format!(
        r#"{{"version": 1, "sla": {{"default": {{"first_response_minutes": 90,
            "calendar": {{"time_zone": "Asia/Shanghai", "hours": {{"{day}": ["09:00-17:00"]}}}}}}}}}}"#,
        day = keys[weekday]
    );
    let desk = Desk::new("ackcal");
    let engine = desk.engine();
    engine.publish_policy(&blendesk_domain::blending::Policy::parse(policy.as_bytes()).unwrap()).await.unwrap();
    engine.load_policy().await.unwrap();
    let customer = Customer::new("cal");
    let (_, raw) = customer_mail(&customer.address, &desk.address, "Delivery date", "When will it arrive?");
    smtp_send(&customer.address, &[&desk.address], &raw).await.unwrap();
    wait_count(&desk.user, 1).await;
    assert_eq!(round(&engine).await, 1);
    let got = wait_count(&customer.user, 1).await;
    let promise = format!("will reply by {}", names[weekday]);
    assert!(got[0].text.contains(&promise) && got[0].text.contains("10:30 CST"), "{}", got[0].text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chaser_joining_an_open_conversation_gets_no_second_acknowledgement() {
    // Two customers wrote two days ago (outside the per-sender window) and were
    // acknowledged; one conversation is still open, the other was resolved. Both write
    // again with a new subject: the chaser joins the open conversation (no second
    // promise); the other starts a new conversation (acknowledged).
    let desk = Desk::new("ackchase");
    let engine = desk.engine();
    let still_open = Customer::new("chaseopen");
    let was_resolved = Customer::new("chasedone");
    let then = time::OffsetDateTime::now_utc() - time::Duration::days(2);
    let month = &then.month().to_string()[..3];
    let date = format!("\"{:02}-{month}-{} {:02}:{:02}:{:02} +0000\"", then.day(), then.year(), then.hour(), then.minute(), then.second());
    let mut s = blendesk_testkit::login(&desk.user).await.unwrap();
    for (c, flags) in [(&still_open, "($bd_ack_bob)"), (&was_resolved, "($bd_ack_bob $Resolved)")] {
        let (_, raw) = customer_mail(&c.address, &desk.address, "Broken kettle", "It does not heat.");
        s.append("INBOX", Some(flags), Some(&date), &raw).await.unwrap();
    }
    blendesk_mail::imap::logout(s).await;
    for c in [&still_open, &was_resolved] {
        let (_, raw) = customer_mail(&c.address, &desk.address, "Any news?", "Hello, I am still waiting.");
        smtp_send(&c.address, &[&desk.address], &raw).await.unwrap();
    }
    wait_count(&desk.user, 4).await;
    assert_eq!(round(&engine).await, 1, "only the new conversation is acknowledged");
    let got = wait_count(&was_resolved.user, 1).await;
    assert_eq!(got.len(), 1);
    // The server agrees: the chaser carries no acknowledgement keyword.
    let mut s = blendesk_testkit::login(&desk.user).await.unwrap();
    blendesk_mail::imap::select(&mut s, "INBOX", true).await.unwrap();
    let chasers: Vec<Vec<String>> = blendesk_mail::imap::fetch_flags(&mut s, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, flags, _)| !flags.iter().any(|f| f == "$Resolved") && !flags.iter().any(|f| f == "$bd_ack_bob"))
        .map(|(_, flags, _)| flags)
        .collect();
    assert_eq!(chasers.len(), 2, "the two new emails: {chasers:?}");
    assert_eq!(chasers.iter().filter(|f| f.iter().any(|f| is_ack_flag(f))).count(), 1, "{chasers:?}");
    assert!(inbox(&still_open.user).await.is_empty(), "no second promise to a customer whose conversation is open");
}
