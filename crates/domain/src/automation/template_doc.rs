//! Reply templates as documents in the shared mailbox (`Blendesk/Templates`), and which
//! version of each an advisor may use.
//!
//! One message per template version: Subject and `X-Blendesk-Template` = the name,
//! `X-Blendesk-Queue`, `X-Blendesk-Language`, the body with `{{placeholders}}`.
//! `X-Blendesk-Footer: yes` marks a queue's FAQ-links footer (name `footer/<queue>`),
//! appended to that queue's templates. `X-Blendesk-Deleted: yes` withdraws a name.
//!
//! **Trust model.** A version is approved by the IMAP keyword `$bd_approved_<id>` on
//! that message, where `<id>` is the approving advisor. The apps count an approval only
//! when `<id>` is a supervisor in the policy in force (so removing a supervisor revokes
//! what only they approved) and only the app of a supervisor sets it. Advisors are shown
//! the newest *approved* version of each name: publishing an edit does not withdraw the
//! approved text until the edit is itself approved, and an unapproved text never reaches
//! an advisor's picker. What stops an advisor from setting the keyword by hand in a mail
//! client is the mailbox's access control (RFC 4314: only supervisors get the `w`/`i`
//! rights on `Blendesk/Templates`), exactly as for the policy folder; the apps'
//! checks keep honest clients honest and make a stray keyword (an approver who is not a
//! supervisor) count for nothing.

use crate::knowledge::{header, DocError, BODY_MAX_BYTES, DELETED_HEADER};
use crate::limits::clean_header_value;

