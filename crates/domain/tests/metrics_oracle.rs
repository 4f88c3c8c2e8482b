//! Every metric against a hand-computed oracle on a scripted stretch of days, in
//! calendar and business time, on a calendar with a holiday and a daylight-saving
//! change: Europe/London, Monday–Saturday 08:00–20:00, Sunday all day, closed on
//! Monday 26 October 2026 (a holiday). Summer time ends on Sunday 25 October at 02:00
//! BST, so that Sunday has 25 hours, all of them open. Automatic mail is in the script
//! and must count for nothing.
//!
//! The hand computation is written next to each figure (times in UTC; London is UTC+1
//! until 25 Oct 01:00 UTC, UTC+0 after).

use blendesk_domain::activity::{daily, occupancy, time_use, Activity, ActivityKind, Disposition};
use blendesk_domain::automation::sla::{BusinessCalendar, OpenHours};
use blendesk_domain::metrics::{
    conversation_metrics, customer_keys, first_contact_resolution, report, Contact, ConversationMetrics, Event, EventKind, Span, Targets,
};
use chrono::{DateTime, NaiveDate};
use EventKind::{Automatic, Customer, Reply, Resolved};

const MIN: i64 = 60_000;
const DAY: i64 = 1_440 * MIN;
const TARGETS: Targets = Targets { first_response_minutes: 240, next_response_minutes: 120 };
const REOPEN_WINDOW: i64 = 7 * DAY;

fn at(utc: &str) -> i64 {
    DateTime::parse_from_rfc3339(utc).expect("a valid time").timestamp_millis()
}

fn ev(utc: &str, kind: EventKind) -> Event {
    Event { at_ms: at(utc), kind }
}

fn calendar() -> BusinessCalendar {
    let day = vec![OpenHours::hm(8, 0, 20, 0)];
    let weekly = [day.clone(), day.clone(), day.clone(), day.clone(), day.clone(), day, vec![OpenHours::hm(0, 0, 24, 0)]];
    let holiday = NaiveDate::from_ymd_opt(2026, 10, 26).expect("a date");
    BusinessCalendar::new(chrono_tz::Europe::London, weekly, [holiday]).expect("a valid calendar")
}

fn span(calendar_minutes: i64, business_minutes: i64) -> Option<Span> {
    Some(Span { calendar_ms: calendar_minutes * MIN, business_minutes })
}

/// Now: Tuesday 27 October, 18:00 UTC.
const NOW: &str = "2026-10-27T18:00:00Z";

fn conversations() -> Vec<ConversationMetrics> {
    let cal = calendar();
    let m = |events: &[Event]| conversation_metrics(events, &cal, TARGETS, REOPEN_WINDOW, at(NOW));
    vec![
        // Anna: Saturday morning, acknowledged automatically, one reply, resolved.
        m(&[
            ev("2026-10-24T08:00:00Z", Customer), // 09:00 BST
            ev("2026-10-24T08:00:30Z", Automatic),
            ev("2026-10-24T09:30:00Z", Reply), // 10:30 BST
            ev("2026-10-24T09:40:00Z", Resolved),
        ]),
        // Ben: Saturday evening, answered Sunday night across the clock change; a chaser
        // on the holiday, answered Tuesday; resolved Tuesday.
        m(&[
            ev("2026-10-24T18:00:00Z", Customer), // 19:00 BST
            ev("2026-10-25T23:00:00Z", Reply),    // 23:00 GMT
            ev("2026-10-26T10:00:00Z", Customer), // the holiday
            ev("2026-10-27T09:00:00Z", Reply),
            ev("2026-10-27T09:05:00Z", Resolved),
        ]),
        // Chen: Tuesday, resolved, came back two hours later (a reopen), a still-working
        // note between (automatic), resolved again.
        m(&[
            ev("2026-10-27T10:00:00Z", Customer),
            ev("2026-10-27T10:20:00Z", Reply),
            ev("2026-10-27T10:25:00Z", Resolved),
            ev("2026-10-27T11:00:00Z", Automatic),
            ev("2026-10-27T12:00:00Z", Customer),
            ev("2026-10-27T12:30:00Z", Reply),
            ev("2026-10-27T12:40:00Z", Resolved),
        ]),
        // Dora: Tuesday 13:00, unanswered at 18:00: five business hours, late.
        m(&[ev("2026-10-27T13:00:00Z", Customer), ev("2026-10-27T13:00:20Z", Automatic)]),
    ]
}

