//! The SLA part of the supervisor's policy: per-queue reply-time targets and the
//! business-hours calendar they are counted on, as written in the JSON document.
//!
//! ```json
//! "sla": {
//!   "default": {"first_response_minutes": 240, "next_response_minutes": 480,
//!               "at_risk_minutes": 60, "handle_minutes": 15,
//!               "calendar": {"time_zone": "Europe/London",
//!                            "hours": {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"]},
//!                            "holidays": ["2026-12-25"]}},
//!   "queues": {"Billing": {"first_response_minutes": 120}}
//! }
//! ```
//!
//! Every field is optional. A queue's missing field comes from `default`, and a missing
//! `default` field from the built-in defaults (4 business hours first response, 8 next,
//! the policy's `sla_at_risk_minutes`, Monday–Friday 09:00–18:00 UTC). A calendar is
//! taken whole (its hours are not merged with the default's). Targets are whole
//! business minutes; 0 means "due at once" (with an always-open calendar, the way to
//! test a breach without waiting).

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::automation::sla::{
    BusinessCalendar, CalendarError, OpenHours, SlaTargets, DEFAULT_FIRST_RESPONSE_MINUTES, DEFAULT_NEXT_RESPONSE_MINUTES,
};

/// Targets and thresholds above a year of business minutes are refused.
pub const MAX_SLA_MINUTES: u32 = 366 * 24 * 60;
/// Holidays one calendar may list.
pub const MAX_HOLIDAYS: usize = 2000;
/// Opening periods one day may have.
pub const MAX_PERIODS_PER_DAY: usize = 24;
/// Business minutes an advisor needs per email, for the acknowledgement's promise.
pub const DEFAULT_HANDLE_MINUTES: u32 = 15;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SlaPolicyError {
    #[error("{field} is {value}; the most is {max} (a year of minutes)")]
    TooLarge { field: &'static str, value: u32, max: u32 },
    #[error("time zone {0:?} is not an IANA time zone name such as \"Europe/London\"")]
    TimeZone(String),
    #[error("{0:?} is not a day; use mon, tue, wed, thu, fri, sat or sun")]
    Day(String),
    #[error("opening hours {text:?} on {day} are not \"HH:MM-HH:MM\" (00:00 to 24:00, end after start)")]
    Hours { day: String, text: String },
    #[error("{day} has {count} opening periods; the most is {max}")]
    TooManyPeriods { day: String, count: usize, max: usize },
    #[error("holiday {0:?} is not a date \"YYYY-MM-DD\"")]
    Holiday(String),
    #[error("{count} holidays; the most is {max}")]
    TooManyHolidays { count: usize, max: usize },
    #[error("{0}")]
    Calendar(#[from] CalendarError),
}

/// The document's `sla` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlaPolicy {
    /// For every queue without its own entry, and for fields a queue leaves out.
    pub default: QueueSla,
    /// Keyed by queue (the IMAP folder name, exactly).
    pub queues: BTreeMap<String, QueueSla>,
}

/// One queue's SLA settings; absent fields fall back (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueSla {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_response_minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_response_minutes: Option<u32>,
    /// A clock with at most this many business minutes left is at risk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_risk_minutes: Option<u32>,
    /// Business minutes an advisor needs per email: how much a backlog beyond the team's
    /// free capacity pushes out the acknowledgement's promise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle_minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calendar: Option<CalendarSpec>,
}

/// A business-hours calendar as written: an IANA time zone, opening periods per weekday
/// (`"mon"` … `"sun"`, each a list of `"HH:MM-HH:MM"`; a day not listed is closed) and
/// whole-day holidays (`"YYYY-MM-DD"`, local dates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CalendarSpec {
    pub time_zone: String,
    pub hours: BTreeMap<String, Vec<String>>,
    pub holidays: Vec<String>,
}

impl Default for CalendarSpec {
    /// Monday to Friday, 09:00–18:00 UTC.
    fn default() -> Self {
        CalendarSpec {
            time_zone: "UTC".into(),
            hours: DAYS[..5].iter().map(|d| (d.to_string(), vec!["09:00-18:00".to_string()])).collect(),
            holidays: Vec::new(),
        }
    }
}

/// One queue's settings, resolved and checked: what the clocks run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSlaSettings {
    pub targets: SlaTargets,
    pub calendar: BusinessCalendar,
    pub handle_minutes: i64,
}

