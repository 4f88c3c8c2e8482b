// Generated from the Rust types by crates/engine/tests/contract.rs: do not edit.
// Regenerate: BLENDESK_BLESS=1 cargo test -p blendesk-engine --test contract
// 64-bit integers are numbers: serde_json writes them so, and ids and unix
// milliseconds stay below 2^53.

export type ErrorCode = "config" | "credentials" | "imap" | "smtp" | "sign_in_revoked" | "sign_in" | "not_permitted" | "keyword_limit" | "unsupported" | "missing" | "forbidden" | "invalid" | "store" | "internal" | "coordination" | "starting" | "paused" | "images" | "open" | "keyring" | "io";

export type Mode = "team" | "solo";

export type ConnectionState = "online" | "offline" | "sign_in_needed";

export type SlaLevel = "ok" | "at_risk" | "breached";

export type Conversation = { 
/**
 * Its key: the customer's address, or a `$bd_conv_` token once merged or split.
 */
key: string, 
/**
 * The customer of its newest open message.
 */
customer: string, 
/**
 * Every customer with an open message in it (two or more after a merge).
 */
customers: Array<string>, customer_name: string, subject: string, 
/**
 * The newest open message: the one a reply answers.
 */
latest_id: number, queue: string, open_messages: number, waiting_since: number, 
/**
 * When the reply is due (unix seconds; business hours of the queue's calendar).
 * Meaningful only while `sla_running`.
 */
sla_due_at: number, sla: SlaLevel, 
/**
 * False while the clock is stopped (our reply is the newest: waiting on the
 * customer) or the calendar never opens.
 */
sla_running: boolean, 
/**
 * Its tags (`tags.rs`): with its queue, its email type.
 */
tags: Array<string>, };

export type QueueSummary = { queue: string, waiting: number, oldest_waiting_since: number | null, 
/**
 * At risk or breached.
 */
at_risk: number, 
/**
 * Breached (past due, or marked `$bd_breached` by the team).
 */
breached: number, };

export type EngineEvent = { "type": "sync_progress", folder: string, done: number, total: number, } | { "type": "sync_finished", folder: string, new: number, messages: number, } | { "type": "message_arrived", folder: string, id: number, uid: number, message_id: string | null, subject: string, from: string, } | { "type": "messages_expunged", folder: string, count: number, } | { "type": "flags_changed", folder: string, count: number, } | { "type": "folder_rebuilt", folder: string, kept: number, dropped: number, } | { "type": "connection", folder: string, state: ConnectionState, detail: string | null, } | { "type": "outbox", id: number, state: string, error: string | null, } | { "type": "advisor_state", state: string, at_ms: number, } | { "type": "claimed", folder: string, uid: number, id: number, message_id: string | null, at_ms: number, load: number, cap: number, joins: boolean, state: string, } | { "type": "owners_settled", folder: string, uid: number, id: number, kept: string, removed: Array<string>, } | { "type": "acknowledged", folder: string, uid: number, to: string, outbox_id: number, } | { "type": "breaker_tripped", acknowledgements: number, window_minutes: number, } | { "type": "sla_breached", folder: string, uid: number, customer: string, due_ms: number, } | { "type": "still_working_sent", folder: string, uid: number, to: string, outbox_id: number, } | { "type": "survey_sent", folder: string, uid: number, to: string, outbox_id: number, } | { "type": "survey_answered", from: string, rating: number | null, resolved: boolean | null, } | { "type": "handed_back", notice: Notice, } | { "type": "team_activity", new: number, } | { "type": "policy_changed", uid: number, } | { "type": "runtime_started", mode: Mode, tasks: Array<string>, };

export type Notice = { 
/**
 * Unique within this app's run.
 */
id: number, 
/**
 * `handed_back`: an email went back to the queue during the call.
 */
kind: string, 
/**
 * The conversation's key and customer, and its subject.
 */
key: string, customer: string, subject: string, 
/**
 * When its reply was due (unix milliseconds).
 */
due_at_ms: number, 
/**
 * The advisor's draft went with it.
 */
draft_sent: boolean, at_ms: number, };

