//! A draft handed over with its email: when an email goes back to the queue during its
//! owner's long call (`blending::pacing::should_hand_back`), the owner's unfinished reply
//! travels through the mailbox as one message in the team's `Blendesk/Drafts` folder, so
//! whoever takes the email next starts from it. The message names the email it answers
//! by Message-ID (a header); its text body is the draft. Anything else in the folder is
//! refused with the reason, never fatal.

use crate::knowledge::header;

/// The Message-ID (`<…>`) of the email the draft answers.
pub const DRAFT_FOR_HEADER: &str = "X-Blendesk-Draft-For";
/// A draft is a reply, not a document: the same limit as an article's body.
pub const DRAFT_MAX_BYTES: usize = crate::knowledge::BODY_MAX_BYTES;

/// Why a message of the drafts folder is not a handed-over draft.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    #[error("no {DRAFT_FOR_HEADER} header")]
    MissingFor,
    #[error("{DRAFT_FOR_HEADER} is not a Message-ID: {0}")]
    BadFor(String),
    #[error("the draft is empty")]
    Empty,
    #[error("the draft is {0} bytes (limit {DRAFT_MAX_BYTES})")]
    TooLarge(usize),
}

/// A draft as read from the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandedDraft {
    /// The Message-ID of the email it answers, with its angle brackets.
    pub for_message_id: String,
    pub text: String,
}

/// Whether `id` looks like a Message-ID: `<local@domain>`, no spaces or controls.
fn is_message_id(id: &str) -> bool {
    id.len() <= 998
        && id.starts_with('<')
        && id.ends_with('>')
        && id.contains('@')
        && !id.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The headers of a draft message for the email `for_message_id`.
pub fn draft_headers(for_message_id: &str) -> Result<Vec<(&'static str, String)>, DraftError> {
    if !is_message_id(for_message_id) {
        return Err(DraftError::BadFor(for_message_id.chars().take(80).collect()));
    }
    Ok(vec![(DRAFT_FOR_HEADER, for_message_id.to_owned())])
}

/// A draft worth handing over: not blank and within the limit.
pub fn check_text(text: &str) -> Result<(), DraftError> {
    if text.trim().is_empty() {
        return Err(DraftError::Empty);
    }
    if text.len() > DRAFT_MAX_BYTES {
        return Err(DraftError::TooLarge(text.len()));
    }
    Ok(())
}

/// What a message of the drafts folder is, from its decoded headers and text body.
pub fn parse_draft_message(headers: &[(String, String)], text: &str) -> Result<HandedDraft, DraftError> {
    let for_id = header(headers, DRAFT_FOR_HEADER).ok_or(DraftError::MissingFor)?;
    if !is_message_id(for_id) {
        return Err(DraftError::BadFor(for_id.chars().take(80).collect()));
    }
    // The composer writes `\n` lines; the mailbox stores CRLF, and a trailing line break
    // from the transport is not the advisor's.
    let text = text.replace("\r\n", "\n");
    let text = text.trim_end_matches('\n');
    check_text(text)?;
    Ok(HandedDraft { for_message_id: for_id.to_owned(), text: text.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &str) -> Vec<(String, String)> {
        vec![(DRAFT_FOR_HEADER.to_owned(), v.to_owned())]
    }

    #[test]
    fn a_draft_names_its_email_and_keeps_its_text() {
        let d = parse_draft_message(&h("<a1@shop.test>"), "Dear Ana,\r\n退款已处理。\r\n").unwrap();
        assert_eq!(d, HandedDraft { for_message_id: "<a1@shop.test>".into(), text: "Dear Ana,\n退款已处理。".into() });
        assert_eq!(draft_headers("<a1@shop.test>").unwrap(), vec![(DRAFT_FOR_HEADER, "<a1@shop.test>".to_owned())]);
    }

    #[test]
    fn anything_else_is_refused_with_the_reason() {
        assert_eq!(parse_draft_message(&[], "x"), Err(DraftError::MissingFor));
        assert!(matches!(parse_draft_message(&h("a1@shop.test"), "x"), Err(DraftError::BadFor(_))));
        assert!(matches!(parse_draft_message(&h("<a 1@shop.test>"), "x"), Err(DraftError::BadFor(_))));
        assert_eq!(parse_draft_message(&h("<a@b>"), " \r\n"), Err(DraftError::Empty));
        let big = "x".repeat(DRAFT_MAX_BYTES + 1);
        assert_eq!(parse_draft_message(&h("<a@b>"), &big), Err(DraftError::TooLarge(DRAFT_MAX_BYTES + 1)));
        assert!(draft_headers("<bad\r\nBcc: x@y>").is_err(), "no header injection through the id");
    }
}
