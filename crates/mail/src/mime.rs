//! Parsing customer mail. Customer email is hostile until proven otherwise: sizes are
//! bounded before anything is kept, and a message the parser cannot handle is kept raw
//! (bounded) rather than dropped or allowed to take the sync down.

use blendesk_domain::identity::message_identity;
use blendesk_domain::limits::{
    clean_header_value, truncate_utf8, ATTACHMENTS_MAX, HEADER_BLOCK_MAX_BYTES, HEADER_VALUE_MAX_CHARS, HTML_MAX_BYTES, TEXT_MAX_BYTES,
};
use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attachment {
    pub part: u32,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub content_id: Option<String>,
}

/// What Blendesk keeps of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedMail {
    pub identity: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub subject: String,
    pub from_addr: String,
    pub from_name: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// The Date header as unix seconds, when present and valid.
    pub sent_at: Option<i64>,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
    /// Why the message is shown raw or partially, for the advisor.
    pub note: Option<String>,
    /// False when the parser gave up and `text` holds the raw message.
    pub parsed: bool,
    /// Header fields as (name, unfolded value), bounded; for the auto-reply rules.
    pub headers: Vec<(String, String)>,
    /// The first Reply-To address, lowercased.
    pub reply_to: Option<String>,
}

fn first_id(v: &HeaderValue<'_>) -> Option<String> {
    match v {
        HeaderValue::Text(t) => Some(t.to_string()),
        HeaderValue::TextList(l) => l.last().map(|t| t.to_string()),
        _ => None,
    }
}

fn id_list(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn addresses(a: Option<&mail_parser::Address<'_>>) -> Vec<String> {
    a.map(|a| a.iter().filter_map(|x| x.address().map(|s| clean_header_value(s).to_lowercase())).take(100).collect()).unwrap_or_default()
}

/// The header block's length: up to the first empty line.
fn header_block_len(raw: &[u8]) -> usize {
    raw.windows(4).position(|w| w == b"\r\n\r\n").or_else(|| raw.windows(2).position(|w| w == b"\n\n")).unwrap_or(raw.len())
}

/// A message shown as raw text: bounded and made valid UTF-8.
fn raw_fallback(raw: &[u8], note: String) -> ParsedMail {
    let mut text = String::from_utf8_lossy(&raw[..raw.len().min(TEXT_MAX_BYTES)]).into_owned();
    truncate_utf8(&mut text, TEXT_MAX_BYTES);
    ParsedMail {
        identity: message_identity(None, raw),
        subject: "(unreadable message)".into(),
        text,
        note: Some(note),
        parsed: false,
        ..Default::default()
    }
}

/// Parse a full message, or only its header block (`headers_only`).
pub fn parse(raw: &[u8]) -> ParsedMail {
    let header_len = header_block_len(raw);
    if header_len > HEADER_BLOCK_MAX_BYTES {
        return raw_fallback(raw, format!("header block of {header_len} bytes is over the limit; shown raw"));
    }
    // mail-parser is fuzzed and bounds nesting itself; this is a last line of defence so
    // one hostile message can never stop the sync of every other.
    let parsed = std::panic::catch_unwind(|| parse_inner(raw));
    match parsed {
        Ok(Some(p)) => p,
        Ok(None) => raw_fallback(raw, "not a MIME message; shown raw".into()),
        Err(_) => raw_fallback(raw, "the MIME parser failed on this message; shown raw".into()),
    }
}

fn parse_inner(raw: &[u8]) -> Option<ParsedMail> {
    let msg = MessageParser::default().parse(raw)?;
    let message_id = msg.message_id().map(clean_header_value).filter(|s| !s.is_empty());
    let mut text = msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let mut html = msg.body_html(0).map(|h| h.into_owned());
    let mut note = None;
    if text.len() > TEXT_MAX_BYTES {
        truncate_utf8(&mut text, TEXT_MAX_BYTES);
        note = Some("the text was cut at 1 MB".to_owned());
    }
    if let Some(h) = html.as_mut() {
        if h.len() > HTML_MAX_BYTES {
            truncate_utf8(h, HTML_MAX_BYTES);
            note = Some("the HTML was cut at 2 MB".to_owned());
        }
    }
    // A message with only HTML still needs text for search and for the quote.
    if text.is_empty() && msg.text_body_count() == 0 {
        if let Some(h) = &html {
            text = html_to_search_text(h);
        }
    }
    let from = msg.from().and_then(|a| a.first());
    let attachments = msg
        .attachments()
        .take(ATTACHMENTS_MAX)
        .enumerate()
        .map(|(i, part)| Attachment {
            part: i as u32,
            filename: part.attachment_name().map(clean_header_value).unwrap_or_default(),
            content_type: part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_string(),
                })
                .map(|s| clean_header_value(&s).to_lowercase())
                .unwrap_or_else(|| "application/octet-stream".into()),
            size: part.len() as u64,
            content_id: part.content_id().map(clean_header_value),
        })
        .collect();
    let headers = msg
        .headers_raw()
        .take(300)
        .map(|(name, value)| {
            let unfolded: String = value.replace("\r\n", "").replace('\n', "").chars().take(HEADER_VALUE_MAX_CHARS).collect();
            (name.to_owned(), unfolded.trim().to_owned())
        })
        .collect();
    Some(ParsedMail {
        headers,
        identity: message_identity(message_id.as_deref(), raw),
        in_reply_to: first_id(msg.in_reply_to()).map(|s| clean_header_value(&s)),
        references: id_list(msg.references()).iter().map(|s| clean_header_value(s)).take(100).collect(),
        subject: msg.subject().map(clean_header_value).unwrap_or_default(),
        from_addr: from.and_then(|a| a.address()).map(|s| clean_header_value(s).to_lowercase()).unwrap_or_default(),
        from_name: from.and_then(|a| a.name()).map(clean_header_value).unwrap_or_default(),
        to: addresses(msg.to()),
        cc: addresses(msg.cc()),
        reply_to: addresses(msg.reply_to()).into_iter().next(),
        sent_at: msg.date().filter(|d| d.is_valid()).map(|d| d.to_timestamp()),
        message_id,
        text,
        html,
        attachments,
        note,
        parsed: true,
    })
}

