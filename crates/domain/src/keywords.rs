//! The keywords Blendesk writes into a queue folder, and their budget.
//!
//! Servers limit them: Cyrus keeps at most 100 distinct keywords per mailbox and frees a
//! name only when `cyr_expire -t` runs (a name in a refused STORE takes a slot too);
//! Dovecot Maildir keeps only the first 26 in file names and never announces changes to
//! the others to IDLE. So the names a folder ever holds must not grow with the mail:
//!
//! - per advisor, only where an owner must be named: `$bd_owner_<id>` (who works it) and
//!   `$bd_declined_<id>` (who gave it back, written only by a release). A claim is a
//!   compare-and-swap writing a name only its own app writes: Dovecot answers OK to a
//!   conditional STORE that changes nothing, so a shared name raced by two apps could
//!   tell both they won;
//! - a fixed set of `FIXED_KEYWORDS`: `$Resolved`, `$bd_breached`, the duty marks `$bd_ack`
//!   and `$bd_late` (who holds a duty is decided by bids in a folder of their own,
//!   `automation::duty`, so no duty needs a name per advisor) and the `TOKEN_BITS` bit
//!   keywords that spell a conversation token.
//!
//! Budget: one name per advisor + one per advisor who ever released an email +
//! `FIXED_KEYWORDS` (16) (+ the throw-away `$bd_touch` in a folder that never had a
//! resolved message). On Cyrus (100 names per folder) that is a team of 84 advisors, or
//! 42 who all released an email once.

use crate::advisor::AdvisorId;
use crate::automation::ack::ACK_KEYWORD;
use crate::automation::late::{BREACHED_KEYWORD, LATE_KEYWORD};
use crate::claim::owner_keyword;
use crate::conversation::{token_bit_keywords, TOKEN_BITS};

/// Marks a conversation resolved (the owner keyword stays as a record).
pub const RESOLVED_KEYWORD: &str = "$Resolved";

/// Written and removed at once on another message before a keyword's first conditional
/// use in a folder that has no resolved message to register it on (`engine::claims`).
/// Nothing reads it. It is the one name beyond the budget, and only in such folders.
pub const TOUCH_KEYWORD: &str = "$bd_touch";

/// Closed: resolved or deleted. Kept as a record; no conversation anyone works on, and
/// no email a chaser joins.
pub fn is_closed(flags: &[String]) -> bool {
    flags.iter().any(|f| f.eq_ignore_ascii_case("\\Deleted") || f.eq_ignore_ascii_case(RESOLVED_KEYWORD))
}

/// Waiting for the team: neither closed nor answered. What claims, duties and the
/// settling of two owners look at.
pub fn awaits_reply(flags: &[String]) -> bool {
    !is_closed(flags) && !flags.iter().any(|f| f.eq_ignore_ascii_case("\\Answered"))
}

/// How many keywords a folder holds beside the per-advisor ones.
pub const FIXED_KEYWORDS: usize = 4 + TOKEN_BITS as usize;

/// Names per advisor at most: owner, declined.
pub const PER_ADVISOR: usize = 2;

/// Cyrus IMAP's default limit of distinct keywords per mailbox.
pub const CYRUS_KEYWORD_LIMIT: usize = 100;

/// The fixed keywords, `FIXED_KEYWORDS` of them.
pub fn fixed_keywords() -> Vec<String> {
    let mut out: Vec<String> = [RESOLVED_KEYWORD, BREACHED_KEYWORD, ACK_KEYWORD, LATE_KEYWORD].iter().map(|s| (*s).to_owned()).collect();
    out.extend(token_bit_keywords());
    out
}

/// The keywords a team's apps register in every queue folder when they start (and when
/// the policy's advisors change): every advisor's owner keywords first (Maildir
/// announces only a folder's first 26 names to IDLE, and owners are what other apps
/// must see at once), then the fixed ones. Declined keywords are registered by the
/// release that first writes one.
pub fn team_keywords<'a>(advisors: impl IntoIterator<Item = &'a AdvisorId>) -> Vec<String> {
    let mut team: Vec<&AdvisorId> = advisors.into_iter().collect();
    team.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    team.dedup_by(|a, b| a.as_str() == b.as_str());
    let mut out: Vec<String> = team.iter().map(|a| owner_keyword(a)).collect();
    out.extend(fixed_keywords());
    out
}

/// The most keywords a folder should hold for a team of `advisors`, if every one of
/// them also released an email once.
pub fn budget(advisors: usize) -> usize {
    PER_ADVISOR * advisors + FIXED_KEYWORDS
}

/// A system flag (`\Seen`, …), not a keyword: it takes no slot.
pub fn is_system_flag(flag: &str) -> bool {
    flag.starts_with('\\')
}

