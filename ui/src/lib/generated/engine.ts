// Generated from the Rust types by crates/engine/tests/contract.rs: do not edit.
// Regenerate: BLENDESK_BLESS=1 cargo test -p blendesk-engine --test contract
// 64-bit integers are numbers: serde_json writes them so, and ids and unix
// milliseconds stay below 2^53.

export type ErrorCode = "config" | "credentials" | "imap" | "smtp" | "not_permitted" | "keyword_limit" | "unsupported" | "missing" | "forbidden" | "invalid" | "store" | "internal" | "starting" | "paused" | "images" | "open" | "keyring" | "io";

export type Mode = "team" | "solo";

export type ConnectionState = "online" | "offline";

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
sla_running: boolean, };

export type QueueSummary = { queue: string, waiting: number, oldest_waiting_since: number | null, 
/**
 * At risk or breached.
 */
at_risk: number, 
/**
 * Breached (past due, or marked `$bd_breached` by the team).
 */
breached: number, };

export type EngineEvent = { "type": "sync_progress", folder: string, done: number, total: number, } | { "type": "sync_finished", folder: string, new: number, messages: number, } | { "type": "message_arrived", folder: string, id: number, uid: number, message_id: string | null, subject: string, from: string, } | { "type": "messages_expunged", folder: string, count: number, } | { "type": "flags_changed", folder: string, count: number, } | { "type": "folder_rebuilt", folder: string, kept: number, dropped: number, } | { "type": "connection", folder: string, state: ConnectionState, detail: string | null, } | { "type": "outbox", id: number, state: string, error: string | null, } | { "type": "advisor_state", state: string, at_ms: number, } | { "type": "claimed", folder: string, uid: number, id: number, message_id: string | null, at_ms: number, load: number, cap: number, joins: boolean, state: string, } | { "type": "owners_settled", folder: string, uid: number, id: number, kept: string, removed: Array<string>, } | { "type": "acknowledged", folder: string, uid: number, to: string, outbox_id: number, } | { "type": "breaker_tripped", acknowledgements: number, window_minutes: number, } | { "type": "sla_breached", folder: string, uid: number, customer: string, due_ms: number, } | { "type": "still_working_sent", folder: string, uid: number, to: string, outbox_id: number, } | { "type": "policy_changed", uid: number, } | { "type": "runtime_started", mode: Mode, tasks: Array<string>, };

export const ERROR_CODES: ErrorCode[] = ["config", "credentials", "imap", "smtp", "not_permitted", "keyword_limit", "unsupported", "missing", "forbidden", "invalid", "store", "internal", "starting", "paused", "images", "open", "keyring", "io"];
