//! The outbox under fire: 200 replies sent by `blendesk outbox flush` processes that are
//! killed (SIGKILL) at random moments while the SMTP server is stopped and restarted.
//! Afterwards: every reply delivered, none stuck in `sending`, any duplicate carries the
//! same Message-ID, Sent holds each reply once, and the database is intact.

use blendesk_mail::mime;
use blendesk_testkit::{customer_mail, eventually, fetch_all, smtp_send, stack_script, Customer, Desk};
use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::time::Duration;

const CUSTOMERS: usize = 20;
const PER_CUSTOMER: usize = 10;

fn flush(desk: &Desk, max_wait: u64) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_blendesk"));
    cmd.arg("--config")
        .arg(&desk.config_path)
        .args(["outbox", "flush", "--max-wait", &max_wait.to_string()])
        .env("BLENDESK_IMAP_PASSWORD", "test")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_survive_sigkill_and_smtp_outages() {
    let desk = Desk::new("crash");
    let customers: Vec<Customer> = (0..CUSTOMERS).map(|_| Customer::new("crc")).collect();
    for c in &customers {
        for i in 0..PER_CUSTOMER {
            let (_, raw) = customer_mail(&c.address, &desk.address, &format!("order question {i}"), "where is my order?");
            smtp_send(&c.address, &[&desk.address], &raw).await.unwrap();
        }
    }
    let total = CUSTOMERS * PER_CUSTOMER;
    eventually("all customer mail delivered", Duration::from_secs(60), || async {
        Ok((blendesk_testkit::count_messages(&desk.user, "INBOX").await? as usize == total).then_some(()))
    })
    .await
    .unwrap();

    // Mirror and queue one reply per message, then let go of the database.
    {
        let engine = desk.engine();
        engine.sync_once().await.unwrap();
        let inbox = engine.store().list_messages("INBOX", 10_000).unwrap();
        assert_eq!(inbox.len(), total);
        for m in &inbox {
            engine.queue_reply(m.id, "Your order ships today.").unwrap();
        }
        assert_eq!(engine.store().outbox_counts().unwrap()["queued"], total as u64);
    }

    // Kill flushers at random moments; take SMTP away in the middle of the run.
    let rounds = 40;
    let mut kills = 0;
    for round in 0..rounds {
        if round == 10 {
            stack_script(&["stop-smtp"]).unwrap();
        }
        if round == 18 {
            stack_script(&["start-smtp"]).unwrap();
        }
        let mut child = flush(&desk, 30).spawn().unwrap();
        // The delay is the fault injection itself: where in its work the process dies.
        let ms = 20 + rand::random::<u64>() % 400;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
    }
    stack_script(&["start-smtp"]).unwrap();
    println!("{kills} of {rounds} flushers killed mid-run");
    assert!(kills >= rounds / 2, "most rounds must actually kill a working process ({kills})");

    // A last, undisturbed flush drains the outbox.
    let status = flush(&desk, 600).status().unwrap();
    assert!(status.success());

    let engine = desk.engine();
    let counts = engine.store().outbox_counts().unwrap();
    assert_eq!(counts["sent"], total as u64, "{counts:?}");
    assert_eq!(counts["sending"] + counts["queued"] + counts["failed"], 0, "{counts:?}");
    assert_eq!(engine.store().integrity_check().unwrap(), "ok");
    let items = engine.store().outbox_list(10_000).unwrap();
    let ours: HashSet<String> = items.iter().map(|i| i.message_id.clone()).collect();
    assert_eq!(ours.len(), total, "one Message-ID per reply");

    // Every reply reached its customer; duplicates (at-least-once) share the Message-ID.
    let mut delivered: HashMap<String, usize> = HashMap::new();
    for c in &customers {
        let got = eventually("replies delivered", Duration::from_secs(60), || async {
            let all = fetch_all(&c.user, "INBOX").await?;
            Ok((all.len() >= PER_CUSTOMER).then_some(all))
        })
        .await
        .unwrap();
        for (_, raw) in got {
            let id = mime::parse(&raw).message_id.expect("our replies carry a Message-ID");
            assert!(ours.contains(&id), "a message the outbox never built: {id}");
            *delivered.entry(id).or_default() += 1;
        }
    }
    assert_eq!(delivered.len(), total, "every reply delivered");
    let duplicates: usize = delivered.values().map(|n| n - 1).sum();
    println!("{duplicates} duplicate deliveries, each with its reply's Message-ID");

    // Sent holds each reply exactly once.
    let sent = fetch_all(&desk.user, "Sent").await.unwrap();
    let mut in_sent: HashMap<String, usize> = HashMap::new();
    for (_, raw) in sent {
        *in_sent.entry(mime::parse(&raw).message_id.unwrap_or_default()).or_default() += 1;
    }
    assert_eq!(in_sent.len(), total);
    assert!(in_sent.values().all(|n| *n == 1), "Sent holds a duplicate");
}
