//! May we send an automatic acknowledgement to this inbound email? (RFC 3834)
//!
//! Every open-source help desk we studied shipped auto-reply loops: a no-reply sender, an
//! out-of-office, another help desk's acknowledgement or a bounce answered by us, answered
//! back, and so on thousands of times. So the rule is conservative: any sign that the
//! inbound mail was written by a machine, sent to a list, or answers one of our own
//! automatic messages means no acknowledgement. A human customer still gets a human reply;
//! only the automatic one is skipped.

use std::fmt;

use crate::limits::clean_header_value;
use crate::reply::reply_references;

/// The parts of an inbound email the decision looks at, as parsed from its header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboundMail {
    /// Every header field as (name, value), values unfolded. Names match case-insensitively.
    pub headers: Vec<(String, String)>,
    /// The From address (`local@domain`), if it had a usable one.
    pub from: Option<String>,
    /// Message ids in In-Reply-To, without angle brackets.
    pub in_reply_to: Vec<String>,
    /// Message ids in References, without angle brackets.
    pub references: Vec<String>,
}

impl InboundMail {
    /// Builds the input from raw header pairs: From, In-Reply-To and References are taken
    /// from the headers themselves.
    pub fn from_headers(headers: Vec<(String, String)>) -> Self {
        let first = |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
        let from = first("From").and_then(address_in);
        let in_reply_to = first("In-Reply-To").map(message_ids).unwrap_or_default();
        let references = first("References").map(message_ids).unwrap_or_default();
        InboundMail { headers, from, in_reply_to, references }
    }

    /// All values of header `name`, case-insensitively.
    fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.values(name).next().is_some()
    }
}

/// Our side of the decision: who we are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OurMailbox {
    /// Every address we send from (the shared mailbox, its aliases). Compared case-insensitively.
    pub addresses: Vec<String>,
    /// The value we put in `X-Loop` on our automatic mail (usually the mailbox address).
    pub loop_marker: String,
}

/// What to do with an inbound email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// An automatic acknowledgement may be sent (rate limits still apply).
    Acknowledge,
    /// No automatic mail; the reason is for logs and the UI.
    Skip(SkipReason),
}

/// Why no automatic acknowledgement is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// `Auto-Submitted` with a value other than `no` (out-of-office, help-desk replies…).
    AutoSubmitted(String),
    /// `Precedence` or `X-Precedence` is bulk, list, junk or auto_reply.
    Precedence(String),
    /// A mailing-list header (`List-Id`, `List-Unsubscribe`, `List-Post`).
    MailingList(&'static str),
    /// A vendor auto-reply marker (`X-Autoreply`, `X-Autorespond`, `X-Autoresponder`).
    AutoReplyMarker(&'static str),
    /// `X-Auto-Response-Suppress` asks for no automatic replies (All, AutoReply, OOF).
    SuppressesAutoReplies,
    /// `X-Loop` names our mailbox: this mail already went through us.
    OurLoopMarker,
    /// `Return-Path: <>`: a bounce or other delivery notice.
    NullReturnPath,
    /// `Content-Type: multipart/report`: a bounce or a read receipt.
    DeliveryReport,
    /// The sender is a system address (mailer-daemon, no-reply, …); the local part is kept.
    SystemSender(String),
    /// The sender is one of our own addresses.
    OurOwnAddress,
    /// It answers one of our own automatic messages (In-Reply-To / References).
    AnswersOurAutomaticMail,
    /// No usable From address: there is nobody to acknowledge.
    NoSender,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::AutoSubmitted(v) => write!(f, "Auto-Submitted: {v}"),
            SkipReason::Precedence(v) => write!(f, "Precedence: {v}"),
            SkipReason::MailingList(h) => write!(f, "mailing list ({h})"),
            SkipReason::AutoReplyMarker(h) => write!(f, "auto-reply marker ({h})"),
            SkipReason::SuppressesAutoReplies => f.write_str("X-Auto-Response-Suppress"),
            SkipReason::OurLoopMarker => f.write_str("X-Loop names our mailbox"),
            SkipReason::NullReturnPath => f.write_str("Return-Path <> (delivery notice)"),
            SkipReason::DeliveryReport => f.write_str("multipart/report (bounce or receipt)"),
            SkipReason::SystemSender(l) => write!(f, "system sender ({l})"),
            SkipReason::OurOwnAddress => f.write_str("sent from our own address"),
            SkipReason::AnswersOurAutomaticMail => f.write_str("answers our automatic mail"),
            SkipReason::NoSender => f.write_str("no sender address"),
        }
    }
}

