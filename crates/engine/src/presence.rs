//! Presence without a server: every app appends a small note (state, load, cap) to
//! `Blendesk/Presence` (under `imap.team_folders`) in the shared mailbox every few seconds and removes its older
//! notes. Heartbeat times are the server's INTERNALDATE, so advisors' clocks never have
//! to agree. Three missed heartbeats = offline.

use crate::engine::{Engine, Result};
use blendesk_mail::{imap, mime};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

/// The presence folder's leaf under `imap.team_folders` (`Blendesk/Presence` by default).
pub const PRESENCE_FOLDER: &str = "Presence";
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// Missed heartbeats after which an advisor counts as offline.
pub const MISSED_TO_OFFLINE: u32 = 3;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ts_rs::TS)]
pub struct PresenceNote {
    pub advisor: String,
    pub name: String,
    pub state: String,
    pub load: u32,
    pub cap: u32,
    /// When the current state began (the publisher's clock; for "on call since").
    pub since_ms: i64,
    /// IMAP connections the publishing app holds (hosted servers cap them per account).
    #[serde(default)]
    pub connections: u32,
    /// The publisher's own figures today (UTC), live from its own events: what the
    /// supervisor view shows per advisor before the event log has gone round.
    #[serde(default)]
    pub today: blendesk_domain::activity::DayFigures,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct PresenceEntry {
    pub note: PresenceNote,
    /// Server time of the newest heartbeat, unix seconds.
    pub heartbeat_at: i64,
    /// No heartbeat for `MISSED_TO_OFFLINE` periods.
    pub offline: bool,
    /// Seconds since the newest heartbeat, by the server's clock.
    pub silent_for: i64,
}

#[derive(Default)]
pub(crate) struct PresenceBoard {
    pub(crate) loaded: bool,
    /// Server time of the first and the latest read.
    pub(crate) first_read_at: i64,
    pub(crate) last_read_at: i64,
    pub(crate) entries: HashMap<String, PresenceEntry>,
    /// Calls seen starting in the last hour: (advisor, the note's since, server time
    /// first seen), for gap-aware pacing's call rate.
    pub(crate) call_starts: Vec<(String, i64, i64)>,
}

impl Engine {
    /// Every advisor's last known presence.
    pub fn presence_board(&self) -> Vec<PresenceEntry> {
        let board = self.team.board.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<PresenceEntry> = board.entries.values().cloned().collect();
        v.sort_by(|a, b| a.note.advisor.cmp(&b.note.advisor));
        v
    }

    /// Advisors who may be claiming now, by the board: available and online (this one
    /// included once it has published). Their room the caller reads from the mirror,
    /// which is fresher than the notes.
    pub(crate) fn available_on_board(&self) -> Vec<String> {
        let board = self.team.board.lock().unwrap_or_else(|p| p.into_inner());
        board.entries.values().filter(|e| !e.offline && e.note.state == "available").map(|e| e.note.advisor.clone()).collect()
    }

    /// Advisors whose apps are running, by the board (whatever their state).
    pub(crate) fn online_on_board(&self) -> Vec<String> {
        let board = self.team.board.lock().unwrap_or_else(|p| p.into_inner());
        board.entries.values().filter(|e| !e.offline).map(|e| e.note.advisor.clone()).collect()
    }

    /// True when `advisor` has been silent for longer than the offline threshold plus
    /// `grace_ms`. An advisor with no note at all counts as silent since this app first
    /// read the board, so nobody is taken over just because this app started first.
    pub(crate) fn offline_past_grace(&self, advisor: &str, grace_ms: i64) -> bool {
        let board = self.team.board.lock().unwrap_or_else(|p| p.into_inner());
        if !board.loaded {
            return false;
        }
        let silent_for = match board.entries.get(advisor) {
            Some(e) => e.silent_for,
            None => board.last_read_at - board.first_read_at,
        };
        silent_for * 1000 > (HEARTBEAT * MISSED_TO_OFFLINE).as_millis() as i64 + grace_ms
    }

