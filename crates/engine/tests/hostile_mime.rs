//! Customer email is hostile until proven otherwise. mail-parser's own .eml corpus and
//! synthetic bombs go through the real server and a full sync: no panic, no hang, every
//! message mirrored (parsed, headers-only, or kept raw), sizes bounded.

use blendesk_mail::imap;
use blendesk_store::BodyState;
use blendesk_testkit::{login, Desk};
use std::path::PathBuf;
use std::time::Duration;

/// The .eml corpus shipped in mail-parser's crate source (downloaded by cargo with the
/// dependency). Missing corpus is a failure, never a skip.
fn corpus_dir() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cargo"));
    let src = cargo_home.join("registry/src");
    let mut found = Vec::new();
    for index in std::fs::read_dir(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display())) {
        for krate in std::fs::read_dir(index.unwrap().path()).unwrap() {
            let p = krate.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("mail-parser-0.11") && p.join("resources/eml").is_dir() {
                found.push(p.join("resources/eml"));
            }
        }
    }
    found.sort();
    found.pop().unwrap_or_else(|| panic!("mail-parser 0.11 sources with resources/eml not found under {}", src.display()))
}

fn eml_files(dir: &PathBuf, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            eml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "eml") {
            out.push(p);
        }
    }
}

fn bombs() -> Vec<(&'static str, Vec<u8>)> {
    let mut v: Vec<(&'static str, Vec<u8>)> = Vec::new();
    // 300 levels of nested multiparts.
    let mut deep = String::from("From: a@example.com\r\nSubject: deep\r\nMessage-ID: <deep@x>\r\n");
    for i in 0..300 {
        deep.push_str(&format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n"));
    }
    deep.push_str("Content-Type: text/plain\r\n\r\nbottom\r\n");
    v.push(("deep nesting", deep.into_bytes()));
    // 100,000 parts.
    let mut many = String::from(
        "From: a@example.com\r\nSubject: many parts\r\nMessage-ID: <many@x>\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n",
    );
    for _ in 0..100_000 {
        many.push_str("--z\r\nContent-Type: text/plain\r\n\r\nx\r\n");
    }
    many.push_str("--z--\r\n");
    v.push(("100,000 parts", many.into_bytes()));
    // 50,000 headers.
    let mut headers = String::from("From: a@example.com\r\nMessage-ID: <headers@x>\r\n");
    for i in 0..50_000 {
        headers.push_str(&format!("X-Filler-{i}: value\r\n"));
    }
    headers.push_str("Subject: many headers\r\n\r\nbody\r\n");
    v.push(("50,000 headers", headers.into_bytes()));
    // A 10 MB header line.
    let mut long = b"From: a@example.com\r\nMessage-ID: <longline@x>\r\nSubject: ".to_vec();
    long.extend(std::iter::repeat_n(b'A', 10 * 1024 * 1024));
    long.extend(b"\r\n\r\nbody\r\n");
    v.push(("10 MB header line", long));
    // Unterminated boundaries.
    v.push((
        "unterminated boundary",
        b"From: a@example.com\r\nSubject: open\r\nMessage-ID: <open@x>\r\nContent-Type: multipart/mixed; boundary=never\r\n\r\n--never\r\nContent-Type: text/plain\r\n\r\nstart but no end".to_vec(),
    ));
    // Legacy charsets and 8-bit headers in an unknown charset.
    let gb2312 = [0xce, 0xd2, 0xd2, 0xaa, 0xcd, 0xcb, 0xbf, 0xee]; // 我要退款
    let mut legacy = b"From: a@example.com\r\nSubject: =?gb2312?B?ztLSqs3Lv+4=?=\r\nMessage-ID: <gb@x>\r\nContent-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".to_vec();
    legacy.extend(gb2312);
    v.push(("GB2312", legacy));
    v.push(("Big5", b"From: a@example.com\r\nMessage-ID: <big5@x>\r\nSubject: =?big5?B?sKq0ZA==?=\r\nContent-Type: text/plain; charset=big5\r\n\r\n\xb0\xaa\xb4\x64\r\n".to_vec()));
    v.push(("Shift_JIS", b"From: a@example.com\r\nMessage-ID: <sjis@x>\r\nSubject: =?shift_jis?B?k/qWe4zq?=\r\nContent-Type: text/plain; charset=shift_jis\r\n\r\n\x93\xfa\x96\x7b\x8c\xea\r\n".to_vec()));
    v.push(("KOI8-R", b"From: a@example.com\r\nMessage-ID: <koi@x>\r\nSubject: =?koi8-r?B?8NLJ18XU?=\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4\r\n".to_vec()));
    v.push(("raw 8-bit header, unknown charset", b"From: \xff\xfe\xc3 <a@example.com>\r\nSubject: \xb0\xaa\x93\xfa\xff\r\nMessage-ID: <raw8@x>\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n\r\n\xfe\xfd body\r\n".to_vec()));
    // Missing and duplicate Message-IDs.
    v.push(("no Message-ID", b"From: a@example.com\r\nSubject: anonymous\r\n\r\nno id here\r\n".to_vec()));
    v.push(("duplicate Message-ID 1", b"From: a@example.com\r\nSubject: dup one\r\nMessage-ID: <dup@x>\r\n\r\nfirst\r\n".to_vec()));
    v.push(("duplicate Message-ID 2", b"From: b@example.com\r\nSubject: dup two\r\nMessage-ID: <dup@x>\r\n\r\nsecond\r\n".to_vec()));
    v
}

/// A 50 MB attachment: over the automatic-download limit, so mirrored headers-only.
fn huge_attachment() -> Vec<u8> {
    let mut m = b"From: a@example.com\r\nSubject: big attachment\r\nMessage-ID: <big@x>\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--q\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
    let line = [b'Q'; 76];
    for _ in 0..(50 * 1024 * 1024 / 78) {
        m.extend_from_slice(&line);
        m.extend_from_slice(b"\r\n");
    }
    m.extend(b"--q--\r\n");
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_and_bombs_sync_without_panic_and_stay_displayable() {
    let desk = Desk::new("mime");
    let mut files = Vec::new();
    eml_files(&corpus_dir(), &mut files);
    assert!(files.len() > 100, "corpus has {} files", files.len());
    let mut s = login(&desk.user).await.unwrap();
    let mut appended = 0;
    let mut refused = Vec::new();
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        match imap::append(&mut s, "INBOX", "()", &raw).await {
            Ok(()) => appended += 1,
            Err(e) => refused.push(format!("{}: {e}", f.display())),
        }
    }
    for (name, raw) in bombs() {
        imap::append(&mut s, "INBOX", "()", &raw).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        appended += 1;
    }
    imap::append(&mut s, "INBOX", "()", &huge_attachment()).await.unwrap();
    appended += 1;
    let on_server = imap::select(&mut s, "INBOX", false).await.unwrap().exists as usize;
    imap::logout(s).await;
    println!("{appended} messages appended ({} corpus files refused by the server)", refused.len());
    assert_eq!(on_server, appended);
    assert!(refused.len() * 10 < files.len(), "the server refused too much of the corpus: {refused:?}");

    let engine = desk.engine();
    let report = tokio::time::timeout(Duration::from_secs(300), engine.sync_once()).await.expect("sync does not hang").unwrap();
    assert_eq!(report.messages as usize, on_server, "every message is mirrored");

    let all = engine.store().list_messages("INBOX", 100_000).unwrap();
    let by_id = |id: &str| all.iter().find(|m| m.message_id.as_deref() == Some(id)).unwrap_or_else(|| panic!("{id} mirrored"));
    for m in &all {
        assert!(m.body_text.len() <= 1024 * 1024, "text bounded: {} bytes", m.body_text.len());
        assert!(m.subject.chars().count() <= 998);
    }
    assert_eq!(by_id("deep@x").body_state, BodyState::Full);
    assert_eq!(by_id("many@x").body_state, BodyState::Full);
    let raw_shown = all.iter().filter(|m| m.body_state == BodyState::RawOnly).count();
    assert!(raw_shown >= 2, "the header bombs are shown raw ({raw_shown})");
    assert!(all.iter().any(|m| m.subject.contains("我要退款")), "GB2312 decoded");
    assert_eq!(by_id("big5@x").subject, "高悲");
    assert!(by_id("big5@x").body_text.contains("高悲"));
    assert_eq!(by_id("sjis@x").subject, "日本語");
    assert_eq!(by_id("koi@x").subject, "Привет");
    assert_eq!(all.iter().filter(|m| m.message_id.as_deref() == Some("dup@x")).count(), 2, "both duplicates kept");
    assert!(all.iter().any(|m| m.subject == "anonymous" && m.identity.starts_with("sha256:")));

    // Over the limit: headers only, body on demand.
    let big = by_id("big@x");
    assert_eq!(big.body_state, BodyState::HeadersOnly);
    assert!(big.body_text.is_empty());
    let loaded = engine.load_body(big.id).await.unwrap();
    assert_eq!(loaded.body_state, BodyState::Full);
    assert!(loaded.body_text.contains("see attached"));
    assert_eq!(loaded.attachments.len(), 1);
    assert_eq!(loaded.attachments[0].filename, "big.bin");
    assert!(loaded.attachments[0].size > 30 * 1024 * 1024);
    // Attachment bytes come from the server on demand, never from the mirror.
    let (name, bytes) = engine.attachment(loaded.id, 0).await.unwrap();
    assert_eq!(name, "big.bin");
    assert!(bytes.len() > 30 * 1024 * 1024);
    assert!(engine.store().integrity_check().unwrap() == "ok");
}
