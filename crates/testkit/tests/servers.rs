//! The three servers of the local stack (Dovecot mdbox, Dovecot Maildir, Cyrus IMAP 3.6)
//! each take what team mode needs: a login, SELECT reporting HIGHESTMODSEQ, PERMANENTFLAGS
//! with `\*`, a custom keyword STORE with UNCHANGEDSINCE, and IDLE announcing another
//! session's keyword change. Spoken as raw IMAP so the test shows exactly what is sent.

use blendesk_testkit::servers::{Server, ALL_SERVERS};
use blendesk_testkit::TEST_PASSWORD;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

struct Raw {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
    n: u32,
}

impl Raw {
    async fn connect(server: Server, user: &str) -> Raw {
        let (host, port) = server.endpoint();
        let s = TcpStream::connect((host.as_str(), port)).await.unwrap_or_else(|e| panic!("{}: connect: {e}", server.label()));
        let (r, w) = s.into_split();
        let mut c = Raw { r: BufReader::new(r), w, n: 0 };
        let greeting = c.line().await;
        assert!(greeting.starts_with("* OK"), "{}: greeting {greeting}", server.label());
        let (tagged, _) = c.cmd(&format!("LOGIN {user} {TEST_PASSWORD}")).await;
        assert!(tagged.contains(" OK"), "{}: LOGIN {user}: {tagged}", server.label());
        c
    }

    async fn line(&mut self) -> String {
        let mut l = String::new();
        timeout(Duration::from_secs(10), self.r.read_line(&mut l)).await.expect("server answered within 10 s").expect("read");
        l
    }

    /// Send one command; return its tagged answer and every untagged line before it.
    async fn cmd(&mut self, command: &str) -> (String, Vec<String>) {
        self.n += 1;
        let tag = format!("a{}", self.n);
        self.w.write_all(format!("{tag} {command}\r\n").as_bytes()).await.expect("write");
        let mut untagged = Vec::new();
        loop {
            let l = self.line().await;
            assert!(!l.is_empty(), "connection closed during {command}");
            if l.starts_with(&format!("{tag} ")) {
                return (l, untagged);
            }
            untagged.push(l);
        }
    }
}

fn modseq_of(lines: &[String]) -> u64 {
    let l = lines.iter().find(|l| l.contains("MODSEQ (")).unwrap_or_else(|| panic!("no MODSEQ in {lines:?}"));
    let rest = &l[l.find("MODSEQ (").unwrap() + 8..];
    rest[..rest.find(')').unwrap()].trim().parse().unwrap()
}

async fn check(server: Server) {
    let label = server.label();
    let user = server.user("servers");
    let raw = format!("From: c@example.com\r\nTo: {user}@shop.test\r\nSubject: probe\r\nMessage-ID: <{user}@probe>\r\n\r\nhello\r\n");
    server.append(&user, "INBOX", raw.as_bytes()).await.unwrap_or_else(|e| panic!("{label}: {e:#}"));

    let mut a = Raw::connect(server, &user).await;
    // Dovecot reports HIGHESTMODSEQ only once CONDSTORE is enabled; Cyrus always does.
    let (ok, lines) = a.cmd("SELECT INBOX (CONDSTORE)").await;
    assert!(ok.contains(" OK"), "{label}: SELECT: {ok}");
    assert!(lines.iter().any(|l| l.contains("HIGHESTMODSEQ")), "{label}: no HIGHESTMODSEQ on SELECT: {lines:?}");
    assert!(lines.iter().any(|l| l.contains("PERMANENTFLAGS") && l.contains("\\*")), "{label}: PERMANENTFLAGS lacks \\*: {lines:?}");

    let (_, lines) = a.cmd("UID FETCH 1:* (UID MODSEQ)").await;
    let m = modseq_of(&lines);
    // A keyword this mailbox has never seen, stored conditionally, then a stale retry refused.
    let (ok, _) = a.cmd(&format!("UID STORE 1 (UNCHANGEDSINCE {m}) +FLAGS.SILENT ($bd_probe_a)")).await;
    assert!(ok.contains(" OK") && !ok.contains("MODIFIED"), "{label}: first conditional STORE: {ok}");
    let (ok, _) = a.cmd(&format!("UID STORE 1 (UNCHANGEDSINCE {m}) +FLAGS.SILENT ($bd_probe_b)")).await;
    assert!(ok.contains("MODIFIED"), "{label}: a STORE against a stale MODSEQ must be refused: {ok}");
    let (_, lines) = a.cmd("UID FETCH 1 (FLAGS)").await;
    let flags = lines.concat();
    assert!(flags.contains("$bd_probe_a") && !flags.contains("$bd_probe_b"), "{label}: flags {flags}");

    // IDLE in session A sees session B's keyword change.
    a.n += 1;
    let idle_tag = format!("a{}", a.n);
    a.w.write_all(format!("{idle_tag} IDLE\r\n").as_bytes()).await.unwrap();
    let cont = a.line().await;
    assert!(cont.starts_with('+'), "{label}: IDLE: {cont}");
    let mut b = Raw::connect(server, &user).await;
    b.cmd("SELECT INBOX").await;
    let (ok, _) = b.cmd("UID STORE 1 +FLAGS.SILENT ($bd_probe_c)").await;
    assert!(ok.contains(" OK"), "{label}: STORE in the second session: {ok}");
    let seen = timeout(Duration::from_secs(5), async {
        loop {
            let l = a.line().await;
            if l.contains("FETCH") && l.contains("$bd_probe_c") {
                return l;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{label}: IDLE announced nothing within 5 s"));
    assert!(seen.contains("FLAGS"), "{label}: {seen}");
    a.w.write_all(b"DONE\r\n").await.unwrap();
    let _ = b.cmd("LOGOUT").await;
}

#[tokio::test]
async fn every_server_takes_login_condstore_keywords_and_idle() {
    for server in ALL_SERVERS {
        check(server).await;
        eprintln!("{}: login, HIGHESTMODSEQ, \\*, conditional keyword STORE, IDLE: ok", server.label());
    }
}
