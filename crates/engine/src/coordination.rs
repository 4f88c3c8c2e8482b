//! Which backend coordinates the team: the mailbox (keywords and folders, the default:
//! `claims.rs`, `duty_bids.rs`, `presence.rs`) or the team's PostgreSQL
//! (`crates/coord-pg`), chosen by the config's `[coordination]` section.
//!
//! With PostgreSQL the mailbox only carries mail: claims, releases, transfers, duties,
//! marks (`$Resolved`, `$bd_breached`, the duty marks, conversation-token bits), presence
//! and the policy live in the database, and no keyword is ever written to the mailbox.
//! What the database holds is copied into the mirror (`Store::set_coord_marks`) as the
//! flags the mailbox would carry, so every rule that reads `owners(&h.flags)` and every
//! view stays as it is: only the writes choose a backend (the `db_*` methods here,
//! called where the mailbox's compare-and-swap would be). The feed task keeps the copy
//! fresh from LISTEN/NOTIFY and reads everything again after a lost connection.

use crate::engine::{Engine, EngineError, Result};
use crate::events::Event;
use blendesk_coord_pg::{AdvisorSession, Change, Claim, CoordError, Duty as PgDuty, EmailState, PgSettings, Tls};
use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::automation::duty::DutyKind;
use blendesk_domain::claim::{declined_keyword, owner_keyword, ClaimOutcome, OWNER_PREFIX};
use blendesk_store::QueueHead;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

/// The config's `[coordination]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case")]
pub enum CoordinationSection {
    /// Keywords and folders in the shared mailbox (needs CONDSTORE and custom keywords).
    Mailbox,
    /// The team's PostgreSQL database.
    Postgres(PostgresSection),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostgresSection {
    pub host: String,
    #[serde(default = "default_pg_port")]
    pub port: u16,
    pub database: String,
    /// This advisor's own login role (registered by the administrator: `blendesk
    /// coordination add-advisor`). Its password comes from the keyring or
    /// `BLENDESK_PG_PASSWORD`, never from this file.
    pub user: String,
    /// `true` (the default): TLS, the certificate checked against `ca_file` or the
    /// public roots. `false` is accepted only for loopback and Unix sockets.
    #[serde(default = "default_true")]
    pub tls: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

fn default_pg_port() -> u16 {
    5432
}

fn default_true() -> bool {
    true
}

impl PostgresSection {
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.host.trim().is_empty() || self.database.trim().is_empty() || self.user.trim().is_empty() {
            return Err("coordination: host, database and user are required for backend = \"postgres\"".into());
        }
        if !self.tls && self.ca_file.is_some() {
            return Err("coordination: ca_file is set but tls = false; remove one".into());
        }
        Ok(())
    }

    /// The settings of this advisor's login, with `password`.
    pub fn settings(&self, password: &str) -> PgSettings {
        PgSettings {
            host: self.host.clone(),
            port: self.port,
            database: self.database.clone(),
            user: self.user.clone(),
            password: password.to_owned(),
            tls: match (&self.tls, &self.ca_file) {
                (false, _) => Tls::Off,
                (true, Some(ca)) => Tls::CaFile(ca.clone()),
                (true, None) => Tls::PublicRoots,
            },
        }
    }
}

impl From<CoordError> for EngineError {
    fn from(e: CoordError) -> Self {
        match e {
            CoordError::NotPermitted { .. } => EngineError::Policy(e.to_string()),
            other => EngineError::Coordination(other.to_string()),
        }
    }
}

/// The key an email has in the database: where the mirror finds it. Its folder's
/// UIDVALIDITY is part of it, so a rebuilt folder's new UIDs never inherit an owner.
pub fn email_key(folder: &str, uidvalidity: u32, uid: u32) -> String {
    format!("{uidvalidity}.{uid}.{folder}")
}

/// The folder, UIDVALIDITY and UID of an `email_key`; None for a key this build did not
/// write (a newer app's, or an imported oddity): it is left alone.
pub fn parse_email_key(key: &str) -> Option<(String, u32, u32)> {
    let mut parts = key.splitn(3, '.');
    let uidvalidity = parts.next()?.parse().ok()?;
    let uid = parts.next()?.parse().ok()?;
    let folder = parts.next().filter(|f| !f.is_empty())?;
    Some((folder.to_owned(), uidvalidity, uid))
}

/// The flags the mailbox backend would carry for this state.
pub fn flags_of(state: &EmailState) -> Vec<String> {
    let mut flags: Vec<String> = state.owner.iter().map(owner_keyword).collect();
    flags.extend(state.declined.iter().map(declined_keyword));
    flags.extend(state.marks.iter().cloned());
    flags
}

fn duty_name(kind: DutyKind) -> &'static str {
    match kind {
        DutyKind::Ack => "ack",
        DutyKind::Late => "late",
        DutyKind::Survey => "survey",
        DutyKind::FileAnswer => "file_answer",
    }
}

