// The only place the UI talks to the Rust side: typed commands and events.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { Conversation, EngineEvent, ErrorCode, QueueSummary, SlaLevel } from "./generated/engine";

export type { Conversation, EngineEvent, ErrorCode, QueueSummary, SlaLevel };

export type AdvisorState = "available" | "on_call" | "wrap_up" | "away" | "offline";

export interface Presence {
  state: AdvisorState;
  since_ms: number;
  wrap_up_until_ms: number | null;
  now_ms: number;
}

export type Startup =
  | { phase: "starting" }
  | { phase: "needs_setup" }
  | { phase: "ready" }
  | { phase: "failed"; error: string };

export interface SetupForm {
  advisor_id: string;
  advisor_name: string;
  imap_host: string;
  imap_port: number;
  imap_security: "tls" | "starttls" | "plain";
  imap_username: string;
  imap_password: string;
  queues: string;
  smtp_host: string;
  smtp_port: number;
  smtp_security: "tls" | "starttls" | "plain";
  smtp_username: string;
  smtp_password: string;
  from: string;
}

export interface SetupReport {
  capabilities: string[];
  missing_for_team: string[];
}

export interface SaveReport {
  config_path: string;
  keyring_warning: string | null;
}

export interface Bootstrap {
  startup: Startup;
  config_path: string;
  advisor_id: string | null;
  advisor_name: string | null;
  cap: number;
  presence: Presence;
  system_locale: string | null;
  engine_tasks: string[];
}




export interface ParkedConversation extends Conversation {
  return_at_ms: number;
}

export interface WorkspacePayload {
  mine: Conversation[];
  parked: ParkedConversation[];
  queues: QueueSummary[];
  load: number;
  cap: number;
  policy_uid: number;
  supervisor: boolean;
  /// For supervisors: breached conversations, plus one while the breaker holds.
  supervisor_alerts: number;
  now: number;
  connections: Record<string, { state: "online" | "offline"; detail: string | null }>;
}

export interface PresenceNote {
  advisor: string;
  name: string;
  state: AdvisorState;
  load: number;
  cap: number;
  since_ms: number;
}

export interface SupervisorAdvisor {
  note: PresenceNote;
  heartbeat_at: number;
  offline: boolean;
  silent_for: number;
  /// The cap in the policy in force (note.cap is what their app last reported).
  policy_cap: number;
  /// Absent lists mean every queue / language.
  skills: { queues?: string[]; languages?: string[] };
}

/// A conversation past its reply-time promise (engine `sla::ConversationClock`).
export interface BreachedConversation {
  customer: string;
  queue: string;
  message: number;
  first_response: boolean;
  since_ms: number;
  due_ms: number | null;
  level: SlaLevel;
  marked_breached: boolean;
  /// The "still working on it" note went out (or is taken care of by some app).
  noted: boolean;
  unowned: boolean;
}

export interface AutomationAlerts {
  /// Set while the breaker holds automatic mail back.
  breaker: { recent: number; limit: number; window_minutes: number } | null;
  breached: BreachedConversation[];
}

export interface SupervisorView {
  advisors: SupervisorAdvisor[];
  queues: QueueSummary[];
  alerts: AutomationAlerts;
  default_cap: number;
  policy_uid: number;
  now: number;
}

export interface MessageView {
  id: number;
  folder: string;
  from_addr: string;
  from_name: string;
  subject: string;
  date: number;
  outgoing: boolean;
  answered: boolean;
  /// A call note logged by an advisor: never sent to the customer.
  note: boolean;
  text: string;
  html: { document: string; blocked_remote: number } | null;
  to: string[];
}

export type CallReason = { kind: "exchanges"; count: number } | { kind: "frustration"; word: string };

export interface CallSuggestion {
  customer: string;
  reasons: CallReason[];
  phone: { written: string; e164: string; tel: string } | null;
}

export interface HistoryItem {
  id: number;
  folder: string;
  subject: string;
  date: number;
  outgoing: boolean;
  status: "sent" | "answered" | "resolved" | "open";
}

export interface ConversationPayload {
  thread: MessageView[];
  history: HistoryItem[];
}

export interface Snippet {
  id: number;
  subject: string;
  from_addr: string;
  date: number;
  from_team: boolean;
  excerpt: string;
}

export interface KnowledgeSnippet {
  article_id: string;
  title: string;
  tags: string[];
  excerpt: string;
  link: string | null;
  uses: number;
  score: number;
}

