//! SLA clocks on business hours: when a reply is due, how much business time has passed,
//! and whether a conversation is on time, at risk or breached.
//!
//! A promise of "4 business hours" made on Friday at 16:00 in London is due on Monday at
//! 12:00 London time, whatever the UTC offset did over the weekend. So business time is
//! counted in the calendar's own time zone (IANA rules compiled in, no file reads) and
//! every instant going in and out is UTC. The clock stops while the conversation waits on
//! the customer: those intervals are passed in.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// Default first-response target: 4 business hours.
pub const DEFAULT_FIRST_RESPONSE_MINUTES: i64 = 4 * 60;
/// Default next-response target (after the customer writes again): 8 business hours.
pub const DEFAULT_NEXT_RESPONSE_MINUTES: i64 = 8 * 60;
/// Default at-risk threshold: the last business hour before the due time.
pub const DEFAULT_AT_RISK_MINUTES: i64 = 60;

/// Searching for open hours gives up after this many days (a calendar whose holidays
/// cover years has no due time rather than a loop that never ends).
const SEARCH_DAYS: i64 = 5 * 366;

/// One opening period within a day, in minutes after local midnight (`to_minute` up to
/// 1440, the end of the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenHours {
    pub from_minute: u32,
    pub to_minute: u32,
}

impl OpenHours {
    /// `OpenHours::hm(9, 0, 17, 30)` is 09:00–17:30.
    pub const fn hm(from_h: u32, from_m: u32, to_h: u32, to_m: u32) -> Self {
        OpenHours { from_minute: from_h * 60 + from_m, to_minute: to_h * 60 + to_m }
    }
}

/// Why a calendar was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("opening hours must end after they start and within the day ({0:?})")]
    BadHours(OpenHours),
    #[error("the calendar is never open")]
    NeverOpen,
}

/// A queue's business hours: weekly opening periods, holidays, a time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    tz: Tz,
    /// Monday first; an empty day is closed. Periods sorted and not overlapping.
    weekly: [Vec<OpenHours>; 7],
    /// Whole local dates on which the team is closed.
    holidays: BTreeSet<NaiveDate>,
}

impl BusinessCalendar {
    /// `weekly[0]` is Monday. Periods within a day are sorted; overlapping ones are refused.
    pub fn new(tz: Tz, weekly: [Vec<OpenHours>; 7], holidays: impl IntoIterator<Item = NaiveDate>) -> Result<Self, CalendarError> {
        let mut weekly = weekly;
        for day in &mut weekly {
            day.sort_by_key(|h| h.from_minute);
            for h in day.iter() {
                if h.to_minute <= h.from_minute || h.to_minute > 24 * 60 {
                    return Err(CalendarError::BadHours(*h));
                }
            }
            if let Some(pair) = day.windows(2).find(|p| p[1].from_minute < p[0].to_minute) {
                return Err(CalendarError::BadHours(pair[1]));
            }
        }
        if weekly.iter().all(Vec::is_empty) {
            return Err(CalendarError::NeverOpen);
        }
        Ok(BusinessCalendar { tz, weekly, holidays: holidays.into_iter().collect() })
    }

    /// Monday to Friday, the same hours each day.
    pub fn weekdays(tz: Tz, hours: &[OpenHours], holidays: impl IntoIterator<Item = NaiveDate>) -> Result<Self, CalendarError> {
        let day = hours.to_vec();
        let weekly = [day.clone(), day.clone(), day.clone(), day.clone(), day, Vec::new(), Vec::new()];
        Self::new(tz, weekly, holidays)
    }

    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// The opening periods (UTC) of one local date, in order.
    fn periods_on(&self, date: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if self.holidays.contains(&date) {
            return Vec::new();
        }
        let weekday = date.weekday().num_days_from_monday() as usize;
        self.weekly[weekday]
            .iter()
            .filter_map(|h| {
                let start = local_to_utc(self.tz, date, h.from_minute)?;
                let end = local_to_utc(self.tz, date, h.to_minute)?;
                (end > start).then_some((start, end))
            })
            .collect()
    }