export type Disposition = "resolved" | "follow_up" | "transfer";

export type EndedCall = { call_id: string | null, number: string | null, direction: string | null, started_ms: number, 
/**
 * Connected time on the call, hold left out.
 */
talk_ms: number, hold_ms: number, };

export type DayFigures = { claimed: number, replied: number, resolved: number, released: number, handed_back: number, transferred: number, 
/**
 * Calls ended, their talk time and the time customers spent on hold.
 */
calls: number, talk_ms: number, hold_ms: number, 
/**
 * Replies whose handle time the window measured, and that time in total.
 */
timed_replies: number, handle_ms: number, };

export type MyDay = { 
/**
 * YYYY-MM-DD (UTC).
 */
day: string, me: DayFigures, team_median: DayFigures, 
/**
 * Advisors with any activity today (the median's basis).
 */
team_size: number, 
/**
 * My mean handle time per timed reply today, and the median of the team's means.
 */
my_handle_ms: number | null, team_handle_ms: number | null, };

export type DailyRow = { day: string, advisor: string, claimed: number, replied: number, resolved: number, released: number, handed_back: number, transferred: number, 
/**
 * Calls ended, their talk time and the time customers spent on hold.
 */
calls: number, talk_ms: number, hold_ms: number, 
/**
 * Replies whose handle time the window measured, and that time in total.
 */
timed_replies: number, handle_ms: number, };

export type MyWeek = { 
/**
 * `2026-W49`, and its first day (YYYY-MM-DD).
 */
week: string, from_day: string, me: DayFigures, team_median: DayFigures, 
/**
 * Advisors with any activity this week (the median's basis).
 */
team_size: number, my_handle_ms: number | null, team_handle_ms: number | null, 
/**
 * Median first response (calendar minutes) of the conversations I own that were
 * opened this week, and the median of every owner's median.
 */
my_first_response_minutes: number | null, team_first_response_minutes: number | null, 
/**
 * Each colleague's figures, only when the policy's `advisors_see_colleagues` is on.
 */
colleagues: Array<DailyRow>, };

export type AnalyticsPeriod = "day" | "week" | "month";

export type AnalyticsFilter = { from: string, to: string, by: AnalyticsPeriod, queue: string | null, advisor: string | null, language: string | null, 
/**
 * With `queue`, the email type: only conversations with this tag.
 */
tag: string | null, };

export type AnalyticsRow = { period: string, conversations: number, 
/**
 * Conversations with a first response.
 */
answered: number, 
/**
 * First response, calendar minutes: median and 90th percentile; business minutes (the
 * queue's SLA calendar): median.
 */
first_response_median_minutes: number | null, first_response_p90_minutes: number | null, first_response_business_median_minutes: number | null, 
/**
 * First responses within the SLA (answered or already late), percent.
 */
sla_attainment_pct: number | null, one_touch_pct: number | null, reopened: number, 
/**
 * First responses in 0–1 h, 1–4 h, 4–8 h, 8–24 h, 24 h+.
 */
buckets: Array<number>, };

export type LiveQueue = { queue: string, waiting: number, at_risk: number, breached: number, 
/**
 * Conversations opened today, and the share of their first responses within the SLA
 * so far (unanswered ones count once they are late).
 */
opened_today: number, sla_attainment_pct: number | null, };

export type LiveAdvisor = { advisor: string, 
/**
 * Replies sent and conversations resolved today.
 */
handled: number, resolved: number, 
/**
 * Mean handle time per timed reply.
 */
handle_ms: number | null, calls: number, talk_ms: number, 
/**
 * Today so far: calls, wrap-up and email handling over the time available, on a
 * call or in wrap-up, from the state events (`activity::occupancy`), in percent.
 */
occupancy_pct: number | null, };

export type LiveBoard = { 
/**
 * YYYY-MM-DD (UTC).
 */
day: string, queues: Array<LiveQueue>, advisors: Array<LiveAdvisor>, };

export type Analytics = { live: LiveBoard, rows: Array<AnalyticsRow>, total: AnalyticsRow, 
/**
 * What the filters can choose from (every conversation in the mirror).
 */
queues: Array<string>, advisors: Array<string>, languages: Array<string>, tags: Array<string>, };

