//! The knowledge base as documents in the shared mailbox (`Blendesk/Knowledge`), and how
//! an open email becomes a knowledge query.
//!
//! One message per article version: the Subject is the title, the body is Markdown, and
//! headers carry the rest:
//!
//! - `X-Blendesk-Article: <id>` — the article's id (`[a-z0-9][a-z0-9_-]{0,63}`). A new
//!   version is a new message with the same id; the newest (highest UID) wins.
//! - `X-Blendesk-Tags: refund, 退款` — comma-separated tags.
//! - `X-Blendesk-Deleted: yes` — a tombstone: the article is withdrawn (a supervisor may
//!   also flag a version `\Deleted`; the next-newest version then applies).
//! - `X-Blendesk-Usage: <id>` — one "an advisor used this snippet" event (see
//!   [`USAGE_HEADER`]).
//!
//! Pure: parsing takes already-decoded header values; no I/O here.

use crate::limits::clean_header_value;

pub const ARTICLE_HEADER: &str = "X-Blendesk-Article";
pub const TAGS_HEADER: &str = "X-Blendesk-Tags";
pub const DELETED_HEADER: &str = "X-Blendesk-Deleted";
pub const AUTHOR_HEADER: &str = "X-Blendesk-Author";
/// A usage event is its own small message in the knowledge folder rather than a counter:
/// APPEND never conflicts, so two advisors marking the same snippet at the same moment
/// both count (a counter in a keyword or header would need a compare-and-swap loop and
/// could lose updates), every app sees the same team-wide count, and the history of use
/// stays auditable. The count is the number of usage messages for the article id.
pub const USAGE_HEADER: &str = "X-Blendesk-Usage";

pub const TITLE_MAX_CHARS: usize = 200;
pub const BODY_MAX_BYTES: usize = 256 * 1024;
pub const TAGS_MAX: usize = 20;
pub const TAG_MAX_CHARS: usize = 40;
pub const ID_MAX_CHARS: usize = 64;

/// Why a knowledge or template document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocError {
    #[error("the title is empty")]
    EmptyTitle,
    #[error("the title is longer than {TITLE_MAX_CHARS} characters")]
    TitleTooLong,
    #[error("the body is empty")]
    EmptyBody,
    #[error("the body is {0} bytes; the limit is {BODY_MAX_BYTES}")]
    BodyTooLarge(usize),
    #[error("the id {0:?} is not valid: use 1-64 of a-z, 0-9, '-' and '_', starting with a letter or digit")]
    BadId(String),
    #[error("too many tags ({0}; at most {TAGS_MAX})")]
    TooManyTags(usize),
    #[error("the tag {0:?} is longer than {TAG_MAX_CHARS} characters")]
    TagTooLong(String),
    #[error("the message has no {0} header: not a Blendesk document")]
    MissingHeader(&'static str),
    #[error("{0}")]
    Invalid(String),
}

/// An article as written by a supervisor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub id: String,
    pub title: String,
    pub tags: Vec<String>,
    /// Markdown.
    pub body: String,
}

/// What one message in the knowledge folder is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KnowledgeEntry {
    Article(Article),
    Tombstone { id: String },
    Usage { id: String },
}

pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= ID_MAX_CHARS
        && id.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// An id for a new article: the title's ASCII words as a slug, with `suffix` (random,
/// passed in) so two supervisors writing "Refunds" at once do not collide.
pub fn new_article_id(title: &str, suffix: u32) -> String {
    let mut slug = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_matches('-');
    if slug.is_empty() {
        format!("kb-{suffix:08x}")
    } else {
        format!("{slug}-{suffix:08x}")
    }
}

