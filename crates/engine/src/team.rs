//! Team blending's state at run time: the advisor's presence and state machine, their
//! load, and the supervisor's policy (a JSON message in `Blendesk/Policy` of the shared
//! mailbox). The claim loop that acts on them is `claim_loop.rs`.

use crate::conversation::{open_conversations_of, ConversationKeys};
use crate::engine::{now_ms, Engine, EngineError, Result};
use crate::events::Event;
use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::blending::{AdvisorEvent, AdvisorPresence, AdvisorState, Policy, PolicyDraft};
use blendesk_domain::claim::owner_keyword;
use blendesk_mail::{imap, mime};
use blendesk_store::QueueHead;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// The policy folder's leaf under `imap.team_folders` (`Blendesk/Policy` by default).
pub const POLICY_FOLDER: &str = "Policy";
/// How often the policy folder is checked: apps follow a change within this plus a pass.
/// The seed of "what if": both columns see the same day.
const WHAT_IF_SEED: u64 = 1;

/// "What if": the chosen days under today's policy and under the draft.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct WhatIf {
    pub today: blendesk_domain::simulate::Outcome,
    pub draft: blendesk_domain::simulate::Outcome,
    /// Today's team-wide settings, where a draft starts.
    pub current: PolicyDraft,
    /// The days simulated, fitted from the mirror (`simulate::fit`).
    pub basis: blendesk_domain::simulate::fit::Basis,
    /// The simulator's standard day was run: asked for, or the mirror has no mail in
    /// the days asked for.
    pub standard: bool,
}

/// Which days "what if" simulates.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WhatIfDays {
    /// Every day of the last four weeks with mail, as the mirror saw them.
    LastFourWeeks,
    /// One day (YYYY-MM-DD, the standard day's opening hours in UTC).
    Day { date: String },
    /// The simulator's standard day (8 advisors, 1,200 emails, 900 calls).
    Standard,
}

/// Days in "the last four weeks".
const WHAT_IF_WEEKS_DAYS: u32 = 28;

pub(crate) const POLICY_POLL: Duration = Duration::from_secs(2);

pub(crate) struct TeamState {
    pub(crate) presence: Mutex<AdvisorPresence>,
    pub(crate) board: Mutex<crate::presence::PresenceBoard>,
    pub(crate) policy: Mutex<(u32, Policy)>,
    /// Wakes the claim loop: state changed, policy changed, new mail.
    pub(crate) wake: Notify,
    /// When this app first saw each email whose acknowledgement is another app's turn.
    pub(crate) duty_seen: Mutex<HashMap<i64, i64>>,
    /// Conversation keys of the store's shared heads lists (queues; queues and Sent),
    /// kept while the store hands out the same list (`Engine::conversation_keys_for`).
    pub(crate) keys_memo: Mutex<Vec<(Arc<Vec<QueueHead>>, ConversationKeys)>>,
    /// Emails with several owners this app settled (`keywords::settle_double_owner`).
    pub(crate) owners_settled: std::sync::atomic::AtomicU64,
    /// The server refused this login's duty bids (no rights on Blendesk/Duties): told once.
    pub(crate) duties_refused: std::sync::atomic::AtomicBool,
    /// Emails whose survey duty this app has settled (`surveys.rs`).
    pub(crate) surveys_done: Mutex<std::collections::HashSet<i64>>,
    /// A resolution arrived since the last survey pass (`surveys::SurveySchedule`).
    pub(crate) resolutions_arrived: std::sync::atomic::AtomicBool,
    /// What the advisor should know after their call (`events::Notice`, set by `hand_back.rs`).
    pub(crate) notices: Mutex<Vec<crate::events::Notice>>,
    /// The call going on, and the one waiting for its disposition (`calls.rs`).
    pub(crate) calls: Mutex<crate::calls::CallState>,
}

impl TeamState {
    pub(crate) fn new() -> Self {
        Self {
            presence: Mutex::new(AdvisorPresence::new(now_ms())),
            board: Mutex::new(Default::default()),
            policy: Mutex::new((0, Policy::default())),
            wake: Notify::new(),
            duty_seen: Mutex::new(HashMap::new()),
            keys_memo: Mutex::new(Vec::new()),
            owners_settled: Default::default(),
            duties_refused: Default::default(),
            surveys_done: Default::default(),
            resolutions_arrived: Default::default(),
            notices: Mutex::new(Vec::new()),
            calls: Mutex::new(Default::default()),
        }
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// "zh" when the text has Chinese characters, else "en" — enough to route by skill.
pub(crate) fn language_of(subject: &str, excerpt: &str) -> &'static str {
    if subject.chars().chain(excerpt.chars()).any(blendesk_domain::fts::is_cjk) {
        "zh"
    } else {
        "en"
    }
}

impl Engine {
    pub fn advisor_state(&self) -> AdvisorState {
        lock(&self.team.presence).state()
    }

