//! The analytics page's figures against the real Dovecot: a seeded month (customer mail
//! APPENDed to INBOX and our replies to Sent at chosen INTERNALDATEs) per day and week,
//! filtered by language, the conversations behind a bucket and a day, and the CSV files;
//! "My week" names no colleague unless the policy's `advisors_see_colleagues` is on.

use blendesk_domain::blending::{AdvisorEvent, ManualState, Policy};
use blendesk_engine::analytics::{AnalyticsFilter, AnalyticsPeriod, Drill, ExportKind};
use blendesk_engine::calls::CallInfo;
use blendesk_engine::config::Config;
use blendesk_engine::Engine;
use blendesk_mail::imap;
use blendesk_testkit::{login, Desk};
use std::sync::Arc;

fn filter(by: AnalyticsPeriod) -> AnalyticsFilter {
    AnalyticsFilter { from: "2026-11-01".into(), to: "2026-11-30".into(), by, queue: None, advisor: None, language: None, tag: None }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_month_per_day_and_week_with_its_conversations_and_csv() {
    let desk = Desk::new("analytics");
    let engine = desk.engine();
    let mut s = login(&desk.user).await.unwrap();
    // (subject, customer wrote, we replied): November 2026, "DD HH:MM".
    let month = [
        ("A order", "03 09:00", Some("03 09:30")),
        ("B refund", "03 10:00", Some("03 12:00")),
        ("C lid", "03 11:00", None),
        ("D invoice", "10 09:00", Some("10 15:00")),
        ("E 退款问题", "10 14:00", Some("10 14:20")),
        ("F address", "20 08:00", Some("21 10:00")),
    ];
    let date = |dhm: &str| format!("{}-Nov-2026 {}:00 +0000", &dhm[..2], &dhm[3..]);
    for (i, (subject, at, reply)) in month.iter().enumerate() {
        let raw = format!(
            "From: c{i}@example.com\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <an{i}@example.com>\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n",
            to = desk.address
        );
        imap::append_at(&mut s, "INBOX", "()", &date(at), raw.as_bytes()).await.unwrap();
        if let Some(r) = reply {
            let raw = format!(
                "From: {from}\r\nTo: c{i}@example.com\r\nSubject: Re: {subject}\r\nMessage-ID: <re{i}@{domain}>\r\n\
                 In-Reply-To: <an{i}@example.com>\r\n\r\nDone\r\n",
                from = desk.address,
                domain = desk.address.split('@').nth(1).unwrap(),
            );
            imap::append_at(&mut s, "Sent", "()", &date(r), raw.as_bytes()).await.unwrap();
        }
    }
    imap::logout(s).await;
    engine.sync_once().await.unwrap();
    let now = engine.now_ms();

    let days = engine.analytics(&filter(AnalyticsPeriod::Day), now).unwrap();
    let periods: Vec<&str> = days.rows.iter().map(|r| r.period.as_str()).collect();
    assert_eq!(periods, ["2026-11-03", "2026-11-10", "2026-11-20"]);
    let third = &days.rows[0];
    assert_eq!((third.conversations, third.answered), (3, 2));
    assert_eq!((third.first_response_median_minutes, third.first_response_p90_minutes), (Some(30), Some(120)));
    assert_eq!(days.total.conversations, 6);
    assert_eq!(days.total.buckets, [2, 1, 1, 0, 1]);
    assert_eq!(days.languages, ["en", "zh"]);

    let weeks = engine.analytics(&filter(AnalyticsPeriod::Week), now).unwrap();
    let periods: Vec<&str> = weeks.rows.iter().map(|r| r.period.as_str()).collect();
    assert_eq!(periods, ["2026-W45", "2026-W46", "2026-W47"]);
    let zh = engine.analytics(&AnalyticsFilter { language: Some("zh".into()), ..filter(AnalyticsPeriod::Day) }, now).unwrap();
    assert_eq!((zh.rows.len(), zh.total.conversations), (1, 1));

    let subjects = |d: &Drill| -> Vec<String> {
        engine.analytics_conversations(&filter(AnalyticsPeriod::Day), d, now).unwrap().into_iter().map(|c| c.subject).collect()
    };
    assert_eq!(subjects(&Drill { period: None, bucket: Some(0) }), ["A order", "E 退款问题"]);
    assert_eq!(subjects(&Drill { period: Some("2026-11-03".into()), bucket: None }), ["A order", "B refund", "C lid"]);
    assert_eq!(subjects(&Drill { period: None, bucket: Some(4) }), ["F address"]);

    let dir = desk.dir.path().join("downloads");
    let table = engine.export_analytics(&filter(AnalyticsPeriod::Day), ExportKind::Table, &Drill::default(), &dir, now).unwrap();
    let text = std::fs::read_to_string(&table).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 5, "header, three days, the total");
    assert!(lines[1].starts_with("2026-11-03,3,2,30,120,"), "{}", lines[1]);
    assert!(lines[4].starts_with("total,6,5,"), "{}", lines[4]);
    let list = engine
        .export_analytics(&filter(AnalyticsPeriod::Day), ExportKind::Conversations, &Drill { period: None, bucket: Some(0) }, &dir, now)
        .unwrap();
    let text = std::fs::read_to_string(&list).unwrap();
    assert!(text.contains("2026-11-10 14:00,E 退款问题,c4@example.com,INBOX,,zh,2026-11-10 14:20,20"), "{text}");
}

fn engine_for(desk: &Desk, id: &str) -> Arc<Engine> {
    let config = Config::load(&desk.config_for(id, id)).unwrap();
    Engine::with_passwords(config, blendesk_testkit::TEST_PASSWORD.into(), None).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_week_names_a_colleague_only_when_the_policy_shares_them() {
    let desk = Desk::new("myweek");
    let (amy, ann) = (engine_for(&desk, "amy"), engine_for(&desk, "ann"));
    amy.publish_policy(&Policy::parse(br#"{"version": 1, "wrap_up_seconds": 0}"#).unwrap()).await.unwrap();
    // Amy takes one call this week, Ann two; both event logs reach the mailbox.
    for (engine, calls) in [(&amy, 1), (&ann, 2)] {
        engine.load_policy().await.unwrap();
        engine.presence_event(AdvisorEvent::Set(ManualState::Available));
        for _ in 0..calls {
            engine.call_event(true, CallInfo::default());
            engine.call_event(false, CallInfo::default());
        }
        engine.sync_activity().await.unwrap();
    }
    amy.sync_activity().await.unwrap();
    let week = amy.my_week(amy.now_ms()).unwrap();
    assert_eq!((week.me.calls, week.team_size), (1, 2), "{week:?}");
    assert!(week.colleagues.is_empty(), "no colleague by default");
    assert!(!format!("{week:?}").contains("ann"), "nothing names Ann: {week:?}");

    let shared = Policy::parse(br#"{"version": 1, "wrap_up_seconds": 0, "advisors_see_colleagues": true}"#).unwrap();
    amy.publish_policy(&shared).await.unwrap();
    amy.load_policy().await.unwrap();
    let week = amy.my_week(amy.now_ms()).unwrap();
    let named: Vec<(&str, u32)> = week.colleagues.iter().map(|c| (c.advisor.as_str(), c.figures.calls)).collect();
    assert_eq!(named, [("ann", 2)]);
}
