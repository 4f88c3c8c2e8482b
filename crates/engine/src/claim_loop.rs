//! The claim loop: takes the next email for this advisor with the mailbox
//! compare-and-swap, within the supervisor's cap, in the team's offer order, while its
//! chores task (`chores.rs`) keeps presence, duties and Sent going. The decisions are the
//! domain's (`blendesk_domain::blending`, `claim`); this module feeds them from the
//! mirror and the server and acts on the answer.

use crate::claims::take_keyword_guarded;
use crate::conversation::is_open;
use crate::engine::{Engine, EngineError, Result};
use crate::events::Event;
use crate::team::{language_of, lock, POLICY_POLL};
use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::blending::{
    can_claim, can_take, may_claim, my_share, offer_order, AdvisorEvent, CandidateEmail, Policy, Racer, ALL_SKILLS,
};
use blendesk_domain::claim::{fairness_wait, idle_wait, owner_keyword, owners, ClaimOutcome, OWNER_PREFIX};
use blendesk_mail::imap;
use blendesk_store::QueueHead;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Wait per conversation held before trying a claim (fairness without a server).
const FAIRNESS_STEP: Duration = Duration::from_millis(50);
/// An email the team's matching gives to another advisor is left to them this long; then
/// anyone may take it (the presence board lags: they may have begun a call).
const LEFT_TO_OTHERS_MS: i64 = 1_000;

/// What the claim loop remembers between passes, by mirror row id.
#[derive(Default)]
struct ClaimMemory {
    /// Emails not to try again before the time: lost races, moved flags, stale UIDs.
    skip: HashMap<i64, i64>,
    /// Emails left to another advisor by the matching, since when.
    left_to_others: HashMap<i64, i64>,
}

/// Who holds each open conversation: conversation key (`crate::conversation::keys_of`,
/// one per head in `keys`) → owner id, the owner of its emails.
fn conversation_owners<'a>(heads: &'a [QueueHead], keys: &[String]) -> HashMap<String, &'a str> {
    let mut out = HashMap::new();
    for (h, key) in heads.iter().zip(keys).filter(|(h, _)| is_open(h)) {
        if let Some(owner) = owners(&h.flags).next() {
            out.entry(key.clone()).or_insert(owner);
        }
    }
    out
}

/// Aborts a background task when dropped (the presence task ends with the claim loop).
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = &self.0 {
            handle.abort();
        }
    }
}

impl Engine {
    /// Claim email for this advisor until shutdown. Refuses (returns an error) when the
    /// server lacks what team mode needs; reconnects with backoff otherwise.
    /// Run it beside `watch_queues`: its chores task syncs the Sent folder.
    pub async fn run_claims(self: &Arc<Self>) -> Result<()> {
        // Heartbeats, duties and Sent on a connection and task of their own
        // (`chores.rs`): a slow claim pass must never make this advisor look offline, and
        // an acknowledgement race must not delay a claim.
        let mut chores = AbortOnDrop(Some(tokio::spawn(self.clone().run_team_chores())));
        // With the team's database: its changes, heard as they happen, into the mirror.
        let _feed = AbortOnDrop(self.coordinated_by_database().then(|| tokio::spawn(self.clone().run_coordination_feed())));
        let result = self.run_claim_sessions().await;
        // Stopping: the chores log out and end by themselves; wait for them, so nothing
        // of team mode outlives it. Failing: they stop with the claims (dropped below).
        if self.is_stopping() {
            if let Some(handle) = chores.0.take() {
                let _ = handle.await;
            }
        }
        result
    }