#[test]
fn each_conversation_against_the_hand_computation() {
    let [anna, ben, chen, dora] = <[ConversationMetrics; 4]>::try_from(conversations()).expect("four conversations");

    // Anna: 09:00–10:30 BST, open all along: 90 both ways. Resolved at 10:40 BST.
    assert_eq!(anna.first_response, span(90, 90));
    assert_eq!(anna.resolution, span(100, 100));
    assert_eq!(anna.full_resolution, span(100, 100));
    assert_eq!((anna.reopens, anna.one_touch, anna.first_response_in_sla), (0, true, Some(true)));
    assert!(anna.next_responses.is_empty());

    // Ben's first response: Sat 18:00 UTC → Sun 23:00 UTC is 29 h = 1,740 calendar
    // minutes. Business: Saturday 19:00–20:00 BST (60) + Sunday from 00:00 BST (Sat 23:00
    // UTC) to 23:00 GMT (Sun 23:00 UTC): 24 real hours (1,440), the repeated hour
    // included. 1,500 > 240: missed.
    assert_eq!(ben.first_response, span(1_740, 1_500));
    assert_eq!(ben.first_response_in_sla, Some(false));
    // The chaser on the holiday (Mon 10:00) answered Tue 09:00: 23 h = 1,380 calendar;
    // business: the holiday 0 + Tuesday 08:00–09:00 = 60, within 120.
    assert_eq!(ben.next_responses, vec![Span { calendar_ms: 1_380 * MIN, business_minutes: 60 }]);
    assert_eq!(ben.next_responses_in_sla, vec![true]);
    // Resolved Tue 09:05: Sat 18:00 → Tue 09:05 = 63 h 05 = 3,785 calendar. Business:
    // Saturday 60 + the whole 25-hour Sunday 1,500 + the holiday 0 + Tuesday 65 = 1,625.
    assert_eq!(ben.resolution, span(3_785, 1_625));
    assert_eq!(ben.full_resolution, span(3_785, 1_625));
    assert_eq!((ben.reopens, ben.one_touch), (0, false), "a chaser before the resolution is no reopen");

    // Chen: 20 to the first reply; first resolution at 10:25 (25); came back at 12:00
    // (a reopen), answered in 30, resolved for good at 12:40 (160 after the start).
    assert_eq!(chen.first_response, span(20, 20));
    assert_eq!(chen.resolution, span(25, 25));
    assert_eq!(chen.full_resolution, span(160, 160));
    assert_eq!(chen.next_responses, vec![Span { calendar_ms: 30 * MIN, business_minutes: 30 }]);
    assert_eq!((chen.reopens, chen.one_touch), (1, false));

    // Dora: no response; 13:00–18:00 is 300 business minutes > 240: already late.
    assert_eq!(dora.first_response, None);
    assert_eq!(dora.first_response_in_sla, Some(false));
    assert_eq!((dora.resolution, dora.full_resolution), (None, None));
}