export type Drill = { period: string | null, bucket: number | null, };

export type DrillConversation = { subject: string, customer: string, queue: string, 
/**
 * Owner ("" = nobody).
 */
advisor: string, language: string, 
/**
 * The first customer message (unix ms).
 */
opened_ms: number, 
/**
 * The first response (unix ms) and its wait in calendar minutes.
 */
first_response_ms: number | null, first_response_minutes: number | null, };

export type ExportKind = "table" | "conversations";

export type Draft = { text: string, 
/**
 * Set when the text is a colleague's, handed over with the email (their id).
 */
handed_by: string | null, };

export type ThreadMessage = { id: number, folder: string, from_addr: string, from_name: string, subject: string, date: number, 
/**
 * Sent by the team (our Sent folder or our domain).
 */
outgoing: boolean, answered: boolean, 
/**
 * A call note logged by an advisor (`crate::callback`), never sent to the customer.
 */
note: boolean, };

export type HistoryItem = { id: number, folder: string, subject: string, date: number, outgoing: boolean, 
/**
 * `sent` (ours), `answered`, `resolved` (closed without a reply), or `open`.
 */
status: string, };

export type Snippet = { id: number, subject: string, from_addr: string, date: number, from_team: boolean, excerpt: string, };

export type KnowledgeSnippet = { article_id: string, title: string, tags: Array<string>, 
/**
 * The paragraph that matches, to insert.
 */
excerpt: string, 
/**
 * The article's public link, if it has one.
 */
link: string | null, uses: number, score: number, };

export type KbArticle = { article_id: string, title: string, tags: Array<string>, body: string, author: string, updated_at: number, 
/**
 * Team-wide "used" marks.
 */
uses: number, };

export type TemplateView = { name: string, queue: string, language: string, body: string, footer: boolean, 
/**
 * The version shown (its UID in the templates folder).
 */
uid: number, approved: boolean, 
/**
 * Supervisors who approved the version shown.
 */
approved_by: Array<string>, 
/**
 * A newer version waiting for approval, if any.
 */
pending_uid: number | null, };

export type Rearranged = { keys: Array<string>, changed: number, lost: number, };

export type CustomerHistory = { 
/**
 * The customer's address first, then the aliases found.
 */
addresses: Array<string>, conversations: Array<ConversationHistory>, };

export type ConversationHistory = { subject: string, started: number, last_activity: number, status: ConversationStatus, messages: number, 
/**
 * The customer's newest message and the team's newest reply.
 */
last_customer: Line | null, last_reply: Line | null, 
/**
 * Message ids, oldest first.
 */
ids: Array<number>, };

export type ConversationStatus = "open" | "answered" | "resolved";

export type Line = { id: number, date: number, from_addr: string, excerpt: string, };

export type CallSuggestionView = { 
/**
 * The customer's address.
 */
customer: string, reasons: Array<CallReasonView>, phone: PhoneView | null, };

export type CallReasonView = { "kind": "exchanges", count: number, } | { "kind": "frustration", word: string, };

export type PhoneView = { 
/**
 * As the customer wrote it.
 */
written: string, e164: string, 
/**
 * `tel:+…` for the softphone.
 */
tel: string, };

export type PresenceNote = { advisor: string, name: string, state: string, load: number, cap: number, 
/**
 * When the current state began (the publisher's clock; for "on call since").
 */
since_ms: number, 
/**
 * IMAP connections the publishing app holds (hosted servers cap them per account).
 */
connections: number, 
/**
 * The publisher's own figures today (UTC), live from its own events: what the
 * supervisor view shows per advisor before the event log has gone round.
 */
today: DayFigures, };

export type PresenceEntry = { note: PresenceNote, 
/**
 * Server time of the newest heartbeat, unix seconds.
 */
heartbeat_at: number, 
/**
 * No heartbeat for `MISSED_TO_OFFLINE` periods.
 */
offline: boolean, 
/**
 * Seconds since the newest heartbeat, by the server's clock.
 */
silent_for: number, };

export type Skills = { queues: Array<string> | null, languages: Array<string> | null, };

