//! Who did what, recorded without a server: each app writes its advisor's activity
//! (claims, hand-overs, replies, resolves, state changes, calls) to its own database
//! first, then appends it in batches to the team's mailbox, one folder per advisor
//! (`Blendesk/Events/<advisor>`), one message per batch with the events as JSON lines.
//! Every event has an id no other app mints, so readers keep each once however often a
//! batch is read; a batch keeps its Message-ID across a crash, so it is appended once.
//! This module is the format and the daily figures; the engine does the I/O.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The folder leaf under the team folders: `Blendesk/Events/<advisor>`.
pub const EVENTS_FOLDER: &str = "Events";
/// The header naming the events a batch message carries (`<count> events`).
pub const BATCH_HEADER: &str = "X-Blendesk-Events";
/// Events per batch message.
pub const MAX_BATCH: usize = 500;
/// A line longer than this is not an event (a batch is read line by line).
pub const MAX_LINE_BYTES: usize = 8 * 1024;

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActivityKind {
    /// The advisor's app won the claim on an email.
    Claimed {
        message_id: Option<String>,
        conversation: String,
        queue: String,
    },
    /// They released a conversation to the queue.
    Released {
        conversation: String,
    },
    /// Their app gave an email back during a long call.
    HandedBack {
        conversation: String,
    },
    /// A supervisor moved a conversation to `to`.
    Transferred {
        conversation: String,
        to: String,
    },
    /// A reply was queued, answering `message_id`; `handle_ms` is the time the advisor
    /// had the conversation open in front of them for it, calls and breaks left out
    /// (the window measures it; absent from the command line).
    Replied {
        message_id: Option<String>,
        conversation: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        handle_ms: Option<i64>,
        /// Whether the advisor started from a team template, a knowledge article or a
        /// similar email's answer (the window knows; absent from the command line).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assisted: Option<bool>,
    },
    /// A conversation closed without a reply.
    Resolved {
        message_id: Option<String>,
    },
    /// The advisor's state changed (available, on_call, wrap_up, away, offline).
    State {
        state: String,
    },
    /// An advisor said this number is this customer's (dialled from their conversation,
    /// or linked by hand): the whole team's history and first-contact resolution join
    /// the two.
    Linked {
        address: String,
        number: String,
    },
    /// An advisor tagged a conversation (its key), or took a tag off: the email type
    /// (queue × tag) scorecards and analytics use (`tags.rs`; never an IMAP keyword).
    Tagged {
        conversation: String,
        tag: String,
    },
    Untagged {
        conversation: String,
        tag: String,
    },
    /// A call ended: what the softphone said of it, its talk time, and the advisor's
    /// disposition (none when wrap-up ended without one).
    Call {
        call_id: Option<String>,
        number: Option<String>,
        direction: Option<String>,
        started_ms: i64,
        /// Connected time, hold left out.
        talk_ms: i64,
        /// Time the customer spent on hold (absent: none, or an earlier version).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hold_ms: Option<i64>,
        disposition: Option<Disposition>,
    },
}

impl ActivityKind {
    /// The kind's name as its JSON says it (`"kind": "resolved"`).
    pub fn name(&self) -> &'static str {
        match self {
            ActivityKind::Claimed { .. } => "claimed",
            ActivityKind::Released { .. } => "released",
            ActivityKind::HandedBack { .. } => "handed_back",
            ActivityKind::Transferred { .. } => "transferred",
            ActivityKind::Replied { .. } => "replied",
            ActivityKind::Resolved { .. } => "resolved",
            ActivityKind::State { .. } => "state",
            ActivityKind::Linked { .. } => "linked",
            ActivityKind::Call { .. } => "call",
            ActivityKind::Tagged { .. } => "tagged",
            ActivityKind::Untagged { .. } => "untagged",
        }
    }
}