#[test]
fn the_team_report_against_the_hand_computation() {
    let r = report(&conversations());
    assert_eq!(r.conversations, 4);
    // First responses, calendar [20, 90, 1,740]: mean 616.67, median 90, p90 1,740.
    let first = r.first_response_minutes.expect("first responses");
    assert_eq!((first.count, first.median, first.p90), (3, 90, 1_740));
    assert!((first.mean - 1_850.0 / 3.0).abs() < 1e-9, "{}", first.mean);
    // Business [20, 90, 1,500].
    let first_b = r.first_response_business_minutes.expect("first responses");
    assert_eq!((first_b.median, first_b.p90), (90, 1_500));
    assert!((first_b.mean - 1_610.0 / 3.0).abs() < 1e-9);
    // Next responses: calendar [30, 1,380], business [30, 60]; medians the lower middle.
    assert_eq!(r.next_response_minutes.map(|s| (s.count, s.median, s.p90)), Some((2, 30, 1_380)));
    assert_eq!(r.next_response_business_minutes.map(|s| (s.median, s.p90)), Some((30, 60)));
    // First resolution business [25, 100, 1,625]; full [100, 160, 1,625]; calendar
    // [25, 100, 3,785] and [100, 160, 3,785].
    assert_eq!(r.resolution_business_minutes.map(|s| (s.median, s.p90)), Some((100, 1_625)));
    assert_eq!(r.resolution_minutes.map(|s| (s.median, s.p90)), Some((100, 3_785)));
    assert_eq!(r.full_resolution_business_minutes.map(|s| (s.median, s.p90)), Some((160, 1_625)));
    assert_eq!(r.full_resolution_minutes.map(|s| s.median), Some(160));
    // SLA: first responses judged Anna yes, Ben no, Chen yes, Dora no (late): 50 %;
    // next responses both within 120: 100 %.
    assert_eq!(r.sla_attainment_pct, Some(50.0));
    assert_eq!(r.next_response_sla_attainment_pct, Some(100.0));
    // One-touch: Anna of the three resolved.
    assert!((r.one_touch_pct.expect("resolved ones") - 100.0 / 3.0).abs() < 1e-9);
    assert_eq!(r.reopened, 1);
    // Buckets by calendar first response: 20 (0–1 h), 90 (1–4 h), 1,740 (24 h+).
    assert_eq!(r.first_response_buckets, [1, 1, 0, 0, 1]);
}

#[test]
fn first_contact_resolution_across_email_and_phone() {
    // Anna's number is linked to her address; she calls on the holiday about her
    // Saturday email, which therefore was not resolved on first contact.
    let keys = customer_keys(&[("anna@example.com".into(), "+447700900001".into())]);
    let key = |id: &str| keys.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let contacts = [
        Contact { customer: key("anna@example.com"), at_ms: at("2026-10-24T08:00:00Z"), resolved: true },
        Contact { customer: key("+447700900001"), at_ms: at("2026-10-26T10:30:00Z"), resolved: true },
        Contact { customer: key("ben@example.com"), at_ms: at("2026-10-24T18:00:00Z"), resolved: true },
        Contact { customer: key("chen@example.com"), at_ms: at("2026-10-27T10:00:00Z"), resolved: true },
        Contact { customer: key("dora@example.com"), at_ms: at("2026-10-27T13:00:00Z"), resolved: false },
    ];
    // On Tuesday the 7-day windows are still open: only the failures are known.
    assert_eq!(first_contact_resolution(&contacts, 7 * DAY, at(NOW)), [Some(false), None, None, None, Some(false)]);
    // Ten days later everything is known.
    let later = at(NOW) + 10 * DAY;
    assert_eq!(first_contact_resolution(&contacts, 7 * DAY, later), [Some(false), Some(true), Some(true), Some(true), Some(false)]);
}

fn activity(n: u32, utc: &str, kind: ActivityKind) -> Activity {
    Activity { id: format!("alice-x-{n}"), advisor: "alice".into(), at_ms: at(utc), kind }
}

fn state(n: u32, utc: &str, s: &str) -> Activity {
    activity(n, utc, ActivityKind::State { state: s.into() })
}

