//! Customer HTML, made safe before it reaches the webview. One layer of several: the UI
//! shows the result in an `<iframe sandbox srcdoc>` (no scripts, opaque origin, so no
//! IPC), and the document carries its own CSP (`default-src 'none'; img-src data:`).
//! Remote content (images, srcset, CSS, fonts) is removed here and counted, so the UI
//! can say that remote images were blocked.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The CSP inside every rendered mail document.
pub const MAIL_CSP: &str =
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src 'none'; form-action 'none'; base-uri 'none'; frame-src 'none'; script-src 'none'";

/// Largest HTML handed to the sanitiser; longer mail is cut (the text part is still shown).
pub const HTML_MAX_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct SafeHtml {
    /// A complete document for `srcdoc`.
    pub document: String,
    /// Remote resources removed (images, srcset…).
    pub blocked_remote: usize,
}

fn is_data_image(v: &str) -> bool {
    let v = v.trim_start().to_ascii_lowercase();
    ["data:image/png", "data:image/gif", "data:image/jpeg", "data:image/webp"].iter().any(|p| v.starts_with(p))
}

/// Whether `html` is only mail-parser's rendering of a text/plain body
/// (`<html><body>` + text with `<br/>` + `</body></html>`): such mail is shown as text.
pub fn is_converted_text(html: &str) -> bool {
    let Some(inner) = html.strip_prefix("<html><body>").and_then(|h| h.strip_suffix("</body></html>")) else {
        return false;
    };
    !inner.replace("<br/>", "").contains('<')
}

/// Sanitise customer HTML into a self-contained, script-free document.
pub fn sanitise(html: &str) -> SafeHtml {
    sanitise_with_images(html, &HashMap::new())
}

/// The remote `<img src>` URLs (http/https) of `html`, in order, at most `max`.
pub fn remote_images(html: &str, max: usize) -> Vec<String> {
    let found = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = found.clone();
    let mut b = ammonia::Builder::default();
    b.attribute_filter(move |element, attribute, value| {
        if element == "img" && attribute == "src" {
            let v = value.trim();
            let lower = v.to_ascii_lowercase();
            if lower.starts_with("http://") || lower.starts_with("https://") {
                let mut f = sink.lock().unwrap_or_else(|e| e.into_inner());
                if f.len() < max && !f.iter().any(|x| x == v) {
                    f.push(v.to_owned());
                }
            }
        }
        Some(value.into())
    });
    let mut end = html.len().min(HTML_MAX_BYTES);
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    let _ = b.clean(&html[..end]);
    let out = found.lock().unwrap_or_else(|e| e.into_inner()).clone();
    out
}