/// How a call ended, as the advisor says during wrap-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// The customer's issue is solved on this call.
    Resolved,
    /// Something is still to be done (a callback, an email).
    FollowUp,
    /// Handed to another person or team.
    Transfer,
}

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Activity {
    /// `<advisor>-<install>-<n>`: unique to the app that recorded it.
    pub id: String,
    pub advisor: String,
    pub at_ms: i64,
    #[serde(flatten)]
    pub kind: ActivityKind,
}

/// An event id: the advisor, this installation's random id (a reinstalled app starts
/// its counter again), and a number this installation never reuses.
pub fn event_id(advisor: &str, install: &str, n: i64) -> String {
    format!("{advisor}-{install}-{n}")
}

/// A batch's Message-ID: the same batch of the same installation always gets the same
/// one, which is how a batch appended just before a crash is not appended again.
pub fn batch_message_id(advisor: &str, install: &str, batch: i64) -> String {
    format!("<events-{advisor}-{install}-{batch}@blendesk.invalid>")
}

/// A batch's text: one JSON object per line.
pub fn encode_batch(events: &[Activity]) -> String {
    let mut out = String::new();
    for e in events {
        if let Ok(line) = serde_json::to_string(e) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// A batch's events and, for each line that is not one, why (never fatal: the mailbox
/// is shared, and one bad line must not hide the rest).
pub fn decode_batch(text: &str) -> (Vec<Activity>, Vec<String>) {
    let (mut events, mut problems) = (Vec::new(), Vec::new());
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        if line.len() > MAX_LINE_BYTES {
            problems.push(format!("line {}: {} bytes, more than {MAX_LINE_BYTES}", n + 1, line.len()));
            continue;
        }
        match serde_json::from_str::<Activity>(line.trim()) {
            Ok(e) if !e.id.is_empty() && !e.advisor.is_empty() => events.push(e),
            Ok(_) => problems.push(format!("line {}: no id or advisor", n + 1)),
            Err(e) => problems.push(format!("line {}: {e}", n + 1)),
        }
    }
    (events, problems)
}

/// Whether an event read from advisor `folder_owner`'s folder may stand: it names that
/// advisor, and its id is theirs (`<advisor>-…`). The folders' access rights say who may
/// write where; this keeps anyone who may write one folder from speaking for another
/// advisor, or from hiding a colleague's event behind a copied id.
pub fn belongs_to(event: &Activity, folder_owner: &str) -> bool {
    event.advisor == folder_owner && event.id.strip_prefix(folder_owner).is_some_and(|rest| rest.starts_with('-'))
}

/// One advisor's day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct DayFigures {
    pub claimed: u32,
    pub replied: u32,
    pub resolved: u32,
    pub released: u32,
    pub handed_back: u32,
    pub transferred: u32,
    /// Calls ended, their talk time and the time customers spent on hold.
    pub calls: u32,
    pub talk_ms: i64,
    pub hold_ms: i64,
    /// Replies whose handle time the window measured, and that time in total.
    pub timed_replies: u32,
    pub handle_ms: i64,
}

impl DayFigures {
    /// Another day's figures added in (a week from its days).
    pub fn add(&mut self, o: &DayFigures) {
        self.claimed += o.claimed;
        self.replied += o.replied;
        self.resolved += o.resolved;
        self.released += o.released;
        self.handed_back += o.handed_back;
        self.transferred += o.transferred;
        self.calls += o.calls;
        self.talk_ms += o.talk_ms;
        self.hold_ms += o.hold_ms;
        self.timed_replies += o.timed_replies;
        self.handle_ms += o.handle_ms;
    }

    /// The mean handle time per timed reply, if any reply was timed.
    pub fn mean_handle_ms(&self) -> Option<i64> {
        (self.timed_replies > 0).then(|| self.handle_ms / i64::from(self.timed_replies))
    }