/// The RFC 3834 decision. `is_our_automatic_id` tells whether a message id (without
/// brackets) is one of our own automatic messages; see [`is_automatic_message_id`].
pub fn decide(mail: &InboundMail, us: &OurMailbox, is_our_automatic_id: &dyn Fn(&str) -> bool) -> Decision {
    match skip_reason(mail, us, is_our_automatic_id) {
        Some(reason) => Decision::Skip(reason),
        None => Decision::Acknowledge,
    }
}

fn skip_reason(mail: &InboundMail, us: &OurMailbox, is_our_automatic_id: &dyn Fn(&str) -> bool) -> Option<SkipReason> {
    for v in mail.values("Auto-Submitted") {
        let token = first_token(v);
        if token != "no" {
            return Some(SkipReason::AutoSubmitted(token));
        }
    }
    for name in ["Precedence", "X-Precedence"] {
        for v in mail.values(name) {
            let token = first_token(v);
            if matches!(token.as_str(), "bulk" | "list" | "junk" | "auto_reply" | "auto-reply") {
                return Some(SkipReason::Precedence(token));
            }
        }
    }
    for name in ["List-Id", "List-Unsubscribe", "List-Post"] {
        if mail.has(name) {
            return Some(SkipReason::MailingList(name));
        }
    }
    for name in ["X-Autoreply", "X-Autorespond", "X-Autoresponder"] {
        if mail.has(name) {
            return Some(SkipReason::AutoReplyMarker(name));
        }
    }
    let suppresses = mail
        .values("X-Auto-Response-Suppress")
        .any(|v| v.split([',', ' ', '\t']).any(|t| ["all", "autoreply", "oof"].iter().any(|s| t.trim().eq_ignore_ascii_case(s))));
    if suppresses {
        return Some(SkipReason::SuppressesAutoReplies);
    }
    let ours = normalise_loop(&us.loop_marker);
    if !ours.is_empty() && mail.values("X-Loop").any(|v| normalise_loop(v) == ours) {
        return Some(SkipReason::OurLoopMarker);
    }
    if mail.values("Return-Path").any(|v| v.chars().filter(|c| !c.is_whitespace()).eq("<>".chars())) {
        return Some(SkipReason::NullReturnPath);
    }
    if mail.values("Content-Type").any(|v| first_token(v) == "multipart/report") {
        return Some(SkipReason::DeliveryReport);
    }
    let Some(from) = mail.from.as_deref().map(str::trim).filter(|f| f.contains('@')) else {
        return Some(SkipReason::NoSender);
    };
    if let Some(local) = system_local_part(from) {
        return Some(SkipReason::SystemSender(local));
    }
    if us.addresses.iter().any(|a| a.trim().eq_ignore_ascii_case(from)) {
        return Some(SkipReason::OurOwnAddress);
    }
    let answers_ours = mail.in_reply_to.iter().chain(&mail.references).any(|id| is_our_automatic_id(strip_brackets(id)));
    if answers_ours {
        return Some(SkipReason::AnswersOurAutomaticMail);
    }
    None
}

/// The value's first token, lower-cased, without parameters or comments
/// (`auto-replied; owner-email=…` → `auto-replied`, `bulk (newsletter)` → `bulk`).
fn first_token(value: &str) -> String {
    value.split([';', '(', ' ', '\t']).find(|t| !t.is_empty()).unwrap_or("").trim().to_ascii_lowercase()
}