/// An advisor's connection to the team's database, opened on first use and again after
/// it broke.
pub(crate) struct PgCoordination {
    section: PostgresSection,
    me: AdvisorId,
    /// The password, read once (keyring or environment).
    password: tokio::sync::OnceCell<String>,
    session: tokio::sync::Mutex<Option<Arc<AdvisorSession>>>,
    /// One copy into the mirror at a time: a read of the database and its write to the
    /// mirror go together, so an older read never overwrites a newer one.
    pull: tokio::sync::Mutex<()>,
    /// The change feed has read everything and follows every change: the mirror is fresh.
    pub(crate) feed_live: std::sync::atomic::AtomicBool,
    /// Documents or approvals may have changed since the last copy into the mirror (the
    /// feed sets it; always true while the feed is not live).
    pub(crate) docs_stale: std::sync::atomic::AtomicBool,
    /// Wakes the shared-documents loop when the feed hears of a document or approval.
    pub(crate) docs_changed: tokio::sync::Notify,
}

impl PgCoordination {
    pub(crate) fn new(section: PostgresSection, me: AdvisorId) -> Self {
        Self {
            section,
            me,
            password: tokio::sync::OnceCell::new(),
            session: tokio::sync::Mutex::new(None),
            pull: tokio::sync::Mutex::new(()),
            feed_live: std::sync::atomic::AtomicBool::new(false),
            docs_stale: std::sync::atomic::AtomicBool::new(true),
            docs_changed: tokio::sync::Notify::new(),
        }
    }

    async fn settings(&self) -> Result<PgSettings> {
        let password = self
            .password
            .get_or_try_init(|| async {
                let (user, host) = (self.section.user.clone(), self.section.host.clone());
                tokio::task::spawn_blocking(move || crate::credentials::password(crate::credentials::Account::Postgres, &user, &host))
                    .await
                    .map_err(|e| EngineError::Internal(e.to_string()))?
                    .map_err(EngineError::from)
            })
            .await?;
        Ok(self.section.settings(password))
    }

    /// The session, connecting when there is none or the last one broke.
    pub(crate) async fn session(&self) -> Result<Arc<AdvisorSession>> {
        let mut current = self.session.lock().await;
        if let Some(s) = current.as_ref().filter(|s| !s.is_closed()) {
            return Ok(s.clone());
        }
        let settings = self.settings().await?;
        let session = Arc::new(AdvisorSession::connect(&settings, &self.me).await?);
        *current = Some(session.clone());
        Ok(session)
    }
}

impl Engine {
    /// The team's database, when it coordinates (`[coordination] backend = "postgres"`).
    pub(crate) fn db(&self) -> Option<&Arc<PgCoordination>> {
        self.coord.as_ref()
    }

    /// Whether the database coordinates this team (then no keyword is written).
    pub fn coordinated_by_database(&self) -> bool {
        self.coord.is_some()
    }

    pub(crate) async fn db_session(&self) -> Result<Arc<AdvisorSession>> {
        match self.db() {
            Some(db) => db.session().await,
            None => Err(EngineError::Internal("no coordination database configured".into())),
        }
    }

    /// Reads every email's owner and marks from the database into the mirror.
    pub(crate) async fn db_pull_all(&self) -> Result<()> {
        let Some(db) = self.db() else { return Ok(()) };
        let _one_at_a_time = db.pull.lock().await;
        let states = self.db_session().await?.email_states().await?;
        let mut all = BTreeMap::new();
        for (key, state) in &states {
            if let Some(place) = parse_email_key(key) {
                all.insert(place, flags_of(state));
            }
        }
        self.store.replace_coord_marks(&all)?;
        let folders: BTreeSet<String> = all.keys().map(|(f, _, _)| f.clone()).collect();
        for folder in folders {
            self.emit(Event::FlagsChanged { folder, count: 0 });
        }
        self.team.wake.notify_waiters();
        Ok(())
    }

