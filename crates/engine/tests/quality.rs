//! Quality reviews through the real mailbox: a supervisor publishes a scorecard and
//! reviews; an advisor can do neither, sees the reviews of their own work and not a
//! colleague's; a calibration review is compared, not counted; a review that does not
//! fit its scorecard is refused before anything is written; a hand-made message in the
//! reviews folder is ignored.

use blendesk_domain::blending::Policy;
use blendesk_domain::quality::Review;
use blendesk_engine::config::Config;
use blendesk_engine::Engine;
use blendesk_mail::imap;
use blendesk_testkit::{count_messages, login, Desk};
use std::collections::BTreeMap;
use std::sync::Arc;

const CARD: &str = r#"{
    "name": "Email", "version": 1, "channel": "email",
    "root_causes": ["knowledge", "process"],
    "sections": [{"name": "Answer", "categories": [
        {"id": "correct", "label": "Correct", "scale": "binary", "weight": 2, "critical": true, "allow_na": false},
        {"id": "tone", "label": "Tone", "scale": "five"}
    ]}]
}"#;

fn engine_for(desk: &Desk, id: &str) -> Arc<Engine> {
    let config = Config::load(&desk.config_for(id, id)).unwrap();
    Engine::with_passwords(config, blendesk_testkit::TEST_PASSWORD.into(), None).unwrap()
}

