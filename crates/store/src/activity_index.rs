//! Indexes of the event log by key (migrations 0014, 0015): when each email was resolved,
//! each reply's template or article use, each event's kind, and each conversation's tags. Filled in the transaction that
//! keeps an event (the team's in `add_team_activity`, this app's own in
//! `record_activity`), so they hold exactly what a scan of the log would find.

use crate::{Result, Store};
use blendesk_domain::activity::ActivityKind;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeMap;

/// Index one event (kept once by the caller; a repeat changes nothing).
pub(crate) fn index_event(conn: &Connection, at_ms: i64, kind: &ActivityKind) -> Result<()> {
    match kind {
        ActivityKind::Resolved { message_id: Some(m) } => {
            conn.prepare_cached("INSERT OR IGNORE INTO activity_resolutions (message_id, at_ms) VALUES (?1, ?2)")?
                .execute(params![m, at_ms])?;
        }
        ActivityKind::Replied { message_id: Some(m), assisted, .. } => {
            conn.prepare_cached("INSERT OR IGNORE INTO activity_replies (message_id, at_ms, assisted) VALUES (?1, ?2, ?3)")?
                .execute(params![m, at_ms, assisted])?;
        }
        ActivityKind::Tagged { conversation, tag } | ActivityKind::Untagged { conversation, tag } => {
            let tagged = matches!(kind, ActivityKind::Tagged { .. });
            // The change that stands, as `domain::tags::supersedes` says: the later; at
            // the same millisecond, removing.
            conn.prepare_cached(
                "INSERT INTO conversation_tags (conversation, tag, at_ms, tagged) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(conversation, tag) DO UPDATE SET at_ms = excluded.at_ms, tagged = excluded.tagged
                 WHERE excluded.at_ms > conversation_tags.at_ms
                    OR (excluded.at_ms = conversation_tags.at_ms AND excluded.tagged < conversation_tags.tagged)",
            )?
            .execute(params![conversation, tag, at_ms, tagged])?;
        }
        _ => {}
    }
    Ok(())
}

