//! Reply templates with placeholders such as `{{customer.first_name}}`.
//!
//! The rules, chosen so that a customer never receives a half-filled template:
//! - `{{name}}` (spaces inside the braces allowed) is a placeholder when `name` is dotted
//!   words of ASCII letters, digits and `_` (`customer.first_name`; matched
//!   case-insensitively, so `{{Customer.First_Name}}` is the same). Every such placeholder must have a
//!   non-blank value, or rendering fails with an error naming **every** missing one and
//!   the reply is not sent. This includes names we do not know: a typo such as
//!   `{{custmer.first_name}}` blocks sending instead of reaching the customer.
//! - `{{name?}}` is optional: without a value it renders as nothing, and a line left
//!   empty by it is dropped (the apology line of the skeleton, "where due").
//! - Anything else with braces (`{single}`, `{{ two words }}`, an unclosed `{{`) is plain
//!   text and stays as written: customers and knowledge articles use braces too.
//!   [`lint`] reports those, and unknown names, to the supervisor approving a template.
//! - Values are inserted as they are, never expanded again: a customer named `{{x}}`
//!   stays `{{x}}`.

use std::collections::HashMap;
use std::fmt;

/// Placeholders the app fills. `reply.*` are written by the advisor in the editor.
pub const KNOWN_PLACEHOLDERS: &[&str] = &[
    "customer.first_name",
    "customer.name",
    "advisor.name",
    "conversation.ref",
    "conversation.subject",
    "sla.due",
    "queue.name",
    "reply.apology",
    "reply.answer",
    "reply.details",
    "reply.action",
];

/// Rendering failed: these placeholders (in order of first appearance) have no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingValues {
    pub missing: Vec<String>,
}

impl fmt::Display for MissingValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.missing.iter().map(|n| format!("{{{{{n}}}}}")).collect();
        write!(f, "sending is blocked: no value for {}", names.join(", "))
    }
}

impl std::error::Error for MissingValues {}

/// A problem [`lint`] finds in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateProblem {
    /// `{{` without `}}` on the same line (1-based line number); left as text.
    Unclosed { line: usize },
    /// Braces whose content is not a placeholder name; left as text.
    Malformed { line: usize, text: String },
    /// A well-formed placeholder the app does not fill; sending will be blocked unless a
    /// value is given.
    Unknown { line: usize, name: String },
}

/// One piece of a template line.
enum Piece<'a> {
    Text(&'a str),
    Placeholder { name: String, optional: bool },
    Unclosed,
    Malformed(&'a str),
}

/// Splits one line into text and placeholders.
fn pieces(line: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find("{{") {
        out.push(Piece::Text(&rest[..open]));
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push(Piece::Unclosed);
            out.push(Piece::Text(&rest[open..]));
            return out;
        };
        let inner = after[..close].trim();
        let (name, optional) = match inner.strip_suffix('?') {
            Some(n) => (n.trim_end(), true),
            None => (inner, false),
        };
        if is_placeholder_name(name) {
            out.push(Piece::Placeholder { name: name.to_ascii_lowercase(), optional });
        } else {
            out.push(Piece::Malformed(&rest[open..open + 2 + close + 2]));
        }
        rest = &after[close + 2..];
    }
    out.push(Piece::Text(rest));
    out
}

