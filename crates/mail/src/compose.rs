//! Building our own outgoing messages. A reply is built exactly once; its bytes and
//! Message-ID are what the outbox stores and every retry sends.

use blendesk_domain::limits::clean_header_value;
use blendesk_domain::reply::{quote, reply_references, reply_subject};
use lettre::message::{header::ContentType, Mailbox};
use lettre::Message;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ComposeError {
    #[error("the configured From address {0:?} is not a valid mailbox")]
    BadFrom(String),
    #[error("the customer's address {0:?} is not a valid mailbox; cannot reply")]
    BadRecipient(String),
    #[error("could not build the message: {0}")]
    Build(String),
}

/// One of Blendesk's own documents for the shared mailbox (a knowledge article, a
/// template, a usage event): plain UTF-8 text, our extra headers RFC 2047-encoded by the
/// builder (so values cannot start header lines), a final Message-ID (no brackets).
pub fn build_document(
    from: &str,
    subject: &str,
    headers: &[(&'static str, String)],
    body: &str,
    message_id: &str,
    date: std::time::SystemTime,
) -> Result<Vec<u8>, ComposeError> {
    use lettre::message::header::{HeaderName, HeaderValue};
    let from: Mailbox = from.parse().map_err(|_| ComposeError::BadFrom(from.to_owned()))?;
    let mut message = Message::builder()
        .from(from.clone())
        .to(from)
        .subject(clean_header_value(subject))
        .message_id(Some(format!("<{message_id}>")))
        .date(date)
        .header(ContentType::TEXT_PLAIN)
        .body(body.replace("\r\n", "\n"))
        .map_err(|e| ComposeError::Build(e.to_string()))?;
    for (name, value) in headers {
        let name = HeaderName::new_from_ascii((*name).to_owned()).map_err(|e| ComposeError::Build(e.to_string()))?;
        message.headers_mut().insert_raw(HeaderValue::new(name, clean_header_value(value)));
    }
    Ok(message.formatted())
}

/// What a reply answers.
#[derive(Debug, Clone, Default)]
pub struct Original {
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub subject: String,
    pub from_addr: String,
    pub from_name: String,
    pub text: String,
    /// How the original's date is shown in the quote line.
    pub date_label: String,
}

pub struct BuiltReply {
    pub message_id: String,
    pub recipients: Vec<String>,
    pub envelope_from: String,
    pub raw: Vec<u8>,
}

/// Build a plain-text reply: "Re:" subject, In-Reply-To and References, the advisor's
/// text with the original quoted below, From = the configured team address.
/// `message_id` is final (no brackets): every retry reuses these bytes.
pub fn build_reply(
    from: &str,
    original: &Original,
    body: &str,
    message_id: &str,
    date: std::time::SystemTime,
) -> Result<BuiltReply, ComposeError> {
    let from: Mailbox = from.parse().map_err(|_| ComposeError::BadFrom(from.to_owned()))?;
    let to_addr = original.from_addr.parse().map_err(|_| ComposeError::BadRecipient(original.from_addr.clone()))?;
    // The display name is customer-controlled: clean it so it can never create header lines.
    let to_name = clean_header_value(&original.from_name);
    let to = Mailbox::new(if to_name.is_empty() { None } else { Some(to_name) }, to_addr);
    let refs = reply_references(&original.references, original.in_reply_to.as_deref(), original.message_id.as_deref());
    let mut text = body.trim_end().to_owned();
    text.push_str("\n\n");
    text.push_str(&quote(&original.text, &format_sender(original), &original.date_label));

    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(reply_subject(&original.subject))
        .message_id(Some(format!("<{message_id}>")))
        .date(date);
    if let Some(id) = original.message_id.as_deref().filter(|id| refs.iter().any(|r| r == id)) {
        builder = builder.in_reply_to(format!("<{id}>"));
    }
    if !refs.is_empty() {
        builder = builder.references(refs.iter().map(|r| format!("<{r}>")).collect::<Vec<_>>().join(" "));
    }
    let message = builder.header(ContentType::TEXT_PLAIN).body(text).map_err(|e| ComposeError::Build(e.to_string()))?;
    Ok(BuiltReply {
        message_id: message_id.to_owned(),
        recipients: vec![original.from_addr.clone()],
        envelope_from: from.email.to_string(),
        raw: message.formatted(),
    })
}

/// Build an automatic message (acknowledgement, "still working on it") to the sender of
/// `original`, carrying `headers` (Auto-Submitted, X-Loop, threading; from the domain's
/// `automatic_headers`). Plain text, our From, "Re:" subject, no quote.
pub fn build_automatic(
    from: &str,
    original: &Original,
    body: &str,
    message_id: &str,
    headers: &[(&'static str, String)],
    date: std::time::SystemTime,
) -> Result<BuiltReply, ComposeError> {
    use lettre::message::header::{HeaderName, HeaderValue};
    let from: Mailbox = from.parse().map_err(|_| ComposeError::BadFrom(from.to_owned()))?;
    let to_addr = original.from_addr.parse().map_err(|_| ComposeError::BadRecipient(original.from_addr.clone()))?;
    let to_name = clean_header_value(&original.from_name);
    let to = Mailbox::new(if to_name.is_empty() { None } else { Some(to_name) }, to_addr);
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(reply_subject(&original.subject))
        .message_id(Some(format!("<{message_id}>")))
        .date(date);
    for (name, value) in headers {
        let name = HeaderName::new_from_ascii(name.to_string()).map_err(|e| ComposeError::Build(e.to_string()))?;
        builder = builder.raw_header(HeaderValue::new(name, clean_header_value(value)));
    }
    let message = builder.header(ContentType::TEXT_PLAIN).body(body.to_owned()).map_err(|e| ComposeError::Build(e.to_string()))?;
    Ok(BuiltReply {
        message_id: message_id.to_owned(),
        recipients: vec![original.from_addr.clone()],
        envelope_from: from.email.to_string(),
        raw: message.formatted(),
    })
}

fn format_sender(o: &Original) -> String {
    if o.from_name.is_empty() {
        o.from_addr.clone()
    } else {
        format!("{} <{}>", o.from_name, o.from_addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_with_chinese_headers_and_no_injection() {
        let raw = build_document(
            "Shop <support@shop.test>",
            "退款流程\r\nBcc: evil@x",
            &[("X-Blendesk-Tags", "退款, refund".into()), ("X-Blendesk-Article", "tk-1\r\nBcc: evil@x".into())],
            "# 退款\n\n五天内退回。",
            "kb-1@blendesk.invalid",
            std::time::SystemTime::UNIX_EPOCH,
        )
        .unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(!text.lines().any(|l| l.starts_with("Bcc:")), "{text}");
        let d = crate::mime::parse_document(&raw, &["X-Blendesk-Tags", "X-Blendesk-Article"]).unwrap();
        assert_eq!(d.subject, "退款流程 Bcc: evil@x");
        assert_eq!(blendesk_domain::knowledge::parse_tags(&d.headers[0].1), ["退款", "refund"]);
        assert_eq!(d.headers[1].1, "tk-1 Bcc: evil@x");
        assert_eq!(d.text.replace("\r\n", "\n").trim_end(), "# 退款\n\n五天内退回。");
    }
    use crate::mime::parse;

    #[test]
    fn reply_threads_and_quotes() {
        let original = Original {
            message_id: Some("q1@example.com".into()),
            references: vec!["root@example.com".into()],
            subject: "Re: 订单问题".into(),
            from_addr: "li.wei@example.com".into(),
            from_name: "Li\r\nBcc: evil@x".into(),
            text: "Where is it?".into(),
            date_label: "Mon".into(),
            ..Default::default()
        };
        let built = build_reply(
            "Shop Support <support@shop.test>",
            &original,
            "It ships today.",
            "r1@shop.test",
            std::time::SystemTime::UNIX_EPOCH,
        )
        .unwrap();
        let raw = String::from_utf8(built.raw.clone()).unwrap();
        assert!(!raw.contains("\r\nBcc:"), "customer name must not create headers:\n{raw}");
        let p = parse(&built.raw);
        assert_eq!(p.message_id.as_deref(), Some("r1@shop.test"));
        assert_eq!(p.in_reply_to.as_deref(), Some("q1@example.com"));
        assert_eq!(p.references, vec!["root@example.com", "q1@example.com"]);
        assert_eq!(p.subject, "Re: 订单问题");
        assert_eq!(p.from_addr, "support@shop.test");
        assert_eq!(p.to, vec!["li.wei@example.com"]);
        assert!(p.text.contains("It ships today."));
        assert!(p.text.contains("> Where is it?"));
        assert_eq!(built.recipients, vec!["li.wei@example.com"]);
    }

    #[test]
    fn bad_addresses_are_clear_errors() {
        let o = Original { from_addr: "not an address".into(), ..Default::default() };
        assert!(matches!(build_reply("a@b", &o, "x", "i@b", std::time::SystemTime::UNIX_EPOCH), Err(ComposeError::BadRecipient(_))));
        let o = Original { from_addr: "c@d".into(), ..Default::default() };
        assert!(matches!(build_reply("nope", &o, "x", "i@b", std::time::SystemTime::UNIX_EPOCH), Err(ComposeError::BadFrom(_))));
    }
}
