//! Customer satisfaction surveys against the real mail stack, four apps on one team
//! mailbox, in explicit rounds (sync, event log, duties, outbox) instead of timers:
//! one survey per resolved conversation across the four apps (two of them resolve the
//! same conversation), none to an automatic sender, none while the policy has surveys
//! off; a rating reply is filed in Blendesk/Surveys, never shows as waiting or reopens
//! the conversation, and counts in the figures.

use blendesk_domain::automation::survey::reference_of_message_id;
use blendesk_domain::blending::Policy;
use blendesk_engine::config::Config;
use blendesk_engine::events::Event;
use blendesk_engine::Engine;
use blendesk_mail::imap;
use blendesk_mail::mime::{self, ParsedMail};
use blendesk_testkit::{customer_mail, eventually, fetch_all, smtp_send, Customer, Desk};
use std::sync::Arc;
use std::time::Duration;

const ALWAYS_OPEN: &str = r#"{"time_zone": "UTC", "hours": {"mon": ["00:00-24:00"], "tue": ["00:00-24:00"],
    "wed": ["00:00-24:00"], "thu": ["00:00-24:00"], "fri": ["00:00-24:00"], "sat": ["00:00-24:00"], "sun": ["00:00-24:00"]}}"#;

fn policy(csat: bool) -> Policy {
    let json = format!(
        r#"{{"version": 1, "wrap_up_seconds": 0, "csat": {{"enabled": {csat}}},
            "sla": {{"default": {{"calendar": {ALWAYS_OPEN}}}}}}}"#
    );
    Policy::parse(json.as_bytes()).expect("test policy is valid")
}

fn engine_for(desk: &Desk, id: &str) -> Arc<Engine> {
    let config = Config::load(&desk.config_for(id, id)).unwrap();
    Engine::with_passwords(config, blendesk_testkit::TEST_PASSWORD.into(), None).unwrap()
}

/// One round of an app's team work: mirror, the event log both ways, the duties, the outbox.
async fn round(e: &Arc<Engine>) {
    e.sync_once().await.unwrap();
    e.sync_activity().await.unwrap();
    let mut c = e.connect_for_team().await.unwrap();
    e.load_policy().await.unwrap();
    e.run_duties(&mut c.session).await.unwrap();
    e.run_surveys(&mut c.session).await.unwrap();
    imap::logout(c.session).await;
    e.flush_outbox(Duration::from_secs(30)).await.unwrap();
}

async fn rounds(apps: &[Arc<Engine>]) {
    futures::future::join_all(apps.iter().map(round)).await;
}

/// The surveys a customer has received (our survey Message-IDs).
async fn surveys_for(user: &str) -> Vec<ParsedMail> {
    fetch_all(user, "INBOX")
        .await
        .unwrap()
        .into_iter()
        .map(|(_, raw)| mime::parse(&raw))
        .filter(|m| m.message_id.as_deref().is_some_and(|id| reference_of_message_id(id).is_some()))
        .collect()
}

/// Every app's events since the last look.
fn drain(events: &mut [tokio::sync::broadcast::Receiver<Event>]) -> Vec<Event> {
    let mut out = Vec::new();
    for rx in events.iter_mut() {
        loop {
            match rx.try_recv() {
                Ok(e) => out.push(e),
                Err(tokio::sync::broadcast::error::TryRecvError::Lagged(n)) => panic!("missed {n} events"),
                Err(_) => break,
            }
        }
    }
    out
}

