//! From what the server sent to what the store keeps.

use blendesk_domain::automation::{decide, is_automatic_message_id, Decision, InboundMail, OurMailbox};
use blendesk_mail::imap::MessageMeta;
use blendesk_mail::mime::{self, ParsedMail};
use blendesk_store::{AttachmentMeta, BodyState, NewMessage};

/// Parse a fetched message (full, or headers only when it is over the automatic limit)
/// and decide, from its headers, whether it may get an automatic acknowledgement.
pub(crate) fn to_new_message(meta: &MessageMeta, raw: &[u8], headers_only: bool, us: &OurMailbox) -> NewMessage {
    let mut parsed = mime::parse(raw);
    let ack_decision = if parsed.parsed {
        match decide(&InboundMail::from_headers(std::mem::take(&mut parsed.headers)), us, &is_automatic_message_id) {
            Decision::Acknowledge => "acknowledge".to_owned(),
            Decision::Skip(reason) => format!("skip:{reason}"),
        }
    } else {
        "skip:unreadable message".to_owned()
    };
    let state = if !parsed.parsed {
        BodyState::RawOnly
    } else if headers_only {
        BodyState::HeadersOnly
    } else {
        BodyState::Full
    };
    let note = if headers_only {
        Some(format!("message of {} bytes: only its headers were downloaded; open it to fetch the body", meta.size))
    } else {
        parsed.note.clone()
    };
    NewMessage { ack_decision, ..from_parsed(meta, parsed, state, note) }
}

fn from_parsed(meta: &MessageMeta, p: ParsedMail, state: BodyState, note: Option<String>) -> NewMessage {
    // A Reply-To other than From names another address of the same customer (history).
    let reply_to = p.reply_to.clone().filter(|r| *r != p.from_addr).unwrap_or_default();
    NewMessage {
        reply_to,
        uid: meta.uid,
        identity: p.identity,
        message_id: p.message_id,
        in_reply_to: p.in_reply_to,
        references: p.references,
        subject: p.subject,
        from_addr: p.from_addr,
        from_name: p.from_name,
        to: p.to,
        cc: p.cc,
        sent_at: p.sent_at,
        internal_date: meta.internal_date,
        size: meta.size,
        flags: meta.flags.clone(),
        modseq: meta.modseq,
        body_state: Some(state),
        body_text: if state == BodyState::HeadersOnly { String::new() } else { p.text },
        body_html: if state == BodyState::Full { p.html } else { None },
        parse_note: note,
        ack_decision: String::new(),
        attachments: p
            .attachments
            .into_iter()
            .map(|a| AttachmentMeta {
                part: a.part,
                filename: a.filename,
                content_type: a.content_type,
                size: a.size,
                content_id: a.content_id,
            })
            .collect(),
    }
}
