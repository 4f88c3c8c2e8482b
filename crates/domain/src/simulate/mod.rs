//! The blending simulator: one day of a team, driven through the very rules the apps run
//! (the advisor state machine `AdvisorPresence::apply`, `can_take`, `offer_order`,
//! `my_share`, the SLA due time `due_at` on the queue's calendar), seeded and pure, so a
//! supervisor can see what a policy does before publishing it, and so the blending rules
//! can be measured against the ways teams work without them.
//!
//! The day advances in `TICK_MS` steps. Each step: new calls ring (to the longest-idle
//! available advisor who takes calls; after `abandon_after_s` unanswered they are lost),
//! the state machine ticks (wrap-up ends), advisors work their claimed emails while
//! available (one at a time, paused by a call), then every advisor with room claims the
//! email the team's matching gives them. Variants:
//! - `Blendesk`: the policy as written (email pauses during calls and wrap-up);
//! - `NoBlending`: half the advisors email-only, half phone-only (cap 0);
//! - `FixedCapNoPause`: emails are claimed up to the cap whatever the advisor is doing.

pub mod fit;

use crate::advisor::AdvisorId;
use crate::automation::sla::{business_minutes_between, due_at};
use crate::blending::pacing::{expected_gap_ms, pace, should_hand_back};
use crate::blending::{
    can_take, my_share, offer_order, AdvisorEvent, AdvisorPresence, AdvisorState, CandidateEmail, ManualState, Policy, Racer,
};
use crate::claim::fairness_wait;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The simulation's step.
pub const TICK_MS: i64 = 5_000;

/// The apps' fairness step (the claim loop's wait per conversation held).
const FAIRNESS_STEP: std::time::Duration = std::time::Duration::from_millis(50);

/// What an advisor does all day in a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Blended,
    EmailOnly,
    PhoneOnly,
}

/// Which way of working is simulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// The policy under test, with Blendesk's rules.
    Blendesk,
    /// Email-only and phone-only advisors (half each).
    NoBlending,
    /// Emails claimed up to the cap regardless of calls.
    FixedCapNoPause,
    /// The policy with gap-aware pacing switched on.
    BlendeskGapPacing,
    /// The policy with hand-back on long calls switched on.
    BlendeskHandBack,
}

impl Variant {
    pub const ALL: [Variant; 5] =
        [Variant::NoBlending, Variant::FixedCapNoPause, Variant::Blendesk, Variant::BlendeskGapPacing, Variant::BlendeskHandBack];

    pub fn label(self) -> &'static str {
        match self {
            Variant::Blendesk => "Blendesk",
            Variant::NoBlending => "no blending",
            Variant::FixedCapNoPause => "fixed cap, no pause",
            Variant::BlendeskGapPacing => "Blendesk + gap pacing",
            Variant::BlendeskHandBack => "Blendesk + hand-back",
        }
    }

    /// The policy this variant runs: the scenario's, with its switch on.
    fn policy(self, base: &Policy) -> Policy {
        let mut p = base.clone();
        match self {
            Variant::BlendeskGapPacing => p.gap_pacing = true,
            Variant::BlendeskHandBack => p.hand_back = true,
            _ => {}
        }
        p
    }
}

/// A day to simulate.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The day's opening (unix ms); advisors log in then and leave at the close.
    pub start_ms: i64,
    pub hours: u32,
    pub advisors: Vec<AdvisorId>,
    pub emails: u32,
    pub calls: u32,
    /// Relative arrivals per hour of the day (one weight per hour).
    pub email_hour_weights: Vec<u32>,
    pub call_hour_weights: Vec<u32>,
    /// (queue, weight) and (language, weight) of the emails.
    pub queues: Vec<(String, u32)>,
    pub languages: Vec<(String, u32)>,
    /// Mean handle time of an email and talk time of a call (exponential, bounded).
    pub email_handle_mean_s: u32,
    pub talk_mean_s: u32,
    /// A call nobody answers within this is lost.
    pub abandon_after_s: u32,
    pub policy: Policy,
    /// A day written out instead of drawn (`None`: drawn from the counts and weights).
    pub script: Option<Script>,
}

/// A day written out by hand: every email's and call's time and length, so a test can
/// compute the outcome itself. Emails may have arrived before the opening (overnight or
/// weekend mail waiting at the start); the queues counted are the scenario's `queues`.
#[derive(Debug, Clone, Default)]
pub struct Script {
    pub emails: Vec<ScriptedEmail>,
    pub calls: Vec<ScriptedCall>,
}