    /// Whether email is paused now (a call, wrap-up): the one place the shell asks.
    pub fn email_paused(&self) -> bool {
        blendesk_domain::blending::email_paused(self.advisor_state())
    }

    pub(crate) fn refuse_while_paused(&self) -> Result<()> {
        if self.email_paused() {
            return Err(EngineError::Paused);
        }
        Ok(())
    }

    /// The advisor's presence with its times (since, wrap-up end), for the window.
    pub fn advisor_presence(&self) -> AdvisorPresence {
        lock(&self.team.presence).clone()
    }

    /// Apply a presence event (manual state, call start/end, activity, tick).
    pub fn presence_event(&self, event: AdvisorEvent) -> AdvisorState {
        let policy = self.policy();
        let mut p = lock(&self.team.presence);
        let changed = p.apply(event, self.now_ms(), &policy);
        let state = p.state();
        drop(p);
        if let Some(s) = changed {
            self.record(blendesk_domain::activity::ActivityKind::State { state: s.as_str().to_owned() });
            self.settle_call_after(s);
            self.emit(Event::AdvisorState { state: s.as_str().to_owned(), at_ms: self.now_ms() });
            self.team.wake.notify_waiters();
        }
        state
    }

    pub fn policy(&self) -> Policy {
        lock(&self.team.policy).1.clone()
    }

    /// Publish a new policy version for the whole team (a supervisor's action): appended
    /// to `Blendesk/Policy`; every app follows the newest message there.
    pub async fn publish_policy(&self, policy: &Policy) -> Result<()> {
        if self.coordinated_by_database() {
            return self.db_publish_policy(policy).await;
        }
        let json = policy.to_json().map_err(|e| EngineError::Policy(e.to_string()))?;
        let raw = format!(
            "From: Blendesk <{from}>\r\nSubject: Blendesk policy\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{json}\r\n",
            from = self.config.from_address().unwrap_or_default(),
            id = self.mint_message_id("policy-"),
        );
        let folder = self.config.team_folder(POLICY_FOLDER);
        let refused = || EngineError::NotPermitted {
            user: self.config.imap.username.clone(),
            action: "change the team policy",
            folder: folder.clone(),
            hint: "only supervisors may: the mailbox owner grants them the insert right (i) on that folder",
        };
        self.with_session(async |c| {
            imap::create_folder(&mut c.session, &folder).await?;
            // With ACLs, ask first: a refused APPEND loses the server's reason on the way.
            if c.has("ACL") && !imap::my_rights(&mut c.session, &folder).await?.contains('i') {
                return Err(refused());
            }
            match imap::append(&mut c.session, &folder, "(\\Seen)", raw.as_bytes()).await {
                Err(e) if e.is_permission_denied() => Err(refused()),
                other => Ok(other?),
            }
        })
        .await
    }

    /// A supervisor sets one advisor's cap: the newest policy is read from the server
    /// (so a concurrent edit is not overwritten by a stale copy), changed, and published
    /// as a new version. Refused unless this app's advisor is a supervisor in it (the
    /// folder's IMAP ACL is what really restricts writing; this keeps the UI honest).
    pub async fn set_advisor_cap(&self, advisor: &AdvisorId, cap: u32) -> Result<Policy> {
        let mut policy = self.load_policy().await?;
        if !policy.is_supervisor(&self.config.advisor.id) {
            return Err(EngineError::Policy(format!("{} is not a supervisor in the policy", self.config.advisor.id.as_str())));
        }
        policy.advisors.entry(advisor.as_str().to_owned()).or_default().cap = Some(cap);
        self.publish_policy(&policy).await?;
        // Follow our own change at once rather than at the next poll.
        self.load_policy().await
    }