    /// Publish this app's note and read everyone's (one heartbeat).
    pub(crate) async fn heartbeat(&self, session: &mut imap::ImapSession, note: &PresenceNote) -> Result<()> {
        let raw = format!(
            "From: Blendesk <{from}>\r\nSubject: presence {id}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{json}\r\n",
            from = self.config.from_address().unwrap_or_default(),
            id = note.advisor,
            json = serde_json::to_string(note).unwrap_or_default(),
        );
        let folder = self.config.team_folder(PRESENCE_FOLDER);
        imap::create_folder(session, &folder).await?;
        imap::append(session, &folder, "(\\Seen)", raw.as_bytes()).await?;
        let selected = imap::select(session, &folder, false).await?;
        if selected.exists == 0 {
            return Ok(());
        }
        let metas = imap::fetch_meta(session, "1:*", false).await?;
        let dates: HashMap<u32, i64> = metas.iter().map(|m| (m.uid, m.internal_date)).collect();
        let raws = imap::fetch_raw(session, "1:*", false).await?;
        let server_now = dates.values().copied().max().unwrap_or(0);
        let mut newest: HashMap<String, (u32, i64, PresenceNote)> = HashMap::new();
        let mut mine_old = Vec::new();
        let me = self.config.advisor.id.as_str();
        for (uid, raw) in raws {
            let Ok(note) = serde_json::from_str::<PresenceNote>(mime::parse(&raw).text.trim()) else { continue };
            let at = dates.get(&uid).copied().unwrap_or(0);
            let is_mine = note.advisor == me;
            match newest.get(&note.advisor) {
                Some((old_uid, old_at, _)) if (*old_at, *old_uid) > (at, uid) => {
                    if is_mine {
                        mine_old.push(uid);
                    }
                    continue;
                }
                Some((old_uid, _, _)) if is_mine => mine_old.push(*old_uid),
                _ => {}
            }
            newest.insert(note.advisor.clone(), (uid, at, note));
        }
        imap::delete_uids(session, &mine_old).await?;
        self.set_board(newest.into_values().map(|(_, at, note)| (note, at)).collect(), server_now);
        Ok(())
    }

    /// The board from every advisor's newest note and its heartbeat time, by the
    /// server's clock (unix seconds) — the mailbox's or the team database's.
    pub(crate) fn set_board(&self, newest: Vec<(PresenceNote, i64)>, server_now: i64) {
        let mut board = self.team.board.lock().unwrap_or_else(|p| p.into_inner());
        if !board.loaded {
            board.first_read_at = server_now;
        }
        board.loaded = true;
        board.last_read_at = server_now;
        board.entries = newest
            .into_iter()
            .map(|(note, at)| {
                let silent_for = (server_now - at).max(0);
                let offline = silent_for * 1000 > (HEARTBEAT * MISSED_TO_OFFLINE).as_millis() as i64;
                (note.advisor.clone(), PresenceEntry { note, heartbeat_at: at, offline, silent_for })
            })
            .collect();
        // Each call once, at the server time its note was first read.
        let on_call: Vec<(String, i64)> =
            board.entries.values().filter(|e| e.note.state == "on_call").map(|e| (e.note.advisor.clone(), e.note.since_ms)).collect();
        for (advisor, since) in on_call {
            if !board.call_starts.iter().any(|(a, s, _)| *a == advisor && *s == since) {
                board.call_starts.push((advisor, since, server_now));
            }
        }
        board.call_starts.retain(|(_, _, at)| *at > server_now - 3_600);
    }

    /// The team's calls per hour by the presence board (`pacing::calls_per_hour`).
    pub(crate) fn team_calls_per_hour(&self) -> Option<f64> {
        let board = self.team.board.lock().unwrap_or_else(|p| p.into_inner());
        let starts: Vec<i64> = board.call_starts.iter().map(|(_, _, at)| *at).collect();
        blendesk_domain::blending::pacing::calls_per_hour(&starts, board.last_read_at, board.first_read_at)
    }

    /// Available advisors who have waited longer than `since_ms` (they take the next
    /// calls first), by the board.
    pub(crate) fn available_longer_than(&self, since_ms: i64) -> usize {
        let me = self.config.advisor.id.as_str();
        let board = self.team.board.lock().unwrap_or_else(|p| p.into_inner());
        board
            .entries
            .values()
            .filter(|e| !e.offline && e.note.state == "available" && e.note.advisor != me && e.note.since_ms < since_ms)
            .count()
    }
}