fn normalise_loop(v: &str) -> String {
    strip_brackets(v.trim()).trim().to_ascii_lowercase()
}

fn strip_brackets(id: &str) -> &str {
    id.trim().trim_start_matches('<').trim_end_matches('>')
}

/// The local part of `address` when it names a system sender, else `None`.
///
/// Exact names (after dropping a `+tag`, case-insensitive): mailer-daemon, postmaster,
/// abuse, root, bounce(s); no-reply, noreply, do-not-reply, donotreply (also with `_`,
/// and as a prefix followed by `-`, `_` or `.`, e.g. `noreply-billing`); `bounce(s)`
/// followed by `-`, `+` or `.` (VERP bounce addresses); `owner-*` and `*-request` (list
/// software).
pub fn system_local_part(address: &str) -> Option<String> {
    let local = address.rsplit_once('@').map_or(address, |(l, _)| l).trim().to_ascii_lowercase();
    let base = local.split('+').next().unwrap_or("");
    let dashed = base.replace('_', "-");
    const EXACT: [&str; 7] = ["mailer-daemon", "postmaster", "abuse", "root", "bounce", "bounces", "mailerdaemon"];
    const NO_REPLY: [&str; 4] = ["no-reply", "noreply", "do-not-reply", "donotreply"];
    let prefixed = |word: &str, seps: &[char]| dashed.strip_prefix(word).is_some_and(|rest| rest.is_empty() || rest.starts_with(seps));
    let system = EXACT.contains(&dashed.as_str())
        || NO_REPLY.iter().any(|w| prefixed(w, &['-', '.']))
        || ["bounce", "bounces"].iter().any(|w| local.strip_prefix(w).is_some_and(|r| r.starts_with(['-', '+', '.'])))
        || (dashed.starts_with("owner-") && dashed.len() > 6)
        || (dashed.ends_with("-request") && dashed.len() > 8);
    system.then_some(local)
}

/// A Message-ID (without brackets) for one of our automatic messages. The marker lets
/// [`is_automatic_message_id`] recognise replies to it without remembering every id.
/// `unique` is passed in (the engine makes it), so this stays pure.
pub fn automatic_message_id(unique: &str, domain: &str) -> String {
    crate::reply::new_message_id(AUTOMATIC_ID_PREFIX, unique, domain)
}

/// Whether `id` was made by [`automatic_message_id`] (brackets allowed).
pub fn is_automatic_message_id(id: &str) -> bool {
    strip_brackets(id).get(..AUTOMATIC_ID_PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(AUTOMATIC_ID_PREFIX))
}

const AUTOMATIC_ID_PREFIX: &str = "blendesk-auto.";

/// The header fields every automatic message of ours carries (RFC 3834 section 3.1 and
/// the loop markers other systems look for). `original_*` describe the inbound email
/// being answered; ids are without brackets, and In-Reply-To / References are left out
/// when there is nothing plausible to thread to.
pub fn automatic_headers(
    loop_marker: &str,
    original_message_id: Option<&str>,
    original_in_reply_to: Option<&str>,
    original_references: &[String],
) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("Auto-Submitted", "auto-replied".to_owned()),
        ("X-Auto-Response-Suppress", "All".to_owned()),
        ("X-Loop", clean_header_value(loop_marker)),
    ];
    let original = original_message_id.map(strip_brackets);
    let refs = reply_references(original_references, original_in_reply_to, original);
    if let Some(id) = original.filter(|id| refs.iter().any(|r| r == id)) {
        headers.push(("In-Reply-To", format!("<{id}>")));
    }
    if !refs.is_empty() {
        let joined: Vec<String> = refs.iter().map(|r| format!("<{r}>")).collect();
        headers.push(("References", joined.join(" ")));
    }
    headers
}

