//! The two coordination backends side by side, in one run: 20 apps (each its own advisor
//! and engine, with its real watch and claim loop) share one mailbox while mail arrives
//! at a steady rate —
//! - mailbox: the stack's Dovecot, claims a compare-and-swap on keywords (CONDSTORE);
//! - postgres: the stack's second Dovecot, which offers no CONDSTORE, with claims,
//!   presence and the policy in a team database on the stack's PostgreSQL.
//!
//! Printed per backend: claim latency (the claim loop's decision to the owner's answer,
//! won claims, as the app reports it) and arrival-to-owner (the email's APPEND
//! acknowledged by the server to its claim reported by the app that won it), p50 / p99 /
//! max. For 200 simulated apps against one PostgreSQL, `bench/backends.sh` runs the
//! coord-pg `claim_bench` after this one.
//!
//!   cargo run --release -p blendesk-engine --example backends_bench
//!
//! BENCH_EMAILS (default 300) arriving at BENCH_RATE a second (default 10).

use blendesk_domain::blending::{AdvisorEvent, ManualState, Policy};
use blendesk_engine::config::Config;
use blendesk_engine::events::Event;
use blendesk_engine::Engine;
use blendesk_mail::imap;
use blendesk_testkit::pg::PgTeam;
use blendesk_testkit::{login, stack, Desk, TEST_PASSWORD};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const APPS: usize = 20;

fn env_or(key: &str, default: u64) -> u64 {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn unix_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[derive(Clone, Copy, Debug)]
enum Backend {
    Mailbox,
    Postgres,
}

struct Figures {
    claim_ms: Vec<i64>,
    arrival_to_owner_ms: Vec<i64>,
    unowned: usize,
}

fn pct(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return -1;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn run(backend: Backend, emails: u64, rate: u64) -> Figures {
    let mut desk = Desk::new("bbench");
    let ids: Vec<String> = (0..APPS).map(|i| format!("a{i:02}")).collect();
    if let Backend::Postgres = backend {
        std::env::set_var("BLENDESK_PG_PASSWORD", TEST_PASSWORD);
        let port: u16 = blendesk_testkit::nocondstore_port();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let team = PgTeam::new(&refs, &["alice"]).await;
        desk.coordinated_by(&team, port);
    }
    let engine = |id: &str| {
        let config = Config::load(&desk.config_for(id, id)).unwrap();
        Engine::with_passwords(config, TEST_PASSWORD.into(), None).unwrap()
    };
    let policy = Policy::parse(br#"{"version": 1, "default_cap": 50, "wrap_up_seconds": 0, "idle_to_away_seconds": 0}"#).unwrap();
    engine("alice").publish_policy(&policy).await.unwrap();

    let claims: Arc<Mutex<HashMap<String, (i64, i64)>>> = Arc::default();
    let apps: Vec<Arc<Engine>> = ids.iter().map(|id| engine(id)).collect();
    let mut tasks = Vec::new();
    for app in &apps {
        app.presence_event(AdvisorEvent::Set(ManualState::Available));
        let mut events = app.subscribe();
        let sink = claims.clone();
        tasks.push(tokio::spawn(async move {
            while let Ok(e) = events.recv().await {
                if let Event::Claimed { message_id: Some(mid), at_ms, .. } = e {
                    sink.lock().unwrap().entry(mid.trim_matches(['<', '>']).to_owned()).or_insert((at_ms, unix_ms()));
                }
            }
        }));
        let (w, c) = (app.clone(), app.clone());
        tasks.push(tokio::spawn(async move { w.watch().await }));
        tasks.push(tokio::spawn(async move {
            if let Err(e) = c.run_claims().await {
                eprintln!("claim loop: {e}");
            }
        }));
    }
    // Let every app mirror the (empty) queue and publish its presence first.
    tokio::time::sleep(Duration::from_secs(6)).await;

    let mut s = login(&desk.user).await.unwrap();
    let mut arrived: HashMap<String, i64> = HashMap::new();
    let period = Duration::from_millis(1000 / rate.max(1));
    let start = Instant::now();
    for i in 0..emails {
        let mid = format!("<bb{i}.{:x}@example.com>", rand::random::<u32>());
        let raw = format!(
            "From: <c{i}@example.com>\r\nTo: {}\r\nSubject: order {i}\r\nMessage-ID: {mid}\r\n\r\nWhere is order {i}?\r\n",
            desk.address
        );
        imap::append(&mut s, "INBOX", "()", raw.as_bytes()).await.unwrap();
        arrived.insert(mid.trim_matches(['<', '>']).to_owned(), unix_ms());
        let next = start + period * (i as u32 + 1);
        tokio::time::sleep_until(next.into()).await;
    }
    imap::logout(s).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while claims.lock().unwrap().len() < emails as usize && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for app in &apps {
        app.shutdown();
    }
    for t in tasks {
        t.abort();
    }
    let claims = claims.lock().unwrap();
    let mut claim_ms: Vec<i64> = claims.values().map(|(decided, reported)| reported - decided).collect();
    let mut arrival_to_owner_ms: Vec<i64> =
        arrived.iter().filter_map(|(mid, at)| claims.get(mid).map(|(_, reported)| reported - at)).collect();
    claim_ms.sort_unstable();
    arrival_to_owner_ms.sort_unstable();
    Figures { unowned: arrived.len() - arrival_to_owner_ms.len(), claim_ms, arrival_to_owner_ms }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let emails = env_or("BENCH_EMAILS", 300);
    let rate = env_or("BENCH_RATE", 10);
    let _ = stack();
    println!("{APPS} apps, {emails} emails arriving at {rate}/s, one email per customer; times in ms");
    println!("| backend | claim p50 | claim p99 | arrival→owner p50 | p99 | max | unowned after 60 s |");
    println!("|---|---|---|---|---|---|---|");
    for backend in [Backend::Mailbox, Backend::Postgres] {
        let f = run(backend, emails, rate).await;
        println!(
            "| {backend:?} | {} | {} | {} | {} | {} | {} |",
            pct(&f.claim_ms, 0.5),
            pct(&f.claim_ms, 0.99),
            pct(&f.arrival_to_owner_ms, 0.5),
            pct(&f.arrival_to_owner_ms, 0.99),
            f.arrival_to_owner_ms.last().copied().unwrap_or(-1),
            f.unowned
        );
    }
}