#[derive(Debug, Clone)]
pub struct ScriptedEmail {
    pub at_ms: i64,
    pub queue: String,
    pub language: String,
    /// The advisor's work on it (the app's estimate is taken to be exact).
    pub work_ms: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct ScriptedCall {
    pub at_ms: i64,
    pub talk_ms: i64,
}

impl Script {
    fn arrivals(&self) -> (Vec<Arrival>, Vec<Arrival>) {
        let mut emails: Vec<Arrival> = self
            .emails
            .iter()
            .map(|e| Arrival {
                at_ms: e.at_ms,
                queue: e.queue.clone(),
                language: e.language.clone(),
                work_ms: e.work_ms,
                estimate_ms: e.work_ms,
            })
            .collect();
        let mut calls: Vec<Arrival> = self
            .calls
            .iter()
            .map(|c| Arrival { at_ms: c.at_ms, queue: String::new(), language: String::new(), work_ms: c.talk_ms, estimate_ms: c.talk_ms })
            .collect();
        emails.sort_by_key(|a| a.at_ms);
        calls.sort_by_key(|a| a.at_ms);
        (emails, calls)
    }
}

/// One email's fate.
#[derive(Debug, Clone, Serialize)]
pub struct EmailRecord {
    pub queue: String,
    pub received_ms: i64,
    pub due_ms: Option<i64>,
    pub replied_ms: Option<i64>,
    pub claimed_by: Option<String>,
    pub claimed_during_call: bool,
}

/// What one run of a variant produced.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Outcome {
    pub variant: Variant,
    pub emails: u32,
    /// First replies within 1, 4 and 24 hours of calendar time.
    pub replied_within_1h: u32,
    pub replied_within_4h: u32,
    pub replied_within_24h: u32,
    /// First replies within 1, 4 and 24 business hours on the queue's calendar
    /// (`business_minutes_between`, as the SLA clocks and the analytics count them).
    pub replied_within_1_business_h: u32,
    pub replied_within_4_business_h: u32,
    pub replied_within_24_business_h: u32,
    /// Per queue: (queue, emails, replied by their SLA due time).
    pub sla_met: Vec<(String, u32, u32)>,
    /// Emails not answered when the day closed.
    pub backlog_at_close: u32,
    pub calls_offered: u32,
    pub calls_answered: u32,
    pub calls_abandoned: u32,
    /// Per advisor: (id, share of the day on calls, wrap-up or email).
    pub occupancy: Vec<(String, f64)>,
    /// Per advisor: emails answered.
    pub handled: Vec<(String, u32)>,
    /// Emails claimed while their advisor was on a call or in wrap-up.
    pub claimed_during_calls: u32,
    /// The busiest advisor's working time (calls, wrap-up, email) over the least busy one's.
    pub load_spread: f64,
    /// Emails given back to the queue during a long call (`pacing::should_hand_back`).
    pub handed_back: u32,
}

impl Outcome {
    pub fn first_replies_within_4_business_h_pct(&self) -> f64 {
        pct(self.replied_within_4_business_h, self.emails)
    }

    pub fn calls_answered_pct(&self) -> f64 {
        pct(self.calls_answered, self.calls_offered)
    }
}

fn pct(n: u32, of: u32) -> f64 {
    if of == 0 {
        100.0
    } else {
        f64::from(n) * 100.0 / f64::from(of)
    }
}

/// A small seeded generator (SplitMix64): the same seed gives the same day.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An index chosen by `weights`.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        if total == 0 {
            return 0;
        }
        let mut pick = self.next_u64() % total;
        for (i, w) in weights.iter().enumerate() {
            if pick < u64::from(*w) {
                return i;
            }
            pick -= u64::from(*w);
        }
        weights.len() - 1
    }

    /// Exponential with `mean`, bounded to [mean/10, 8 × mean].
    pub fn duration_ms(&mut self, mean_s: u32) -> i64 {
        let mean = f64::from(mean_s) * 1000.0;
        let x = -(1.0 - self.unit()).ln() * mean;
        x.clamp(mean / 10.0, mean * 8.0) as i64
    }
}

/// One arriving email or call, generated from the scenario.
#[derive(Debug, Clone)]
struct Arrival {
    at_ms: i64,
    queue: String,
    language: String,
    work_ms: i64,
    /// What the app would guess of `work_ms` (off by up to half either way).
    estimate_ms: i64,
}

fn arrivals(n: u32, hour_weights: &[u32], s: &Scenario, mean_s: u32, rng: &mut Rng) -> Vec<Arrival> {
    let mut out: Vec<Arrival> = (0..n)
        .map(|_| {
            let hour = rng.weighted(hour_weights).min(s.hours.saturating_sub(1) as usize) as i64;
            let at_ms = s.start_ms + hour * 3_600_000 + (rng.unit() * 3_600_000.0) as i64;
            let queue = s.queues[rng.weighted(&s.queues.iter().map(|q| q.1).collect::<Vec<_>>())].0.clone();
            let language = s.languages[rng.weighted(&s.languages.iter().map(|l| l.1).collect::<Vec<_>>())].0.clone();
            let work_ms = rng.duration_ms(mean_s);
            let estimate_ms = (work_ms as f64 * (0.5 + rng.unit())) as i64;
            Arrival { at_ms, queue, language, work_ms, estimate_ms }
        })
        .collect();
    out.sort_by_key(|a| a.at_ms);
    out
}

struct Advisor {
    id: AdvisorId,
    role: Role,
    presence: AdvisorPresence,
    /// Claimed emails (index into the records) and the work left on each, in claim order.
    claimed: Vec<(usize, i64)>,
    /// The current call's end.
    call_until_ms: Option<i64>,
    busy_ms: i64,
    handled: u32,
}

