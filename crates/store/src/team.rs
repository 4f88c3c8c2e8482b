//! What the claim loop reads: the heads of every message in the queue folders, with the
//! flags that carry ownership. Lean on purpose (no bodies beyond an excerpt of open
//! messages): it is read on every pass of the loop, by the duties every second, and by
//! eight apps at once on a busy machine. So the last result is kept and shared; when
//! the messages generation has moved (triggers log every write to `messages`, from any
//! connection: migration 0005), only the rows changed since are read again.

use crate::error::{json_column, parse_json};
use crate::{Result, Store};
use rusqlite::{params_from_iter, Connection};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The last heads read for each folder list.
pub(crate) type HeadsCache = Mutex<Vec<HeadsView>>;

pub(crate) struct HeadsView {
    folders: Vec<String>,
    /// The folders' ids and UIDVALIDITYs when read: a change means reading everything.
    signature: String,
    generation: i64,
    heads: Arc<Vec<QueueHead>>,
}

/// Keep this many generations of the change log; older readers read everything again.
const CHANGE_LOG_KEEP: i64 = 20_000;

#[derive(Debug, Clone)]
pub struct QueueHead {
    pub id: i64,
    pub folder: String,
    pub uidvalidity: u32,
    pub uid: u32,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub subject: String,
    pub from_addr: String,
    pub internal_date: i64,
    pub flags: Vec<String>,
    /// The first 300 characters of the text body, for open messages only (closed ones
    /// — answered, resolved, deleted — are never offered, and reading every body is the
    /// most expensive part of the query).
    pub excerpt: String,
    pub ack_decision: String,
    pub from_name: String,
}

impl Store {
    /// Every message of `folders`, oldest first. Shared: a pass that finds nothing
    /// changed costs one query, and a change costs reading the changed rows.
    pub fn queue_heads(&self, folders: &[String]) -> Result<Arc<Vec<QueueHead>>> {
        if folders.is_empty() {
            return Ok(Arc::default());
        }
        let conn = self.conn();
        let (generation, pruned): (i64, i64) =
            conn.query_row("SELECT n, pruned FROM messages_generation", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let signature = folders_signature(&conn, folders)?;
        let mut cache = self.heads_cache.lock().unwrap_or_else(|p| p.into_inner());
        let previous = cache.iter().position(|v| v.folders == folders).map(|i| cache.swap_remove(i));
        let heads = match previous {
            Some(v) if v.signature == signature && v.generation == generation => v.heads,
            Some(v) if v.signature == signature && v.generation >= pruned => Arc::new(refresh(&conn, folders, &v.heads, v.generation)?),
            _ => Arc::new(read_heads(&conn, folders, None)?),
        };
        cache.push(HeadsView { folders: folders.to_vec(), signature, generation, heads: heads.clone() });
        if generation - pruned > 2 * CHANGE_LOG_KEEP {
            let keep_from = generation - CHANGE_LOG_KEEP;
            conn.execute("DELETE FROM messages_changes WHERE generation <= ?1", [keep_from])?;
            conn.execute("UPDATE messages_generation SET pruned = ?1", [keep_from])?;
        }
        Ok(heads)
    }

    /// Record a keyword we just set on the server, so the next pass sees it before the
    /// watcher's resync does.
    pub fn add_flag(&self, id: i64, flag: &str) -> Result<()> {
        self.replace_flag(id, None, flag)
    }

    /// Record the whole flag list we just wrote on the server (a conditional rewrite).
    pub fn set_flags(&self, id: i64, flags: &[String]) -> Result<()> {
        self.conn().execute(
            "UPDATE messages SET flags = ?2 WHERE id = ?1",
            rusqlite::params![id, serde_json::to_string(flags).unwrap_or_else(|_| "[]".into())],
        )?;
        Ok(())
    }

    /// As `add_flag`, removing `from` in the same write (an ownership move).
    /// Remove `flag` from a mirrored message (a hand-back took our owner keyword off).
    pub fn remove_flag(&self, id: i64, flag: &str) -> Result<()> {
        let conn = self.conn();
        let flags: String = conn.query_row("SELECT flags FROM messages WHERE id = ?1", [id], |r| r.get(0))?;
        let mut list: Vec<String> = parse_json(&flags, "messages.flags")?;
        list.retain(|f| !f.eq_ignore_ascii_case(flag));
        conn.execute(
            "UPDATE messages SET flags = ?2 WHERE id = ?1",
            rusqlite::params![id, serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())],
        )?;
        Ok(())
    }

