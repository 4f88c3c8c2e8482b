//! Owners and marks of a team coordinated through PostgreSQL (the engine's
//! `coordination.rs` copies them here from the database). They are merged into the
//! mirrored flags of their message (migration 0016's triggers keep them through every
//! sync's write of the server's flags), so readers need not know which backend decided.

use crate::error::parse_json;
use crate::{Result, Store};
use rusqlite::{params, Transaction};
use std::collections::{BTreeMap, BTreeSet};

/// One queue email, as the mirror names it.
pub type EmailPlace = (String, u32, u32);

impl Store {
    /// Sets the coordination flags of one email to `flags` (owner, declined, marks).
    pub fn set_coord_marks(&self, folder: &str, uidvalidity: u32, uid: u32, flags: &[String]) -> Result<()> {
        self.set_coord_marks_of(&[((folder.to_owned(), uidvalidity, uid), flags.to_vec())])
    }

    /// `set_coord_marks` for many emails in one transaction (a burst of changes).
    pub fn set_coord_marks_of(&self, emails: &[(EmailPlace, Vec<String>)]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for ((folder, uidvalidity, uid), flags) in emails {
            apply(&tx, folder, *uidvalidity, *uid, flags)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Replaces every email's coordination flags with `all` (a full read of the database):
    /// emails missing from `all` lose theirs.
    pub fn replace_coord_marks(&self, all: &BTreeMap<EmailPlace, Vec<String>>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut known: BTreeMap<EmailPlace, BTreeSet<String>> = BTreeMap::new();
        {
            let mut stmt = tx.prepare("SELECT folder, uidvalidity, uid, flag FROM coord_marks")?;
            let rows =
                stmt.query_map([], |r| Ok(((r.get::<_, String>(0)?, r.get::<_, u32>(1)?, r.get::<_, u32>(2)?), r.get::<_, String>(3)?)))?;
            for row in rows {
                let (place, flag) = row?;
                known.entry(place).or_default().insert(flag);
            }
        }
        let empty = Vec::new();
        let places: BTreeSet<&EmailPlace> = known.keys().chain(all.keys()).collect();
        for place in places {
            let want = all.get(place).unwrap_or(&empty);
            let have = known.get(place);
            let unchanged = match have {
                Some(h) => h.len() == want.len() && want.iter().all(|f| h.contains(f)),
                None => want.is_empty(),
            };
            if !unchanged {
                apply(&tx, &place.0, place.1, place.2, want)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The coordination flags of one email.
    pub fn coord_marks(&self, folder: &str, uidvalidity: u32, uid: u32) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT flag FROM coord_marks WHERE folder = ?1 AND uidvalidity = ?2 AND uid = ?3 ORDER BY flag")?;
        let flags = stmt.query_map(params![folder, uidvalidity, uid], |r| r.get(0))?.collect::<std::result::Result<_, _>>()?;
        Ok(flags)
    }
}

/// The old marks come off the message's flags, the new ones go on (the update trigger
/// merges what `coord_marks` holds now).
fn apply(tx: &Transaction<'_>, folder: &str, uidvalidity: u32, uid: u32, flags: &[String]) -> Result<()> {
    let old: Vec<String> = {
        let mut stmt = tx.prepare_cached("SELECT flag FROM coord_marks WHERE folder = ?1 AND uidvalidity = ?2 AND uid = ?3")?;
        let rows = stmt.query_map(params![folder, uidvalidity, uid], |r| r.get(0))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    // Most copies change nothing (an app's own claim, copied already): no write, so the
    // claim loop's shared heads stay as they are.
    if old.len() == flags.len() && flags.iter().all(|f| old.contains(f)) {
        return Ok(());
    }
    tx.execute("DELETE FROM coord_marks WHERE folder = ?1 AND uidvalidity = ?2 AND uid = ?3", params![folder, uidvalidity, uid])?;
    for flag in flags {
        tx.execute(
            "INSERT OR IGNORE INTO coord_marks (folder, uidvalidity, uid, flag) VALUES (?1, ?2, ?3, ?4)",
            params![folder, uidvalidity, uid, flag],
        )?;
    }
    let message: Option<(i64, String)> = tx
        .query_row(
            "SELECT m.id, m.flags FROM messages m JOIN folders f ON f.id = m.folder_id
             WHERE f.name = ?1 AND f.uidvalidity = ?2 AND m.uid = ?3",
            params![folder, uidvalidity, uid],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map(Some)
        .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
    if let Some((id, current)) = message {
        let mut list: Vec<String> = parse_json(&current, "messages.flags")?;
        list.retain(|f| !old.contains(f) || flags.contains(f));
        for f in flags {
            if !list.contains(f) {
                list.push(f.clone());
            }
        }
        tx.execute(
            "UPDATE messages SET flags = ?2 WHERE id = ?1",
            params![id, serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::team::tests::message;
    use crate::Store;

    fn flags_of(store: &Store, folder: &str, uid: u32) -> Vec<String> {
        let mut f = store.message_by_uid(folder, uid).unwrap().unwrap().flags;
        f.sort();
        f
    }

    #[test]
    fn marks_survive_the_servers_flags_and_go_when_cleared() {
        let store = Store::open_in_memory().unwrap();
        let inbox = store.ensure_folder("INBOX").unwrap().id;
        store.set_folder_synced(inbox, 7, 1, 0).unwrap();
        // A mark that arrives before the message is merged in when the sync inserts it.
        store.set_coord_marks("INBOX", 7, 1, &["$bd_owner_alice".into()]).unwrap();
        store.insert_messages(inbox, &[message(1, &["\\Seen"])]).unwrap();
        assert_eq!(flags_of(&store, "INBOX", 1), vec!["$bd_owner_alice", "\\Seen"]);
        // The server's flags (never the marks) written by a sync keep the marks.
        store.update_flags(inbox, &[(1, vec!["\\Answered".into()], 2)]).unwrap();
        assert_eq!(flags_of(&store, "INBOX", 1), vec!["$bd_owner_alice", "\\Answered"]);
        // A transfer: the old owner goes, the new one comes, the server's flags stay.
        store.set_coord_marks("INBOX", 7, 1, &["$bd_owner_bob".into(), "$Resolved".into()]).unwrap();
        assert_eq!(flags_of(&store, "INBOX", 1), vec!["$Resolved", "$bd_owner_bob", "\\Answered"]);
        // A full read that no longer names the email clears it.
        store.replace_coord_marks(&Default::default()).unwrap();
        assert_eq!(flags_of(&store, "INBOX", 1), vec!["\\Answered"]);
        assert!(store.coord_marks("INBOX", 7, 1).unwrap().is_empty());
        // Another UIDVALIDITY names another message: nothing merged.
        store.set_coord_marks("INBOX", 8, 1, &["$bd_owner_carol".into()]).unwrap();
        store.update_flags(inbox, &[(1, vec![], 3)]).unwrap();
        assert!(flags_of(&store, "INBOX", 1).is_empty());
    }

    #[test]
    fn marks_for_a_folder_whose_first_sync_is_still_running_are_merged_when_it_ends() {
        let store = Store::open_in_memory().unwrap();
        let inbox = store.ensure_folder("INBOX").unwrap().id;
        // The first sync inserts before it records the UIDVALIDITY.
        store.insert_messages(inbox, &[message(1, &[])]).unwrap();
        store.set_coord_marks("INBOX", 9, 1, &["$bd_owner_alice".into()]).unwrap();
        assert!(flags_of(&store, "INBOX", 1).is_empty());
        store.set_folder_synced(inbox, 9, 1, 0).unwrap();
        assert_eq!(flags_of(&store, "INBOX", 1), vec!["$bd_owner_alice"]);
    }
}