/// Run `variant` of `scenario` with `seed`. The same inputs give the same outcome.
pub fn run(scenario: &Scenario, variant: Variant, seed: u64) -> Outcome {
    let s = scenario;
    let policy = &variant.policy(&s.policy);
    let mut rng = Rng::new(seed);
    let (emails, calls) = match &s.script {
        Some(script) => script.arrivals(),
        None => (
            arrivals(s.emails, &s.email_hour_weights, s, s.email_handle_mean_s, &mut rng),
            arrivals(s.calls, &s.call_hour_weights, s, s.talk_mean_s, &mut rng),
        ),
    };
    let close_ms = s.start_ms + i64::from(s.hours) * 3_600_000;
    let half = s.advisors.len() / 2;
    let mut team: Vec<Advisor> = s
        .advisors
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let role = match variant {
                Variant::NoBlending if i < half => Role::EmailOnly,
                Variant::NoBlending => Role::PhoneOnly,
                _ => Role::Blended,
            };
            let mut presence = AdvisorPresence::new(s.start_ms);
            presence.apply(AdvisorEvent::Set(ManualState::Available), s.start_ms, policy);
            Advisor { id: id.clone(), role, presence, claimed: Vec::new(), call_until_ms: None, busy_ms: 0, handled: 0 }
        })
        .collect();
    let mut records: Vec<EmailRecord> = emails
        .iter()
        .map(|e| {
            let sla = policy.sla_for(&e.queue);
            let due_ms = DateTime::<Utc>::from_timestamp_millis(e.at_ms)
                .and_then(|t| due_at(t, sla.targets.first_response_minutes, &sla.calendar))
                .map(|d| d.timestamp_millis());
            EmailRecord {
                queue: e.queue.clone(),
                received_ms: e.at_ms,
                due_ms,
                replied_ms: None,
                claimed_by: None,
                claimed_during_call: false,
            }
        })
        .collect();
    // Waiting emails: (record index) in arrival order.
    let mut waiting: Vec<usize> = Vec::new();
    let mut next_email = 0;
    let mut ringing: std::collections::VecDeque<(i64, i64)> = Default::default(); // (rang at, talk ms)
    let mut next_call = 0;
    let (mut offered, mut answered, mut abandoned, mut handed_back) = (0u32, 0u32, 0u32, 0u32);
    // Work left on each email: a handed-back email keeps what its first advisor did.
    let mut work_left: Vec<i64> = emails.iter().map(|e| e.work_ms).collect();
    let pace_with = Pacing { calls: calls.len() as u32, hour_weights: &s.call_hour_weights, start_ms: s.start_ms };

    let mut now = s.start_ms;
    while now < close_ms {
        while next_email < emails.len() && emails[next_email].at_ms <= now {
            waiting.push(next_email);
            next_email += 1;
        }
        while next_call < calls.len() && calls[next_call].at_ms <= now {
            ringing.push_back((calls[next_call].at_ms, calls[next_call].work_ms));
            offered += 1;
            next_call += 1;
        }
        // Calls end, wrap-up ends (the state machine's own clock).
        for a in &mut team {
            if a.call_until_ms.is_some_and(|end| end <= now) {
                a.call_until_ms = None;
                a.presence.apply(AdvisorEvent::CallEnd, now, policy);
            }
            a.presence.apply(AdvisorEvent::Tick, now, policy);
            a.presence.apply(AdvisorEvent::Activity, now, policy);
        }
        // Calls: lost after the abandon time, else to the longest-idle available advisor.
        while ringing.front().is_some_and(|(rang, _)| now - rang > i64::from(s.abandon_after_s) * 1000) {
            ringing.pop_front();
            abandoned += 1;
        }
        while let Some(&(_, talk_ms)) = ringing.front() {
            let Some(a) = team
                .iter_mut()
                .filter(|a| a.role != Role::EmailOnly && a.presence.state() == AdvisorState::Available)
                .min_by_key(|a| (a.presence.since_ms(), a.id.as_str().to_owned()))
            else {
                break;
            };
            ringing.pop_front();
            answered += 1;
            a.presence.apply(AdvisorEvent::CallStart, now, policy);
            a.call_until_ms = Some(now + talk_ms);
        }
        // Hand back: a long call gives back the claimed emails whose promise it threatens.
        if policy.hand_back {
            for a in team.iter_mut().filter(|a| a.presence.state() == AdvisorState::OnCall) {
                let on_call_ms = now - a.presence.since_ms();
                let (keep, give): (Vec<_>, Vec<_>) = a
                    .claimed
                    .drain(..)
                    .partition(|&(r, left)| !should_hand_back(now, on_call_ms, policy.wrap_up_ms(), left, records[r].due_ms, false));
                a.claimed = keep;
                for (r, left) in give {
                    work_left[r] = left;
                    records[r].claimed_by = None;
                    waiting.push(r);
                    handed_back += 1;
                }
            }
            waiting.sort_by_key(|&r| (emails[r].at_ms, r));
        }
        // Work: calls and wrap-up keep an advisor busy; an available one works the
        // oldest claimed email.
        for a in &mut team {
            match a.presence.state() {
                AdvisorState::OnCall | AdvisorState::WrapUp => a.busy_ms += TICK_MS,
                AdvisorState::Available if !a.claimed.is_empty() => {
                    a.busy_ms += TICK_MS;
                    a.claimed[0].1 -= TICK_MS;
                    if a.claimed[0].1 <= 0 {
                        let (record, _) = a.claimed.remove(0);
                        records[record].replied_ms = Some(now + TICK_MS);
                        a.handled += 1;
                    }
                }
                _ => {}
            }
        }
        claim_round(&mut team, &mut waiting, &mut records, &emails, &work_left, policy, variant, &pace_with, &mut rng, now);
        now += TICK_MS;
    }

    let backlog_at_close = records.iter().filter(|r| r.replied_ms.is_none()).count() as u32;
    let (calendar_h, business_h) = first_replies_within(&records, policy);
    let mut sla_met: Vec<(String, u32, u32)> = Vec::new();
    for (queue, _) in &s.queues {
        let of_queue: Vec<&EmailRecord> = records.iter().filter(|r| &r.queue == queue).collect();
        let met = of_queue.iter().filter(|r| r.replied_ms.zip(r.due_ms).is_some_and(|(t, due)| t <= due)).count() as u32;
        sla_met.push((queue.clone(), of_queue.len() as u32, met));
    }
    let day_ms = (close_ms - s.start_ms).max(1) as f64;
    let busy: Vec<i64> = team.iter().map(|a| a.busy_ms).collect();
    let (most, least) = (busy.iter().copied().max().unwrap_or(0), busy.iter().copied().min().unwrap_or(0));
    Outcome {
        variant,
        emails: records.len() as u32,
        replied_within_1h: calendar_h[0],
        replied_within_4h: calendar_h[1],
        replied_within_24h: calendar_h[2],
        replied_within_1_business_h: business_h[0],
        replied_within_4_business_h: business_h[1],
        replied_within_24_business_h: business_h[2],
        sla_met,
        backlog_at_close,
        calls_offered: offered,
        calls_answered: answered,
        calls_abandoned: abandoned + ringing.len() as u32,
        occupancy: team.iter().map(|a| (a.id.as_str().to_owned(), a.busy_ms as f64 / day_ms)).collect(),
        handled: team.iter().map(|a| (a.id.as_str().to_owned(), a.handled)).collect(),
        claimed_during_calls: records.iter().filter(|r| r.claimed_during_call).count() as u32,
        load_spread: if least == 0 { f64::INFINITY } else { most as f64 / least as f64 },
        handed_back,
    }
}

