//! One conversation's SLA clock, from what happened in it: the customer wrote, the team
//! replied, the conversation was resolved. Times are unix milliseconds, passed in.
//!
//! - The first-response clock starts at the customer's first message.
//! - After a team reply, the clock stops: the conversation waits on the customer.
//! - The customer's next message starts the next-response clock (its own target).
//! - Resolving closes the conversation; the customer's next message starts a new one
//!   (a first response again).
//!
//! The business-time arithmetic is [`super::sla`]'s; this module only decides which
//! clock runs and from when.

use chrono::{DateTime, Utc};

use super::sla::{level_by_due, BusinessCalendar, SlaClock, SlaLevel, SlaTargets};

/// What happened in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    CustomerWrote,
    TeamReplied,
    Resolved,
}

/// One step at a time. Steps at the same instant are taken in the order above (a reply
/// stamped in the same second as the message it answers comes after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineStep {
    pub at_ms: i64,
    pub step: Step,
}

/// Which target applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockKind {
    FirstResponse,
    NextResponse,
}

/// The clock a conversation runs on now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingClock {
    /// Nothing waits on the team: no customer message yet, or resolved.
    Idle,
    /// The team replied last: the clock is stopped until the customer writes.
    WaitingOnCustomer,
    /// A reply is owed since `since_ms` (the first unanswered customer message).
    Running { kind: ClockKind, since_ms: i64 },
}

/// Which clock runs after `steps` (any order; they are sorted here).
pub fn pending_clock(steps: &[TimelineStep]) -> PendingClock {
    let mut steps = steps.to_vec();
    steps.sort_by_key(|s| (s.at_ms, s.step));
    let mut state = PendingClock::Idle;
    let mut replied = false;
    for s in steps {
        state = match (s.step, state) {
            (Step::CustomerWrote, PendingClock::Running { .. }) => state,
            (Step::CustomerWrote, _) => {
                PendingClock::Running { kind: if replied { ClockKind::NextResponse } else { ClockKind::FirstResponse }, since_ms: s.at_ms }
            }
            (Step::TeamReplied, _) => {
                replied = true;
                PendingClock::WaitingOnCustomer
            }
            (Step::Resolved, _) => {
                replied = false;
                PendingClock::Idle
            }
        };
    }
    state
}

/// A running clock's due time and level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationSla {
    pub kind: ClockKind,
    pub since_ms: i64,
    /// `None` if the calendar never opens (holidays cover years).
    pub due_ms: Option<i64>,
    pub level: SlaLevel,
}

