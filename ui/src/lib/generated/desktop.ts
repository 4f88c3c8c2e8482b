// Generated from the Rust types by src-tauri/src/contract.rs: do not edit.
// Regenerate: BLENDESK_BLESS=1 cargo test -p blendesk-desktop contract
import type { ErrorCode, ConnectionState, SlaLevel, Conversation, QueueSummary, EndedCall, HistoryItem, PresenceNote, Skills, AutomationAlerts } from "./engine";

export type CommandError = { code: ErrorCode, message: string, };

export type Startup = { "phase": "starting" } | { "phase": "needs_setup" } | { "phase": "ready" } | { "phase": "failed", error: string, };

export type PresenceView = { state: string, since_ms: number, wrap_up_until_ms: number | null, now_ms: number, 
/**
 * The call that ended and waits for the advisor's disposition (during wrap-up).
 */
call_to_dispose: EndedCall | null, };

export type ConnectionView = { state: ConnectionState, detail: string | null, };

export type Bootstrap = { startup: Startup, config_path: string, advisor_id: string | null, advisor_name: string | null, cap: number, presence: PresenceView, 
/**
 * The system's language (LC_ALL, LC_MESSAGES, LANG, LANGUAGE), e.g. `zh_CN.UTF-8`.
 */
system_locale: string | null, 
/**
 * The engine's tasks (`blendesk_engine::runtime::Task`), once started.
 */
engine_tasks: Array<string>, };

export type WorkspacePayload = { mine: Array<Conversation>, 
/**
 * Set aside by the advisor; they come back by themselves and do not count as load.
 */
parked: Array<ParkedConversation>, queues: Array<QueueSummary>, 
/**
 * Open emails I own in my active (not parked) conversations.
 */
load: number, 
/**
 * My cap in the supervisor policy in force.
 */
cap: number, 
/**
 * The policy message in force (0: defaults).
 */
policy_uid: number, 
/**
 * Whether this advisor is a supervisor in that policy (the supervisor view).
 */
supervisor: boolean, 
/**
 * For supervisors: conversations past their promise, plus one while the breaker
 * holds automatic mail back (a badge on the supervisor tab); 0 for others.
 */
supervisor_alerts: number, now: number, 
/**
 * Last known state of each folder's connection.
 */
connections: { [key in string]?: ConnectionView }, };

