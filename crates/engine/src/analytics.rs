//! The supervisor's analytics page and the advisor's "My week", computed here so the
//! window only shows them: today live (queues from the mirror's SLA clocks, advisors
//! from the team's event log), history per day, week or month filtered by queue,
//! advisor and language (`domain::metrics` over the conversations `reports.rs` finds),
//! the conversations behind any figure, and CSV files of both (`domain::csv`).
//!
//! Email type (queue × tag) is not a filter: conversations carry no tags yet.

use crate::engine::{Engine, EngineError, Result};
use crate::reports::Opened;
use blendesk_domain::activity::{day_of, median_figures, DayFigures};
use blendesk_domain::csv;
use blendesk_domain::metrics::{day_end_ms, first_response_bucket, period_of, report, ConversationMetrics, Period, Report};
use blendesk_domain::tags::normalise_tag;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const DAY_MS: i64 = 86_400_000;

/// How the history is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum AnalyticsPeriod {
    Day,
    Week,
    Month,
}

impl From<AnalyticsPeriod> for Period {
    fn from(p: AnalyticsPeriod) -> Period {
        match p {
            AnalyticsPeriod::Day => Period::Day,
            AnalyticsPeriod::Week => Period::Week,
            AnalyticsPeriod::Month => Period::Month,
        }
    }
}

/// What the supervisor asked for: days `from`..=`to` (YYYY-MM-DD, UTC), cut by `by`,
/// only the conversations of `queue`, owned by `advisor` ("" = nobody's), in `language`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct AnalyticsFilter {
    pub from: String,
    pub to: String,
    pub by: AnalyticsPeriod,
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub advisor: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    /// With `queue`, the email type: only conversations with this tag.
    #[serde(default)]
    pub tag: Option<String>,
}

impl AnalyticsFilter {
    /// The filter with its tag written as tags are (`domain::tags`); a bad tag refused.
    fn normalised(&self) -> Result<AnalyticsFilter> {
        let tag = self.tag.as_deref().filter(|t| !t.trim().is_empty()).map(normalise_tag).transpose();
        Ok(AnalyticsFilter { tag: tag.map_err(|e| EngineError::Conversation(e.to_string()))?, ..self.clone() })
    }
}

/// One line of the history table (a period, or the whole range).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct AnalyticsRow {
    pub period: String,
    pub conversations: u32,
    /// Conversations with a first response.
    pub answered: u32,
    /// First response, calendar minutes: median and 90th percentile; business minutes (the
    /// queue's SLA calendar): median.
    pub first_response_median_minutes: Option<i64>,
    pub first_response_p90_minutes: Option<i64>,
    pub first_response_business_median_minutes: Option<i64>,
    /// First responses within the SLA (answered or already late), percent.
    pub sla_attainment_pct: Option<f64>,
    pub one_touch_pct: Option<f64>,
    pub reopened: u32,
    /// First responses in 0–1 h, 1–4 h, 4–8 h, 8–24 h, 24 h+.
    pub buckets: Vec<u32>,
}

impl AnalyticsRow {
    fn of(period: String, r: &Report) -> AnalyticsRow {
        AnalyticsRow {
            period,
            conversations: r.conversations as u32,
            answered: r.first_response_minutes.map_or(0, |s| s.count as u32),
            first_response_median_minutes: r.first_response_minutes.map(|s| s.median),
            first_response_p90_minutes: r.first_response_minutes.map(|s| s.p90),
            first_response_business_median_minutes: r.first_response_business_minutes.map(|s| s.median),
            sla_attainment_pct: r.sla_attainment_pct,
            one_touch_pct: r.one_touch_pct,
            reopened: r.reopened as u32,
            buckets: r.first_response_buckets.iter().map(|n| *n as u32).collect(),
        }
    }
}

/// A queue today: waiting now (the mirror's clocks) and today's first responses.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct LiveQueue {
    pub queue: String,
    pub waiting: u32,
    pub at_risk: u32,
    pub breached: u32,
    /// Conversations opened today, and the share of their first responses within the SLA
    /// so far (unanswered ones count once they are late).
    pub opened_today: u32,
    pub sla_attainment_pct: Option<f64>,
}