    /// "What if": the standard day under the policy in force and under it with `draft`
    /// applied, same seed, through the simulator (`domain::simulate`). Nothing changes.
    pub fn what_if(&self, draft: &PolicyDraft, days: &WhatIfDays) -> Result<WhatIf> {
        use blendesk_domain::simulate::{self, fit};
        draft.check().map_err(EngineError::Policy)?;
        let today = self.policy();
        let standard = simulate::standard_scenario();
        let (mut scenarios, mut basis) = match days {
            WhatIfDays::Standard => (Vec::new(), fit::Basis::default()),
            WhatIfDays::LastFourWeeks => self.fitted_days(&standard, self.now_ms(), WHAT_IF_WEEKS_DAYS)?,
            WhatIfDays::Day { date } => {
                let until = blendesk_domain::metrics::day_end_ms(date).map_err(EngineError::Policy)?;
                self.fitted_days(&standard, until, 1)?
            }
        };
        let is_standard = scenarios.is_empty();
        if is_standard {
            scenarios.push(standard.clone());
            basis = fit::Basis { days: 1, emails: standard.emails, ..fit::Basis::default() };
        }
        let mut run = |policy: &Policy| {
            let outcomes: Vec<_> = scenarios
                .iter_mut()
                .enumerate()
                .map(|(i, s)| {
                    s.policy = policy.clone();
                    simulate::run(s, simulate::Variant::Blendesk, WHAT_IF_SEED + i as u64)
                })
                .collect();
            fit::combine(&outcomes)
        };
        let (Some(now), Some(then)) = (run(&today), run(&today.with_draft(draft))) else {
            return Err(EngineError::Policy("what if: no day to simulate".into()));
        };
        Ok(WhatIf { today: now, draft: then, current: today.draft(), basis, standard: is_standard })
    }

    /// The last `days` days before `until_ms` as the mirror saw them (customer mail of
    /// the queues) and the event log (calls), with today's team, on `base`
    /// (`simulate::fit`).
    fn fitted_days(
        &self,
        base: &blendesk_domain::simulate::Scenario,
        until_ms: i64,
        days: u32,
    ) -> Result<(Vec<blendesk_domain::simulate::Scenario>, blendesk_domain::simulate::fit::Basis)> {
        use blendesk_domain::activity::ActivityKind;
        use blendesk_domain::simulate::fit::{fit_days, ObservedEmail};
        let from = until_ms - i64::from(days) * 86_400_000 - 86_400_000;
        let ours = self.config.from_address().unwrap_or_default().to_lowercase();
        let heads = self.store.queue_heads(&self.config.imap.queues)?;
        let emails: Vec<ObservedEmail> = heads
            .iter()
            .filter(|h| h.internal_date * 1000 >= from && h.internal_date * 1000 < until_ms)
            .filter(|h| h.from_addr.to_lowercase() != ours)
            .map(|h| ObservedEmail {
                received_ms: h.internal_date * 1000,
                queue: h.folder.clone(),
                language: language_of(&h.subject, &h.excerpt).to_owned(),
            })
            .collect();
        let mut base = base.clone();
        let mut team = crate::keywords::team_of(&self.policy(), &self.config.advisor.id);
        team.extend(self.presence_board().iter().filter_map(|e| AdvisorId::parse(&e.note.advisor).ok()));
        team.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        team.dedup();
        base.advisors = team;
        // Calls from the team's event log (inbound, as the softphones reported them), and
        // handle and talk times; with none recorded, each day keeps the standard day's.
        let (mut calls, mut talk_ms, mut handle_ms) = (Vec::new(), Vec::new(), Vec::new());
        for a in self.team_activity(from, until_ms)? {
            match a.kind {
                ActivityKind::Call { started_ms, direction, talk_ms: talk, .. } if direction.as_deref() != Some("outbound") => {
                    calls.push(started_ms);
                    talk_ms.push(talk);
                }
                ActivityKind::Replied { handle_ms: Some(ms), .. } => handle_ms.push(ms),
                _ => {}
            }
        }
        let (handle_mean_s, talk_mean_s) = blendesk_domain::simulate::fit::fit_times(&mut base, &handle_ms, &talk_ms);
        let (scenarios, basis) = fit_days(&emails, &calls, &base, until_ms, days);
        Ok((scenarios, blendesk_domain::simulate::fit::Basis { handle_mean_s, talk_mean_s, ..basis }))
    }