/// Dotted words: `customer.first_name`, `sla.due`.
fn is_placeholder_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .split('.')
            .all(|part| part.starts_with(|c: char| c.is_ascii_alphabetic()) && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Renders `template` with `values` (keyed by lower-case names, e.g. `sla.due`); fails
/// naming every placeholder without a value.
pub fn render(template: &str, values: &HashMap<String, String>) -> Result<String, MissingValues> {
    let value = |name: &str| values.get(name).map(String::as_str).filter(|v| !v.trim().is_empty());
    let mut missing: Vec<String> = Vec::new();
    let mut lines = Vec::new();
    for line in template.split('\n') {
        let mut rendered = String::with_capacity(line.len());
        let mut dropped_optional = false;
        for piece in pieces(line) {
            match piece {
                Piece::Text(t) | Piece::Malformed(t) => rendered.push_str(t),
                Piece::Unclosed => {}
                Piece::Placeholder { name, optional } => match value(&name) {
                    Some(v) => rendered.push_str(v),
                    None if optional => dropped_optional = true,
                    None => {
                        if !missing.contains(&name) {
                            missing.push(name);
                        }
                    }
                },
            }
        }
        if !(dropped_optional && rendered.trim().is_empty()) {
            lines.push(rendered);
        }
    }
    if missing.is_empty() {
        Ok(lines.join("\n"))
    } else {
        Err(MissingValues { missing })
    }
}

/// The placeholder names `template` uses (lower-case, first appearance order).
pub fn placeholders(template: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in template.split('\n') {
        for piece in pieces(line) {
            if let Piece::Placeholder { name, .. } = piece {
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
    out
}

/// `template` with the placeholders that have a value filled, and the others left as
/// written (`{{reply.answer}}` stays for the advisor to replace; sending is blocked
/// while any remains — see [`render`]).
pub fn prefill(template: &str, values: &HashMap<String, String>) -> String {
    let mut lines = Vec::new();
    for line in template.split('\n') {
        let mut out = String::with_capacity(line.len());
        for piece in pieces(line) {
            match piece {
                Piece::Text(t) | Piece::Malformed(t) => out.push_str(t),
                Piece::Unclosed => {}
                Piece::Placeholder { name, optional } => match values.get(&name).filter(|v| !v.trim().is_empty()) {
                    Some(v) => out.push_str(v),
                    None if optional => out.push_str(&format!("{{{{{name}?}}}}")),
                    None => out.push_str(&format!("{{{{{name}}}}}")),
                },
            }
        }
        lines.push(out);
    }
    lines.join("\n")
}

/// Problems in a template, for the supervisor who approves it.
pub fn lint(template: &str) -> Vec<TemplateProblem> {
    let mut problems = Vec::new();
    for (i, line) in template.split('\n').enumerate() {
        let line_no = i + 1;
        for piece in pieces(line) {
            match piece {
                Piece::Unclosed => problems.push(TemplateProblem::Unclosed { line: line_no }),
                Piece::Malformed(text) => problems.push(TemplateProblem::Malformed { line: line_no, text: text.to_owned() }),
                Piece::Placeholder { name, .. } if !KNOWN_PLACEHOLDERS.contains(&name.as_str()) => {
                    problems.push(TemplateProblem::Unknown { line: line_no, name })
                }
                _ => {}
            }
        }
    }
    problems
}

/// Details as a bulleted list, one item a line, for `{{reply.details}}`.
pub fn bullets<S: AsRef<str>>(items: &[S]) -> String {
    let lines: Vec<String> = items.iter().map(|i| i.as_ref().trim()).filter(|i| !i.is_empty()).map(|i| format!("- {i}")).collect();
    lines.join("\n")
}

/// The default reply skeleton: thanks, apology where due, the answer, details as bullets,
/// the action requested, reassurance.
pub const DEFAULT_SKELETON_EN: &str = "\
Dear {{customer.first_name}},

Thank you for getting in touch about {{conversation.subject}}.
{{reply.apology?}}

{{reply.answer}}

The details:
{{reply.details}}

What we need from you: {{reply.action}}

Your reference is {{conversation.ref}}. If anything else comes up, just reply to this email and it will reach me.

Kind regards,
{{advisor.name}}";

/// The default reply skeleton in Chinese, same structure.
pub const DEFAULT_SKELETON_ZH: &str = "\
{{customer.name}}，您好！

感谢您就“{{conversation.subject}}”联系我们。
{{reply.apology?}}

{{reply.answer}}

具体情况如下：
{{reply.details}}

需要您配合的是：{{reply.action}}

您的服务编号是 {{conversation.ref}}。如有其他问题，直接回复本邮件即可，我会继续跟进。

祝好！
{{advisor.name}}";

/// The automatic acknowledgement: states when a human will answer.
pub const DEFAULT_ACKNOWLEDGEMENT_EN: &str = "\
Thank you for your email. We have received it under reference {{conversation.ref}}.

One of our team will reply by {{sla.due}}. You do not need to write again; if you have more to add, just reply to this email.

This is an automatic message.";

pub const DEFAULT_ACKNOWLEDGEMENT_ZH: &str = "\
感谢您的来信，我们已收到，服务编号为 {{conversation.ref}}。

我们的客服人员将在 {{sla.due}} 之前回复您，无需重复来信；如需补充信息，直接回复本邮件即可。

（此邮件为系统自动发送）";

/// The note sent once when the reply-time promise slips.
pub const DEFAULT_STILL_WORKING_EN: &str = "\
We are still working on your request {{conversation.ref}} and have not forgotten you. We are sorry it is taking longer than we promised; you will hear from us as soon as possible.

This is an automatic message.";

pub const DEFAULT_STILL_WORKING_ZH: &str = "\
您的请求 {{conversation.ref}} 仍在处理中，我们没有忘记您。抱歉比承诺的时间更久，我们会尽快回复您。

（此邮件为系统自动发送）";

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn full() -> HashMap<String, String> {
        values(&[
            ("customer.first_name", "Anna"),
            ("customer.name", "王芳"),
            ("advisor.name", "Sam"),
            ("conversation.ref", "SHOP-1042"),
            ("conversation.subject", "order 10442"),
            ("sla.due", "Monday 12:00"),
            ("reply.answer", "Your parcel left our depot today."),
            ("reply.details", &bullets(&["Carrier: DPD", "Tracking: 1Z999"])),
            ("reply.action", "nothing, it is on its way."),
        ])
    }

    #[test]
    fn placeholders_are_filled_with_or_without_inner_spaces() {
        let out = render("Hi {{customer.first_name}}, I am {{ advisor.name }}. Ref {{conversation.ref}}, due {{sla.due}}.", &full());
        assert_eq!(out.as_deref(), Ok("Hi Anna, I am Sam. Ref SHOP-1042, due Monday 12:00."));
    }

    #[test]
    fn every_missing_value_is_named_and_blocks_sending() {
        let err = render("{{customer.first_name}} {{sla.due}} {{custmer.first_name}} {{sla.due}}", &values(&[("sla.due", "  ")]))
            .expect_err("blocked");
        assert_eq!(err.missing, vec!["customer.first_name", "sla.due", "custmer.first_name"]);
        assert_eq!(err.to_string(), "sending is blocked: no value for {{customer.first_name}}, {{sla.due}}, {{custmer.first_name}}");
    }

    #[test]
    fn malformed_braces_stay_text_and_values_are_not_expanded() {
        let v = values(&[("customer.first_name", "{{advisor.name}}")]);
        let out = render("{x} {{ two words }} {{a-b}} {{}} {{Customer.First_Name}} {{ unclosed", &v);
        assert_eq!(out.as_deref(), Ok("{x} {{ two words }} {{a-b}} {{}} {{advisor.name}} {{ unclosed"));
    }

    #[test]
    fn an_optional_apology_line_disappears_when_not_due() {
        let t = "Thanks.\n{{reply.apology?}}\nAnswer.";
        assert_eq!(render(t, &full()).as_deref(), Ok("Thanks.\nAnswer."));
        let mut v = full();
        v.insert("reply.apology".into(), "Sorry for the wait.".into());
        assert_eq!(render(t, &v).as_deref(), Ok("Thanks.\nSorry for the wait.\nAnswer."));
    }

    #[test]
    fn the_skeletons_render_in_english_and_chinese() {
        let en = render(DEFAULT_SKELETON_EN, &full()).expect("renders");
        assert!(en.starts_with("Dear Anna,\n\nThank you for getting in touch about order 10442.\n\nYour parcel"));
        assert!(en.contains("The details:\n- Carrier: DPD\n- Tracking: 1Z999\n"));
        assert!(en.ends_with("Kind regards,\nSam"));
        let zh = render(DEFAULT_SKELETON_ZH, &full()).expect("renders");
        assert!(zh.starts_with("王芳，您好！"));
        assert!(!zh.contains("{{"));
        for t in [
            DEFAULT_SKELETON_EN,
            DEFAULT_SKELETON_ZH,
            DEFAULT_ACKNOWLEDGEMENT_EN,
            DEFAULT_ACKNOWLEDGEMENT_ZH,
            DEFAULT_STILL_WORKING_EN,
            DEFAULT_STILL_WORKING_ZH,
        ] {
            assert_eq!(lint(t), vec![], "{t}");
            assert!(render(t, &full()).is_ok());
        }
        // Without the advisor's parts the skeleton cannot go out.
        let err = render(DEFAULT_SKELETON_EN, &values(&[("customer.first_name", "Anna")])).expect_err("blocked");
        assert_eq!(
            err.missing,
            vec!["conversation.subject", "reply.answer", "reply.details", "reply.action", "conversation.ref", "advisor.name"]
        );
    }

    #[test]
    fn lint_reports_what_a_supervisor_should_fix() {
        let problems = lint("Hi {{customer.firstname}}\n{{ two words }} and {{sla.due");
        assert_eq!(
            problems,
            vec![
                TemplateProblem::Unknown { line: 1, name: "customer.firstname".into() },
                TemplateProblem::Malformed { line: 2, text: "{{ two words }}".into() },
                TemplateProblem::Unclosed { line: 2 },
            ]
        );
    }

    #[test]
    fn prefill_fills_what_it_can_and_leaves_the_rest_to_block_sending() {
        let t = "Hi {{customer.first_name}},\n{{reply.apology?}}\n{{reply.answer}}\n{{advisor.name}}";
        assert_eq!(placeholders(t), ["customer.first_name", "reply.apology", "reply.answer", "advisor.name"]);
        let out = prefill(t, &values(&[("customer.first_name", "Anna"), ("advisor.name", "Sam")]));
        assert_eq!(out, "Hi Anna,\n{{reply.apology?}}\n{{reply.answer}}\nSam");
        let err = render(&out, &HashMap::new()).expect_err("still blocked");
        assert_eq!(err.missing, ["reply.answer"]);
        let done = out.replace("{{reply.answer}}", "It left today.");
        assert_eq!(render(&done, &HashMap::new()).as_deref(), Ok("Hi Anna,\nIt left today.\nSam"));
    }

    #[test]
    fn bullets_skip_blank_items() {
        assert_eq!(bullets(&["a", " ", "b "]), "- a\n- b");
    }
}
