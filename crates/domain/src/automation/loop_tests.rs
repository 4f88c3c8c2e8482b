//! Loop simulations, pure: the header rules and the limiter together against the two
//! partners that made other help desks loop — a naive auto-responder that answers
//! everything, and another Blendesk team that acknowledges too.

use super::autoreply::{automatic_headers, automatic_message_id, decide, is_automatic_message_id};
use super::limiter::{AutoReplyLimiter, AutoReplyLimits};
use super::{Decision, InboundMail, OurMailbox};

const MINUTE: i64 = 60 * 1000;
const DAY: i64 = 24 * 60 * MINUTE;

/// One Blendesk team: its mailbox, decision and limiter.
struct Team {
    us: OurMailbox,
    limiter: AutoReplyLimiter,
    sent: u32,
}

impl Team {
    fn new(address: &str) -> Self {
        let us = OurMailbox {
            addresses: vec![address.into()],
            loop_marker: address.into(),
        };
        Team {
            us,
            limiter: AutoReplyLimiter::new(AutoReplyLimits::default()),
            sent: 0,
        }
    }

    fn address(&self) -> &str {
        &self.us.addresses[0]
    }

    /// Receives `mail`; returns our acknowledgement's headers if we send one.
    fn receive(
        &mut self,
        mail: &InboundMail,
        message_id: &str,
        conversation: &str,
        now: i64,
    ) -> Option<Vec<(String, String)>> {
        if decide(mail, &self.us, &is_automatic_message_id) != Decision::Acknowledge {
            return None;
        }
        let from = mail.from.as_deref()?;
        self.limiter
            .check_and_record(from, conversation, now)
            .ok()?;
        self.sent += 1;
        let id = automatic_message_id(&format!("{}", self.sent), "team.example");
        let mut headers: Vec<(String, String)> =
            automatic_headers(self.address(), Some(message_id), None, &mail.references)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
        headers.push(("From".into(), self.address().to_owned()));
        headers.push(("Message-ID".into(), format!("<{id}>")));
        Some(headers)
    }
}

fn plain_mail(from: &str, extra: Vec<(String, String)>) -> InboundMail {
    let mut headers = vec![("From".to_owned(), from.to_owned())];
    headers.extend(extra);
    InboundMail::from_headers(headers)
}

#[test]
fn a_naive_responder_gets_one_acknowledgement() {
    let mut team = Team::new("support@a.example");
    // It answers our acknowledgement, quoting its id: the header rule stops it at once.
    let first = plain_mail("info@naive.example", vec![]);
    let ack = team
        .receive(&first, "n0@naive.example", "c0", 0)
        .expect("the first mail is acknowledged");
    let ack_id = ack
        .iter()
        .find(|(k, _)| k == "Message-ID")
        .map(|(_, v)| v.clone())
        .expect("id");
    let answer = plain_mail("info@naive.example", vec![("In-Reply-To".into(), ack_id)]);
    assert_eq!(
        team.receive(&answer, "n1@naive.example", "c0", MINUTE),
        None
    );

    // A worse responder drops the threading headers and writes fresh mail every minute
    // for two days: the per-sender window allows one acknowledgement a day.
    for i in 1..(2 * 24 * 60) {
        let fresh = plain_mail("info@naive.example", vec![]);
        team.receive(
            &fresh,
            &format!("n{i}@naive.example"),
            &format!("c{i}"),
            i * MINUTE,
        );
    }
    assert_eq!(team.sent, 2, "one on day one, one on day two");
}

#[test]
fn two_blendesk_teams_stop_after_the_first_exchange() {
    let mut a = Team::new("support@a.example");
    let mut b = Team::new("help@b.example");
    // Team B writes to team A (a human at B, e.g. a supplier query).
    let query = plain_mail(b.address(), vec![]);
    let ack_from_a = a
        .receive(&query, "q1@b.example", "a-1", 0)
        .expect("A acknowledges a human");
    // A's acknowledgement lands in B's mailbox: B must not acknowledge it.
    let at_b = InboundMail::from_headers(ack_from_a);
    assert_eq!(b.receive(&at_b, "ack1@a.example", "b-1", MINUTE), None);
    assert_eq!((a.sent, b.sent), (1, 0));
}

#[test]
fn a_flood_of_distinct_senders_trips_the_breaker() {
    let mut team = Team::new("support@a.example");
    team.limiter = AutoReplyLimiter::new(AutoReplyLimits {
        breaker_max: 20,
        breaker_window_ms: 10 * MINUTE,
        ..Default::default()
    });
    for i in 0..100 {
        let mail = plain_mail(&format!("user{i}@spray.example"), vec![]);
        team.receive(
            &mail,
            &format!("s{i}@spray.example"),
            &format!("c{i}"),
            i * 1000,
        );
    }
    assert_eq!(team.sent, 20);
    assert!(team.limiter.tripped_since().is_some());
    // It stays tripped a day later until a supervisor resets it.
    let later = plain_mail("someone@new.example", vec![]);
    assert_eq!(team.receive(&later, "x@new.example", "cx", DAY), None);
    team.limiter.reset_breaker();
    assert!(team.receive(&later, "x@new.example", "cx", DAY).is_some());
}