/// Tags from a comma-separated list (either `,` or the Chinese `，`), trimmed,
/// lowercased, duplicates and empties dropped.
pub fn parse_tags(list: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in list.split([',', '，']) {
        let t = clean_header_value(t).to_lowercase();
        if !t.is_empty() && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// Check an article before it is published, or when it is read back.
pub fn validate_article(id: &str, title: &str, tags: &[String], body: &str) -> Result<Article, DocError> {
    if !valid_id(id) {
        return Err(DocError::BadId(id.chars().take(80).collect()));
    }
    let title = clean_header_value(title);
    if title.is_empty() {
        return Err(DocError::EmptyTitle);
    }
    if title.chars().count() > TITLE_MAX_CHARS {
        return Err(DocError::TitleTooLong);
    }
    if body.trim().is_empty() {
        return Err(DocError::EmptyBody);
    }
    if body.len() > BODY_MAX_BYTES {
        return Err(DocError::BodyTooLarge(body.len()));
    }
    if tags.len() > TAGS_MAX {
        return Err(DocError::TooManyTags(tags.len()));
    }
    if let Some(t) = tags.iter().find(|t| t.chars().count() > TAG_MAX_CHARS) {
        return Err(DocError::TagTooLong(t.chars().take(60).collect()));
    }
    Ok(Article { id: id.to_owned(), title, tags: tags.to_vec(), body: body.replace("\r\n", "\n").trim_end().to_owned() })
}

/// The value of header `name` (case-insensitive) among decoded `headers`.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
}

/// What a message of the knowledge folder is, from its decoded headers, subject and
/// text body. Anything else in the folder is refused with the reason.
pub fn parse_knowledge_message(headers: &[(String, String)], subject: &str, body: &str) -> Result<KnowledgeEntry, DocError> {
    if let Some(id) = header(headers, USAGE_HEADER) {
        let id = id.to_ascii_lowercase();
        return if valid_id(&id) { Ok(KnowledgeEntry::Usage { id }) } else { Err(DocError::BadId(id.chars().take(80).collect())) };
    }
    let id = header(headers, ARTICLE_HEADER).ok_or(DocError::MissingHeader(ARTICLE_HEADER))?.to_ascii_lowercase();
    if header(headers, DELETED_HEADER).is_some_and(|v| v.eq_ignore_ascii_case("yes")) {
        return if valid_id(&id) { Ok(KnowledgeEntry::Tombstone { id }) } else { Err(DocError::BadId(id.chars().take(80).collect())) };
    }
    let tags = parse_tags(header(headers, TAGS_HEADER).unwrap_or(""));
    validate_article(&id, subject, &tags, body).map(KnowledgeEntry::Article)
}

const STOPWORDS: &[&str] = &[
    "the", "and", "for", "you", "your", "with", "have", "has", "not", "are", "was", "this", "that", "from", "where", "what", "when", "why",
    "how", "can", "could", "would", "please", "thanks", "thank", "hello", "dear", "our", "but", "all", "any", "been", "did", "does", "get",
    "got", "had", "her", "him", "his", "its", "just", "may", "now", "one", "out", "she", "they", "them", "then", "there", "too", "very",
    "will", "who", "yes", "regards", "best", "kind", "still", "about", "into", "some", "more", "want", "need", "would", "should", "which",
    "their", "were", "here",
];

/// Chinese function characters that make poor two-character search pieces alone.
const CJK_STOP: &[char] = &['的', '了', '是', '我', '你', '您', '吗', '呢', '吧', '啊', '在', '和', '有', '也', '就', '都', '请', '谢'];

/// Search terms of an email or a typed query: Latin words of three or more letters or
/// digits (lowercased, stopwords dropped); each run of Chinese characters as its
/// overlapping two-character pieces (no spaces between Chinese words), pieces made only
/// of function characters dropped. Quoted lines (`>`) and the attribution above them are
/// not the customer's words and are skipped. The subject comes first; at most `max`.
pub fn search_terms(subject: &str, body: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let own_body: String = crate::reply::own_lines(body).take(200).collect::<Vec<_>>().join("\n");
    for text in [subject, own_body.as_str()] {
        for word in text.split(|c: char| !(c.is_alphanumeric() || crate::fts::is_cjk(c))) {
            if out.len() >= max {
                return out;
            }
            let w = word.to_lowercase();
            let chars: Vec<char> = w.chars().collect();
            let push = |t: String, out: &mut Vec<String>| {
                if out.len() < max && !out.contains(&t) {
                    out.push(t);
                }
            };
            if chars.iter().any(|c| crate::fts::is_cjk(*c)) {
                // Split mixed runs ("订单123") into CJK and other pieces.
                let cjk: Vec<char> = chars.iter().copied().filter(|c| crate::fts::is_cjk(*c)).collect();
                if cjk.len() == 1 {
                    if !CJK_STOP.contains(&cjk[0]) {
                        push(cjk[0].to_string(), &mut out);
                    }
                } else {
                    for pair in cjk.windows(2) {
                        if !(CJK_STOP.contains(&pair[0]) && CJK_STOP.contains(&pair[1])) {
                            push(pair.iter().collect(), &mut out);
                        }
                    }
                }
                let rest: String = chars.iter().filter(|c| !crate::fts::is_cjk(**c)).collect();
                if rest.chars().count() >= 3 {
                    push(rest, &mut out);
                }
            } else if chars.len() >= 3 && chars.len() <= 40 && !STOPWORDS.contains(&w.as_str()) {
                push(w, &mut out);
            }
        }
    }
    out
}

/// An FTS5 expression matching any of `terms` (OR, so BM25 ranks by how many and how
/// rare); each term quoted, a Chinese piece as a phrase of its characters (the index has
/// one token per character). `None` when there is nothing to search for.
pub fn any_terms_query(terms: &[String]) -> Option<String> {
    let parts: Vec<String> = terms
        .iter()
        .map(|t| t.chars().filter(|c| c.is_alphanumeric() || crate::fts::is_cjk(*c)).collect::<String>())
        .filter(|t| !t.is_empty())
        .map(|t| format!("\"{}\"", crate::fts::index_text(&t).split_whitespace().collect::<Vec<_>>().join(" ")))
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(" OR "))
    }
}

