//! The activity log (`domain::activity`): this app's events until they are in the
//! mailbox, and the team's events as read back from it.

use crate::activity_index::index_event;
use crate::{Result, Store};
use blendesk_domain::activity::{day_of, Activity, ActivityKind, DayFigures};
use rusqlite::{params, OptionalExtension};
use std::collections::HashMap;

/// One of this app's events: its number here, when, and its kind as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnActivity {
    pub seq: i64,
    pub at_ms: i64,
    pub kind: String,
}

impl Store {
    /// Commit an event of this app's advisor; returns its number.
    pub fn record_activity(&self, at_ms: i64, kind_json: &str) -> Result<i64> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("INSERT INTO activity (at_ms, kind) VALUES (?1, ?2)", params![at_ms, kind_json])?;
        let seq = tx.last_insert_rowid();
        // Indexed at once: this app's own resolves and replies count before they reach the mailbox.
        if let Ok(kind) = serde_json::from_str::<ActivityKind>(kind_json) {
            index_event(&tx, at_ms, &kind)?;
        }
        tx.commit()?;
        Ok(seq)
    }

    /// The batch to append next: one begun and not known appended (the same events
    /// again, after a crash), else up to `limit` events not in a batch, made a batch
    /// durably before they leave. `None` when nothing is waiting.
    pub fn activity_batch(&self, limit: usize) -> Result<Option<(i64, Vec<OwnActivity>)>> {
        let mut conn = self.conn();
        conn.pragma_update(None, "synchronous", "FULL")?;
        let result = (|| {
            let tx = conn.transaction()?;
            let open: Option<i64> =
                tx.query_row("SELECT min(batch) FROM activity WHERE batch IS NOT NULL AND appended = 0", [], |r| r.get(0))?;
            let batch = match open {
                Some(b) => b,
                None => {
                    let next: i64 = tx.query_row("SELECT coalesce(max(batch), 0) + 1 FROM activity", [], |r| r.get(0))?;
                    let n = tx.execute(
                        "UPDATE activity SET batch = ?1 WHERE seq IN
                            (SELECT seq FROM activity WHERE batch IS NULL ORDER BY seq LIMIT ?2)",
                        params![next, limit as i64],
                    )?;
                    if n == 0 {
                        return Ok(None);
                    }
                    next
                }
            };
            let rows = {
                let mut stmt = tx.prepare_cached("SELECT seq, at_ms, kind FROM activity WHERE batch = ?1 ORDER BY seq")?;
                let rows = stmt.query_map([batch], |r| Ok(OwnActivity { seq: r.get(0)?, at_ms: r.get(1)?, kind: r.get(2)? }))?;
                rows.collect::<std::result::Result<Vec<_>, _>>()?
            };
            tx.commit()?;
            Ok(Some((batch, rows)))
        })();
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        result
    }

    /// The batch is in the mailbox.
    pub fn activity_appended(&self, batch: i64) -> Result<()> {
        self.conn().execute("UPDATE activity SET appended = 1 WHERE batch = ?1", [batch])?;
        Ok(())
    }

    /// This app's events not yet known to be in the mailbox.
    pub fn activity_pending(&self) -> Result<u64> {
        let n: i64 = self.conn().query_row("SELECT count(*) FROM activity WHERE appended = 0", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Keep the team's events; an id already kept is skipped, a new one is counted into
    /// its day's roll-up and indexed (`activity_index`) in the same transaction. Returns how many were new.
    pub fn add_team_activity(&self, events: &[Activity]) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut added = 0;
        let mut days: HashMap<(String, String), DayFigures> = HashMap::new();
        {
            let mut ins =
                tx.prepare_cached("INSERT OR IGNORE INTO team_activity (id, advisor, at_ms, json, kind) VALUES (?1, ?2, ?3, ?4, ?5)")?;
            for e in events {
                let json = serde_json::to_string(e).unwrap_or_default();
                if ins.execute(params![e.id, e.advisor, e.at_ms, json, e.kind.name()])? == 1 {
                    added += 1;
                    index_event(&tx, e.at_ms, &e.kind)?;
                    days.entry((day_of(e.at_ms), e.advisor.clone())).or_default().count(&e.kind);
                }
            }
            let mut up = tx.prepare_cached(
                "INSERT INTO activity_days (day, advisor, claimed, replied, resolved, released, handed_back, transferred, calls, talk_ms,
                    timed_replies, handle_ms, hold_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT(day, advisor) DO UPDATE SET
                    claimed = claimed + excluded.claimed, replied = replied + excluded.replied,
                    resolved = resolved + excluded.resolved, released = released + excluded.released,
                    handed_back = handed_back + excluded.handed_back, transferred = transferred + excluded.transferred,
                    calls = calls + excluded.calls, talk_ms = talk_ms + excluded.talk_ms,
                    timed_replies = timed_replies + excluded.timed_replies, handle_ms = handle_ms + excluded.handle_ms,
                    hold_ms = hold_ms + excluded.hold_ms",
            )?;
            for ((day, advisor), f) in &days {
                up.execute(params![
                    day,
                    advisor,
                    f.claimed,
                    f.replied,
                    f.resolved,
                    f.released,
                    f.handed_back,
                    f.transferred,
                    f.calls,
                    f.talk_ms,
                    f.timed_replies,
                    f.handle_ms,
                    f.hold_ms
                ])?;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    /// The daily roll-ups of days `from_day` to `to_day` (YYYY-MM-DD, both included), by
    /// day then advisor.
    pub fn activity_days(&self, from_day: &str, to_day: &str) -> Result<Vec<(String, String, DayFigures)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT day, advisor, claimed, replied, resolved, released, handed_back, transferred, calls, talk_ms,
                timed_replies, handle_ms, hold_ms
             FROM activity_days WHERE day >= ?1 AND day <= ?2 ORDER BY day, advisor",
        )?;
        let rows = stmt.query_map(params![from_day, to_day], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                DayFigures {
                    claimed: r.get(2)?,
                    replied: r.get(3)?,
                    resolved: r.get(4)?,
                    released: r.get(5)?,
                    handed_back: r.get(6)?,
                    transferred: r.get(7)?,
                    calls: r.get(8)?,
                    talk_ms: r.get(9)?,
                    timed_replies: r.get(10)?,
                    handle_ms: r.get(11)?,
                    hold_ms: r.get(12)?,
                },
            ))
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// This app's own events since `from_ms` (appended or not), oldest first.
    pub fn own_activity_since(&self, from_ms: i64) -> Result<Vec<OwnActivity>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT seq, at_ms, kind FROM activity WHERE at_ms >= ?1 ORDER BY seq")?;
        let rows = stmt.query_map([from_ms], |r| Ok(OwnActivity { seq: r.get(0)?, at_ms: r.get(1)?, kind: r.get(2)? }))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The team's events in `[from_ms, to_ms)` as JSON, oldest first.
    pub fn team_activity(&self, from_ms: i64, to_ms: i64) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT json FROM team_activity WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY at_ms, id")?;
        let rows = stmt.query_map(params![from_ms, to_ms], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// How far an events folder was read: (UIDVALIDITY, last UID read).
    pub fn activity_folder(&self, name: &str) -> Result<Option<(u32, u32)>> {
        let conn = self.conn();
        Ok(conn
            .query_row("SELECT uidvalidity, last_uid FROM activity_folders WHERE name = ?1", [name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    pub fn set_activity_folder(&self, name: &str, uidvalidity: u32, last_uid: u32) -> Result<()> {
        self.conn().execute(
            "INSERT INTO activity_folders (name, uidvalidity, last_uid) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid",
            params![name, uidvalidity, last_uid],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;

    #[test]
    fn a_batch_keeps_its_events_until_appended_and_new_events_wait_for_the_next() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.activity_batch(2).unwrap(), None);
        for i in 0..3 {
            store.record_activity(i, &format!("{{\"n\":{i}}}")).unwrap();
        }
        let (b1, rows) = store.activity_batch(2).unwrap().unwrap();
        assert_eq!(rows.iter().map(|r| r.at_ms).collect::<Vec<_>>(), [0, 1]);
        // A crash before "appended": the same batch, whatever came since.
        store.record_activity(9, "{}").unwrap();
        let (again, rows_again) = store.activity_batch(2).unwrap().unwrap();
        assert_eq!((again, rows_again), (b1, rows));
        store.activity_appended(b1).unwrap();
        let (b2, rows) = store.activity_batch(10).unwrap().unwrap();
        assert_eq!((b2, rows.len()), (b1 + 1, 2));
        store.activity_appended(b2).unwrap();
        assert_eq!(store.activity_batch(10).unwrap(), None);
        assert_eq!(store.activity_pending().unwrap(), 0);
    }

    #[test]
    fn team_events_are_kept_once_by_id_and_rolled_up_by_day() {
        use blendesk_domain::activity::{daily, Activity, ActivityKind};
        let store = Store::open_in_memory().unwrap();
        let e = |id: &str, at: i64| Activity {
            id: id.into(),
            advisor: "alice".into(),
            at_ms: at,
            kind: ActivityKind::Claimed { message_id: None, conversation: "c".into(), queue: "INBOX".into() },
        };
        let day = 86_400_000;
        assert_eq!(store.add_team_activity(&[e("a", 5), e("b", 7)]).unwrap(), 2);
        assert_eq!(store.add_team_activity(&[e("a", 5), e("c", 9), e("d", day + 1)]).unwrap(), 2);
        assert_eq!(store.team_activity(0, 8).unwrap().len(), 2);
        // The roll-up holds what the domain's daily figures say of the raw events.
        let rolled = store.activity_days("1970-01-01", "1970-01-02").unwrap();
        let all = [e("a", 5), e("b", 7), e("c", 9), e("d", day + 1)];
        let expected: Vec<_> = daily(&all).into_iter().map(|((d, a), f)| (d, a, f)).collect();
        assert_eq!(rolled, expected);
        assert_eq!(rolled[0].2.claimed, 3, "the repeated event counted once");
        assert_eq!(store.activity_folder("Events/alice").unwrap(), None);
        store.set_activity_folder("Events/alice", 7, 3).unwrap();
        assert_eq!(store.activity_folder("Events/alice").unwrap(), Some((7, 3)));
    }
}
