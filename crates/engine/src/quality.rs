//! Quality reviews through the mailbox (`blendesk_domain::quality` has the rules):
//! supervisors publish versioned scorecards to `Blendesk/Scorecards` and their reviews
//! to `Blendesk/Reviews`, both mirrored like the other team documents. An advisor sees
//! the reviews of their own work, a supervisor everyone's; calibration reviews are
//! compared, not counted. Each review is checked against its scorecard version before
//! it is written, and again when read (a hand-made message that does not score is
//! shown as invalid, never counted).

use crate::engine::{EngineError, Result};
use crate::Engine;
use blendesk_domain::quality::{
    auto_checks, calibrate, quality_score, score, AutoChecks, Calibration, Channel, Review, ReviewScore, Scorecard,
};
use blendesk_store::{DocVersion, KIND_REVIEW, KIND_SCORECARD};
use serde::Serialize;
use std::collections::BTreeMap;

pub const SCORECARDS_FOLDER: &str = "Scorecards";
pub const REVIEWS_FOLDER: &str = "Reviews";
/// Headers naming the scorecard, and the advisor a review is about.
const SCORECARD_HEADER: &str = "X-Blendesk-Scorecard";
const REVIEWED_HEADER: &str = "X-Blendesk-Reviewed";

/// A mirrored scorecard or review message as a stored version: the JSON body, parsed
/// by the domain (an unreadable one is `invalid` with the reason).
pub(crate) fn quality_version(folder: &str, meta: &blendesk_mail::imap::MessageMeta, raw: &[u8]) -> DocVersion {
    let base = DocVersion { uid: meta.uid, internal_date: meta.internal_date, flags: meta.flags.clone(), ..Default::default() };
    let Some(doc) = blendesk_mail::mime::parse_document(raw, &[SCORECARD_HEADER, REVIEWED_HEADER]) else {
        return DocVersion { kind: blendesk_store::KIND_INVALID.into(), problem: "not a readable message".into(), ..base };
    };
    let body = doc.text.trim().to_owned();
    let parsed = if folder == SCORECARDS_FOLDER {
        Scorecard::parse(body.as_bytes()).map(|c| (KIND_SCORECARD, c.name, String::new()))
    } else {
        Review::parse(body.as_bytes()).map(|r| (KIND_REVIEW, r.conversation, r.reviewer))
    };
    match parsed {
        Ok((kind, doc_id, author)) => DocVersion { kind: kind.into(), doc_id, author, title: doc.subject, body, ..base },
        Err(e) => DocVersion { kind: blendesk_store::KIND_INVALID.into(), problem: e.to_string(), title: doc.subject, ..base },
    }
}

/// A review as shown: the review, how it scores, when it was written.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ReviewView {
    pub review: Review,
    pub score: ReviewScore,
    pub at_ms: i64,
}

/// The quality page: reviews the viewer may see, each advisor's quality score
/// (calibration left out), and the calibration sessions by conversation (all reviews
/// of a conversation that has a calibration review, compared).
#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
pub struct QualityView {
    pub reviews: Vec<ReviewView>,
    pub scores: BTreeMap<String, Option<f64>>,
    pub calibrations: BTreeMap<String, Calibration>,
}

/// One conversation of this week's sample for review: whose work, its key, and its
/// newest queue email (what the review form's checks and scorecards look at).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SampleItem {
    pub advisor: String,
    pub conversation: String,
    pub message: i64,
    pub subject: String,
}

impl Engine {
    /// The scorecards in force: the highest version of each name.
    pub fn scorecards(&self) -> Result<Vec<Scorecard>> {
        let mut newest: BTreeMap<String, Scorecard> = BTreeMap::new();
        for card in self.all_scorecards()? {
            if newest.get(&card.name).is_none_or(|c| c.version < card.version) {
                newest.insert(card.name.clone(), card);
            }
        }
        Ok(newest.into_values().collect())
    }

    /// The scorecards in force for the email type of `message`'s conversation: its queue
    /// and its tags (`Scorecard::applies_to`).
    pub fn scorecards_for(&self, message: i64) -> Result<Vec<Scorecard>> {
        let heads = self.store.queue_heads(&self.config.imap.queues)?;
        let keys = self.conversation_keys_for(&heads);
        let i = heads.iter().position(|h| h.id == message).ok_or(EngineError::NoSuchMessage(message))?;
        let tags = self.tags_of(&keys[i])?;
        let queue = &heads[i].folder;
        Ok(self.scorecards()?.into_iter().filter(|c| c.applies_to(Channel::Email, queue, &tags)).collect())
    }

    fn all_scorecards(&self) -> Result<Vec<Scorecard>> {
        Ok(self
            .store
            .doc_versions(SCORECARDS_FOLDER)?
            .iter()
            .filter(|v| v.kind == KIND_SCORECARD)
            .filter_map(|v| Scorecard::parse(v.body.as_bytes()).ok())
            .collect())
    }