impl CalendarSpec {
    pub fn to_calendar(&self) -> Result<BusinessCalendar, SlaPolicyError> {
        let tz = Tz::from_str(self.time_zone.trim()).map_err(|_| SlaPolicyError::TimeZone(self.time_zone.clone()))?;
        let mut weekly: [Vec<OpenHours>; 7] = Default::default();
        for (day, periods) in &self.hours {
            let index = DAYS.iter().position(|d| d.eq_ignore_ascii_case(day.trim())).ok_or_else(|| SlaPolicyError::Day(day.clone()))?;
            if periods.len() > MAX_PERIODS_PER_DAY {
                return Err(SlaPolicyError::TooManyPeriods { day: day.clone(), count: periods.len(), max: MAX_PERIODS_PER_DAY });
            }
            for text in periods {
                let hours = parse_period(text).ok_or_else(|| SlaPolicyError::Hours { day: day.clone(), text: text.clone() })?;
                weekly[index].push(hours);
            }
        }
        if self.holidays.len() > MAX_HOLIDAYS {
            return Err(SlaPolicyError::TooManyHolidays { count: self.holidays.len(), max: MAX_HOLIDAYS });
        }
        let holidays = self
            .holidays
            .iter()
            .map(|h| NaiveDate::parse_from_str(h.trim(), "%Y-%m-%d").map_err(|_| SlaPolicyError::Holiday(h.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BusinessCalendar::new(tz, weekly, holidays)?)
    }
}

/// `"09:00-17:30"` → 09:00–17:30; the end may be `24:00`.
fn parse_period(text: &str) -> Option<OpenHours> {
    let (from, to) = text.trim().split_once('-')?;
    let from = parse_minute(from)?;
    let to = parse_minute(to)?;
    (from < to).then_some(OpenHours { from_minute: from, to_minute: to })
}

fn parse_minute(text: &str) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(24 * 60),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

impl QueueSla {
    fn check_numbers(&self) -> Result<(), SlaPolicyError> {
        for (field, value) in [
            ("first_response_minutes", self.first_response_minutes),
            ("next_response_minutes", self.next_response_minutes),
            ("at_risk_minutes", self.at_risk_minutes),
            ("handle_minutes", self.handle_minutes),
        ] {
            if let Some(value) = value.filter(|v| *v > MAX_SLA_MINUTES) {
                return Err(SlaPolicyError::TooLarge { field, value, max: MAX_SLA_MINUTES });
            }
        }
        Ok(())
    }
}

impl SlaPolicy {
    /// Checks every entry; the error names the queue (`None` for `default`).
    pub fn validate(&self) -> Result<(), (Option<String>, SlaPolicyError)> {
        let entries = std::iter::once((None, &self.default)).chain(self.queues.iter().map(|(q, s)| (Some(q), s)));
        for (queue, sla) in entries {
            let named = |e| (queue.cloned(), e);
            sla.check_numbers().map_err(named)?;
            if let Some(spec) = &sla.calendar {
                spec.to_calendar().map_err(named)?;
            }
        }
        Ok(())
    }

    /// The settings `queue` runs on. `default_at_risk_minutes` is the policy's team-wide
    /// `sla_at_risk_minutes`, used when neither the queue nor `default` sets one.
    pub fn for_queue(&self, queue: &str, default_at_risk_minutes: u32) -> Result<QueueSlaSettings, SlaPolicyError> {
        let own = self.queues.get(queue);
        let pick = |f: fn(&QueueSla) -> Option<u32>| own.and_then(f).or_else(|| f(&self.default));
        let calendar =
            own.and_then(|q| q.calendar.as_ref()).or(self.default.calendar.as_ref()).cloned().unwrap_or_default().to_calendar()?;
        let settings = QueueSlaSettings {
            targets: SlaTargets {
                first_response_minutes: pick(|q| q.first_response_minutes).map_or(DEFAULT_FIRST_RESPONSE_MINUTES, i64::from),
                next_response_minutes: pick(|q| q.next_response_minutes).map_or(DEFAULT_NEXT_RESPONSE_MINUTES, i64::from),
                at_risk_minutes: i64::from(pick(|q| q.at_risk_minutes).unwrap_or(default_at_risk_minutes)),
            },
            calendar,
            handle_minutes: i64::from(pick(|q| q.handle_minutes).unwrap_or(DEFAULT_HANDLE_MINUTES)),
        };
        own.map_or(Ok(()), QueueSla::check_numbers)?;
        self.default.check_numbers()?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sla(json: &str) -> SlaPolicy {
        serde_json::from_str(json).expect("valid json")
    }

    #[test]
    fn defaults_are_four_business_hours_on_weekdays() {
        let s = SlaPolicy::default().for_queue("INBOX", 30).expect("defaults are valid");
        assert_eq!(s.targets, SlaTargets { first_response_minutes: 240, next_response_minutes: 480, at_risk_minutes: 30 });
        assert_eq!(s.handle_minutes, 15);
        assert_eq!(s.calendar, crate::automation::ack::default_calendar());
    }

    #[test]
    fn a_queue_inherits_what_it_leaves_out() {
        let p = sla(r#"{"default": {"next_response_minutes": 600, "at_risk_minutes": 45,
                            "calendar": {"time_zone": "Asia/Shanghai", "hours": {"mon": ["09:00-12:00", "13:00-18:00"]}}},
                "queues": {"Billing": {"first_response_minutes": 60,
                                       "calendar": {"time_zone": "Europe/London", "hours": {"sat": ["10:00-14:00"]}, "holidays": ["2026-12-26"]}}}}"#);
        p.validate().expect("valid");
        let billing = p.for_queue("Billing", 30).expect("valid");
        assert_eq!(billing.targets, SlaTargets { first_response_minutes: 60, next_response_minutes: 600, at_risk_minutes: 45 });
        assert_eq!(billing.calendar.time_zone(), chrono_tz::Europe::London);
        let inbox = p.for_queue("INBOX", 30).expect("valid");
        assert_eq!(inbox.targets.first_response_minutes, 240);
        assert_eq!(inbox.calendar.time_zone(), chrono_tz::Asia::Shanghai);
        // Queue names are folder names: exact.
        assert_eq!(p.for_queue("billing", 30).unwrap().targets.first_response_minutes, 240);
    }

    #[test]
    fn an_always_open_calendar_with_a_zero_target() {
        let p = sla(r#"{"default": {"first_response_minutes": 0, "calendar": {"time_zone": "UTC",
                "hours": {"mon": ["00:00-24:00"], "tue": ["00:00-24:00"], "wed": ["00:00-24:00"], "thu": ["00:00-24:00"],
                          "fri": ["00:00-24:00"], "sat": ["00:00-24:00"], "sun": ["00:00-24:00"]}}}}"#);
        let s = p.for_queue("INBOX", 30).expect("valid");
        assert_eq!(s.targets.first_response_minutes, 0);
        let sunday_night = chrono::DateTime::parse_from_rfc3339("2026-11-29T23:30:00Z").unwrap().to_utc();
        assert!(s.calendar.is_open_at(sunday_night));
    }

