//! The change feed: a trigger NOTIFYs channel `blendesk_changes` on every write to claims,
//! duties, marks, releases, policy, documents, template approvals and conversation tokens,
//! and on a change of an advisor's state or load (a heartbeat alone is quiet); `listen` holds a
//! connection of its own that LISTENs and hands each change over as it arrives. Apps
//! wait on it instead of polling.

use blendesk_domain::advisor::AdvisorId;
use futures::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;

use crate::error::{db, CoordError, Result};
use crate::session::{advisor_from_db, AdvisorSession};

const CHANNEL: &str = "blendesk_changes";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// An email was claimed or transferred (`owner` set) or released (`owner` None).
    Claim {
        email_key: String,
        owner: Option<AdvisorId>,
    },
    Duty {
        kind: String,
        key: String,
        holder: AdvisorId,
    },
    Presence {
        advisor: AdvisorId,
        state: String,
    },
    Policy {
        version: i64,
    },
    /// A knowledge article, template or usage document version.
    Document {
        kind: String,
        doc_id: String,
        version: i64,
    },
    ConversationToken {
        email_key: String,
        token: i64,
    },
    /// A mark was set or cleared on an email (`marks.rs`).
    Mark {
        email_key: String,
    },
    /// An advisor released an email (or the record of it went).
    Declined {
        email_key: String,
    },
    /// A supervisor approved template version `version`.
    Approval {
        version: i64,
    },
}

impl Change {
    /// The email this change is about, for changes about one email.
    pub fn email_key(&self) -> Option<&str> {
        match self {
            Change::Claim { email_key, .. }
            | Change::ConversationToken { email_key, .. }
            | Change::Mark { email_key }
            | Change::Declined { email_key } => Some(email_key),
            _ => None,
        }
    }
}

pub struct ChangeFeed {
    changes: mpsc::UnboundedReceiver<Result<String, tokio_postgres::Error>>,
    // Dropping the client closes the connection and ends the reading task.
    _client: tokio_postgres::Client,
}

impl AdvisorSession {
    /// Opens the change feed on a new connection under the same login. Changes committed
    /// after this returns are delivered, in commit order.
    pub async fn listen(&self) -> Result<ChangeFeed> {
        let (client, mut connection) = self.settings.open().await?;
        let (tx, rx) = mpsc::unbounded_channel();
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        tokio::spawn(async move {
            while let Some(message) = messages.next().await {
                let item = match message {
                    Ok(AsyncMessage::Notification(n)) if n.channel() == CHANNEL => Ok(n.payload().to_owned()),
                    Ok(_) => continue,
                    Err(e) => Err(e),
                };
                let failed = item.is_err();
                if tx.send(item).is_err() || failed {
                    break;
                }
            }
        });
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await.map_err(db("listening for changes"))?;
        Ok(ChangeFeed { changes: rx, _client: client })
    }
}

impl ChangeFeed {
    /// The next change; waits until one arrives. `FeedClosed` when the connection ended
    /// (the caller reconnects and reads the tables again: changes in between are lost).
    pub async fn next(&mut self) -> Result<Change> {
        into_change(self.changes.recv().await)
    }

    /// A change that has already arrived, without waiting (None when there is none), so
    /// a reader can take a burst of changes at once.
    pub fn try_next(&mut self) -> Option<Result<Change>> {
        match self.changes.try_recv() {
            Ok(item) => Some(into_change(Some(item))),
            Err(mpsc::error::TryRecvError::Empty) => None,
            Err(mpsc::error::TryRecvError::Disconnected) => Some(Err(CoordError::FeedClosed)),
        }
    }
}

/// The same feed as a stream, for `select!` beside other events; it ends after
/// `FeedClosed` or a connection error.
impl futures::Stream for ChangeFeed {
    type Item = Result<Change>;

    fn poll_next(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Self::Item>> {
        self.changes.poll_recv(cx).map(|item| item.map(|item| into_change(Some(item))))
    }
}

fn into_change(item: Option<Result<String, tokio_postgres::Error>>) -> Result<Change> {
    match item {
        Some(Ok(payload)) => parse(&payload),
        Some(Err(source)) => Err(CoordError::Database { what: "the change feed", source }),
        None => Err(CoordError::FeedClosed),
    }
}

fn parse(payload: &str) -> Result<Change> {
    let bad = |why: &str| CoordError::Corrupt(format!("change notification {payload:?}: {why}"));
    let v: Value = serde_json::from_str(payload).map_err(|e| bad(&e.to_string()))?;
    let text = |field: &str| v.get(field).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| bad(&format!("no {field}")));
    let number = |field: &str| v.get(field).and_then(Value::as_i64).ok_or_else(|| bad(&format!("no {field}")));
    let advisor = |field: &str| text(field).and_then(advisor_from_db);
    let op = text("op")?;
    match text("table")?.as_str() {
        "claims" => Ok(Change::Claim { email_key: text("email_key")?, owner: if op == "delete" { None } else { Some(advisor("owner")?) } }),
        "duties" => Ok(Change::Duty { kind: text("kind")?, key: text("duty_key")?, holder: advisor("holder")? }),
        "presence" => Ok(Change::Presence { advisor: advisor("advisor")?, state: text("state")? }),
        "policy" => Ok(Change::Policy { version: number("version")? }),
        "documents" => Ok(Change::Document { kind: text("kind")?, doc_id: text("doc_id")?, version: number("version")? }),
        "conversation_tokens" => Ok(Change::ConversationToken { email_key: text("email_key")?, token: number("token")? }),
        "marks" => Ok(Change::Mark { email_key: text("email_key")? }),
        "declined" => Ok(Change::Declined { email_key: text("email_key")? }),
        "template_approvals" => Ok(Change::Approval { version: number("version")? }),
        other => Err(bad(&format!("unknown table {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_become_changes() {
        let alice = AdvisorId::parse("alice").unwrap();
        assert_eq!(
            parse(r#"{"table":"claims","op":"insert","email_key":"<m@x>","owner":"alice","version":3}"#).unwrap(),
            Change::Claim { email_key: "<m@x>".into(), owner: Some(alice.clone()) }
        );
        assert_eq!(
            parse(r#"{"table":"claims","op":"delete","email_key":"<m@x>","owner":"alice"}"#).unwrap(),
            Change::Claim { email_key: "<m@x>".into(), owner: None }
        );
        assert_eq!(parse(r#"{"table":"policy","op":"insert","version":7}"#).unwrap(), Change::Policy { version: 7 });
        assert_eq!(
            parse(r#"{"table":"template_approvals","op":"insert","version":4,"supervisor":"sam"}"#).unwrap(),
            Change::Approval { version: 4 }
        );
        assert_eq!(
            parse(r#"{"table":"marks","op":"delete","email_key":"k","mark":"$Resolved","set_by":"alice"}"#).unwrap(),
            Change::Mark { email_key: "k".into() }
        );
        assert_eq!(
            parse(r#"{"table":"presence","op":"update","advisor":"alice","state":"available","load":1}"#).unwrap(),
            Change::Presence { advisor: alice, state: "available".into() }
        );
    }

    #[test]
    fn bad_payloads_are_errors_not_panics() {
        for bad in [
            "",
            "[]",
            "{}",
            r#"{"table":"claims","op":"insert"}"#,
            r#"{"table":"nope","op":"insert"}"#,
            r#"{"table":"claims","op":"insert","email_key":"k","owner":"Not An Id"}"#,
        ] {
            assert!(matches!(parse(bad), Err(CoordError::Corrupt(_))), "{bad}");
        }
    }
}