    /// Publish a scorecard (supervisors only). A version must be new for its name:
    /// reviews name the version they scored, so a version is never rewritten.
    pub async fn publish_scorecard(&self, json: &str) -> Result<Scorecard> {
        self.require_supervisor("publish scorecards").await?;
        let card = Scorecard::parse(json.as_bytes()).map_err(|e| EngineError::Document(e.to_string()))?;
        self.refresh_quality_docs().await?;
        if self.all_scorecards()?.iter().any(|c| c.name == card.name && c.version >= card.version) {
            return Err(EngineError::Document(format!(
                "scorecard {:?} already has version {} or later: publish a higher version",
                card.name, card.version
            )));
        }
        let body = serde_json::to_string_pretty(&card).map_err(|e| EngineError::Internal(e.to_string()))?;
        let subject = format!("Scorecard {} v{}", card.name, card.version);
        self.append_doc(SCORECARDS_FOLDER, &subject, &[(SCORECARD_HEADER, card.name.clone())], &body).await?;
        Ok(card)
    }

    /// Write a review (supervisors only; the reviewer is this app's advisor), checked
    /// against the scorecard version it names. Returns how it scores.
    pub async fn submit_review(&self, mut review: Review) -> Result<ReviewScore> {
        self.require_supervisor("review conversations").await?;
        self.refresh_quality_docs().await?;
        review.reviewer = self.config.advisor.id.to_string();
        let card =
            self.all_scorecards()?.into_iter().find(|c| c.name == review.scorecard && c.version == review.scorecard_version).ok_or_else(
                || EngineError::Document(format!("no scorecard {:?} version {}", review.scorecard, review.scorecard_version)),
            )?;
        let scored = score(&card, &review).map_err(|e| EngineError::Document(e.to_string()))?;
        let body = serde_json::to_string_pretty(&review).map_err(|e| EngineError::Internal(e.to_string()))?;
        let subject = format!("Review of {} by {}", review.advisor, review.reviewer);
        self.append_doc(REVIEWS_FOLDER, &subject, &[(REVIEWED_HEADER, review.advisor.clone())], &body).await?;
        Ok(scored)
    }

    /// What this advisor may see of the reviews: their own, or everyone's for a
    /// supervisor; reviews that do not score on their scorecard are left out.
    pub fn quality(&self) -> Result<QualityView> {
        let me = self.config.advisor.id.as_str();
        let supervisor = self.policy().is_supervisor(&self.config.advisor.id);
        let cards = self.all_scorecards()?;
        let mut reviews: Vec<ReviewView> = Vec::new();
        for v in self.store.doc_versions(REVIEWS_FOLDER)?.iter().filter(|v| v.kind == KIND_REVIEW) {
            let Ok(review) = Review::parse(v.body.as_bytes()) else { continue };
            if !supervisor && review.advisor != me {
                continue;
            }
            let Some(card) = cards.iter().find(|c| c.name == review.scorecard && c.version == review.scorecard_version) else { continue };
            let Ok(score) = score(card, &review) else { continue };
            reviews.push(ReviewView { review, score, at_ms: v.internal_date * 1000 });
        }
        let mut by_advisor: BTreeMap<String, Vec<(&Review, &ReviewScore)>> = BTreeMap::new();
        let mut sessions: BTreeMap<String, Vec<(&Review, &ReviewScore)>> = BTreeMap::new();
        // A calibration session: every review of a conversation that has a calibration
        // review (the reference review is usually an ordinary one).
        let calibrated: std::collections::HashSet<&str> =
            reviews.iter().filter(|r| r.review.calibration).map(|r| r.review.conversation.as_str()).collect();
        for r in &reviews {
            by_advisor.entry(r.review.advisor.clone()).or_default().push((&r.review, &r.score));
            if calibrated.contains(r.review.conversation.as_str()) {
                sessions.entry(r.review.conversation.clone()).or_default().push((&r.review, &r.score));
            }
        }
        let scores = by_advisor.iter().map(|(a, rs)| (a.clone(), quality_score(rs))).collect();
        let calibrations = sessions.iter().map(|(k, rs)| (k.clone(), calibrate(rs))).collect();
        Ok(QualityView { reviews, scores, calibrations })
    }

    /// This week's sample for review: up to `per_advisor` conversations of each advisor
    /// (their owner keyword on its emails) opened in the last 7 days, the same for every
    /// reviewer who asks this ISO week. (advisor, conversation key) pairs.
    pub fn review_sample(&self, per_advisor: usize, now_ms: i64) -> Result<Vec<(String, String)>> {
        let heads = self.store.queue_heads(&self.config.imap.queues)?;
        let keys = self.conversation_keys_for(&heads);
        let since = now_ms / 1000 - 7 * 86_400;
        let owned: Vec<(String, String)> = heads
            .iter()
            .zip(keys.iter())
            .filter(|(h, _)| h.internal_date >= since)
            .filter_map(|(h, k)| Some((blendesk_domain::claim::owners(&h.flags).next()?.to_owned(), k.clone())))
            .collect();
        let week = blendesk_domain::metrics::period_of(now_ms, blendesk_domain::metrics::Period::Week);
        Ok(blendesk_domain::quality::weekly_sample(&owned, per_advisor, &week))
    }

