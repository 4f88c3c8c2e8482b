//! Contact-centre metrics, defined once (issue: analytics): what a conversation's events
//! say about first and next response times, resolution, reopens, SLA attainment and
//! one-touch resolution, in calendar time and in business time on the queue's calendar
//! (the same `business_minutes_between` the SLA clocks use), and how a set of values is
//! summarised (mean beside median and p90: averages alone are pulled by outliers).
//!
//! Automatic mail (acknowledgements, still-working notes, auto-replies) is never a
//! response and never a customer contact: callers mark it `Automatic` and it is skipped.
//! Pure: the events and the calendar are passed in.

use crate::automation::sla::{business_minutes_between, BusinessCalendar};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One thing that happened in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A message from the customer (a contact, or a chaser).
    Customer,
    /// Our reply, written by an advisor.
    Reply,
    /// Mail we sent by rule (acknowledgement, still-working note): not a response.
    Automatic,
    /// Closed without (another) reply: `$Resolved` set.
    Resolved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub at_ms: i64,
    pub kind: EventKind,
}

/// A span measured both ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    pub calendar_ms: i64,
    pub business_minutes: i64,
}

/// What one conversation's events say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConversationMetrics {
    /// From the first customer message to our first reply.
    pub first_response: Option<Span>,
    /// From each later customer message (after a reply) to the reply that answered it.
    pub next_responses: Vec<Span>,
    /// From the first customer message to the first resolution (a reply counts when no
    /// `Resolved` follows it: then the last reply of the conversation).
    pub resolution: Option<Span>,
    /// From the first customer message to the last resolution, when the conversation
    /// ends resolved (no customer message after it): done for good, reopens included.
    pub full_resolution: Option<Span>,
    /// Customer messages after a resolution, within the reopen window: the conversation
    /// was not done.
    pub reopens: u32,
    /// Resolved with a single reply and never reopened.
    pub one_touch: bool,
    /// Whether the first response met `first_response_minutes` of business time;
    /// `None` while unanswered and not yet late.
    pub first_response_in_sla: Option<bool>,
    /// For each next response, whether it met `next_response_minutes` of business time.
    pub next_responses_in_sla: Vec<bool>,
}

/// The reply-time targets a conversation is judged by (business minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    pub first_response_minutes: i64,
    pub next_response_minutes: i64,
}

fn span(a_ms: i64, b_ms: i64, calendar: &BusinessCalendar) -> Span {
    let to = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    Span { calendar_ms: (b_ms - a_ms).max(0), business_minutes: business_minutes_between(to(a_ms), to(b_ms), calendar).max(0) }
}

/// The metrics of one conversation. `events` in any order; automatic mail ignored.
/// `now_ms` decides whether an unanswered first message is already late.
pub fn conversation_metrics(
    events: &[Event],
    calendar: &BusinessCalendar,
    targets: Targets,
    reopen_window_ms: i64,
    now_ms: i64,
) -> ConversationMetrics {
    let first_response_minutes = targets.first_response_minutes;
    let mut evs: Vec<Event> = events.iter().copied().filter(|e| e.kind != EventKind::Automatic).collect();
    evs.sort_by_key(|e| (e.at_ms, e.kind != EventKind::Customer));
    let first_customer = evs.iter().find(|e| e.kind == EventKind::Customer).map(|e| e.at_ms);
    let replies: Vec<i64> = evs.iter().filter(|e| e.kind == EventKind::Reply).map(|e| e.at_ms).collect();
    let first_response =
        first_customer.zip(replies.iter().copied().find(|r| Some(*r) >= first_customer)).map(|(c, r)| span(c, r, calendar));

    // Next responses: a customer message after our reply opens a wait the next reply ends.
    let mut next_responses = Vec::new();
    let mut waiting_since: Option<i64> = None;
    let mut replied_once = false;
    for e in &evs {
        match e.kind {
            EventKind::Customer if replied_once && waiting_since.is_none() => waiting_since = Some(e.at_ms),
            EventKind::Reply => {
                if let Some(since) = waiting_since.take() {
                    next_responses.push(span(since, e.at_ms, calendar));
                }
                replied_once = true;
            }
            _ => {}
        }
    }

    // Resolution and reopens.
    let mut resolved_at: Option<i64> = None;
    let mut reopens = 0;
    let mut last_close: Option<i64> = None;
    for e in &evs {
        match e.kind {
            EventKind::Resolved => {
                resolved_at.get_or_insert(e.at_ms);
                last_close = Some(e.at_ms);
            }
            EventKind::Customer => {
                if last_close.is_some_and(|c| e.at_ms > c && e.at_ms - c <= reopen_window_ms) {
                    reopens += 1;
                }
                last_close = None;
            }
            _ => {}
        }
    }
    let resolved_by_reply =
        if resolved_at.is_none() && evs.last().is_some_and(|e| e.kind == EventKind::Reply) { replies.last().copied() } else { None };
    let resolution = first_customer.zip(resolved_at.or(resolved_by_reply)).map(|(c, r)| span(c, r, calendar));
    // Done for good: the last close (a `Resolved`, or the final reply) with no customer
    // message after it.
    let last_customer = evs.iter().rev().find(|e| e.kind == EventKind::Customer).map(|e| e.at_ms);
    let final_close = evs
        .iter()
        .rev()
        .find(|e| e.kind == EventKind::Resolved)
        .map(|e| e.at_ms)
        .or(resolved_by_reply)
        .filter(|c| last_customer.is_none_or(|l| *c >= l));
    let full_resolution = first_customer.zip(final_close).map(|(c, r)| span(c, r, calendar));
    let one_touch = resolution.is_some() && replies.len() == 1 && reopens == 0;

    let first_response_in_sla = match (first_customer, first_response) {
        (_, Some(s)) => Some(s.business_minutes <= first_response_minutes),
        (Some(c), None) => (span(c, now_ms, calendar).business_minutes > first_response_minutes).then_some(false),
        (None, None) => None,
    };
    let next_responses_in_sla = next_responses.iter().map(|s| s.business_minutes <= targets.next_response_minutes).collect();
    ConversationMetrics {
        first_response,
        next_responses,
        resolution,
        full_resolution,
        reopens,
        one_touch,
        first_response_in_sla,
        next_responses_in_sla,
    }
}