/// Which of an email's terms to search for, given how many of the `n_docs` articles
/// contain each (`(term, docs)`): the rarest first, at most `max`, dropping terms no
/// article has and terms in more than a tenth of a large base (at least 50 articles),
/// which carry almost no BM25 weight but make the query touch every article — "more
/// like this" term selection. If only common terms are left, the three rarest are kept.
pub fn pick_terms(terms: &[(String, u64)], n_docs: u64, max: usize) -> Vec<String> {
    let mut present: Vec<&(String, u64)> = terms.iter().filter(|(_, df)| *df > 0).collect();
    present.sort_by_key(|(_, df)| *df);
    let common = (n_docs / 10).max(50);
    let rare: Vec<String> = present.iter().filter(|(_, df)| *df <= common).take(max).map(|(t, _)| t.clone()).collect();
    if rare.is_empty() {
        present.iter().take(3.min(max)).map(|(t, _)| t.clone()).collect()
    } else {
        rare
    }
}

/// The knowledge query for an open email: its subject and own words.
pub fn email_query(subject: &str, body: &str) -> Option<String> {
    any_terms_query(&search_terms(subject, body, 24))
}

/// A snippet's score: SQLite's BM25 (lower is better, so negated) lifted a little by how
/// often the team used the article — usage breaks near-ties, it never buries a clearly
/// better text match (a tenfold use count is worth +23 %).
pub fn snippet_score(bm25: f64, uses: u64) -> f64 {
    let relevance = if bm25.is_finite() { -bm25 } else { 0.0 };
    relevance * (1.0 + 0.1 * (1.0 + uses as f64).ln())
}

