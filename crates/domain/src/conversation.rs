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

use std::collections::HashMap;

/// Prefix of conversation keywords: `$bd_conv_<token>`.
pub const CONV_PREFIX: &str = "$bd_conv_";

/// Token length made by `new_token` (36^10 ≈ 3.7e15: no collision in a team's lifetime).
const TOKEN_LEN: usize = 10;

pub fn conv_keyword(token: &str) -> String {
    format!("{CONV_PREFIX}{token}")
}

/// A usable token: 4 to 32 lower-case ASCII letters or digits (an IMAP atom).
pub fn is_token(s: &str) -> bool {
    (4..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A fresh token from `random`, its base-36 digits (the caller's randomness: the domain
/// has none).
pub fn new_token(mut random: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(TOKEN_LEN);
    for _ in 0..TOKEN_LEN {
        out.push(DIGITS[(random % 36) as usize] as char);
        random /= 36;
    }
    out
}

/// The conversation token among `flags`. Normally at most one (every change replaces the
/// whole flag list); should another client leave two, the smallest wins in every app.
pub fn token_of(flags: &[String]) -> Option<String> {
    flags
        .iter()
        .filter_map(|f| {
            let head = f.get(..CONV_PREFIX.len())?;
            head.eq_ignore_ascii_case(CONV_PREFIX).then(|| f[CONV_PREFIX.len()..].to_ascii_lowercase())
        })
        .filter(|t| is_token(t))
        .min()
}

pub fn is_conv_flag(flag: &str) -> bool {
    flag.get(..CONV_PREFIX.len()).is_some_and(|h| h.eq_ignore_ascii_case(CONV_PREFIX))
}

/// `flags` with the conversation keyword set to `token` (any other one removed).
pub fn with_token(flags: &[String], token: &str) -> Vec<String> {
    let mut out: Vec<String> = flags.iter().filter(|f| !is_conv_flag(f)).cloned().collect();
    out.push(conv_keyword(token));
    out
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
        Mail { mid: mid.into(), irt: None, refs: vec![], from: from.into(), flags: flags.iter().map(|f| f.to_string()).collect(), closed: false }
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
        let k = keys(&[mail("a1", "anna@x", &["$bd_conv_zzzz9999", "$bd_conv_aaaa1111"]), mail("b1", "ben@x", &["$bd_conv_a@b", "$bd_conv_"])]);
        assert_eq!(k, ["aaaa1111", "ben@x"]);
    }

    #[test]
    fn tokens_are_atoms_and_replace_each_other() {
        for r in [0, 1, 35, 36, u64::MAX, 0xDEAD_BEEF] {
            let t = new_token(r);
            assert!(is_token(&t) && t.len() == TOKEN_LEN, "{t}");
        }
        assert_ne!(new_token(1), new_token(2));
        let flags = vec!["\\Seen".to_owned(), "$bd_conv_old00001".to_owned(), "$bd_owner_bob".to_owned()];
        assert_eq!(with_token(&flags, "new00001"), ["\\Seen", "$bd_owner_bob", "$bd_conv_new00001"]);
        assert_eq!(token_of(&with_token(&flags, "new00001")).as_deref(), Some("new00001"));
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
