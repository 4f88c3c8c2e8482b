//! Cross-channel first-contact resolution against the real stack: Ana emails, gets a
//! reply, then calls two days later from the number an advisor dialled for her (linked
//! to her address in the team's event log): her email fails first-contact resolution,
//! her call passes. Ben emails and gets a reply: passes. A call from a number nobody
//! linked is a customer of its own: passes.

use blendesk_domain::activity::Disposition;
use blendesk_domain::blending::{AdvisorEvent, ManualState};
use blendesk_engine::calls::CallInfo;
use blendesk_engine::clock::ManualClock;
use blendesk_testkit::{count_messages, customer_mail, eventually, smtp_send, Customer, Desk};
use std::sync::Arc;
use std::time::Duration;

const DAY: i64 = 86_400_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_then_a_call_within_a_week_fails_the_first_contact() {
    let desk = Desk::new("fcr");
    let engine = desk.engine();
    let (ana, ben) = (Customer::new("fcrana"), Customer::new("fcrben"));
    let mut ids = Vec::new();
    for (n, c) in [&ana, &ben].into_iter().enumerate() {
        let (id, raw) = customer_mail(&c.address, &desk.address, "Broken kettle", "It leaks.");
        smtp_send(&c.address, &[&desk.address], &raw).await.unwrap();
        let want = n as u32 + 1;
        eventually("delivery", Duration::from_secs(15), || async {
            Ok((count_messages(&desk.user, "INBOX").await? == want).then_some(()))
        })
        .await
        .unwrap();
        ids.push(id);
    }
    engine.sync_once().await.unwrap();
    // Ana's reply was timed by the window (two minutes), Ben's came from a script.
    for (id, handle_ms) in ids.iter().zip([Some(120_000), None]) {
        let m = engine.find_queue_email(id).unwrap();
        engine.queue_timed_reply(m, "Here is a new kettle.", handle_ms).unwrap();
    }
    let replied_at = engine.now_ms();
    engine.flush_outbox(Duration::from_secs(30)).await.unwrap();
    engine.sync_once().await.unwrap();

    // Two days later Ana calls from her number; someone else calls from an unknown one.
    let clock = Arc::new(ManualClock::starting_at(engine.now_ms()));
    engine.use_clock(clock.clone());
    engine.presence_event(AdvisorEvent::Set(ManualState::Available));
    engine.link_phone(&ana.address, "+86 138 0013 8000").unwrap();
    for number in ["+8613800138000", "+441632960000"] {
        clock.advance(2 * DAY);
        let info = CallInfo { number: Some(number.into()), direction: Some("inbound".into()), ..CallInfo::default() };
        engine.call_event(true, info);
        clock.advance(180_000);
        engine.call_event(false, CallInfo::default());
        engine.set_call_disposition(Disposition::Resolved).unwrap();
    }
    engine.sync_activity().await.unwrap();

    // Handle time: one timed reply of the two, in the day's roll-up and in My day.
    let day = engine.my_day(replied_at).unwrap();
    assert_eq!((day.me.replied, day.me.timed_replies, day.me.handle_ms), (2, 1, 120_000));
    assert_eq!(day.my_handle_ms, Some(120_000));

    let report = engine.team_report(engine.now_ms() + 10 * DAY).unwrap();
    assert_eq!(report.fcr_contacts, 4, "{report:?}");
    let pct = report.fcr_pct.unwrap();
    assert!((pct - 75.0).abs() < 1e-9, "three of four resolved on first contact: {pct}");
}