    /// Before a manual action on owners (transfer, release, merge, split, resolve): the
    /// database's owners and marks in the mirror now, for an app whose feed is not running
    /// (a one-shot command, a supervisor's app without a claim loop). Nothing with the
    /// mailbox backend, whose owners are the mirrored keywords.
    pub(crate) async fn coordination_fresh(&self) -> Result<()> {
        // An app whose feed follows the database has it in the mirror already.
        if self.db().is_some_and(|db| !db.feed_live.load(std::sync::atomic::Ordering::SeqCst)) {
            self.db_pull_all().await?;
        }
        Ok(())
    }

    /// Reads one email's owner and marks from the database into the mirror.
    pub(crate) async fn db_pull(&self, key: &str) -> Result<()> {
        self.db_pull_keys(&[key]).await
    }

    /// Reads these emails' owners and marks from the database into the mirror (one query).
    async fn db_pull_keys(&self, keys: &[&str]) -> Result<()> {
        let Some(db) = self.db() else { return Ok(()) };
        let _one_at_a_time = db.pull.lock().await;
        let states = self.db_session().await?.email_states_of(keys).await?;
        let emails: Vec<_> =
            keys.iter().filter_map(|key| Some((parse_email_key(key)?, states.get(*key).map(flags_of).unwrap_or_default()))).collect();
        self.store.set_coord_marks_of(&emails)?;
        let folders: BTreeSet<String> = emails.into_iter().map(|((folder, _, _), _)| folder).collect();
        for folder in folders {
            self.emit(Event::FlagsChanged { folder, count: keys.len() as u64 });
        }
        self.team.wake.notify_waiters();
        Ok(())
    }

    /// Claims `h` for this advisor — or takes it over from `gone`, an owner whose app has
    /// been silent past the grace (the database checks the silence itself). `guard` is
    /// asked right before the write, as the mailbox's swap does.
    pub(crate) async fn db_claim(&self, h: &QueueHead, gone: Option<&str>, guard: &(dyn Fn() -> bool + Sync)) -> Result<ClaimOutcome> {
        let me = &self.config.advisor.id;
        let key = email_key(&h.folder, h.uidvalidity, h.uid);
        let session = self.db_session().await?;
        let Some(db) = self.db() else { return Ok(ClaimOutcome::Withdrawn) };
        if !guard() {
            return Ok(ClaimOutcome::Withdrawn);
        }
        let outcome = match gone.and_then(|g| AdvisorId::parse(g).ok()) {
            Some(from) => match session.take_over(&key, &from).await? {
                Some(_) => ClaimOutcome::Won,
                None => match session.owner_of(&key).await? {
                    Some((owner, _)) if &owner == me => ClaimOutcome::Won,
                    Some((owner, _)) => ClaimOutcome::Lost { holder: owner.to_string() },
                    // Released meanwhile: nobody's, look again.
                    None => ClaimOutcome::Changed,
                },
            },
            None => match session.claim(&key, me).await? {
                Claim::Claimed { .. } => ClaimOutcome::Won,
                Claim::Taken { owner, .. } if &owner == me => ClaimOutcome::Won,
                Claim::Taken { owner, .. } => ClaimOutcome::Lost { holder: owner.to_string() },
            },
        };
        let owner = match &outcome {
            ClaimOutcome::Won => Some(owner_keyword(me)),
            ClaimOutcome::Lost { holder } => Some(format!("{OWNER_PREFIX}{holder}")),
            _ => None,
        };
        // The answer names the owner, so no second read (the hot path of every app). Its
        // copy goes in under the pull lock: a pull that read the database before this
        // claim committed has written by then, and one that reads after sees the claim.
        if let Some(owner) = owner {
            let _one_at_a_time = db.pull.lock().await;
            let mut flags = self.store.coord_marks(&h.folder, h.uidvalidity, h.uid)?;
            flags.retain(|f| !f.starts_with(OWNER_PREFIX));
            flags.push(owner);
            self.store.set_coord_marks(&h.folder, h.uidvalidity, h.uid, &flags)?;
        }
        Ok(outcome)
    }