/// The conversation's SLA at `now_ms`, or `None` when no clock runs (idle or waiting on
/// the customer).
pub fn conversation_sla(steps: &[TimelineStep], now_ms: i64, targets: &SlaTargets, calendar: &BusinessCalendar) -> Option<ConversationSla> {
    let PendingClock::Running { kind, since_ms } = pending_clock(steps) else { return None };
    let target = match kind {
        ClockKind::FirstResponse => targets.first_response_minutes,
        ClockKind::NextResponse => targets.next_response_minutes,
    };
    let since = DateTime::<Utc>::from_timestamp_millis(since_ms)?;
    let now = DateTime::<Utc>::from_timestamp_millis(now_ms)?;
    let due = SlaClock::new(since, target).due_at(calendar);
    let level = match due {
        Some(due) => level_by_due(due, now, targets.at_risk_minutes, calendar),
        None => SlaLevel::Ok,
    };
    Some(ConversationSla { kind, since_ms, due_ms: due.map(|d| d.timestamp_millis()), level })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automation::sla::OpenHours;
    use chrono::{NaiveDate, TimeZone};
    use chrono_tz::{America::New_York, Asia::Shanghai, Tz};

    const W: Step = Step::CustomerWrote;
    const R: Step = Step::TeamReplied;
    const X: Step = Step::Resolved;

    fn ms(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("valid local time").timestamp_millis()
    }

    fn steps(list: &[(i64, Step)]) -> Vec<TimelineStep> {
        list.iter().map(|&(at_ms, step)| TimelineStep { at_ms, step }).collect()
    }

    /// New York, 09:00–17:00 weekdays, closed on Thanksgiving (26 November 2026).
    fn new_york() -> BusinessCalendar {
        let thanksgiving = NaiveDate::from_ymd_opt(2026, 11, 26).expect("date");
        BusinessCalendar::weekdays(New_York, &[OpenHours::hm(9, 0, 17, 0)], [thanksgiving]).expect("valid")
    }

    fn shanghai() -> BusinessCalendar {
        BusinessCalendar::weekdays(Shanghai, &[OpenHours::hm(9, 0, 12, 0), OpenHours::hm(13, 0, 18, 0)], []).expect("valid")
    }

    fn targets() -> SlaTargets {
        SlaTargets { first_response_minutes: 240, next_response_minutes: 120, at_risk_minutes: 60 }
    }

    #[test]
    fn which_clock_runs() {
        assert_eq!(pending_clock(&[]), PendingClock::Idle);
        assert_eq!(pending_clock(&steps(&[(10, W), (20, W)])), PendingClock::Running { kind: ClockKind::FirstResponse, since_ms: 10 });
        assert_eq!(pending_clock(&steps(&[(10, W), (20, W), (30, R)])), PendingClock::WaitingOnCustomer);
        // The customer's message after our reply starts the next-response clock.
        assert_eq!(
            pending_clock(&steps(&[(40, W), (10, W), (30, R), (50, W)])),
            PendingClock::Running { kind: ClockKind::NextResponse, since_ms: 40 }
        );
        // A reply in the same second as the message it answers comes after it.
        assert_eq!(pending_clock(&steps(&[(10, R), (10, W)])), PendingClock::WaitingOnCustomer);
        // Resolved, then a new message: a new conversation, a first response.
        assert_eq!(pending_clock(&steps(&[(10, W), (20, X)])), PendingClock::Idle);
        assert_eq!(
            pending_clock(&steps(&[(10, W), (15, R), (20, X), (30, W)])),
            PendingClock::Running { kind: ClockKind::FirstResponse, since_ms: 30 }
        );
    }

    #[test]
    fn first_response_across_thanksgiving_and_the_weekend_in_new_york() {
        let cal = new_york();
        // Wednesday 25 November 15:00 EST: two hours that day, then Thanksgiving, then
        // Friday 09:00–11:00.
        let wrote = ms(New_York, 2026, 11, 25, 15, 0);
        let at = |d, h, m| ms(New_York, 2026, 11, d, h, m);
        let sla = conversation_sla(&steps(&[(wrote, W)]), at(25, 16, 0), &targets(), &cal).expect("running");
        assert_eq!((sla.kind, sla.due_ms, sla.level), (ClockKind::FirstResponse, Some(at(27, 11, 0)), SlaLevel::Ok));
        // Thanksgiving itself is not at-risk time: Friday's two hours are still ahead.
        let on_holiday = conversation_sla(&steps(&[(wrote, W)]), at(26, 12, 0), &targets(), &cal).expect("running");
        assert_eq!(on_holiday.level, SlaLevel::Ok);
        assert_eq!(conversation_sla(&steps(&[(wrote, W)]), at(27, 10, 0), &targets(), &cal).unwrap().level, SlaLevel::AtRisk);
        assert_eq!(conversation_sla(&steps(&[(wrote, W)]), at(27, 11, 0), &targets(), &cal).unwrap().level, SlaLevel::Breached);
    }

    #[test]
    fn the_clock_stops_while_waiting_and_the_next_response_has_its_own_target() {
        let cal = shanghai();
        let at = |d, h, m| ms(Shanghai, 2026, 11, d, h, m);
        // Monday 16 Nov 10:00 the customer writes; we reply at 11:00; they write again on
        // Friday 20 Nov 17:00 (one business hour left that day) → next response due
        // Monday 23 Nov 10:00 (two business hours), the days in between never counted.
        let timeline = steps(&[(at(16, 10, 0), W), (at(16, 11, 0), R), (at(20, 17, 0), W)]);
        assert_eq!(conversation_sla(&timeline[..2], at(20, 16, 0), &targets(), &cal), None, "waiting on the customer");
        let sla = conversation_sla(&timeline, at(20, 17, 30), &targets(), &cal).expect("running");
        assert_eq!(sla.kind, ClockKind::NextResponse);
        assert_eq!(sla.since_ms, at(20, 17, 0));
        assert_eq!(sla.due_ms, Some(at(23, 10, 0)));
        assert_eq!(sla.level, SlaLevel::Ok, "90 business minutes left");
        assert_eq!(conversation_sla(&timeline, at(23, 9, 0), &targets(), &cal).unwrap().level, SlaLevel::AtRisk);
        assert_eq!(conversation_sla(&timeline, at(23, 10, 0), &targets(), &cal).unwrap().level, SlaLevel::Breached);
    }

    #[test]
    fn the_same_conversation_in_two_time_zones() {
        // Tuesday 17 November 2026 02:00 UTC: 10:00 in Shanghai (open), 21:00 Monday in
        // New York (closed).
        let wrote = ms(Tz::UTC, 2026, 11, 17, 2, 0);
        let timeline = steps(&[(wrote, W)]);
        let sh = conversation_sla(&timeline, wrote, &targets(), &shanghai()).unwrap();
        assert_eq!(sh.due_ms, Some(ms(Shanghai, 2026, 11, 17, 15, 0)), "2 h before lunch, 2 h after");
        let ny = conversation_sla(&timeline, wrote, &targets(), &new_york()).unwrap();
        assert_eq!(ny.due_ms, Some(ms(New_York, 2026, 11, 17, 13, 0)), "from Tuesday's opening");
    }

    #[test]
    fn a_zero_target_on_an_always_open_calendar_is_breached_at_once() {
        let always = BusinessCalendar::new(Tz::UTC, std::array::from_fn(|_| vec![OpenHours::hm(0, 0, 24, 0)]), []).expect("valid");
        let t = SlaTargets { first_response_minutes: 0, next_response_minutes: 0, at_risk_minutes: 0 };
        let wrote = ms(Tz::UTC, 2026, 11, 21, 23, 59);
        let sla = conversation_sla(&steps(&[(wrote, W)]), wrote, &t, &always).unwrap();
        assert_eq!((sla.due_ms, sla.level), (Some(wrote), SlaLevel::Breached));
    }
}
