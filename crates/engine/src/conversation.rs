//! Conversations as every app sees them: each queue email's key (the domain's rule,
//! `blendesk_domain::conversation`), and the advisor's manual merge and split, which
//! write the conversation token's keywords on the server so every app agrees (a token
//! is a number spelled by a fixed set of bit keywords: `blendesk_domain::conversation`).
//!
//! A merge or split replaces each email's whole flag list in one conditional STORE
//! (`claims::rewrite_flags`, the rewrite a transfer is made of): the token and,
//! for a merge, the owner change together or not at all, and an email whose owner moved
//! since we looked is left alone (counted as lost).

use crate::claims::{rewrite_flags, FlagChange, Rewrite};
use crate::engine::{Engine, EngineError, Result};
use blendesk_domain::blending::Policy;
use blendesk_domain::claim::{owners, ClaimOutcome, OWNER_PREFIX};
use blendesk_domain::conversation::{
    conversation_keys, free_token, is_conv_flag, is_token, may_rearrange, token_of, with_token, KeyedEmail, Refusal,
};
use blendesk_store::QueueHead;
use std::collections::HashMap;
use std::sync::Arc;

/// Resolved or deleted: kept as a record, no longer a conversation anyone works on.
pub(crate) fn is_closed(h: &QueueHead) -> bool {
    // A survey answer is never part of a conversation: it waits to be filed away.
    blendesk_domain::keywords::is_closed(&h.flags) || blendesk_domain::automation::survey::is_answer(&h.subject)
}

/// The conversation key of every head, in order (heads oldest first, as the store gives
/// them). Only queue emails take part; others (Sent) get an empty key. Every caller uses
/// this, so load, clocks, parking and the window group alike.
pub fn keys_of(heads: &[QueueHead], queues: &[String]) -> Vec<String> {
    let in_queue: Vec<usize> = (0..heads.len()).filter(|&i| queues.contains(&heads[i].folder)).collect();
    let emails: Vec<KeyedEmail<'_>> = in_queue
        .iter()
        .map(|&i| {
            let h = &heads[i];
            KeyedEmail {
                message_id: h.message_id.as_deref(),
                in_reply_to: h.in_reply_to.as_deref(),
                references: &h.references,
                from: &h.from_addr,
                flags: &h.flags,
                closed: is_closed(h),
            }
        })
        .collect();
    let mut out = vec![String::new(); heads.len()];
    for (i, key) in in_queue.into_iter().zip(conversation_keys(&emails)) {
        out[i] = key;
    }
    out
}

/// A token no mirrored queue email carries (open or resolved: the customer history
/// joins emails that share one), nor any of `taken`. Tokens are numbers from a fixed
/// range (the keyword budget), so they can run out: that is an error that says so.
fn mint_token(heads: &[QueueHead], taken: &[String]) -> Result<String> {
    let mut used: std::collections::HashSet<String> = heads.iter().filter_map(|h| token_of(&h.flags)).collect();
    used.extend(taken.iter().cloned());
    free_token(&used, rand::random()).ok_or_else(|| {
        EngineError::Conversation(format!(
            "all {} conversation tokens are in use in this mailbox's queues; archive old resolved mail out of the queue folders to free some",
            blendesk_domain::conversation::TOKEN_MAX
        ))
    })
}

/// The key a user typed: a key itself, or a customer's address (their most recent open
/// conversation's key). `None` when no open (unresolved) conversation answers to it.
fn find_key(heads: &[QueueHead], keys: &[String], wanted: &str) -> Option<String> {
    let wanted = wanted.trim().to_lowercase();
    let current = || heads.iter().zip(keys).filter(|(h, _)| !is_closed(h));
    if current().any(|(_, k)| *k == wanted) {
        return Some(wanted);
    }
    current().rfind(|(h, _)| h.from_addr.to_lowercase() == wanted).map(|(_, k)| k.clone())
}

/// What a merge or split did: the resulting key(s), emails rewritten, and emails whose
/// owner moved meanwhile (left alone).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct Rearranged {
    pub keys: Vec<String>,
    pub changed: u32,
    pub lost: u32,
}

