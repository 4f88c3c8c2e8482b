//! Customer satisfaction surveys (policy `csat`; the rules in
//! `blendesk_domain::automation::survey`). Each pass of the team's duties:
//! - files every survey answer found in a queue into `Blendesk/Surveys` (one app per
//!   answer, by a duty bid), so an answer never reopens or joins a conversation;
//! - sends one survey per conversation resolved within the policy's window, team-wide
//!   (a duty bid; the holder's bid stays as the record), never to automatic senders, not
//!   twice to one customer within the cooldown, and not while the breaker holds.
//!
//! Resolutions are known from the team's event log (`Resolved` events, this app's own
//! at once, the others' within a batch period).

use crate::engine::{Engine, Result};
use crate::events::Event;
use blendesk_domain::automation::ack::BREAKER_MAX;
use blendesk_domain::automation::duty::DutyKind;
use blendesk_domain::automation::survey::{
    csat_figures, is_answer, parse_answer, reference_of_message_id, should_survey, survey_body, survey_message_id, survey_reference,
    CsatFigures, SurveyAnswer, SurveyCandidate,
};
use blendesk_domain::claim::{owners, ClaimOutcome};
use blendesk_domain::keywords::RESOLVED_KEYWORD;
use blendesk_mail::imap::{self, ImapSession};
use blendesk_store::QueueHead;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// The folder under the team prefix where answers are filed.
pub const SURVEYS_FOLDER: &str = "Surveys";

/// A survey answer: an email in a queue whose subject carries a survey tag.
fn is_survey_answer(h: &QueueHead) -> bool {
    is_answer(&h.subject)
}

/// Satisfaction figures, for the team and per advisor and queue.
#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
pub struct CsatReport {
    pub team: CsatFigures,
    /// By the owner of the resolved conversation ("" when it had none).
    pub by_advisor: BTreeMap<String, CsatFigures>,
    pub by_queue: BTreeMap<String, CsatFigures>,
}

/// The chores' survey pass reads every conversation, so it runs only when it may find
/// something: a resolution arrived (this app's resolve, or team events read back), or the
/// mirror changed while the last pass had a resolution waiting on it (its email not yet
/// mirrored or not yet seen `$Resolved`, the breaker holding), and every
/// `SURVEY_SAFETY_PERIOD` whatever happened (a changed policy, a lapsed cooldown).
pub const SURVEY_SAFETY_PERIOD: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug)]
pub(crate) struct SurveySchedule {
    next_safety: tokio::time::Instant,
    /// The mirror as the last pass saw it, when it left a resolution waiting on it.
    waiting_on: Option<Arc<Vec<QueueHead>>>,
}

impl SurveySchedule {
    /// Due at once: the first pass runs.
    pub(crate) fn new(now: tokio::time::Instant) -> Self {
        Self { next_safety: now, waiting_on: None }
    }

    /// Whether a pass runs now: `arrived`, a resolution arrived since the last pass;
    /// `mirror`, the mirror's heads as they are now.
    pub(crate) fn due(&self, now: tokio::time::Instant, arrived: bool, mirror: &Arc<Vec<QueueHead>>) -> bool {
        arrived || now >= self.next_safety || self.waiting_on.as_ref().is_some_and(|seen| !Arc::ptr_eq(seen, mirror))
    }

    /// A pass ran at `now` over `mirror`; `waiting` when it left a resolution waiting.
    pub(crate) fn ran(&mut self, now: tokio::time::Instant, mirror: Arc<Vec<QueueHead>>, waiting: bool) {
        self.next_safety = now + SURVEY_SAFETY_PERIOD;
        self.waiting_on = waiting.then_some(mirror);
    }
}

impl Engine {
    /// The survey part of the team's duties (see the module's comment), now. Returns how
    /// many surveys this app queued.
    pub async fn run_surveys(&self, session: &mut ImapSession) -> Result<u32> {
        Ok(self.survey_pass(session).await?.0)
    }

    /// The chores' survey pass: answers are filed on every call (cheap when there are
    /// none), surveys only when `schedule` says a pass may find one.
    pub(crate) async fn run_surveys_when_due(&self, session: &mut ImapSession, schedule: &mut SurveySchedule) -> Result<u32> {
        let now = tokio::time::Instant::now();
        let mirror = self.heads_with_sent()?;
        let arrived = self.team.resolutions_arrived.swap(false, std::sync::atomic::Ordering::SeqCst);
        if !schedule.due(now, arrived, &mirror) {
            self.file_survey_answers(session).await?;
            return Ok(0);
        }
        match self.survey_pass(session).await {
            Ok((queued, waiting)) => {
                schedule.ran(now, mirror, waiting);
                Ok(queued)
            }
            Err(e) => {
                // Tried again on the next pass.
                self.team.resolutions_arrived.store(true, std::sync::atomic::Ordering::SeqCst);
                Err(e)
            }
        }
    }