/// The first-reply limits of the outcome, in hours.
const FIRST_REPLY_HOURS: [i64; 3] = [1, 4, 24];

/// First replies within each of `FIRST_REPLY_HOURS`, in calendar time and in business
/// time on the queue's calendar; a limit reached to the minute counts as met (as the
/// analytics' SLA attainment counts it).
fn first_replies_within(records: &[EmailRecord], policy: &Policy) -> ([u32; 3], [u32; 3]) {
    let mut calendars = std::collections::HashMap::new();
    let (mut calendar, mut business) = ([0u32; 3], [0u32; 3]);
    for r in records {
        let Some(replied_ms) = r.replied_ms else { continue };
        let sla = calendars.entry(r.queue.as_str()).or_insert_with(|| policy.sla_for(&r.queue));
        let business_minutes = DateTime::<Utc>::from_timestamp_millis(r.received_ms)
            .zip(DateTime::<Utc>::from_timestamp_millis(replied_ms))
            .map_or(i64::MAX, |(a, b)| business_minutes_between(a, b, &sla.calendar));
        for (i, hours) in FIRST_REPLY_HOURS.iter().enumerate() {
            calendar[i] += u32::from(replied_ms - r.received_ms <= hours * 3_600_000);
            business[i] += u32::from(business_minutes <= hours * 60);
        }
    }
    (calendar, business)
}

/// What gap-aware pacing needs of the scenario: the expected call rate by hour.
struct Pacing<'a> {
    calls: u32,
    hour_weights: &'a [u32],
    start_ms: i64,
}

impl Pacing<'_> {
    fn calls_per_hour(&self, now_ms: i64) -> f64 {
        let total: u32 = self.hour_weights.iter().sum();
        let hour = ((now_ms - self.start_ms) / 3_600_000).max(0) as usize;
        match self.hour_weights.get(hour) {
            Some(w) if total > 0 => f64::from(self.calls) * f64::from(*w) / f64::from(total),
            _ => 0.0,
        }
    }
}