impl Store {
    /// When each email was resolved through (its Message-ID), by anyone on the team or
    /// this app, at or after `from_ms`: each time once, oldest first.
    pub fn resolutions_since(&self, from_ms: i64) -> Result<BTreeMap<String, Vec<i64>>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT message_id, at_ms FROM activity_resolutions WHERE at_ms >= ?1 ORDER BY message_id, at_ms")?;
        let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        let rows = stmt.query_map([from_ms], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (m, at) = row?;
            out.entry(m).or_default().push(at);
        }
        Ok(out)
    }

    /// What the newest reply answering `message_id` says of templates and articles:
    /// `None` when no reply is known, `Some(None)` when it did not say.
    pub fn reply_assisted(&self, message_id: &str) -> Result<Option<Option<bool>>> {
        let conn = self.conn();
        Ok(conn
            .query_row("SELECT assisted FROM activity_replies WHERE message_id = ?1 ORDER BY at_ms DESC LIMIT 1", [message_id], |r| {
                r.get::<_, Option<bool>>(0)
            })
            .optional()?)
    }

    /// Each tagged conversation's tags now (this app's own changes at once), sorted.
    pub fn conversation_tags(&self) -> Result<BTreeMap<String, Vec<String>>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT conversation, tag FROM conversation_tags WHERE tagged = 1 ORDER BY conversation, tag")?;
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (c, t) = row?;
            out.entry(c).or_default().push(t);
        }
        Ok(out)
    }

    /// The team's events of these kinds (`call`, `linked`, …) in `[from_ms, to_ms)` as
    /// JSON, oldest first.
    pub fn team_activity_of(&self, kinds: &[&str], from_ms: i64, to_ms: i64) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT at_ms, json FROM team_activity WHERE kind = ?1 AND at_ms >= ?2 AND at_ms < ?3 ORDER BY at_ms, id")?;
        let mut out: Vec<(i64, String)> = Vec::new();
        for kind in kinds {
            let rows = stmt.query_map(params![kind, from_ms, to_ms], |r| Ok((r.get(0)?, r.get(1)?)))?;
            out.extend(rows.collect::<std::result::Result<Vec<_>, _>>()?);
        }
        out.sort_by_key(|(at, _)| *at);
        Ok(out.into_iter().map(|(_, j)| j).collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;
    use blendesk_domain::activity::{Activity, ActivityKind};
    use std::collections::BTreeMap;

    fn resolved(m: &str) -> ActivityKind {
        ActivityKind::Resolved { message_id: Some(m.into()) }
    }

    fn replied(m: &str, assisted: Option<bool>) -> ActivityKind {
        ActivityKind::Replied { message_id: Some(m.into()), conversation: "c".into(), handle_ms: None, assisted }
    }

    fn team(n: usize, at_ms: i64, kind: ActivityKind) -> Activity {
        let advisor = if n.is_multiple_of(2) { "alice" } else { "bob" };
        Activity { id: format!("{advisor}-x-{n}"), advisor: advisor.into(), at_ms, kind }
    }

    /// What a scan of the whole log (the team's and this app's own) says: resolution
    /// times per Message-ID, and the newest reply's `assisted` per answered Message-ID.
    type Scan = (BTreeMap<String, Vec<i64>>, BTreeMap<String, Option<bool>>);
    fn full_scan(store: &Store) -> Scan {
        let mut all: Vec<(i64, ActivityKind)> = store
            .team_activity(i64::MIN, i64::MAX)
            .unwrap()
            .iter()
            .map(|j| serde_json::from_str::<Activity>(j).unwrap())
            .map(|a| (a.at_ms, a.kind))
            .collect();
        // Own events that do not read as one are skipped, as the engine skips them.
        all.extend(store.own_activity_since(i64::MIN).unwrap().iter().filter_map(|o| Some((o.at_ms, serde_json::from_str(&o.kind).ok()?))));
        all.sort_by_key(|(at, _)| *at);
        let (mut resolutions, mut assisted): Scan = Default::default();
        for (at, kind) in all {
            match kind {
                ActivityKind::Resolved { message_id: Some(m) } => resolutions.entry(m).or_default().push(at),
                ActivityKind::Replied { message_id: Some(m), assisted: a, .. } => {
                    assisted.insert(m, a);
                }
                _ => {}
            }
        }
        for times in resolutions.values_mut() {
            times.dedup();
        }
        (resolutions, assisted)
    }

    fn index(store: &Store, ids: &[&str]) -> Scan {
        let assisted = ids.iter().filter_map(|m| Some((m.to_string(), store.reply_assisted(m).unwrap()?))).collect();
        (store.resolutions_since(i64::MIN).unwrap(), assisted)
    }

    #[test]
    fn the_index_holds_what_a_scan_of_the_log_finds_and_a_repeat_changes_nothing() {
        let store = Store::open_in_memory().unwrap();
        let events = vec![
            team(0, 1_000, resolved("<a@x>")),
            team(1, 2_000, replied("<a@x>", Some(true))),
            team(2, 3_000, replied("<a@x>", None)),
            team(3, 3_500, resolved("<a@x>")),
            team(4, 4_000, replied("<b@x>", Some(false))),
            team(5, 5_000, ActivityKind::Resolved { message_id: None }),
            team(6, 6_000, ActivityKind::State { state: "away".into() }),
        ];
        store.add_team_activity(&events).unwrap();
        // This app's own events count at once; the same resolve read back later once.
        store.record_activity(7_000, &serde_json::to_string(&resolved("<c@x>")).unwrap()).unwrap();
        store.record_activity(8_000, &serde_json::to_string(&replied("<b@x>", Some(true))).unwrap()).unwrap();
        store.record_activity(9_000, "not json: kept, not indexed").unwrap();
        let ids = ["<a@x>", "<b@x>", "<c@x>", "<d@x>"];
        let scan = full_scan(&store);
        assert_eq!(index(&store, &ids), scan);
        assert_eq!(scan.0["<a@x>"], [1_000, 3_500]);
        assert_eq!(store.reply_assisted("<a@x>").unwrap(), Some(None), "the newest reply did not say");
        assert_eq!(store.reply_assisted("<b@x>").unwrap(), Some(Some(true)), "this app's own newer reply");
        assert_eq!(store.reply_assisted("<d@x>").unwrap(), None);
        // The same events again, and this app's own event as the team's log gives it back.
        assert_eq!(store.add_team_activity(&events).unwrap(), 0);
        store.add_team_activity(&[team(8, 7_000, resolved("<c@x>"))]).unwrap();
        assert_eq!(index(&store, &ids), full_scan(&store));
        assert_eq!(
            store.resolutions_since(3_000).unwrap().into_iter().collect::<Vec<_>>(),
            [("<a@x>".to_owned(), vec![3_500]), ("<c@x>".to_owned(), vec![7_000])]
        );
        // Only the kinds asked for, in time order.
        let calls = store.team_activity_of(&["state", "resolved"], 0, 6_000).unwrap();
        assert_eq!(calls.len(), 3, "{calls:?}");
        assert!(calls[2].contains("\"at_ms\":5000"));
    }

    #[test]
    fn tags_are_what_the_domain_derives_from_the_log_in_any_order_and_once() {
        use blendesk_domain::tags::{current_tags, TagChange};
        let tag = |on: bool, c: &str, t: &str| {
            if on {
                ActivityKind::Tagged { conversation: c.into(), tag: t.into() }
            } else {
                ActivityKind::Untagged { conversation: c.into(), tag: t.into() }
            }
        };
        let events = vec![
            team(0, 1_000, tag(true, "a@x", "refund")),
            team(1, 2_000, tag(true, "a@x", "vip")),
            team(2, 3_000, tag(false, "a@x", "refund")),
            team(3, 4_000, tag(true, "b@x", "退款")),
            team(4, 5_000, tag(true, "b@x", "late")),
            team(5, 5_000, tag(false, "b@x", "late")),
        ];
        let oracle = |events: &[Activity]| {
            let changes = events.iter().filter_map(|e| match &e.kind {
                ActivityKind::Tagged { conversation, tag } => Some(TagChange { at_ms: e.at_ms, conversation, tag, tagged: true }),
                ActivityKind::Untagged { conversation, tag } => Some(TagChange { at_ms: e.at_ms, conversation, tag, tagged: false }),
                _ => None,
            });
            current_tags(changes).into_iter().map(|(c, t)| (c, t.into_iter().collect::<Vec<_>>())).collect::<BTreeMap<_, _>>()
        };
        // Read back newest first, then everything again: the same tags.
        let store = Store::open_in_memory().unwrap();
        let reversed: Vec<Activity> = events.iter().rev().cloned().collect();
        store.add_team_activity(&reversed).unwrap();
        assert_eq!(store.conversation_tags().unwrap(), oracle(&events));
        store.add_team_activity(&events).unwrap();
        assert_eq!(store.conversation_tags().unwrap(), oracle(&events));
        assert_eq!(store.conversation_tags().unwrap()["a@x"], ["vip"]);
        // This app's own change counts at once, and once more read back changes nothing.
        store.record_activity(6_000, &serde_json::to_string(&tag(true, "a@x", "refund")).unwrap()).unwrap();
        assert_eq!(store.conversation_tags().unwrap()["a@x"], ["refund", "vip"]);
        store.add_team_activity(&[team(9, 6_000, tag(true, "a@x", "refund"))]).unwrap();
        let mut all = events.clone();
        all.push(team(9, 6_000, tag(true, "a@x", "refund")));
        assert_eq!(store.conversation_tags().unwrap(), oracle(&all));
    }

    #[test]
    fn events_kept_before_the_index_existed_are_indexed_when_it_is_made() {
        use crate::db::MIGRATIONS;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v13.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            crate::db::schema_version(&conn).unwrap();
            for (version, sql) in MIGRATIONS.iter().filter(|m| m.0 <= 13) {
                conn.execute_batch(sql).unwrap();
                conn.execute("INSERT INTO schema_version (version) VALUES (?1)", [version]).unwrap();
            }
            for e in [team(0, 1_000, resolved("<a@x>")), team(1, 2_000, replied("<a@x>", Some(false)))] {
                let json = serde_json::to_string(&e).unwrap();
                conn.execute(
                    "INSERT INTO team_activity (id, advisor, at_ms, json) VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![e.id, e.advisor, e.at_ms, json],
                )
                .unwrap();
            }
            let own = serde_json::to_string(&resolved("<b@x>")).unwrap();
            conn.execute("INSERT INTO activity (at_ms, kind) VALUES (3000, ?1)", [own]).unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(index(&store, &["<a@x>"]), full_scan(&store));
        assert_eq!(store.resolutions_since(0).unwrap().len(), 2);
        assert_eq!(store.reply_assisted("<a@x>").unwrap(), Some(Some(false)));
        assert_eq!(store.team_activity_of(&["resolved"], 0, i64::MAX).unwrap().len(), 1);
    }
}
