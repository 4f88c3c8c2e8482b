//! A year of the team's history (not a test; figures printed, nothing asserted):
//! 50 advisors, 500 emails and 30 calls per advisor per working day.
//!
//! cargo run --release -p blendesk-store --example activity_bench
//!
//! Measured: how fast events are taken in (one full-size week: every claim, reply,
//! resolve, call and state change, through `add_team_activity`, which also keeps the
//! daily roll-ups), then what the analytics views read: the month view (30 days × 50
//! advisors of roll-ups) and a year's trend (365 days summed per day), p50/p99 over
//! repeated runs. The views read roll-up rows, whose number does not depend on how many
//! events a day had, so the other 51 weeks are filled with a few events per advisor-day.
//! The report path (every resolution time, the calls and links) from the event log's
//! indexes against a scan of the whole log. Also: the size of the year's events in the mailbox (JSON-lines batches), from the
//! bytes of a full-size day.

use blendesk_domain::activity::{encode_batch, Activity, ActivityKind, Disposition};
use blendesk_store::Store;
use std::time::{Duration, Instant};

const ADVISORS: usize = 50;
const DAYS: i64 = 365;
const EMAILS: usize = 500;
const CALLS: usize = 30;
const DAY_MS: i64 = 86_400_000;
/// 2026-01-01T00:00Z.
const YEAR_START: i64 = 1_767_225_600_000;

fn advisor(a: usize) -> String {
    format!("adv{a:02}")
}

/// One advisor's full working day: each email claimed, replied and (one in five) resolved,
/// the calls with their state changes.
fn full_day(a: usize, day: i64, n: &mut u64) -> Vec<Activity> {
    let mut out = Vec::with_capacity(EMAILS * 2 + EMAILS / 5 + CALLS * 3);
    let start = YEAR_START + day * DAY_MS + 9 * 3_600_000;
    let mut push = |at_ms: i64, kind: ActivityKind| {
        *n += 1;
        out.push(Activity { id: format!("{}-bench-{n}", advisor(a)), advisor: advisor(a), at_ms, kind });
    };
    for e in 0..EMAILS {
        let at = start + (e as i64) * 60_000;
        let conversation = format!("customer{e}@example.com");
        let message_id = Some(format!("<q{day}.{a}.{e}@example.com>"));
        push(at, ActivityKind::Claimed { message_id: message_id.clone(), conversation: conversation.clone(), queue: "Support".into() });
        push(at + 30_000, ActivityKind::Replied { message_id: message_id.clone(), conversation, handle_ms: Some(150_000), assisted: None });
        if e % 5 == 0 {
            push(at + 40_000, ActivityKind::Resolved { message_id });
        }
    }
    for c in 0..CALLS {
        let at = start + (c as i64) * 900_000;
        push(at, ActivityKind::State { state: "on_call".into() });
        push(
            at + 240_000,
            ActivityKind::Call {
                call_id: Some(format!("c{day}.{a}.{c}")),
                number: Some(format!("+86138{:08}", c * 7 + a)),
                direction: Some("inbound".into()),
                started_ms: at,
                talk_ms: 240_000,
                hold_ms: None,
                disposition: Some(if c % 3 == 0 { Disposition::FollowUp } else { Disposition::Resolved }),
            },
        );
        push(at + 255_000, ActivityKind::State { state: "available".into() });
    }
    out
}