/// Like `sanitise`, with remote images the advisor chose to show replaced by the
/// `data:` URIs Rust fetched for them (`images`: URL → data URI). Other remote images
/// are still removed and counted.
pub fn sanitise_with_images(html: &str, images: &HashMap<String, String>) -> SafeHtml {
    let mut end = html.len().min(HTML_MAX_BYTES);
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    let blocked = Arc::new(AtomicUsize::new(0));
    let counter = blocked.clone();
    let images = Arc::new(images.clone());
    let mut b = ammonia::Builder::default();
    b.url_schemes(HashSet::from(["http", "https", "mailto", "data"]))
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"))
        .rm_tags(["img"])
        .add_tags(["img"])
        .rm_tag_attributes("img", ["srcset"])
        .attribute_filter(move |element, attribute, value| match (element, attribute) {
            ("img", "src") => {
                if is_data_image(value) {
                    Some(value.into())
                } else if let Some(data) = images.get(value.trim()) {
                    Some(data.clone().into())
                } else {
                    counter.fetch_add(1, Ordering::Relaxed);
                    None
                }
            }
            // data: only ever as an inline image, never as a link target.
            (_, "href") if value.trim_start().to_ascii_lowercase().starts_with("data:") => None,
            _ => Some(value.into()),
        });
    let clean = b.clean(&html[..end]).to_string();
    let document = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{MAIL_CSP}\">\
         <style>body{{font:14px/1.5 system-ui,sans-serif;color:#1d2730;margin:8px;overflow-wrap:anywhere}}img{{max-width:100%}}</style>\
         </head><body>{clean}</body></html>"
    );
    SafeHtml { document, blocked_remote: blocked.load(Ordering::Relaxed) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(html: &str) -> String {
        let d = sanitise(html).document;
        let start = d.find("<body>").unwrap() + 6;
        let end = d.rfind("</body>").unwrap();
        d[start..end].to_owned()
    }

    #[test]
    fn plain_text_rendered_by_the_parser_is_recognised() {
        assert!(is_converted_text("<html><body>Hi &lt;you&gt;<br/>bye</body></html>"));
        assert!(!is_converted_text("<html><body><b>Hi</b></body></html>"));
        assert!(!is_converted_text("<p>Hi</p>"));
    }

    #[test]
    fn scripts_and_handlers_are_removed() {
        for bad in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<svg onload=alert(1)>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
            "<iframe src=\"https://evil.test\"></iframe>",
            "<object data=\"https://evil.test/x.swf\"></object>",
            "<form action=\"https://evil.test\"><input></form>",
            "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.test\">",
            "<base href=\"https://evil.test/\">",
            "<body onload=alert(1)>",
            "<div style=\"background:url(https://evil.test/x)\">x</div>",
            "<style>@import 'https://evil.test/x.css'; body{background:url(https://evil.test)}</style>",
            "<link rel=stylesheet href=\"https://evil.test/x.css\">",
        ] {
            let out = body(bad).to_ascii_lowercase();
            for needle in [
                "<script",
                "onerror",
                "onload",
                "javascript:",
                "<iframe",
                "<object",
                "<form",
                "<meta",
                "<base",
                "<style",
                "<link",
                "evil.test",
                "style=",
            ] {
                assert!(!out.contains(needle), "{bad:?} left {needle:?} in {out:?}");
            }
        }
    }

    #[test]
    fn remote_images_are_blocked_and_counted_data_images_kept() {
        let s = sanitise(
            "<p>Hi</p><img src=\"https://tracker.test/p.gif\"><img srcset=\"https://x.test/a.png 2x\" src=\"http://x.test/b.png\">",
        );
        assert_eq!(s.blocked_remote, 2);
        assert!(!s.document.contains("tracker.test") && !s.document.contains("x.test"));
        let s = sanitise("<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"logo\">");
        assert_eq!(s.blocked_remote, 0);
        assert!(s.document.contains("data:image/png;base64,iVBORw0KGgo="));
        assert!(body("<img src=\"data:text/html;base64,PHNjcmlwdD4=\">").contains("<img"), "tag kept");
        assert!(!body("<img src=\"data:text/html;base64,PHNjcmlwdD4=\">").contains("data:text"));
        assert!(!body("<a href=\"data:text/html,<script>alert(1)</script>\">x</a>").contains("data:"));
    }

    #[test]
    fn links_keep_their_target_with_safe_rel_and_text_survives() {
        let out = body("<p>Track <a href=\"https://carrier.example/t/1\">here</a> &amp; 谢谢</p>");
        assert!(out.contains("href=\"https://carrier.example/t/1\""), "{out}");
        assert!(out.contains("noopener noreferrer"), "{out}");
        assert!(out.contains("谢谢"));
    }

    #[test]
    fn shown_images_are_swapped_for_fetched_data_and_others_stay_blocked() {
        let html = "<img src=\"https://shop.example/logo.png\"><img src=\"https://tracker.example/p.gif\"><img src=\"data:image/png;base64,AA==\">";
        assert_eq!(remote_images(html, 10), ["https://shop.example/logo.png", "https://tracker.example/p.gif"]);
        assert_eq!(remote_images(html, 1).len(), 1);
        let mut fetched = HashMap::new();
        fetched.insert("https://shop.example/logo.png".to_owned(), "data:image/png;base64,iVBO".to_owned());
        let s = sanitise_with_images(html, &fetched);
        assert!(s.document.contains("data:image/png;base64,iVBO"));
        assert!(!s.document.contains("shop.example") && !s.document.contains("tracker.example"));
        assert_eq!(s.blocked_remote, 1);
    }

    #[test]
    fn document_carries_the_mail_csp_and_huge_input_is_cut_on_a_char_boundary() {
        assert!(sanitise("x").document.contains("default-src 'none'; img-src data:"));
        let big = "é".repeat(HTML_MAX_BYTES);
        let s = sanitise(&big);
        assert!(s.document.len() < HTML_MAX_BYTES + 2000);
    }
}
