//! "Still working on it" against the real local mail stack: when a conversation's SLA
//! breaches, exactly one note goes to the customer however many apps run, the breach is
//! marked on the server for supervisors, and answered or automatic mail gets none.
//!
//! The policy gives INBOX a first-response target of 0 business minutes on an
//! always-open calendar (breached as soon as it arrives), and Billing 4 business hours
//! on the same calendar (not breached during the test): no waiting on a clock.

use blendesk_domain::automation::SlaLevel;
use blendesk_domain::blending::Policy;
use blendesk_engine::events::Event;
use blendesk_engine::Engine;
use blendesk_mail::imap;
use blendesk_mail::mime::{self, ParsedMail};
use blendesk_testkit::{customer_mail, eventually, fetch_all, login, smtp_send, Customer, Desk};
use std::sync::Arc;
use std::time::Duration;

const ALWAYS_OPEN: &str = r#"{"time_zone": "UTC", "hours": {"mon": ["00:00-24:00"], "tue": ["00:00-24:00"],
    "wed": ["00:00-24:00"], "thu": ["00:00-24:00"], "fri": ["00:00-24:00"], "sat": ["00:00-24:00"], "sun": ["00:00-24:00"]}}"#;

fn policy() -> Policy {
    let json = format!(
        r#"{{"version": 1, "sla": {{
            "default": {{"first_response_minutes": 0, "next_response_minutes": 0, "calendar": {ALWAYS_OPEN}}},
            "queues": {{"Billing": {{"first_response_minutes": 240}}}}}}}}"#
    );
    Policy::parse(json.as_bytes()).expect("test policy is valid")
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

fn is_note(m: &ParsedMail) -> bool {
    m.text.contains("still working on your request")
}

/// Flags on the server of the message with `message_id` in `folder`.
async fn server_flags(user: &str, folder: &str, message_id: &str) -> Vec<String> {
    let mut s = login(user).await.unwrap();
    imap::select(&mut s, folder, true).await.unwrap();
    let uid = imap::search_message_id(&mut s, message_id).await.unwrap().into_iter().next().expect("message on the server");
    let flags = imap::fetch_flags(&mut s, None).await.unwrap().into_iter().find(|(u, _, _)| *u == uid).unwrap().1;
    imap::logout(s).await;
    flags
}

