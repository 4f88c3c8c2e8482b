//! "What if" on the team's own days: each day of the last weeks is fitted from what the
//! mirror saw (emails per hour, queue and language; calls when they are recorded), and
//! the simulator runs every one of them. A day is the base scenario's opening hours;
//! mail that arrived overnight is there at the opening, as it is for the team.
//! Handle and talk times are the team's means from its event log (`fit_times`), the base
//! scenario's where it records none.

use super::{Outcome, Scenario};
use serde::Serialize;
use std::collections::BTreeMap;

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// A customer email the mirror holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedEmail {
    pub received_ms: i64,
    pub queue: String,
    pub language: String,
}

/// What a fitted run stood on, for the supervisor to read beside its figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Basis {
    /// Days simulated (days with no email and no call are left out).
    pub days: u32,
    pub emails: u32,
    /// False: no call history is recorded, so each day has the base scenario's calls.
    pub calls_from_history: bool,
    /// The first and last day simulated (YYYY-MM-DD), when any.
    pub first_day: Option<String>,
    pub last_day: Option<String>,
    /// The mean handle time per reply and talk time per call (seconds) from the team's
    /// event log; `None`: none recorded, the base scenario's.
    pub handle_mean_s: Option<u32>,
    pub talk_mean_s: Option<u32>,
}

/// Put the team's recorded handle times (per reply) and talk times (per call), in ms,
/// into `base`: their means replace its `email_handle_mean_s` and `talk_mean_s` (a
/// value of 0 or less is no measurement). Returns the means used, as `Basis` says them.
pub fn fit_times(base: &mut Scenario, handle_ms: &[i64], talk_ms: &[i64]) -> (Option<u32>, Option<u32>) {
    let mean_s = |values: &[i64]| -> Option<u32> {
        let measured: Vec<i64> = values.iter().copied().filter(|ms| *ms > 0).collect();
        let sum: i64 = measured.iter().fold(0i64, |a, b| a.saturating_add(*b));
        // The scenario's bounds: 1 s to a day.
        (!measured.is_empty()).then(|| (sum / measured.len() as i64 / 1000).clamp(1, 86_400) as u32)
    };
    let (handle, talk) = (mean_s(handle_ms), mean_s(talk_ms));
    if let Some(s) = handle {
        base.email_handle_mean_s = s;
    }
    if let Some(s) = talk {
        base.talk_mean_s = s;
    }
    (handle, talk)
}

/// The days ending before `until_ms` (the last `days` calendar days), fitted from
/// `emails` and `calls` (call start times; empty when none are recorded) onto `base`.
pub fn fit_days(emails: &[ObservedEmail], calls: &[i64], base: &Scenario, until_ms: i64, days: u32) -> (Vec<Scenario>, Basis) {
    let hours = i64::from(base.hours.max(1));
    let open_offset = base.start_ms.rem_euclid(DAY_MS);
    let today = until_ms - until_ms.rem_euclid(DAY_MS);
    let mut out = Vec::new();
    let mut basis = Basis { calls_from_history: !calls.is_empty(), ..Basis::default() };
    for back in (1..=i64::from(days)).rev() {
        let open = today - back * DAY_MS + open_offset;
        let close = open + hours * HOUR_MS;
        // Overnight mail (since the day before closed) is waiting at the opening.
        let since = close - DAY_MS;
        let hour_of = |t: i64| ((t - open).max(0) / HOUR_MS) as usize;
        let mut email_weights = vec![0u32; hours as usize];
        let (mut queues, mut languages): (BTreeMap<String, u32>, BTreeMap<String, u32>) = Default::default();
        let mut n = 0u32;
        for e in emails.iter().filter(|e| e.received_ms >= since && e.received_ms < close) {
            email_weights[hour_of(e.received_ms)] += 1;
            *queues.entry(e.queue.clone()).or_default() += 1;
            *languages.entry(e.language.clone()).or_default() += 1;
            n += 1;
        }
        let mut call_weights = vec![0u32; hours as usize];
        let mut c = 0u32;
        for &t in calls.iter().filter(|&&t| t >= open && t < close) {
            call_weights[hour_of(t)] += 1;
            c += 1;
        }
        if n == 0 && c == 0 {
            continue;
        }
        let mut day = base.clone();
        day.start_ms = open;
        day.emails = n;
        // A day without email still needs weights the simulator can draw from.
        day.email_hour_weights = if n == 0 { vec![1; hours as usize] } else { email_weights };
        if n > 0 {
            day.queues = queues.into_iter().collect();
            day.languages = languages.into_iter().collect();
        }
        if basis.calls_from_history {
            day.calls = c;
            day.call_hour_weights = if c == 0 { vec![1; hours as usize] } else { call_weights };
        }
        let date = chrono::DateTime::from_timestamp_millis(open).map(|d| d.format("%Y-%m-%d").to_string());
        basis.first_day = basis.first_day.or_else(|| date.clone());
        basis.last_day = date;
        basis.days += 1;
        basis.emails += n;
        out.push(day);
    }
    (out, basis)
}