    #[test]
    fn hostile_values_are_clear_errors() {
        let cases: &[(&str, &str)] = &[
            (r#"{"default": {"first_response_minutes": 4000000}}"#, "first_response_minutes is 4000000"),
            (r#"{"queues": {"X": {"handle_minutes": 999999999}}}"#, "handle_minutes"),
            (r#"{"default": {"calendar": {"time_zone": "Mars/Olympus"}}}"#, "Mars/Olympus"),
            (r#"{"default": {"calendar": {"time_zone": "UTC", "hours": {"funday": ["09:00-17:00"]}}}}"#, "funday"),
            (r#"{"default": {"calendar": {"time_zone": "UTC", "hours": {"mon": ["17:00-09:00"]}}}}"#, "17:00-09:00"),
            (r#"{"default": {"calendar": {"time_zone": "UTC", "hours": {"mon": ["09:00-24:01"]}}}}"#, "24:01"),
            (r#"{"default": {"calendar": {"time_zone": "UTC", "hours": {"mon": ["9-17"]}}}}"#, "9-17"),
            (r#"{"default": {"calendar": {"time_zone": "UTC", "hours": {"mon": ["+9:00-17:00"]}}}}"#, "+9:00"),
            (r#"{"default": {"calendar": {"time_zone": "UTC", "hours": {"mon": ["09:00-12:00", "11:00-13:00"]}}}}"#, "opening hours"),
            (r#"{"default": {"calendar": {"time_zone": "UTC", "hours": {}}}}"#, "never open"),
            (
                r#"{"queues": {"Billing": {"calendar": {"time_zone": "UTC", "hours": {"mon": ["09:00-17:00"]}, "holidays": ["25/12/2026"]}}}}"#,
                "25/12/2026",
            ),
        ];
        for (json, needle) in cases {
            let (_, err) = sla(json).validate().expect_err(json);
            assert!(err.to_string().contains(needle), "{json}: {err}");
        }
        let (queue, _) = sla(r#"{"queues": {"Billing": {"first_response_minutes": 4000000}}}"#).validate().unwrap_err();
        assert_eq!(queue.as_deref(), Some("Billing"));
        let many = format!(
            r#"{{"default": {{"calendar": {{"time_zone": "UTC", "hours": {{"mon": ["09:00-10:00"]}}, "holidays": [{}]}}}}}}"#,
            vec!["\"2026-01-01\""; MAX_HOLIDAYS + 1].join(",")
        );
        assert!(matches!(sla(&many).validate(), Err((None, SlaPolicyError::TooManyHolidays { .. }))));
    }
}
