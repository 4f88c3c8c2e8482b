//! The labelled corpus: real-world-shaped inbound emails under `autoreply_corpus/`, each
//! named `ack_…` (we must acknowledge it) or `skip_…` (we must not). Every decision must
//! be right; the table shows each decision and its reason.

use std::fs;
use std::path::Path;

use blendesk_domain::automation::{decide, is_automatic_message_id, Decision, InboundMail, OurMailbox};

/// A tiny RFC 5322 header parser: the header block ends at the first empty line;
/// continuation lines (starting with space or tab) are unfolded into the previous field.
fn parse_headers(raw: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(raw);
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    headers
}

fn our_mailbox() -> OurMailbox {
    OurMailbox { addresses: vec!["support@shop.example".into(), "help@shop.example".into()], loop_marker: "support@shop.example".into() }
}

#[test]
fn the_labelled_corpus_is_decided_entirely_right() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/autoreply_corpus");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("corpus directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();

    let us = our_mailbox();
    let mut wrong = Vec::new();
    let (mut acks, mut skips) = (0, 0);
    println!("{:<48} {:<6} {:<6} reason", "file", "label", "got");
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let expect_ack = if name.starts_with("ack_") {
            true
        } else if name.starts_with("skip_") {
            false
        } else {
            panic!("{name}: corpus files must start with ack_ or skip_");
        };
        let raw = fs::read(path).expect("read corpus file");
        let mail = InboundMail::from_headers(parse_headers(&raw));
        let decision = decide(&mail, &us, &is_automatic_message_id);
        let (got_ack, reason) = match &decision {
            Decision::Acknowledge => (true, String::new()),
            Decision::Skip(r) => (false, r.to_string()),
        };
        if expect_ack {
            acks += 1;
        } else {
            skips += 1;
        }
        let label = if expect_ack { "ack" } else { "skip" };
        let got = if got_ack { "ack" } else { "skip" };
        let mark = if got_ack == expect_ack { "" } else { "  <-- WRONG" };
        println!("{name:<48} {label:<6} {got:<6} {reason}{mark}");
        if got_ack != expect_ack {
            wrong.push(name);
        }
    }
    let total = files.len();
    println!("{} of {total} right ({acks} ack, {skips} skip)", total - wrong.len());
    assert!(total >= 40, "the corpus needs at least 40 emails, has {total}");
    assert!(acks >= 10 && skips >= 30, "both labels need real coverage");
    assert!(wrong.is_empty(), "wrong decisions: {wrong:?}");
}

#[test]
fn the_parser_unfolds_continuation_lines() {
    let h = parse_headers(b"Subject: a\r\n\tb\r\nList-Id: x\r\n\r\nBody: no\r\n");
    assert_eq!(h, vec![("Subject".into(), "a b".into()), ("List-Id".into(), "x".into())]);
}
