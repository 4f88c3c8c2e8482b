//! Property tests for the blending rules: random sequences of calls, manual states,
//! idleness, cap changes and parking, checked against simple independent models.

use proptest::prelude::*;

use super::*;

fn manual_state() -> impl Strategy<Value = ManualState> {
    prop_oneof![Just(ManualState::Available), Just(ManualState::Away), Just(ManualState::Offline)]
}

fn advisor_event() -> impl Strategy<Value = AdvisorEvent> {
    prop_oneof![
        manual_state().prop_map(AdvisorEvent::Set),
        Just(AdvisorEvent::CallStart),
        Just(AdvisorEvent::CallEnd),
        Just(AdvisorEvent::Tick),
        Just(AdvisorEvent::Activity),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Event(AdvisorEvent),
    /// The advisor resolves one of their conversations, making room for a claim.
    Resolve,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![4 => advisor_event().prop_map(Step::Event), 1 => Just(Step::Resolve)]
}

/// What the advisor has told the app, tracked independently of the state machine:
/// claims are forbidden while logged out, manually away, on a call, or inside the
/// wrap-up window after a call.
#[derive(Debug, Default)]
struct Told {
    logged_in: bool,
    manually_away: bool,
    in_call: bool,
    wrap_up_until: Option<i64>,
}

impl Told {
    fn observe(&mut self, event: AdvisorEvent, now: i64, wrap_up_ms: i64) {
        match event {
            AdvisorEvent::Set(ManualState::Offline) => *self = Told::default(),
            // Away from offline is logging in, but not for work.
            AdvisorEvent::Set(ManualState::Away) if !self.in_call => {
                self.logged_in = true;
                self.manually_away = true;
                self.wrap_up_until = None;
            }
            AdvisorEvent::Set(ManualState::Available) if !self.in_call && self.wrap_up_until.is_none_or(|until| now >= until) => {
                self.logged_in = true;
                self.manually_away = false;
            }
            AdvisorEvent::CallStart if self.logged_in => {
                self.in_call = true;
                self.manually_away = false;
                self.wrap_up_until = None;
            }
            AdvisorEvent::CallEnd if self.in_call => {
                self.in_call = false;
                self.wrap_up_until = Some(now + wrap_up_ms);
            }
            _ => {}
        }
    }

    fn claim_forbidden(&self, now: i64) -> bool {
        !self.logged_in || self.manually_away || self.in_call || self.wrap_up_until.is_some_and(|until| now < until)
    }
}

#[derive(Debug, Clone)]
enum CapOp {
    SetCap(u32),
    /// The automatic claim loop runs until `can_claim` says stop.
    ClaimRound,
    Resolve(usize),
    WaitOnCustomer(usize),
    /// A customer answered: the conversation is active again (not a claim).
    CustomerReplied(usize),
    Park(usize),
    /// Time passes; due parked conversations return (not a claim).
    Advance(i64),
}

fn cap_op() -> impl Strategy<Value = CapOp> {
    prop_oneof![
        1 => (0u32..6).prop_map(CapOp::SetCap),
        3 => Just(CapOp::ClaimRound),
        1 => any::<usize>().prop_map(CapOp::Resolve),
        1 => any::<usize>().prop_map(CapOp::WaitOnCustomer),
        1 => any::<usize>().prop_map(CapOp::CustomerReplied),
        1 => any::<usize>().prop_map(CapOp::Park),
        1 => (0i64..120_000).prop_map(CapOp::Advance),
    ]
}

fn pick(convs: &[ConversationStatus], n: usize) -> Option<usize> {
    (!convs.is_empty()).then(|| n % convs.len())
}

#[derive(Debug, Clone)]
enum ParkOp {
    Add,
    Park { n: usize, return_after_ms: Option<i64> },
    Resolve(usize),
    Advance(i64),
    SetLimit(u32),
}

fn park_op(limit_changes: bool) -> impl Strategy<Value = ParkOp> {
    let set_limit_weight = if limit_changes { 1 } else { 0 };
    prop_oneof![
        2 => Just(ParkOp::Add),
        4 => (any::<usize>(), proptest::option::of(-10_000i64..200_000))
            .prop_map(|(n, return_after_ms)| ParkOp::Park { n, return_after_ms }),
        1 => any::<usize>().prop_map(ParkOp::Resolve),
        1 => (0i64..100_000).prop_map(ParkOp::Advance),
        set_limit_weight => (0u32..5).prop_map(ParkOp::SetLimit),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random call, manual, idle and tick events: a claim only ever happens while the
    /// advisor is available, and never during a call, its wrap-up, away or offline.
    #[test]
    fn no_claim_while_on_call_wrap_up_away_or_offline(
        steps in proptest::collection::vec((step(), 0i64..120_000), 1..200),
        wrap_up_seconds in 0u32..60,
        idle_to_away_seconds in 0u32..400,
        cap in 0u32..5,
    ) {
        let policy = Policy { wrap_up_seconds, idle_to_away_seconds, ..Policy::default() };
        let mut now = 1_700_000_000_000i64;
        let mut advisor = AdvisorPresence::new(now);
        let mut told = Told::default();
        let mut load = 0u32;
        for (step, dt) in steps {
            now += dt;
            match step {
                Step::Event(event) => {
                    advisor.apply(event, now, &policy);
                    told.observe(event, now, policy.wrap_up_ms());
                }
                Step::Resolve => load = load.saturating_sub(1),
            }
            let state = advisor.state();
            if state != AdvisorState::Available {
                prop_assert!(!may_claim(state));
                prop_assert!(!can_claim(u32::MAX, 0, state));
            }
            while can_claim(cap, load, advisor.state()) {
                prop_assert_eq!(advisor.state(), AdvisorState::Available);
                prop_assert!(!told.claim_forbidden(now), "claim at {} while {:?}", now, told);
                load += 1;
            }
        }
    }

    /// The automatic claim loop never takes the load above the cap, including after the
    /// cap is lowered mid-sequence; lowering the cap takes nothing away.
    #[test]
    fn automatic_claims_never_exceed_the_cap(
        start_cap in 0u32..6,
        ops in proptest::collection::vec(cap_op(), 1..200),
    ) {
        let policy = Policy { park_limit: 2, park_return_minutes: 1, ..Policy::default() };
        let mut cap = start_cap;
        let mut now = 0i64;
        let mut convs: Vec<ConversationStatus> = Vec::new();
        for op in ops {
            match op {
                CapOp::SetCap(new_cap) => {
                    let before = convs.clone();
                    cap = new_cap;
                    prop_assert_eq!(&convs, &before, "a cap change takes nothing away");
                }
                CapOp::ClaimRound => {
                    let load_before = load(&convs);
                    while can_claim(cap, load(&convs), AdvisorState::Available) {
                        convs.push(ConversationStatus::Active);
                        prop_assert!(load(&convs) <= cap, "claimed to {} over cap {}", load(&convs), cap);
                    }
                    let load_after = load(&convs);
                    prop_assert!(load_after <= cap.max(load_before));
                    if load_before >= cap {
                        prop_assert_eq!(load_after, load_before, "at or over cap: no claim");
                    }
                }
                CapOp::Resolve(n) => if let Some(i) = pick(&convs, n) {
                    convs[i] = ConversationStatus::Resolved;
                },
                CapOp::WaitOnCustomer(n) => if let Some(i) = pick(&convs, n) {
                    if convs[i] == ConversationStatus::Active {
                        convs[i] = ConversationStatus::WaitingOnCustomer;
                    }
                },
                CapOp::CustomerReplied(n) => if let Some(i) = pick(&convs, n) {
                    if convs[i] == ConversationStatus::WaitingOnCustomer {
                        convs[i] = ConversationStatus::Active;
                    }
                },
                CapOp::Park(n) => if let Some(i) = pick(&convs, n) {
                    if let Ok(parked) = park(convs[i], parked_count(&convs), None, now, &policy) {
                        convs[i] = parked;
                    }
                },
                CapOp::Advance(dt) => {
                    now += dt;
                    return_due_parked(convs.iter_mut(), now);
                }
            }
            prop_assert!(parked_count(&convs) <= policy.park_limit);
        }
    }

    /// With a fixed limit, the parked count never exceeds it, whatever is parked,
    /// resolved or returned and whenever.
    #[test]
    fn parked_count_never_exceeds_the_limit(
        park_limit in 0u32..5,
        ops in proptest::collection::vec(park_op(false), 1..200),
    ) {
        let mut policy = Policy { park_limit, park_return_minutes: 1, ..Policy::default() };
        let mut now = 0i64;
        let mut convs: Vec<ConversationStatus> = Vec::new();
        for op in ops {
            apply_park_op(&mut convs, &mut policy, &mut now, op);
            prop_assert!(parked_count(&convs) <= policy.park_limit);
            // Nothing stays parked past its return time once time has been applied.
            let overdue = convs.iter().any(|c| {
                matches!(c, ConversationStatus::Parked { return_at_ms } if *return_at_ms <= now)
            });
            prop_assert!(!overdue, "a parked conversation is past its return time");
        }
    }

    /// When the supervisor lowers the limit below the current count, nothing is
    /// unparked by force, but no new park succeeds until the count is below the limit.
    #[test]
    fn lowered_park_limit_refuses_new_parks(
        park_limit in 0u32..5,
        ops in proptest::collection::vec(park_op(true), 1..200),
    ) {
        let mut policy = Policy { park_limit, park_return_minutes: 1, ..Policy::default() };
        let mut now = 0i64;
        let mut convs: Vec<ConversationStatus> = Vec::new();
        for op in ops {
            let parked_before = parked_count(&convs);
            let limit_before = policy.park_limit;
            let newly_parked = matches!(op, ParkOp::Park { n, .. }
                if pick(&convs, n).is_some_and(|i| !convs[i].is_parked()));
            apply_park_op(&mut convs, &mut policy, &mut now, op);
            if newly_parked && parked_count(&convs) > parked_before {
                prop_assert!(parked_before < limit_before);
            }
            prop_assert!(parked_count(&convs) <= parked_before.max(policy.park_limit));
        }
    }

    /// Offer order: every offered email is either the advisor's own follow-up or is
    /// unowned (or its owner is gone) and within skills; own follow-ups come first.
    #[test]
    fn offer_order_respects_ownership_and_skills(
        emails in proptest::collection::vec(
            (0usize..3, 0usize..3, 0usize..4, any::<bool>(), 0i64..1_000, proptest::option::of(0i64..5_000_000)),
            0..40,
        ),
    ) {
        let queues = ["INBOX", "Billing", "Sales"];
        let languages = [Some("en"), Some("zh"), None];
        let owners = [None, Some("alice"), Some("bob"), Some("carol")];
        let alice = crate::advisor::AdvisorId::parse("alice").expect("valid id");
        let candidates: Vec<CandidateEmail<usize>> = emails
            .iter()
            .enumerate()
            .map(|(i, &(q, l, o, gone, received, due))| CandidateEmail {
                id: i,
                queue: queues[q].to_string(),
                language: languages[l].map(str::to_string),
                sender: "c@example.com".into(),
                subject: String::new(),
                body_excerpt: String::new(),
                received_at_ms: received,
                sla_due_at_ms: due,
                owner: owners[o].map(|s| crate::advisor::AdvisorId::parse(s).expect("valid id")),
                owner_offline_past_grace: gone,
            })
            .collect();
        let skills = Skills {
            queues: Some(["INBOX".to_string()].into()),
            languages: Some(["en".to_string()].into()),
        };
        let offered = offer_order(&candidates, &alice, &skills, &Policy::default(), 1_000_000);
        let mut seen_other = false;
        for email in &offered {
            let own = email.owner.as_ref() == Some(&alice);
            if own {
                prop_assert!(!seen_other, "own follow-ups first");
            } else {
                seen_other = true;
                prop_assert!(email.owner.is_none() || email.owner_offline_past_grace);
                prop_assert!(skills.covers_queue(&email.queue));
                prop_assert!(skills.covers_language(email.language.as_deref()));
            }
        }
        let own_total = candidates.iter().filter(|e| e.owner.as_ref() == Some(&alice)).count();
        prop_assert_eq!(offered.iter().filter(|e| e.owner.as_ref() == Some(&alice)).count(), own_total);
    }
}

fn apply_park_op(convs: &mut Vec<ConversationStatus>, policy: &mut Policy, now: &mut i64, op: ParkOp) {
    match op {
        ParkOp::Add => convs.push(ConversationStatus::Active),
        ParkOp::Park { n, return_after_ms } => {
            if let Some(i) = pick(convs, n) {
                let return_at = return_after_ms.map(|after| *now + after);
                if let Ok(parked) = park(convs[i], parked_count(convs.iter()), return_at, *now, policy) {
                    convs[i] = parked;
                }
            }
        }
        ParkOp::Resolve(n) => {
            if let Some(i) = pick(convs, n) {
                convs[i] = ConversationStatus::Resolved;
            }
        }
        ParkOp::Advance(dt) => {
            *now += dt;
            return_due_parked(convs.iter_mut(), *now);
        }
        ParkOp::SetLimit(limit) => policy.park_limit = limit,
    }
}