/// The part of an article to show and insert: the first paragraph that mentions one of
/// `terms` (else the first paragraph), as plain text (`markdown_plain`), cut at `max_chars`.
pub fn snippet_excerpt(body: &str, terms: &[String], max_chars: usize) -> String {
    let paragraphs: Vec<&str> = body.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect();
    let lower_terms: Vec<String> = terms.iter().map(|t| t.to_lowercase()).collect();
    let chosen = paragraphs
        .iter()
        .find(|p| {
            let lp = p.to_lowercase();
            !p.starts_with('#') && lower_terms.iter().any(|t| lp.contains(t.as_str()))
        })
        .or_else(|| paragraphs.iter().find(|p| !p.starts_with('#')))
        .or(paragraphs.first())
        .copied()
        .unwrap_or("");
    // Only the head is converted: a hostile 256 KB paragraph of links stays cheap.
    let head: String = chosen.trim_start_matches('#').trim().chars().take(max_chars.saturating_mul(4)).collect();
    let plain = markdown_plain(&head);
    let text = plain.as_str();
    if text.chars().count() <= max_chars {
        text.to_owned()
    } else {
        let mut t: String = text.chars().take(max_chars).collect();
        t.push('…');
        t
    }
}

/// A Markdown paragraph as the plain text a reply can carry: emphasis and code marks
/// dropped, links as "text (url)", table rows as cells joined by " — " (separator rows
/// dropped), quote marks dropped, and a wrapped line joined to the line it continues.
/// Bullets and numbers stay: they read well in plain text.
pub fn markdown_plain(paragraph: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for raw in paragraph.lines() {
        let line = raw.trim_end();
        let trimmed = line.trim_start().trim_start_matches('>').trim_start();
        if trimmed.starts_with('|') || trimmed.ends_with('|') {
            let cells: Vec<&str> = trimmed.trim_matches('|').split('|').map(str::trim).collect();
            if cells.iter().all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':' | ' '))) {
                continue;
            }
            lines.push(cells.join(" — "));
            continue;
        }
        let starts_item = trimmed.starts_with(['-', '*', '+'])
            || trimmed.split_once('.').is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        let continues = line.starts_with(' ') && !starts_item;
        match lines.last_mut() {
            Some(prev) if continues && !trimmed.is_empty() => {
                prev.push(' ');
                prev.push_str(trimmed);
            }
            _ => lines.push(trimmed.to_owned()),
        }
    }
    lines.iter().map(|l| inline_plain(l)).collect::<Vec<_>>().join("\n")
}

/// `**bold**`, `__bold__`, `` `code` `` and `[text](url)` as plain text. A lone `*` or
/// `_` (inside a word, a URL, an address) stays.
fn inline_plain(line: &str) -> String {
    let mut out = line.replace("**", "").replace("__", "").replace('`', "");
    // Links: [text](url) -> text (url); anything unbalanced is left as it is.
    let mut searched = 0;
    while let Some(open) = out[searched..].find('[').map(|i| i + searched) {
        let Some(close) = out[open..].find("](").map(|i| i + open) else { break };
        let Some(end) = out[close..].find(')').map(|i| i + close) else { break };
        let text = out[open + 1..close].to_owned();
        let url = out[close + 2..end].to_owned();
        let replacement = if text.is_empty() || text == url { url } else { format!("{text} ({url})") };
        out.replace_range(open..=end, &replacement);
        searched = open + replacement.len();
    }
    out
}

