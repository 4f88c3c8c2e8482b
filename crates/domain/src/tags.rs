//! Conversation tags: the second half of an email type (queue × tag), which quality
//! scorecards and the analytics filter use. A tag is an event in the team's log
//! (`activity::ActivityKind::Tagged`/`Untagged`, keyed by conversation), never an IMAP
//! keyword: a folder's keyword budget is bounded (`keywords.rs`), and tags are
//! open-ended. Every app derives a conversation's tags from the same events the same way.

use std::collections::{BTreeMap, BTreeSet};

/// The longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 32;

/// Why a tag name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("a tag needs at least one letter or digit")]
    Empty,
    #[error("a tag has at most {MAX_TAG_CHARS} characters; {0:?} has {1}")]
    TooLong(String, usize),
    #[error("a tag may hold letters, digits, '-' and '_' only; {tag:?} has {bad:?}")]
    BadCharacter { tag: String, bad: char },
}

/// A tag as every app writes and compares it: trimmed, lower case, inner spaces as '-';
/// letters (any script: 退款, Rückgabe) and digits, '-' and '_'; 1 to `MAX_TAG_CHARS`.
pub fn normalise_tag(raw: &str) -> Result<String, TagError> {
    let words: Vec<&str> = raw.split_whitespace().collect();
    let tag = words.join("-").to_lowercase();
    if !tag.chars().any(char::is_alphanumeric) {
        return Err(TagError::Empty);
    }
    if let Some(bad) = tag.chars().find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_'))) {
        return Err(TagError::BadCharacter { tag, bad });
    }
    let n = tag.chars().count();
    if n > MAX_TAG_CHARS {
        return Err(TagError::TooLong(tag, n));
    }
    Ok(tag)
}

/// One tag change in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagChange<'a> {
    pub at_ms: i64,
    pub conversation: &'a str,
    pub tag: &'a str,
    pub tagged: bool,
}

/// Which of two changes of one conversation's tag stands: the later; at the same
/// millisecond, removing (so two apps that disagree settle alike, whatever order they
/// read the log in). The store's index keeps the same rule.
pub fn supersedes(new: (i64, bool), old: (i64, bool)) -> bool {
    new.0 > old.0 || (new.0 == old.0 && !new.1 && old.1)
}

/// Each conversation's current tags, from its changes in any order.
pub fn current_tags<'a>(changes: impl IntoIterator<Item = TagChange<'a>>) -> BTreeMap<String, BTreeSet<String>> {
    let mut last: BTreeMap<(&str, &str), (i64, bool)> = BTreeMap::new();
    for c in changes {
        let e = last.entry((c.conversation, c.tag)).or_insert((c.at_ms, c.tagged));
        if supersedes((c.at_ms, c.tagged), *e) {
            *e = (c.at_ms, c.tagged);
        }
    }
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for ((conversation, tag), (_, tagged)) in last {
        if tagged {
            out.entry(conversation.to_owned()).or_default().insert(tag.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalised_and_bad_ones_refused_with_the_reason() {
        assert_eq!(normalise_tag("  Refund ").unwrap(), "refund");
        assert_eq!(normalise_tag("Late  Delivery").unwrap(), "late-delivery");
        assert_eq!(normalise_tag("退款").unwrap(), "退款");
        assert_eq!(normalise_tag("Rückgabe_2").unwrap(), "rückgabe_2");
        assert_eq!(normalise_tag("   "), Err(TagError::Empty));
        assert_eq!(normalise_tag("--"), Err(TagError::Empty));
        assert_eq!(normalise_tag("a,b"), Err(TagError::BadCharacter { tag: "a,b".into(), bad: ',' }));
        assert!(matches!(normalise_tag("<script>"), Err(TagError::BadCharacter { bad: '<', .. })));
        assert!(matches!(normalise_tag("x\u{0}"), Err(TagError::BadCharacter { bad: '\u{0}', .. })));
        assert_eq!(normalise_tag(&"退".repeat(MAX_TAG_CHARS)).unwrap().chars().count(), MAX_TAG_CHARS);
        let long = normalise_tag(&"a".repeat(MAX_TAG_CHARS + 1)).unwrap_err();
        assert_eq!(long, TagError::TooLong("a".repeat(33), 33));
        assert!(long.to_string().contains("at most 32"), "{long}");
    }

    #[test]
    fn the_latest_change_stands_in_any_order_and_a_tie_removes() {
        let c = |at_ms, conversation, tag, tagged| TagChange { at_ms, conversation, tag, tagged };
        let log = [
            c(1, "a@x", "refund", true),
            c(2, "a@x", "vip", true),
            c(3, "a@x", "refund", false),
            c(4, "b@x", "refund", true),
            c(5, "b@x", "late", true),
            c(5, "b@x", "late", false),
            c(6, "c@x", "vip", false),
        ];
        let expected: BTreeMap<String, BTreeSet<String>> =
            [("a@x".to_owned(), ["vip".to_owned()].into()), ("b@x".to_owned(), ["refund".to_owned()].into())].into();
        assert_eq!(current_tags(log.clone()), expected);
        assert_eq!(current_tags(log.into_iter().rev()), expected, "read in another order");
        assert!(supersedes((2, true), (1, false)) && !supersedes((1, true), (2, false)));
        assert!(supersedes((5, false), (5, true)) && !supersedes((5, true), (5, false)));
    }
}
