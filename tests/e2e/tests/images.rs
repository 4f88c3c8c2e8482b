//! "Show images": remote images stay blocked until the advisor asks, per message; then
//! Rust fetches them (no cookies, no Referer — not the webview) and the frame shows them
//! inlined as data: URIs.

use blendesk_e2e::mail::smtp_send;
use blendesk_e2e::{stack_env, unique, wait_for, App, Launch, Mailboxes};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63,
    0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

fn image_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            log.lock().unwrap().push(String::from_utf8_lossy(&buf[..n]).into_owned());
            let _ = s.write_all(
                format!("HTTP/1.0 200 OK\r\nContent-Type: image/png\r\nSet-Cookie: track=1\r\nContent-Length: {}\r\n\r\n", PNG.len())
                    .as_bytes(),
            );
            let _ = s.write_all(PNG);
        }
    });
    (port, requests)
}

#[test]
fn images_load_only_when_asked_fetched_by_rust() {
    let (port, requests) = image_server();
    let mail = Mailboxes::new();
    let (_, smtp) = stack_env();
    let from = mail.customer_address();
    let token = unique("img-");
    let msg = format!(
        "From: Newsletter Nora <{from}>\nTo: {to}\nSubject: Photo of the damage {token}\nMessage-ID: <{token}@example.com>\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<p>See the photo:</p><img alt=photo src=\"http://127.0.0.1:{port}/damage.png\"><img src=\"http://127.0.0.1:{port}/second.png\">\n",
        to = mail.desk_address()
    );
    smtp_send(smtp, &from, &mail.desk_address(), &msg).unwrap();
    let app = App::launch(Launch {
        mail: &mail,
        lang: "en_US.UTF-8",
        wrap_up_seconds: 3,
        queues: &["INBOX"],
        setup: false,
        env: &[("BLENDESK_IMAGES_ALLOW_LOOPBACK", "1")],
    });
    app.wait_ready();
    let css = format!("[data-testid=conversation][data-customer='{from}']");
    wait_for("the email", Duration::from_secs(30), || app.session.find(&css).ok()).click().unwrap();
    let notice = wait_for("the blocked-images notice", Duration::from_secs(10), || app.session.find("[data-testid=remote-blocked]").ok());
    assert!(notice.text().unwrap().contains("2 remote images blocked"));
    app.session.wait_paint().unwrap();
    assert!(requests.lock().unwrap().is_empty(), "nothing fetched before the advisor asks");

    app.session.find("[data-testid=show-images]").unwrap().click().unwrap();
    wait_for("the images inlined", Duration::from_secs(15), || {
        let doc = app.session.find("[data-testid=mail-html]").ok()?.attr("srcdoc").ok()??;
        (doc.matches("data:image/png;base64,").count() == 2).then_some(())
    });
    assert!(app.session.find("[data-testid=remote-blocked]").is_err(), "no longer reported blocked");
    let reqs = requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), 2, "each image fetched once: {reqs:?}");
    for r in &reqs {
        let lower = r.to_ascii_lowercase();
        assert!(!lower.contains("\r\nreferer:") && !lower.contains("\r\ncookie:"), "no Referer or Cookie: {r}");
        assert!(lower.contains("user-agent: mozilla/5.0\r\n"), "fetched by Rust, not the webview: {r}");
    }
    app.screenshot("18-images-shown-on-request");
}