export type ParkedConversation = { return_at_ms: number, 
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

export type MessageView = { text: string, html: SafeHtml | null, to: Array<string>, id: number, folder: string, from_addr: string, from_name: string, subject: string, date: number, 
/**
 * Sent by the team (our Sent folder or our domain).
 */
outgoing: boolean, answered: boolean, 
/**
 * A call note logged by an advisor (`crate::callback`), never sent to the customer.
 */
note: boolean, };

export type ConversationPayload = { thread: Array<MessageView>, history: Array<HistoryItem>, };

export type SafeHtml = { 
/**
 * A complete document for `srcdoc`.
 */
document: string, 
/**
 * Remote resources removed (images, srcset…).
 */
blocked_remote: number, };

export type SupervisorAdvisor = { 
/**
 * The cap the policy in force gives them (the note's `cap` is what their app last
 * reported applying).
 */
policy_cap: number, 
/**
 * Their skills in the policy (absent lists: every queue / language).
 */
skills: Skills, note: PresenceNote, 
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

export type SupervisorView = { advisors: Array<SupervisorAdvisor>, queues: Array<QueueSummary>, 
/**
 * The breaker holding automatic mail back, and conversations past their SLA.
 */
alerts: AutomationAlerts, default_cap: number, policy_uid: number, now: number, };

export type OAuthForm = { 
/**
 * `microsoft365`, `google` or `issuer`.
 */
provider: string, client_id: string, 
/**
 * Microsoft 365: the directory (tenant); empty for `organizations`.
 */
tenant: string, 
/**
 * `issuer`: the issuer URL.
 */
issuer: string, 
/**
 * Space- or comma-separated; empty for the provider's.
 */
scopes: string, };

export type SetupForm = { advisor_id: string, advisor_name: string, imap_host: string, imap_port: number, imap_security: string, imap_username: string, imap_password: string, 
/**
 * Comma-separated queue folders.
 */
queues: string, smtp_host: string, smtp_port: number, smtp_security: string, smtp_username: string, smtp_password: string, from: string, 
/**
 * OAuth2 sign-in instead of passwords; `null` for passwords.
 */
oauth: OAuthForm | null, };

export type SetupReport = { capabilities: Array<string>, 
/**
 * Team mode needs these; without them Blendesk runs for one advisor only.
 */
missing_for_team: Array<string>, };

export type SaveReport = { config_path: string, 
/**
 * Why the passwords could not be stored in the keyring (they are used for this
 * session only), if so.
 */
keyring_warning: string | null, };

export type SignInReport = { connection: SetupReport, 
/**
 * Why the refresh token could not be stored in the keyring (it is kept for this
 * session only), if so.
 */
keyring_warning: string | null, };

export type AdvisorPolicy = { cap: number | null, skills: Skills | null, };

export type PolicyDraft = { default_cap: number, wrap_up_seconds: number, gap_pacing: boolean, hand_back: boolean, 
/**
 * Advisors whose cap or skills the draft sets (by id); others keep theirs.
 */
advisors: { [key in string]?: AdvisorPolicy }, };

export type Variant = "blendesk" | "no_blending" | "fixed_cap_no_pause" | "blendesk_gap_pacing" | "blendesk_hand_back";

export type Outcome = { variant: Variant, emails: number, 
/**
 * First replies within 1, 4 and 24 hours of calendar time.
 */
replied_within_1h: number, replied_within_4h: number, replied_within_24h: number, 
/**
 * First replies within 1, 4 and 24 business hours on the queue's calendar
 * (`business_minutes_between`, as the SLA clocks and the analytics count them).
 */
replied_within_1_business_h: number, replied_within_4_business_h: number, replied_within_24_business_h: number, 
/**
 * Per queue: (queue, emails, replied by their SLA due time).
 */
sla_met: Array<[string, number, number]>, 
/**
 * Emails not answered when the day closed.
 */
backlog_at_close: number, calls_offered: number, calls_answered: number, calls_abandoned: number, 
/**
 * Per advisor: (id, share of the day on calls, wrap-up or email).
 */
occupancy: Array<[string, number]>, 
/**
 * Per advisor: emails answered.
 */
handled: Array<[string, number]>, 
/**
 * Emails claimed while their advisor was on a call or in wrap-up.
 */
claimed_during_calls: number, 
/**
 * The busiest advisor's working time (calls, wrap-up, email) over the least busy one's.
 */
load_spread: number, 
/**
 * Emails given back to the queue during a long call (`pacing::should_hand_back`).
 */
handed_back: number, };

export type Basis = { 
/**
 * Days simulated (days with no email and no call are left out).
 */
days: number, emails: number, 
/**
 * False: no call history is recorded, so each day has the base scenario's calls.
 */
calls_from_history: boolean, 
/**
 * The first and last day simulated (YYYY-MM-DD), when any.
 */
first_day: string | null, last_day: string | null, 
/**
 * The mean handle time per reply and talk time per call (seconds) from the team's
 * event log; `None`: none recorded, the base scenario's.
 */
handle_mean_s: number | null, talk_mean_s: number | null, };

export type WhatIfDays = { "kind": "last_four_weeks" } | { "kind": "day", date: string, } | { "kind": "standard" };

export type WhatIf = { today: Outcome, draft: Outcome, 
/**
 * Today's team-wide settings, where a draft starts.
 */
current: PolicyDraft, 
/**
 * The days simulated, fitted from the mirror (`simulate::fit`).
 */
basis: Basis, 
/**
 * The simulator's standard day was run: asked for, or the mirror has no mail in
 * the days asked for.
 */
standard: boolean, };