fn count(events: &[Event], what: fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| what(e)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_survey_per_resolved_conversation_and_answers_are_filed_not_reopened() {
    let desk = Desk::new("csat");
    let apps: Vec<Arc<Engine>> = ["alice", "bob", "carol", "dan"].iter().map(|id| engine_for(&desk, id)).collect();
    apps[0].publish_policy(&policy(true)).await.unwrap();
    let mut events: Vec<_> = apps.iter().map(|a| a.subscribe()).collect();

    let (ann, ben, robot, quiet) = (Customer::new("ann"), Customer::new("ben"), Customer::new("robot"), Customer::new("quiet"));
    for (c, subject) in [(&ann, "Refund for order 17"), (&ben, "Change my address"), (&quiet, "Invoice copy")] {
        let (_, raw) = customer_mail(&c.address, &desk.address, subject, "Please help.");
        smtp_send(&c.address, &[&desk.address], &raw).await.unwrap();
    }
    let robot_mail = format!(
        "From: <{r}>\r\nTo: {d}\r\nSubject: Delivery status\r\nMessage-ID: <robot.{n}@example.com>\r\nAuto-Submitted: auto-generated\r\n\r\nYour parcel was delivered.\r\n",
        r = robot.address,
        d = desk.address,
        n = rand::random::<u32>()
    );
    smtp_send(&robot.address, &[&desk.address], robot_mail.as_bytes()).await.unwrap();
    eventually("four emails in the team mailbox", Duration::from_secs(15), || async {
        Ok((blendesk_testkit::count_messages(&desk.user, "INBOX").await? == 4).then_some(()))
    })
    .await
    .unwrap();
    rounds(&apps).await;

    // Alice and Bob both resolve Ann's conversation; Carol Ben's; Dan the robot's.
    let id_of = |app: &Arc<Engine>, from: &str| {
        app.store().queue_heads(&["INBOX".to_owned()]).unwrap().iter().find(|h| h.from_addr == from.to_lowercase()).map(|h| h.id).unwrap()
    };
    let (a, b) = (apps[0].clone(), apps[1].clone());
    let (ida, idb) = (id_of(&a, &ann.address), id_of(&b, &ann.address));
    let (ra, rb) = tokio::join!(a.resolve_conversation(ida), b.resolve_conversation(idb));
    assert!(ra.unwrap() >= 1 || rb.unwrap() >= 1);
    apps[2].resolve_conversation(id_of(&apps[2], &ben.address)).await.unwrap();
    apps[3].resolve_conversation(id_of(&apps[3], &robot.address)).await.unwrap();
    // Two rounds: every app has read every Resolved event and tried its duty.
    rounds(&apps).await;
    rounds(&apps).await;

    let seen = drain(&mut events);
    assert_eq!(
        count(&seen, |e| matches!(e, Event::SurveySent { .. })),
        2,
        "one survey per resolved conversation from a person, across the four apps"
    );
    let to_ann = surveys_for(&ann.user).await;
    assert_eq!(to_ann.len(), 1, "Ann: one survey although two advisors resolved her conversation");
    assert_eq!(surveys_for(&ben.user).await.len(), 1);
    assert!(surveys_for(&robot.user).await.is_empty(), "no survey to automatic mail");
    assert!(surveys_for(&quiet.user).await.is_empty(), "no survey before a resolution");
    let survey = &to_ann[0];
    assert_eq!(
        survey.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("Auto-Submitted")).map(|(_, v)| v.as_str()),
        Some("auto-replied")
    );
    let reference = reference_of_message_id(survey.message_id.as_deref().unwrap()).unwrap().to_owned();
    assert!(survey.text.contains(&format!("Rating%204%20%5Bsurvey%3A{reference}%5D")), "{}", survey.text);

    // Ann rates 4 from the link: a reply whose subject carries the answer.
    let answer = format!(
        "From: <{a}>\r\nTo: {d}\r\nSubject: Rating 4 [survey:{reference}]\r\nMessage-ID: <answer.{n}@example.com>\r\nIn-Reply-To: <{id}>\r\n\r\n\r\n",
        a = ann.address,
        d = desk.address,
        n = rand::random::<u32>(),
        id = survey.message_id.as_deref().unwrap().trim_matches(|c| c == '<' || c == '>'),
    );
    smtp_send(&ann.address, &[&desk.address], answer.as_bytes()).await.unwrap();
    eventually("the answer in the team mailbox", Duration::from_secs(15), || async {
        Ok((blendesk_testkit::count_messages(&desk.user, "INBOX").await? == 5).then_some(()))
    })
    .await
    .unwrap();
    // Mirrored but not yet filed: it is not waiting and opens no conversation.
    a.sync_once().await.unwrap();
    let view = a.workspace(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap();
    assert!(!view.conversations.iter().any(|c| c.customer.eq_ignore_ascii_case(&ann.address)), "the answer opens nothing");
    rounds(&apps).await;
    let seen = drain(&mut events);
    assert_eq!(count(&seen, |e| matches!(e, Event::SurveyAnswered { rating: Some(4), .. })), 1, "filed once");
    assert_eq!(blendesk_testkit::count_messages(&desk.user, "Blendesk/Surveys").await.unwrap(), 1);
    assert_eq!(blendesk_testkit::count_messages(&desk.user, "INBOX").await.unwrap(), 4, "out of the queue");
    // No acknowledgement or survey went to the answer; nobody's conversation reopened.
    rounds(&apps).await;
    assert_eq!(surveys_for(&ann.user).await.len(), 1);
    let seen = [seen, drain(&mut events)].concat();
    assert_eq!(count(&seen, |e| matches!(e, Event::SurveySent { .. } | Event::Acknowledged { .. })), 0, "nothing more was sent");

    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let report = apps[3].csat_report(now - 3_600_000, now + 60_000).await.unwrap();
    assert_eq!((report.team.surveys, report.team.answered), (2, 1), "{report:?}");
    assert_eq!(report.team.score, Some(4.0));
    assert_eq!(report.team.response_rate_pct, Some(50.0));
    assert_eq!(report.by_queue.get("INBOX").map(|f| f.surveys), Some(2));

    // Surveys off: a new resolution gets none.
    apps[0].publish_policy(&policy(false)).await.unwrap();
    rounds(&apps).await;
    apps[1].resolve_conversation(id_of(&apps[1], &quiet.address)).await.unwrap();
    rounds(&apps).await;
    assert!(surveys_for(&quiet.user).await.is_empty(), "surveys are off");
}

/// The running app's chores look for surveys when a resolution arrives, not on every
/// second's pass: a resolve is surveyed well before the slow safety period comes round.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_running_app_surveys_a_resolve_when_it_happens_not_at_the_safety_period() {
    use blendesk_engine::runtime::{Mode, OnTeamFailure, Runtime};
    use blendesk_engine::surveys::SURVEY_SAFETY_PERIOD;
    let desk = Desk::new("csatrun");
    let app = engine_for(&desk, "alice");
    app.publish_policy(&policy(true)).await.unwrap();
    let mut rx = app.subscribe();
    let started = tokio::time::Instant::now();
    let runtime = Runtime::start(app.clone(), Mode::Team, OnTeamFailure::Stop).await.unwrap();
    let ann = Customer::new("ann");
    let (_, raw) = customer_mail(&ann.address, &desk.address, "Broken zip", "It does not close.");
    smtp_send(&ann.address, &[&desk.address], &raw).await.unwrap();
    // Acknowledged: mirrored, and its verdict (a person wrote) is known.
    blendesk_testkit::wait_for_event(&mut rx, Duration::from_secs(30), |e| matches!(e, Event::Acknowledged { .. })).await;
    let id = app.store().queue_heads(&["INBOX".to_owned()]).unwrap().iter().find(|h| h.from_addr == ann.address.to_lowercase()).unwrap().id;
    app.resolve_conversation(id).await.unwrap();
    blendesk_testkit::wait_for_event(&mut rx, Duration::from_secs(20), |e| matches!(e, Event::SurveySent { .. })).await;
    // The pass at start found nothing; the next safety pass is a period after it.
    assert!(started.elapsed() < SURVEY_SAFETY_PERIOD, "surveyed {:?} after start: by the resolve, not the period", started.elapsed());
    eventually("the survey in Ann's mailbox", Duration::from_secs(15), || async {
        Ok((surveys_for(&ann.user).await.len() == 1).then_some(()))
    })
    .await
    .unwrap();
    runtime.shutdown(Duration::from_secs(5)).await;
}