    /// Count one event in.
    pub fn count(&mut self, kind: &ActivityKind) {
        match kind {
            ActivityKind::Claimed { .. } => self.claimed += 1,
            ActivityKind::Replied { handle_ms, .. } => {
                self.replied += 1;
                if let Some(ms) = handle_ms.filter(|ms| *ms >= 0) {
                    self.timed_replies += 1;
                    self.handle_ms += ms;
                }
            }
            ActivityKind::Resolved { .. } => self.resolved += 1,
            ActivityKind::Released { .. } => self.released += 1,
            ActivityKind::HandedBack { .. } => self.handed_back += 1,
            ActivityKind::Transferred { .. } => self.transferred += 1,
            ActivityKind::Call { talk_ms, hold_ms, .. } => {
                self.calls += 1;
                self.talk_ms += talk_ms.max(&0);
                self.hold_ms += hold_ms.unwrap_or(0).max(0);
            }
            ActivityKind::State { .. } | ActivityKind::Linked { .. } | ActivityKind::Tagged { .. } | ActivityKind::Untagged { .. } => {}
        }
    }
}

/// The UTC day (`YYYY-MM-DD`) an event belongs to: daily figures and roll-ups use it.
pub fn day_of(at_ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(at_ms) {
        Some(d) => d.format("%Y-%m-%d").to_string(),
        // Beyond what a date can say: before or after every day, so a range stays whole.
        None if at_ms > 0 => "9999-12-31".into(),
        None => "0000-01-01".into(),
    }
}

/// Daily figures per (day `YYYY-MM-DD` in UTC, advisor), from events each counted once
/// (by id), in a fixed order: every app that holds the same events computes the same
/// figures. (The store keeps the same sums as daily roll-ups as events arrive.)
pub fn daily(events: &[Activity]) -> BTreeMap<(String, String), DayFigures> {
    let mut seen = std::collections::HashSet::new();
    let mut out: BTreeMap<(String, String), DayFigures> = BTreeMap::new();
    for e in events.iter().filter(|e| seen.insert(e.id.as_str())) {
        out.entry((day_of(e.at_ms), e.advisor.clone())).or_default().count(&e.kind);
    }
    out
}

/// How one advisor spent `[from_ms, to_ms)`, from their events (any order; others'
/// ignored): milliseconds per state (`available`, `on_call`, `wrap_up`, `away`,
/// `offline`), the state before their first event in the window being the one their
/// last earlier event set (offline when none), and the email handle time their
/// replies in the window carry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TimeUse {
    pub state_ms: BTreeMap<String, i64>,
    pub email_handle_ms: i64,
}

pub fn time_use(events: &[Activity], advisor: &str, from_ms: i64, to_ms: i64) -> TimeUse {
    let mut mine: Vec<&Activity> = events.iter().filter(|e| e.advisor == advisor).collect();
    mine.sort_by_key(|e| e.at_ms);
    let mut out = TimeUse::default();
    let mut state = "offline".to_owned();
    let mut since = from_ms;
    for e in mine {
        match &e.kind {
            ActivityKind::State { state: next } => {
                let at = e.at_ms.clamp(from_ms, to_ms);
                if at > since {
                    *out.state_ms.entry(state.clone()).or_default() += at - since;
                }
                since = since.max(at);
                state = next.clone();
            }
            ActivityKind::Replied { handle_ms: Some(ms), .. } if (from_ms..to_ms).contains(&e.at_ms) => out.email_handle_ms += ms,
            _ => {}
        }
    }
    if to_ms > since {
        *out.state_ms.entry(state).or_default() += to_ms - since;
    }
    out
}

/// Occupancy: of the time staffed (available, on a call, in wrap-up), the share spent
/// working — on calls, in wrap-up, and handling email (at most the time available).
/// `None` when the advisor was never staffed. In percent.
pub fn occupancy(t: &TimeUse) -> Option<f64> {
    let ms = |s: &str| t.state_ms.get(s).copied().unwrap_or(0);
    let staffed = ms("available") + ms("on_call") + ms("wrap_up");
    let busy = ms("on_call") + ms("wrap_up") + t.email_handle_ms.min(ms("available"));
    (staffed > 0).then(|| 100.0 * busy as f64 / staffed as f64)
}

