//! "Pick up the phone": when email has gone back and forth too often, or the customer is
//! upset, a call settles it faster. We suggest the call and find the number to dial.

/// The supervisor's policy for call suggestions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackPolicy {
    /// Suggest a call after this many back-and-forth exchanges (customer, then us).
    pub exchanges: u32,
    /// Words that show frustration; English words match whole words, case-insensitively,
    /// words in Chinese (no spaces between words) match anywhere.
    pub frustration_words: Vec<String>,
    /// Our own numbers: they turn up in quoted signatures and must never be suggested.
    pub our_numbers: Vec<String>,
    /// How to read national numbers that start with 0 (020…, 010…).
    pub region: Region,
}

/// The country whose national format a number without `+` is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    /// United Kingdom: 0 + 9–10 digits → +44.
    Gb,
    /// China: 0 + area code and number (9–11 digits) → +86.
    Cn,
    /// Only international numbers (and Chinese mobiles, which are unmistakable).
    None,
}

pub const DEFAULT_EXCHANGES: u32 = 3;

pub const FRUSTRATION_WORDS_EN: &[&str] = &[
    "unacceptable",
    "ridiculous",
    "useless",
    "disappointed",
    "frustrated",
    "frustrating",
    "angry",
    "furious",
    "terrible",
    "awful",
    "worst",
    "complaint",
    "fed up",
    "waste of time",
    "still waiting",
    "third time",
    "no one has",
    "nobody has",
    "chargeback",
    "lawyer",
    "never again",
];

pub const FRUSTRATION_WORDS_ZH: &[&str] = &[
    "投诉",
    "太慢",
    "失望",
    "生气",
    "垃圾",
    "骗子",
    "无法接受",
    "不能接受",
    "多次",
    "还没有",
    "再也不",
    "差评",
    "气死",
    "不满意",
    "12315",
    "律师",
    "催了",
    "到底",
];

impl Default for CallbackPolicy {
    fn default() -> Self {
        CallbackPolicy {
            exchanges: DEFAULT_EXCHANGES,
            frustration_words: FRUSTRATION_WORDS_EN.iter().chain(FRUSTRATION_WORDS_ZH).map(|w| w.to_string()).collect(),
            our_numbers: Vec::new(),
            region: Region::None,
        }
    }
}

/// Who wrote a message of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Customer,
    Us,
}

/// One message of the conversation, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryMessage<'a> {
    pub author: Author,
    pub text: &'a str,
}

/// Why a call is suggested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallReason {
    /// This many exchanges have gone back and forth.
    Exchanges(u32),
    /// The customer wrote this frustration word.
    Frustration(String),
}

/// A call suggestion shown on the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSuggestion {
    pub reasons: Vec<CallReason>,
    /// The customer's number, if one was found.
    pub phone: Option<PhoneNumber>,
}

/// A phone number found in the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    /// As written (for the advisor to recognise it).
    pub written: String,
    /// E.164: `+` and digits.
    pub e164: String,
}

impl PhoneNumber {
    /// A `tel:` URI (RFC 3966) the softphone dials.
    pub fn tel_uri(&self) -> String {
        format!("tel:{}", self.e164)
    }
}

/// Back-and-forth exchanges: customer message(s) answered by us. Several customer
/// messages in a row (chasers) are one exchange.
pub fn exchanges(history: &[HistoryMessage]) -> u32 {
    let mut count = 0;
    let mut customer_waiting = false;
    for m in history {
        match m.author {
            Author::Customer => customer_waiting = true,
            Author::Us if customer_waiting => {
                count += 1;
                customer_waiting = false;
            }
            Author::Us => {}
        }
    }
    count
}

/// A call suggestion, or `None` when email is going fine.
pub fn suggest_call(history: &[HistoryMessage], policy: &CallbackPolicy) -> Option<CallSuggestion> {
    let mut reasons = Vec::new();
    let n = exchanges(history);
    if policy.exchanges > 0 && n >= policy.exchanges {
        reasons.push(CallReason::Exchanges(n));
    }
    let customer_text = history.iter().filter(|m| m.author == Author::Customer).flat_map(|m| unquoted_lines(m.text));
    for line in customer_text {
        if let Some(word) = policy.frustration_words.iter().find(|w| contains_word(line, w)) {
            reasons.push(CallReason::Frustration(word.clone()));
            break;
        }
    }
    (!reasons.is_empty()).then(|| CallSuggestion { reasons, phone: customer_phone(history, policy) })
}