    /// Answers filed, then surveys sent. Returns (surveys queued, whether a resolution
    /// was left waiting on the mirror or the breaker).
    async fn survey_pass(&self, session: &mut ImapSession) -> Result<(u32, bool)> {
        self.file_survey_answers(session).await?;
        let policy = self.policy();
        if !policy.csat.enabled {
            return Ok((0, false));
        }
        let now = self.now_ms();
        let resolved = self.recent_resolutions(now - i64::from(policy.csat.max_age_minutes) * 60_000)?;
        if resolved.is_empty() {
            return Ok((0, false));
        }
        let mut waiting = false;
        let all = self.heads_with_sent()?;
        let sent = &self.config.imap.sent;
        let by_id: HashMap<&str, &QueueHead> =
            all.iter().filter(|h| h.folder != *sent).filter_map(|h| Some((h.message_id.as_deref()?, h))).collect();
        let keys = self.conversation_keys_for(&all);
        // Our surveys in Sent: which emails they answered, and when each customer last had one.
        let mut surveyed: HashSet<&str> = HashSet::new();
        let mut last_survey: HashMap<String, i64> = HashMap::new();
        for s in all.iter().filter(|h| h.folder == *sent && h.message_id.as_deref().is_some_and(|m| reference_of_message_id(m).is_some())) {
            if let Some(original) = s.in_reply_to.as_deref().and_then(|r| by_id.get(r)) {
                surveyed.extend(original.message_id.as_deref());
                let e = last_survey.entry(original.from_addr.to_lowercase()).or_insert(0);
                *e = (*e).max(s.internal_date * 1000);
            }
        }
        let mut recent = crate::duties::recent_automatic(&all, sent, now);
        let mut queued = 0;
        for (message_id, resolved_ms) in resolved {
            let Some(i) = all.iter().position(|h| h.message_id.as_deref() == Some(message_id.as_str()) && h.folder != *sent) else {
                waiting = true; // not mirrored yet
                continue;
            };
            // The customer's newest email of the conversation: the survey answers it.
            let Some(h) = (0..all.len())
                .filter(|&j| keys[j] == keys[i] && all[j].folder != *sent && !is_survey_answer(&all[j]))
                .map(|j| &all[j])
                .max_by_key(|h| (h.internal_date, h.id))
            else {
                continue;
            };
            if !h.flags.iter().any(|f| f.eq_ignore_ascii_case(RESOLVED_KEYWORD)) {
                // Reopened since, or `$Resolved` not mirrored yet: looked at again when the mirror changes.
                waiting = true;
                continue;
            }
            let done = h.message_id.as_deref().is_some_and(|m| surveyed.contains(m)) || self.survey_settled(h.id);
            let candidate = SurveyCandidate {
                resolved_ms,
                verdict: &h.ack_decision,
                already_surveyed: done,
                last_survey_to_customer_ms: last_survey.get(&h.from_addr.to_lowercase()).copied(),
            };
            if should_survey(&candidate, &policy.csat, now).is_err() {
                continue;
            }
            if recent >= BREAKER_MAX {
                self.report_breaker(recent);
                return Ok((queued, true));
            }
            match self.take_duty(session, DutyKind::Survey, h).await? {
                ClaimOutcome::Won => {
                    let reference = survey_reference(rand::random::<u64>());
                    let domain = self.team_domain();
                    let chinese = crate::team::language_of(&h.subject, &h.excerpt) == "zh";
                    let support = self.config.from_address().unwrap_or_default();
                    let body = survey_body(chinese, &support, &reference);
                    let id = self.queue_automatic_as(h, &body, &survey_message_id(&reference, &domain))?;
                    self.emit(Event::SurveySent { folder: h.folder.clone(), uid: h.uid, to: h.from_addr.clone(), outbox_id: id });
                    last_survey.insert(h.from_addr.to_lowercase(), now);
                    self.settle_survey(h.id);
                    recent += 1;
                    queued += 1;
                }
                ClaimOutcome::Lost { .. } | ClaimOutcome::Gone | ClaimOutcome::Stale => self.settle_survey(h.id),
                _ => waiting = true,
            }
        }
        Ok((queued, waiting))
    }

    /// Whether this app has settled `id`'s survey duty (won, lost or filed), so it does
    /// not bid again while the mirror catches up.
    fn survey_settled(&self, id: i64) -> bool {
        self.team.surveys_done.lock().unwrap_or_else(|e| e.into_inner()).contains(&id)
    }

    fn settle_survey(&self, id: i64) {
        self.team.surveys_done.lock().unwrap_or_else(|e| e.into_inner()).insert(id);
    }

    /// Resolutions since `from_ms` by anyone on the team: (the Message-ID resolved
    /// through, when), the newest per id.
    fn recent_resolutions(&self, from_ms: i64) -> Result<Vec<(String, i64)>> {
        Ok(self.resolutions_since(from_ms)?.into_iter().filter_map(|(m, times)| Some((m, *times.last()?))).collect())
    }

