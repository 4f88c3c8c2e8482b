//! Customer-history and knowledge query latency on a large mirror (not a test).
//!
//! cargo run --release -p blendesk-store --example history_bench [-- MESSAGES ARTICLES]
//!
//! Builds a mirror of 100,000 messages (English and Chinese, ~5,000 customers, one in
//! ten with a second address seen through Reply-To or linked by hand, the team's replies
//! in Sent) and 5,000 knowledge articles with usage events, in a WAL database file, then
//! times what the right pane runs for an open email: the history (aliases resolved, then
//! up to 200 messages) and the ranked knowledge snippets (the email's terms, BM25, usage
//! re-rank). Prints p50/p99/max and the history query plan.

use blendesk_domain::history::alias_closure;
use blendesk_domain::knowledge::{any_terms_query, pick_terms, search_terms, snippet_score};
use blendesk_store::{DocVersion, NewMessage, Store, KIND_ARTICLE, KIND_USAGE};
use std::time::{Duration, Instant};

const KB: &str = "Blendesk/Knowledge";

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const EN: &[&str] = &[
    "refund",
    "parcel",
    "delivery",
    "invoice",
    "order",
    "return",
    "exchange",
    "size",
    "colour",
    "damaged",
    "missing",
    "tracking",
    "payment",
    "card",
    "voucher",
    "discount",
    "account",
    "password",
    "address",
    "warranty",
    "repair",
    "battery",
    "charger",
    "screen",
    "shoes",
    "jacket",
    "subscription",
    "cancel",
    "late",
    "courier",
    "label",
    "receipt",
];
const ZH: &[&str] = &[
    "退款",
    "快递",
    "发票",
    "订单",
    "退货",
    "换货",
    "尺码",
    "颜色",
    "破损",
    "丢失",
    "物流",
    "付款",
    "银行卡",
    "优惠券",
    "折扣",
    "账户",
    "密码",
    "地址",
    "保修",
    "维修",
    "电池",
    "充电器",
    "屏幕",
    "鞋子",
    "外套",
    "订阅",
    "取消",
    "延迟",
];

/// A vocabulary: the real words first (the most frequent), then made-up words of
/// syllables (English) or pairs of ideographs (Chinese), so that term frequencies fall off
/// the way they do in real text instead of every word being in every article.
struct Vocab {
    en: Vec<String>,
    zh: Vec<String>,
}

impl Vocab {
    fn new() -> Self {
        const SYL: &[&str] = &[
            "ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "du", "gan", "mer", "tol", "bri", "sto", "pla", "cor", "fen", "wid", "zu",
        ];
        let mut en: Vec<String> = EN.iter().map(|w| w.to_string()).collect();
        'outer: for a in SYL {
            for b in SYL {
                for c in SYL {
                    en.push(format!("{a}{b}{c}"));
                    if en.len() >= 6000 {
                        break 'outer;
                    }
                }
            }
        }
        let mut zh: Vec<String> = ZH.iter().map(|w| w.to_string()).collect();
        for k in 0..4000u32 {
            let c1 = char::from_u32(0x4E00 + (k * 7919) % 6000).unwrap_or('中');
            let c2 = char::from_u32(0x4E00 + (k * 104_729 + 13) % 6000).unwrap_or('文');
            zh.push(format!("{c1}{c2}"));
        }
        Vocab { en, zh }
    }

    /// Log-uniform rank: word r is picked with probability about 1/r (Zipf).
    fn word<'a>(&'a self, rng: &mut Rng, zh: bool) -> &'a str {
        let v = if zh { &self.zh } else { &self.en };
        let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        let r = ((v.len() as f64).ln() * u).exp() as usize;
        &v[r.saturating_sub(1).min(v.len() - 1)]
    }
}