/// One of Blendesk's own documents (knowledge article, template) from the shared
/// mailbox: its subject, the `wanted` headers decoded (RFC 2047, so Chinese tags and
/// names survive), and the text body. `None` when the bytes are not a message at all.
pub struct Document {
    pub subject: String,
    pub headers: Vec<(String, String)>,
    pub text: String,
}

pub fn parse_document(raw: &[u8], wanted: &[&'static str]) -> Option<Document> {
    if header_block_len(raw) > HEADER_BLOCK_MAX_BYTES {
        return None;
    }
    let parsed = std::panic::catch_unwind(|| {
        // A parser with custom headers parses only the headers it is told about.
        let mut parser = MessageParser::new().with_minimal_headers();
        for name in wanted {
            parser = parser.header_text(*name);
        }
        let msg = parser.parse(raw)?;
        let headers = wanted
            .iter()
            .filter_map(|name| msg.header(*name).and_then(|v| v.as_text()).map(|v| ((*name).to_owned(), clean_header_value(v))))
            .collect();
        let mut text = msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
        truncate_utf8(&mut text, TEXT_MAX_BYTES);
        Some(Document { subject: msg.subject().map(clean_header_value).unwrap_or_default(), headers, text })
    });
    parsed.ok().flatten()
}

/// Text of an HTML body for the search index and quoting: tags dropped, entities for
/// the common characters decoded. Not for display (display sanitises the HTML itself).
pub fn html_to_search_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut in_tag = false;
    let lower = html.to_ascii_lowercase();
    let mut skip_until: Option<&str> = None;
    let mut i = 0;
    let bytes = html.as_bytes();
    while i < bytes.len() {
        if let Some(end) = skip_until {
            match lower[i..].find(end) {
                Some(pos) => {
                    i += pos + end.len();
                    skip_until = None;
                    continue;
                }
                None => break,
            }
        }
        let c = bytes[i];
        if c == b'<' {
            if lower[i..].starts_with("<script") {
                skip_until = Some("</script>");
            } else if lower[i..].starts_with("<style") {
                skip_until = Some("</style>");
            }
            in_tag = true;
            out.push(' ');
        } else if c == b'>' && in_tag {
            in_tag = false;
        } else if !in_tag {
            // Copy the whole UTF-8 character.
            let ch_len = utf8_len(c);
            if let Some(s) = html.get(i..i + ch_len) {
                out.push_str(s);
            }
            i += ch_len;
            continue;
        }
        i += 1;
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_chinese_reply_with_an_attachment() {
        let raw = concat!(
            "From: =?UTF-8?B?5p2O5Lyf?= <Li.Wei@Example.com>\r\n",
            "To: support@shop.test\r\n",
            "Subject: =?UTF-8?B?6K6i5Y2V6Zeu6aKY?=\r\n",
            "Message-ID: <abc@example.com>\r\n",
            "In-Reply-To: <r1@shop.test>\r\n",
            "References: <root@example.com> <r1@shop.test>\r\n",
            "Date: Tue, 24 Nov 2026 10:00:00 +0800\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n",
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n我要退款\r\n",
            "--b\r\nContent-Type: application/pdf; name=r.pdf\r\nContent-Disposition: attachment; filename=r.pdf\r\n",
            "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n"
        );
        let p = parse(raw.as_bytes());
        assert!(p.parsed);
        assert_eq!(p.subject, "订单问题");
        assert_eq!(p.from_name, "李伟");
        assert_eq!(p.from_addr, "li.wei@example.com");
        assert_eq!(p.message_id.as_deref(), Some("abc@example.com"));
        assert_eq!(p.identity, "mid:abc@example.com");
        assert_eq!(p.in_reply_to.as_deref(), Some("r1@shop.test"));
        assert_eq!(p.references, vec!["root@example.com", "r1@shop.test"]);
        assert!(p.text.contains("我要退款"));
        assert_eq!(p.attachments.len(), 1);
        assert_eq!(p.attachments[0].filename, "r.pdf");
        assert_eq!(p.attachments[0].content_type, "application/pdf");
        assert_eq!(p.sent_at, Some(1795485600));
    }

    #[test]
    fn html_only_mail_gets_search_text() {
        let raw = b"From: a@x\r\nContent-Type: text/html\r\n\r\n<p>Hello <b>world</b><script>evil()</script> &amp; more</p>";
        let p = parse(raw);
        assert!(p.text.contains("Hello world & more"), "{:?}", p.text);
        assert!(!p.text.contains("evil"));
    }

    #[test]
    fn garbage_and_huge_headers_are_kept_raw() {
        let p = parse(b"\xff\xfe\x00garbage");
        assert!(p.identity.starts_with("sha256:") || p.identity.starts_with("mid:"));
        let mut huge = b"Subject: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', HEADER_BLOCK_MAX_BYTES + 10));
        huge.extend(b"\r\n\r\nbody");
        let p = parse(&huge);
        assert!(!p.parsed);
        assert!(p.note.unwrap().contains("over the limit"));
        assert!(p.text.len() <= TEXT_MAX_BYTES);
    }

    #[test]
    fn documents_decode_their_own_headers() {
        let raw = concat!(
            "From: a@x\r\nSubject: =?UTF-8?B?6YCA5qy+5rWB56iL?=\r\n",
            "X-Blendesk-Tags: =?UTF-8?B?6YCA5qy+?=, refund\r\nX-Blendesk-Article: tk-1\r\n",
            "Reply-To: Other <Other@Example.org>\r\n",
            "Content-Type: text/plain; charset=utf-8\r\n\r\n# 退款\r\n"
        );
        let d = parse_document(raw.as_bytes(), &["X-Blendesk-Tags", "X-Blendesk-Article", "X-Blendesk-Usage"]).unwrap();
        assert_eq!(d.subject, "退款流程");
        assert_eq!(
            d.headers,
            vec![("X-Blendesk-Tags".to_owned(), "退款 , refund".to_owned()), ("X-Blendesk-Article".to_owned(), "tk-1".to_owned())]
        );
        assert!(d.text.starts_with("# 退款"));
        assert_eq!(parse(raw.as_bytes()).reply_to.as_deref(), Some("other@example.org"));
    }

    #[test]
    fn missing_message_id_uses_a_content_hash() {
        let p = parse(b"From: a@x\r\nSubject: hi\r\n\r\nbody");
        assert!(p.identity.starts_with("sha256:"));
        assert_eq!(p.message_id, None);
    }
}