/// A set of values summarised: mean beside median and 90th percentile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub count: usize,
    pub mean: f64,
    pub median: i64,
    pub p90: i64,
}

/// `None` for no values. Percentiles are nearest-rank (a value that occurred).
pub fn summarize(values: &[i64]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let rank = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    Some(Summary { count: v.len(), mean: v.iter().map(|x| *x as f64).sum::<f64>() / v.len() as f64, median: rank(0.5), p90: rank(0.9) })
}

/// The team's figures over many conversations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub conversations: usize,
    pub first_response_minutes: Option<Summary>,
    pub first_response_business_minutes: Option<Summary>,
    pub next_response_minutes: Option<Summary>,
    pub next_response_business_minutes: Option<Summary>,
    pub resolution_minutes: Option<Summary>,
    pub resolution_business_minutes: Option<Summary>,
    pub full_resolution_minutes: Option<Summary>,
    pub full_resolution_business_minutes: Option<Summary>,
    /// Share of first responses (answered or already late) within the SLA, in percent.
    pub sla_attainment_pct: Option<f64>,
    /// Share of next responses within the next-response SLA, in percent.
    pub next_response_sla_attainment_pct: Option<f64>,
    pub one_touch_pct: Option<f64>,
    pub reopened: usize,
    /// Contacts (new email conversations and inbound calls) whose first-contact
    /// resolution is known, and the share resolved on first contact, in percent
    /// (`first_contact_resolution`; the caller fills these in).
    pub fcr_contacts: usize,
    pub fcr_pct: Option<f64>,
    /// First responses (calendar time) in 0–1 h, 1–4 h, 4–8 h, 8–24 h and 24 h+:
    /// the distribution behind the median.
    pub first_response_buckets: [usize; 5],
}

/// Upper bounds (exclusive, minutes) of the first-response buckets; the last is open.
pub const FIRST_RESPONSE_BUCKETS_MINUTES: [i64; 4] = [60, 240, 480, 1440];

/// Which first-response bucket `minutes` falls in (0 = under an hour … 4 = a day or more).
pub fn first_response_bucket(minutes: i64) -> usize {
    FIRST_RESPONSE_BUCKETS_MINUTES.iter().position(|&upper| minutes < upper).unwrap_or(FIRST_RESPONSE_BUCKETS_MINUTES.len())
}