    /// File every survey answer in the queues into `Blendesk/Surveys` (APPEND, then
    /// remove it from the queue), one app per answer by a duty bid. Returns how many
    /// this app filed.
    async fn file_survey_answers(&self, session: &mut ImapSession) -> Result<u32> {
        let heads = self.store.queue_heads(&self.config.imap.queues)?;
        let answers: Vec<&QueueHead> = heads.iter().filter(|h| is_survey_answer(h)).collect();
        if answers.is_empty() {
            return Ok(0);
        }
        let folder = self.config.team_folder(SURVEYS_FOLDER);
        let mut filed = 0;
        for h in answers {
            if self.survey_settled(h.id) {
                continue;
            }
            if self.take_duty(session, DutyKind::FileAnswer, h).await? != ClaimOutcome::Won {
                self.settle_survey(h.id);
                continue;
            }
            // The bid holds: the queue is selected (`take_duty` checked the email is there).
            let Some((_, raw)) = imap::fetch_raw(session, &h.uid.to_string(), false).await?.into_iter().next() else { continue };
            imap::create_folder(session, &folder).await?;
            imap::append(session, &folder, "(\\Seen)", &raw).await?;
            imap::select(session, &h.folder, true).await?;
            imap::delete_uids(session, &[h.uid]).await?;
            self.settle_survey(h.id);
            let answer = parse_answer(&h.subject);
            tracing::info!(folder = %h.folder, uid = h.uid, ?answer, "filed a survey answer");
            self.emit(Event::SurveyAnswered {
                from: h.from_addr.clone(),
                rating: answer.as_ref().and_then(|a| a.rating),
                resolved: answer.and_then(|a| a.resolved),
            });
            filed += 1;
        }
        Ok(filed)
    }

    /// Satisfaction over surveys sent in `[from_ms, to_ms)`: our surveys in Sent, joined
    /// to the resolved email each answered (its queue, its owner), and the answers filed
    /// in `Blendesk/Surveys` (read from the server).
    pub async fn csat_report(&self, from_ms: i64, to_ms: i64) -> Result<CsatReport> {
        let folder = self.config.team_folder(SURVEYS_FOLDER);
        let answers: Vec<SurveyAnswer> = self
            .with_session(async |c| {
                let Ok(selected) = imap::select(&mut c.session, &folder, false).await else { return Ok(Vec::new()) };
                if selected.exists == 0 {
                    return Ok(Vec::new());
                }
                let raws = imap::fetch_raw(&mut c.session, "1:*", true).await?;
                Ok(raws.iter().filter_map(|(_, raw)| parse_answer(&blendesk_mail::mime::parse(raw).subject)).collect())
            })
            .await?;
        let all = self.heads_with_sent()?;
        let sent = &self.config.imap.sent;
        let by_id: HashMap<&str, &QueueHead> =
            all.iter().filter(|h| h.folder != *sent).filter_map(|h| Some((h.message_id.as_deref()?, h))).collect();
        let mut team: Vec<&str> = Vec::new();
        let mut by_advisor: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        let mut by_queue: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for s in all.iter().filter(|h| h.folder == *sent && (from_ms..to_ms).contains(&(h.internal_date * 1000))) {
            let Some(reference) = s.message_id.as_deref().and_then(reference_of_message_id) else { continue };
            team.push(reference);
            let original = s.in_reply_to.as_deref().and_then(|r| by_id.get(r));
            let owner = original.and_then(|o| owners(&o.flags).next().map(str::to_owned)).unwrap_or_default();
            by_advisor.entry(owner).or_default().push(reference);
            if let Some(o) = original {
                by_queue.entry(o.folder.clone()).or_default().push(reference);
            }
        }
        let figures = |refs: &Vec<&str>| csat_figures(refs, &answers);
        Ok(CsatReport {
            team: csat_figures(&team, &answers),
            by_advisor: by_advisor.iter().map(|(k, v)| (k.clone(), figures(v))).collect(),
            by_queue: by_queue.iter().map(|(k, v)| (k.clone(), figures(v))).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{SurveySchedule, SURVEY_SAFETY_PERIOD};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn the_survey_pass_runs_when_resolutions_arrive_the_mirror_moves_under_a_waiting_one_or_the_period_ends() {
        let t0 = tokio::time::Instant::now();
        let mirror = Arc::new(Vec::new());
        let mut s = SurveySchedule::new(t0);
        assert!(s.due(t0, false, &mirror), "the first pass runs at once");
        s.ran(t0, mirror.clone(), false);
        let soon = t0 + Duration::from_secs(1);
        assert!(!s.due(soon, false, &mirror), "nothing new: no pass");
        assert!(!s.due(soon, false, &Arc::new(Vec::new())), "the mirror moved, nothing was waiting on it: no pass");
        assert!(s.due(soon, true, &mirror), "a resolution arrived");
        assert!(s.due(t0 + SURVEY_SAFETY_PERIOD, false, &mirror), "the safety period");
        // A pass that left a resolution waiting on the mirror runs again once it moves.
        s.ran(soon, mirror.clone(), true);
        assert!(!s.due(soon, false, &mirror));
        let moved = Arc::new(Vec::new());
        assert!(s.due(soon, false, &moved));
        s.ran(soon, moved.clone(), false);
        assert!(!s.due(soon + Duration::from_secs(1), false, &Arc::new(Vec::new())));
    }
}
