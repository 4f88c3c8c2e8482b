//! The customer's side over plain SMTP and IMAP on the local stack (loopback only).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

fn expect(reader: &mut BufReader<TcpStream>, code: &str) -> Result<String, String> {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).map_err(|e| e.to_string())?;
        if line.is_empty() {
            return Err(format!("connection closed; got {all:?}"));
        }
        all.push_str(&line);
        // Multi-line replies continue with "250-".
        if line.len() >= 4 && &line[3..4] == "-" {
            continue;
        }
        return if line.starts_with(code) { Ok(all) } else { Err(format!("expected {code}, got {all:?}")) };
    }
}

/// Send a message over SMTP. `raw_headers_and_body` must not contain the envelope.
pub fn smtp_send(port: u16, from: &str, to: &str, message: &str) -> Result<(), String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut w = stream.try_clone().map_err(|e| e.to_string())?;
    let mut r = BufReader::new(stream);
    expect(&mut r, "220")?;
    for (cmd, code) in [
        ("EHLO e2e.test".to_owned(), "250"),
        (format!("MAIL FROM:<{from}>"), "250"),
        (format!("RCPT TO:<{to}>"), "250"),
        ("DATA".to_owned(), "354"),
    ] {
        write!(w, "{cmd}\r\n").map_err(|e| e.to_string())?;
        expect(&mut r, code)?;
    }
    let body = message.replace("\r\n", "\n").replace('\n', "\r\n").replace("\r\n.", "\r\n..");
    write!(w, "{body}\r\n.\r\n").map_err(|e| e.to_string())?;
    expect(&mut r, "250")?;
    write!(w, "QUIT\r\n").ok();
    Ok(())
}

/// A plain-text customer email with a unique subject.
pub fn customer_email(from: &str, to: &str, subject: &str, body: &str, message_id: &str) -> String {
    format!(
        "From: Casey Customer <{from}>\nTo: {to}\nSubject: {subject}\nMessage-ID: <{message_id}>\nDate: {date}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}\n",
        date = "Wed, 25 Nov 2026 10:00:00 +0000",
    )
}

/// Log in to `user`, SELECT INBOX, run `command` and return its untagged output; `Err`
/// with the server's line when it is refused.
fn imap_inbox_command(port: u16, user: &str, password: &str, command: &str) -> Result<String, String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut w = stream.try_clone().map_err(|e| e.to_string())?;
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    r.read_line(&mut line).map_err(|e| e.to_string())?;
    let mut run = |tag: &str, cmd: &str| -> Result<String, String> {
        write!(w, "{tag} {cmd}\r\n").map_err(|e| e.to_string())?;
        let mut out = String::new();
        loop {
            let mut l = String::new();
            if r.read_line(&mut l).map_err(|e| e.to_string())? == 0 {
                return Err("IMAP connection closed".into());
            }
            if l.starts_with(&format!("{tag} ")) {
                return if l.starts_with(&format!("{tag} OK")) { Ok(out) } else { Err(l) };
            }
            out.push_str(&l);
        }
    };
    run("a1", &format!("LOGIN {user} {password}"))?;
    run("a2", "SELECT INBOX")?;
    let result = run("a3", command);
    let _ = run("a4", "LOGOUT");
    result
}

/// Log in to `user`'s INBOX and return the raw FETCH output of every message (headers
/// and bodies), empty when the mailbox is empty.
pub fn imap_fetch_all(port: u16, user: &str, password: &str) -> Result<String, String> {
    // An empty mailbox refuses `1:*` (the FETCH's own tagged reply, "a3 BAD/NO").
    imap_inbox_command(port, user, password, "FETCH 1:* (BODY.PEEK[])").or_else(|e| {
        if e.starts_with("a3 ") {
            Ok(String::new())
        } else {
            Err(e)
        }
    })
}

/// The flags of every message in `user`'s INBOX, by UID (for keywords such as owners
/// and conversation tokens).
pub fn imap_flags(port: u16, user: &str, password: &str) -> Result<Vec<(u32, Vec<String>)>, String> {
    let all = imap_inbox_command(port, user, password, "UID FETCH 1:* (FLAGS)")?;
    Ok(all
        .lines()
        .filter_map(|l| {
            let uid = l.split("UID ").nth(1)?.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
            let flags = l.split("FLAGS (").nth(1)?.split(')').next()?;
            Some((uid, flags.split_whitespace().map(str::to_owned).collect()))
        })
        .collect())
}

/// APPEND `message` to `user`'s `folder` with an IMAP INTERNALDATE such as
/// `25-Nov-2026 10:00:00 +0000` (to make mail that has waited for hours).
pub fn imap_append(port: u16, user: &str, password: &str, folder: &str, message: &str, internal_date: &str) -> Result<(), String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut w = stream.try_clone().map_err(|e| e.to_string())?;
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    let read_until_tag = |r: &mut BufReader<TcpStream>, tag: &str| -> Result<String, String> {
        loop {
            let mut l = String::new();
            if r.read_line(&mut l).map_err(|e| e.to_string())? == 0 {
                return Err("IMAP connection closed".into());
            }
            if l.starts_with(tag) {
                return Ok(l);
            }
        }
    };
    r.read_line(&mut line).map_err(|e| e.to_string())?;
    write!(w, "a1 LOGIN {user} {password}\r\n").map_err(|e| e.to_string())?;
    let l = read_until_tag(&mut r, "a1 ")?;
    if !l.starts_with("a1 OK") {
        return Err(l);
    }
    let body = message.replace("\r\n", "\n").replace('\n', "\r\n");
    write!(w, "a2 APPEND {folder} \"{internal_date}\" {{{}}}\r\n", body.len()).map_err(|e| e.to_string())?;
    read_until_tag(&mut r, "+")?;
    write!(w, "{body}\r\n").map_err(|e| e.to_string())?;
    let l = read_until_tag(&mut r, "a2 ")?;
    let _ = write!(w, "a3 LOGOUT\r\n");
    if l.starts_with("a2 OK") {
        Ok(())
    } else {
        Err(l)
    }
}