pub fn report(conversations: &[ConversationMetrics]) -> Report {
    let minutes = |ms: i64| ms / 60_000;
    let first: Vec<i64> = conversations.iter().filter_map(|c| c.first_response.map(|s| minutes(s.calendar_ms))).collect();
    let first_b: Vec<i64> = conversations.iter().filter_map(|c| c.first_response.map(|s| s.business_minutes)).collect();
    let resolution: Vec<i64> = conversations.iter().filter_map(|c| c.resolution.map(|s| s.business_minutes)).collect();
    let calendar_of = |f: fn(&ConversationMetrics) -> Option<Span>| -> Vec<i64> {
        conversations.iter().filter_map(|c| f(c).map(|s| minutes(s.calendar_ms))).collect()
    };
    let business_of = |f: fn(&ConversationMetrics) -> Option<Span>| -> Vec<i64> {
        conversations.iter().filter_map(|c| f(c).map(|s| s.business_minutes)).collect()
    };
    let next: Vec<Span> = conversations.iter().flat_map(|c| c.next_responses.iter().copied()).collect();
    let next_judged: Vec<bool> = conversations.iter().flat_map(|c| c.next_responses_in_sla.iter().copied()).collect();
    let judged: Vec<bool> = conversations.iter().filter_map(|c| c.first_response_in_sla).collect();
    let resolved = conversations.iter().filter(|c| c.resolution.is_some()).count();
    let pct = |n: usize, of: usize| (of > 0).then(|| n as f64 * 100.0 / of as f64);
    Report {
        conversations: conversations.len(),
        first_response_minutes: summarize(&first),
        first_response_business_minutes: summarize(&first_b),
        next_response_minutes: summarize(&next.iter().map(|s| minutes(s.calendar_ms)).collect::<Vec<_>>()),
        next_response_business_minutes: summarize(&next.iter().map(|s| s.business_minutes).collect::<Vec<_>>()),
        resolution_minutes: summarize(&calendar_of(|c| c.resolution)),
        resolution_business_minutes: summarize(&resolution),
        full_resolution_minutes: summarize(&calendar_of(|c| c.full_resolution)),
        full_resolution_business_minutes: summarize(&business_of(|c| c.full_resolution)),
        sla_attainment_pct: pct(judged.iter().filter(|m| **m).count(), judged.len()),
        next_response_sla_attainment_pct: pct(next_judged.iter().filter(|m| **m).count(), next_judged.len()),
        one_touch_pct: pct(conversations.iter().filter(|c| c.one_touch).count(), resolved),
        reopened: conversations.iter().filter(|c| c.reopens > 0).count(),
        fcr_contacts: 0,
        fcr_pct: None,
        first_response_buckets: first.iter().fold([0; 5], |mut b, m| {
            b[first_response_bucket(*m)] += 1;
            b
        }),
    }
}

/// A customer contact for first-contact resolution: a new email conversation or an
/// inbound call. `customer` is one key for every address and number known to be the
/// same customer (`customer_keys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub customer: String,
    pub at_ms: i64,
    /// Resolved on this contact: the conversation closed, or the call's disposition.
    pub resolved: bool,
}

/// Cross-channel first-contact resolution, per contact: resolved on that contact and no
/// new contact from the same customer, on any channel, within `window_ms` after it.
/// `None` while the window is still open at `now_ms` (not yet known).
pub fn first_contact_resolution(contacts: &[Contact], window_ms: i64, now_ms: i64) -> Vec<Option<bool>> {
    contacts
        .iter()
        .map(|c| {
            let again = contacts.iter().any(|o| o.customer == c.customer && o.at_ms > c.at_ms && o.at_ms <= c.at_ms + window_ms);
            if !c.resolved || again {
                Some(false)
            } else if now_ms <= c.at_ms + window_ms {
                None
            } else {
                Some(true)
            }
        })
        .collect()
}

/// One key per customer from pairs of identities known to be the same customer (an
/// address and its alias, an address and a phone number): each identity maps to the
/// smallest identity of its group, so every app computes the same keys.
pub fn customer_keys(links: &[(String, String)]) -> std::collections::HashMap<String, String> {
    use std::collections::HashMap;
    let mut parent: HashMap<String, String> = HashMap::new();
    fn root(parent: &mut HashMap<String, String>, x: &str) -> String {
        let mut r = x.to_owned();
        while let Some(p) = parent.get(&r).filter(|p| **p != r) {
            r = p.clone();
        }
        r
    }
    for (a, b) in links {
        parent.entry(a.clone()).or_insert_with(|| a.clone());
        parent.entry(b.clone()).or_insert_with(|| b.clone());
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            let (small, big) = if ra < rb { (ra, rb) } else { (rb, ra) };
            parent.insert(big, small);
        }
    }
    let ids: Vec<String> = parent.keys().cloned().collect();
    ids.into_iter().map(|id| (id.clone(), root(&mut parent, &id))).collect()
}