/// The customer's number: from their messages, newest first, never one of ours.
pub fn customer_phone(history: &[HistoryMessage], policy: &CallbackPolicy) -> Option<PhoneNumber> {
    let ours: Vec<String> = policy.our_numbers.iter().filter_map(|n| normalise(n, policy.region)).collect();
    history
        .iter()
        .rev()
        .filter(|m| m.author == Author::Customer)
        .flat_map(|m| phone_numbers(m.text, policy.region))
        .find(|p| !ours.contains(&p.e164))
}

/// Lines the customer wrote themselves (quoted lines, which carry our signature, are left out).
fn unquoted_lines(text: &str) -> impl Iterator<Item = &str> {
    crate::reply::own_lines(text)
}

fn contains_word(text: &str, word: &str) -> bool {
    let word = word.trim().to_lowercase();
    if word.is_empty() {
        return false;
    }
    let text = text.to_lowercase();
    if !word.is_ascii() {
        return text.contains(&word);
    }
    // ASCII words must stand alone: "angry" is not in "hangry".
    text.match_indices(&word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Every phone number in `text` (quoted lines skipped), in order.
pub fn phone_numbers(text: &str, region: Region) -> Vec<PhoneNumber> {
    unquoted_lines(text).flat_map(candidates).filter_map(|c| normalise(&c, region).map(|e164| PhoneNumber { written: c, e164 })).collect()
}

/// Runs that look like a phone number: an optional `+`, then digits with single spaces,
/// hyphens, dots or parentheses between them, not glued to letters or other digits.
fn candidates(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts = c == '+' || c == '(' || c.is_ascii_digit();
        let glued = i > 0 && (chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '+');
        if !starts || glued {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < chars.len() {
            let d = chars[j];
            let separator = matches!(d, ' ' | '-' | '.' | '(' | ')') && chars.get(j + 1).is_some_and(|n| n.is_ascii_digit() || *n == '(');
            if d.is_ascii_digit() || separator || (d == ')' && chars.get(j + 1) == Some(&' ')) {
                j += 1;
            } else {
                break;
            }
        }
        let run: String = chars[i..j].iter().collect();
        let glued_after = chars.get(j).is_some_and(|c| c.is_ascii_alphanumeric());
        if !glued_after && run.chars().filter(char::is_ascii_digit).count() >= 7 {
            found.push(run.trim().to_owned());
        }
        i = j.max(i + 1);
    }
    found
}

/// E.164 for a written number, or `None` if it is not a number we can dial with confidence.
fn normalise(written: &str, region: Region) -> Option<String> {
    let trimmed = written.trim();
    // "+44 (0)20 …": the (0) is the national trunk prefix, not dialled from abroad.
    let without_trunk = trimmed.replace("(0)", "");
    let digits: String = without_trunk.chars().filter(char::is_ascii_digit).collect();
    let international = if trimmed.starts_with('+') { Some(digits.as_str()) } else { digits.strip_prefix("00") };
    if let Some(number) = international {
        return (8..=15).contains(&number.len()).then(|| format!("+{number}")).filter(|n| plausible_international(n));
    }
    if is_chinese_mobile(&digits) {
        return Some(format!("+86{digits}"));
    }
    let national = digits.strip_prefix('0')?;
    match region {
        Region::Gb if (9..=10).contains(&national.len()) => Some(format!("+44{national}")),
        Region::Cn if (9..=11).contains(&national.len()) => Some(format!("+86{national}")),
        _ => None,
    }
}

fn is_chinese_mobile(digits: &str) -> bool {
    let bytes = digits.as_bytes();
    bytes.len() == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1])
}

