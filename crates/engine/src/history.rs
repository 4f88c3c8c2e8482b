//! The customer's history for the right pane: every conversation with this customer,
//! under any of their known addresses, with its status and last replies.
//!
//! Known addresses: those linked by hand (`link_customers`, kept in this app's
//! database), those learned from Reply-To (mail from A asking for replies to B), and
//! the senders of emails an advisor merged into one conversation with the customer's.
//! Learned links are taken one hop from the customer only, and never through our own
//! domain, so a hostile Reply-To cannot chain unrelated customers together; hand links
//! are followed transitively (bounded).

use crate::engine::{Engine, EngineError, Result};
use blendesk_domain::conversation::{token_keywords, token_of, CONV_PREFIX, TOKEN_BIT_PREFIX};
use blendesk_domain::history::{alias_closure, conversations, ConversationHistory, HistoryMessage};
use serde::Serialize;

/// At most this many addresses are one customer.
const MAX_ADDRESSES: usize = 20;
/// Messages read for one history.
const HISTORY_LIMIT: u32 = 500;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CustomerHistory {
    /// The customer's address first, then the aliases found.
    pub addresses: Vec<String>,
    pub conversations: Vec<ConversationHistory>,
}

impl Engine {
    fn team_address(&self, address: &str) -> bool {
        let domain = self.config.from_address().and_then(|a| a.split_once('@').map(|(_, d)| d.to_lowercase()));
        domain.is_some_and(|d| address.to_lowercase().ends_with(&format!("@{d}")))
            || self.our_mailbox().addresses.iter().any(|a| a.eq_ignore_ascii_case(address))
    }

    /// Every address known to be `customer`.
    pub fn customer_addresses(&self, customer: &str) -> Result<Vec<String>> {
        let start = customer.trim().to_lowercase();
        let mut addresses = alias_closure(&start, |a| self.store.customer_links(a).unwrap_or_default(), MAX_ADDRESSES);
        let mut learned = self.store.reply_to_links(&start)?;
        learned.extend(self.merged_senders(&start)?);
        for a in learned {
            if addresses.len() < MAX_ADDRESSES && !self.team_address(&a) && !addresses.contains(&a) {
                addresses.push(a);
            }
        }
        Ok(addresses)
    }

    /// Senders of emails an advisor merged into one conversation with `customer`'s (the
    /// `$bd_conv_` token they share, the same in every app): one hop, like Reply-To.
    fn merged_senders(&self, customer: &str) -> Result<Vec<String>> {
        let mut flag_lists = self.store.sender_flags_with(customer, CONV_PREFIX)?;
        flag_lists.extend(self.store.sender_flags_with(customer, TOKEN_BIT_PREFIX)?);
        let mut tokens: Vec<String> = flag_lists.iter().filter_map(|f| token_of(f)).collect();
        tokens.sort();
        tokens.dedup();
        tokens.truncate(10);
        // A token is a set of bit keywords: the store finds the emails carrying one of
        // them, and only those whose whole set spells one of the tokens count.
        let mut fragments: Vec<String> = tokens.iter().flat_map(|t| token_keywords(t)).collect();
        fragments.sort();
        fragments.dedup();
        let mut senders: Vec<String> = self
            .store
            .senders_and_flags_with(&fragments)?
            .into_iter()
            .filter(|(_, flags)| token_of(flags).is_some_and(|t| tokens.contains(&t)))
            .map(|(from, _)| from)
            .filter(|a| a != customer)
            .collect();
        senders.sort();
        senders.dedup();
        Ok(senders)
    }

    /// All conversations with `customer` (and aliases), newest activity first.
    pub fn customer_conversations(&self, customer: &str) -> Result<CustomerHistory> {
        let addresses = self.customer_addresses(customer)?;
        let rows = self.store.history_rows(&addresses, HISTORY_LIMIT)?;
        let messages: Vec<HistoryMessage> = rows
            .into_iter()
            .map(|r| HistoryMessage {
                outgoing: r.folder == self.config.imap.sent || self.team_address(&r.from_addr),
                id: r.id,
                message_id: r.message_id,
                in_reply_to: r.in_reply_to,
                references: r.references,
                subject: r.subject,
                from_addr: r.from_addr,
                date: r.internal_date,
                flags: r.flags,
                excerpt: crate::workspace::excerpt(&r.excerpt, 200),
            })
            .collect();
        Ok(CustomerHistory { addresses, conversations: conversations(&messages) })
    }

    /// Say that two addresses are the same customer (this app's database).
    pub fn link_customers(&self, a: &str, b: &str) -> Result<()> {
        for x in [a, b] {
            if !x.contains('@') || x.trim().len() > 320 {
                return Err(EngineError::Document(format!("{:?} is not an email address", x.chars().take(80).collect::<String>())));
            }
            if self.team_address(x) {
                return Err(EngineError::Document(format!("{x} is the team's own address, not a customer's")));
            }
        }
        Ok(self.store.link_customers(a, b, self.now_ms() / 1000)?)
    }

    pub fn unlink_customers(&self, a: &str, b: &str) -> Result<bool> {
        Ok(self.store.unlink_customers(a, b)?)
    }
}
