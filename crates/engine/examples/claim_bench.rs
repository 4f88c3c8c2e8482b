//! Claim benchmark on the local Dovecot (not a test; prints figures):
//! 1. claim latency p50/p99 with 20 advisors racing over the same emails;
//! 2. the fairness effect: emails arriving one at a time to 20 advisors, with and without
//!    the load-proportional wait, and the spread of load that results.
//!
//!   cargo run --release -p blendesk-engine --example claim_bench

use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::claim::{fairness_wait, owner_keyword, ClaimOutcome, OWNER_PREFIX};
use blendesk_engine::claims::take_keyword;
use blendesk_mail::imap;
use blendesk_testkit::{login, unique_user};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, Mutex};

const ADVISORS: usize = 20;

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn seed(user: &str, n: u32) -> u32 {
    let mut s = login(user).await.unwrap();
    for i in 0..n {
        let raw = format!("From: c{i}@example.com\r\nSubject: bench {i}\r\nMessage-ID: <bench{i}.{user}@example.com>\r\n\r\nbody\r\n");
        imap::append(&mut s, "INBOX", "()", raw.as_bytes()).await.unwrap();
    }
    let v = imap::select(&mut s, "INBOX", true).await.unwrap().uidvalidity;
    imap::logout(s).await;
    v
}

async fn latency() {
    let user = unique_user("clat");
    let emails = 500u32;
    let uidvalidity = seed(&user, emails).await;
    let mut tasks = Vec::new();
    for a in 0..ADVISORS {
        let user = user.clone();
        tasks.push(tokio::spawn(async move {
            let kw = owner_keyword(&AdvisorId::parse(&format!("lat{a:02}")).unwrap());
            let mut s = login(&user).await.unwrap();
            let mut times = Vec::new();
            for k in 0..emails {
                let uid = (k + a as u32 * 25) % emails + 1;
                let t = Instant::now();
                let o = take_keyword(&mut s, "INBOX", uidvalidity, uid, &kw, OWNER_PREFIX).await.unwrap();
                times.push((t.elapsed(), o == ClaimOutcome::Won));
            }
            imap::logout(s).await;
            times
        }));
    }
    let mut all = Vec::new();
    let mut wins = Vec::new();
    for t in tasks {
        for (d, won) in t.await.unwrap() {
            all.push(d);
            if won {
                wins.push(d);
            }
        }
    }
    all.sort();
    wins.sort();
    println!("claim latency, {ADVISORS} advisors racing over {emails} emails ({} attempts):", all.len());
    println!("  every attempt   p50 {:>7.2} ms   p99 {:>7.2} ms", pct(&all, 0.5).as_secs_f64() * 1e3, pct(&all, 0.99).as_secs_f64() * 1e3);
    println!(
        "  winning claims  p50 {:>7.2} ms   p99 {:>7.2} ms   ({} wins)",
        pct(&wins, 0.5).as_secs_f64() * 1e3,
        pct(&wins, 0.99).as_secs_f64() * 1e3,
        wins.len()
    );
}

/// Emails arrive one at a time; every advisor races for each; returns the final loads.
async fn fairness(with_wait: bool, emails: u32) -> Vec<u32> {
    let user = unique_user(if with_wait { "fairw" } else { "fairn" });
    let uidvalidity = seed(&user, emails).await;
    let (tx, _) = broadcast::channel::<u32>(1024);
    let done = Arc::new(Mutex::new(0u32));
    let mut tasks = Vec::new();
    let (report_tx, mut report_rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
    for a in 0..ADVISORS {
        let user = user.clone();
        let mut rx = tx.subscribe();
        let report = report_tx.clone();
        tasks.push(tokio::spawn(async move {
            let kw = owner_keyword(&AdvisorId::parse(&format!("fair{a:02}")).unwrap());
            let mut s = login(&user).await.unwrap();
            let mut load = 0u32;
            while let Ok(uid) = rx.recv().await {
                if uid == 0 {
                    break;
                }
                if with_wait {
                    tokio::time::sleep(fairness_wait(load, Duration::from_millis(20), rand::random::<f64>())).await;
                }
                if take_keyword(&mut s, "INBOX", uidvalidity, uid, &kw, OWNER_PREFIX).await.unwrap() == ClaimOutcome::Won {
                    load += 1;
                }
                let _ = report.send(uid);
            }
            imap::logout(s).await;
            load
        }));
    }
    let _ = done;
    // Give every session time to log in before the first email "arrives".
    tokio::time::sleep(Duration::from_secs(1)).await;
    for uid in 1..=emails {
        tx.send(uid).unwrap();
        // Next email only when every advisor has finished racing for this one.
        for _ in 0..ADVISORS {
            report_rx.recv().await.unwrap();
        }
    }
    tx.send(0).unwrap();
    let mut loads = Vec::new();
    for t in tasks {
        loads.push(t.await.unwrap());
    }
    loads.sort();
    loads
}

fn spread(loads: &[u32]) -> (u32, u32, f64) {
    let mean = loads.iter().sum::<u32>() as f64 / loads.len() as f64;
    let var = loads.iter().map(|l| (*l as f64 - mean).powi(2)).sum::<f64>() / loads.len() as f64;
    (loads[0], loads[loads.len() - 1], var.sqrt())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    blendesk_testkit::stack();
    latency().await;
    let emails = 200;
    println!("fairness: {emails} emails arriving one at a time to {ADVISORS} advisors (no cap):");
    for with_wait in [false, true] {
        let loads = fairness(with_wait, emails).await;
        let (min, max, sd) = spread(&loads);
        println!(
            "  {:<28} load min {min:>3}  max {max:>3}  spread {:>3}  std-dev {sd:>5.2}",
            if with_wait { "with load-proportional wait" } else { "without wait" },
            max - min
        );
    }
}