export type ConversationClock = { 
/**
 * The conversation's key (`crate::conversation`).
 */
key: string, 
/**
 * The address (lower-cased) of the customer whose message started the clock.
 */
customer: string, 
/**
 * The queue of the message that started the clock (whose SLA settings apply).
 */
queue: string, 
/**
 * That message (mirror id): the one a "still working on it" note answers and the
 * breach keyword marks.
 */
message: number, first_response: boolean, 
/**
 * When the clock started and when the reply is due, unix milliseconds (`None`: the
 * calendar never opens).
 */
since_ms: number, due_ms: number | null, level: SlaLevel, 
/**
 * A message of this clock (since it started) carries `$bd_breached`, set by
 * whichever app saw the breach first.
 */
marked_breached: boolean, 
/**
 * Some message of the conversation carries a `$bd_late_` duty keyword: its note is
 * taken care of.
 */
noted: boolean, 
/**
 * Nobody owns the conversation's open messages yet.
 */
unowned: boolean, };

export type AutomationAlerts = { 
/**
 * Set while the breaker holds automatic mail back (a loop or a flood).
 */
breaker: BreakerAlert | null, 
/**
 * Open conversations past their SLA (or marked `$bd_breached` by the team),
 * earliest due first.
 */
breached: Array<ConversationClock>, };

export type BreakerAlert = { 
/**
 * Automatic messages the team sent within the window.
 */
recent: number, limit: number, window_minutes: number, };

export type Channel = "email" | "call";

export type Scale = "binary" | "three" | "four" | "five";

export type Category = { id: string, label: string, scale: Scale, weight: number, critical: boolean, 
/**
 * Whether "not applicable" is an allowed answer.
 */
allow_na: boolean, };

export type Section = { name: string, categories: Array<Category>, };

export type Scorecard = { name: string, version: number, channel: Channel, 
/**
 * The email type it reviews: a queue, and optionally a tag; none for every queue.
 */
queue: string | null, tag: string | null, sections: Array<Section>, 
/**
 * What a reviewer may name as the cause of a negative category.
 */
root_causes: Array<string>, };

export type Review = { scorecard: string, scorecard_version: number, 
/**
 * The conversation's key (its customer, or its token).
 */
conversation: string, 
/**
 * Whose work is reviewed.
 */
advisor: string, reviewer: string, 
/**
 * Category id → value; `null` for N/A.
 */
scores: { [key in string]?: number | null }, 
/**
 * Category id → root cause, for negative categories.
 */
root_causes: { [key in string]?: string }, comment: string, 
/**
 * Part of a calibration session: compared, not counted.
 */
calibration: boolean, };

export type ReviewScore = { 
/**
 * 0–100; `None` when every category was N/A.
 */
score_pct: number | null, 
/**
 * The critical categories below 50 % (the review scores 0 when any).
 */
critical_failed: Array<string>, 
/**
 * Category id → its share in percent (N/A left out).
 */
categories: { [key in string]?: number }, };

export type Calibration = { reviewers: Array<string>, score_spread: number, category_spread: { [key in string]?: number }, };

export type ReviewView = { review: Review, score: ReviewScore, at_ms: number, };

export type QualityView = { reviews: Array<ReviewView>, scores: { [key in string]?: number | null }, calibrations: { [key in string]?: Calibration }, };

export type SampleItem = { advisor: string, conversation: string, message: number, subject: string, };

export type AutoChecks = { greeting: boolean, closing: boolean, 
/**
 * `None`: not known (a reply not sent from the window, or by an earlier version).
 */
template_or_article_used: boolean | null, 
/**
 * Whether the reply met its SLA (`None`: not known).
 */
sla_met: boolean | null, 
/**
 * `None` when the reply promises no attachment; else whether one is attached.
 */
promised_attachment: boolean | null, };

export const ERROR_CODES: ErrorCode[] = ["config", "credentials", "sign_in_revoked", "sign_in", "imap", "smtp", "not_permitted", "keyword_limit", "unsupported", "missing", "forbidden", "invalid", "store", "internal", "coordination", "starting", "paused", "images", "open", "keyring", "io"];