/// An advisor today, from the team's event log.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct LiveAdvisor {
    pub advisor: String,
    /// Replies sent and conversations resolved today.
    pub handled: u32,
    pub resolved: u32,
    /// Mean handle time per timed reply.
    pub handle_ms: Option<i64>,
    pub calls: u32,
    pub talk_ms: i64,
    /// Today so far: calls, wrap-up and email handling over the time available, on a
    /// call or in wrap-up, from the state events (`activity::occupancy`), in percent.
    pub occupancy_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct LiveBoard {
    /// YYYY-MM-DD (UTC).
    pub day: String,
    pub queues: Vec<LiveQueue>,
    pub advisors: Vec<LiveAdvisor>,
}

/// The analytics page: today live, and the history the filter asks for.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Analytics {
    pub live: LiveBoard,
    pub rows: Vec<AnalyticsRow>,
    pub total: AnalyticsRow,
    /// What the filters can choose from (every conversation in the mirror).
    pub queues: Vec<String>,
    pub advisors: Vec<String>,
    pub languages: Vec<String>,
    pub tags: Vec<String>,
}

/// Which figure the supervisor opened: a period's conversations (`period`), its
/// first-response bucket (`bucket` 0–4), or both; neither = the whole range.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Drill {
    #[serde(default)]
    pub period: Option<String>,
    #[serde(default)]
    pub bucket: Option<u8>,
}

/// One conversation behind a figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct DrillConversation {
    pub subject: String,
    pub customer: String,
    pub queue: String,
    /// Owner ("" = nobody).
    pub advisor: String,
    pub language: String,
    /// The first customer message (unix ms).
    pub opened_ms: i64,
    /// The first response (unix ms) and its wait in calendar minutes.
    pub first_response_ms: Option<i64>,
    pub first_response_minutes: Option<i64>,
}

/// What a CSV export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportKind {
    /// The history table as shown (one line per period, then the total).
    Table,
    /// The conversations behind the drill-down (every conversation of the range without one).
    Conversations,
}

/// "My week": my figures this ISO week (UTC, Monday to now) beside the team's median.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct MyWeek {
    /// `2026-W49`, and its first day (YYYY-MM-DD).
    pub week: String,
    pub from_day: String,
    pub me: DayFigures,
    pub team_median: DayFigures,
    /// Advisors with any activity this week (the median's basis).
    pub team_size: u32,
    pub my_handle_ms: Option<i64>,
    pub team_handle_ms: Option<i64>,
    /// Median first response (calendar minutes) of the conversations I own that were
    /// opened this week, and the median of every owner's median.
    pub my_first_response_minutes: Option<i64>,
    pub team_first_response_minutes: Option<i64>,
    /// Each colleague's figures, only when the policy's `advisors_see_colleagues` is on.
    pub colleagues: Vec<crate::activity::DailyRow>,
}

/// `[from, to)` in unix ms for the days `from`..=`to`.
fn day_range(from: &str, to: &str) -> Result<(i64, i64)> {
    let invalid = |e: String| EngineError::Conversation(e);
    let from_ms = day_end_ms(from).map_err(invalid)? - DAY_MS;
    let to_ms = day_end_ms(to).map_err(invalid)?;
    if to_ms <= from_ms {
        return Err(EngineError::Conversation(format!("{from} is after {to}")));
    }
    Ok((from_ms, to_ms))
}

fn matches(o: &Opened, f: &AnalyticsFilter, from_ms: i64, to_ms: i64) -> bool {
    o.at_ms >= from_ms
        && o.at_ms < to_ms
        && f.queue.as_ref().is_none_or(|q| *q == o.queue)
        && f.advisor.as_ref().is_none_or(|a| *a == o.owner.clone().unwrap_or_default())
        && f.language.as_ref().is_none_or(|l| l == o.language)
        && f.tag.as_ref().is_none_or(|t| o.tags.contains(t))
}

fn median(mut v: Vec<i64>) -> Option<i64> {
    v.sort_unstable();
    v.get(v.len().saturating_sub(1) / 2).copied()
}

fn pct(v: Option<f64>) -> String {
    v.map_or(String::new(), |p| format!("{p:.1}"))
}

fn opt(v: Option<i64>) -> String {
    v.map_or(String::new(), |n| n.to_string())
}