    /// Opening periods from `from` on, clipped to start at `from`, for at most SEARCH_DAYS.
    fn periods_from(&self, from: DateTime<Utc>) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        // Start a day early: a period of the previous local date may still be running.
        let first = from.with_timezone(&self.tz).date_naive().pred_opt().unwrap_or(NaiveDate::MIN);
        first
            .iter_days()
            .take(SEARCH_DAYS as usize)
            .flat_map(move |d| self.periods_on(d))
            .filter(move |&(_, end)| end > from)
            .map(move |(start, end)| (start.max(from), end))
    }

    /// The start of the next opening strictly after `after`: the first open period that
    /// begins later and does not merely continue the one before it (a 24/7 calendar's
    /// midnight is not an opening). `None` if there is none within the search horizon.
    pub fn next_opening(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let first = after.with_timezone(&self.tz).date_naive().pred_opt().unwrap_or(NaiveDate::MIN);
        let mut previous_end: Option<DateTime<Utc>> = None;
        for (start, end) in first.iter_days().take(SEARCH_DAYS as usize).flat_map(|d| self.periods_on(d)) {
            if start > after && previous_end != Some(start) {
                return Some(start);
            }
            previous_end = Some(end);
        }
        None
    }

    /// Whether `at` falls within open hours.
    pub fn is_open_at(&self, at: DateTime<Utc>) -> bool {
        self.periods_from(at).next().is_some_and(|(start, _)| start == at)
    }

    fn business_seconds_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        if b <= a {
            return 0;
        }
        self.periods_from(a).take_while(|&(start, _)| start < b).map(|(start, end)| (end.min(b) - start).num_seconds()).sum()
    }

    fn add_business_seconds(&self, from: DateTime<Utc>, seconds: i64) -> Option<DateTime<Utc>> {
        if seconds <= 0 {
            return Some(from);
        }
        let mut remaining = seconds;
        for (start, end) in self.periods_from(from) {
            let available = (end - start).num_seconds();
            if available >= remaining {
                return Some(start + TimeDelta::seconds(remaining));
            }
            remaining -= available;
        }
        None
    }
}

/// A local date and minute of day as a UTC instant. In the hour skipped by a DST change
/// the first valid instant after it is used; in a repeated hour, the earlier one.
fn local_to_utc(tz: Tz, date: NaiveDate, minute: u32) -> Option<DateTime<Utc>> {
    let midnight: NaiveDateTime = date.and_hms_opt(0, 0, 0)?;
    let mut local = midnight + TimeDelta::minutes(i64::from(minute));
    for _ in 0..=24 * 60 {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return Some(t.with_timezone(&Utc)),
            LocalResult::None => local += TimeDelta::minutes(1),
        }
    }
    None
}

/// When a reply promised within `target_business_minutes` of `received` is due.
/// `None` only if the calendar has no open hours for years (holidays cover everything).
pub fn due_at(received: DateTime<Utc>, target_business_minutes: i64, calendar: &BusinessCalendar) -> Option<DateTime<Utc>> {
    calendar.add_business_seconds(received, target_business_minutes.saturating_mul(60))
}

/// Whole business minutes from `a` to `b` (0 if `b` is not after `a`).
pub fn business_minutes_between(a: DateTime<Utc>, b: DateTime<Utc>, calendar: &BusinessCalendar) -> i64 {
    calendar.business_seconds_between(a, b) / 60
}

/// How a reply due at `due` stands at `now`: breached from the due time on, at risk
/// when at most `at_risk_minutes` business minutes are left. Counts only the business
/// time between `now` and `due`, so it stays cheap for old conversations.
pub fn level_by_due(due: DateTime<Utc>, now: DateTime<Utc>, at_risk_minutes: i64, calendar: &BusinessCalendar) -> SlaLevel {
    if now >= due {
        SlaLevel::Breached
    } else if calendar.business_seconds_between(now, due) <= at_risk_minutes.saturating_mul(60) {
        SlaLevel::AtRisk
    } else {
        SlaLevel::Ok
    }
}

