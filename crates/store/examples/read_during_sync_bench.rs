//! A window read's latency while a sync writes 10,000 messages (not a test).
//!
//! cargo run --release -p blendesk-store --example read_during_sync_bench [-- MESSAGES]
//!
//! A writer thread mirrors MESSAGES new emails (default 10,000) in transactions of 500,
//! as the engine's sync stores a fetched batch (`sync.rs` BATCH_MESSAGES), into a WAL
//! database file that already holds 2,000. Meanwhile a reader thread does what the
//! window does on every refresh: the workspace's open-email list, one message body and a
//! search. Prints p50/p99/max of one such read, first with the store's read-only
//! connections (as the app runs), then with one connection for everything (as before
//! they existed). Target: p99 < 50 ms.

use blendesk_store::{NewMessage, Store};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BATCH: usize = 500;

fn mail(uid: u32) -> NewMessage {
    let body = format!(
        "Hello, my order {uid} has not arrived yet. 您好，我的订单{uid}还没有到，请帮我查一下物流。 {}",
        "The parcel was due last week and the tracking page has not moved since Monday. ".repeat(20)
    );
    NewMessage {
        uid,
        identity: format!("mid:{uid}@bench"),
        message_id: Some(format!("{uid}@bench")),
        subject: format!("Order {uid} 订单问题"),
        from_addr: format!("customer{}@example.com", uid % 3000),
        from_name: "Li Wei 李伟".into(),
        body_text: body,
        internal_date: uid as i64 * 1000,
        size: 4000,
        ..Default::default()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let total: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    run("readers beside the writer", total, Store::open);
    run("one connection (before)", total, Store::open_without_readers);
}

fn run(label: &str, total: u32, open: fn(&std::path::Path) -> blendesk_store::Result<Store>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(open(&dir.path().join("bench.db")).expect("store"));
    let folder = store.ensure_folder("INBOX").expect("folder").id;
    let existing: Vec<NewMessage> = (1..=2000).map(mail).collect();
    store.insert_messages(folder, &existing).expect("seed");
    let some_id = store.insert_messages(folder, &[mail(2001)]).expect("seed")[0].1;
    let folders = vec!["INBOX".to_owned()];
    // BENCH_SEARCH=parcel matches every message (BM25 over all of them: the worst case).
    let search = std::env::var("BENCH_SEARCH").unwrap_or_else(|_| "1234".into());

    let writing = Arc::new(AtomicBool::new(true));
    let reader = std::thread::spawn({
        let (store, writing) = (store.clone(), writing.clone());
        move || {
            let mut times = Vec::new();
            while writing.load(Ordering::SeqCst) {
                let t = Instant::now();
                let list = store.open_customer_messages(&folders, "shop.test", 200).expect("list");
                let body = store.message(some_id).expect("message");
                let hits = store.search(&search, 20).expect("search");
                times.push(t.elapsed());
                assert!(!list.is_empty() && body.is_some() && !hits.is_empty());
                std::thread::sleep(Duration::from_millis(5));
            }
            times
        }
    });

    let start = Instant::now();
    let mut uid = 2002;
    let end = uid + total;
    while uid < end {
        let batch: Vec<NewMessage> = (uid..(uid + BATCH as u32).min(end)).map(mail).collect();
        store.insert_messages(folder, &batch).expect("insert");
        uid += batch.len() as u32;
    }
    let sync = start.elapsed();
    writing.store(false, Ordering::SeqCst);
    let mut times = reader.join().expect("reader");
    times.sort();
    println!("{label}: sync of {total} messages in batches of {BATCH}: {sync:?}");
    println!(
        "{label}: window read (open-email list + one body + search) during it, {} reads: p50 {:?}, p99 {:?}, max {:?}",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().unwrap()
    );
}