/// Known country plans are checked more strictly; others only by length.
fn plausible_international(e164: &str) -> bool {
    if let Some(cn) = e164.strip_prefix("+86") {
        return is_chinese_mobile(cn) || (9..=11).contains(&cn.len());
    }
    if let Some(uk) = e164.strip_prefix("+44") {
        return (9..=10).contains(&uk.len()) && !uk.starts_with('0');
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(text: &str) -> HistoryMessage<'_> {
        HistoryMessage { author: Author::Customer, text }
    }
    fn us(text: &str) -> HistoryMessage<'_> {
        HistoryMessage { author: Author::Us, text }
    }

    fn e164(text: &str, region: Region) -> Vec<String> {
        phone_numbers(text, region).into_iter().map(|p| p.e164).collect()
    }

    #[test]
    fn three_exchanges_suggest_a_call() {
        let policy = CallbackPolicy::default();
        let two = [customer("hi"), customer("hello?"), us("a"), customer("b"), us("c")];
        assert_eq!(exchanges(&two), 2);
        assert_eq!(suggest_call(&two, &policy), None);
        let three = [customer("hi"), us("a"), customer("b"), us("c"), customer("d"), us("e")];
        let s = suggest_call(&three, &policy).expect("suggested");
        assert_eq!(s.reasons, vec![CallReason::Exchanges(3)]);
        assert_eq!(exchanges(&[us("newsletter"), us("again")]), 0);
    }

    #[test]
    fn frustration_in_english_and_chinese() {
        let policy = CallbackPolicy::default();
        let s = suggest_call(&[customer("This is UNACCEPTABLE, third time I write.")], &policy).expect("suggested");
        assert_eq!(s.reasons, vec![CallReason::Frustration("unacceptable".into())]);
        let s = suggest_call(&[customer("我要投诉！快递到现在还没有到。")], &policy).expect("suggested");
        assert_eq!(s.reasons, vec![CallReason::Frustration("投诉".into())]);
        // Whole English words only, and our own words do not count.
        assert_eq!(suggest_call(&[customer("I was hangry, lol. Thanks!")], &policy), None);
        assert_eq!(suggest_call(&[us("Sorry you are frustrated.")], &policy), None);
        // Quoted text is not what the customer wrote now.
        assert_eq!(suggest_call(&[customer("Thanks!\n> We are sorry this is terrible.")], &policy), None);
    }

    #[test]
    fn chinese_mobiles_in_every_usual_shape() {
        for written in [
            "手机13800138000",
            "138 0013 8000",
            "13800138000",
            "+86 138-0013-8000",
            "+86 13800138000",
            "0086 138 0013 8000",
            "(+86) 138 0013 8000",
        ] {
            assert_eq!(e164(&format!("手机：{written}"), Region::None), vec!["+8613800138000"], "{written}");
        }
        assert_eq!(phone_numbers("电话 138 0013 8000", Region::None)[0].tel_uri(), "tel:+8613800138000");
    }

    #[test]
    fn uk_and_other_international_numbers() {
        assert_eq!(e164("Mob: +44 7700 900123", Region::None), vec!["+447700900123"]);
        assert_eq!(e164("Tel +44 (0)20 7946 0958", Region::None), vec!["+442079460958"]);
        assert_eq!(e164("Tel: 020 7946 0958", Region::Gb), vec!["+442079460958"]);
        assert_eq!(e164("07700 900123", Region::Gb), vec!["+447700900123"]);
        assert_eq!(e164("Tel: 020 7946 0958", Region::None), Vec::<String>::new());
        assert_eq!(e164("座机 010-6552 9988", Region::Cn), vec!["+861065529988"]);
        assert_eq!(e164("call +1 (415) 555-0132 or +49 30 901820", Region::None), vec!["+14155550132", "+4930901820"]);
    }

    #[test]
    fn order_numbers_dates_and_ids_are_not_phone_numbers() {
        for text in ["Order 10442", "on 2026-11-25", "ref ABC12345678", "invoice 20991", "card ending 4242", "PO 123456789012"] {
            assert_eq!(e164(text, Region::Gb), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn the_customer_number_is_theirs_not_ours() {
        let policy = CallbackPolicy { our_numbers: vec!["+44 20 7946 0000".into()], region: Region::Gb, ..Default::default() };
        let history = [
            customer("Hi, my number is 07700 900123"),
            us("Call us on 020 7946 0000"),
            customer("Still broken.\nShop Support | 020 7946 0000\n> Call us on 020 7946 0000"),
        ];
        let phone = customer_phone(&history, &policy).expect("found");
        assert_eq!(phone.tel_uri(), "tel:+447700900123");
        assert_eq!(phone.written, "07700 900123");
    }

    #[test]
    fn a_suggestion_carries_the_latest_number() {
        let policy = CallbackPolicy::default();
        let history = [customer("old number +86 139 0000 1111"), us("a"), customer("new one: 138 0013 8000. 我很失望")];
        let s = suggest_call(&history, &policy).expect("suggested");
        assert_eq!(s.phone.map(|p| p.e164).as_deref(), Some("+8613800138000"));
    }
}
