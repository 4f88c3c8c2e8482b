//! A customer's history: which addresses are the same customer, and their messages
//! grouped into conversations with a status and the last replies. Pure: the engine
//! feeds it the mirror's rows.

use serde::Serialize;
use std::collections::HashMap;

/// Every address reachable from `start` through `links` (both directions are the
/// caller's business), `start` first, lowercased, at most `max` — a bound so that one
/// hostile Reply-To chain cannot pull the whole mailbox into one customer.
pub fn alias_closure(start: &str, mut links: impl FnMut(&str) -> Vec<String>, max: usize) -> Vec<String> {
    let start = start.trim().to_lowercase();
    if start.is_empty() {
        return Vec::new();
    }
    let mut out = vec![start];
    let mut i = 0;
    while i < out.len() && out.len() < max {
        let next = links(&out[i].clone());
        for a in next {
            let a = a.trim().to_lowercase();
            if !a.is_empty() && a.contains('@') && !out.contains(&a) && out.len() < max {
                out.push(a);
            }
        }
        i += 1;
    }
    out
}

/// One message of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryMessage {
    pub id: i64,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub subject: String,
    pub from_addr: String,
    pub date: i64,
    /// Sent by the team.
    pub outgoing: bool,
    pub flags: Vec<String>,
    pub excerpt: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// A customer message waits for an answer.
    Open,
    /// Every customer message was answered.
    Answered,
    /// Closed without a reply (`$Resolved`).
    Resolved,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Line {
    pub id: i64,
    pub date: i64,
    pub from_addr: String,
    pub excerpt: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ConversationHistory {
    pub subject: String,
    pub started: i64,
    pub last_activity: i64,
    pub status: ConversationStatus,
    pub messages: u32,
    /// The customer's newest message and the team's newest reply.
    pub last_customer: Option<Line>,
    pub last_reply: Option<Line>,
    /// Message ids, oldest first.
    pub ids: Vec<i64>,
}

fn has(flags: &[String], f: &str) -> bool {
    flags.iter().any(|x| x.eq_ignore_ascii_case(f))
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Group `messages` into conversations by Message-ID, In-Reply-To and References, and by
/// the conversation token of a manual merge (a message without either is its own
/// conversation), newest activity first. `\Deleted`
/// messages are left out.
pub fn conversations(messages: &[HistoryMessage]) -> Vec<ConversationHistory> {
    let msgs: Vec<&HistoryMessage> = messages.iter().filter(|m| !has(&m.flags, "\\Deleted")).collect();
    let mut parent: Vec<usize> = (0..msgs.len()).collect();
    let mut by_mid: HashMap<&str, usize> = HashMap::new();
    for (i, m) in msgs.iter().enumerate() {
        if let Some(mid) = m.message_id.as_deref() {
            by_mid.entry(mid).or_insert(i);
        }
    }
    for (i, m) in msgs.iter().enumerate() {
        for r in m.references.iter().map(String::as_str).chain(m.in_reply_to.as_deref()).chain(m.message_id.as_deref()) {
            if let Some(&j) = by_mid.get(r) {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                if a != b {
                    parent[a] = b;
                }
            }
        }
    }
    // Emails an advisor merged share a conversation token: one conversation here too.
    let mut by_token: HashMap<String, usize> = HashMap::new();
    for (i, m) in msgs.iter().enumerate() {
        if let Some(token) = crate::conversation::token_of(&m.flags) {
            let j = *by_token.entry(token).or_insert(i);
            let (a, b) = (find(&mut parent, i), find(&mut parent, j));
            if a != b {
                parent[a] = b;
            }
        }
    }
    let mut groups: HashMap<usize, Vec<&HistoryMessage>> = HashMap::new();
    for (i, m) in msgs.iter().enumerate() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(m);
    }
    let mut out: Vec<ConversationHistory> = groups
        .into_values()
        .map(|mut ms| {
            ms.sort_by_key(|m| (m.date, m.id));
            let inbound: Vec<&&HistoryMessage> = ms.iter().filter(|m| !m.outgoing).collect();
            let status = if inbound.iter().any(|m| !has(&m.flags, "\\Answered") && !has(&m.flags, "$Resolved")) {
                ConversationStatus::Open
            } else if inbound.last().is_some_and(|m| has(&m.flags, "$Resolved") && !has(&m.flags, "\\Answered")) {
                ConversationStatus::Resolved
            } else {
                ConversationStatus::Answered
            };
            let line = |m: &HistoryMessage| Line { id: m.id, date: m.date, from_addr: m.from_addr.clone(), excerpt: m.excerpt.clone() };
            let first = ms[0];
            ConversationHistory {
                subject: inbound.first().map(|m| m.subject.clone()).unwrap_or_else(|| first.subject.clone()),
                started: first.date,
                last_activity: ms.last().map(|m| m.date).unwrap_or(first.date),
                status,
                messages: ms.len() as u32,
                last_customer: inbound.last().map(|m| line(m)),
                // A person's reply: our acknowledgements and still-working notes are not.
                last_reply: ms
                    .iter()
                    .rev()
                    .find(|m| m.outgoing && !m.message_id.as_deref().is_some_and(crate::automation::is_automatic_message_id))
                    .map(|m| line(m)),
                ids: ms.iter().map(|m| m.id).collect(),
            }
        })
        .collect();
    out.sort_by_key(|c| std::cmp::Reverse((c.last_activity, c.ids.last().copied())));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: i64, mid: &str, irt: Option<&str>, outgoing: bool, flags: &[&str], date: i64) -> HistoryMessage {
        HistoryMessage {
            id,
            message_id: Some(mid.into()),
            in_reply_to: irt.map(Into::into),
            references: irt.map(|r| vec![r.to_owned()]).unwrap_or_default(),
            subject: format!("s{id}"),
            from_addr: if outgoing { "support@shop.test".into() } else { "ann@x".into() },
            date,
            outgoing,
            flags: flags.iter().map(|f| f.to_string()).collect(),
            excerpt: format!("e{id}"),
        }
    }

    #[test]
    fn alias_closure_follows_links_and_is_bounded() {
        let links = |a: &str| match a {
            "ann@x" => vec!["ANN@work.example".to_owned(), "not-an-address".to_owned()],
            "ann@work.example" => vec!["ann@x".to_owned(), "ann@home.example".to_owned()],
            _ => vec![],
        };
        assert_eq!(alias_closure(" Ann@X ", links, 10), ["ann@x", "ann@work.example", "ann@home.example"]);
        assert_eq!(alias_closure("ann@x", links, 2), ["ann@x", "ann@work.example"]);
        assert!(alias_closure(" ", links, 10).is_empty());
    }

    #[test]
    fn merged_emails_are_one_conversation() {
        let msgs = [
            m(1, "a1", None, false, &["$bd_conv_tok1234567"], 100),
            m(2, "b1", None, false, &["$bd_conv_tok1234567"], 200),
            m(3, "r2", Some("b1"), true, &[], 300),
            m(4, "c1", None, false, &[], 400),
        ];
        let c = conversations(&msgs);
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].ids, [1, 2, 3], "{c:?}");
        assert_eq!(c[0].ids, [4]);
    }

    #[test]
    fn messages_group_by_thread_with_status_and_last_replies() {
        let msgs = [
            m(1, "a1", None, false, &["\\Answered"], 100),
            m(2, "r1", Some("a1"), true, &[], 200),
            m(3, "a2", Some("r1"), false, &[], 300),
            m(4, "b1", None, false, &["$Resolved"], 150),
            m(5, "c1", None, false, &["\\Deleted"], 500),
        ];
        let c = conversations(&msgs);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].ids, [1, 2, 3]);
        assert_eq!(c[0].status, ConversationStatus::Open);
        assert_eq!(c[0].subject, "s1");
        assert_eq!(c[0].last_reply.as_ref().map(|l| l.id), Some(2));
        assert_eq!(c[0].last_customer.as_ref().map(|l| l.excerpt.as_str()), Some("e3"));
        assert_eq!((c[1].ids.as_slice(), &c[1].status), (&[4][..], &ConversationStatus::Resolved));
        let answered = conversations(&msgs[..2]);
        assert_eq!(answered[0].status, ConversationStatus::Answered);
    }

    #[test]
    fn an_automatic_acknowledgement_is_not_the_last_reply() {
        let ack = m(6, "blendesk-auto.7@shop.test", Some("a1"), true, &[], 250);
        let msgs = [m(1, "a1", None, false, &["\\Answered"], 100), m(2, "r1", Some("a1"), true, &[], 200), ack];
        let c = conversations(&msgs);
        assert_eq!(c[0].last_reply.as_ref().map(|l| l.id), Some(2), "the person's reply, not the note after it");
        assert_eq!(conversations(&[msgs[0].clone(), msgs[2].clone()])[0].last_reply, None);
    }
}