/// `YYYY-MM-DD HH:MM` (UTC).
fn utc_minute(ms: i64) -> String {
    let minute = ms.rem_euclid(DAY_MS) / 60_000;
    format!("{} {:02}:{:02}", day_of(ms), minute / 60, minute % 60)
}

/// The header of the table CSV, in the order the window shows the columns.
pub const TABLE_COLUMNS: [&str; 14] = [
    "period",
    "conversations",
    "answered",
    "first_response_median_minutes",
    "first_response_p90_minutes",
    "first_response_business_median_minutes",
    "sla_attainment_pct",
    "one_touch_pct",
    "reopened",
    "first_response_0_1h",
    "first_response_1_4h",
    "first_response_4_8h",
    "first_response_8_24h",
    "first_response_24h_plus",
];

/// The table as CSV text: a BOM, the header, each period's line, the total last.
pub fn table_csv(rows: &[AnalyticsRow], total: &AnalyticsRow) -> String {
    let mut out = String::from(csv::BOM);
    out.push_str(&csv::row(&TABLE_COLUMNS));
    for r in rows.iter().chain(std::iter::once(total)) {
        let mut cells = vec![
            r.period.clone(),
            r.conversations.to_string(),
            r.answered.to_string(),
            opt(r.first_response_median_minutes),
            opt(r.first_response_p90_minutes),
            opt(r.first_response_business_median_minutes),
            pct(r.sla_attainment_pct),
            pct(r.one_touch_pct),
            r.reopened.to_string(),
        ];
        cells.extend(r.buckets.iter().map(|n| n.to_string()));
        out.push_str(&csv::row(&cells));
    }
    out
}

/// The conversations as CSV text (BOM, header, one line each).
pub fn conversations_csv(list: &[DrillConversation]) -> String {
    let mut out = String::from(csv::BOM);
    out.push_str(&csv::row(&[
        "opened_utc",
        "subject",
        "customer",
        "queue",
        "advisor",
        "language",
        "first_response_utc",
        "first_response_minutes",
    ]));
    for c in list {
        out.push_str(&csv::row(&[
            utc_minute(c.opened_ms),
            c.subject.clone(),
            c.customer.clone(),
            c.queue.clone(),
            c.advisor.clone(),
            c.language.clone(),
            c.first_response_ms.map(utc_minute).unwrap_or_default(),
            opt(c.first_response_minutes),
        ]));
    }
    out
}

impl Engine {
    /// The analytics page for `filter` as of `now_ms`.
    pub fn analytics(&self, filter: &AnalyticsFilter, now_ms: i64) -> Result<Analytics> {
        let filter = &filter.normalised()?;
        let (from_ms, to_ms) = day_range(&filter.from, &filter.to)?;
        let (_, opened) = self.conversations_report(now_ms)?;
        let (mut queues, mut advisors, mut languages, mut tags) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for o in &opened {
            queues.insert(o.queue.clone());
            advisors.insert(o.owner.clone().unwrap_or_default());
            languages.insert(o.language.to_owned());
            tags.extend(o.tags.iter().cloned());
        }
        queues.extend(self.config.imap.queues.iter().cloned());
        let mut groups: BTreeMap<String, Vec<ConversationMetrics>> = BTreeMap::new();
        let mut all = Vec::new();
        for o in opened.iter().filter(|o| matches(o, filter, from_ms, to_ms)) {
            groups.entry(period_of(o.at_ms, filter.by.into())).or_default().push(o.metrics.clone());
            all.push(o.metrics.clone());
        }
        let rows = groups.iter().map(|(p, m)| AnalyticsRow::of(p.clone(), &report(m))).collect();
        let total = AnalyticsRow::of("total".into(), &report(&all));
        Ok(Analytics {
            live: self.live_board(&opened, now_ms)?,
            rows,
            total,
            queues: queues.into_iter().collect(),
            advisors: advisors.into_iter().collect(),
            languages: languages.into_iter().collect(),
            tags: tags.into_iter().collect(),
        })
    }