/// How an SLA stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SlaLevel {
    Ok,
    /// Within the at-risk threshold of the due time: offered first, shown amber.
    AtRisk,
    /// Past due: one "still working on it" note, and supervisors see it.
    Breached,
}

/// A queue's targets, in business minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaTargets {
    pub first_response_minutes: i64,
    pub next_response_minutes: i64,
    pub at_risk_minutes: i64,
}

impl Default for SlaTargets {
    fn default() -> Self {
        SlaTargets {
            first_response_minutes: DEFAULT_FIRST_RESPONSE_MINUTES,
            next_response_minutes: DEFAULT_NEXT_RESPONSE_MINUTES,
            at_risk_minutes: DEFAULT_AT_RISK_MINUTES,
        }
    }
}

/// A time span in which the conversation waited on the customer; `end: None` means it
/// is still waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

/// One SLA clock: started when the customer wrote, stopped while waiting on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaClock {
    pub started: DateTime<Utc>,
    pub target_minutes: i64,
    pub waiting: Vec<Waiting>,
}

impl SlaClock {
    pub fn new(started: DateTime<Utc>, target_minutes: i64) -> Self {
        SlaClock { started, target_minutes, waiting: Vec::new() }
    }

    /// The spans during which the clock runs, up to `until`, in order.
    fn running_spans(&self, until: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let mut waits: Vec<(DateTime<Utc>, DateTime<Utc>)> =
            self.waiting.iter().map(|w| (w.start, w.end.unwrap_or(until).min(until))).filter(|(s, e)| e > s).collect();
        waits.sort();
        let mut spans = Vec::new();
        let mut cursor = self.started;
        for (start, end) in waits {
            if start > cursor && cursor < until {
                spans.push((cursor, start.min(until)));
            }
            cursor = cursor.max(end);
        }
        if cursor < until {
            spans.push((cursor, until));
        }
        spans
    }

    /// Business minutes the clock has run by `now`.
    pub fn elapsed_minutes(&self, now: DateTime<Utc>, calendar: &BusinessCalendar) -> i64 {
        let seconds: i64 = self.running_spans(now).iter().map(|&(a, b)| calendar.business_seconds_between(a, b)).sum();
        seconds / 60
    }

    /// When the reply is due, counting the waits so far; `None` while the clock is stopped
    /// (waiting on the customer) or if the calendar never opens.
    pub fn due_at(&self, calendar: &BusinessCalendar) -> Option<DateTime<Utc>> {
        if self.waiting.iter().any(|w| w.end.is_none()) {
            return None;
        }
        let mut remaining = self.target_minutes.saturating_mul(60);
        let mut cursor = self.started;
        let mut waits: Vec<(DateTime<Utc>, DateTime<Utc>)> = self.waiting.iter().filter_map(|w| Some((w.start, w.end?))).collect();
        waits.sort();
        for (start, end) in waits {
            if start > cursor {
                let available = calendar.business_seconds_between(cursor, start);
                if available >= remaining {
                    break;
                }
                remaining -= available;
            }
            cursor = cursor.max(end);
        }
        calendar.add_business_seconds(cursor, remaining)
    }