    pub fn replace_flag(&self, id: i64, from: Option<&str>, flag: &str) -> Result<()> {
        let conn = self.conn();
        let flags: String = conn.query_row("SELECT flags FROM messages WHERE id = ?1", [id], |r| r.get(0))?;
        let mut list: Vec<String> = parse_json(&flags, "messages.flags")?;
        if let Some(from) = from {
            list.retain(|f| !f.eq_ignore_ascii_case(from));
        }
        if !list.iter().any(|f| f == flag) {
            list.push(flag.to_owned());
        }
        conn.execute(
            "UPDATE messages SET flags = ?2 WHERE id = ?1",
            rusqlite::params![id, serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())],
        )?;
        Ok(())
    }
}

/// The folders' ids and UIDVALIDITYs, in one string.
fn folders_signature(conn: &Connection, folders: &[String]) -> Result<String> {
    let marks = vec!["?"; folders.len()].join(",");
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT group_concat(id || ':' || uidvalidity, ',') FROM
           (SELECT id, uidvalidity FROM folders WHERE name IN ({marks}) ORDER BY id)"
    ))?;
    Ok(stmt.query_row(params_from_iter(folders.iter()), |r| r.get::<_, Option<String>>(0))?.unwrap_or_default())
}

/// `previous` (read at generation `since`) with the rows changed since read again.
fn refresh(conn: &Connection, folders: &[String], previous: &[QueueHead], since: i64) -> Result<Vec<QueueHead>> {
    let changed: HashSet<i64> = conn
        .prepare_cached("SELECT DISTINCT id FROM messages_changes WHERE generation > ?1")?
        .query_map([since], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    if changed.len() > previous.len() / 2 {
        return read_heads(conn, folders, None);
    }
    let mut heads: Vec<QueueHead> = previous.iter().filter(|h| !changed.contains(&h.id)).cloned().collect();
    heads.extend(read_heads(conn, folders, Some(since))?);
    heads.sort_by_key(|h| (h.internal_date, h.id));
    Ok(heads)
}

/// The heads of `folders`, or only those changed after generation `since`.
fn read_heads(conn: &Connection, folders: &[String], since: Option<i64>) -> Result<Vec<QueueHead>> {
    let marks = vec!["?"; folders.len()].join(",");
    let changed_only = match since {
        Some(_) => format!("AND m.id IN (SELECT id FROM messages_changes WHERE generation > ?{})", folders.len() + 1),
        None => String::new(),
    };
    let mut args: Vec<rusqlite::types::Value> = folders.iter().map(|f| f.clone().into()).collect();
    args.extend(since.map(rusqlite::types::Value::from));
    // `flags` is a JSON array: `\Answered` appears as `"\\Answered"`; LIKE ignores ASCII case.
    let mut stmt = conn.prepare_cached(&format!(
        r#"SELECT m.id, f.name, f.uidvalidity, m.uid, m.message_id, m.in_reply_to, m.refs, m.subject,
                  m.from_addr, m.internal_date, m.flags,
                  CASE WHEN m.flags LIKE '%"\\answered"%' OR m.flags LIKE '%"\\deleted"%'
                         OR m.flags LIKE '%"$resolved"%'
                       THEN '' ELSE substr(m.body_text, 1, 300) END,
                  m.ack_decision, m.from_name
           FROM messages m JOIN folders f ON f.id = m.folder_id
           WHERE f.name IN ({marks}) {changed_only} ORDER BY m.internal_date, m.id"#
    ))?;
    let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
        Ok(QueueHead {
            id: r.get(0)?,
            folder: r.get(1)?,
            uidvalidity: r.get(2)?,
            uid: r.get(3)?,
            message_id: r.get(4)?,
            in_reply_to: r.get(5)?,
            references: json_column(r, 6, "messages.refs")?,
            subject: r.get(7)?,
            from_addr: r.get(8)?,
            internal_date: r.get(9)?,
            flags: json_column(r, 10, "messages.flags")?,
            excerpt: r.get(11)?,
            ack_decision: r.get(12)?,
            from_name: r.get(13)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::NewMessage;

    pub(crate) fn message(uid: u32, flags: &[&str]) -> NewMessage {
        NewMessage {
            uid,
            identity: format!("mid:{uid}@t"),
            message_id: Some(format!("{uid}@t")),
            from_addr: "ann@example.com".into(),
            body_text: format!("body of {uid}"),
            flags: flags.iter().map(|f| f.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn heads_are_shared_until_a_message_changes_from_any_writer() {
        let store = Store::open_in_memory().unwrap();
        let inbox = store.ensure_folder("INBOX").unwrap().id;
        let folders = vec!["INBOX".to_string()];
        store.insert_messages(inbox, &[message(1, &[])]).unwrap();
        let first = store.queue_heads(&folders).unwrap();
        assert!(Arc::ptr_eq(&first, &store.queue_heads(&folders).unwrap()), "unchanged: the same heads");

        store.update_flags(inbox, &[(1, vec!["$bd_owner_a1".into()], 5)]).unwrap();
        let flagged = store.queue_heads(&folders).unwrap();
        assert_eq!(flagged[0].flags, vec!["$bd_owner_a1"]);

        store.replace_flag(flagged[0].id, Some("$bd_owner_a1"), "$bd_owner_b2").unwrap();
        assert_eq!(store.queue_heads(&folders).unwrap()[0].flags, vec!["$bd_owner_b2"]);

        store.insert_messages(inbox, &[message(2, &[])]).unwrap();
        assert_eq!(store.queue_heads(&folders).unwrap().len(), 2);

        // A write that bypasses these methods (as another process on the file would) counts too.
        store.conn().execute("UPDATE messages SET flags = '[]' WHERE uid = 1", []).unwrap();
        assert!(store.queue_heads(&folders).unwrap()[0].flags.is_empty());
    }

    #[test]
    fn refreshed_heads_equal_a_full_read_through_inserts_flags_expunges_and_rebinds() {
        let store = Store::open_in_memory().unwrap();
        let inbox = store.ensure_folder("INBOX").unwrap().id;
        let sent = store.ensure_folder("Sent").unwrap().id;
        let folders = vec!["INBOX".to_string(), "Sent".to_string()];
        let full = |store: &Store| read_heads(&store.conn(), &folders, None).unwrap();
        let same = |a: &[QueueHead], b: &[QueueHead]| {
            let key = |h: &QueueHead| (h.id, h.folder.clone(), h.uidvalidity, h.uid, h.flags.clone(), h.excerpt.clone());
            a.iter().map(key).collect::<Vec<_>>() == b.iter().map(key).collect::<Vec<_>>()
        };
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut uid = 0u32;
        for step in 0..300 {
            match next(6) {
                0 | 1 => {
                    uid += 1;
                    let mut m = message(uid, &[]);
                    m.internal_date = next(50) as i64;
                    store.insert_messages(if next(3) == 0 { sent } else { inbox }, &[m]).unwrap();
                }
                2 | 3 => {
                    let flags = if next(2) == 0 { vec!["\\Answered".to_string()] } else { vec![format!("$bd_owner_a{step}")] };
                    store.update_flags(inbox, &[(1 + next(uid.max(1) as u64) as u32, flags, step)]).unwrap();
                }
                4 => {
                    store.delete_uids(inbox, &[1 + next(uid.max(1) as u64) as u32]).unwrap();
                }
                _ => {
                    if next(10) == 0 {
                        store.rebind_folder(inbox, 100 + step as u32, &[]).unwrap();
                    }
                }
            }
            if next(3) == 0 {
                let heads = store.queue_heads(&folders).unwrap();
                assert!(same(&heads, &full(&store)), "step {step}: the refreshed heads differ from a full read");
            }
        }
        assert!(same(&store.queue_heads(&folders).unwrap(), &full(&store)));
    }

    #[test]
    fn only_open_messages_carry_an_excerpt() {
        let store = Store::open_in_memory().unwrap();
        let inbox = store.ensure_folder("INBOX").unwrap().id;
        store
            .insert_messages(
                inbox,
                &[
                    message(1, &[]),
                    message(2, &["\\Answered"]),
                    message(3, &["$resolved"]),
                    message(4, &["\\Deleted"]),
                    message(5, &["\\Seen"]),
                ],
            )
            .unwrap();
        let heads = store.queue_heads(&["INBOX".to_string()]).unwrap();
        let excerpts: Vec<&str> = heads.iter().map(|h| h.excerpt.as_str()).collect();
        assert_eq!(excerpts, vec!["body of 1", "", "", "", "body of 5"]);
    }
}
