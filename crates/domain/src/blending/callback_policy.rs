//! The "pick up the phone" part of the supervisor's policy, as written in the JSON
//! document:
//!
//! ```json
//! "callback": {
//!   "exchanges": 3,
//!   "frustration_words": {"en": ["unacceptable", "fed up"], "zh": ["投诉", "太慢"]},
//!   "our_numbers": ["+44 20 7946 0000", "+86 400 820 8820"],
//!   "region": "gb"
//! }
//! ```
//!
//! Every field is optional: `exchanges` defaults to 3 (0 turns the exchange count off),
//! a missing language list keeps the built-in words for that language (an empty list
//! turns that language off), `our_numbers` defaults to none and `region` ("gb", "cn" or
//! "none", how a national number starting with 0 is read) to "none".

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::automation::callback::{phone_numbers, CallbackPolicy, Region, DEFAULT_EXCHANGES, FRUSTRATION_WORDS_EN, FRUSTRATION_WORDS_ZH};

/// More exchanges than this would never suggest a call; it is a typo.
pub const MAX_EXCHANGES: u32 = 1000;
/// Frustration words per language.
pub const MAX_WORDS: usize = 500;
/// Characters in one frustration word.
pub const MAX_WORD_CHARS: usize = 64;
/// Numbers in `our_numbers`.
pub const MAX_OUR_NUMBERS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CallbackPolicyError {
    #[error("exchanges is {0}; the most is {MAX_EXCHANGES} (0 turns the count off)")]
    Exchanges(u32),
    #[error("frustration_words.{lang} has {count} words; the most is {MAX_WORDS}")]
    TooManyWords { lang: &'static str, count: usize },
    #[error("frustration_words.{lang} has an empty word")]
    EmptyWord { lang: &'static str },
    #[error("frustration_words.{lang} word {word:?} is longer than {MAX_WORD_CHARS} characters")]
    LongWord { lang: &'static str, word: String },
    #[error("our_numbers has {0} numbers; the most is {MAX_OUR_NUMBERS}")]
    TooManyNumbers(usize),
    #[error(
        "our_numbers entry {0:?} is not a phone number this app can read (write it with + and \
         the country code, or set \"region\")"
    )]
    Number(String),
}

/// How national numbers are read, as written in the document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegionSetting {
    Gb,
    Cn,
    #[default]
    None,
}

/// The two frustration word lists; `None` keeps the built-in list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FrustrationWords {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub en: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zh: Option<Vec<String>>,
}

/// The document's `callback` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallbackSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchanges: Option<u32>,
    #[serde(skip_serializing_if = "is_default_words")]
    pub frustration_words: FrustrationWords,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub our_numbers: Vec<String>,
    #[serde(skip_serializing_if = "is_default_region")]
    pub region: RegionSetting,
}

fn is_default_words(w: &FrustrationWords) -> bool {
    *w == FrustrationWords::default()
}

fn is_default_region(r: &RegionSetting) -> bool {
    *r == RegionSetting::None
}

impl CallbackSettings {
    /// Checks the limits; a parsed policy has passed this.
    pub fn validate(&self) -> Result<(), CallbackPolicyError> {
        if let Some(n) = self.exchanges.filter(|n| *n > MAX_EXCHANGES) {
            return Err(CallbackPolicyError::Exchanges(n));
        }
        for (lang, words) in [("en", &self.frustration_words.en), ("zh", &self.frustration_words.zh)] {
            let Some(words) = words else { continue };
            if words.len() > MAX_WORDS {
                return Err(CallbackPolicyError::TooManyWords { lang, count: words.len() });
            }
            for word in words {
                if word.trim().is_empty() {
                    return Err(CallbackPolicyError::EmptyWord { lang });
                }
                if word.chars().count() > MAX_WORD_CHARS {
                    let short: String = word.chars().take(MAX_WORD_CHARS).collect();
                    return Err(CallbackPolicyError::LongWord { lang, word: short });
                }
            }
        }
        if self.our_numbers.len() > MAX_OUR_NUMBERS {
            return Err(CallbackPolicyError::TooManyNumbers(self.our_numbers.len()));
        }
        let region = self.region();
        if let Some(bad) = self.our_numbers.iter().find(|n| n.chars().count() > 64 || phone_numbers(n, region).is_empty()) {
            let short: String = bad.chars().take(64).collect();
            return Err(CallbackPolicyError::Number(short));
        }
        Ok(())
    }

