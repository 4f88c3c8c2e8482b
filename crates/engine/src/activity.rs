//! Who did what, without a server (`domain::activity`): `record` commits an event of
//! this advisor's to the store at once; the chores append them in batches to
//! `Blendesk/Events/<advisor>` and read every advisor's folder back into the team's
//! history, each event once. A batch is made durably before it leaves and its
//! Message-ID is looked for before it is appended, so a crash at any point neither
//! loses nor doubles one.

use crate::engine::{Engine, Result};
use blendesk_domain::activity::{
    batch_message_id, belongs_to, day_of, decode_batch, encode_batch, event_id, Activity, ActivityKind, DayFigures, BATCH_HEADER,
    EVENTS_FOLDER, MAX_BATCH,
};
use blendesk_mail::imap::{self, ImapSession};
use serde::Serialize;
use std::time::Duration;

/// How often the chores append this app's events and read the team's.
pub(crate) const ACTIVITY_PERIOD: Duration = Duration::from_secs(10);
/// The store's key for this installation's random id (part of every event id).
const INSTALL_KEY: &str = "activity_install_id";
/// Events folder messages read per FETCH.
const READ_CHUNK: usize = 50;
/// A batch message larger than this is not read (a full batch is about 150 KB; the
/// folder is writable by the whole team).
const MAX_BATCH_BYTES: u32 = 2 * 1024 * 1024;

/// `YYYY-MM-DD` of a UTC midnight.
fn chrono_day(midnight_ms: i64) -> String {
    let days = midnight_ms.div_euclid(86_400_000);
    let date = time::Date::from_julian_day(2_440_588 + days as i32).unwrap_or(time::Date::MIN);
    format!("{}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// One advisor's figures for one day (UTC), from the team's events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct DailyRow {
    pub day: String,
    pub advisor: String,
    #[serde(flatten)]
    pub figures: DayFigures,
}

/// The advisor's own day beside the team's median: nothing about any colleague.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct MyDay {
    /// YYYY-MM-DD (UTC).
    pub day: String,
    pub me: DayFigures,
    pub team_median: DayFigures,
    /// Advisors with any activity today (the median's basis).
    pub team_size: u32,
    /// My mean handle time per timed reply today, and the median of the team's means.
    pub my_handle_ms: Option<i64>,
    pub team_handle_ms: Option<i64>,
}

impl Engine {
    /// This installation's id: random, made once, kept in the store.
    fn install_id(&self) -> Result<String> {
        if let Some(id) = self.store.meta(INSTALL_KEY)? {
            return Ok(id);
        }
        let id = format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
        self.store.set_meta(INSTALL_KEY, &id)?;
        Ok(id)
    }