/// The article's public link, for "insert link": its first `https://` URL (e.g. the FAQ
/// page it summarises), without Markdown's closing `)` or `>`; `None` if it has none.
pub fn article_link(body: &str) -> Option<String> {
    let start = body.find("https://")?;
    let url: String = body[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ')' | '>' | ']' | '"' | '\'' | '<') && !crate::fts::is_cjk(*c))
        .collect();
    let url = url.trim_end_matches(['.', ',', ';', ':']).to_owned();
    (url.len() > "https://".len()).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn an_article_message_is_parsed_with_its_tags() {
        let e = parse_knowledge_message(
            &h(&[("x-blendesk-article", "refunds-1"), (TAGS_HEADER, " Refund, 退款，refund ,, ")]),
            "How refunds work",
            "# Refunds\r\n\r\nWe refund within 5 days.\r\n",
        )
        .unwrap();
        assert_eq!(
            e,
            KnowledgeEntry::Article(Article {
                id: "refunds-1".into(),
                title: "How refunds work".into(),
                tags: vec!["refund".into(), "退款".into()],
                body: "# Refunds\n\nWe refund within 5 days.".into(),
            })
        );
    }

    #[test]
    fn tombstones_usage_and_strangers_are_told_apart() {
        assert_eq!(
            parse_knowledge_message(&h(&[(ARTICLE_HEADER, "a1"), (DELETED_HEADER, "YES")]), "", ""),
            Ok(KnowledgeEntry::Tombstone { id: "a1".into() })
        );
        assert_eq!(parse_knowledge_message(&h(&[(USAGE_HEADER, "A1")]), "", ""), Ok(KnowledgeEntry::Usage { id: "a1".into() }));
        assert_eq!(parse_knowledge_message(&h(&[]), "Hi", "text"), Err(DocError::MissingHeader(ARTICLE_HEADER)));
        assert!(matches!(parse_knowledge_message(&h(&[(USAGE_HEADER, "../x")]), "", ""), Err(DocError::BadId(_))));
    }

    #[test]
    fn hostile_articles_get_a_reason_not_a_panic() {
        let hdr = h(&[(ARTICLE_HEADER, "a")]);
        assert_eq!(parse_knowledge_message(&hdr, "  ", "x"), Err(DocError::EmptyTitle));
        assert_eq!(parse_knowledge_message(&hdr, "t", " \n "), Err(DocError::EmptyBody));
        let big = "x".repeat(BODY_MAX_BYTES + 1);
        assert_eq!(parse_knowledge_message(&hdr, "t", &big), Err(DocError::BodyTooLarge(BODY_MAX_BYTES + 1)));
        assert_eq!(parse_knowledge_message(&hdr, &"长".repeat(201), "b"), Err(DocError::TitleTooLong));
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert_eq!(validate_article("a", "t", &many, "b"), Err(DocError::TooManyTags(21)));
        assert!(matches!(validate_article("Bad Id", "t", &[], "b"), Err(DocError::BadId(_))));
        // A title with line breaks cannot smuggle header lines.
        let a = validate_article("a", "Hi\r\nBcc: x@y", &[], "b").unwrap();
        assert_eq!(a.title, "Hi Bcc: x@y");
    }

    #[test]
    fn new_ids_are_slugs_or_random() {
        assert_eq!(new_article_id("How refunds work!", 0xab), "how-refunds-work-000000ab");
        assert_eq!(new_article_id("退款流程", 1), "kb-00000001");
        assert!(valid_id(&new_article_id(&"long words ".repeat(20), 7)));
    }

    #[test]
    fn email_terms_cover_english_and_chinese_and_skip_quotes() {
        let t = search_terms("Where is my refund?", "I want my money back.\n\nOn Mon, Ann wrote:\n> parcel tracking", 24);
        assert_eq!(t, ["refund", "money", "back"]);
        let t = search_terms("退款", "我要退款，订单123没到", 24);
        assert_eq!(t, ["退款", "我要", "要退", "订单", "单没", "没到", "123"]);
        assert_eq!(search_terms("a b", "", 24), Vec::<String>::new());
        assert_eq!(search_terms("alpha beta gamma delta", "", 2), ["alpha", "beta"]);
    }

    #[test]
    fn queries_are_quoted_or_terms_with_chinese_phrases() {
        assert_eq!(email_query("退款 refund", "").as_deref(), Some("\"退 款\" OR \"refund\""));
        assert_eq!(any_terms_query(&["\"OR*".into(), "NEAR(".into()]).as_deref(), Some("\"OR\" OR \"NEAR\""));
        assert_eq!(email_query("??", "> quoted only"), None);
    }

    #[test]
    fn rare_terms_are_picked_and_common_ones_dropped() {
        let t = |pairs: &[(&str, u64)]| pairs.iter().map(|(a, b)| (a.to_string(), *b)).collect::<Vec<_>>();
        let terms = t(&[("order", 4000), ("refund", 300), ("zzz", 0), ("voucher", 12), ("退款", 40)]);
        assert_eq!(pick_terms(&terms, 5000, 10), ["voucher", "退款", "refund"]);
        assert_eq!(pick_terms(&terms, 5000, 2), ["voucher", "退款"]);
        // A small base keeps everything it has.
        assert_eq!(pick_terms(&t(&[("a1", 3), ("b1", 1)]), 3, 10), ["b1", "a1"]);
        // Only common words: the rarest few still search.
        assert_eq!(pick_terms(&t(&[("order", 4000), ("the", 4900)]), 5000, 10), ["order", "the"]);
        assert!(pick_terms(&t(&[("zzz", 0)]), 5000, 10).is_empty());
    }

    #[test]
    fn usage_lifts_near_ties_but_not_clear_winners() {
        assert!(snippet_score(-5.0, 10) > snippet_score(-5.0, 0));
        assert!(snippet_score(-10.0, 0) > snippet_score(-5.0, 1000));
        assert_eq!(snippet_score(f64::NAN, 3), 0.0);
    }

    #[test]
    fn the_link_is_the_first_https_url() {
        assert_eq!(
            article_link("See [FAQ](https://help.shop.test/refunds). Or http://x").as_deref(),
            Some("https://help.shop.test/refunds")
        );
        assert_eq!(article_link("详见 https://help.shop.test/退款").as_deref(), Some("https://help.shop.test/"));
        assert_eq!(article_link("no link, http://plain.test only"), None);
        assert_eq!(article_link("https:// broken"), None);
    }

    #[test]
    fn markdown_becomes_plain_text_for_a_reply() {
        assert_eq!(
            markdown_plain("Open **within 3 days**, use `RET-1` and see [the FAQ](https://x.test/faq)."),
            "Open within 3 days, use RET-1 and see the FAQ (https://x.test/faq)."
        );
        assert_eq!(markdown_plain("| Method | Time |\n|---|:---:|\n| Card | 3–5 days |"), "Method — Time\nCard — 3–5 days");
        assert_eq!(
            markdown_plain("- first point that\n  wraps here\n- second\n1. one\n   more"),
            "- first point that wraps here\n- second\n1. one more"
        );
        assert_eq!(markdown_plain("> quoted **words**"), "quoted words");
        // Single marks in addresses, URLs and words stay; broken links stay as typed.
        assert_eq!(markdown_plain("mail first_name@x.test or see [docs](broken"), "mail first_name@x.test or see [docs](broken");
        assert_eq!(markdown_plain("[https://a.test](https://a.test) and 5 * 3"), "https://a.test and 5 * 3");
        assert_eq!(markdown_plain("中文**加粗**和[链接](https://a.test/zh)"), "中文加粗和链接 (https://a.test/zh)");
    }

    #[test]
    fn excerpts_pick_the_paragraph_that_matches() {
        let body = "# Refunds\n\nOpening words.\n\nA refund takes 5 days.\n\n更多：退款需要五天。";
        assert_eq!(snippet_excerpt(body, &["refund".into()], 100), "A refund takes 5 days.");
        assert_eq!(snippet_excerpt(body, &["退款".into()], 100), "更多：退款需要五天。");
        assert_eq!(snippet_excerpt(body, &["zzz".into()], 100), "Opening words.");
        assert_eq!(snippet_excerpt(body, &["refund".into()], 5), "A ref…");
        assert_eq!(snippet_excerpt("", &[], 5), "");
    }
}
