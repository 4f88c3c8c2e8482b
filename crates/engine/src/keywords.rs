//! Keeping the team's keywords safe to use: registered in every queue folder before
//! their first conditional use (`claims::register_keywords`; Dovecot lets concurrent
//! compare-and-swaps of a keyword new to a mailbox all succeed), the folder's count
//! checked against the budget (`blendesk_domain::keywords`), and an email left with two
//! owners settled the same way by every app.

use crate::claims::{register_keywords, rewrite_flags, FlagChange, Registered, Rewrite};
use crate::engine::{Engine, Result};
use crate::events::Event;
use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::blending::Policy;
use blendesk_domain::claim::{owners, settle_owners};
use blendesk_domain::keywords::{check_budget, team_keywords, unknown, BudgetCheck, CYRUS_KEYWORD_LIMIT};
use blendesk_mail::imap::{self, ImapSession};
use blendesk_store::QueueHead;
use std::sync::atomic::Ordering;

/// Everyone the policy names (advisors and supervisors) and this advisor.
pub(crate) fn team_of(policy: &Policy, me: &AdvisorId) -> Vec<AdvisorId> {
    let mut ids: Vec<AdvisorId> = policy
        .advisors
        .keys()
        .filter_map(|a| AdvisorId::parse(a).ok())
        .chain(policy.supervisors.iter().cloned())
        .chain(std::iter::once(me.clone()))
        .collect();
    ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    ids.dedup();
    ids
}

impl Engine {
    /// Register the team's keywords (every advisor's owner keyword and the fixed set) in
    /// every queue folder that does not know them yet, and check each folder's count
    /// against the budget. At the start of team mode and whenever the policy's advisors
    /// change. Returns how many keywords were registered.
    pub async fn register_team_keywords(&self, session: &mut ImapSession, team: &[AdvisorId]) -> Result<usize> {
        let wanted = team_keywords(team);
        let mut registered = 0;
        for folder in &self.config.imap.queues {
            let selected = imap::select(session, folder, true).await?;
            let new: Vec<String> = unknown(&wanted, &selected.keywords).into_iter().map(str::to_owned).collect();
            if !new.is_empty() {
                match register_keywords(session, folder, 0, &new, selected.keywords.len()).await? {
                    Registered::Yes => registered += new.len(),
                    // Each first use falls back to the touch (`claims::rewrite_flags`).
                    Registered::NoMarker => {}
                }
            }
            let count = selected.keywords.len() + new.len();
            // Names the team may still add: everyone's declined keyword.
            match check_budget(count, team.len(), Some(CYRUS_KEYWORD_LIMIT), team.len()) {
                BudgetCheck::Fine => {}
                BudgetCheck::OverBudget { count, budget } => {
                    tracing::warn!(
                    folder, count, budget,
                    "the folder holds more keywords than the team needs (other clients, or conversation keywords of an earlier version); \
                     on Cyrus they count toward its limit of 100"
                )
                }
                BudgetCheck::NearLimit { count, limit } => tracing::warn!(
                    folder,
                    count,
                    limit,
                    "the folder is near Cyrus's keyword limit; when it is reached claims fail: run `cyr_expire -t` on the server"
                ),
            }
        }
        Ok(registered)
    }

    /// Settle one open email that carries two or more owner keywords, if the mirror
    /// shows one: every app applies the domain's rule (`settle_owners`: the owner of the
    /// rest of its conversation, else the lowest id) with the conditional rewrite, so
    /// they all write the same list. Returns whether there was one to settle.
    pub(crate) async fn settle_double_owner(
        &self,
        session: &mut ImapSession,
        heads: &[QueueHead],
        keys: &[String],
        skip: &mut std::collections::HashMap<i64, i64>,
        now: i64,
    ) -> Result<bool> {
        let is_open = crate::conversation::is_open;
        let Some(i) =
            (0..heads.len()).find(|&i| is_open(&heads[i]) && owners(&heads[i].flags).nth(1).is_some() && !skip.contains_key(&heads[i].id))
        else {
            return Ok(false);
        };
        let h = &heads[i];
        // The conversation's other open emails with one owner each: their owner, if one.
        let mut others: Vec<&str> = (0..heads.len())
            .filter(|&j| j != i && keys[j] == keys[i] && is_open(&heads[j]))
            .filter_map(|j| {
                let mut o = owners(&heads[j].flags);
                match (o.next(), o.next()) {
                    (Some(one), None) => Some(one),
                    _ => None,
                }
            })
            .collect();
        others.sort_unstable();
        others.dedup();
        let preferred = (others.len() == 1).then(|| others[0].to_owned());
        skip.insert(h.id, now + 2_000);
        let change = |flags: &[String]| settle_owners(flags, preferred.as_deref()).map(|(_, new)| FlagChange::Replace(new));
        if let Rewrite::Done(after) = rewrite_flags(session, &h.folder, h.uidvalidity, h.uid, &change).await? {
            let kept = owners(&after).next().unwrap_or_default().to_owned();
            let removed: Vec<String> = owners(&h.flags).filter(|o| !o.eq_ignore_ascii_case(&kept)).map(str::to_owned).collect();
            self.team.owners_settled.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(folder = %h.folder, uid = h.uid, kept = %kept, removed = ?removed, "settled an email with several owners");
            self.emit(Event::OwnersSettled { folder: h.folder.clone(), uid: h.uid, id: h.id, kept, removed });
        }
        Ok(true)
    }

    /// Emails this app settled (`settle_double_owner`) since it started.
    pub fn owners_settled(&self) -> u64 {
        self.team.owners_settled.load(Ordering::Relaxed)
    }
}