    /// Moves `h` from `from` (an owner keyword) to `to` (an owner keyword) or to nobody,
    /// as `claims::swap_owner` does on the mailbox. `decline`: the releasing owner is
    /// recorded, so their app does not take it back. `Won` when `to` holds it (or, for
    /// nobody, when `from` no longer does).
    pub(crate) async fn db_move(&self, h: &QueueHead, from: &str, to: Option<&str>, decline: bool) -> Result<ClaimOutcome> {
        let key = email_key(&h.folder, h.uidvalidity, h.uid);
        let id = |kw: &str| {
            kw.strip_prefix(OWNER_PREFIX)
                .and_then(|a| AdvisorId::parse(a).ok())
                .ok_or_else(|| EngineError::Internal(format!("{kw} is not an owner keyword")))
        };
        let from = id(from)?;
        let session = self.db_session().await?;
        let outcome = match to {
            Some(to) => {
                let to = id(to)?;
                match session.transfer(&key, &from, &to).await? {
                    Some(_) => ClaimOutcome::Won,
                    None => match session.owner_of(&key).await? {
                        Some((owner, _)) if owner == to => ClaimOutcome::Won,
                        Some((owner, _)) => ClaimOutcome::Lost { holder: owner.to_string() },
                        None => ClaimOutcome::Changed,
                    },
                }
            }
            None => {
                let released = if decline { session.release(&key, &from).await? } else { session.give_back(&key, &from).await? };
                if released || session.owner_of(&key).await?.is_none_or(|(o, _)| o != from) {
                    ClaimOutcome::Won
                } else {
                    ClaimOutcome::Changed
                }
            }
        };
        self.db_pull(&key).await?;
        Ok(outcome)
    }

    /// Sets `mark` (`$Resolved`, `$bd_breached`) on an email.
    pub(crate) async fn db_mark(&self, folder: &str, uidvalidity: u32, uid: u32, mark: &str) -> Result<()> {
        let key = email_key(folder, uidvalidity, uid);
        self.db_session().await?.set_mark(&key, mark, &self.config.advisor.id).await?;
        self.db_pull(&key).await
    }

    /// Replaces `h`'s marks that `owned` selects (token bits) with `wanted`.
    pub(crate) async fn db_replace_marks(&self, h: &QueueHead, owned: &(dyn Fn(&str) -> bool + Sync), wanted: &[String]) -> Result<()> {
        let key = email_key(&h.folder, h.uidvalidity, h.uid);
        self.db_session().await?.replace_marks(&key, owned, wanted, &self.config.advisor.id).await?;
        self.db_pull(&key).await
    }

    /// Takes duty `kind` on `h`: the first INSERT holds it; then its mark, if it has one.
    pub(crate) async fn db_duty(&self, kind: DutyKind, h: &QueueHead) -> Result<ClaimOutcome> {
        let key = email_key(&h.folder, h.uidvalidity, h.uid);
        let session = self.db_session().await?;
        let outcome = match session.take_duty(duty_name(kind), &key, &self.config.advisor.id).await? {
            PgDuty::Taken => {
                if let Some((mark, _)) = crate::duty_bids::duty_mark(kind) {
                    session.set_mark(&key, mark, &self.config.advisor.id).await?;
                }
                ClaimOutcome::Won
            }
            PgDuty::HeldBy(holder) => ClaimOutcome::Lost { holder: holder.to_string() },
        };
        self.db_pull(&key).await?;
        Ok(outcome)
    }

    /// Publishes this app's presence note and reads everyone's into the board.
    pub(crate) async fn db_heartbeat(&self, note: &crate::presence::PresenceNote) -> Result<()> {
        let session = self.db_session().await?;
        let json = serde_json::to_value(note).map_err(|e| EngineError::Internal(e.to_string()))?;
        session.heartbeat_note(&self.config.advisor.id, &note.state, note.load, Some(&json)).await?;
        self.db_read_board(&session).await
    }

    async fn db_read_board(&self, session: &AdvisorSession) -> Result<()> {
        let server_now = session.server_time_s().await?;
        let notes = session
            .presence()
            .await?
            .into_iter()
            .filter_map(|row| {
                let note: crate::presence::PresenceNote = serde_json::from_value(row.note?).ok()?;
                (note.advisor == row.advisor.as_str()).then_some((note, server_now - row.age_ms / 1000))
            })
            .collect();
        self.set_board(notes, server_now);
        Ok(())
    }

    /// The policy in force in the database, into the engine (as `team::refresh_policy`
    /// does from the mailbox).
    pub(crate) async fn db_refresh_policy(&self) -> Result<()> {
        let Some(published) = self.db_session().await?.latest_policy().await? else { return Ok(()) };
        let version = u32::try_from(published.version).unwrap_or(u32::MAX);
        if version != self.policy_uid() {
            self.set_policy(version, published.policy);
        }
        Ok(())
    }

    /// Publishes `policy` to the database; refused by the database for a non-supervisor.
    pub(crate) async fn db_publish_policy(&self, policy: &blendesk_domain::blending::Policy) -> Result<()> {
        let session = self.db_session().await?;
        session.publish_policy(policy, &self.config.advisor.id).await.map_err(|e| match e {
            CoordError::NotPermitted { .. } => EngineError::NotPermitted {
                user: self.section_user(),
                action: "change the team policy",
                folder: "the team database".into(),
                hint: "only supervisors may: the administrator registers them with the supervisor role",
            },
            other => other.into(),
        })?;
        self.db_refresh_policy().await
    }

