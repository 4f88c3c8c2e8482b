//! Which conversation each queue email belongs to: its *key*, the one name every part of
//! the app (claims and load, SLA clocks, parking, hand-over, the window) groups by.
//!
//! Merging and splitting by hand must look the same in every advisor's app, so the
//! decision lives on the server: a keyword `$bd_conv_<token>` on the email. An email's key:
//! 1. its own `$bd_conv_` token;
//! 2. else the key of the email it threads to (In-Reply-To, then References newest first);
//! 3. else the key of the same customer's most recent open email before it (a chaser
//!    joins that conversation, merged or not);
//! 4. else the customer's address, lower-cased — so a conversation nobody merged or split
//!    keeps the customer as its key (what `blendesk park/transfer/release CUSTOMER` take).
//!
//! Tokens are lower-case letters and digits and never hold `@`, so a key that contains
//! `@` is a customer address and one that does not is a token.
//!
//! The keyword budget (`crate::keywords`): a folder must not gain a keyword per merge or
//! split (Cyrus keeps at most 100 per mailbox, for ever). So a token is a number from 1
//! to `TOKEN_MAX`, written as the set of bit keywords `$bd_tok0` … `$bd_tok11` that are
//! on (at most `TOKEN_BITS` distinct names in a folder, whatever happens), and named
//! `n0001` … `n4095` as a key. Tokens of earlier versions (`$bd_conv_<token>`, one
//! keyword each) are still read, and win over bits when an email carries both.

use std::collections::{HashMap, HashSet};

/// Prefix of the earlier, one-keyword-per-token conversation keywords: `$bd_conv_<token>`.
/// Still read; never minted.
pub const CONV_PREFIX: &str = "$bd_conv_";

/// Prefix of the bit keywords of a token: `$bd_tok<bit>`.
pub const TOKEN_BIT_PREFIX: &str = "$bd_tok";

/// How many bit keywords a token uses; `TOKEN_MAX` tokens can be told apart.
pub const TOKEN_BITS: u32 = 12;
pub const TOKEN_MAX: u32 = (1 << TOKEN_BITS) - 1;

/// The keyword of an earlier version's token (tests and migration only).
pub fn conv_keyword(token: &str) -> String {
    format!("{CONV_PREFIX}{token}")
}

/// The bit keywords, all of them (every folder may hold these `TOKEN_BITS` names).
pub fn token_bit_keywords() -> Vec<String> {
    (0..TOKEN_BITS).map(|b| format!("{TOKEN_BIT_PREFIX}{b}")).collect()
}

/// A usable token: 4 to 32 lower-case ASCII letters or digits (an IMAP atom).
pub fn is_token(s: &str) -> bool {
    (4..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The name of token number `n` as a conversation key.
pub fn token_name(n: u32) -> String {
    format!("n{n:04}")
}

/// The number of a bit token's name (`n0042` → 42); `None` for other tokens.
pub fn token_number(token: &str) -> Option<u32> {
    let digits = token.strip_prefix('n')?;
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| (1..=TOKEN_MAX).contains(n))
}

/// The bit (0-based) a flag stands for, if it is a token bit keyword.
fn token_bit(flag: &str) -> Option<u32> {
    let head = flag.get(..TOKEN_BIT_PREFIX.len())?;
    if !head.eq_ignore_ascii_case(TOKEN_BIT_PREFIX) {
        return None;
    }
    let rest = &flag[TOKEN_BIT_PREFIX.len()..];
    if rest.is_empty() || rest.len() > 2 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok().filter(|b| *b < TOKEN_BITS)
}

/// A token not among `used`, starting the search at a point drawn from `random` (the
/// caller's randomness: the domain has none), so two apps minting at the same moment
/// rarely pick the same one. `None` when every token is in use.
pub fn free_token(used: &HashSet<String>, random: u64) -> Option<String> {
    let start = (random % u64::from(TOKEN_MAX)) as u32;
    (0..TOKEN_MAX).map(|i| (start + i) % TOKEN_MAX + 1).map(token_name).find(|t| !used.contains(t))
}

/// The conversation token among `flags`: an earlier version's `$bd_conv_` token (the
/// smallest, should another client leave two), else the number the bit keywords spell.
pub fn token_of(flags: &[String]) -> Option<String> {
    let legacy = flags
        .iter()
        .filter_map(|f| {
            let head = f.get(..CONV_PREFIX.len())?;
            head.eq_ignore_ascii_case(CONV_PREFIX).then(|| f[CONV_PREFIX.len()..].to_ascii_lowercase())
        })
        .filter(|t| is_token(t))
        .min();
    legacy.or_else(|| {
        let n = flags.iter().filter_map(|f| token_bit(f)).fold(0u32, |n, b| n | (1 << b));
        (n != 0).then(|| token_name(n))
    })
}

/// A conversation keyword of either kind.
pub fn is_conv_flag(flag: &str) -> bool {
    flag.get(..CONV_PREFIX.len()).is_some_and(|h| h.eq_ignore_ascii_case(CONV_PREFIX)) || token_bit(flag).is_some()
}

/// The keywords that spell `token`: its bits, or an earlier version's one keyword.
pub fn token_keywords(token: &str) -> Vec<String> {
    match token_number(token) {
        Some(n) => (0..TOKEN_BITS).filter(|b| n & (1 << b) != 0).map(|b| format!("{TOKEN_BIT_PREFIX}{b}")).collect(),
        None => vec![conv_keyword(token)],
    }
}

/// `flags` with the conversation keywords set to spell `token` (any other removed).
pub fn with_token(flags: &[String], token: &str) -> Vec<String> {
    let mut out: Vec<String> = without_token(flags);
    out.extend(token_keywords(token));
    out
}

/// `flags` without any conversation keyword.
pub fn without_token(flags: &[String]) -> Vec<String> {
    flags.iter().filter(|f| !is_conv_flag(f)).cloned().collect()
}

/// One queue email as the key rule sees it.
#[derive(Debug, Clone, Copy)]
pub struct KeyedEmail<'a> {
    pub message_id: Option<&'a str>,
    pub in_reply_to: Option<&'a str>,
    pub references: &'a [String],
    pub from: &'a str,
    pub flags: &'a [String],
    /// Resolved or deleted: it keeps its key but is no conversation a chaser can join.
    pub closed: bool,
}

