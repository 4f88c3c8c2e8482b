//! Handing a conversation over without a server: a supervisor transfers it to another
//! advisor, or its owner releases it to the queue. Both are the claim's compare-and-swap
//! (`claims::swap_owner`) on every open email of the conversation (its key, or the
//! customer's address: `crate::conversation`), so there is never a moment with two owners.

use crate::claims::swap_owner;
use crate::engine::{Engine, EngineError, Result};
use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::claim::{declined_keyword, owner_keyword, owners, ClaimOutcome, OWNER_PREFIX};
use blendesk_mail::imap;
use blendesk_store::QueueHead;

/// What a hand-over did: emails moved, and emails someone else moved first.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Handover {
    pub moved: u32,
    pub lost: u32,
}

impl Engine {
    /// The open emails of conversation `customer` (a key or a customer's address), with
    /// their owner.
    fn conversation_emails(&self, customer: &str) -> Result<Vec<(QueueHead, String)>> {
        let Ok(key) = self.conversation_key(customer) else { return Ok(Vec::new()) };
        let heads = self.store.queue_heads(&self.config.imap.queues)?;
        let keys = self.conversation_keys_for(&heads);
        Ok(heads
            .iter()
            .zip(keys.iter())
            .filter(|(h, k)| crate::conversation::is_open(h) && **k == key)
            .map(|(h, _)| h)
            .filter_map(|h| {
                let owner = owners(&h.flags).next()?.to_owned();
                Some((h.clone(), owner))
            })
            .collect())
    }

    /// A supervisor moves `customer`'s open conversation to `to`. Refused unless this
    /// app's advisor is a supervisor in the policy in force on the server.
    pub async fn transfer(&self, customer: &str, to: &AdvisorId) -> Result<Handover> {
        self.coordination_fresh().await?;
        let policy = self.load_policy().await?;
        if !policy.is_supervisor(&self.config.advisor.id) {
            return Err(EngineError::Policy(format!(
                "{} is not a supervisor in the policy: only supervisors transfer",
                self.config.advisor.id.as_str()
            )));
        }
        let emails = self.conversation_emails(customer)?;
        if emails.is_empty() {
            return Err(EngineError::Conversation(format!("{customer} has no open conversation with an owner")));
        }
        let target = owner_keyword(to);
        self.with_team_session(async |c| {
            let mut done = Handover::default();
            self.record(blendesk_domain::activity::ActivityKind::Transferred {
                conversation: customer.to_lowercase(),
                to: to.as_str().to_owned(),
            });
            for (h, owner) in emails.iter().filter(|(_, o)| o != to.as_str()) {
                let from = format!("{OWNER_PREFIX}{owner}");
                let moved = if self.coordinated_by_database() {
                    self.db_move(h, &from, Some(&target), false).await?
                } else {
                    swap_owner(&mut c.session, &h.folder, h.uidvalidity, h.uid, &from, Some(&target)).await?
                };
                match moved {
                    ClaimOutcome::Won => {
                        self.store.replace_flag(h.id, Some(&from), &target)?;
                        done.moved += 1;
                    }
                    _ => done.lost += 1,
                }
            }
            Ok(done)
        })
        .await
    }

    /// Give my open conversation with `customer` back to the queue: my owner keyword goes
    /// (compare-and-swap) and a `$bd_declined_<me>` mark stays, so my app does not take
    /// it again while others may.
    pub async fn release(&self, customer: &str) -> Result<Handover> {
        self.coordination_fresh().await?;
        let me = &self.config.advisor.id;
        let mine = owner_keyword(me);
        let emails: Vec<_> = self.conversation_emails(customer)?.into_iter().filter(|(_, o)| o == me.as_str()).collect();
        if emails.is_empty() {
            return Err(EngineError::Conversation(format!("{customer} has no open conversation of yours to release")));
        }
        let declined = declined_keyword(me);
        self.record(blendesk_domain::activity::ActivityKind::Released { conversation: customer.to_lowercase() });
        self.with_team_session(async |c| {
            let mut done = Handover::default();
            for (h, _) in &emails {
                if self.coordinated_by_database() {
                    match self.db_move(h, &mine, None, true).await? {
                        ClaimOutcome::Won => done.moved += 1,
                        _ => done.lost += 1,
                    }
                    continue;
                }
                let selected = imap::select(&mut c.session, &h.folder, true).await?;
                if selected.uidvalidity != h.uidvalidity {
                    done.lost += 1;
                    continue;
                }
                // The mark first: a crash in between leaves it mine, never taken back by me.
                imap::store(&mut c.session, h.uid, &format!("+FLAGS.SILENT ({declined})"))
                    .await
                    .map_err(|e| crate::claims::keyword_limit(e, &h.folder, selected.keywords.len()))?;
                match swap_owner(&mut c.session, &h.folder, h.uidvalidity, h.uid, &mine, None).await? {
                    ClaimOutcome::Won => {
                        self.store.replace_flag(h.id, Some(&mine), &declined)?;
                        done.moved += 1;
                    }
                    _ => done.lost += 1,
                }
            }
            Ok(done)
        })
        .await
    }
}