/// Every app: sync, then one pass of the breach duty, then send; returns notes queued.
async fn all_apps_note(apps: &[Arc<Engine>]) -> u32 {
    for app in apps {
        app.sync_once().await.unwrap();
    }
    let mut tasks = Vec::new();
    for app in apps {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = app.connect_for_team().await.unwrap();
            let n = app.note_breaches(&mut c.session).await.unwrap();
            imap::logout(c.session).await;
            app.flush_outbox(Duration::from_secs(30)).await.unwrap();
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breach_gets_one_note_team_wide_and_is_marked_for_supervisors() {
    let desk = Desk::with_queues("late", &["INBOX", "Billing"]);
    let late = Customer::new("late");
    let answered = Customer::new("ans");
    let robot = Customer::new("robot");
    let billing = Customer::new("bill");
    let (late_id, raw) = customer_mail(&late.address, &desk.address, "Where is my refund?", "Order 12, please.");
    smtp_send(&late.address, &[&desk.address], &raw).await.unwrap();
    let (answered_id, raw) = customer_mail(&answered.address, &desk.address, "Invoice copy", "Please send it again.");
    smtp_send(&answered.address, &[&desk.address], &raw).await.unwrap();
    // An out-of-office without the courtesy of a Precedence header, but Auto-Submitted.
    let robot_id = format!("{:016x}@example.com", rand::random::<u64>());
    let raw = format!(
        "From: <{r}>\r\nTo: {d}\r\nSubject: Out of office\r\nMessage-ID: <{robot_id}>\r\nAuto-Submitted: auto-replied\r\n\r\nI am away until Monday.\r\n",
        r = robot.address,
        d = desk.address
    );
    smtp_send(&robot.address, &[&desk.address], raw.as_bytes()).await.unwrap();
    // Billing (4 business hours): not breached.
    let (billing_id, raw) = customer_mail(&billing.address, &desk.address, "Charged twice", "Card charged twice.");
    let mut s = login(&desk.user).await.unwrap();
    imap::create_folder(&mut s, "Billing").await.unwrap();
    imap::append(&mut s, "Billing", "(\\Seen)", &raw).await.unwrap();
    imap::logout(s).await;
    wait_count(&desk.user, 3).await;

    // Four apps of the same team, each with its own database.
    let apps: Vec<Arc<Engine>> = ["alice", "bob", "carol", "dan"]
        .into_iter()
        .map(|id| {
            let mut config = desk.config.clone();
            config.advisor.id = blendesk_domain::advisor::AdvisorId::parse(id).unwrap();
            config.store.path = desk.dir.path().join(format!("{id}.db"));
            Engine::with_passwords(config, "test".into(), None).unwrap()
        })
        .collect();
    apps[0].publish_policy(&policy()).await.unwrap();
    for app in &apps {
        let p = app.load_policy().await.unwrap();
        assert_eq!(p.sla_for("INBOX").targets.first_response_minutes, 0);
        app.sync_once().await.unwrap();
    }
    let mut events: Vec<_> = apps.iter().map(|a| a.subscribe()).collect();

    // Alice answers one conversation before anyone looks at breaches.
    let alice = &apps[0];
    let msg = alice.store().list_messages("INBOX", 10).unwrap().into_iter().find(|m| m.subject == "Invoice copy").unwrap();
    alice.queue_reply(msg.id, "Here is your invoice again.").unwrap();
    alice.flush_outbox(Duration::from_secs(30)).await.unwrap();
    assert!(server_flags(&desk.user, "INBOX", &answered_id).await.iter().any(|f| f == "\\Answered"));

    let notes = all_apps_note(&apps).await;
    assert_eq!(notes, 1, "one note across four apps: only the unanswered human conversation");
    // The apps report what they did (events are sent before the pass returns).
    let (mut marked, mut sent) = (std::collections::BTreeSet::new(), 0);
    for rx in &mut events {
        while let Ok(e) = rx.try_recv() {
            match e {
                Event::SlaBreached { customer, .. } => {
                    marked.insert(customer);
                }
                Event::StillWorkingSent { to, .. } => {
                    assert_eq!(to, late.address);
                    sent += 1;
                }
                _ => {}
            }
        }
    }
    assert_eq!(sent, 1);
    assert_eq!(marked, [late.address.clone(), robot.address.clone()].into_iter().collect());

    let got = wait_count(&late.user, 1).await;
    assert_eq!(got.len(), 1);
    let note = &got[0];
    assert!(is_note(note), "{}", note.text);
    assert_eq!(header(note, "Auto-Submitted"), Some("auto-replied"));
    assert_eq!(header(note, "X-Auto-Response-Suppress"), Some("All"));
    assert_eq!(note.in_reply_to.as_deref(), Some(late_id.as_str()));
    // The answered customer has our reply and nothing else.
    let theirs = wait_count(&answered.user, 1).await;
    assert_eq!(theirs.len(), 1);
    assert!(!is_note(&theirs[0]));

    // The server records the duty once and the breach for every app to see.
    let flags = server_flags(&desk.user, "INBOX", &late_id).await;
    assert!(flags.iter().any(|f| f == "$bd_breached"), "{flags:?}");
    let holders: Vec<&String> = flags.iter().filter(|f| f.starts_with("$bd_late")).collect();
    assert_eq!(holders, ["$bd_late"], "the duty's one mark: {flags:?}");
    let flags = server_flags(&desk.user, "INBOX", &answered_id).await;
    assert!(!flags.iter().any(|f| f.starts_with("$bd_late") || f == "$bd_breached"), "{flags:?}");
    let flags = server_flags(&desk.user, "INBOX", &robot_id).await;
    assert!(flags.iter().any(|f| f == "$bd_breached"), "automatic mail is marked breached: {flags:?}");
    assert!(!flags.iter().any(|f| f.starts_with("$bd_late")), "but gets no note: {flags:?}");
    let flags = server_flags(&desk.user, "Billing", &billing_id).await;
    assert!(!flags.iter().any(|f| f.starts_with("$bd_late") || f == "$bd_breached"), "{flags:?}");
    assert_eq!(blendesk_testkit::count_messages(&robot.user, "INBOX").await.unwrap(), 0);
    assert_eq!(blendesk_testkit::count_messages(&billing.user, "INBOX").await.unwrap(), 0);

    // Again, with every app's mirror up to date: nothing more goes out.
    assert_eq!(all_apps_note(&apps).await, 0, "never twice");
    assert_eq!(inbox(&late.user).await.iter().filter(|m| is_note(m)).count(), 1);

    // Supervisors see the breaches from any app's mirror (dan never marked anything
    // himself if he lost every race; his mirror has the keywords from the server).
    let dan = &apps[3];
    dan.sync_once().await.unwrap();
    let now = now_ms();
    let alerts = dan.automation_alerts(now).unwrap();
    let mut breached: Vec<&str> = alerts.breached.iter().map(|c| c.customer.as_str()).collect();
    breached.sort();
    let mut expected = vec![late.address.as_str(), robot.address.as_str()];
    expected.sort();
    assert_eq!(breached, expected);
    assert!(alerts.breached.iter().all(|c| c.marked_breached && c.level == SlaLevel::Breached));
    assert!(alerts.breaker.is_none());
    let view = dan.workspace(now / 1000).unwrap();
    let inbox_summary = view.queues.iter().find(|q| q.queue == "INBOX").unwrap();
    assert_eq!((inbox_summary.waiting, inbox_summary.breached), (2, 2), "{:?}", view.queues);
    let billing_summary = view.queues.iter().find(|q| q.queue == "Billing").unwrap();
    assert_eq!((billing_summary.waiting, billing_summary.at_risk, billing_summary.breached), (1, 0, 0));
    let c = view.conversations.iter().find(|c| c.customer == billing.address).unwrap();
    assert!(c.sla_running && c.sla == SlaLevel::Ok);
    assert_eq!(c.sla_due_at, c.waiting_since + 4 * 3600, "4 business hours on an always-open calendar");
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}
