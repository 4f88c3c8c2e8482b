//! What names one message across UIDVALIDITY changes and duplicate deliveries.

use sha2::{Digest, Sha256};

/// The identity of a message: its Message-ID when it has a usable one, otherwise a hash
/// of its raw bytes (so two copies of the same id-less message still match each other).
pub fn message_identity(message_id: Option<&str>, raw: &[u8]) -> String {
    match message_id.map(str::trim).filter(|id| !id.is_empty() && id.len() <= 998) {
        Some(id) => format!("mid:{}", id.trim_start_matches('<').trim_end_matches('>')),
        None => format!("sha256:{}", hex(&Sha256::digest(raw))),
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_wins_and_brackets_do_not_matter() {
        assert_eq!(message_identity(Some("<a@b>"), b"x"), "mid:a@b");
        assert_eq!(message_identity(Some("a@b"), b"y"), "mid:a@b");
    }

    #[test]
    fn missing_id_falls_back_to_a_content_hash() {
        let a = message_identity(None, b"raw one");
        assert!(a.starts_with("sha256:") && a.len() == 7 + 64);
        assert_eq!(a, message_identity(Some("  "), b"raw one"));
        assert_ne!(a, message_identity(None, b"raw two"));
    }
}