/// Every advisor with room claims the email the team's matching gives them (the apps'
/// `offer_order` and `my_share`), one claim each per round, in id order.
#[allow(clippy::too_many_arguments)]
fn claim_round(
    team: &mut [Advisor],
    waiting: &mut Vec<usize>,
    records: &mut [EmailRecord],
    emails: &[Arrival],
    work_left: &[i64],
    policy: &Policy,
    variant: Variant,
    pacing: &Pacing<'_>,
    rng: &mut Rng,
    now: i64,
) {
    let may_take = |a: &Advisor| -> bool {
        let cap = if a.role == Role::PhoneOnly { 0 } else { policy.cap_for(&a.id) };
        let load = a.claimed.len() as u32;
        match variant {
            // The naive rule: a free slot is enough, whatever the advisor is doing.
            Variant::FixedCapNoPause => can_take(cap, load, AdvisorState::Available, false),
            _ => can_take(cap, load, a.presence.state(), false),
        }
    };
    // Who tries first: the apps' own fairness wait (less load first, jitter breaks ties).
    let mut order_ix: Vec<(std::time::Duration, usize)> =
        (0..team.len()).map(|i| (fairness_wait(team[i].claimed.len() as u32, FAIRNESS_STEP, rng.unit()), i)).collect();
    order_ix.sort();
    for (_, i) in order_ix {
        if waiting.is_empty() {
            return;
        }
        if !may_take(&team[i]) {
            continue;
        }
        let candidates: Vec<CandidateEmail<usize>> = waiting
            .iter()
            .map(|&r| CandidateEmail {
                id: r,
                queue: emails[r].queue.clone(),
                language: Some(emails[r].language.clone()),
                sender: String::new(),
                subject: String::new(),
                body_excerpt: String::new(),
                received_at_ms: emails[r].at_ms,
                sla_due_at_ms: records[r].due_ms,
                owner: None,
                owner_offline_past_grace: false,
            })
            .collect();
        let me = &team[i];
        let order = offer_order(&candidates, &me.id, policy.skills_for(&me.id), policy, now);
        let racers: Vec<Racer<'_>> = team
            .iter()
            .filter(|a| a.id != me.id && may_take(a))
            .map(|a| Racer { id: a.id.as_str(), skills: policy.skills_for(&a.id), load: a.claimed.len() as u32 })
            .collect();
        let mine = Racer { id: me.id.as_str(), skills: policy.skills_for(&me.id), load: me.claimed.len() as u32 };
        let Some(mut pick) = my_share(&order, &racers, mine) else { continue };
        if policy.gap_pacing && me.role != Role::EmailOnly {
            // Advisors idle longer than me take the next calls first.
            let ahead = team
                .iter()
                .filter(|a| {
                    a.role != Role::EmailOnly
                        && a.presence.state() == AdvisorState::Available
                        && a.presence.since_ms() < me.presence.since_ms()
                })
                .count();
            if let Some(gap) = expected_gap_ms(pacing.calls_per_hour(now), ahead) {
                pick = pace(&order, pick, |e| emails[e.id].estimate_ms, gap, now, policy.sla_at_risk_ms());
            }
        }
        let record = order[pick].id;
        let during_call = matches!(me.presence.state(), AdvisorState::OnCall | AdvisorState::WrapUp);
        waiting.retain(|&r| r != record);
        records[record].claimed_by = Some(me.id.as_str().to_owned());
        records[record].claimed_during_call = during_call;
        team[i].claimed.push((record, work_left[record]));
    }
}

/// The standard day of the acceptance: 8 advisors, 2 queues, 2 languages, 1,200 emails
/// and 900 calls in a 9-hour day (Monday 2026-11-30, 09:00–18:00 UTC), short contacts
/// (email 1.5 min, talk 2 min on average), 15 s wrap-up, a cap of 3: about 90 % of the
/// team's time is work.
pub fn standard_scenario() -> Scenario {
    let start_ms = DateTime::parse_from_rfc3339("2026-11-30T09:00:00Z").map(|t| t.timestamp_millis()).unwrap_or(0);
    let advisors = (1..=8).filter_map(|i| AdvisorId::parse(&format!("adv{i}")).ok()).collect();
    Scenario {
        start_ms,
        hours: 9,
        advisors,
        emails: 1_200,
        calls: 900,
        // Mornings are busiest for email, lunchtime and late afternoon for calls.
        email_hour_weights: vec![16, 14, 12, 10, 10, 10, 9, 8, 6],
        call_hour_weights: vec![9, 11, 12, 13, 11, 10, 12, 12, 10],
        queues: vec![("Support".into(), 2), ("Billing".into(), 1)],
        languages: vec![("en".into(), 3), ("zh".into(), 2)],
        email_handle_mean_s: 90,
        talk_mean_s: 120,
        abandon_after_s: 120,
        policy: Policy { default_cap: 3, wrap_up_seconds: 15, idle_to_away_seconds: 0, ..Policy::default() },
        script: None,
    }
}

/// A scenario file: the standard day with any of its settings replaced (JSON; every
/// field optional). `queues` and `languages` map names to weights.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScenarioFile {
    /// The day's opening, RFC 3339 (e.g. "2026-11-30T09:00:00Z").
    pub start: Option<String>,
    pub hours: Option<u32>,
    pub advisors: Option<Vec<String>>,
    pub emails: Option<u32>,
    pub calls: Option<u32>,
    pub email_hour_weights: Option<Vec<u32>>,
    pub call_hour_weights: Option<Vec<u32>>,
    pub queues: Option<std::collections::BTreeMap<String, u32>>,
    pub languages: Option<std::collections::BTreeMap<String, u32>>,
    pub email_handle_mean_s: Option<u32>,
    pub talk_mean_s: Option<u32>,
    pub abandon_after_s: Option<u32>,
}

/// The most emails or calls a scenario may ask for (a day of a very large team).
pub const MAX_CONTACTS: u32 = 200_000;

