//! "What if" on the team's own days, against the real Dovecot: mail that arrived on
//! three days of the last four weeks (APPENDed with those INTERNALDATEs) becomes three
//! simulated days with exactly that mail; one chosen day is that day alone; the standard
//! day is the simulator's; a mailbox with nothing recent falls back to the standard day.

use blendesk_engine::team::WhatIfDays;
use blendesk_mail::imap;
use blendesk_testkit::{login, Desk};

const DAY_S: i64 = 86_400;

/// IMAP's date-time: "04-Dec-2026 09:15:00 +0000".
fn ymd(unix_s: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix_s).expect("valid time");
    format!("{}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_if_simulates_the_days_the_mailbox_saw() {
    let desk = Desk::new("whatif");
    let engine = desk.engine();
    let draft = engine.policy().draft();

    // Nothing recent yet: the standard day, said so.
    engine.sync_once().await.unwrap();
    let empty = engine.what_if(&draft, &WhatIfDays::LastFourWeeks).unwrap();
    assert!(empty.standard, "no mail: the standard day");
    assert_eq!(empty.today.emails, 1_200);

    // Five customer emails: two 3 days ago, one 10 days ago, two 20 days ago, at 10:00
    // UTC (inside the standard day's 09:00–18:00), plus one 40 days ago (outside).
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let midnight = now - now.rem_euclid(DAY_S);
    let at = |days_ago: i64, minute: i64| midnight - days_ago * DAY_S + 10 * 3600 + minute * 60;
    let mut s = login(&desk.user).await.unwrap();
    for (i, (days_ago, minute)) in [(3, 0), (3, 5), (10, 0), (20, 0), (20, 30), (40, 0)].into_iter().enumerate() {
        let raw = format!(
            "From: c{i}@example.com\r\nTo: {to}\r\nSubject: order {i}\r\nMessage-ID: <wi{i}@example.com>\r\n\r\nWhere is order {i}?\r\n",
            to = desk.address
        );
        imap::append_at(&mut s, "INBOX", "()", &imap::date_time(at(days_ago, minute)), raw.as_bytes()).await.unwrap();
    }
    imap::logout(s).await;
    engine.sync_once().await.unwrap();

    let weeks = engine.what_if(&draft, &WhatIfDays::LastFourWeeks).unwrap();
    assert!(!weeks.standard);
    assert_eq!((weeks.basis.days, weeks.basis.emails), (3, 5), "{:?}", weeks.basis);
    assert_eq!(weeks.basis.first_day.as_deref(), Some(ymd(at(20, 0)).as_str()));
    assert_eq!(weeks.basis.last_day.as_deref(), Some(ymd(at(3, 0)).as_str()));
    assert!(!weeks.basis.calls_from_history, "no calls are recorded yet");
    assert_eq!((weeks.today.emails, weeks.draft.emails), (5, 5), "both columns simulate the same mail");

    // A per-advisor setting counts on the team's own days: Alice (the whole team here)
    // with a cap of 0 answers nothing.
    let mut none = draft.clone();
    none.advisors.insert("alice".into(), blendesk_domain::blending::AdvisorPolicy { cap: Some(0), skills: None });
    let capped = engine.what_if(&none, &WhatIfDays::LastFourWeeks).unwrap();
    assert!(capped.today.replied_within_24h > 0, "{:?}", capped.today);
    assert_eq!(capped.draft.replied_within_24h, 0, "{:?}", capped.draft);

    let one = engine.what_if(&draft, &WhatIfDays::Day { date: ymd(at(20, 0)) }).unwrap();
    assert_eq!((one.basis.days, one.basis.emails, one.today.emails), (1, 2, 2));

    let standard = engine.what_if(&draft, &WhatIfDays::Standard).unwrap();
    assert!(standard.standard);
    assert_eq!(standard.today.emails, 1_200);

    let bad = engine.what_if(&draft, &WhatIfDays::Day { date: "30/11/2026".into() }).unwrap_err();
    assert!(bad.to_string().contains("YYYY-MM-DD"), "{bad}");

    assert_eq!((weeks.basis.handle_mean_s, weeks.basis.talk_mean_s), (None, None), "no times recorded: the standard day's");

    // A call the softphone reported three days ago (the engine's clock set back to
    // then) comes from the event log: that day has one call, the others none; its five
    // minutes of talk are the team's talk time.
    let clock = std::sync::Arc::new(blendesk_engine::clock::ManualClock::starting_at(at(3, 20) * 1000));
    engine.use_clock(clock.clone());
    engine.presence_event(blendesk_domain::blending::AdvisorEvent::Set(blendesk_domain::blending::ManualState::Available));
    let inbound = blendesk_engine::calls::CallInfo { number: Some("+8613800138000".into()), direction: Some("inbound".into()), id: None };
    engine.call_event(true, inbound);
    clock.advance(300_000);
    engine.call_event(false, Default::default());
    engine.set_call_disposition(blendesk_domain::activity::Disposition::Resolved).unwrap();
    engine.use_clock(std::sync::Arc::new(blendesk_engine::clock::SystemClock));
    engine.sync_activity().await.unwrap();
    let with_calls = engine.what_if(&draft, &WhatIfDays::LastFourWeeks).unwrap();
    assert!(with_calls.basis.calls_from_history);
    assert_eq!(with_calls.today.calls_offered, 1, "{:?}", with_calls.today);
    assert_eq!(with_calls.basis.talk_mean_s, Some(300), "{:?}", with_calls.basis);
    assert_eq!(with_calls.basis.handle_mean_s, None, "no reply recorded yet");
}