fn bare(id: &str) -> &str {
    id.trim().trim_start_matches('<').trim_end_matches('>')
}

/// The key of every email in `emails`, in the same order. `emails` must be oldest first
/// (the mirror's `(internal_date, id)` order): "most recent" and "threads to" look back.
pub fn conversation_keys(emails: &[KeyedEmail<'_>]) -> Vec<String> {
    let mut keys: Vec<Option<String>> = emails.iter().map(|e| token_of(e.flags)).collect();
    let mut by_message_id: HashMap<&str, usize> = HashMap::new();
    for (i, e) in emails.iter().enumerate() {
        if let Some(mid) = e.message_id.map(bare).filter(|m| !m.is_empty()) {
            by_message_id.entry(mid).or_insert(i);
        }
    }
    // The customer's latest open email so far (its index), for chasers.
    let mut latest_open: HashMap<String, usize> = HashMap::new();
    for (i, e) in emails.iter().enumerate() {
        let customer = e.from.trim().to_lowercase();
        if keys[i].is_none() {
            let threaded = e
                .in_reply_to
                .into_iter()
                .chain(e.references.iter().rev().map(String::as_str))
                .filter_map(|r| by_message_id.get(bare(r)))
                .find_map(|&j| if j != i { keys[j].clone() } else { None });
            let chased = || latest_open.get(&customer).and_then(|&j| keys[j].clone());
            keys[i] = Some(threaded.or_else(chased).unwrap_or_else(|| customer.clone()));
        }
        if !e.closed && !customer.is_empty() {
            latest_open.insert(customer, i);
        }
    }
    keys.into_iter().map(Option::unwrap_or_default).collect()
}

/// Who may merge or split a conversation by hand: a supervisor; its owner; or, while
/// nobody owns it, an advisor who may take it (skills cover its queue). `owners` are
/// the owners of its open emails.
pub fn may_rearrange(me: &str, supervisor: bool, owners: &[&str], may_take: bool) -> Result<(), Refusal> {
    if supervisor {
        return Ok(());
    }
    match owners.iter().find(|o| **o != me) {
        Some(other) => Err(Refusal::OwnedByOther((*other).to_owned())),
        None if owners.is_empty() && !may_take => Err(Refusal::OutsideSkills),
        None => Ok(()),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Another advisor owns it: only they or a supervisor may.
    OwnedByOther(String),
    /// Unowned, and this advisor's skills do not cover its queue.
    OutsideSkills,
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Mail {
        mid: String,
        irt: Option<String>,
        refs: Vec<String>,
        from: String,
        flags: Vec<String>,
        closed: bool,
    }

    fn mail(mid: &str, from: &str, flags: &[&str]) -> Mail {
        Mail {
            mid: mid.into(),
            irt: None,
            refs: vec![],
            from: from.into(),
            flags: flags.iter().map(|f| f.to_string()).collect(),
            closed: false,
        }
    }

    fn reply_to(mut m: Mail, parent: &str) -> Mail {
        m.irt = Some(format!("<{parent}>"));
        m.refs = vec![format!("<{parent}>")];
        m
    }

    fn closed(mut m: Mail) -> Mail {
        m.closed = true;
        m
    }

    fn keys(mails: &[Mail]) -> Vec<String> {
        let emails: Vec<KeyedEmail<'_>> = mails
            .iter()
            .map(|m| KeyedEmail {
                message_id: Some(&m.mid),
                in_reply_to: m.irt.as_deref(),
                references: &m.refs,
                from: &m.from,
                flags: &m.flags,
                closed: m.closed,
            })
            .collect();
        conversation_keys(&emails)
    }

    #[test]
    fn an_unmerged_conversation_is_keyed_by_its_customer() {
        let k = keys(&[mail("a1", "Anna@X.example", &[]), mail("b1", "ben@x.example", &[]), mail("a2", "anna@x.example", &[])]);
        assert_eq!(k, ["anna@x.example", "ben@x.example", "anna@x.example"]);
    }

    #[test]
    fn a_merged_token_names_the_conversation_of_both_customers() {
        let k = keys(&[
            mail("a1", "anna@x", &["$bd_conv_t0ken1", "$bd_owner_alice"]),
            mail("b1", "ben@x", &["$BD_CONV_T0KEN1"]),
            mail("c1", "carl@x", &[]),
        ]);
        assert_eq!(k, ["t0ken1", "t0ken1", "carl@x"]);
    }

    #[test]
    fn a_reply_inherits_the_key_of_the_email_it_threads_to_whoever_sends_it() {
        let k = keys(&[
            mail("a1", "anna@x", &["$bd_conv_merged1"]),
            mail("a2", "anna@x", &["$bd_conv_split22"]),
            // Ben replies in Anna's first thread (copied in): the thread wins over his address.
            reply_to(mail("b1", "ben@x", &[]), "a1"),
            // Anna replies to the split-off email: that one, not her latest.
            reply_to(mail("a3", "anna@x", &[]), "a2"),
            reply_to(mail("a4", "anna@x", &[]), "a1"),
        ]);
        assert_eq!(k, ["merged1", "split22", "merged1", "split22", "merged1"]);
        // References, newest first, when In-Reply-To names nothing we hold.
        let mut m = mail("a5", "zed@x", &[]);
        m.irt = Some("<unknown@elsewhere>".into());
        m.refs = vec!["<a1>".into(), "<a2>".into()];
        let k = keys(&[mail("a1", "anna@x", &["$bd_conv_merged1"]), mail("a2", "anna@x", &["$bd_conv_split22"]), m]);
        assert_eq!(k[2], "split22");
    }

    #[test]
    fn a_chaser_joins_the_customers_most_recent_open_conversation_tokenized_or_not() {
        // Ben's conversation was merged into Anna's (token): Ben's new email joins it.
        let k = keys(&[mail("a1", "anna@x", &["$bd_conv_merged1"]), mail("b1", "ben@x", &["$bd_conv_merged1"]), mail("b2", "BEN@x", &[])]);
        assert_eq!(k[2], "merged1");
        // Not merged: the customer's address, as before.
        assert_eq!(keys(&[mail("c1", "carl@x", &[]), mail("c2", "carl@x", &[])])[1], "carl@x");
    }

    #[test]
    fn after_a_split_each_part_has_a_token_and_a_chaser_joins_the_most_recent() {
        // Anna's three emails: the newest split off (its own token), the rest tokenized too.
        let split_newest = [
            mail("a1", "anna@x", &["$bd_conv_rest0001"]),
            mail("a2", "anna@x", &["$bd_conv_rest0001"]),
            mail("a3", "anna@x", &["$bd_conv_split001"]),
            mail("a4", "anna@x", &[]),
        ];
        assert_eq!(keys(&split_newest), ["rest0001", "rest0001", "split001", "split001"]);
        // The oldest split off instead: the chaser follows the most recent email (the rest).
        let split_oldest = [
            mail("a1", "anna@x", &["$bd_conv_split001"]),
            mail("a2", "anna@x", &["$bd_conv_rest0001"]),
            mail("a3", "anna@x", &["$bd_conv_rest0001"]),
            mail("a4", "anna@x", &[]),
        ];
        assert_eq!(keys(&split_oldest)[3], "rest0001");
        // A reply in the split-off thread still goes there.
        let mut with_reply: Vec<Mail> = split_oldest.into_iter().take(3).collect();
        with_reply.push(reply_to(mail("a5", "anna@x", &[]), "a1"));
        assert_eq!(keys(&with_reply)[3], "split001");
    }

    #[test]
    fn resolved_conversations_are_not_joined_by_a_new_email() {
        // The merged conversation was resolved: Ben's next email starts a new one.
        let k = keys(&[
            closed(mail("a1", "anna@x", &["$bd_conv_merged1", "$Resolved"])),
            closed(mail("b1", "ben@x", &["$bd_conv_merged1", "$Resolved"])),
            mail("b2", "ben@x", &[]),
        ]);
        assert_eq!(k, ["merged1", "merged1", "ben@x"]);
        // A resolved email in between does not hide the open conversation before it.
        let k = keys(&[mail("b1", "ben@x", &["$bd_conv_open0001"]), closed(mail("b2", "ben@x", &[])), mail("b3", "ben@x", &[])]);
        assert_eq!(k[2], "open0001");
        // But a reply in a resolved thread reopens it (as the grouping rule does).
        let k = keys(&[closed(mail("b1", "ben@x", &["$bd_conv_old00001"])), reply_to(mail("b2", "ben@x", &[]), "b1")]);
        assert_eq!(k[1], "old00001");
    }

    #[test]
    fn odd_tokens_and_two_tokens_are_settled_the_same_way_everywhere() {
        let k =
            keys(&[mail("a1", "anna@x", &["$bd_conv_zzzz9999", "$bd_conv_aaaa1111"]), mail("b1", "ben@x", &["$bd_conv_a@b", "$bd_conv_"])]);
        assert_eq!(k, ["aaaa1111", "ben@x"]);
    }

    #[test]
    fn tokens_are_atoms_and_replace_each_other() {
        let flags = vec!["\\Seen".to_owned(), "$bd_conv_old00001".to_owned(), "$bd_owner_bob".to_owned()];
        // An earlier version's token is replaced by bits, and read back as the same name.
        let new = with_token(&flags, "n0005");
        assert_eq!(new, ["\\Seen", "$bd_owner_bob", "$bd_tok0", "$bd_tok2"]);
        assert_eq!(token_of(&new).as_deref(), Some("n0005"));
        assert_eq!(token_of(&with_token(&new, "n4095")).as_deref(), Some("n4095"));
        assert_eq!(with_token(&new, "n0001"), ["\\Seen", "$bd_owner_bob", "$bd_tok0"]);
        assert_eq!(without_token(&new), ["\\Seen", "$bd_owner_bob"]);
        // An earlier version's token still names its conversation, before any bits.
        let legacy = vec!["$bd_conv_old00001".to_owned(), "$bd_tok3".to_owned()];
        assert_eq!(token_of(&legacy).as_deref(), Some("old00001"));
        assert_eq!(with_token(&[], "old00001"), ["$bd_conv_old00001"]);
        // Odd bit keywords are not bits.
        let odd: Vec<String> = ["$bd_tok", "$bd_tok12", "$bd_tokx", "$bd_tok007"].iter().map(|s| s.to_string()).collect();
        assert_eq!(token_of(&odd), None);
        assert!(odd.iter().all(|f| !is_conv_flag(f)));
        assert!(is_conv_flag("$BD_TOK11") && is_conv_flag("$bd_conv_x"));
    }

    #[test]
    fn every_token_has_a_name_and_its_own_bits_within_the_budget() {
        assert!(is_token(&token_name(1)) && is_token(&token_name(TOKEN_MAX)));
        assert_eq!(token_number("n0042"), Some(42));
        for bad in ["n0000", "n4096", "n42", "old00001", "x0042"] {
            assert_eq!(token_number(bad), None, "{bad}");
        }
        let mut all_bits = HashSet::new();
        for n in 1..=TOKEN_MAX {
            let kws = token_keywords(&token_name(n));
            assert_eq!(token_of(&kws), Some(token_name(n)));
            all_bits.extend(kws);
        }
        assert_eq!(all_bits.len(), TOKEN_BITS as usize);
        assert_eq!(all_bits, token_bit_keywords().into_iter().collect());
    }

    #[test]
    fn a_free_token_avoids_the_used_ones_and_runs_out_cleanly() {
        let mut used = HashSet::new();
        for r in [0, 1, 4094, 4095, u64::MAX] {
            let t = free_token(&used, r).unwrap();
            assert!(token_number(&t).is_some(), "{t}");
            assert!(used.insert(t));
        }
        assert_ne!(free_token(&HashSet::new(), 1), free_token(&HashSet::new(), 2));
        let all: HashSet<String> = (1..=TOKEN_MAX).map(token_name).collect();
        assert_eq!(free_token(&all, 7), None);
        let mut one_left = all.clone();
        one_left.remove("n0777");
        assert_eq!(free_token(&one_left, 12345).as_deref(), Some("n0777"));
    }

    #[test]
    fn who_may_merge_or_split() {
        assert_eq!(may_rearrange("alice", false, &["alice"], false), Ok(()));
        assert_eq!(may_rearrange("alice", false, &["alice", "bob"], true), Err(Refusal::OwnedByOther("bob".into())));
        assert_eq!(may_rearrange("alice", true, &["bob"], false), Ok(()), "supervisors may");
        assert_eq!(may_rearrange("alice", false, &[], true), Ok(()), "unowned, within skills");
        assert_eq!(may_rearrange("alice", false, &[], false), Err(Refusal::OutsideSkills));
    }
}