    /// Publish a "what if" draft: the newest policy with the draft's team-wide settings
    /// (supervisors only, as a cap edit).
    pub async fn publish_draft(&self, draft: &PolicyDraft) -> Result<Policy> {
        draft.check().map_err(EngineError::Policy)?;
        let policy = self.load_policy().await?;
        if !policy.is_supervisor(&self.config.advisor.id) {
            return Err(EngineError::Policy(format!("{} is not a supervisor in the policy", self.config.advisor.id.as_str())));
        }
        self.publish_policy(&policy.with_draft(draft)).await?;
        self.load_policy().await
    }

    /// The UID of the policy message in force (0: defaults, none read yet).
    pub fn policy_uid(&self) -> u32 {
        lock(&self.team.policy).0
    }

    /// Load the newest policy message if it changed. A missing folder or an unreadable
    /// document keeps the current policy (defaults when none was ever read).
    pub(crate) async fn refresh_policy(&self, session: &mut imap::ImapSession) -> Result<()> {
        if self.coordinated_by_database() {
            return self.db_refresh_policy().await;
        }
        let known = lock(&self.team.policy).0;
        let Some((newest, text)) = self.mailbox_policy_text(session, known).await? else { return Ok(()) };
        match Policy::parse(text.trim().as_bytes()) {
            Ok(policy) => self.set_policy(newest, policy),
            Err(e) => {
                tracing::warn!(error = %e, uid = newest, "ignoring an unreadable policy document");
                lock(&self.team.policy).0 = newest;
            }
        }
        Ok(())
    }

    /// The newest policy message in the mailbox's policy folder: its UID and text. None
    /// when the folder is missing or empty, or its newest UID is `known` (read already).
    pub(crate) async fn mailbox_policy_text(&self, session: &mut imap::ImapSession, known: u32) -> Result<Option<(u32, String)>> {
        let folder = self.config.team_folder(POLICY_FOLDER);
        let Ok(selected) = imap::select(session, &folder, false).await else { return Ok(None) };
        if selected.exists == 0 {
            return Ok(None);
        }
        let newest = imap::all_uids(session).await?.into_iter().max().unwrap_or(0);
        if newest == known {
            return Ok(None);
        }
        let raw = imap::fetch_raw(session, &newest.to_string(), false).await?;
        Ok(raw.into_iter().next().map(|(_, raw)| (newest, mime::parse(&raw).text)))
    }

    /// The policy in force from now on (`version`: its message's UID, or its version in
    /// the team database); the claim loop looks again at once.
    pub(crate) fn set_policy(&self, version: u32, policy: Policy) {
        *lock(&self.team.policy) = (version, policy);
        self.emit(Event::PolicyChanged { uid: version });
        self.team.wake.notify_waiters();
    }

    /// This advisor's current load: their open conversations, parked ones excepted.
    pub fn load(&self) -> Result<u32> {
        let heads = self.store.queue_heads(&self.config.imap.queues)?;
        let keys = self.conversation_keys_for(&heads);
        Ok(self.load_in(&heads, &keys, self.now_ms())?.1)
    }

    /// My open conversations' keys (parked included, for chasers) and my load
    /// (parked ones excepted: they do not count until they come back).
    pub(crate) fn load_in(&self, heads: &[QueueHead], keys: &[String], now: i64) -> Result<(std::collections::HashSet<String>, u32)> {
        let open = open_conversations_of(heads, keys, &owner_keyword(&self.config.advisor.id));
        let away = crate::parking::still_away(&self.store.parked()?, &open, now);
        let load = (open.len() - away.len()) as u32;
        Ok((open, load))
    }

    /// What this app publishes on the presence board now.
    pub fn presence_note(&self) -> Result<crate::presence::PresenceNote> {
        let p = lock(&self.team.presence);
        let (state, since_ms) = (p.state(), p.since_ms());
        drop(p);
        Ok(crate::presence::PresenceNote {
            advisor: self.config.advisor.id.to_string(),
            name: self.config.advisor.name.clone(),
            state: state.as_str().to_owned(),
            load: self.load()?,
            cap: self.policy().cap_for(&self.config.advisor.id),
            since_ms,
            connections: self.imap_connections() as u32,
            today: self.my_figures_today()?,
        })
    }
}

impl Engine {
    /// The policy in force on the server now (defaults when none is published).
    pub async fn load_policy(&self) -> Result<Policy> {
        if self.coordinated_by_database() {
            self.db_refresh_policy().await?;
            return Ok(self.policy());
        }
        self.with_session(async |c| self.refresh_policy(&mut c.session).await).await?;
        Ok(self.policy())
    }
}