    fn live_board(&self, opened: &[Opened], now_ms: i64) -> Result<LiveBoard> {
        let start = now_ms - now_ms.rem_euclid(DAY_MS);
        let summaries = self.workspace(now_ms / 1000)?.queues;
        let queues = summaries
            .into_iter()
            .map(|q| {
                let today: Vec<ConversationMetrics> =
                    opened.iter().filter(|o| o.queue == q.queue && o.at_ms >= start).map(|o| o.metrics.clone()).collect();
                let r = report(&today);
                LiveQueue {
                    queue: q.queue,
                    waiting: q.waiting,
                    at_risk: q.at_risk,
                    breached: q.breached,
                    opened_today: today.len() as u32,
                    sla_attainment_pct: r.sla_attainment_pct,
                }
            })
            .collect();
        // Yesterday's events too: the state each advisor was in when the day began.
        let events = self.team_activity(start - DAY_MS, now_ms)?;
        let advisors = self
            .activity_daily(start, start + DAY_MS)?
            .into_iter()
            .map(|r| LiveAdvisor {
                occupancy_pct: blendesk_domain::activity::occupancy(&blendesk_domain::activity::time_use(
                    &events, &r.advisor, start, now_ms,
                )),
                advisor: r.advisor,
                handled: r.figures.replied,
                resolved: r.figures.resolved,
                handle_ms: r.figures.mean_handle_ms(),
                calls: r.figures.calls,
                talk_ms: r.figures.talk_ms,
            })
            .collect();
        Ok(LiveBoard { day: day_of(start), queues, advisors })
    }

    /// The conversations behind a figure of `filter`'s history, oldest first.
    pub fn analytics_conversations(&self, filter: &AnalyticsFilter, drill: &Drill, now_ms: i64) -> Result<Vec<DrillConversation>> {
        let filter = &filter.normalised()?;
        let (from_ms, to_ms) = day_range(&filter.from, &filter.to)?;
        let (_, opened) = self.conversations_report(now_ms)?;
        let mut out: Vec<DrillConversation> = opened
            .iter()
            .filter(|o| matches(o, filter, from_ms, to_ms))
            .filter(|o| drill.period.as_ref().is_none_or(|p| *p == period_of(o.at_ms, filter.by.into())))
            .filter(|o| {
                drill.bucket.is_none_or(|b| {
                    o.metrics.first_response.is_some_and(|s| first_response_bucket(s.calendar_ms / 60_000) == usize::from(b))
                })
            })
            .map(|o| DrillConversation {
                subject: o.subject.clone(),
                customer: o.customer.clone(),
                queue: o.queue.clone(),
                advisor: o.owner.clone().unwrap_or_default(),
                language: o.language.to_owned(),
                opened_ms: o.at_ms,
                first_response_ms: o.metrics.first_response.map(|s| o.at_ms + s.calendar_ms),
                first_response_minutes: o.metrics.first_response.map(|s| s.calendar_ms / 60_000),
            })
            .collect();
        out.sort_by(|a, b| (a.opened_ms, &a.subject).cmp(&(b.opened_ms, &b.subject)));
        Ok(out)
    }