    /// This week's sample (`review_sample`) with each conversation's newest queue email,
    /// for the review form (supervisors only: it names every advisor).
    pub fn review_sample_items(&self, per_advisor: usize, now_ms: i64) -> Result<Vec<SampleItem>> {
        if !self.policy().is_supervisor(&self.config.advisor.id) {
            return Err(EngineError::Document("only a supervisor reviews: the sample is theirs".into()));
        }
        let heads = self.store.queue_heads(&self.config.imap.queues)?;
        let keys = self.conversation_keys_for(&heads);
        let newest =
            |key: &str| heads.iter().zip(keys.iter()).filter(|(_, k)| *k == key).map(|(h, _)| h).max_by_key(|h| (h.internal_date, h.id));
        Ok(self
            .review_sample(per_advisor, now_ms)?
            .into_iter()
            .filter_map(|(advisor, conversation)| {
                let h = newest(&conversation)?;
                Some(SampleItem { advisor, message: h.id, subject: h.subject.clone(), conversation })
            })
            .collect())
    }

    /// The automatic checks of our newest reply in the conversation of `message` (none
    /// yet: `None`): greeting and closing in the conversation's language, a promised
    /// attachment attached, and whether the reply came within the first-response
    /// promise when it answered the conversation's first email.
    pub fn reply_checks(&self, message: i64) -> Result<Option<AutoChecks>> {
        let heads = self.heads_with_sent()?;
        let keys = self.conversation_keys_for(&heads);
        let sent = &self.config.imap.sent;
        let Some(i) = heads.iter().position(|h| h.id == message) else { return Ok(None) };
        let ours: std::collections::HashSet<&str> = (0..heads.len())
            .filter(|&j| keys[j] == keys[i] && heads[j].folder != *sent)
            .filter_map(|j| heads[j].message_id.as_deref())
            .collect();
        let Some(reply) = heads
            .iter()
            .filter(|h| h.folder == *sent && h.in_reply_to.as_deref().is_some_and(|r| ours.contains(r)))
            .filter(|h| !h.message_id.as_deref().is_some_and(blendesk_domain::automation::is_automatic_message_id))
            .max_by_key(|h| (h.internal_date, h.id))
        else {
            return Ok(None);
        };
        let Some(stored) = self.store.message(reply.id)? else { return Ok(None) };
        let chinese = crate::team::language_of(&stored.subject, &stored.body_text) == "zh";
        // The first email of the conversation and its promise, when this reply answered it.
        let first = (0..heads.len())
            .filter(|&j| keys[j] == keys[i] && heads[j].folder != *sent)
            .map(|j| &heads[j])
            .min_by_key(|h| (h.internal_date, h.id));
        let sla_met = first.filter(|f| f.message_id.as_deref() == reply.in_reply_to.as_deref()).and_then(|f| {
            use blendesk_domain::metrics::{conversation_metrics, Event, EventKind, Targets};
            let sla = self.policy().sla_for(&f.folder);
            let events = [
                Event { at_ms: f.internal_date * 1000, kind: EventKind::Customer },
                Event { at_ms: reply.internal_date * 1000, kind: EventKind::Reply },
            ];
            let targets = Targets {
                first_response_minutes: sla.targets.first_response_minutes,
                next_response_minutes: sla.targets.next_response_minutes,
            };
            conversation_metrics(&events, &sla.calendar, targets, 0, reply.internal_date * 1000).first_response_in_sla
        });
        // Whether the advisor started from a template or article, as their Replied event says.
        let assisted = match reply.in_reply_to.as_deref() {
            Some(answered) => self.reply_assisted(answered)?,
            None => None,
        };
        Ok(Some(auto_checks(&stored.body_text, chinese, stored.attachments.len(), assisted, sla_met)))
    }

    /// What the newest Replied event answering `message_id` says of templates and
    /// articles (the team's log, and this app's own events not yet appended; indexed).
    fn reply_assisted(&self, message_id: &str) -> Result<Option<bool>> {
        Ok(self.store.reply_assisted(message_id)?.flatten())
    }

    /// Mirror the scorecard and review folders once.
    pub async fn refresh_quality_docs(&self) -> Result<()> {
        self.with_session(async |c| {
            let condstore = c.has("CONDSTORE");
            for folder in [SCORECARDS_FOLDER, REVIEWS_FOLDER] {
                self.sync_doc_folder(&mut c.session, folder, condstore).await?;
            }
            Ok(())
        })
        .await
    }
}