    pub fn region(&self) -> Region {
        match self.region {
            RegionSetting::Gb => Region::Gb,
            RegionSetting::Cn => Region::Cn,
            RegionSetting::None => Region::None,
        }
    }

    /// The rules `automation::callback::suggest_call` applies.
    pub fn rules(&self) -> CallbackPolicy {
        let list = |words: &Option<Vec<String>>, defaults: &[&str]| -> Vec<String> {
            match words {
                Some(words) => words.iter().map(|w| w.trim().to_owned()).collect(),
                None => defaults.iter().map(|w| (*w).to_owned()).collect(),
            }
        };
        let mut frustration_words = list(&self.frustration_words.en, FRUSTRATION_WORDS_EN);
        frustration_words.extend(list(&self.frustration_words.zh, FRUSTRATION_WORDS_ZH));
        CallbackPolicy {
            exchanges: self.exchanges.unwrap_or(DEFAULT_EXCHANGES),
            frustration_words,
            our_numbers: self.our_numbers.clone(),
            region: self.region(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<CallbackSettings, String> {
        let s: CallbackSettings = serde_json::from_str(json).map_err(|e| e.to_string())?;
        s.validate().map_err(|e| e.to_string())?;
        Ok(s)
    }

    #[test]
    fn absent_fields_are_the_built_in_rules() {
        let s = parse("{}").unwrap();
        assert_eq!(s.rules(), CallbackPolicy::default());
        assert_eq!(serde_json::to_string(&s).unwrap(), "{}", "defaults are not written");
    }

    #[test]
    fn fields_override_and_an_absent_language_keeps_its_defaults() {
        let s = parse(
            r#"{"exchanges":5,"frustration_words":{"en":["  livid "]},
                "our_numbers":["020 7946 0000"],"region":"gb"}"#,
        )
        .unwrap();
        let rules = s.rules();
        assert_eq!(rules.exchanges, 5);
        assert_eq!(rules.region, Region::Gb);
        assert!(rules.frustration_words.contains(&"livid".to_owned()));
        assert!(!rules.frustration_words.contains(&"unacceptable".to_owned()));
        assert!(rules.frustration_words.contains(&"投诉".to_owned()), "zh defaults kept");
        let zh_off = parse(r#"{"frustration_words":{"zh":[]}}"#).unwrap().rules();
        assert!(!zh_off.frustration_words.contains(&"投诉".to_owned()));
        assert!(zh_off.frustration_words.contains(&"unacceptable".to_owned()));
        // Round trip.
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(parse(&json).unwrap(), s);
    }

    #[test]
    fn hostile_values_are_clear_errors() {
        let cases = [
            (r#"{"exchanges":-1}"#, "invalid value"),
            (r#"{"exchanges":1.5}"#, "invalid type"),
            (r#"{"exchanges":5000}"#, "the most is 1000"),
            (r#"{"region":"fr"}"#, "unknown variant"),
            (r#"{"region":7}"#, "expected value"),
            (r#"{"frustration_words":["angry"]}"#, "invalid type"),
            (r#"{"frustration_words":{"de":["wütend"]}}"#, "unknown field"),
            (r#"{"frustration_words":{"en":["  "]}}"#, "empty word"),
            (r#"{"our_numbers":"+44 20 7946 0000"}"#, "invalid type"),
            (r#"{"our_numbers":["call us"]}"#, "not a phone number"),
            (r#"{"our_numbers":["020 7946 0000"]}"#, "not a phone number"),
        ];
        for (json, expected) in cases {
            let err = parse(json).unwrap_err();
            assert!(err.contains(expected), "{json}: {err}");
        }
        let long = format!(r#"{{"frustration_words":{{"zh":["{}"]}}}}"#, "投".repeat(10_000));
        let err = parse(&long).unwrap_err();
        assert!(err.contains("longer than 64") && err.len() < 500, "{err}");
        let many = format!(r#"{{"frustration_words":{{"en":[{}]}}}}"#, vec!["\"x\""; 501].join(","));
        assert!(parse(&many).unwrap_err().contains("501 words"));
        let numbers = format!(r#"{{"our_numbers":[{}]}}"#, vec!["\"+441234567890\""; 201].join(","));
        assert!(parse(&numbers).unwrap_err().contains("201 numbers"));
    }
}
