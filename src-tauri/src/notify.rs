//! Desktop notifications, calm by default. notify-rust does not escape markup: every
//! customer-controlled string passes through `escape` first. No notification daemon is
//! logged, never an error.

/// Escape `& < >` so a subject or sender cannot inject notification markup.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Show one notification; the body is escaped here. Never blocks the caller for long.
pub fn show(summary: &str, body: &str) {
    let summary = escape(summary);
    let body = escape(body);
    std::thread::spawn(move || {
        let result = notify_rust::Notification::new().appname("Blendesk").summary(&summary).body(&body).show();
        if let Err(e) = result {
            tracing::info!("notification not shown (no notification service?): {e}");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(escape("<b>Refund</b> & more"), "&lt;b&gt;Refund&lt;/b&gt; &amp; more");
        assert_eq!(escape("退款 ok"), "退款 ok");
        assert_eq!(escape("&amp;"), "&amp;amp;", "already-escaped text is escaped again, shown literally");
    }
}