/// The address inside a From value: `"Name" <a@b>` → `a@b`, bare `a@b` → `a@b`.
pub fn address_in(value: &str) -> Option<String> {
    let candidate = match (value.rfind('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value.split_whitespace().find(|w| w.contains('@')).unwrap_or(""),
    };
    let candidate = candidate.trim().trim_matches(|c| c == '"' || c == '(' || c == ')');
    (candidate.contains('@') && !candidate.contains(char::is_whitespace)).then(|| candidate.to_owned())
}

/// The message ids in an In-Reply-To or References value, without brackets.
pub fn message_ids(value: &str) -> Vec<String> {
    value.split(['<', '>', ' ', '\t', ',']).filter(|t| t.contains('@')).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> OurMailbox {
        OurMailbox {
            addresses: vec!["support@shop.example".into(), "help@shop.example".into()],
            loop_marker: "support@shop.example".into(),
        }
    }

    fn mail(from: &str, extra: &[(&str, &str)]) -> InboundMail {
        let mut headers = vec![("From".to_owned(), format!("Customer <{from}>"))];
        headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        InboundMail::from_headers(headers)
    }

    fn decide_one(m: &InboundMail) -> Decision {
        decide(m, &us(), &is_automatic_message_id)
    }

    #[test]
    fn an_ordinary_customer_is_acknowledged() {
        assert_eq!(decide_one(&mail("anna@example.com", &[])), Decision::Acknowledge);
        let normal = mail("li@example.cn", &[("Precedence", "normal"), ("Auto-Submitted", "No")]);
        assert_eq!(decide_one(&normal), Decision::Acknowledge);
    }

    #[test]
    fn auto_submitted_other_than_no_is_skipped() {
        let m = mail("a@b.c", &[("auto-submitted", "auto-replied; owner-email=\"x@y\"")]);
        assert_eq!(decide_one(&m), Decision::Skip(SkipReason::AutoSubmitted("auto-replied".into())));
        let m = mail("a@b.c", &[("Auto-Submitted", "")]);
        assert!(matches!(decide_one(&m), Decision::Skip(SkipReason::AutoSubmitted(_))));
    }

    #[test]
    fn bulk_list_and_marker_headers_are_skipped() {
        for (h, v) in [("Precedence", "Bulk"), ("X-Precedence", "list"), ("Precedence", "junk"), ("Precedence", "auto_reply")] {
            assert!(matches!(decide_one(&mail("a@b.c", &[(h, v)])), Decision::Skip(SkipReason::Precedence(_))), "{h}: {v}");
        }
        for h in ["List-Id", "List-Unsubscribe", "list-post"] {
            assert!(matches!(decide_one(&mail("a@b.c", &[(h, "<x>")])), Decision::Skip(SkipReason::MailingList(_))));
        }
        for h in ["X-Autoreply", "X-Autorespond", "X-AutoResponder"] {
            assert!(matches!(decide_one(&mail("a@b.c", &[(h, "yes")])), Decision::Skip(SkipReason::AutoReplyMarker(_))));
        }
        for v in ["All", "DR, OOF", "AutoReply,RN"] {
            assert_eq!(decide_one(&mail("a@b.c", &[("X-Auto-Response-Suppress", v)])), Decision::Skip(SkipReason::SuppressesAutoReplies));
        }
        assert_eq!(decide_one(&mail("a@b.c", &[("X-Auto-Response-Suppress", "DR, RN")])), Decision::Acknowledge);
    }

    #[test]
    fn loops_bounces_and_receipts_are_skipped() {
        assert_eq!(decide_one(&mail("a@b.c", &[("X-Loop", "<SUPPORT@shop.example>")])), Decision::Skip(SkipReason::OurLoopMarker));
        assert_eq!(decide_one(&mail("a@b.c", &[("X-Loop", "other@desk.example")])), Decision::Acknowledge);
        assert_eq!(decide_one(&mail("a@b.c", &[("Return-Path", " < > ")])), Decision::Skip(SkipReason::NullReturnPath));
        let report = ("Content-Type", "Multipart/Report; report-type=disposition-notification");
        assert_eq!(decide_one(&mail("a@b.c", &[report])), Decision::Skip(SkipReason::DeliveryReport));
    }

    #[test]
    fn system_senders_are_recognised_and_customers_are_not() {
        for a in [
            "MAILER-DAEMON@mx.example",
            "postmaster@x",
            "abuse@x",
            "root@x",
            "no-reply@x",
            "NoReply@x",
            "do-not-reply@x",
            "do_not_reply@x",
            "donotreply@x",
            "noreply+abc@x",
            "noreply-billing@x",
            "bounce@x",
            "bounces+123-abc@x",
            "bounce-42@x",
            "owner-users@lists.x",
            "users-request@lists.x",
        ] {
            assert!(system_local_part(a).is_some(), "{a}");
        }
        for a in ["anna@x", "norelyea@x", "rooted@x", "bouncer@x", "owner@x", "request@x", "abuse.victim@x", "noreplyguy@x"] {
            assert!(system_local_part(a).is_none(), "{a}");
        }
    }

    #[test]
    fn our_own_address_and_answers_to_our_automatic_mail_are_skipped() {
        assert_eq!(decide_one(&mail("Help@Shop.example", &[])), Decision::Skip(SkipReason::OurOwnAddress));
        let ours = automatic_message_id("k1", "shop.example");
        let m = mail("a@b.c", &[("In-Reply-To", &format!("<{ours}>"))]);
        assert_eq!(decide_one(&m), Decision::Skip(SkipReason::AnswersOurAutomaticMail));
        let m = mail("a@b.c", &[("References", &format!("<x@y> <{ours}>"))]);
        assert_eq!(decide_one(&m), Decision::Skip(SkipReason::AnswersOurAutomaticMail));
        // A reply to one of our human replies is a normal follow-up.
        assert_eq!(decide_one(&mail("a@b.c", &[("In-Reply-To", "<reply.1@shop.example>")])), Decision::Acknowledge);
    }

    #[test]
    fn mail_without_a_sender_is_skipped() {
        assert_eq!(decide_one(&InboundMail::from_headers(vec![])), Decision::Skip(SkipReason::NoSender));
        assert_eq!(
            decide_one(&InboundMail::from_headers(vec![("From".into(), "undisclosed".into())])),
            Decision::Skip(SkipReason::NoSender)
        );
    }

    #[test]
    fn our_automatic_mail_carries_the_loop_headers() {
        let refs = vec!["root@c".to_owned()];
        let h = automatic_headers("support@shop.example", Some("<m1@c>"), Some("root@c"), &refs);
        let get = |n: &str| h.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("Auto-Submitted"), Some("auto-replied"));
        assert_eq!(get("X-Auto-Response-Suppress"), Some("All"));
        assert_eq!(get("X-Loop"), Some("support@shop.example"));
        assert_eq!(get("In-Reply-To"), Some("<m1@c>"));
        assert_eq!(get("References"), Some("<root@c> <m1@c>"));
        // Our own headers, read back as inbound mail, are never acknowledged.
        let mut echoed: Vec<(String, String)> = h.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        echoed.push(("From".into(), "someone@else.example".into()));
        assert!(matches!(decide_one(&InboundMail::from_headers(echoed)), Decision::Skip(_)));
    }

    #[test]
    fn addresses_and_ids_are_parsed() {
        assert_eq!(address_in("\"Wang, Li\" <li@x.cn>").as_deref(), Some("li@x.cn"));
        assert_eq!(address_in("li@x.cn (Li)").as_deref(), Some("li@x.cn"));
        assert_eq!(address_in("=?UTF-8?B?546L?= <wang@x.cn>").as_deref(), Some("wang@x.cn"));
        assert_eq!(address_in("nobody"), None);
        assert_eq!(message_ids("<a@b>\r\n <c@d>"), vec!["a@b", "c@d"]);
    }
}