    /// Commit an event of this advisor's. Never fails the action it records: a store
    /// error is logged.
    pub(crate) fn record(&self, kind: ActivityKind) {
        let json = match serde_json::to_string(&kind) {
            Ok(j) => j,
            Err(e) => return tracing::warn!(error = %e, "activity not recorded"),
        };
        if let Err(e) = self.store.record_activity(self.now_ms(), &json) {
            tracing::warn!(error = %e, "activity not recorded");
        }
        if matches!(kind, ActivityKind::Resolved { .. }) {
            self.team.resolutions_arrived.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// When each email was resolved through (its Message-ID), by anyone on the team or
    /// this app (its own at once), since `from_ms`. Each time once, oldest first; from the
    /// store's index, not a scan of the log.
    pub(crate) fn resolutions_since(&self, from_ms: i64) -> Result<std::collections::BTreeMap<String, Vec<i64>>> {
        Ok(self.store.resolutions_since(from_ms)?)
    }

    fn events_folder(&self, advisor: &str) -> String {
        self.config.team_folder(&format!("{EVENTS_FOLDER}/{advisor}"))
    }

    /// Append this app's waiting events, batch by batch. Returns how many went.
    pub(crate) async fn append_activity(&self, session: &mut ImapSession) -> Result<usize> {
        if self.coordinated_by_database() {
            return self.db_append_activity().await;
        }
        let advisor = self.config.advisor.id.as_str().to_owned();
        let install = self.install_id()?;
        let folder = self.events_folder(&advisor);
        let mut sent = 0;
        let mut created = false;
        while let Some((batch, rows)) = self.store.activity_batch(MAX_BATCH)? {
            let events: Vec<Activity> = rows
                .iter()
                .filter_map(|r| {
                    let kind = serde_json::from_str::<ActivityKind>(&r.kind).ok()?;
                    Some(Activity { id: event_id(&advisor, &install, r.seq), advisor: advisor.clone(), at_ms: r.at_ms, kind })
                })
                .collect();
            let message_id = batch_message_id(&advisor, &install, batch);
            if !created {
                imap::create_folder(session, &folder).await?;
                created = true;
            }
            imap::select(session, &folder, false).await?;
            // Appended just before a crash: there already, leave it.
            let bare = message_id.trim_start_matches('<').trim_end_matches('>');
            if imap::search_message_id(session, bare).await?.is_empty() {
                let raw = format!(
                    "From: Blendesk <events@blendesk.invalid>\r\nSubject: Blendesk events {advisor} {batch}\r\nMessage-ID: {message_id}\r\n{BATCH_HEADER}: {n} events\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}",
                    n = events.len(),
                    body = encode_batch(&events).replace('\n', "\r\n"),
                );
                imap::append(session, &folder, "(\\Seen)", raw.as_bytes()).await?;
            }
            self.store.activity_appended(batch)?;
            sent += events.len();
        }
        Ok(sent)
    }

    /// Read every advisor's events folder past where it was read, into the team's
    /// history. Returns how many events were new.
    pub(crate) async fn read_team_activity(&self, session: &mut ImapSession) -> Result<usize> {
        if self.coordinated_by_database() {
            let added = self.db_read_activity().await?;
            self.activity_arrived(added);
            return Ok(added);
        }
        let parent = self.config.team_folder(EVENTS_FOLDER);
        let mut added = 0;
        for folder in imap::list_children(session, &parent).await? {
            let selected = imap::select(session, &folder, false).await?;
            let (validity, last) = self.store.activity_folder(&folder)?.unwrap_or((selected.uidvalidity, 0));
            // A rebuilt folder is read again from the start: ids keep each event once.
            let last = if validity == selected.uidvalidity { last } else { 0 };
            if selected.exists == 0 || selected.uidnext <= last + 1 {
                self.store.set_activity_folder(&folder, selected.uidvalidity, last)?;
                continue;
            }
            let uids: Vec<u32> = imap::all_uids(session).await?.into_iter().filter(|u| *u > last).collect();
            let mut newest = last;
            for chunk in uids.chunks(READ_CHUNK) {
                let metas = imap::fetch_meta(session, &imap::uid_set(chunk), false).await?;
                let (small, large): (Vec<_>, Vec<_>) = metas.into_iter().partition(|m| m.size <= MAX_BATCH_BYTES);
                for m in large {
                    tracing::warn!(folder, uid = m.uid, size = m.size, "events folder: a message too large to be a batch");
                    newest = newest.max(m.uid);
                }
                if small.is_empty() {
                    continue;
                }
                let small: Vec<u32> = small.iter().map(|m| m.uid).collect();
                for (uid, raw) in imap::fetch_raw(session, &imap::uid_set(&small), false).await? {
                    let text = blendesk_mail::mime::parse(&raw).text;
                    let (mut events, problems) = decode_batch(&text);
                    if !problems.is_empty() {
                        tracing::warn!(folder, uid, ?problems, "events folder: lines that are not events");
                    }
                    let owner = folder.rsplit('/').next().unwrap_or_default();
                    let before = events.len();
                    events.retain(|e| belongs_to(e, owner));
                    if events.len() < before {
                        tracing::warn!(folder, uid, dropped = before - events.len(), "events folder: events of another advisor, ignored");
                    }
                    added += self.store.add_team_activity(&events)?;
                    newest = newest.max(uid);
                }
            }
            self.store.set_activity_folder(&folder, selected.uidvalidity, newest)?;
        }
        self.activity_arrived(added);
        Ok(added)
    }

    /// `added` events of the team arrived (from the mailbox or the database).
    fn activity_arrived(&self, added: usize) {
        if added > 0 {
            // Any of them may be a colleague's resolve: the survey pass looks.
            self.team.resolutions_arrived.store(true, std::sync::atomic::Ordering::SeqCst);
            self.emit(crate::events::Event::TeamActivity { new: added as u64 });
        }
    }

    /// `append_activity` on the team's database: each event once by its id.
    async fn db_append_activity(&self) -> Result<usize> {
        let advisor = self.config.advisor.id.clone();
        let install = self.install_id()?;
        let session = self.db_session().await?;
        let mut sent = 0;
        while let Some((batch, rows)) = self.store.activity_batch(MAX_BATCH)? {
            for r in &rows {
                let Ok(kind) = serde_json::from_str::<ActivityKind>(&r.kind) else { continue };
                let event =
                    Activity { id: event_id(advisor.as_str(), &install, r.seq), advisor: advisor.to_string(), at_ms: r.at_ms, kind };
                let body = serde_json::to_value(&event).map_err(|e| crate::engine::EngineError::Internal(e.to_string()))?;
                session.record_event(&event.id, event.kind.name(), &advisor, event.at_ms, &body).await?;
                sent += 1;
            }
            self.store.activity_appended(batch)?;
        }
        Ok(sent)
    }

    /// `read_team_activity` from the team's database, on from the last number read (less
    /// a margin: numbers are taken at insert, so a late commit may carry a smaller one).
    async fn db_read_activity(&self) -> Result<usize> {
        const CURSOR: &str = "postgresql:blendesk.events";
        const LOOK_BACK: i64 = 1_000;
        const PAGE: u32 = 5_000;
        let session = self.db_session().await?;
        let mut last = i64::from(self.store.activity_folder(CURSOR)?.map_or(0, |(_, last)| last));
        let mut from = (last - LOOK_BACK).max(0);
        let mut added = 0;
        loop {
            let rows = session.events_since(from, PAGE).await?;
            let Some(newest) = rows.last().map(|(seq, _, _)| *seq) else { break };
            let full_page = rows.len() == PAGE as usize;
            let events: Vec<Activity> = rows
                .into_iter()
                .filter_map(|(_, advisor, body)| {
                    let event: Activity = serde_json::from_value(body).ok()?;
                    // The database checked who recorded it; the body must say the same.
                    (event.advisor == advisor.as_str()).then_some(event)
                })
                .collect();
            added += self.store.add_team_activity(&events)?;
            last = last.max(newest);
            from = newest;
            if !full_page {
                break;
            }
        }
        let last = u32::try_from(last).map_err(|_| crate::engine::EngineError::Internal("the event log outgrew its counter".into()))?;
        self.store.set_activity_folder(CURSOR, 0, last)?;
        Ok(added)
    }

    /// One round of the chores: append, then read.
    pub(crate) async fn activity_round(&self, session: &mut ImapSession) -> Result<()> {
        self.append_activity(session).await?;
        self.read_team_activity(session).await?;
        Ok(())
    }

    /// Append this app's events and read the team's, on a session of its own (the
    /// command line; the running apps do it in their chores). Returns (appended, new).
    pub async fn sync_activity(&self) -> Result<(usize, usize)> {
        self.with_session(async |c| {
            let sent = self.append_activity(&mut c.session).await?;
            let read = self.read_team_activity(&mut c.session).await?;
            Ok((sent, read))
        })
        .await
    }

    /// The team's events in `[from_ms, to_ms)`, each once, oldest first.
    pub fn team_activity(&self, from_ms: i64, to_ms: i64) -> Result<Vec<Activity>> {
        Ok(self.store.team_activity(from_ms, to_ms)?.iter().filter_map(|j| serde_json::from_str(j).ok()).collect())
    }

    /// Per day and advisor, the team's figures for the UTC days that `[from_ms, to_ms)`
    /// touches, from the store's daily roll-ups.
    pub fn activity_daily(&self, from_ms: i64, to_ms: i64) -> Result<Vec<DailyRow>> {
        if to_ms <= from_ms {
            return Ok(Vec::new());
        }
        let (first, last) = (day_of(from_ms), day_of(to_ms - 1));
        Ok(self.store.activity_days(&first, &last)?.into_iter().map(|(day, advisor, figures)| DailyRow { day, advisor, figures }).collect())
    }

    /// "My day": this advisor's figures today (UTC) and the team's median, from the
    /// team's event log (this app's own events count once they are in the mailbox: within
    /// `ACTIVITY_PERIOD`).
    pub fn my_day(&self, now_ms: i64) -> Result<MyDay> {
        const DAY_MS: i64 = 86_400_000;
        let start = now_ms - now_ms.rem_euclid(DAY_MS);
        let rows = self.activity_daily(start, start + DAY_MS)?;
        let me = self.config.advisor.id.as_str();
        let day = chrono_day(start);
        let mine = rows.iter().find(|r| r.advisor == me).map(|r| r.figures.clone()).unwrap_or_default();
        let all: Vec<DayFigures> = rows.iter().map(|r| r.figures.clone()).collect();
        let mean = |f: &DayFigures| (f.timed_replies > 0).then(|| f.handle_ms / i64::from(f.timed_replies));
        let mut means: Vec<i64> = all.iter().filter_map(mean).collect();
        means.sort_unstable();
        Ok(MyDay {
            day,
            my_handle_ms: mean(&mine),
            team_handle_ms: means.get(means.len().saturating_sub(1) / 2).copied(),
            me: mine,
            team_median: blendesk_domain::activity::median_figures(&all),
            team_size: all.len() as u32,
        })
    }

    /// This advisor's own figures today (UTC), from this app's own events, whether or
    /// not they have reached the mailbox yet.
    pub(crate) fn my_figures_today(&self) -> Result<DayFigures> {
        const DAY_MS: i64 = 86_400_000;
        let now = self.now_ms();
        let mut today = DayFigures::default();
        for own in self.store.own_activity_since(now - now.rem_euclid(DAY_MS))? {
            if let Ok(kind) = serde_json::from_str::<ActivityKind>(&own.kind) {
                today.count(&kind);
            }
        }
        Ok(today)
    }

    /// This app's events not yet known to be in the mailbox.
    pub fn activity_pending(&self) -> Result<u64> {
        Ok(self.store.activity_pending()?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_are_named_by_their_utc_date() {
        assert_eq!(super::chrono_day(0), "1970-01-01");
        assert_eq!(super::chrono_day(365 * 86_400_000), "1971-01-01");
        assert_eq!(super::chrono_day(1_796_342_400_000), "2026-12-04");
    }
}