/// Field by field, the median of several advisors' days (the lower middle of an even
/// count): what "the team" means beside an advisor's own numbers, without showing any
/// colleague's.
pub fn median_figures(days: &[DayFigures]) -> DayFigures {
    fn median<T: Copy + Ord + Default>(mut v: Vec<T>) -> T {
        v.sort_unstable();
        if v.is_empty() {
            T::default()
        } else {
            v[(v.len() - 1) / 2]
        }
    }
    let field = |f: fn(&DayFigures) -> u32| median(days.iter().map(f).collect());
    DayFigures {
        claimed: field(|d| d.claimed),
        replied: field(|d| d.replied),
        resolved: field(|d| d.resolved),
        released: field(|d| d.released),
        handed_back: field(|d| d.handed_back),
        transferred: field(|d| d.transferred),
        calls: field(|d| d.calls),
        talk_ms: median(days.iter().map(|d| d.talk_ms).collect()),
        hold_ms: median(days.iter().map(|d| d.hold_ms).collect()),
        timed_replies: field(|d| d.timed_replies),
        handle_ms: median(days.iter().map(|d| d.handle_ms).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_week_adds_its_days_and_means_the_timed_replies() {
        let day =
            DayFigures { claimed: 2, replied: 3, timed_replies: 2, handle_ms: 60_000, calls: 1, talk_ms: 90_000, ..DayFigures::default() };
        let mut week = DayFigures::default();
        assert_eq!(week.mean_handle_ms(), None);
        week.add(&day);
        week.add(&day);
        assert_eq!((week.claimed, week.replied, week.calls, week.talk_ms), (4, 6, 2, 180_000));
        assert_eq!(week.mean_handle_ms(), Some(30_000));
    }

    /// One event of every kind.
    fn every_kind() -> Vec<ActivityKind> {
        vec![
            ActivityKind::Claimed { message_id: None, conversation: "c".into(), queue: "INBOX".into() },
            ActivityKind::Released { conversation: "c".into() },
            ActivityKind::HandedBack { conversation: "c".into() },
            ActivityKind::Transferred { conversation: "c".into(), to: "bob".into() },
            ActivityKind::Replied { message_id: None, conversation: "c".into(), handle_ms: None, assisted: None },
            ActivityKind::Resolved { message_id: None },
            ActivityKind::State { state: "away".into() },
            ActivityKind::Linked { address: "a@b".into(), number: "+1".into() },
            ActivityKind::Tagged { conversation: "c".into(), tag: "refund".into() },
            ActivityKind::Untagged { conversation: "c".into(), tag: "refund".into() },
            ActivityKind::Call {
                call_id: None,
                number: None,
                direction: None,
                started_ms: 0,
                talk_ms: 0,
                hold_ms: None,
                disposition: None,
            },
        ]
    }

    #[test]
    fn each_kind_is_named_as_its_json_names_it() {
        for kind in every_kind() {
            let json = serde_json::to_value(&kind).unwrap();
            assert_eq!(json["kind"].as_str(), Some(kind.name()), "{json}");
        }
    }

    fn ev(id: &str, advisor: &str, at_ms: i64, kind: ActivityKind) -> Activity {
        Activity { id: id.into(), advisor: advisor.into(), at_ms, kind }
    }

    #[test]
    fn a_batch_reads_back_as_written_and_bad_lines_are_reported_not_fatal() {
        let events = vec![
            ev(
                "alice-x-1",
                "alice",
                1_000,
                ActivityKind::Claimed { message_id: Some("<a@b>".into()), conversation: "c@d".into(), queue: "INBOX".into() },
            ),
            ev("alice-x-2", "alice", 2_000, ActivityKind::State { state: "on_call".into() }),
        ];
        let text = encode_batch(&events);
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().next().unwrap().contains(r#""kind":"claimed""#));
        let hostile = format!(
            "{text}not json\n{{\"id\":\"\",\"advisor\":\"x\",\"at_ms\":1,\"kind\":\"state\",\"state\":\"a\"}}\n{}\n",
            "x".repeat(MAX_LINE_BYTES + 1)
        );
        let (back, problems) = decode_batch(&hostile);
        assert_eq!(back, events);
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

    #[test]
    fn daily_figures_count_each_event_once_per_day_and_advisor() {
        let day = 86_400_000;
        let claimed = || ActivityKind::Claimed { message_id: None, conversation: "c".into(), queue: "INBOX".into() };
        let events = vec![
            ev("a-1", "alice", 10, claimed()),
            ev("a-1", "alice", 10, claimed()), // the same event read twice
            ev(
                "a-2",
                "alice",
                20,
                ActivityKind::Replied { message_id: None, conversation: "c".into(), handle_ms: Some(90_000), assisted: None },
            ),
            ev(
                "a-3",
                "alice",
                30,
                ActivityKind::Call {
                    call_id: None,
                    number: Some("+861380013800".into()),
                    direction: Some("inbound".into()),
                    started_ms: 25,
                    talk_ms: 5,
                    hold_ms: None,
                    disposition: Some(Disposition::Resolved),
                },
            ),
            ev("a-4", "alice", 40, ActivityKind::State { state: "available".into() }),
            ev("b-1", "bob", day + 5, claimed()),
        ];
        let d = daily(&events);
        assert_eq!(d.len(), 2);
        let alice = &d[&("1970-01-01".to_owned(), "alice".to_owned())];
        assert_eq!((alice.claimed, alice.replied, alice.calls, alice.talk_ms), (1, 1, 1, 5));
        assert_eq!((alice.timed_replies, alice.handle_ms), (1, 90_000));
        assert_eq!(d[&("1970-01-02".to_owned(), "bob".to_owned())].claimed, 1);
        let mut shuffled = events.clone();
        shuffled.reverse();
        assert_eq!(daily(&shuffled), d, "the order events were read in does not matter");
    }

    #[test]
    fn days_are_utc_dates_and_the_ends_of_time_stay_in_order() {
        assert_eq!(day_of(0), "1970-01-01");
        assert_eq!(day_of(1_796_342_400_000), "2026-12-04");
        assert_eq!(day_of(i64::MAX), "9999-12-31");
        assert_eq!(day_of(i64::MIN), "0000-01-01");
    }

    #[test]
    fn the_team_median_is_taken_field_by_field() {
        let day = |claimed, replied, talk_ms| DayFigures { claimed, replied, talk_ms, ..DayFigures::default() };
        let m = median_figures(&[day(9, 1, 50), day(1, 7, 10), day(5, 3, 30), day(7, 5, 20)]);
        assert_eq!((m.claimed, m.replied, m.talk_ms), (5, 3, 20));
        assert_eq!(median_figures(&[]), DayFigures::default());
    }

    #[test]
    fn an_event_belongs_to_the_folder_of_the_advisor_it_names() {
        let e = |id: &str, advisor: &str| ev(id, advisor, 0, ActivityKind::State { state: "away".into() });
        assert!(belongs_to(&e("alice-x-1", "alice"), "alice"));
        assert!(!belongs_to(&e("alice-x-1", "alice"), "bob"), "written in another's folder");
        assert!(!belongs_to(&e("bob-x-1", "alice"), "alice"), "a colleague's id");
        assert!(!belongs_to(&e("alicex-1", "alice"), "alice"));
    }

    #[test]
    fn ids_and_batch_names_are_stable() {
        assert_eq!(event_id("alice", "9f3a", 7), "alice-9f3a-7");
        assert_eq!(batch_message_id("alice", "9f3a", 2), batch_message_id("alice", "9f3a", 2));
        assert_ne!(batch_message_id("alice", "9f3a", 2), batch_message_id("alice", "9f3b", 2));
    }
}
