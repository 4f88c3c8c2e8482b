//! Limits applied to customer mail before anything large is allocated or rendered.
//! Customer email is hostile until proven otherwise.

/// Messages larger than this are mirrored headers-only; the body is fetched on demand.
pub const AUTO_FETCH_MAX_BYTES: u32 = 25 * 1024 * 1024;
/// Decoded plain text kept for display and search.
pub const TEXT_MAX_BYTES: usize = 1024 * 1024;
/// Sanitised HTML kept for display.
pub const HTML_MAX_BYTES: usize = 2 * 1024 * 1024;
/// Header values kept (subject, names); longer ones are cut.
pub const HEADER_VALUE_MAX_CHARS: usize = 998;
/// Raw header block parsed; beyond it the message is shown raw.
pub const HEADER_BLOCK_MAX_BYTES: usize = 256 * 1024;
/// Attachments listed per message.
pub const ATTACHMENTS_MAX: usize = 500;

/// Cut `s` to at most `max` bytes on a character boundary.
pub fn truncate_utf8(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

/// A header value fit to show and to reuse in our own headers: control characters
/// (including CR and LF, which could start a new header line) become spaces, runs of
/// white space collapse, and the length is bounded.
pub fn clean_header_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(HEADER_VALUE_MAX_CHARS * 4));
    let mut last_space = true;
    for c in s.chars().take(HEADER_VALUE_MAX_CHARS * 2) {
        let c = if c.is_control() || c.is_whitespace() { ' ' } else { c };
        if c == ' ' {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    let trimmed: String = out.trim().chars().take(HEADER_VALUE_MAX_CHARS).collect();
    trimmed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_char_boundaries() {
        let mut s = "退款退款".to_owned();
        truncate_utf8(&mut s, 4);
        assert_eq!(s, "退");
    }

    #[test]
    fn header_values_cannot_carry_line_breaks() {
        assert_eq!(clean_header_value("Hi\r\nBcc: evil@x\t there"), "Hi Bcc: evil@x there");
        assert_eq!(clean_header_value(&"a".repeat(5000)).len(), HEADER_VALUE_MAX_CHARS);
    }
}
