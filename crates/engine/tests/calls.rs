//! Calls as data, against the real Dovecot: a call reported with its id, the customer's
//! number and direction is timed, waits through wrap-up for the advisor's disposition,
//! and reaches the team's event log with all of it; a call whose wrap-up ends without a
//! disposition is recorded without one.

use blendesk_domain::activity::{ActivityKind, Disposition};
use blendesk_domain::blending::{AdvisorEvent, AdvisorState, ManualState, Policy};
use blendesk_engine::calls::CallInfo;
use blendesk_engine::clock::ManualClock;
use blendesk_testkit::Desk;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_recorded_with_its_number_talk_time_and_disposition() {
    let desk = Desk::new("calls");
    let engine = desk.engine();
    let policy = Policy::parse(br#"{"version": 1, "wrap_up_seconds": 60, "idle_to_away_seconds": 0}"#).unwrap();
    engine.publish_policy(&policy).await.unwrap();
    engine.load_policy().await.unwrap();
    let clock = Arc::new(ManualClock::starting_at(engine.now_ms()));
    engine.use_clock(clock.clone());
    engine.presence_event(AdvisorEvent::Set(ManualState::Available));

    let info = CallInfo { id: Some("c-1".into()), number: Some("+8613800138000".into()), direction: Some("inbound".into()) };
    assert_eq!(engine.call_event(true, info), AdvisorState::OnCall);
    // 185 s on the line, 40 of them with the customer on hold (a second hold event is
    // no new hold).
    clock.advance(100_000);
    assert_eq!(engine.call_hold(true), AdvisorState::OnCall);
    clock.advance(20_000);
    engine.call_hold(true);
    clock.advance(20_000);
    engine.call_hold(false);
    clock.advance(45_000);
    assert_eq!(engine.call_event(false, CallInfo::default()), AdvisorState::WrapUp);
    let ended = engine.call_to_dispose().expect("the call waits for its disposition");
    assert_eq!((ended.talk_ms, ended.hold_ms, ended.number.as_deref()), (145_000, 40_000, Some("+8613800138000")));
    engine.set_call_disposition(Disposition::FollowUp).unwrap();
    assert!(engine.call_to_dispose().is_none());
    assert!(engine.set_call_disposition(Disposition::Resolved).is_err(), "one disposition per call");

    // A second call, no disposition: recorded when wrap-up ends.
    clock.advance(60_000);
    engine.presence_event(AdvisorEvent::Tick);
    assert_eq!(engine.call_event(true, CallInfo::default()), AdvisorState::OnCall);
    clock.advance(30_000);
    engine.call_event(false, CallInfo { number: Some("+441632960000".into()), ..CallInfo::default() });
    clock.advance(61_000);
    assert_eq!(engine.presence_event(AdvisorEvent::Tick), AdvisorState::Available);
    assert!(engine.call_to_dispose().is_none());

    let (appended, read) = engine.sync_activity().await.unwrap();
    assert!(appended >= 2 && read == appended, "appended {appended}, read {read}");
    let calls: Vec<_> = engine
        .team_activity(0, i64::MAX)
        .unwrap()
        .into_iter()
        .filter_map(|a| match a.kind {
            ActivityKind::Call { call_id, number, direction, talk_ms, hold_ms, disposition, .. } => {
                Some((call_id, number, direction, talk_ms, hold_ms, disposition))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        calls,
        [
            (Some("c-1".into()), Some("+8613800138000".into()), Some("inbound".into()), 145_000, Some(40_000), Some(Disposition::FollowUp)),
            (None, Some("+441632960000".into()), None, 30_000, None, None),
        ]
    );
    // Summed over days: a test run near midnight UTC spans two.
    let days = engine.activity_daily(0, i64::MAX).unwrap();
    let (calls, talk, hold) =
        days.iter().fold((0, 0, 0), |(c, t, h), d| (c + d.figures.calls, t + d.figures.talk_ms, h + d.figures.hold_ms));
    assert_eq!((calls, talk, hold), (2, 175_000, 40_000));
    // "My day": her own figures today, and the team's median (she is the team here).
    let today = engine.my_day(engine.now_ms()).unwrap();
    assert_eq!(Some(&today.me), days.iter().find(|d| d.day == today.day).map(|d| &d.figures));
    assert_eq!((today.team_size, &today.team_median), (1, &today.me));
    assert_eq!(today.my_handle_ms, None, "no reply was timed");
    // The same figures ride on her presence note, live.
    assert_eq!(engine.presence_note().unwrap().today, today.me);
}
