//! What one pass of the claim loop reads, on a busy mirror (not a test).
//!
//! cargo run --release -p blendesk-engine --example claim_pass_bench [-- MESSAGES]
//!
//! Builds a mirror of MESSAGES (default 2,000) queue messages (one in twenty open, all
//! owned and acknowledged) and as many replies in Sent, then times what the claim loop
//! and the duties read on each pass: the queue heads (right after a flag changed, and
//! unchanged) and the conversations' SLA clocks. Eight apps on one machine each do this
//! several times a second while mail arrives.

use blendesk_domain::blending::Policy;
use blendesk_store::{NewMessage, Store};
use std::time::{Duration, Instant};

fn time<T>(what: &str, n: usize, mut f: impl FnMut() -> T) {
    let mut times = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        std::hint::black_box(f());
        times.push(t.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("{what:<36} p50 {:>8.3} ms  max {:>8.3} ms", ms(times[times.len() / 2]), ms(*times.last().unwrap()));
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let dir = std::env::temp_dir().join(format!("blendesk-claim-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::open(&dir.join("bench.db")).expect("open store");
    let inbox = store.ensure_folder("INBOX").unwrap().id;
    let sent = store.ensure_folder("Sent").unwrap().id;
    let body = "Hello, my parcel has not arrived and the tracking page shows nothing since Monday. ".repeat(20);
    let mut ins = Vec::new();
    let mut outs = Vec::new();
    for i in 0..n {
        let mut flags = vec![format!("$bd_owner_a{}", i % 8), "$bd_ack".to_string()];
        if i % 20 != 0 {
            flags.push("\\Answered".into());
        }
        ins.push(NewMessage {
            uid: i as u32 + 1,
            identity: format!("mid:c{i}@bench"),
            message_id: Some(format!("c{i}@bench")),
            references: vec![format!("c{}@bench", i / 2)],
            subject: format!("Order {i}"),
            from_addr: format!("customer{}@example.com", i / 3),
            body_text: body.clone(),
            internal_date: 1_700_000_000 + i as i64 * 10,
            flags,
            ack_decision: "acknowledge".into(),
            ..Default::default()
        });
        outs.push(NewMessage {
            uid: i as u32 + 1,
            identity: format!("mid:r{i}@bench"),
            message_id: Some(format!("r{i}@bench")),
            in_reply_to: Some(format!("c{i}@bench")),
            subject: format!("Re: Order {i}"),
            from_addr: "support@shop.test".into(),
            body_text: body.clone(),
            internal_date: 1_700_000_000 + i as i64 * 10 + 5,
            ..Default::default()
        });
    }
    store.insert_messages(inbox, &ins).expect("insert queue messages");
    store.insert_messages(sent, &outs).expect("insert replies");
    let queues = vec!["INBOX".to_string()];
    let both = vec!["INBOX".to_string(), "Sent".to_string()];
    let policy = Policy::default();
    println!("{n} queue messages (1 in 20 open), {n} in Sent");
    let mut k = 0u64;
    let mut touch = || {
        k += 1;
        store.update_flags(inbox, &[(1, vec![format!("$bd_tok{}", k % 12)], k)]).unwrap();
    };
    time("queue heads, after a flag change", 30, || {
        touch();
        store.queue_heads(&queues).unwrap()
    });
    time("queue heads, unchanged", 30, || store.queue_heads(&queues).unwrap());
    time("queue + Sent heads, after a change", 30, || {
        touch();
        store.queue_heads(&both).unwrap()
    });
    let heads = store.queue_heads(&queues).unwrap();
    // Conversation keys: computed once per heads list the store hands out (the engine
    // keeps them while the list is unchanged), not once per reader.
    time("conversation keys (per changed heads list)", 30, || blendesk_engine::conversation::keys_of(&heads, &queues));
    let keys = blendesk_engine::conversation::keys_of(&heads, &queues);
    time("conversation SLA clocks, given the keys", 30, || {
        blendesk_engine::sla::conversation_clocks(&heads, &keys, &queues, "shop.test", &policy, 1_700_100_000_000)
    });
    let _ = std::fs::remove_dir_all(&dir);
}