fn sentence(rng: &mut Rng, vocab: &Vocab, zh: bool, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if zh {
            s.push_str(vocab.word(rng, true));
            if i % 3 == 2 {
                s.push('，');
            }
        } else {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(vocab.word(rng, false));
            if i % 4 == 3 {
                s.push_str(" the");
            }
        }
    }
    s
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1).min(sorted.len() - 1)]
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what:<24} n={:<5} p50 {:>7.3} ms   p99 {:>7.3} ms   max {:>7.3} ms",
        times.len(),
        ms(percentile(&times, 0.50)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().unwrap())
    );
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n_messages = args.first().copied().unwrap_or(100_000);
    let n_articles = args.get(1).copied().unwrap_or(5_000);
    let n_customers = (n_messages / 20).max(10);
    let dir = std::env::temp_dir().join(format!("blendesk-history-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::open(&dir.join("bench.db")).expect("open store");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let vocab = Vocab::new();

    let customer = |i: usize| format!("customer{i}@example.com");
    let alias = |i: usize| format!("c{i}.work@example.org");
    let has_alias = |i: usize| i.is_multiple_of(10);
    let t0 = Instant::now();
    let inbox = store.ensure_folder("INBOX").unwrap().id;
    let sent = store.ensure_folder("Sent").unwrap().id;
    let (mut batch_in, mut batch_sent) = (Vec::new(), Vec::new());
    let mut samples: Vec<(usize, String, String)> = Vec::new();
    for n in 0..n_messages {
        let c = rng.below(n_customers);
        let zh = c.is_multiple_of(3);
        let outgoing = n % 5 >= 3; // 40 % are our replies
        let subject = sentence(&mut rng, &vocab, zh, 3);
        let body = sentence(&mut rng, &vocab, zh, 40);
        let date = 1_700_000_000 + n as i64 * 30;
        let mut m = NewMessage {
            identity: format!("mid:m{n}@bench"),
            message_id: Some(format!("m{n}@bench")),
            subject: subject.clone(),
            body_text: body.clone(),
            internal_date: date,
            flags: if n % 7 == 0 { vec![] } else { vec!["\\Answered".into()] },
            ..Default::default()
        };
        if outgoing {
            m.uid = batch_sent.len() as u32 + 1 + (n as u32);
            m.from_addr = "support@shop.test".into();
            m.to = vec![customer(c)];
            m.in_reply_to = Some(format!("m{}@bench", n.saturating_sub(1)));
            batch_sent.push(m);
        } else {
            m.uid = n as u32 + 1;
            let from_alias = has_alias(c) && n % 2 == 0;
            m.from_addr = if from_alias { alias(c) } else { customer(c) };
            m.to = vec!["support@shop.test".into()];
            if from_alias && c.is_multiple_of(20) {
                m.reply_to = customer(c);
            }
            if samples.len() < 4000 && n % 13 == 0 {
                samples.push((c, subject, body));
            }
            batch_in.push(m);
        }
        if batch_in.len() >= 2000 {
            store.insert_messages(inbox, &batch_in).unwrap();
            batch_in.clear();
        }
        if batch_sent.len() >= 2000 {
            store.insert_messages(sent, &batch_sent).unwrap();
            batch_sent.clear();
        }
    }
    store.insert_messages(inbox, &batch_in).unwrap();
    store.insert_messages(sent, &batch_sent).unwrap();
    // Customers with a second address not announced by Reply-To: linked by hand.
    for c in (0..n_customers).filter(|c| has_alias(*c) && c % 20 != 0) {
        store.link_customers(&customer(c), &alias(c), 0).unwrap();
    }
    let built_messages = t0.elapsed();

    let t1 = Instant::now();
    let mut docs = Vec::new();
    let mut uid = 0u32;
    for a in 0..n_articles {
        uid += 1;
        let zh = a % 3 == 0;
        docs.push(DocVersion {
            uid,
            kind: KIND_ARTICLE.into(),
            doc_id: format!("a{a}"),
            title: sentence(&mut rng, &vocab, zh, 3),
            tags: vec![vocab.word(&mut rng, zh).to_owned()],
            body: format!(
                "# {}\n\n{}\n\n{}",
                sentence(&mut rng, &vocab, zh, 4),
                sentence(&mut rng, &vocab, zh, 60),
                sentence(&mut rng, &vocab, zh, 60)
            ),
            internal_date: uid as i64,
            ..Default::default()
        });
        // Two usage events per article on average.
        for _ in 0..rng.below(5) {
            uid += 1;
            docs.push(DocVersion { uid, kind: KIND_USAGE.into(), doc_id: format!("a{a}"), ..Default::default() });
        }
        if docs.len() >= 1000 {
            store.apply_doc_changes(KB, true, &docs, &[], &[]).unwrap();
            docs.clear();
        }
    }
    store.apply_doc_changes(KB, true, &docs, &[], &[]).unwrap();
    let built_articles = t1.elapsed();
    println!(
        "mirror: {n_messages} messages, {n_customers} customers (built in {:.1} s); {n_articles} articles, {uid} knowledge messages (built in {:.1} s)",
        built_messages.as_secs_f64(),
        built_articles.as_secs_f64()
    );
    println!("history plan: {}", store.history_plan(2).unwrap().join(" | "));

    // Warm the page cache as an app that has been running would be.
    for (c, _, _) in samples.iter().take(50) {
        store.history_rows(&[customer(*c)], 200).unwrap();
    }
    let mut history = Vec::new();
    let mut sizes = 0usize;
    for (c, _, _) in samples.iter().take(2000) {
        let start = Instant::now();
        let addresses = alias_closure(
            &customer(*c),
            |a| {
                let mut v = store.customer_links(a).unwrap();
                v.extend(store.reply_to_links(a).unwrap());
                v
            },
            20,
        );
        let rows = store.history_rows(&addresses, 200).unwrap();
        history.push(start.elapsed());
        sizes += rows.len();
    }
    let mut knowledge = Vec::new();
    let mut vocab_times = Vec::new();
    let mut hits = 0usize;
    for (_, subject, body) in samples.iter().take(2000) {
        let start = Instant::now();
        // What the engine's knowledge_for_message does: the email's terms, the rarest
        // of them searched (pick_terms), BM25, usage re-rank, top 5.
        let terms = search_terms(subject, body, 16);
        let (n_docs, dfs) = store.kb_term_docs(&terms).unwrap();
        vocab_times.push(start.elapsed());
        let picked = pick_terms(&terms.iter().cloned().zip(dfs).collect::<Vec<_>>(), n_docs, 10);
        if let Some(expr) = any_terms_query(&picked) {
            let mut found = store.kb_search(KB, &expr, 20).unwrap();
            found.sort_by(|a, b| snippet_score(b.bm25, b.article.uses).total_cmp(&snippet_score(a.bm25, a.article.uses)));
            found.truncate(5);
            hits += found.len();
        }
        knowledge.push(start.elapsed());
    }
    report("customer history", history);
    println!("{:<24} {:.1} messages per customer on average", "", sizes as f64 / 2000f64.min(samples.len() as f64));
    report("knowledge snippets", knowledge);
    report("  of which term stats", vocab_times);
    println!("{:<24} {:.1} snippets per email on average", "", hits as f64 / 2000f64.min(samples.len() as f64));
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