/// The end (exclusive, unix ms, UTC) of the day `date` names (YYYY-MM-DD): the "until"
/// of a day typed on the command line or picked in "what if".
pub fn day_end_ms(date: &str) -> Result<i64, String> {
    let day = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|e| format!("day {date:?}: {e} (YYYY-MM-DD)"))?;
    Ok(day.and_hms_opt(0, 0, 0).map_or(0, |d| d.and_utc().timestamp_millis()) + 86_400_000)
}

/// How a report is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    /// ISO weeks, Monday first: `2026-W49`.
    Week,
    Month,
    Queue,
    /// The advisor who owns the conversation.
    Advisor,
}

/// The period (UTC) a moment falls in: `2026-12-04`, `2026-W49`, `2026-12`. `Queue`
/// and `Advisor` have no time: the day is given.
pub fn period_of(at_ms: i64, period: Period) -> String {
    let Some(t) = DateTime::<Utc>::from_timestamp_millis(at_ms) else { return String::new() };
    match period {
        Period::Week => {
            let w = chrono::Datelike::iso_week(&t);
            format!("{}-W{:02}", w.year(), w.week())
        }
        Period::Month => t.format("%Y-%m").to_string(),
        Period::Day | Period::Queue | Period::Advisor => t.format("%Y-%m-%d").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Targets = Targets { first_response_minutes: 240, next_response_minutes: 240 };
    use crate::automation::ack::default_calendar;

    const MIN: i64 = 60_000;

    #[test]
    fn first_responses_fall_in_hour_buckets() {
        assert_eq!([0, 59, 60, 239, 240, 479, 480, 1439, 1440, 10_000].map(first_response_bucket), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    }

    #[test]
    fn a_typed_day_ends_at_the_next_midnight() {
        assert_eq!(day_end_ms("2026-12-04"), Ok(1_796_342_400_000 + 86_400_000));
        assert!(day_end_ms("30/11/2026").unwrap_err().contains("YYYY-MM-DD"));
    }

    #[test]
    fn periods_are_utc_days_iso_weeks_and_months() {
        let t = 1_796_342_400_000 + 3_600_000; // 2026-12-04T01:00Z, a Friday
        assert_eq!(period_of(t, Period::Day), "2026-12-04");
        assert_eq!(period_of(t, Period::Week), "2026-W49");
        assert_eq!(period_of(t, Period::Month), "2026-12");
        // 2027-01-01 is in ISO week 53 of 2026.
        assert_eq!(period_of(1_798_761_600_000, Period::Week), "2026-W53");
    }

    #[test]
    fn a_customer_who_emails_then_calls_within_the_window_fails_first_contact_resolution() {
        const DAY: i64 = 86_400_000;
        let links =
            [("ana@example.com".to_owned(), "+8613800138000".to_owned()), ("ana.li@work.example".to_owned(), "ana@example.com".to_owned())];
        let keys = customer_keys(&links);
        assert_eq!(keys["+8613800138000"], keys["ana.li@work.example"], "one customer, three identities");
        let key = |id: &str| keys.get(id).cloned().unwrap_or_else(|| id.to_owned());
        let contacts = [
            // Ana emails (resolved), then calls three days later from her phone.
            Contact { customer: key("ana@example.com"), at_ms: 0, resolved: true },
            Contact { customer: key("+8613800138000"), at_ms: 3 * DAY, resolved: true },
            // Ben emails once, resolved, and never comes back.
            Contact { customer: key("ben@example.com"), at_ms: DAY, resolved: true },
            // Cleo's email is not resolved.
            Contact { customer: key("cleo@example.com"), at_ms: DAY, resolved: false },
            // Dan writes again after eight days: a new contact, not a failure.
            Contact { customer: key("dan@example.com"), at_ms: 0, resolved: true },
            Contact { customer: key("dan@example.com"), at_ms: 8 * DAY, resolved: true },
        ];
        let fcr = first_contact_resolution(&contacts, 7 * DAY, 20 * DAY);
        assert_eq!(fcr, [Some(false), Some(true), Some(true), Some(false), Some(true), Some(true)]);
        // Before the week is over, a resolved contact is not yet known to hold.
        assert_eq!(first_contact_resolution(&contacts[2..3], 7 * DAY, 2 * DAY), [None]);
    }

    fn at(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    fn ev(s: &str, kind: EventKind) -> Event {
        Event { at_ms: at(s), kind }
    }

    use EventKind::*;

    #[test]
    fn first_response_counts_business_time_and_skips_automatic_mail() {
        // Friday 17:30 UTC, acknowledged at once, answered Monday 09:45: 30 + 45 business
        // minutes on Mon–Fri 09–18, two and a half days of calendar time.
        let events = [ev("2026-11-27T17:30:00Z", Customer), ev("2026-11-27T17:30:05Z", Automatic), ev("2026-11-30T09:45:00Z", Reply)];
        let m = conversation_metrics(&events, &default_calendar(), T, 7 * 24 * 60 * MIN, at("2026-11-30T12:00:00Z"));
        let first = m.first_response.unwrap();
        assert_eq!(first.business_minutes, 75);
        assert_eq!(first.calendar_ms, at("2026-11-30T09:45:00Z") - at("2026-11-27T17:30:00Z"));
        assert_eq!(m.first_response_in_sla, Some(true));
        // The last reply with nothing after it resolves; one reply, no reopen: one touch.
        assert_eq!(m.resolution, m.first_response);
        assert!(m.one_touch);
    }

    #[test]
    fn a_chaser_after_our_reply_starts_a_next_response_and_a_reopen_counts_within_the_window() {
        let events = [
            ev("2026-11-30T09:00:00Z", Customer),
            ev("2026-11-30T09:20:00Z", Reply),
            ev("2026-11-30T10:00:00Z", Customer),
            ev("2026-11-30T10:05:00Z", Customer),
            ev("2026-11-30T10:30:00Z", Reply),
            ev("2026-11-30T10:31:00Z", Resolved),
            ev("2026-11-30T15:00:00Z", Customer),
            ev("2026-11-30T15:10:00Z", Reply),
        ];
        let m = conversation_metrics(&events, &default_calendar(), T, 24 * 60 * MIN, at("2026-11-30T16:00:00Z"));
        assert_eq!(m.first_response.unwrap().business_minutes, 20);
        let next: Vec<i64> = m.next_responses.iter().map(|s| s.business_minutes).collect();
        assert_eq!(next, [30, 10], "from the first unanswered chaser, not the second");
        assert_eq!(m.reopens, 1);
        assert_eq!(m.resolution.unwrap().business_minutes, 91);
        assert!(!m.one_touch);
    }

    #[test]
    fn an_unanswered_conversation_is_late_only_once_its_target_passed() {
        let events = [ev("2026-11-30T09:00:00Z", Customer), ev("2026-11-30T09:00:03Z", Automatic)];
        let cal = default_calendar();
        let early = conversation_metrics(&events, &cal, T, MIN, at("2026-11-30T12:00:00Z"));
        assert_eq!((early.first_response, early.first_response_in_sla), (None, None));
        let late = conversation_metrics(&events, &cal, T, MIN, at("2026-11-30T13:01:00Z"));
        assert_eq!(late.first_response_in_sla, Some(false));
    }

    #[test]
    fn summaries_put_median_and_p90_beside_the_mean() {
        let s = summarize(&[1, 2, 3, 4, 100]).unwrap();
        assert_eq!((s.count, s.median, s.p90), (5, 3, 100));
        assert!((s.mean - 22.0).abs() < 1e-9, "the outlier pulls the mean, not the median");
        assert_eq!(summarize(&[]), None);
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(summarize(&ten).unwrap().p90, 9);
    }

    #[test]
    fn the_report_counts_attainment_one_touch_and_reopens() {
        let cal = default_calendar();
        let now = at("2026-11-30T17:00:00Z");
        let quick = conversation_metrics(&[ev("2026-11-30T09:00:00Z", Customer), ev("2026-11-30T09:10:00Z", Reply)], &cal, T, MIN, now);
        let slow = conversation_metrics(&[ev("2026-11-30T09:00:00Z", Customer), ev("2026-11-30T15:00:00Z", Reply)], &cal, T, MIN, now);
        let open = conversation_metrics(&[ev("2026-11-30T16:00:00Z", Customer)], &cal, T, MIN, now);
        let r = report(&[quick, slow, open]);
        assert_eq!(r.conversations, 3);
        assert_eq!(r.sla_attainment_pct, Some(50.0), "the open one is not late yet: not judged");
        assert_eq!(r.one_touch_pct, Some(100.0));
        assert_eq!(r.first_response_business_minutes.unwrap().median, 10);
        assert_eq!(r.reopened, 0);
    }
}
