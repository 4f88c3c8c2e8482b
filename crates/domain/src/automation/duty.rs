//! Team-wide duties (the acknowledgement, the still-working note) are decided by bids in
//! a folder of their own, `Blendesk/Duties`, not by keywords on the email: each app that
//! wants a duty APPENDs a small bid message naming the duty and itself, then searches
//! the folder for the duty's bids; the bid with the lowest UID holds it. UIDs are handed
//! out in commit order by every IMAP server, so all apps read the same winner, on any
//! server, with no keyword per advisor: a queue folder then holds only the fixed "taken
//! care of" marks (`$bd_ack`, `$bd_late`), which the winner sets plainly afterwards.
//!
//! Why not a compare-and-swap on the email: Dovecot answers OK, without `[MODIFIED]`, to a
//! conditional STORE that would change nothing, so a keyword shared by every racer can
//! tell two apps they set it (10 % of six-way races); a name per holder made it sound
//! but grew every queue folder by two names per advisor (Cyrus keeps 100 at most).
//!
//! This module is the pure part: what a bid says, how it is found, who holds the duty.

use crate::advisor::AdvisorId;

/// The folder under the team prefix that holds the bids.
pub const DUTIES_FOLDER: &str = "Duties";

/// The header naming the duty a bid is for (`<kind.uidvalidity.uid.folder-hex>`).
pub const DUTY_HEADER: &str = "X-Blendesk-Duty";
/// The header naming the bidder and the bid's own random nonce (`<advisor> <nonce>`).
pub const BIDDER_HEADER: &str = "X-Blendesk-Bidder";

/// Bids kept as a record are removed after this many days (nobody bids again for a
/// duty that old: surveys go out within the hour of a resolution).
pub const BID_KEEP_DAYS: u32 = 2;

/// Which duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DutyKind {
    /// The acknowledgement of a new email.
    Ack,
    /// The still-working note on a breached conversation.
    Late,
    /// The satisfaction survey after a conversation is resolved. No mark on the email:
    /// the holder's bid stays as the record (`keeps_bid`).
    Survey,
    /// Filing a customer's survey answer out of the queue.
    FileAnswer,
}

impl DutyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DutyKind::Ack => "ack",
            DutyKind::Late => "late",
            DutyKind::Survey => "survey",
            DutyKind::FileAnswer => "file",
        }
    }

    /// Whether the holder's bid stays in the folder as the duty's record: for duties
    /// that set no mark on the email (a survey; filing an answer, which removes the
    /// email). Such bids go after `BID_KEEP_DAYS`.
    pub fn keeps_bid(self) -> bool {
        matches!(self, DutyKind::Survey | DutyKind::FileAnswer)
    }
}

/// One duty on one email: the message `uid` of `folder` under `uidvalidity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duty<'a> {
    pub kind: DutyKind,
    pub folder: &'a str,
    pub uidvalidity: u32,
    pub uid: u32,
}

impl Duty<'_> {
    /// The duty's name in a bid: angle brackets around it, so a substring search for one
    /// duty never matches another (UID 1 is not found in UID 12's name). The folder is
    /// spelled in hex: any folder name, one safe token.
    pub fn key(&self) -> String {
        let hex: String = self.folder.bytes().map(|b| format!("{b:02x}")).collect();
        format!("<{}.{}.{}.{hex}>", self.kind.as_str(), self.uidvalidity, self.uid)
    }

    /// The bid message: headers only matter; the body says what it is for whoever opens
    /// the folder in a mail client.
    pub fn bid(&self, bidder: &AdvisorId, nonce: &str, from: &str) -> Vec<u8> {
        format!(
            "From: Blendesk <{from}>\r\nSubject: duty {kind} {uid}\r\n{DUTY_HEADER}: {key}\r\n{BIDDER_HEADER}: {bidder} {nonce}\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
             A Blendesk app's bid for a team duty; the lowest UID holds it. Safe to delete after a day.\r\n",
            kind = self.kind.as_str(),
            uid = self.uid,
            key = self.key(),
            bidder = bidder.as_str(),
        )
        .into_bytes()
    }

    /// The IMAP search for this duty's bids.
    pub fn search(&self) -> String {
        format!("HEADER {DUTY_HEADER} \"{}\"", self.key())
    }
}

/// Who made a bid, read from its headers: `(advisor, nonce)`. `None` for anything that
/// is not a well-formed bid (a message someone else put in the folder).
pub fn bidder_of(headers: &[u8]) -> Option<(AdvisorId, String)> {
    let text = String::from_utf8_lossy(headers);
    let value = text.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim().eq_ignore_ascii_case(BIDDER_HEADER).then(|| value.trim().to_owned())
    })?;
    let (advisor, nonce) = value.split_once(' ')?;
    let advisor = AdvisorId::parse(advisor).ok()?;
    let nonce = nonce.trim();
    (!nonce.is_empty() && !nonce.contains(char::is_whitespace)).then(|| (advisor, nonce.to_owned()))
}

/// The bid that holds the duty, among its bids as the folder lists them: the lowest UID.
pub fn holder(bids: &[u32]) -> Option<u32> {
    bids.iter().copied().min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duty(uid: u32) -> Duty<'static> {
        Duty { kind: DutyKind::Ack, folder: "Billing Team/EU", uidvalidity: 7, uid }
    }

    #[test]
    fn a_duty_key_never_matches_another_duty_by_substring() {
        assert_eq!(duty(1).key(), "<ack.7.1.42696c6c696e67205465616d2f4555>");
        assert!(!duty(12).key().contains(&duty(1).key()));
        let late = Duty { kind: DutyKind::Late, ..duty(1) };
        assert_ne!(late.key(), duty(1).key());
        assert!(duty(1).search().starts_with("HEADER X-Blendesk-Duty \"<ack."));
    }

    #[test]
    fn a_bid_names_its_duty_and_bidder_and_reads_back() {
        let bob = AdvisorId::parse("bob").unwrap();
        let raw = duty(42).bid(&bob, "n0nce", "desk@shop.test");
        let text = String::from_utf8(raw.clone()).unwrap();
        assert!(text.contains(&format!("{DUTY_HEADER}: {}", duty(42).key())));
        assert_eq!(bidder_of(&raw), Some((bob, "n0nce".to_owned())));
    }

    #[test]
    fn anything_that_is_not_a_bid_has_no_bidder() {
        assert_eq!(bidder_of(b"Subject: hello\r\n\r\nbody"), None);
        assert_eq!(bidder_of(b"X-Blendesk-Bidder: bob\r\n"), None, "no nonce");
        assert_eq!(bidder_of(b"X-Blendesk-Bidder: not an id! n\r\n"), None);
        assert_eq!(bidder_of(b"X-Blendesk-Bidder:  \r\n"), None);
    }

    #[test]
    fn the_lowest_uid_holds_the_duty() {
        assert_eq!(holder(&[12, 9, 30]), Some(9));
        assert_eq!(holder(&[]), None);
    }
}