    /// On time, at risk (within `at_risk_minutes` of the target) or breached, at `now`.
    pub fn level(&self, now: DateTime<Utc>, at_risk_minutes: i64, calendar: &BusinessCalendar) -> SlaLevel {
        let elapsed = self.elapsed_minutes(now, calendar);
        if elapsed >= self.target_minutes {
            SlaLevel::Breached
        } else if self.target_minutes - elapsed <= at_risk_minutes {
            SlaLevel::AtRisk
        } else {
            SlaLevel::Ok
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{Asia::Shanghai, Europe::London};
    use proptest::prelude::*;

    fn london() -> BusinessCalendar {
        let holidays = [date(2026, 12, 25), date(2026, 12, 28)];
        BusinessCalendar::weekdays(London, &[OpenHours::hm(9, 0, 17, 0)], holidays).expect("valid calendar")
    }

    /// Shanghai with a lunch break, closed for National Day week.
    fn shanghai() -> BusinessCalendar {
        let holidays = (1..=7).map(|d| date(2026, 10, d));
        let hours = [OpenHours::hm(9, 0, 12, 0), OpenHours::hm(13, 0, 18, 0)];
        BusinessCalendar::weekdays(Shanghai, &hours, holidays).expect("valid calendar")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn local(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("unambiguous local time").with_timezone(&Utc)
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        local(Tz::UTC, y, mo, d, h, mi)
    }

    #[test]
    fn four_business_hours_within_a_day_and_across_the_close() {
        let cal = london();
        // Monday 16 November 2026 (GMT).
        assert_eq!(due_at(local(London, 2026, 11, 16, 10, 0), 240, &cal), Some(local(London, 2026, 11, 16, 14, 0)));
        assert_eq!(due_at(local(London, 2026, 11, 16, 15, 0), 240, &cal), Some(local(London, 2026, 11, 17, 11, 0)));
        // Before opening the clock starts at 09:00.
        assert_eq!(due_at(local(London, 2026, 11, 16, 7, 30), 240, &cal), Some(local(London, 2026, 11, 16, 13, 0)));
        // Exactly at the close: the due time is the close, not the next morning.
        assert_eq!(due_at(local(London, 2026, 11, 16, 13, 0), 240, &cal), Some(local(London, 2026, 11, 16, 17, 0)));
    }

    #[test]
    fn weekends_and_holidays_do_not_count() {
        let cal = london();
        // Friday 16:00 → Monday 12:00.
        assert_eq!(due_at(local(London, 2026, 11, 20, 16, 0), 240, &cal), Some(local(London, 2026, 11, 23, 12, 0)));
        // Saturday → Monday 13:00.
        assert_eq!(due_at(local(London, 2026, 11, 21, 11, 0), 240, &cal), Some(local(London, 2026, 11, 23, 13, 0)));
        // Thursday 24 December 15:00: Christmas (Fri), the weekend and the Monday holiday
        // are skipped → Tuesday 29 December 11:00.
        assert_eq!(due_at(local(London, 2026, 12, 24, 15, 0), 240, &cal), Some(local(London, 2026, 12, 29, 11, 0)));
        assert_eq!(business_minutes_between(local(London, 2026, 12, 24, 15, 0), local(London, 2026, 12, 29, 11, 0), &cal), 240);
        assert_eq!(business_minutes_between(local(London, 2026, 11, 20, 9, 0), local(London, 2026, 11, 27, 9, 0), &cal), 5 * 8 * 60);
    }

    #[test]
    fn london_across_both_dst_changes() {
        let cal = london();
        // Clocks go forward on Sunday 29 March 2026: Friday 16:00 GMT is 16:00 UTC, Monday
        // 12:00 BST is 11:00 UTC — 4 business hours, 67 wall-clock hours.
        let received = local(London, 2026, 3, 27, 16, 0);
        assert_eq!(received, utc(2026, 3, 27, 16, 0));
        assert_eq!(due_at(received, 240, &cal), Some(utc(2026, 3, 30, 11, 0)));
        // Clocks go back on Sunday 25 October 2026: Friday 16:00 BST (15:00 UTC) → Monday
        // 12:00 GMT (12:00 UTC).
        let received = local(London, 2026, 10, 23, 16, 0);
        assert_eq!(received, utc(2026, 10, 23, 15, 0));
        assert_eq!(due_at(received, 240, &cal), Some(utc(2026, 10, 26, 12, 0)));
    }

    #[test]
    fn shanghai_lunch_break_and_national_day() {
        let cal = shanghai();
        // Monday 16 November 11:00 CST: one hour before lunch, three after → 16:00.
        assert_eq!(due_at(local(Shanghai, 2026, 11, 16, 11, 0), 240, &cal), Some(local(Shanghai, 2026, 11, 16, 16, 0)));
        // Wednesday 30 September 17:00: one hour, then National Day (1–7 Oct, Thu–Wed) →
        // Thursday 8 October 12:00.
        assert_eq!(due_at(local(Shanghai, 2026, 9, 30, 17, 0), 240, &cal), Some(local(Shanghai, 2026, 10, 8, 12, 0)));
    }

    #[test]
    fn the_same_instant_in_two_time_zones() {
        // Monday 16 November 2026 08:00 UTC = 16:00 in Shanghai, 08:00 in London.
        let received = utc(2026, 11, 16, 8, 0);
        assert_eq!(due_at(received, 240, &shanghai()), Some(local(Shanghai, 2026, 11, 17, 11, 0)));
        assert_eq!(due_at(received, 240, &london()), Some(local(London, 2026, 11, 16, 13, 0)));
    }

    #[test]
    fn the_clock_pauses_while_waiting_on_the_customer() {
        let cal = london();
        let mut clock = SlaClock::new(local(London, 2026, 11, 16, 9, 0), 240);
        // One hour runs, then we wait on the customer until Tuesday 10:00.
        clock.waiting.push(Waiting { start: local(London, 2026, 11, 16, 10, 0), end: None });
        assert_eq!(clock.due_at(&cal), None);
        assert_eq!(clock.elapsed_minutes(local(London, 2026, 11, 17, 9, 30), &cal), 60);
        assert_eq!(clock.level(local(London, 2026, 11, 17, 9, 30), 60, &cal), SlaLevel::Ok);
        clock.waiting[0].end = Some(local(London, 2026, 11, 17, 10, 0));
        assert_eq!(clock.due_at(&cal), Some(local(London, 2026, 11, 17, 13, 0)));
        assert_eq!(clock.level(local(London, 2026, 11, 17, 11, 59), 60, &cal), SlaLevel::Ok);
        assert_eq!(clock.level(local(London, 2026, 11, 17, 12, 0), 60, &cal), SlaLevel::AtRisk);
        assert_eq!(clock.level(local(London, 2026, 11, 17, 13, 0), 60, &cal), SlaLevel::Breached);
    }

    #[test]
    fn overlapping_and_early_waits_are_counted_once() {
        let cal = london();
        let mut clock = SlaClock::new(local(London, 2026, 11, 16, 9, 0), 240);
        let w = |h1, h2| Waiting { start: local(London, 2026, 11, 16, h1, 0), end: Some(local(London, 2026, 11, 16, h2, 0)) };
        clock.waiting = vec![w(11, 13), w(10, 12), w(8, 9)];
        // Runs 09–10, waits 10–13, runs from 13: 3 more hours → 16:00.
        assert_eq!(clock.due_at(&cal), Some(local(London, 2026, 11, 16, 16, 0)));
        assert_eq!(clock.elapsed_minutes(local(London, 2026, 11, 16, 16, 0), &cal), 240);
    }

    #[test]
    fn bad_calendars_are_refused_and_dst_gaps_do_not_panic() {
        assert_eq!(BusinessCalendar::weekdays(London, &[], []), Err(CalendarError::NeverOpen));
        assert!(BusinessCalendar::weekdays(London, &[OpenHours::hm(17, 0, 9, 0)], []).is_err());
        assert!(BusinessCalendar::weekdays(London, &[OpenHours::hm(9, 0, 12, 0), OpenHours::hm(11, 0, 13, 0)], []).is_err());
        // A night shift opening in the hour skipped on 29 March 2026: 01:30 does not exist,
        // so it opens at 02:00 BST (01:00 UTC) and closes at 03:00 BST — one real hour.
        let every_day = std::array::from_fn(|_| vec![OpenHours::hm(1, 30, 3, 0)]);
        let cal = BusinessCalendar::new(London, every_day, []).expect("valid");
        let on_the_night = business_minutes_between(utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 12, 0), &cal);
        assert_eq!(on_the_night, 60);
        // Holidays covering every day for years: no due time rather than a hang.
        let all = date(2026, 1, 1).iter_days().take(6 * 366);
        let closed = BusinessCalendar::weekdays(London, &[OpenHours::hm(9, 0, 17, 0)], all).expect("valid");
        assert_eq!(due_at(utc(2026, 1, 1, 0, 0), 60, &closed), None);
    }

    #[test]
    fn next_opening_skips_closed_time_and_continuations() {
        let cal = london();
        // Monday 10:00 (open): the next opening is Tuesday 09:00.
        assert_eq!(cal.next_opening(local(London, 2026, 11, 16, 10, 0)), Some(local(London, 2026, 11, 17, 9, 0)));
        // Friday evening: Monday 09:00. Christmas Eve evening: Tuesday 29th.
        assert_eq!(cal.next_opening(local(London, 2026, 11, 20, 18, 0)), Some(local(London, 2026, 11, 23, 9, 0)));
        assert_eq!(cal.next_opening(local(London, 2026, 12, 24, 18, 0)), Some(local(London, 2026, 12, 29, 9, 0)));
        // Shanghai's lunch break ends at 13:00: that is an opening.
        assert_eq!(shanghai().next_opening(local(Shanghai, 2026, 11, 16, 12, 15)), Some(local(Shanghai, 2026, 11, 16, 13, 0)));
        assert!(cal.is_open_at(local(London, 2026, 11, 16, 9, 0)));
        assert!(!cal.is_open_at(local(London, 2026, 11, 16, 17, 0)));
        assert!(!cal.is_open_at(local(London, 2026, 11, 21, 12, 0)));
        // Always open: midnight continues the day before; there is no next opening.
        let always = BusinessCalendar::new(Tz::UTC, std::array::from_fn(|_| vec![OpenHours::hm(0, 0, 24, 0)]), []).expect("valid");
        assert_eq!(always.next_opening(utc(2026, 11, 16, 10, 0)), None);
        assert!(always.is_open_at(utc(2026, 11, 21, 0, 0)));
    }

    #[test]
    fn level_by_due_agrees_with_the_clock() {
        let cal = london();
        let clock = SlaClock::new(local(London, 2026, 11, 20, 15, 0), 240);
        let due = clock.due_at(&cal).expect("due");
        assert_eq!(due, local(London, 2026, 11, 23, 11, 0));
        for (d, h, m) in [(20, 15, 0), (20, 16, 59), (23, 9, 0), (23, 10, 0), (23, 10, 59), (23, 11, 0), (24, 9, 0)] {
            let now = local(London, 2026, 11, d, h, m);
            assert_eq!(level_by_due(due, now, 60, &cal), clock.level(now, 60, &cal), "at {now}");
        }
        // The weekend is not "at risk" time: Friday 16:59 still has two business hours.
        assert_eq!(level_by_due(due, local(London, 2026, 11, 21, 12, 0), 60, &cal), SlaLevel::Ok);
    }

    proptest! {
        #[test]
        fn due_at_and_business_minutes_agree(
            start_minutes in 0i64..(2 * 365 * 24 * 60),
            target in 0i64..(5 * 8 * 60),
            shanghai_cal: bool,
        ) {
            let cal = if shanghai_cal { shanghai() } else { london() };
            let received = utc(2026, 1, 1, 0, 0) + TimeDelta::minutes(start_minutes);
            let due = due_at(received, target, &cal).expect("calendar opens");
            prop_assert!(due >= received);
            prop_assert_eq!(business_minutes_between(received, due, &cal), target);
            // A minute earlier would not have been enough (unless nothing was needed).
            if target > 0 {
                prop_assert!(business_minutes_between(received, due - TimeDelta::minutes(1), &cal) < target);
            }
        }
    }
}
