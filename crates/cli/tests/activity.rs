//! The team's event log without a server, against the real Dovecot: four headless apps
//! claim mail and record what they do; one is SIGKILLed while its events wait to be
//! appended (or are being appended) and restarted. Every event reaches
//! `Blendesk/Events/<advisor>` exactly once; every claim an app reported is there, and
//! every claim there is an owner keyword on the server (an event is recorded after the
//! claim's STORE won and before the app reports it); two other advisors'
//! `blendesk activity --json` compute identical daily figures.

use blendesk_domain::activity::{decode_batch, ActivityKind};
use blendesk_mail::imap;
use blendesk_testkit::{eventually, login, Customer, Desk, HeadlessApp, TEST_PASSWORD};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const EMAILS: usize = 16;

/// Every event in the mailbox's events folders, as (id, advisor, claimed message-id).
async fn mailbox_events(user: &str) -> Vec<(String, String, Option<String>)> {
    let mut s = login(user).await.unwrap();
    let mut out = Vec::new();
    for folder in imap::list_children(&mut s, "Blendesk/Events").await.unwrap() {
        let selected = imap::select(&mut s, &folder, false).await.unwrap();
        if selected.exists == 0 {
            continue;
        }
        for (_, raw) in imap::fetch_raw(&mut s, "1:*", false).await.unwrap() {
            let (events, problems) = decode_batch(&blendesk_mail::mime::parse(&raw).text);
            assert!(problems.is_empty(), "{folder}: {problems:?}");
            for e in events {
                let claimed = match &e.kind {
                    ActivityKind::Claimed { message_id, .. } => message_id.clone(),
                    _ => None,
                };
                out.push((e.id, e.advisor, claimed));
            }
        }
    }
    imap::logout(s).await;
    out
}

/// (owner, Message-ID) of every email with an owner keyword on the server.
async fn server_owners(user: &str) -> Vec<(String, String)> {
    let mut s = login(user).await.unwrap();
    imap::select(&mut s, "INBOX", true).await.unwrap();
    let flags = imap::fetch_flags(&mut s, None).await.unwrap();
    let mut out = Vec::new();
    for (uid, f, _) in flags {
        let Some(owner) = blendesk_domain::claim::owners(&f).next().map(str::to_owned) else { continue };
        let raw = imap::fetch_raw(&mut s, &uid.to_string(), true).await.unwrap();
        let id = raw.first().and_then(|(_, r)| blendesk_mail::mime::parse(r).message_id).unwrap_or_default();
        out.push((owner, id));
    }
    imap::logout(s).await;
    out
}

fn claims_printed(app: &HeadlessApp) -> Vec<(String, String)> {
    app.events_of("claimed").iter().map(|e| (app.id.clone(), e["message_id"].as_str().unwrap_or_default().to_owned())).collect()
}

fn activity_json(bin: &Path, desk: &Desk, id: &str) -> serde_json::Value {
    let out = Command::new(bin)
        .arg("--config")
        .arg(desk.config_for(id, &format!("{id}-cli")))
        .args(["activity", "--json"])
        .env("BLENDESK_IMAP_PASSWORD", TEST_PASSWORD)
        .output()
        .expect("blendesk activity runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_reaches_the_mailbox_once_even_when_an_app_is_killed() {
    let desk = Desk::new("activity");
    let bin = Path::new(env!("CARGO_BIN_EXE_blendesk"));
    let runtime = tempfile::tempdir().unwrap();
    let mut apps: Vec<HeadlessApp> =
        ["alice", "bob", "carol", "dan"].iter().map(|id| HeadlessApp::start(bin, &desk, id, runtime.path())).collect();
    for i in 0..EMAILS {
        desk.deliver(&Customer::new(&format!("act{i}")), &format!("Order {i}"), i as u32 + 1).await;
    }
    // Each claims up to the default cap (3): twelve claims among four apps.
    let claimed = |apps: &[HeadlessApp]| apps.iter().map(|a| a.events_of("claimed").len()).sum::<usize>();
    eventually("twelve claims", Duration::from_secs(40), || async { Ok((claimed(&apps) >= 12).then_some(())) }).await.unwrap();

    // Carol's app dies without a word, while her events wait for the next batch (or are
    // on their way), and starts again on the same database.
    apps[2].crash();
    let mut printed: Vec<(String, String)> = apps.iter().flat_map(claims_printed).collect();
    let carol_again = HeadlessApp::start(bin, &desk, "carol", runtime.path());
    eventually("Carol's app is back", Duration::from_secs(20), || async { Ok(carol_again.events_of("runtime_started").pop()) })
        .await
        .unwrap();
    apps.push(carol_again);
    for (i, app) in apps.iter_mut().enumerate() {
        if i != 2 {
            assert!(app.stop(), "{} stops cleanly", app.id);
        }
    }
    // Claims printed after the first snapshot (by the restarted app, or late ones).
    for (i, app) in apps.iter().enumerate() {
        if i != 2 {
            for c in claims_printed(app) {
                if !printed.contains(&c) {
                    printed.push(c);
                }
            }
        }
    }

    let events = mailbox_events(&desk.user).await;
    let mut by_id: HashMap<&str, u32> = HashMap::new();
    for (id, _, _) in &events {
        *by_id.entry(id).or_default() += 1;
    }
    let doubled: Vec<_> = by_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "events appended twice: {doubled:?}");
    let in_mailbox: Vec<(String, String)> =
        events.iter().filter_map(|(_, advisor, claimed)| Some((advisor.clone(), claimed.clone()?))).collect();
    for c in &printed {
        assert!(in_mailbox.contains(c), "a claim {c:?} the app reported is not in the mailbox");
    }
    let owners = server_owners(&desk.user).await;
    for c in &in_mailbox {
        assert!(owners.contains(c), "a claim {c:?} in the mailbox is not an owner keyword on the server");
    }
    assert!(in_mailbox.len() >= 12 && events.len() > in_mailbox.len(), "claims and state changes: {}", events.len());
    println!("{} events in the mailbox, {} claims ({} reported)", events.len(), in_mailbox.len(), printed.len());

    // Two other advisors' apps, each with its own database, read the same history.
    let erin = activity_json(bin, &desk, "erin");
    let frank = activity_json(bin, &desk, "frank");
    assert_eq!(erin, frank, "identical daily figures");
    let mut claims_per_advisor: BTreeMap<String, u64> = BTreeMap::new();
    for row in erin.as_array().unwrap() {
        *claims_per_advisor.entry(row["advisor"].as_str().unwrap().to_owned()).or_default() += row["claimed"].as_u64().unwrap();
    }
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for (advisor, _) in &in_mailbox {
        *expected.entry(advisor.clone()).or_default() += 1;
    }
    assert_eq!(claims_per_advisor, expected);

    // The same figures as CSV for a spreadsheet: a row per JSON row, the same numbers.
    let out = Command::new(bin)
        .arg("--config")
        .arg(desk.config_for("erin", "erin-cli"))
        .args(["activity", "--csv"])
        .env("BLENDESK_IMAP_PASSWORD", TEST_PASSWORD)
        .output()
        .expect("blendesk activity --csv runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "day,advisor,claimed,replied,resolved,released,handed_back,transferred,calls,talk_seconds");
    let rows = erin.as_array().unwrap();
    assert_eq!(lines.len() - 1, rows.len());
    for (line, row) in lines[1..].iter().zip(rows) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!((cells[0], cells[1]), (row["day"].as_str().unwrap(), row["advisor"].as_str().unwrap()));
        assert_eq!(cells[2], row["claimed"].to_string());
    }
}