    fn section_user(&self) -> String {
        self.db().map(|d| d.section.user.clone()).unwrap_or_default()
    }

    /// Follows the database until shutdown: everything read once, then each change as
    /// LISTEN/NOTIFY announces it; after a lost connection, everything again.
    pub(crate) async fn run_coordination_feed(self: Arc<Self>) {
        let mut retry = crate::connections::Reconnect::default();
        while !self.is_stopping() {
            let Err(e) = self.follow_database(&mut retry).await else { return };
            if !self.wait_to_reconnect(retry.failed("team database", &e)).await {
                return;
            }
        }
    }

    async fn follow_database(&self, retry: &mut crate::connections::Reconnect) -> Result<()> {
        let result = self.follow_database_until_lost(retry).await;
        if let Some(db) = self.db() {
            db.feed_live.store(false, std::sync::atomic::Ordering::SeqCst);
        }
        result
    }

    async fn follow_database_until_lost(&self, retry: &mut crate::connections::Reconnect) -> Result<()> {
        let session = self.db_session().await?;
        // Listening first: a change made while everything is read is not missed.
        let mut feed = session.listen().await?;
        self.db_pull_all().await?;
        self.db_refresh_policy().await?;
        self.db_read_board(&session).await?;
        if let Some(db) = self.db() {
            // What changed while the feed was down is read once more.
            db.docs_stale.store(true, std::sync::atomic::Ordering::SeqCst);
            db.docs_changed.notify_one();
            db.feed_live.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        retry.connected();
        loop {
            let change = tokio::select! {
                c = feed.next() => c,
                _ = self.stopped() => return Ok(()),
            };
            // A burst (twenty apps claiming at once) is read back in one query.
            let mut burst = vec![change];
            while burst.len() < 500 {
                match feed.try_next() {
                    Some(c) => burst.push(c),
                    None => break,
                }
            }
            let (mut keys, mut policy, mut board, mut docs) = (BTreeSet::new(), false, false, false);
            for change in burst {
                // A lost feed: everything is read again after reconnecting.
                match change? {
                    Change::Policy { .. } => policy = true,
                    // Announced only when a state or load changed: heartbeats are quiet,
                    // and the board is read on this app's own heartbeat too.
                    Change::Presence { .. } => board = true,
                    Change::Document { .. } | Change::Approval { .. } => docs = true,
                    other => keys.extend(other.email_key().map(str::to_owned)),
                }
            }
            if let (true, Some(db)) = (docs, self.db()) {
                db.docs_stale.store(true, std::sync::atomic::Ordering::SeqCst);
                db.docs_changed.notify_one();
            }
            if !keys.is_empty() {
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                self.db_pull_keys(&keys).await?;
            }
            if policy {
                self.db_refresh_policy().await?;
            }
            if board {
                self.db_read_board(&session).await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_keys_round_trip_whatever_the_folder_name() {
        for folder in ["INBOX", "Support.Billing", "shared/support/INBOX", "客服.退货"] {
            assert_eq!(parse_email_key(&email_key(folder, 1_234, 56)), Some((folder.to_owned(), 1_234, 56)));
        }
        for bad in ["", "1.2", "1.2.", "x.2.INBOX", "1.-2.INBOX"] {
            assert_eq!(parse_email_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_state_becomes_the_flags_the_mailbox_would_carry() {
        let a = AdvisorId::parse("alice").unwrap();
        let b = AdvisorId::parse("bob").unwrap();
        let state = EmailState { owner: Some(a), declined: vec![b], marks: vec!["$Resolved".into()] };
        assert_eq!(flags_of(&state), vec!["$bd_owner_alice", "$bd_declined_bob", "$Resolved"]);
    }

    #[test]
    fn the_section_parses_and_checks() {
        let s: PostgresSection = toml::from_str("host = \"db.shop.test\"\ndatabase = \"support\"\nuser = \"alice\"\n").unwrap();
        assert_eq!((s.port, s.tls), (5432, true));
        assert!(matches!(s.settings("pw").tls, Tls::PublicRoots));
        let bad = PostgresSection { tls: false, ca_file: Some("/ca.pem".into()), ..s.clone() };
        assert!(bad.validate().unwrap_err().contains("ca_file"));
        let empty = PostgresSection { user: " ".into(), ..s };
        assert!(empty.validate().is_err());
    }
}
