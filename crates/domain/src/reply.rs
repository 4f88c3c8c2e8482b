//! How a reply relates to the message it answers: subject, threading headers, quote.

use crate::limits::clean_header_value;

/// "Re: " + the original subject, without piling up prefixes ("Re: Re: RE: 回复:").
pub fn reply_subject(original: &str) -> String {
    let mut rest = clean_header_value(original);
    loop {
        let trimmed = rest.trim_start();
        let lower = trimmed.to_lowercase();
        let prefix_len =
            ["re:", "re :", "aw:", "sv:", "回复:", "回复：", "答复:", "答复："].iter().find(|p| lower.starts_with(*p)).map(|p| p.len());
        match prefix_len {
            // Lower-casing keeps these ASCII/CJK prefixes' byte lengths unchanged.
            Some(n) => rest = trimmed[n..].to_owned(),
            None => break,
        }
    }
    let rest = rest.trim();
    if rest.is_empty() {
        "Re: (no subject)".to_owned()
    } else {
        format!("Re: {rest}")
    }
}

/// The References of a reply: the original's References (or, lacking them, its
/// In-Reply-To) followed by the original's Message-ID. Bounded so a hostile chain cannot
/// grow our headers without limit: the first id (the thread root) and the latest ones.
pub fn reply_references(
    original_references: &[String],
    original_in_reply_to: Option<&str>,
    original_message_id: Option<&str>,
) -> Vec<String> {
    const MAX_REFS: usize = 20;
    let mut refs: Vec<String> = if original_references.is_empty() {
        original_in_reply_to.map(|s| vec![s.to_owned()]).unwrap_or_default()
    } else {
        original_references.to_vec()
    };
    if let Some(id) = original_message_id {
        refs.push(id.to_owned());
    }
    refs.retain(|r| is_plausible_msg_id(r));
    refs.dedup();
    if refs.len() > MAX_REFS {
        let tail = refs.split_off(refs.len() - (MAX_REFS - 1));
        refs.truncate(1);
        refs.extend(tail);
    }
    refs
}

/// A message id we are willing to repeat in a header: `local@domain` without brackets,
/// white space or control characters.
pub fn is_plausible_msg_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 250 && id.contains('@') && id.chars().all(|c| c.is_ascii_graphic() && c != '<' && c != '>')
}

/// The original text quoted below the reply, attributed to its sender.
pub fn quote(original_text: &str, sender: &str, date: &str) -> String {
    const MAX_QUOTED_LINES: usize = 200;
    let mut out = format!("On {date}, {} wrote:\n", clean_header_value(sender));
    for line in original_text.lines().take(MAX_QUOTED_LINES) {
        if line.starts_with('>') {
            out.push('>');
        } else {
            out.push_str("> ");
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The lines a message's writer wrote themselves: up to an attribution line ("On …
/// wrote:"), quoted lines (`>`) left out. The one quote rule for excerpts, search terms
/// and the call suggestion's reading of the customer's words.
pub fn own_lines(body: &str) -> impl Iterator<Item = &str> {
    body.lines().take_while(|l| !(l.starts_with("On ") && l.trim_end().ends_with("wrote:"))).filter(|l| !l.trim_start().starts_with('>'))
}

/// The one Message-ID minter for everything Blendesk writes (replies, automatic mail,
/// call notes, documents, policies): `kind` + `token` @ the domain of `from_address`
/// (an address or a bare domain). `kind` marks what it is (`blendesk-auto.`, `doc-`, …;
/// empty for a reply); `token` comes from the caller's random source, so this stays pure.
pub fn new_message_id(kind: &str, token: &str, from_address: &str) -> String {
    let domain = from_address.rsplit('@').next().unwrap_or("blendesk.invalid");
    let domain: String = domain.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-').collect();
    let domain = if domain.is_empty() { "blendesk.invalid".to_owned() } else { domain };
    let token: String = token.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    format!("{kind}{token}@{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_lines_stop_at_the_attribution_and_skip_quotes() {
        let body = "Thanks!\n> old\n  > indented quote\nStill me\nOn Mon, 1 Jan 2026, Ann wrote:\nquoted without markers";
        assert_eq!(own_lines(body).collect::<Vec<_>>(), ["Thanks!", "Still me"]);
    }

    #[test]
    fn subject_prefixes_do_not_pile_up() {
        assert_eq!(reply_subject("Where is my order?"), "Re: Where is my order?");
        assert_eq!(reply_subject("Re: RE: re : Where"), "Re: Where");
        assert_eq!(reply_subject("回复: 退款"), "Re: 退款");
        assert_eq!(reply_subject(""), "Re: (no subject)");
        assert_eq!(reply_subject("Hi\r\nBcc: x@y"), "Re: Hi Bcc: x@y");
    }

    #[test]
    fn references_extend_the_chain() {
        let refs = reply_references(&["a@x".into(), "b@x".into()], Some("b@x"), Some("c@x"));
        assert_eq!(refs, vec!["a@x", "b@x", "c@x"]);
        let refs = reply_references(&[], Some("b@x"), Some("c@x"));
        assert_eq!(refs, vec!["b@x", "c@x"]);
        assert_eq!(reply_references(&[], None, None), Vec::<String>::new());
    }

    #[test]
    fn hostile_references_are_dropped_and_bounded() {
        let mut chain: Vec<String> = (0..100).map(|i| format!("m{i}@x")).collect();
        chain.push("evil\r\nBcc: a@b".into());
        let refs = reply_references(&chain, None, Some("last@x"));
        assert_eq!(refs.len(), 20);
        assert_eq!(refs[0], "m0@x");
        assert_eq!(refs.last().map(String::as_str), Some("last@x"));
    }

    #[test]
    fn quote_prefixes_lines() {
        assert_eq!(quote("hi\n> old", "Ann <a@x>", "Mon"), "On Mon, Ann <a@x> wrote:\n> hi\n>> old\n");
    }

    #[test]
    fn message_ids_use_the_from_domain() {
        assert_eq!(new_message_id("", "ab-12", "support@shop.test"), "ab12@shop.test");
        assert_eq!(new_message_id("doc-", "x", "weird"), "doc-x@weird");
        assert_eq!(new_message_id("blendesk-auto.", "7f", ""), "blendesk-auto.7f@blendesk.invalid");
    }
}