impl ScenarioFile {
    /// The standard day with this file's settings, or what is wrong with them.
    pub fn scenario(&self) -> Result<Scenario, String> {
        let mut s = standard_scenario();
        if let Some(start) = &self.start {
            s.start_ms = DateTime::parse_from_rfc3339(start).map_err(|e| format!("start {start:?}: {e}"))?.timestamp_millis();
        }
        if let Some(hours) = self.hours {
            if !(1..=24).contains(&hours) {
                return Err(format!("hours must be 1 to 24, not {hours}"));
            }
            s.hours = hours;
            s.email_hour_weights = vec![1; hours as usize];
            s.call_hour_weights = vec![1; hours as usize];
        }
        if let Some(ids) = &self.advisors {
            if ids.is_empty() {
                return Err("advisors: at least one".into());
            }
            s.advisors = ids.iter().map(|i| AdvisorId::parse(i).map_err(|e| format!("advisor {i:?}: {e}"))).collect::<Result<_, _>>()?;
        }
        for (name, value, field) in [("emails", self.emails, &mut s.emails), ("calls", self.calls, &mut s.calls)] {
            if let Some(v) = value {
                if v > MAX_CONTACTS {
                    return Err(format!("{name}: at most {MAX_CONTACTS}, not {v}"));
                }
                *field = v;
            }
        }
        for (name, value, field) in [
            ("email_hour_weights", &self.email_hour_weights, &mut s.email_hour_weights),
            ("call_hour_weights", &self.call_hour_weights, &mut s.call_hour_weights),
        ] {
            if let Some(w) = value {
                if w.len() != s.hours as usize || w.iter().all(|x| *x == 0) {
                    return Err(format!("{name}: one weight per hour ({}), not all zero", s.hours));
                }
                *field = w.clone();
            }
        }
        for (name, value, field) in [("queues", &self.queues, &mut s.queues), ("languages", &self.languages, &mut s.languages)] {
            if let Some(m) = value {
                if m.is_empty() || m.values().all(|w| *w == 0) {
                    return Err(format!("{name}: at least one with a weight above 0"));
                }
                *field = m.iter().map(|(k, v)| (k.clone(), *v)).collect();
            }
        }
        for (name, value, field) in [
            ("email_handle_mean_s", self.email_handle_mean_s, &mut s.email_handle_mean_s),
            ("talk_mean_s", self.talk_mean_s, &mut s.talk_mean_s),
            ("abandon_after_s", self.abandon_after_s, &mut s.abandon_after_s),
        ] {
            if let Some(v) = value {
                if !(1..=86_400).contains(&v) {
                    return Err(format!("{name}: 1 to 86400 seconds, not {v}"));
                }
                *field = v;
            }
        }
        Ok(s)
    }
}