    /// Write the table or the drill-down's conversations as a CSV file (UTF-8 with a BOM,
    /// no cell a spreadsheet would run as a formula) into `dir`; returns its path.
    pub fn export_analytics(&self, filter: &AnalyticsFilter, kind: ExportKind, drill: &Drill, dir: &Path, now_ms: i64) -> Result<PathBuf> {
        let text = match kind {
            ExportKind::Table => {
                let a = self.analytics(filter, now_ms)?;
                table_csv(&a.rows, &a.total)
            }
            ExportKind::Conversations => conversations_csv(&self.analytics_conversations(filter, drill, now_ms)?),
        };
        let what = match kind {
            ExportKind::Table => "table",
            ExportKind::Conversations => "conversations",
        };
        let mut name = format!("blendesk-{what}-{}-{}", filter.from, filter.to);
        if let Some(p) = &drill.period {
            name.push_str(&format!("-{p}"));
        }
        if let Some(b) = drill.bucket {
            name.push_str(&format!("-bucket{b}"));
        }
        // Only characters a file name always takes.
        let name: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        let io = |e: std::io::Error| EngineError::Internal(format!("writing {}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(io)?;
        let path = dir.join(format!("{name}.csv"));
        std::fs::write(&path, text).map_err(io)?;
        Ok(path)
    }

    /// "My week" for this advisor as of `now_ms`.
    pub fn my_week(&self, now_ms: i64) -> Result<MyWeek> {
        let today = now_ms - now_ms.rem_euclid(DAY_MS);
        // 1970-01-01 was a Thursday: days since the Monday before it, modulo 7.
        let monday = today - ((today / DAY_MS + 3).rem_euclid(7)) * DAY_MS;
        let rows = self.activity_daily(monday, today + DAY_MS)?;
        let mut per: BTreeMap<String, DayFigures> = BTreeMap::new();
        for r in &rows {
            per.entry(r.advisor.clone()).or_default().add(&r.figures);
        }
        let me = self.config.advisor.id.as_str().to_owned();
        let mine = per.get(&me).cloned().unwrap_or_default();
        let all: Vec<DayFigures> = per.values().cloned().collect();
        // First responses of the conversations opened this week, per owner.
        let (_, opened) = self.conversations_report(now_ms)?;
        let mut frt: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for o in opened.iter().filter(|o| o.at_ms >= monday) {
            if let (Some(owner), Some(s)) = (&o.owner, o.metrics.first_response) {
                frt.entry(owner.clone()).or_default().push(s.calendar_ms / 60_000);
            }
        }
        let owner_medians: Vec<i64> = frt.values().filter_map(|v| median(v.clone())).collect();
        let colleagues = if self.policy().advisors_see_colleagues {
            per.iter()
                .filter(|(a, _)| **a != me)
                .map(|(a, f)| crate::activity::DailyRow { day: day_of(monday), advisor: a.clone(), figures: f.clone() })
                .collect()
        } else {
            Vec::new()
        };
        Ok(MyWeek {
            week: period_of(today, Period::Week),
            from_day: day_of(monday),
            my_handle_ms: mine.mean_handle_ms(),
            team_handle_ms: median(all.iter().filter_map(DayFigures::mean_handle_ms).collect()),
            my_first_response_minutes: frt.get(&me).and_then(|v| median(v.clone())),
            team_first_response_minutes: median(owner_medians),
            me: mine,
            team_median: median_figures(&all),
            team_size: all.len() as u32,
            colleagues,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(period: &str, n: u32) -> AnalyticsRow {
        AnalyticsRow {
            period: period.into(),
            conversations: n,
            answered: n,
            first_response_median_minutes: Some(30),
            first_response_p90_minutes: None,
            first_response_business_median_minutes: Some(0),
            sla_attainment_pct: Some(66.666),
            one_touch_pct: None,
            reopened: 0,
            buckets: vec![n, 0, 0, 0, 0],
        }
    }

    #[test]
    fn the_table_csv_has_a_bom_a_header_each_row_and_the_total() {
        let text = table_csv(&[row("2026-11-02", 2), row("2026-11-03", 1)], &row("total", 3));
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
        assert!(text.starts_with('\u{feff}'));
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("period,conversations,answered,first_response_median_minutes"));
        assert_eq!(lines[1], "2026-11-02,2,2,30,,0,66.7,,0,2,0,0,0,0");
        assert!(lines[3].starts_with("total,3,"));
    }

    #[test]
    fn a_subject_that_looks_like_a_formula_is_not_one_in_the_csv() {
        let c = DrillConversation {
            subject: "=HYPERLINK(\"http://x\")".into(),
            customer: "a@example.com".into(),
            queue: "INBOX".into(),
            advisor: String::new(),
            language: "en".into(),
            opened_ms: 1_796_342_400_000,
            first_response_ms: None,
            first_response_minutes: None,
        };
        let text = conversations_csv(&[c]);
        let line = text.lines().nth(1).unwrap();
        assert!(line.starts_with("2026-12-04 00:00,"), "{line}");
        assert!(!line.contains(",=HYPERLINK"), "{line}");
    }

    #[test]
    fn days_are_whole_and_in_order() {
        assert_eq!(day_range("2026-11-01", "2026-11-30").unwrap(), (1_793_491_200_000, 1_796_083_200_000));
        assert!(day_range("2026-11-02", "2026-11-01").is_err());
        assert!(day_range("yesterday", "2026-11-01").is_err());
    }
}
