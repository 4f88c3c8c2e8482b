//! Full-text search text shaping.
//!
//! SQLite's `unicode61` tokenizer keeps a run of Chinese characters as one token, so
//! "退款" would never match inside "我要退款谢谢". We index CJK text with a space around
//! every ideograph (one token per character) and turn a CJK query word into a phrase of
//! its characters. Latin text is left for the tokenizer.

/// True for the scripts written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF       // Hiragana, Katakana
        | 0x3400..=0x4DBF     // CJK Extension A
        | 0x4E00..=0x9FFF     // CJK Unified Ideographs
        | 0xAC00..=0xD7AF     // Hangul syllables
        | 0xF900..=0xFAFF     // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F) // Extensions B.. and compatibility supplement
}

/// Text as stored in the FTS index.
pub fn index_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 2);
    for c in s.chars() {
        if is_cjk(c) {
            out.push(' ');
            out.push(c);
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// An FTS5 MATCH expression for what an advisor typed: every word must appear (AND);
/// each word is quoted so FTS5 syntax characters in the query are inert; a CJK word
/// becomes a phrase of its characters. Returns `None` when nothing searchable is left.
pub fn match_query(user_query: &str) -> Option<String> {
    let mut terms = Vec::new();
    for word in user_query.split_whitespace() {
        let cleaned: String = word.chars().filter(|c| c.is_alphanumeric() || is_cjk(*c)).collect();
        if cleaned.is_empty() {
            continue;
        }
        let spaced = index_text(&cleaned);
        let phrase = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
        terms.push(format!("\"{phrase}\""));
    }
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" AND "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_split_per_character() {
        assert_eq!(index_text("我要退款"), " 我  要  退  款 ");
        assert_eq!(index_text("order 退款"), "order  退  款 ");
    }

    #[test]
    fn queries_are_quoted_phrases() {
        assert_eq!(match_query("退款 order").as_deref(), Some("\"退 款\" AND \"order\""));
        assert_eq!(match_query("refund\"OR*"), Some("\"refundOR\"".to_owned()));
        assert_eq!(match_query("  \" * ( "), None);
    }
}