/// The outcome table: one row per variant. First replies within 1, 4 and 24 hours of
/// calendar time ("h") and of business time on the queue's calendar ("bh").
pub fn table(outcomes: &[Outcome]) -> String {
    let mut out = String::from(
        "                       first replies within (h: calendar hours, bh: business hours)\n\
         variant                   1h     4h    24h    1bh    4bh   24bh  backlog  calls answered  abandoned  claimed in calls  load max/min  handed back\n",
    );
    for o in outcomes {
        out.push_str(&format!("{:<22}", o.variant.label()));
        for n in [
            o.replied_within_1h,
            o.replied_within_4h,
            o.replied_within_24h,
            o.replied_within_1_business_h,
            o.replied_within_4_business_h,
            o.replied_within_24_business_h,
        ] {
            out.push_str(&format!(" {:>5.1}%", pct(n, o.emails)));
        }
        out.push_str(&format!(
            " {:>8} {:>14.1}% {:>10} {:>17} {:>13.2} {:>12}\n",
            o.backlog_at_close,
            o.calls_answered_pct(),
            o.calls_abandoned,
            o.claimed_during_calls,
            o.load_spread,
            o.handed_back,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> AdvisorId {
        AdvisorId::parse(s).expect("id")
    }

    #[test]
    fn the_same_seed_gives_the_same_day() {
        let s = standard_scenario();
        let (a, b) = (run(&s, Variant::Blendesk, 7), run(&s, Variant::Blendesk, 7));
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_ne!(format!("{a:?}"), format!("{:?}", run(&s, Variant::Blendesk, 8)), "the seed matters");
    }

    fn at(rfc3339: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc3339).expect("time").timestamp_millis()
    }

    /// A scripted small day, computed by hand. Monday 2026-11-30, 06:00–20:00 UTC; one
    /// advisor, cap 1, 1-minute wrap-up; business hours Mon–Fri 09:00–17:00 UTC, first
    /// replies promised within 4 business hours. An email claimed at `c` with `w` of work
    /// and no call is answered at `c + w + 5 s` (work starts the tick after the claim),
    /// and the next is claimed at `c + w`.
    ///
    /// | email | arrives        | work  | claimed  | answered | calendar | business min |
    /// | e0    | Fri 16:00      | 10 m  | 06:00:00 | 06:10:05 | 62 h 10  | 60 (Fri 16–17) |
    /// | e1    | 06:00          | 30 m  | 06:10:00 | 06:40:05 | 40 m     | 0    |
    /// | e2    | 06:10          | 3 h   | 06:40:00 | 09:40:05 | 3 h 30   | 40   |
    /// | e3    | 06:20          | 2 h   | 09:40:00 | 11:40:05 | 5 h 20   | 160  |
    /// | e4    | 07:00          | 4 h   | 11:40:00 | 15:51:05 | 8 h 51   | 411  |
    /// | e5    | 15:00          | 5 h   | 15:51:00 | —        |          |      |
    ///
    /// e4 is paused by a call ringing at 12:00:00 (10 minutes of talk, answered at once:
    /// she is the only advisor and available) and its wrap-up to 12:11:00: 11 minutes.
    /// e5 would need until 20:51: unanswered at the close. Due times (4 business hours):
    /// e0 Mon 12:00, e1–e4 Mon 13:00: e0–e3 met, e4 and e5 missed.
    #[test]
    fn a_scripted_small_day_matches_its_hand_computed_outcome() {
        let mut s = standard_scenario();
        s.start_ms = at("2026-11-30T06:00:00Z");
        s.hours = 14;
        s.advisors = vec![id("solo")];
        s.queues = vec![("Support".into(), 1)];
        s.policy = Policy::parse(
            br#"{"version": 1, "default_cap": 1, "wrap_up_seconds": 60, "idle_to_away_seconds": 0,
                 "sla": {"default": {"first_response_minutes": 240, "calendar": {"time_zone": "UTC",
                   "hours": {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"], "wed": ["09:00-17:00"],
                             "thu": ["09:00-17:00"], "fri": ["09:00-17:00"]}}}}}"#,
        )
        .expect("policy");
        let email = |when: &str, work_min: i64| ScriptedEmail {
            at_ms: at(when),
            queue: "Support".into(),
            language: "en".into(),
            work_ms: work_min * 60_000,
        };
        s.script = Some(Script {
            emails: vec![
                email("2026-11-27T16:00:00Z", 10),
                email("2026-11-30T06:00:00Z", 30),
                email("2026-11-30T06:10:00Z", 180),
                email("2026-11-30T06:20:00Z", 120),
                email("2026-11-30T07:00:00Z", 240),
                email("2026-11-30T15:00:00Z", 300),
            ],
            calls: vec![ScriptedCall { at_ms: at("2026-11-30T12:00:00Z"), talk_ms: 10 * 60_000 }],
        });
        let o = run(&s, Variant::Blendesk, 1);
        assert_eq!(o.emails, 6);
        // Calendar time: e1 within 1 h; e2 within 4 h; e3 and e4 within 24 h (e0 waited the weekend).
        assert_eq!((o.replied_within_1h, o.replied_within_4h, o.replied_within_24h), (1, 2, 4), "{o:?}");
        // Business time: e0 (60 min, the limit itself), e1 and e2 within 1 h; e3 within 4; e4 within 24.
        assert_eq!((o.replied_within_1_business_h, o.replied_within_4_business_h, o.replied_within_24_business_h), (3, 4, 5), "{o:?}");
        assert_eq!(o.sla_met, [("Support".to_owned(), 6, 4)]);
        assert_eq!(o.handled, [("solo".to_owned(), 5)]);
        assert_eq!(o.backlog_at_close, 1);
        assert_eq!((o.calls_offered, o.calls_answered, o.calls_abandoned), (1, 1, 0));
        assert_eq!((o.claimed_during_calls, o.handed_back), (0, 0));
        // Busy from the first work tick (06:00:05) to the close: every 5-s tick but one.
        let ticks = 14 * 720;
        assert_eq!(o.occupancy.len(), 1);
        assert!((o.occupancy[0].1 - f64::from(ticks - 1) / f64::from(ticks)).abs() < 1e-9, "{o:?}");
        assert_eq!(o.load_spread, 1.0);
        assert_eq!(format!("{o:?}"), format!("{:?}", run(&s, Variant::Blendesk, 99)), "a script leaves nothing to the seed");
    }

    #[test]
    fn the_standard_day_meets_its_targets_with_blendesk() {
        let s = standard_scenario();
        for seed in 1..=3 {
            let o: Vec<Outcome> = Variant::ALL.iter().map(|v| run(&s, *v, seed)).collect();
            println!("seed {seed}\n{}", table(&o));
            let (none, naive, blendesk) = (&o[0], &o[1], &o[2]);
            for switched in &o[3..] {
                assert_eq!(switched.claimed_during_calls, 0, "{switched:?}");
                assert!(switched.first_replies_within_4_business_h_pct() >= 95.0, "{switched:?}");
            }
            assert!(blendesk.first_replies_within_4_business_h_pct() >= 95.0, "{blendesk:?}");
            assert_eq!(blendesk.claimed_during_calls, 0);
            assert!(blendesk.load_spread <= 1.5, "{blendesk:?}");
            assert!(blendesk.calls_answered >= none.calls_answered, "calls answered no worse than without blending");
            assert!(naive.claimed_during_calls > 0, "the naive baseline claims during calls");
            for o in &o {
                // Business time never exceeds calendar time; a longer limit holds more.
                let calendar = [o.replied_within_1h, o.replied_within_4h, o.replied_within_24h];
                let business = [o.replied_within_1_business_h, o.replied_within_4_business_h, o.replied_within_24_business_h];
                assert!(calendar.is_sorted() && business.is_sorted(), "{o:?}");
                assert!(calendar.iter().zip(business).all(|(c, b)| *c <= b), "{o:?}");
                assert!(business[2] <= o.emails - o.backlog_at_close, "{o:?}");
            }
        }
    }

    #[test]
    fn a_scenario_file_replaces_what_it_names_and_refuses_nonsense() {
        let f: ScenarioFile =
            serde_json::from_str(r#"{"advisors": ["ann", "bo"], "hours": 2, "emails": 30, "calls": 0, "queues": {"Sales": 1}}"#).unwrap();
        let s = f.scenario().unwrap();
        assert_eq!((s.advisors.len(), s.hours, s.emails, s.calls), (2, 2, 30, 0));
        let o = run(&s, Variant::Blendesk, 1);
        assert_eq!(o.emails, 30);
        assert_eq!(o.sla_met.len(), 1);
        for (bad, why) in [
            (r#"{"hours": 0}"#, "hours must be 1 to 24"),
            (r#"{"advisors": []}"#, "advisors"),
            (r#"{"hours": 2, "email_hour_weights": [1]}"#, "one weight per hour"),
            (r#"{"emails": 9999999}"#, "at most"),
            (r#"{"talk_mean_s": 0}"#, "talk_mean_s"),
            (r#"{"start": "monday"}"#, "start"),
        ] {
            let err = serde_json::from_str::<ScenarioFile>(bad).unwrap().scenario().unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
        assert!(serde_json::from_str::<ScenarioFile>(r#"{"emailz": 3}"#).is_err(), "unknown fields are refused");
    }

    /// The simulator must drive the apps' own rules, never a copy of them.
    #[test]
    fn the_simulator_calls_the_apps_rules_and_defines_none_of_its_own() {
        let src = include_str!("mod.rs");
        let code = src.split("#[cfg(test)]").next().unwrap_or_default();
        for used in ["offer_order(", "my_share(", "can_take(", "presence.apply(", "due_at(", "fairness_wait(", "pace(", "should_hand_back("]
        {
            assert!(code.contains(used), "the simulator no longer calls {used}");
        }
        for rule in [
            "fn offer_order",
            "fn my_share",
            "fn can_take",
            "fn can_claim",
            "fn may_claim",
            "fn due_at",
            "fn apply(",
            "fn fairness_wait",
            "fn pace",
            "fn should_hand_back",
        ] {
            assert!(!code.contains(rule), "the simulator re-implements {rule}");
        }
    }

    /// Long calls and a 30-minute promise: with hand-back on, emails caught under a long
    /// call go back to the queue and more promises are kept, on the same seeds.
    #[test]
    fn hand_back_keeps_promises_that_long_calls_would_break() {
        let mut s = standard_scenario();
        s.hours = 4;
        s.emails = 120;
        s.calls = 40;
        s.email_hour_weights = vec![1; 4];
        s.call_hour_weights = vec![1; 4];
        s.talk_mean_s = 20 * 60;
        s.email_handle_mean_s = 300;
        s.policy = Policy::parse(
            br#"{"version": 1, "default_cap": 3, "wrap_up_seconds": 30, "idle_to_away_seconds": 0,
                 "sla": {"default": {"first_response_minutes": 30, "calendar": {"time_zone": "UTC",
                   "hours": {"mon": ["00:00-24:00"], "tue": ["00:00-24:00"], "wed": ["00:00-24:00"], "thu": ["00:00-24:00"],
                             "fri": ["00:00-24:00"], "sat": ["00:00-24:00"], "sun": ["00:00-24:00"]}}}}}"#,
        )
        .expect("policy");
        let (mut kept_off, mut kept_on, mut handed) = (0, 0, 0);
        for seed in 1..=5 {
            let met = |o: &Outcome| o.sla_met.iter().map(|(_, _, met)| met).sum::<u32>();
            let off = run(&s, Variant::Blendesk, seed);
            let on = run(&s, Variant::BlendeskHandBack, seed);
            assert_eq!(off.handed_back, 0);
            kept_off += met(&off);
            kept_on += met(&on);
            handed += on.handed_back;
            assert_eq!(on.claimed_during_calls, 0);
        }
        println!("30-minute promises kept over 5 days of long calls: {kept_off} without hand-back, {kept_on} with ({handed} handed back)");
        assert!(handed > 0, "long calls hand emails back");
        assert!(kept_on > kept_off, "hand-back keeps more promises: {kept_on} vs {kept_off}");
    }

    #[test]
    fn a_call_pauses_email_for_the_call_and_its_wrap_up() {
        // Calls all day, one advisor: with Blendesk's rules no email is claimed while on
        // a call; the naive rule claims during calls.
        let mut s = standard_scenario();
        s.advisors = vec![id("solo")];
        s.hours = 2;
        s.emails = 40;
        s.calls = 60;
        s.email_hour_weights = vec![1, 1];
        s.call_hour_weights = vec![1, 1];
        let blendesk = run(&s, Variant::Blendesk, 3);
        let naive = run(&s, Variant::FixedCapNoPause, 3);
        assert_eq!(blendesk.claimed_during_calls, 0);
        assert!(naive.claimed_during_calls > 0, "{naive:?}");
    }
}