export interface KnowledgeArticle {
  article_id: string;
  title: string;
  tags: string[];
  body: string;
  author: string;
  updated_at: number;
  uses: number;
}

export interface TeamTemplate {
  name: string;
  queue: string;
  language: string;
  body: string;
  approved: boolean;
  approved_by: string[];
}

export interface HistoryLine {
  id: number;
  date: number;
  from_addr: string;
  excerpt: string;
}

export interface HistoryConversation {
  subject: string;
  started: number;
  last_activity: number;
  status: "open" | "answered" | "resolved";
  messages: number;
  last_customer: HistoryLine | null;
  last_reply: HistoryLine | null;
  ids: number[];
}

export interface CustomerHistory {
  addresses: string[];
  conversations: HistoryConversation[];
}

/// What a merge or split did (engine `conversation::Rearranged`): the resulting keys
/// (merge: the merged one; split: the rest, then the split-off part).
export interface Rearranged {
  keys: string[];
  changed: number;
  lost: number;
}

/// What every command rejects with: a code from the engine's one table (generated),
/// shown localised (`format.errorText`), and the detail in words.
export interface CommandError {
  code: ErrorCode;
  message: string;
}

/// The engine's events (generated) and the window's own "you missed some, reload".
export type WindowEvent = EngineEvent | { type: "lagged" };

export const api = {
  bootstrap: () => invoke<Bootstrap>("bootstrap"),
  workspace: () => invoke<WorkspacePayload>("workspace"),
  openConversation: (message: number) => invoke<ConversationPayload>("open_conversation", { message }),
  searchKnowledge: (query: string, customer: string) => invoke<Snippet[]>("search_knowledge", { query, customer }),
  sendReply: (message: number, body: string) => invoke<number>("send_reply", { message, body }),
  setCall: (on: boolean) => invoke<Presence>("set_call", { on }),
  presence: () => invoke<Presence>("presence"),
  park: (customer: string, seconds: number | null) => invoke<number>("park", { customer, seconds }),
  mergeConversations: (from: string, into: string) => invoke<Rearranged>("merge_conversations", { from, into }),
  splitConversation: (messages: number[]) => invoke<Rearranged>("split_conversation", { messages }),
  showImages: (message: number) => invoke<{ document: string; blocked_remote: number }>("show_images", { message }),
  resolve: (message: number) => invoke<number>("resolve", { message }),
  setPresence: (state: "available" | "away") => invoke<Presence>("set_presence", { state }),
  openLink: (url: string) => invoke<void>("open_link", { url }),
  kbForMessage: (message: number) => invoke<KnowledgeSnippet[]>("kb_for_message", { message }),
  kbSearch: (query: string) => invoke<KnowledgeSnippet[]>("kb_search", { query }),
  kbMarkUsed: (article: string) => invoke<number>("kb_mark_used", { article }),
  kbArticle: (article: string) => invoke<KnowledgeArticle | null>("kb_article", { article }),
  kbPublish: (article: string | null, title: string, tags: string, body: string) =>
    invoke<string>("kb_publish", { article, title, tags, body }),
  approvedTemplates: () => invoke<TeamTemplate[]>("approved_templates"),
  fillTemplate: (name: string, message: number) => invoke<string>("fill_template", { name, message }),
  customerHistory: (customer: string) => invoke<CustomerHistory>("customer_history", { customer }),
  callSuggestion: (message: number) => invoke<CallSuggestion | null>("call_suggestion", { message }),
  dial: (tel: string) => invoke<void>("dial", { tel }),
  logCallNote: (message: number, text: string) => invoke<string>("log_call_note", { message, text }),
  activity: () => invoke<Presence>("activity"),
  supervisorView: () => invoke<SupervisorView>("supervisor_view"),
  setCap: (advisor: string, cap: number) => invoke<number>("set_cap", { advisor, cap }),
  testSetup: (form: SetupForm) => invoke<SetupReport>("test_setup", { form }),
  saveSetup: (form: SetupForm) => invoke<SaveReport>("save_setup", { form }),
};

export function onPresence(f: (p: Presence) => void): Promise<UnlistenFn> {
  return listen<Presence>("presence", (e) => f(e.payload));
}
export function onEngine(f: (e: WindowEvent) => void): Promise<UnlistenFn> {
  return listen<WindowEvent>("engine", (e) => f(e.payload));
}
export function onStartup(f: (s: Startup) => void): Promise<UnlistenFn> {
  return listen<Startup>("startup", (e) => f(e.payload));
}
