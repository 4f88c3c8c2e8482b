//! "Still working on it" from real headless advisors (`blendesk run --headless`): the
//! claim loop's duties tick notices the breach, exactly one app sends the note, and it
//! is never sent twice. The policy makes INBOX breach on arrival (0 business minutes on
//! an always-open calendar), so nothing waits on a clock.

use blendesk_mail::imap;
use blendesk_mail::mime;
use blendesk_testkit::{customer_mail, eventually, fetch_all, login, smtp_send, Customer, Desk, HeadlessApp};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const POLICY: &str = r#"{"version": 1, "sla": {"default": {"first_response_minutes": 0, "next_response_minutes": 0,
    "calendar": {"time_zone": "UTC", "hours": {"mon": ["00:00-24:00"], "tue": ["00:00-24:00"], "wed": ["00:00-24:00"],
    "thu": ["00:00-24:00"], "fri": ["00:00-24:00"], "sat": ["00:00-24:00"], "sun": ["00:00-24:00"]}}}}}"#;

fn publish_policy(desk: &Desk) {
    let file = desk.dir.path().join("policy.json");
    std::fs::write(&file, POLICY).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_blendesk"))
        .arg("--config")
        .arg(&desk.config_path)
        .args(["policy", "publish"])
        .arg(&file)
        .env("BLENDESK_IMAP_PASSWORD", "test")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// (acknowledgements, still-working notes) in a customer's mailbox.
async fn automatic_mail(user: &str) -> (usize, usize) {
    let mail: Vec<_> = fetch_all(user, "INBOX").await.unwrap().into_iter().map(|(_, raw)| mime::parse(&raw)).collect();
    let notes = mail.iter().filter(|m| m.text.contains("still working on your request")).count();
    let acks = mail.iter().filter(|m| m.text.contains("will reply by")).count();
    assert_eq!(acks + notes, mail.len(), "only automatic mail expected");
    (acks, notes)
}

/// Until the customer has both automatic mails: the note, and the acknowledgement
/// (another app may hold that duty and send it a moment after the note).
async fn wait_for_note(user: &str) {
    eventually(&format!("{user} has its acknowledgement and note"), Duration::from_secs(60), || async {
        let (acks, notes) = automatic_mail(user).await;
        Ok((acks >= 1 && notes >= 1).then_some(()))
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_headless_advisors_send_one_note_per_breached_conversation() {
    let desk = Desk::new("latecli");
    publish_policy(&desk);
    let runtime = tempfile::tempdir().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_blendesk"));
    let apps: Vec<HeadlessApp> =
        ["alice", "bob", "carol"].into_iter().map(|id| HeadlessApp::start(bin, &desk, id, runtime.path())).collect();

    let first: Vec<Customer> = (0..2).map(|_| Customer::new("lc")).collect();
    for c in &first {
        let (_, raw) = customer_mail(&c.address, &desk.address, "Refund?", "Where is my refund?");
        smtp_send(&c.address, &[&desk.address], &raw).await.unwrap();
    }
    for c in &first {
        wait_for_note(&c.user).await;
    }
    // A later conversation is a barrier: when its note has gone out, every app has run
    // further duty passes over the first two, which must not have sent anything again.
    let later = Customer::new("lc");
    let (_, raw) = customer_mail(&later.address, &desk.address, "Hello", "Any news?");
    smtp_send(&later.address, &[&desk.address], &raw).await.unwrap();
    wait_for_note(&later.user).await;
    for c in first.iter().chain([&later]) {
        assert_eq!(automatic_mail(&c.user).await, (1, 1), "{}: one acknowledgement and one note", c.address);
    }
    let sent: usize = apps.iter().map(|a| a.events_of("still_working_sent").len()).sum();
    assert_eq!(sent, 3, "one note per conversation across the three apps");

    // The server has the duty's one mark and the breach mark on each.
    let mut s = login(&desk.user).await.unwrap();
    imap::select(&mut s, "INBOX", true).await.unwrap();
    let flags = imap::fetch_flags(&mut s, None).await.unwrap();
    imap::logout(s).await;
    assert_eq!(flags.len(), 3);
    for (uid, f, _) in flags {
        let holders: Vec<&String> = f.iter().filter(|k| k.starts_with("$bd_late")).collect();
        assert_eq!(holders, ["$bd_late"], "the duty's one mark: UID {uid}: {f:?}");
        assert!(f.iter().any(|k| k == "$bd_breached"), "UID {uid}: {f:?}");
    }
}