/// Several days' outcomes as one: counts added, per-queue SLA merged, per-advisor
/// occupancy averaged and emails handled added, the load spread averaged over the days.
pub fn combine(days: &[Outcome]) -> Option<Outcome> {
    let first = days.first()?;
    let mut all = Outcome { sla_met: Vec::new(), occupancy: Vec::new(), handled: Vec::new(), ..first.clone() };
    let zero = |o: &mut Outcome| {
        o.emails = 0;
        o.replied_within_1h = 0;
        o.replied_within_4h = 0;
        o.replied_within_24h = 0;
        o.replied_within_1_business_h = 0;
        o.replied_within_4_business_h = 0;
        o.replied_within_24_business_h = 0;
        o.backlog_at_close = 0;
        o.calls_offered = 0;
        o.calls_answered = 0;
        o.calls_abandoned = 0;
        o.claimed_during_calls = 0;
        o.handed_back = 0;
        o.load_spread = 0.0;
    };
    zero(&mut all);
    let mut sla: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let mut occupancy: BTreeMap<String, (f64, u32)> = BTreeMap::new();
    let mut handled: BTreeMap<String, u32> = BTreeMap::new();
    for d in days {
        all.emails += d.emails;
        all.replied_within_1h += d.replied_within_1h;
        all.replied_within_4h += d.replied_within_4h;
        all.replied_within_24h += d.replied_within_24h;
        all.replied_within_1_business_h += d.replied_within_1_business_h;
        all.replied_within_4_business_h += d.replied_within_4_business_h;
        all.replied_within_24_business_h += d.replied_within_24_business_h;
        all.backlog_at_close += d.backlog_at_close;
        all.calls_offered += d.calls_offered;
        all.calls_answered += d.calls_answered;
        all.calls_abandoned += d.calls_abandoned;
        all.claimed_during_calls += d.claimed_during_calls;
        all.handed_back += d.handed_back;
        all.load_spread += d.load_spread / days.len() as f64;
        for (q, n, met) in &d.sla_met {
            let e = sla.entry(q.clone()).or_default();
            e.0 += n;
            e.1 += met;
        }
        for (a, share) in &d.occupancy {
            let e = occupancy.entry(a.clone()).or_default();
            e.0 += share;
            e.1 += 1;
        }
        for (a, n) in &d.handled {
            *handled.entry(a.clone()).or_default() += n;
        }
    }
    all.sla_met = sla.into_iter().map(|(q, (n, met))| (q, n, met)).collect();
    all.occupancy = occupancy.into_iter().map(|(a, (sum, n))| (a, sum / f64::from(n))).collect();
    all.handled = handled.into_iter().collect();
    Some(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::{run, standard_scenario, Variant};

    fn email(at_ms: i64, queue: &str, language: &str) -> ObservedEmail {
        ObservedEmail { received_ms: at_ms, queue: queue.into(), language: language.into() }
    }

    /// The standard day opens 09:00 UTC for 9 hours. Two days of history: Monday with
    /// overnight mail and three in the day, Tuesday with none, Wednesday with one.
    #[test]
    fn each_day_is_fitted_from_its_own_mail_and_overnight_mail_waits_at_the_opening() {
        let base = standard_scenario();
        let monday_open = base.start_ms; // 2026-11-30T09:00Z
        let mon = monday_open - monday_open.rem_euclid(DAY_MS);
        let emails = [
            email(mon + 2 * HOUR_MS, "Support", "en"),                // 02:00, overnight → hour 0
            email(mon + 9 * HOUR_MS + 60_000, "Support", "zh"),       // 09:01 → hour 0
            email(mon + 11 * HOUR_MS + 5, "Billing", "en"),           // 11:00 → hour 2
            email(mon + 17 * HOUR_MS + 59 * 60_000, "Support", "en"), // 17:59 → hour 8
            email(mon + 18 * HOUR_MS, "Support", "en"),               // 18:00, after the close → Tuesday's hour 0
            email(mon + 2 * DAY_MS + 10 * HOUR_MS, "Billing", "zh"),  // Wednesday 10:00
        ];
        let until = mon + 3 * DAY_MS + 8 * HOUR_MS; // Thursday 08:00: three days back
        let (days, basis) = fit_days(&emails, &[], &base, until, 3);
        // Tuesday has the 18:00 email as overnight mail; all three days have mail.
        assert_eq!(days.len(), 3);
        assert_eq!(days[0].start_ms, monday_open);
        assert_eq!(days[0].emails, 4);
        assert_eq!(days[0].email_hour_weights, vec![2, 0, 1, 0, 0, 0, 0, 0, 1]);
        assert_eq!(days[0].queues, vec![("Billing".to_owned(), 1), ("Support".to_owned(), 3)]);
        assert_eq!(days[0].languages, vec![("en".to_owned(), 3), ("zh".to_owned(), 1)]);
        assert_eq!((days[1].emails, days[1].email_hour_weights[0]), (1, 1));
        assert_eq!((days[2].emails, days[2].email_hour_weights[1]), (1, 1));
        assert_eq!(days[0].calls, base.calls, "no call history: the base day's calls");
        assert_eq!(
            basis,
            Basis {
                days: 3,
                emails: 6,
                calls_from_history: false,
                first_day: Some("2026-11-30".into()),
                last_day: Some("2026-12-02".into()),
                handle_mean_s: None,
                talk_mean_s: None,
            }
        );
    }

    #[test]
    fn recorded_calls_replace_the_base_days_calls_and_empty_days_are_left_out() {
        let base = standard_scenario();
        let mon = base.start_ms - base.start_ms.rem_euclid(DAY_MS);
        let calls = [mon + 9 * HOUR_MS + 1, mon + 9 * HOUR_MS + 2, mon + 12 * HOUR_MS];
        let (days, basis) = fit_days(&[], &calls, &base, mon + 7 * DAY_MS, 7);
        assert_eq!(days.len(), 1, "six days with nothing are not simulated");
        assert_eq!((days[0].emails, days[0].calls), (0, 3));
        assert_eq!(days[0].call_hour_weights, vec![2, 0, 0, 1, 0, 0, 0, 0, 0]);
        assert!(basis.calls_from_history);
    }

    #[test]
    fn recorded_handle_and_talk_times_replace_the_base_days_means() {
        let mut day = standard_scenario();
        // Replies took 60 s and 120 s (a 0 is no measurement); calls 5 and 7 minutes.
        let used = fit_times(&mut day, &[60_000, 120_000, 0], &[300_000, 420_000]);
        assert_eq!(used, (Some(90), Some(360)));
        assert_eq!((day.email_handle_mean_s, day.talk_mean_s), (90, 360));
        // Nothing recorded: the base day's means stay, and say so.
        let mut day = standard_scenario();
        assert_eq!(fit_times(&mut day, &[], &[-5]), (None, None));
        assert_eq!((day.email_handle_mean_s, day.talk_mean_s), (90, 120));
        // Absurd values are held to the scenario's bounds.
        let mut day = standard_scenario();
        assert_eq!(fit_times(&mut day, &[1], &[i64::MAX, i64::MAX]), (Some(1), Some(86_400)));
    }

    #[test]
    fn combined_days_add_up() {
        let base = standard_scenario();
        let mut small = base.clone();
        small.emails = 100;
        small.calls = 50;
        let a = run(&small, Variant::Blendesk, 1);
        let b = run(&small, Variant::Blendesk, 2);
        let both = combine(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(both.emails, a.emails + b.emails);
        assert_eq!(both.replied_within_4_business_h, a.replied_within_4_business_h + b.replied_within_4_business_h);
        assert_eq!(both.replied_within_24h, a.replied_within_24h + b.replied_within_24h);
        assert_eq!(both.replied_within_1_business_h, a.replied_within_1_business_h + b.replied_within_1_business_h);
        assert_eq!(both.calls_answered, a.calls_answered + b.calls_answered);
        let sla_total: u32 = both.sla_met.iter().map(|(_, n, _)| n).sum();
        assert_eq!(sla_total, both.emails);
        assert!((both.load_spread - (a.load_spread + b.load_spread) / 2.0).abs() < 1e-9);
        assert!(combine(&[]).is_none());
    }
}
