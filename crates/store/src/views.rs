//! Read-only queries behind the advisor's workspace: open customer mail in the queues,
//! the messages of one thread, one customer's history. They return message ids (newest
//! first unless said otherwise); callers load the messages they show.

use crate::error::json_column;
use crate::{Result, Store};
use rusqlite::params_from_iter;

/// A message id with the fields the workspace groups and orders by, without bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageHead {
    pub id: i64,
    pub folder: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub subject: String,
    pub from_addr: String,
    pub from_name: String,
    pub internal_date: i64,
    pub flags: Vec<String>,
}

const SELECT_HEAD: &str = "SELECT m.id, f.name, m.message_id, m.in_reply_to, m.refs, m.subject,
    lower(m.from_addr), m.from_name, m.internal_date, m.flags
    FROM messages m JOIN folders f ON f.id = m.folder_id";

fn row_to_head(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageHead> {
    Ok(MessageHead {
        id: r.get(0)?,
        folder: r.get(1)?,
        message_id: r.get(2)?,
        in_reply_to: r.get(3)?,
        references: json_column(r, 4, "messages.refs")?,
        subject: r.get(5)?,
        from_addr: r.get(6)?,
        from_name: r.get(7)?,
        internal_date: r.get(8)?,
        flags: json_column(r, 9, "messages.flags")?,
    })
}

impl Store {
    /// Messages in `folders` not flagged \Answered, \Deleted or `$Resolved` (closed
    /// without a reply) and not sent from `internal_domain` (our own team's mail),
    /// newest first.
    pub fn open_customer_messages(&self, folders: &[String], internal_domain: &str, limit: u32) -> Result<Vec<MessageHead>> {
        if folders.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; folders.len()].join(", ");
        let sql = format!(
            "{SELECT_HEAD} WHERE f.name IN ({marks})
               AND NOT EXISTS (SELECT 1 FROM json_each(m.flags) WHERE value IN ('\\Answered', '\\Deleted', '$Resolved'))
               AND lower(m.from_addr) NOT LIKE ?
             ORDER BY m.internal_date DESC, m.id DESC LIMIT {limit}"
        );
        let mut args: Vec<String> = folders.to_vec();
        args.push(format!("%@{}", internal_domain.to_lowercase()));
        let conn = self.reader();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), row_to_head)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Messages linked to any of `message_ids` by Message-ID, In-Reply-To or References,
    /// in any folder, oldest first.
    pub fn thread_messages(&self, message_ids: &[String], limit: u32) -> Result<Vec<MessageHead>> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; message_ids.len()].join(", ");
        let sql = format!(
            "{SELECT_HEAD} WHERE m.message_id IN ({marks}) OR m.in_reply_to IN ({marks})
               OR EXISTS (SELECT 1 FROM json_each(m.refs) WHERE value IN ({marks}))
             ORDER BY m.internal_date ASC, m.id ASC LIMIT {limit}"
        );
        let args: Vec<&String> = message_ids.iter().chain(message_ids).chain(message_ids).collect();
        let conn = self.reader();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), row_to_head)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Messages from or to `address` (case-insensitive), in any folder, newest first.
    pub fn customer_messages(&self, address: &str, limit: u32) -> Result<Vec<MessageHead>> {
        let address = address.trim().to_lowercase();
        if address.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "{SELECT_HEAD} WHERE lower(m.from_addr) = ?1
               OR EXISTS (SELECT 1 FROM json_each(m.to_addrs) WHERE lower(value) = ?1)
             ORDER BY m.internal_date DESC, m.id DESC LIMIT {limit}"
        );
        let conn = self.reader();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([address], row_to_head)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use crate::{NewMessage, Store};

    fn msg(uid: u32, from: &str, mid: &str, irt: Option<&str>, to: &str, flags: &[&str], date: i64) -> NewMessage {
        NewMessage {
            uid,
            identity: format!("id-{mid}"),
            message_id: Some(mid.to_owned()),
            in_reply_to: irt.map(str::to_owned),
            references: irt.map(|r| vec![r.to_owned()]).unwrap_or_default(),
            subject: format!("subject {uid}"),
            from_addr: from.to_owned(),
            from_name: String::new(),
            to: vec![to.to_owned()],
            cc: vec![],
            sent_at: None,
            internal_date: date,
            size: 10,
            flags: flags.iter().map(|f| f.to_string()).collect(),
            modseq: 1,
            body_state: None,
            body_text: "hello".into(),
            body_html: None,
            parse_note: None,
            attachments: vec![],
            ack_decision: String::new(),
            reply_to: String::new(),
        }
    }

    fn seeded() -> Store {
        let s = Store::open_in_memory().unwrap();
        let inbox = s.ensure_folder("INBOX").unwrap().id;
        let sent = s.ensure_folder("Sent").unwrap().id;
        s.insert_messages(
            inbox,
            &[
                msg(1, "ann@example.com", "a1@x", None, "support@shop.test", &["\\Answered"], 100),
                msg(2, "ann@example.com", "a2@x", Some("r1@shop.test"), "support@shop.test", &[], 300),
                msg(3, "bob@example.com", "b1@x", None, "support@shop.test", &["\\Seen"], 200),
                msg(4, "carol@shop.test", "c1@x", None, "support@shop.test", &[], 400),
                msg(5, "dan@example.com", "d1@x", None, "support@shop.test", &["\\Deleted"], 500),
                msg(6, "eve@example.com", "e1@x", None, "support@shop.test", &["$Resolved"], 600),
            ],
        )
        .unwrap();
        s.insert_messages(sent, &[msg(1, "support@shop.test", "r1@shop.test", Some("a1@x"), "ann@example.com", &[], 200)]).unwrap();
        s
    }

    #[test]
    fn open_customer_messages_skip_answered_deleted_and_internal() {
        let s = seeded();
        let open = s.open_customer_messages(&["INBOX".into()], "shop.test", 100).unwrap();
        let mids: Vec<_> = open.iter().map(|m| m.message_id.clone().unwrap()).collect();
        assert_eq!(mids, ["a2@x", "b1@x"]);
        assert!(s.open_customer_messages(&["Billing".into()], "shop.test", 100).unwrap().is_empty());
    }

    #[test]
    fn thread_follows_reply_links_across_folders() {
        let s = seeded();
        let t = s.thread_messages(&["a1@x".into()], 100).unwrap();
        let mids: Vec<_> = t.iter().map(|m| m.message_id.clone().unwrap()).collect();
        assert_eq!(mids, ["a1@x", "r1@shop.test"]);
        let t = s.thread_messages(&["r1@shop.test".into(), "a1@x".into()], 100).unwrap();
        assert_eq!(t.len(), 3, "the follow-up a2 answers r1");
    }

    #[test]
    fn customer_history_includes_our_replies_newest_first() {
        let s = seeded();
        let h = s.customer_messages("ANN@example.com", 100).unwrap();
        let mids: Vec<_> = h.iter().map(|m| m.message_id.clone().unwrap()).collect();
        assert_eq!(mids, ["a2@x", "r1@shop.test", "a1@x"]);
    }
}