    async fn run_claim_sessions(self: &Arc<Self>) -> Result<()> {
        let mut retry = crate::connections::Reconnect::default();
        while !self.is_stopping() {
            match self.claim_session(&mut retry).await {
                Ok(()) => return Ok(()),
                // A server without CONDSTORE will not grow it: team mode stops. Nor does a
                // revoked sign-in come back by retrying: the advisor must sign in again.
                Err(e @ (EngineError::MissingCapability(_) | EngineError::SignInRevoked(_))) => return Err(e),
                Err(e) => {
                    if !self.wait_to_reconnect(retry.failed("claim loop", &e)).await {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }

    async fn claim_session(self: &Arc<Self>, retry: &mut crate::connections::Reconnect) -> Result<()> {
        // With the team's database the claim loop writes nothing to the mailbox, so it
        // holds no IMAP connection: an app needs only what the mail itself needs (Google
        // counts 15 per account across the whole team).
        if self.coordinated_by_database() {
            self.db_session().await?;
            return self.claim_passes(None, retry).await;
        }
        self.with_team_session(async |c| self.claim_passes(Some(&mut c.session), retry).await).await
    }

    /// The claim loop's passes until shutdown, on the mailbox's `session` (None when the
    /// team's database coordinates).
    async fn claim_passes(
        self: &Arc<Self>,
        mut session: Option<&mut imap::ImapSession>,
        retry: &mut crate::connections::Reconnect,
    ) -> Result<()> {
        {
            retry.connected();
            let mut events = self.subscribe();
            let mut next_policy = tokio::time::Instant::now();
            let mut memory = ClaimMemory::default();
            // The team whose keywords are registered in the queues (again when it changes).
            let mut registered_for: Option<Vec<AdvisorId>> = None;
            loop {
                if self.is_stopping() {
                    return Ok(());
                }
                if tokio::time::Instant::now() >= next_policy {
                    next_policy = tokio::time::Instant::now() + POLICY_POLL;
                    match session.as_deref_mut() {
                        Some(session) => {
                            self.refresh_policy(session).await?;
                            let team = crate::keywords::team_of(&self.policy(), &self.config.advisor.id);
                            if registered_for.as_ref() != Some(&team) {
                                self.register_team_keywords(session, &team).await?;
                                registered_for = Some(team);
                            }
                        }
                        None => self.db_refresh_policy().await?,
                    }
                }
                self.presence_event(AdvisorEvent::Tick);
                if self.try_one_claim(session.as_deref_mut(), &mut memory).await? {
                    continue;
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = self.team.wake.notified() => {}
                    _ = events.recv() => {
                        // A sync reports many events at once: look again once for all of them.
                        while events.try_recv().is_ok() {}
                    }
                    _ = self.stopped() => {}
                }
            }
        }
    }

    /// My email in the team's matching of the waiting emails (`team_order`) to the
    /// advisors who could claim now: available on the presence board, with room by the
    /// mirror's owner keywords (fresher than the board's notes) and the policy's caps.
    fn my_share<'c>(
        &self,
        team_order: &[&'c CandidateEmail<usize>],
        customer_owner: &HashMap<String, &str>,
        policy: &Policy,
    ) -> Option<&'c CandidateEmail<usize>> {
        let me = &self.config.advisor.id;
        let mut loads: HashMap<&str, u32> = HashMap::new();
        for owner in customer_owner.values() {
            *loads.entry(owner).or_default() += 1;
        }
        let ids: Vec<AdvisorId> = self
            .available_on_board()
            .iter()
            .filter_map(|id| AdvisorId::parse(id).ok())
            .filter(|a| a != me && loads.get(a.as_str()).copied().unwrap_or(0) < policy.cap_for(a))
            .collect();
        let load_of = |a: &AdvisorId| loads.get(a.as_str()).copied().unwrap_or(0);
        let racers: Vec<Racer<'_>> = ids.iter().map(|a| Racer { id: a.as_str(), skills: policy.skills_for(a), load: load_of(a) }).collect();
        let mine = Racer { id: me.as_str(), skills: policy.skills_for(me), load: load_of(me) };
        my_share(team_order, &racers, mine).map(|i| team_order[i])
    }

    /// Gap-aware pacing (policy `gap_pacing`): instead of my share, the first email of my
    /// order from it on that fits the expected time before my next call
    /// (`pacing::pace`), by the team's call rate on the presence board and the advisors
    /// ahead of me in the line for calls. My share when the switch is off or no rate is
    /// known yet.
    fn paced<'c>(
        &self,
        offered: &[&'c CandidateEmail<usize>],
        mine: &'c CandidateEmail<usize>,
        heads: &[QueueHead],
        policy: &Policy,
        now: i64,
    ) -> &'c CandidateEmail<usize> {
        use blendesk_domain::blending::pacing::{estimate_handle_ms, expected_gap_ms, pace};
        if !policy.gap_pacing {
            return mine;
        }
        let Some(from) = offered.iter().position(|c| c.id == mine.id) else { return mine };
        let ahead = self.available_longer_than(lock(&self.team.presence).since_ms());
        let Some(gap) = self.team_calls_per_hour().and_then(|rate| expected_gap_ms(rate, ahead)) else { return mine };
        let estimate = |c: &CandidateEmail<usize>| {
            estimate_handle_ms(policy.sla_for(&c.queue).handle_minutes * 60_000, heads[c.id].excerpt.chars().count())
        };
        offered[pace(offered, from, estimate, gap, now, policy.sla_at_risk_ms())]
    }

    /// One decision: returns true when it acted (so the loop looks again at once).
    async fn try_one_claim(&self, mut session: Option<&mut imap::ImapSession>, memory: &mut ClaimMemory) -> Result<bool> {
        // Until every queue is mirrored, the most urgent email may be in one not read yet.
        if !self.queues_caught_up() {
            return Ok(false);
        }
        let me: &AdvisorId = &self.config.advisor.id;
        let now = self.now_ms();
        memory.skip.retain(|_, until| *until > now);
        let skip = &mut memory.skip;
        let heads = self.store.queue_heads(&self.config.imap.queues)?;
        let keys = self.conversation_keys_for(&heads);
        // Whatever this advisor's state: an email with two owners is nobody's until settled.
        // (The database never lets an email have two owners.)
        if let Some(session) = session.as_deref_mut() {
            if self.settle_double_owner(session, &heads, &keys, skip, now).await? {
                return Ok(true);
            }
        }
        // During a long call, what would miss its promise goes back (policy switch).
        if self.hand_back_pass(session.as_deref_mut()).await? {
            return Ok(true);
        }
        if !may_claim(self.advisor_state()) {
            return Ok(false);
        }
        let policy = self.policy();
        // Each conversation's business-hours SLA due time (its queue's calendar), by key.
        let sla_due: HashMap<String, i64> =
            crate::sla::conversation_clocks(&heads, &keys, &self.config.imap.queues, &self.team_domain(), &policy, now)
                .into_iter()
                .filter_map(|c| Some((c.key, c.due_ms?)))
                .collect();
        let mine = owner_keyword(me);
        // Load counts conversations: the open emails of one key are one conversation.
        let customer_owner = conversation_owners(&heads, &keys);
        let (my_customers, load) = self.load_in(&heads, &keys, now)?;
        let cap = policy.cap_for(me);
        // At the cap only chasers into my own open conversations may still be taken.
        let at_cap = !can_claim(cap, load, self.advisor_state());
        if at_cap && load == 0 {
            return Ok(false);
        }
        // Conversation owners by Message-ID, for sticky follow-ups.
        let mut owner_of: HashMap<&str, &str> = HashMap::new();
        for h in heads.iter() {
            if let (Some(mid), Some(owner)) = (h.message_id.as_deref(), owners(&h.flags).next()) {
                owner_of.insert(mid, owner);
            }
        }
        let ours = self.config.from_address().unwrap_or_default();
        // What this advisor released goes to the others.
        let declined = blendesk_domain::claim::declined_keyword(me);
        let candidates: Vec<CandidateEmail<usize>> = heads
            .iter()
            .enumerate()
            .filter(|(_, h)| is_open(h) && h.from_addr != ours && !skip.contains_key(&h.id))
            .filter(|(_, h)| !h.flags.iter().any(|f| f.eq_ignore_ascii_case(&declined)))
            .filter(|(_, h)| match owners(&h.flags).next() {
                None => true,
                // Another advisor's email is a candidate only once they are gone past grace.
                Some(o) => o != me.as_str() && self.offline_past_grace(o, policy.grace_ms()),
            })
            .map(|(i, h)| {
                // Owned by a gone advisor (take-over), or a follow-up in someone's conversation.
                let (owner, owner_gone) = match owners(&h.flags).next().and_then(|o| AdvisorId::parse(o).ok()) {
                    Some(holder) => (Some(holder), true),
                    None => {
                        // The thread it replies to first, then the customer's open
                        // conversation (a chaser joins it whatever its subject): the
                        // domain's grouping order (`conversation::conversation_keys`).
                        let thread_owner = h
                            .references
                            .iter()
                            .map(String::as_str)
                            .chain(h.in_reply_to.as_deref())
                            .find_map(|r| owner_of.get(r))
                            .or_else(|| customer_owner.get(keys[i].as_str()))
                            .and_then(|o| AdvisorId::parse(o).ok());
                        // A follow-up waits for its conversation's owner, unless they are gone.
                        let gone = thread_owner.as_ref().is_some_and(|o| o != me && self.offline_past_grace(o.as_str(), policy.grace_ms()));
                        (thread_owner, gone)
                    }
                };
                CandidateEmail {
                    id: i,
                    queue: h.folder.clone(),
                    language: Some(language_of(&h.subject, &h.excerpt).to_owned()),
                    sender: h.from_addr.clone(),
                    subject: h.subject.clone(),
                    body_excerpt: h.excerpt.clone(),
                    received_at_ms: h.internal_date * 1000,
                    sla_due_at_ms: sla_due.get(&keys[i]).copied(),
                    owner,
                    owner_offline_past_grace: owner_gone,
                }
            })
            .collect();
        let order = offer_order(&candidates, me, policy.skills_for(me), &policy, now);
        let joins_mine = |i: usize| my_customers.contains(&keys[i]);
        let offered: Vec<_> = order.into_iter().filter(|c| !at_cap || joins_mine(c.id)).collect();
        let Some(top) = offered.first() else { return Ok(false) };
        // The email to try, and whether other apps may be trying it too.
        let first = if top.owner.as_ref() == Some(me) || at_cap {
            // My own follow-ups go to me at once; at the cap only they are offered.
            (*top, false)
        } else {
            let team_order: Vec<_> = offer_order(&candidates, me, &ALL_SKILLS, &policy, now)
                .into_iter()
                .filter(|c| c.owner.is_none() || c.owner_offline_past_grace)
                .collect();
            let mine = self.my_share(&team_order, &customer_owner, &policy);
            // Emails matched to others: left to them a moment, then fair game.
            let left = &mut memory.left_to_others;
            let waiting: std::collections::HashSet<i64> = offered.iter().map(|c| heads[c.id].id).collect();
            left.retain(|id, _| waiting.contains(id));
            for c in &offered {
                left.entry(heads[c.id].id).or_insert(now);
            }
            let overdue = || offered.iter().copied().find(|c| now - left[&heads[c.id].id] >= LEFT_TO_OTHERS_MS);
            match mine {
                Some(c) => {
                    let c = self.paced(&offered, c, &heads, &policy, now);
                    left.remove(&heads[c.id].id);
                    (c, false)
                }
                None => match overdue() {
                    Some(c) => (c, true),
                    None => return Ok(false),
                },
            }
        };
        let (first, racing) = first;
        let head = &heads[first.id];
        let joins = joins_mine(first.id);
        // In a race (an email another advisor's turn left waiting), less-loaded advisors
        // try first, and those at the keyboard before those who stepped away. My share of
        // the matching is mine alone (it already went to the least loaded who could take
        // it), and sticky follow-ups go to their owner at once: no wait.
        if racing && first.owner.as_ref() != Some(me) {
            let idle_ms = self.now_ms().saturating_sub(lock(&self.team.presence).last_activity_ms()).max(0);
            let wait =
                fairness_wait(load, FAIRNESS_STEP, rand::random::<f64>()) + idle_wait(Duration::from_millis(idle_ms as u64), FAIRNESS_STEP);
            if !wait.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = self.team.wake.notified() => return Ok(true),
                }
            }
        }
        // A call may have started during the wait: decide again right before the swap.
        let cap = self.policy().cap_for(me);
        let state = self.advisor_state();
        if !can_take(cap, load, state, joins) {
            return Ok(false);
        }
        // The claim's time is when it was decided, with the advisor available; the guard
        // below withdraws it if a call begins before the swap is sent.
        let decided_at = self.now_ms();
        let guard = || may_claim(self.advisor_state());
        let outcome = match (session, owners(&head.flags).next()) {
            (None, gone) => self.db_claim(head, gone, &guard).await?,
            (Some(session), Some(gone)) => {
                let from = format!("{OWNER_PREFIX}{gone}");
                crate::claims::swap_owner(session, &head.folder, head.uidvalidity, head.uid, &from, Some(&mine)).await?
            }
            (Some(session), None) => {
                take_keyword_guarded(session, &head.folder, head.uidvalidity, head.uid, &mine, OWNER_PREFIX, &guard).await?
            }
        };
        match &outcome {
            ClaimOutcome::Won => {
                let previous = owners(&head.flags).next().map(|o| format!("{OWNER_PREFIX}{o}"));
                self.store.replace_flag(head.id, previous.as_deref(), &mine)?;
                self.record(blendesk_domain::activity::ActivityKind::Claimed {
                    message_id: head.message_id.clone(),
                    conversation: keys[first.id].clone(),
                    queue: head.folder.clone(),
                });
                self.emit(Event::Claimed {
                    folder: head.folder.clone(),
                    uid: head.uid,
                    id: head.id,
                    message_id: head.message_id.clone(),
                    at_ms: decided_at,
                    load,
                    cap,
                    joins,
                    state: state.as_str().to_owned(),
                });
            }
            ClaimOutcome::Lost { .. } => {
                // The watcher's resync brings the holder's keyword into the mirror.
                skip.insert(head.id, now + 2_000);
            }
            ClaimOutcome::Withdrawn => return Ok(false),
            ClaimOutcome::Changed => {
                // Another flag moved under us (often the team's acknowledgement keyword,
                // set on new mail at the same moment): nobody owns it, try again soon.
                skip.insert(head.id, now + 150);
            }
            ClaimOutcome::Gone | ClaimOutcome::Stale => {
                skip.insert(head.id, now + 2_000);
            }
        }
        Ok(true)
    }
}