pub const TEMPLATE_HEADER: &str = "X-Blendesk-Template";
pub const QUEUE_HEADER: &str = "X-Blendesk-Queue";
pub const LANGUAGE_HEADER: &str = "X-Blendesk-Language";
pub const FOOTER_HEADER: &str = "X-Blendesk-Footer";
/// `$bd_approved_<advisor id>` on a template version.
pub const APPROVED_PREFIX: &str = "$bd_approved_";
pub const NAME_MAX_CHARS: usize = 80;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateDoc {
    pub name: String,
    pub queue: String,
    pub language: String,
    pub body: String,
    /// The queue's FAQ-links footer rather than a reply template.
    pub footer: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateEntry {
    Template(TemplateDoc),
    Tombstone { name: String },
}

/// The footer's reserved name for `queue`.
pub fn footer_name(queue: &str) -> String {
    format!("footer/{queue}")
}

fn valid_language(l: &str) -> bool {
    let mut parts = l.split('-');
    let main = parts.next().unwrap_or("");
    (2..=3).contains(&main.len())
        && main.chars().all(|c| c.is_ascii_lowercase())
        && parts.all(|p| (2..=4).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Check a template before it is published, or when it is read back.
pub fn validate_template(name: &str, queue: &str, language: &str, body: &str, footer: bool) -> Result<TemplateDoc, DocError> {
    let name = if footer { footer_name(&clean_header_value(queue)) } else { clean_header_value(name) };
    if name.is_empty() {
        return Err(DocError::Invalid("the template needs a name".into()));
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(DocError::Invalid(format!("the template name is longer than {NAME_MAX_CHARS} characters")));
    }
    if !footer && name.starts_with("footer/") {
        return Err(DocError::Invalid("names starting with footer/ are for FAQ footers (publish with --footer)".into()));
    }
    let queue = clean_header_value(queue);
    if queue.is_empty() || queue.len() > 200 {
        return Err(DocError::Invalid("the template needs a queue (an IMAP folder name such as INBOX)".into()));
    }
    let language = language.trim().to_owned();
    if !valid_language(&language) {
        return Err(DocError::Invalid(format!(
            "the language {:?} is not a language tag such as en or zh-CN",
            language.chars().take(20).collect::<String>()
        )));
    }
    if body.trim().is_empty() {
        return Err(DocError::EmptyBody);
    }
    if body.len() > BODY_MAX_BYTES {
        return Err(DocError::BodyTooLarge(body.len()));
    }
    Ok(TemplateDoc { name, queue, language, body: body.replace("\r\n", "\n").trim_end().to_owned(), footer })
}

/// What a message of the templates folder is, from its decoded headers and text body.
pub fn parse_template_message(headers: &[(String, String)], body: &str) -> Result<TemplateEntry, DocError> {
    let name = header(headers, TEMPLATE_HEADER).ok_or(DocError::MissingHeader(TEMPLATE_HEADER))?;
    if header(headers, DELETED_HEADER).is_some_and(|v| v.eq_ignore_ascii_case("yes")) {
        let name = clean_header_value(name);
        return if name.is_empty() {
            Err(DocError::Invalid("a tombstone without a name".into()))
        } else {
            Ok(TemplateEntry::Tombstone { name })
        };
    }
    let queue = header(headers, QUEUE_HEADER).ok_or(DocError::MissingHeader(QUEUE_HEADER))?;
    let language = header(headers, LANGUAGE_HEADER).ok_or(DocError::MissingHeader(LANGUAGE_HEADER))?;
    let footer = header(headers, FOOTER_HEADER).is_some_and(|v| v.eq_ignore_ascii_case("yes"));
    validate_template(name, queue, language, body, footer).map(TemplateEntry::Template)
}

pub fn approval_keyword(advisor: &str) -> String {
    format!("{APPROVED_PREFIX}{advisor}")
}

/// Advisor ids named by approval keywords among `flags`.
pub fn approvers(flags: &[String]) -> Vec<String> {
    flags
        .iter()
        .filter_map(|f| {
            let lower = f.to_ascii_lowercase();
            lower.strip_prefix(APPROVED_PREFIX).map(str::to_owned)
        })
        .filter(|id| !id.is_empty())
        .collect()
}

/// One mirrored version (higher `uid` = newer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateVersion {
    pub uid: u32,
    pub entry: TemplateEntry,
    pub flags: Vec<String>,
}

/// A template as the apps list it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct TemplateView {
    pub name: String,
    pub queue: String,
    pub language: String,
    pub body: String,
    pub footer: bool,
    /// The version shown (its UID in the templates folder).
    pub uid: u32,
    pub approved: bool,
    /// Supervisors who approved the version shown.
    pub approved_by: Vec<String>,
    /// A newer version waiting for approval, if any.
    pub pending_uid: Option<u32>,
}

/// The templates in force. Per name: a newest tombstone hides it; otherwise advisors
/// (`include_pending = false`) get the newest version approved by a current supervisor
/// and nothing if there is none; supervisors (`true`) get the newest version, approved
/// or not, with `approved` saying which. `\Deleted` versions are ignored.
pub fn templates_in_force(versions: &[TemplateVersion], supervisors: &[String], include_pending: bool) -> Vec<TemplateView> {
    let mut sorted: Vec<&TemplateVersion> =
        versions.iter().filter(|v| !v.flags.iter().any(|f| f.eq_ignore_ascii_case("\\Deleted"))).collect();
    sorted.sort_by_key(|v| std::cmp::Reverse(v.uid));
    let mut names: Vec<String> = Vec::new();
    for v in &sorted {
        let n = match &v.entry {
            TemplateEntry::Template(t) => &t.name,
            TemplateEntry::Tombstone { name } => name,
        };
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    let approved_by =
        |v: &TemplateVersion| -> Vec<String> { approvers(&v.flags).into_iter().filter(|a| supervisors.iter().any(|s| s == a)).collect() };
    let mut out = Vec::new();
    for name in names {
        let mine: Vec<&&TemplateVersion> = sorted
            .iter()
            .filter(|v| match &v.entry {
                TemplateEntry::Template(t) => t.name == name,
                TemplateEntry::Tombstone { name: n } => *n == name,
            })
            .collect();
        // Versions newer than the newest tombstone only.
        let live: Vec<&&TemplateVersion> = mine.iter().take_while(|v| matches!(v.entry, TemplateEntry::Template(_))).copied().collect();
        let Some(newest) = live.first() else { continue };
        let newest_approved = live.iter().find(|v| !approved_by(v).is_empty());
        let (shown, pending) = if include_pending {
            let pending = if approved_by(newest).is_empty() { Some(newest.uid) } else { None };
            (Some(*newest), pending)
        } else {
            (newest_approved.copied(), if approved_by(newest).is_empty() { Some(newest.uid) } else { None })
        };
        let Some(v) = shown else { continue };
        let TemplateEntry::Template(t) = &v.entry else { continue };
        let by = approved_by(v);
        out.push(TemplateView {
            name: t.name.clone(),
            queue: t.queue.clone(),
            language: t.language.clone(),
            body: t.body.clone(),
            footer: t.footer,
            uid: v.uid,
            approved: !by.is_empty(),
            approved_by: by,
            pending_uid: pending.filter(|p| *p != v.uid || include_pending),
        });
    }
    out.sort_by(|a, b| (a.footer, &a.queue, &a.name).cmp(&(b.footer, &b.queue, &b.name)));
    out
}

/// A template body with its queue's FAQ footer (if any) below it.
pub fn with_footer(body: &str, footer: Option<&str>) -> String {
    match footer.map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => format!("{}\n\n{f}", body.trim_end()),
        None => body.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    fn version(uid: u32, name: &str, body: &str, flags: &[&str]) -> TemplateVersion {
        TemplateVersion {
            uid,
            entry: TemplateEntry::Template(validate_template(name, "INBOX", "en", body, false).unwrap()),
            flags: flags.iter().map(|f| f.to_string()).collect(),
        }
    }

    #[test]
    fn a_template_message_is_parsed_and_checked() {
        let e = parse_template_message(
            &h(&[(TEMPLATE_HEADER, "Refund sent"), (QUEUE_HEADER, "Billing"), (LANGUAGE_HEADER, "zh-CN")]),
            "Dear {{customer.first_name}},\r\n",
        )
        .unwrap();
        assert_eq!(
            e,
            TemplateEntry::Template(TemplateDoc {
                name: "Refund sent".into(),
                queue: "Billing".into(),
                language: "zh-CN".into(),
                body: "Dear {{customer.first_name}},".into(),
                footer: false
            })
        );
        let f = parse_template_message(
            &h(&[(TEMPLATE_HEADER, "x"), (QUEUE_HEADER, "INBOX"), (LANGUAGE_HEADER, "en"), (FOOTER_HEADER, "yes")]),
            "FAQ: https://x",
        )
        .unwrap();
        assert!(matches!(f, TemplateEntry::Template(TemplateDoc { ref name, footer: true, .. }) if name == "footer/INBOX"));
    }

    #[test]
    fn missing_headers_and_bad_values_are_refused_with_a_reason() {
        assert_eq!(parse_template_message(&h(&[]), "b"), Err(DocError::MissingHeader(TEMPLATE_HEADER)));
        assert_eq!(parse_template_message(&h(&[(TEMPLATE_HEADER, "n")]), "b"), Err(DocError::MissingHeader(QUEUE_HEADER)));
        let e = parse_template_message(&h(&[(TEMPLATE_HEADER, "n"), (QUEUE_HEADER, "INBOX"), (LANGUAGE_HEADER, "english!")]), "b");
        assert!(matches!(e, Err(DocError::Invalid(m)) if m.contains("language")));
        assert!(matches!(validate_template("footer/x", "INBOX", "en", "b", false), Err(DocError::Invalid(_))));
        assert_eq!(validate_template("n", "INBOX", "en", "  ", false), Err(DocError::EmptyBody));
        assert!(matches!(validate_template(&"n".repeat(81), "INBOX", "en", "b", false), Err(DocError::Invalid(_))));
    }

    #[test]
    fn approvals_count_only_from_current_supervisors() {
        assert_eq!(approvers(&["\\Seen".into(), "$BD_approved_sam".into(), "$bd_approved_".into()]), ["sam"]);
        let sups = vec!["sam".to_owned()];
        let versions = [
            version(1, "Refund", "v1", &["$bd_approved_sam"]),
            version(2, "Refund", "v2", &[]),
            version(3, "Delay", "d1", &["$bd_approved_bob"]),
        ];
        // Advisors: the newest approved text; "Delay" was approved by a non-supervisor.
        let adv = templates_in_force(&versions, &sups, false);
        assert_eq!(adv.len(), 1);
        assert_eq!((adv[0].name.as_str(), adv[0].body.as_str(), adv[0].pending_uid), ("Refund", "v1", Some(2)));
        assert_eq!(adv[0].approved_by, ["sam"]);
        // Supervisors: the newest of each, pending ones marked.
        let sup = templates_in_force(&versions, &sups, true);
        let names: Vec<_> = sup.iter().map(|t| (t.name.as_str(), t.body.as_str(), t.approved)).collect();
        assert_eq!(names, [("Delay", "d1", false), ("Refund", "v2", false)]);
        // Sam no longer a supervisor: nothing is approved.
        assert!(templates_in_force(&versions, &[], false).is_empty());
    }

    #[test]
    fn tombstones_and_deleted_versions_hide_templates() {
        let sups = vec!["sam".to_owned()];
        let mut versions = vec![
            version(1, "Refund", "v1", &["$bd_approved_sam"]),
            TemplateVersion { uid: 2, entry: TemplateEntry::Tombstone { name: "Refund".into() }, flags: vec![] },
        ];
        assert!(templates_in_force(&versions, &sups, true).is_empty());
        versions.push(version(3, "Refund", "v3", &["$bd_approved_sam"]));
        assert_eq!(templates_in_force(&versions, &sups, false)[0].body, "v3");
        versions[2].flags.push("\\Deleted".into());
        assert!(templates_in_force(&versions, &sups, false).is_empty(), "v1 is older than the tombstone");
    }

    #[test]
    fn footers_go_below_the_body() {
        assert_eq!(with_footer("Hi\n", Some("FAQ: x")), "Hi\n\nFAQ: x");
        assert_eq!(with_footer("Hi", Some("  ")), "Hi");
        assert_eq!(with_footer("Hi", None), "Hi");
    }
}