fn percentiles(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(v[v.len() / 2]), ms(v[(v.len() * 99 / 100).min(v.len() - 1)]))
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("bench.db")).expect("store");
    let mut n = 0u64;

    // One full-size week (5 working days), batch by batch as the apps read them.
    let started = Instant::now();
    let mut events = 0usize;
    let mut day_bytes = 0usize;
    for day in 0..7 {
        if day % 7 >= 5 {
            continue;
        }
        for a in 0..ADVISORS {
            let all = full_day(a, day, &mut n);
            if day == 0 && a == 0 {
                day_bytes = encode_batch(&all).len();
            }
            for batch in all.chunks(500) {
                events += store.add_team_activity(batch).expect("add");
            }
        }
    }
    let ingest = started.elapsed();
    // The rest of the year: a few events per advisor per working day.
    for day in 7..DAYS {
        if day % 7 >= 5 {
            continue;
        }
        let mut batch = Vec::new();
        for a in 0..ADVISORS {
            n += 1;
            let at = YEAR_START + day * DAY_MS + 10 * 3_600_000;
            let kind = ActivityKind::Claimed { message_id: None, conversation: "c".into(), queue: "Support".into() };
            batch.push(Activity { id: format!("{}-fill-{n}", advisor(a)), advisor: advisor(a), at_ms: at, kind });
        }
        store.add_team_activity(&batch).expect("fill");
    }

    let month = |from: &str, to: &str| store.activity_days(from, to).expect("month");
    let mut month_times = Vec::new();
    let mut rows = 0;
    for _ in 0..200 {
        let t = Instant::now();
        rows = month("2026-03-01", "2026-03-31").len();
        month_times.push(t.elapsed());
    }
    let mut year_times = Vec::new();
    let mut year_days = 0;
    for _ in 0..50 {
        let t = Instant::now();
        let all = month("2026-01-01", "2026-12-31");
        // The trend: per day, the team's totals.
        let mut per_day: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
        for (day, _, f) in &all {
            let e = per_day.entry(day.clone()).or_default();
            e.0 += u64::from(f.replied);
            e.1 += u64::from(f.calls);
        }
        year_days = per_day.len();
        year_times.push(t.elapsed());
    }
    // The report path: every resolution time and the calls and links, as `blendesk
    // report` and the analytics poll read them — from the indexes, and (the way before
    // them) by parsing the whole log.
    let mut indexed = Vec::new();
    let mut resolutions = 0;
    let mut contacts = 0;
    for _ in 0..20 {
        let t = Instant::now();
        resolutions = store.resolutions_since(i64::MIN).expect("resolutions").values().map(Vec::len).sum::<usize>();
        contacts = store.team_activity_of(&["call", "linked"], 0, i64::MAX).expect("calls").len();
        indexed.push(t.elapsed());
    }
    let mut scanned = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let mut found = 0;
        for json in store.team_activity(i64::MIN, i64::MAX).expect("log") {
            if let Ok(a) = serde_json::from_str::<Activity>(&json) {
                found += usize::from(matches!(a.kind, ActivityKind::Resolved { message_id: Some(_) } | ActivityKind::Call { .. }));
            }
        }
        assert_eq!(found, resolutions + contacts, "the scan finds what the indexes hold");
        scanned.push(t.elapsed());
    }
    let (i50, i99) = percentiles(indexed);
    let (s50, s99) = percentiles(scanned);
    let (m50, m99) = percentiles(month_times);
    let (y50, y99) = percentiles(year_times);
    let working_days = (0..DAYS).filter(|d| d % 7 < 5).count();
    let year_events = (events / (5 * ADVISORS)) * ADVISORS * working_days;
    let year_bytes = day_bytes as f64 * (ADVISORS * working_days) as f64;
    println!(
        "ingest: {events} events (one full-size week, 50 advisors) in {:.1} s = {:.0} events/s",
        ingest.as_secs_f64(),
        events as f64 / ingest.as_secs_f64()
    );
    println!("month view ({rows} roll-up rows): p50 {m50:.2} ms, p99 {m99:.2} ms (target p99 < 300 ms)");
    println!("year trend ({year_days} days summed from roll-ups): p50 {y50:.2} ms, p99 {y99:.2} ms (target p99 < 1 s)");
    println!(
        "report path ({resolutions} resolutions, {contacts} calls and links of {n} events): indexed p50 {i50:.1} ms, p99 {i99:.1} ms; whole-log scan p50 {s50:.0} ms, p99 {s99:.0} ms"
    );
    println!(
        "the year in the mailbox: {year_events} events, {:.0} bytes per event, {:.1} GB of JSON-lines batches ({} advisor-days × {:.0} KB)",
        day_bytes as f64 / (events / (5 * ADVISORS)) as f64,
        year_bytes / 1e9,
        ADVISORS * working_days,
        day_bytes as f64 / 1024.0
    );
}