fn alices_tuesday() -> Vec<Activity> {
    let replied = |n, utc, ms| {
        activity(
            n,
            utc,
            ActivityKind::Replied { message_id: None, conversation: "chen@example.com".into(), handle_ms: Some(ms), assisted: None },
        )
    };
    vec![
        state(1, "2026-10-26T20:00:00Z", "available"),
        state(2, "2026-10-26T21:00:00Z", "offline"),
        state(3, "2026-10-27T08:00:00Z", "available"),
        state(4, "2026-10-27T09:00:00Z", "on_call"),
        state(5, "2026-10-27T09:20:00Z", "wrap_up"),
        activity(
            6,
            "2026-10-27T09:20:00Z",
            ActivityKind::Call {
                call_id: Some("c1".into()),
                number: Some("+447700900001".into()),
                direction: Some("inbound".into()),
                started_ms: at("2026-10-27T09:00:00Z"),
                talk_ms: 17 * MIN,
                hold_ms: Some(3 * MIN),
                disposition: Some(Disposition::Resolved),
            },
        ),
        state(7, "2026-10-27T09:25:00Z", "available"),
        activity(8, "2026-10-27T09:05:00Z", ActivityKind::Resolved { message_id: Some("<ben2@example.com>".into()) }),
        activity(
            9,
            "2026-10-27T10:05:00Z",
            ActivityKind::Claimed { message_id: None, conversation: "chen@example.com".into(), queue: "INBOX".into() },
        ),
        replied(10, "2026-10-27T10:20:00Z", 10 * MIN),
        activity(11, "2026-10-27T10:25:00Z", ActivityKind::Resolved { message_id: Some("<chen1@example.com>".into()) }),
        activity(12, "2026-10-27T11:00:00Z", ActivityKind::Transferred { conversation: "dora@example.com".into(), to: "bob".into() }),
        replied(13, "2026-10-27T12:30:00Z", 15 * MIN),
        activity(14, "2026-10-27T12:40:00Z", ActivityKind::Resolved { message_id: Some("<chen2@example.com>".into()) }),
        state(15, "2026-10-27T13:00:00Z", "away"),
        state(16, "2026-10-27T14:00:00Z", "available"),
        state(17, "2026-10-27T17:00:00Z", "offline"),
        // Counted once, however often it is read.
        state(17, "2026-10-27T17:00:00Z", "offline"),
    ]
}

#[test]
fn an_advisors_day_occupancy_and_calls() {
    let events = alices_tuesday();
    let t = time_use(&events, "alice", at("2026-10-27T08:00:00Z"), at(NOW));
    // 08:00–09:00 + 09:25–13:00 + 14:00–17:00 available = 60 + 215 + 180 = 455 min;
    // 20 on the call, 5 in wrap-up, 60 away, 60 offline (17:00–18:00): 600 in all.
    let ms = |s: &str| t.state_ms.get(s).copied().unwrap_or(0) / MIN;
    assert_eq!((ms("available"), ms("on_call"), ms("wrap_up"), ms("away"), ms("offline")), (455, 20, 5, 60, 60));
    assert_eq!(t.email_handle_ms, 25 * MIN);
    // Staffed 480; working 20 + 5 + 25 of email = 50: 10.42 %.
    assert!((occupancy(&t).expect("staffed") - 5_000.0 / 480.0).abs() < 1e-9);
    // Before the window she was offline (her last earlier event): nothing counted.
    let monday = time_use(&events, "alice", at("2026-10-26T00:00:00Z"), at("2026-10-27T00:00:00Z"));
    assert_eq!(monday.state_ms.get("available").copied(), Some(60 * MIN));
    assert_eq!(occupancy(&time_use(&events, "bob", at("2026-10-27T08:00:00Z"), at(NOW))), None, "bob was never staffed");

    let days = daily(&events);
    let tue = &days[&("2026-10-27".to_owned(), "alice".to_owned())];
    assert_eq!((tue.claimed, tue.replied, tue.resolved, tue.transferred), (1, 2, 3, 1));
    // The 20-minute call: 17 talking, 3 with the customer on hold.
    assert_eq!((tue.calls, tue.talk_ms, tue.hold_ms, tue.timed_replies, tue.handle_ms), (1, 17 * MIN, 3 * MIN, 2, 25 * MIN));
}