impl Engine {
    /// `keys_of` for a heads list the store shares (`Store::queue_heads`): computed once
    /// per list, so the claim loop, the clocks and the duties do not each group the whole
    /// mirror again until it changes.
    pub(crate) fn conversation_keys_for(&self, heads: &Arc<Vec<QueueHead>>) -> ConversationKeys {
        let mut memo = self.team.keys_memo.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, keys)) = memo.iter().find(|(h, _)| Arc::ptr_eq(h, heads)) {
            return keys.clone();
        }
        let keys = Arc::new(keys_of(heads, &self.config.imap.queues));
        // One list per folder set in use (the queues; the queues with Sent).
        if memo.len() >= 2 {
            memo.remove(0);
        }
        memo.push((heads.clone(), keys.clone()));
        keys
    }

    /// Every queue email's conversation key by mirror id (resolved ones included).
    pub fn conversation_keys(&self) -> Result<HashMap<i64, String>> {
        let heads = self.store.queue_heads(&self.config.imap.queues)?;
        let keys = self.conversation_keys_for(&heads);
        Ok(heads.iter().map(|h| h.id).zip(keys.iter().cloned()).collect())
    }

    /// The key of the open conversation `wanted` names (a key or a customer address).
    pub fn conversation_key(&self, wanted: &str) -> Result<String> {
        let heads = self.store.queue_heads(&self.config.imap.queues)?;
        let keys = self.conversation_keys_for(&heads);
        find_key(&heads, &keys, wanted).ok_or_else(|| EngineError::Conversation(format!("no open conversation {wanted}")))
    }

    /// The mirror id of a queue email named by its Message-ID (brackets optional) or its
    /// UID (refused when several queues hold that UID).
    pub fn find_queue_email(&self, wanted: &str) -> Result<i64> {
        let heads = self.store.queue_heads(&self.config.imap.queues)?;
        let bare = wanted.trim().trim_start_matches('<').trim_end_matches('>');
        let found: Vec<&QueueHead> = match bare.parse::<u32>() {
            Ok(uid) => heads.iter().filter(|h| h.uid == uid).collect(),
            Err(_) => heads
                .iter()
                .filter(|h| h.message_id.as_deref().map(|m| m.trim_start_matches('<').trim_end_matches('>')) == Some(bare))
                .collect(),
        };
        match found.as_slice() {
            [one] => Ok(one.id),
            [] => Err(EngineError::Conversation(format!("no queue email {wanted}"))),
            _ => Err(EngineError::Conversation(format!("{wanted} names {} queue emails; use the Message-ID", found.len()))),
        }
    }

    /// May this advisor rearrange the conversation of `members`? Supervisors may; its
    /// owner may; anyone whose skills cover its queues may while nobody owns it.
    fn check_may_rearrange(&self, policy: &Policy, key: &str, members: &[&QueueHead]) -> Result<()> {
        let me = &self.config.advisor.id;
        let mut held: Vec<&str> = members.iter().filter_map(|h| owners(&h.flags).next()).collect();
        held.sort();
        held.dedup();
        let may_take = members.iter().all(|h| policy.skills_for(me).covers_queue(&h.folder));
        may_rearrange(me.as_str(), policy.is_supervisor(me), &held, may_take).map_err(|r| {
            EngineError::Policy(match r {
                Refusal::OwnedByOther(o) => format!("conversation {key} is {o}'s: only its owner or a supervisor may merge or split it"),
                Refusal::OutsideSkills => format!("conversation {key} is in a queue outside {}'s skills", me.as_str()),
            })
        })
    }

    /// Merge conversation `from` into `into` (keys or customer addresses): one token on
    /// every unresolved email of both (`into`'s own if it has one), and one owner —
    /// `into`'s, else `from`'s — swapped in on owned emails as a transfer does. Unowned
    /// emails stay unowned: the claim loop gives them to the owner as chasers.
    pub async fn merge_conversations(&self, from: &str, into: &str) -> Result<Rearranged> {
        self.coordination_fresh().await?;
        let heads = self.store.queue_heads(&self.config.imap.queues)?;
        let keys = self.conversation_keys_for(&heads);
        let missing = |w: &str| EngineError::Conversation(format!("no open conversation {w}"));
        let into_key = find_key(&heads, &keys, into).ok_or_else(|| missing(into))?;
        let from_key = find_key(&heads, &keys, from).ok_or_else(|| missing(from))?;
        if into_key == from_key {
            return Err(EngineError::Conversation(format!("{from} and {into} are already one conversation")));
        }
        let members = |key: &str| -> Vec<&QueueHead> {
            heads.iter().zip(keys.iter()).filter(|(h, k)| !is_closed(h) && *k == key).map(|(h, _)| h).collect()
        };
        let (a, b) = (members(&into_key), members(&from_key));
        let policy = self.load_policy().await?;
        self.check_may_rearrange(&policy, &into_key, &a)?;
        self.check_may_rearrange(&policy, &from_key, &b)?;
        let owner_of = |m: &[&QueueHead]| m.iter().find_map(|h| owners(&h.flags).next().map(str::to_owned));
        let target = owner_of(&a).or_else(|| owner_of(&b));
        let token = if is_token(&into_key) { into_key.clone() } else { mint_token(&heads, &[])? };
        // `into` first, so a crash half-way never leaves `from`'s emails under a token
        // none of `into`'s carries (each email's rewrite is atomic; the set is not).
        let done = self.retoken(a.iter().chain(&b).copied(), &token, target.as_deref()).await?;
        self.carry_parking(&into_key, &token)?;
        self.carry_tags(&[&into_key, &from_key], &token)?;
        self.store.unpark(&from_key)?;
        Ok(Rearranged { keys: vec![token], ..done })
    }

    /// Split `emails` (mirror ids, one conversation) off into a conversation of their
    /// own with a new token. Every other email of the conversation carries its token too
    /// (a new one if it had none), so a later chaser joins the most recent of the two in
    /// every app. Owners stay as they are: the split-off part is one more conversation in
    /// its owner's load (a manual action, like a transfer, is not held to the cap).
    pub async fn split_conversation(&self, emails: &[i64]) -> Result<Rearranged> {
        self.coordination_fresh().await?;
        let heads = self.store.queue_heads(&self.config.imap.queues)?;
        let keys = self.conversation_keys_for(&heads);
        let mut key = None;
        for id in emails {
            let i = heads.iter().position(|h| h.id == *id).ok_or(EngineError::NoSuchMessage(*id))?;
            if is_closed(&heads[i]) {
                return Err(EngineError::Conversation(format!("email {id} is resolved; only open conversations split")));
            }
            match &key {
                None => key = Some(keys[i].clone()),
                Some(k) if *k != keys[i] => {
                    return Err(EngineError::Conversation("the emails to split off are in different conversations".into()))
                }
                Some(_) => {}
            }
        }
        let key = key.ok_or_else(|| EngineError::Conversation("no email to split off".into()))?;
        let all: Vec<&QueueHead> = heads.iter().zip(keys.iter()).filter(|(h, k)| !is_closed(h) && **k == key).map(|(h, _)| h).collect();
        let (off, rest): (Vec<&QueueHead>, Vec<&QueueHead>) = all.iter().partition(|h| emails.contains(&h.id));
        if rest.is_empty() {
            return Err(EngineError::Conversation(format!("that is all of conversation {key}: nothing to split it from")));
        }
        let policy = self.load_policy().await?;
        self.check_may_rearrange(&policy, &key, &all)?;
        let rest_token = if is_token(&key) { key.clone() } else { mint_token(&heads, &[])? };
        let off_token = mint_token(&heads, std::slice::from_ref(&rest_token))?;
        // The rest first (chasers that joined it without a token of their own included):
        // a crash in between leaves one conversation, never a lost email.
        let done = self.retoken(rest.iter().copied(), &rest_token, None).await?;
        let more = self.retoken(off.iter().copied(), &off_token, None).await?;
        self.carry_parking(&key, &rest_token)?;
        self.carry_tags(&[&key], &rest_token)?;
        self.carry_tags(&[&key], &off_token)?;
        Ok(Rearranged { keys: vec![rest_token, off_token], changed: done.changed + more.changed, lost: done.lost + more.lost })
    }

    /// Set `token` on each email (and `owner`, in place of a different owner) on the
    /// server, then in the mirror so this app's window follows at once.
    async fn retoken<'h>(&self, emails: impl Iterator<Item = &'h QueueHead>, token: &str, owner: Option<&str>) -> Result<Rearranged> {
        let emails: Vec<&QueueHead> = emails.collect();
        let done = self
            .with_team_session(async |c| {
                let mut done = Rearranged::default();
                for h in emails {
                    let planned = owners(&h.flags).next().map(str::to_owned);
                    let new_owner = owner.filter(|o| planned.as_deref().is_some_and(|p| p != *o)).map(|o| format!("{OWNER_PREFIX}{o}"));
                    let change = |flags: &[String]| -> Option<FlagChange> {
                        // The owner we planned with must still hold it: otherwise someone moved it.
                        if owners(flags).next() != planned.as_deref() {
                            return None;
                        }
                        let mut new = with_token(flags, token);
                        if let Some(to) = &new_owner {
                            new.retain(|f| !f.get(..OWNER_PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(OWNER_PREFIX)));
                            new.push(to.clone());
                        }
                        Some(FlagChange::Replace(new))
                    };
                    if self.coordinated_by_database() {
                        // The database holds owners and token bits: the owner must still be
                        // the planned one (moved with the claim's conditional UPDATE).
                        let mut moved = true;
                        if let (Some(from), Some(to)) = (&planned, &new_owner) {
                            moved = self.db_move(h, &format!("{OWNER_PREFIX}{from}"), Some(to), false).await? == ClaimOutcome::Won;
                        }
                        if moved {
                            let bits = with_token(&[], token);
                            self.db_replace_marks(h, &|f: &str| is_conv_flag(f), &bits).await?;
                            done.changed += 1;
                        } else {
                            done.lost += 1;
                        }
                        continue;
                    }
                    match rewrite_flags(&mut c.session, &h.folder, h.uidvalidity, h.uid, &change).await {
                        Ok(Rewrite::Done(after)) => {
                            self.store.set_flags(h.id, &after)?;
                            done.changed += 1;
                        }
                        // Its owner moved, or it is gone or renumbered: left alone.
                        Ok(Rewrite::Declined(_) | Rewrite::Gone | Rewrite::Stale) => done.lost += 1,
                        Ok(Rewrite::Contended(_)) => {
                            return Err(EngineError::Conversation(format!(
                                "{} UID {}: its flags kept changing; try again",
                                h.folder, h.uid
                            )));
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok(done)
            })
            .await?;
        self.team.wake.notify_waiters();
        Ok(done)
    }

    /// A parked conversation stays parked under its new key (parking is this app's own).
    fn carry_parking(&self, old: &str, new: &str) -> Result<()> {
        if old == new {
            return Ok(());
        }
        if let Some(at) = self.store.parked()?.get(old) {
            self.store.park(new, *at)?;
            self.store.unpark(old)?;
        }
        Ok(())
    }
}

/// Open: not answered, not deleted, not resolved without a reply (`$Resolved`). A
/// resolved email keeps its owner keyword as a record but no longer counts as load.
pub(crate) fn is_open(h: &QueueHead) -> bool {
    blendesk_domain::keywords::awaits_reply(&h.flags) && !blendesk_domain::automation::survey::is_answer(&h.subject)
}

/// Each head's conversation key, in the heads' order (`crate::conversation::keys_of`).
pub(crate) type ConversationKeys = Arc<Vec<String>>;

/// The keys of the open conversations `owner_keyword` holds (parked ones included).
pub(crate) fn open_conversations_of(heads: &[QueueHead], keys: &[String], owner_keyword: &str) -> std::collections::HashSet<String> {
    heads
        .iter()
        .zip(keys)
        .filter(|(h, _)| is_open(h) && h.flags.iter().any(|f| f.eq_ignore_ascii_case(owner_keyword)))
        .map(|(_, key)| key.clone())
        .collect()
}