fn review(advisor: &str, conversation: &str, correct: u8, tone: u8, calibration: bool) -> Review {
    Review {
        scorecard: "Email".into(),
        scorecard_version: 1,
        conversation: conversation.into(),
        advisor: advisor.into(),
        reviewer: "whoever".into(),
        scores: BTreeMap::from([("correct".to_owned(), Some(correct)), ("tone".to_owned(), Some(tone))]),
        root_causes: BTreeMap::new(),
        comment: "Good answer; the tone could be warmer.".into(),
        calibration,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisors_review_advisors_see_their_own_and_calibration_does_not_count() {
    let desk = Desk::new("quality");
    let (sam, tina, alice) = (engine_for(&desk, "sam"), engine_for(&desk, "tina"), engine_for(&desk, "alice"));
    let policy = Policy::parse(br#"{"version": 1, "supervisors": ["sam", "tina"]}"#).unwrap();
    sam.publish_policy(&policy).await.unwrap();

    // Only supervisors publish scorecards, and a version is never rewritten.
    let err = alice.publish_scorecard(CARD).await.unwrap_err().to_string();
    assert!(err.contains("not a supervisor"), "{err}");
    sam.publish_scorecard(CARD).await.unwrap();
    let err = tina.publish_scorecard(CARD).await.unwrap_err().to_string();
    assert!(err.contains("already has version 1"), "{err}");
    assert_eq!(count_messages(&desk.user, "Blendesk/Scorecards").await.unwrap(), 1);

    // Sam reviews Alice's and Bob's work; Tina calibrates on Alice's conversation.
    let full = sam.submit_review(review("alice", "ann@example.com", 1, 5, false)).await.unwrap();
    assert_eq!(full.score_pct, Some(100.0));
    let failed = sam.submit_review(review("bob", "ben@example.com", 0, 5, false)).await.unwrap();
    assert_eq!((failed.score_pct, failed.critical_failed.as_slice()), (Some(0.0), ["correct".to_owned()].as_slice()));
    let calibration = tina.submit_review(review("alice", "ann@example.com", 1, 1, true)).await.unwrap();
    // correct 1 × 2, tone (1 − 1) / 4 × 1: 2 / 3.
    assert!((calibration.score_pct.unwrap() - 200.0 / 3.0).abs() < 1e-9);

    // What does not fit its scorecard is refused before anything is written.
    let err = sam.submit_review(review("alice", "ann@example.com", 1, 9, false)).await.unwrap_err().to_string();
    assert!(err.contains("9 is not on its 5-point scale"), "{err}");
    let mut unknown = review("alice", "ann@example.com", 1, 3, false);
    unknown.scorecard_version = 7;
    assert!(sam.submit_review(unknown).await.unwrap_err().to_string().contains("no scorecard \"Email\" version 7"));
    // Advisors do not review.
    assert!(alice.submit_review(review("bob", "ben@example.com", 1, 5, false)).await.is_err());
    assert_eq!(count_messages(&desk.user, "Blendesk/Reviews").await.unwrap(), 3);

    // A hand-made message in the folder is read as invalid, never counted.
    let mut s = login(&desk.user).await.unwrap();
    let junk = "From: someone@example.com\r\nSubject: review?\r\n\r\n{\"advisor\": \"alice\", \"scores\": 5}\r\n";
    imap::append(&mut s, "Blendesk/Reviews", "()", junk.as_bytes()).await.unwrap();
    imap::logout(s).await;

    // Alice sees the reviews of her own work (Sam's and Tina's), not Bob's; her score
    // leaves the calibration review out; the calibration session shows the spread.
    alice.load_policy().await.unwrap();
    alice.refresh_quality_docs().await.unwrap();
    let mine = alice.quality().unwrap();
    assert_eq!(mine.reviews.len(), 2, "{:?}", mine.reviews);
    assert!(mine.reviews.iter().all(|r| r.review.advisor == "alice"));
    assert_eq!(mine.scores.get("alice").copied().flatten(), Some(100.0));
    assert!(!mine.scores.contains_key("bob"), "nothing about a colleague");
    let session = &mine.calibrations["ann@example.com"];
    assert_eq!(session.category_spread["tone"], 100.0);
    assert_eq!(
        mine.reviews.iter().map(|r| r.review.reviewer.as_str()).collect::<Vec<_>>(),
        ["sam", "tina"],
        "the reviewer is who wrote it"
    );

    // The automatic checks of the reply under review: greeting, closing, the promised
    // attachment (missing), and the first-response promise kept.
    let customer = blendesk_testkit::Customer::new("qcheck");
    let (mid, raw) = blendesk_testkit::customer_mail(&customer.address, &desk.address, "Invoice copy", "Could you send my invoice?");
    blendesk_testkit::smtp_send(&customer.address, &[&desk.address], &raw).await.unwrap();
    let id = blendesk_testkit::eventually("the email mirrored", std::time::Duration::from_secs(15), || async {
        sam.sync_once().await?;
        let found = sam.store().list_messages("INBOX", 500)?.into_iter().find(|m| m.message_id.as_deref() == Some(mid.as_str()));
        Ok(found.map(|m| m.id))
    })
    .await
    .unwrap();
    assert_eq!(sam.reply_checks(id).unwrap(), None, "no reply yet");
    sam.queue_reply(id, "Hello,\n\nThe invoice is attached.\n\nKind regards,\nSam").unwrap();
    sam.flush_outbox(std::time::Duration::from_secs(30)).await.unwrap();
    sam.sync_once().await.unwrap();
    let checks = sam.reply_checks(id).unwrap().expect("the reply is checked");
    assert!(checks.greeting && checks.closing, "{checks:?}");
    assert_eq!((checks.promised_attachment, checks.sla_met, checks.template_or_article_used), (Some(false), Some(true), None));
    // A reply from the window says whether it started from a template or an article.
    sam.queue_window_reply(id, "Hello again,\n\nHere is the invoice link.\n\nKind regards,\nSam", Some(60_000), Some(true)).unwrap();
    sam.flush_outbox(std::time::Duration::from_secs(30)).await.unwrap();
    sam.sync_once().await.unwrap();
    assert_eq!(sam.reply_checks(id).unwrap().expect("checked").template_or_article_used, Some(true));

    // A supervisor sees everyone's.
    sam.refresh_quality_docs().await.unwrap();
    let all = sam.quality().unwrap();
    assert_eq!(all.reviews.len(), 3);
    assert_eq!(all.scores.get("bob").copied().flatten(), Some(0.0));
    assert_eq!(sam.scorecards().unwrap().len(), 1);
}