/// Which of `wanted` the folder does not know yet (`known`: the SELECT's FLAGS list),
/// compared as IMAP does, without case, in `wanted`'s order (registration order is what
/// Maildir keeps in file names). System flags are always known.
pub fn unknown<'a>(wanted: &'a [String], known: &[String]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for w in wanted.iter().map(String::as_str) {
        let seen = |k: &str| k.eq_ignore_ascii_case(w);
        if !is_system_flag(w) && !known.iter().any(|k| seen(k)) && !out.iter().any(|k| seen(k)) {
            out.push(w);
        }
    }
    out
}

/// What a folder's keyword count means, checked when team mode starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetCheck {
    Fine,
    /// More names than the team's budget: left by other clients or earlier versions
    /// (one `$bd_conv_` keyword per merge); harmless on Dovecot, but on Cyrus they
    /// count toward its limit.
    OverBudget {
        count: usize,
        budget: usize,
    },
    /// Within `margin` of the server's limit (Cyrus): new names will soon be refused.
    NearLimit {
        count: usize,
        limit: usize,
    },
}

/// Check a folder's `count` distinct keywords against the team's budget and, when the
/// server has one, its limit. `margin`: the names this team may still need to add.
pub fn check_budget(count: usize, advisors: usize, limit: Option<usize>, margin: usize) -> BudgetCheck {
    if let Some(limit) = limit {
        if count + margin > limit {
            return BudgetCheck::NearLimit { count, limit };
        }
    }
    let budget = budget(advisors);
    if count > budget {
        return BudgetCheck::OverBudget { count, budget };
    }
    BudgetCheck::Fine
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<AdvisorId> {
        (0..n).map(|i| AdvisorId::parse(&format!("a{i}")).expect("id")).collect()
    }

    #[test]
    fn the_team_registers_its_owner_keywords_and_the_fixed_set() {
        let team = ids(20);
        let kws = team_keywords(&team);
        assert_eq!(kws.len(), 20 + FIXED_KEYWORDS);
        for k in ["$bd_owner_a19", "$bd_ack", "$bd_late", "$bd_breached", "$bd_tok11", "$Resolved"] {
            assert!(kws.contains(&k.to_owned()), "{k}");
        }
        assert!(!kws.iter().any(|k| k.starts_with("$bd_ack_") || k.starts_with("$bd_late_")), "no duty name per advisor");
        assert_eq!(FIXED_KEYWORDS, 16);
        // Owners first: on Maildir only the first 26 names are announced to IDLE.
        assert!(kws[..20].iter().all(|k| k.starts_with("$bd_owner_")));
        // Each name once, whatever the policy lists twice.
        let twice: Vec<AdvisorId> = team.iter().chain(team.iter()).cloned().collect();
        assert_eq!(team_keywords(&twice).len(), 20 + FIXED_KEYWORDS);
        // A 42-advisor team, every one of whom also released an email, fits Cyrus's 100.
        assert!(budget(42) <= CYRUS_KEYWORD_LIMIT && budget(43) > CYRUS_KEYWORD_LIMIT);
    }

    #[test]
    fn unknown_keywords_ignore_case_and_system_flags() {
        let wanted: Vec<String> =
            ["\\Seen", "$bd_owner_Bob", "$BD_OWNER_bob", "$bd_tok3", "$Resolved"].iter().map(|s| s.to_string()).collect();
        let known: Vec<String> = ["$resolved".to_owned()].to_vec();
        assert_eq!(unknown(&wanted, &known), ["$bd_owner_Bob", "$bd_tok3"]);
        assert!(unknown(&wanted[..1], &[]).is_empty());
    }

    #[test]
    fn closed_and_awaiting_a_reply() {
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(awaits_reply(&f(&["\\Seen", "$bd_owner_bob"])));
        assert!(!awaits_reply(&f(&["\\answered"])) && !is_closed(&f(&["\\Answered"])));
        assert!(is_closed(&f(&["$resolved"])) && is_closed(&f(&["\\Deleted"])));
        assert!(!awaits_reply(&f(&["$Resolved"])));
    }

    #[test]
    fn the_budget_check_names_what_is_wrong() {
        assert_eq!(check_budget(56, 20, Some(CYRUS_KEYWORD_LIMIT), 0), BudgetCheck::Fine);
        assert_eq!(check_budget(97, 5, None, 0), BudgetCheck::OverBudget { count: 97, budget: 26 });
        assert_eq!(check_budget(97, 5, Some(100), 4), BudgetCheck::NearLimit { count: 97, limit: 100 });
        assert_eq!(check_budget(96, 5, Some(100), 4), BudgetCheck::OverBudget { count: 96, budget: 26 });
    }
}
