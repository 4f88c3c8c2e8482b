// The only place the UI talks to the Rust side: typed commands and events.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
// Every payload type is generated from the Rust types (`generated/`, checked by the
// Rust tests): only the names the UI uses and its own unions live here.
import type {
  AutomationAlerts,
  CallReasonView as CallReason,
  CallSuggestionView as CallSuggestion,
  Conversation,
  ConversationClock as BreachedConversation,
  Disposition,
  Draft,
  EndedCall,
  MyDay,
  Notice,
  ConversationHistory as HistoryConversation,
  CustomerHistory,
  EngineEvent,
  ErrorCode,
  HistoryItem,
  KbArticle as KnowledgeArticle,
  KnowledgeSnippet,
  Line as HistoryLine,
  PresenceNote,
  QueueSummary,
  Rearranged,
  SlaLevel,
  Snippet,
  TemplateView as TeamTemplate,
} from "./generated/engine";
import type {
  Bootstrap,
  CommandError,
  Outcome,
  PolicyDraft,
  WhatIf,
  WhatIfDays,
  ConversationPayload,
  MessageView,
  ParkedConversation,
  PresenceView as Presence,
  OAuthForm,
  SaveReport,
  SetupForm,
  SetupReport,
  SignInReport,
  Startup,
  SupervisorAdvisor,
  SupervisorView,
  WorkspacePayload,
} from "./generated/desktop";

export type {
  WhatIfDays,
  Disposition,
  Draft,
  EndedCall,
  MyDay,
  Notice,
  Outcome,
  PolicyDraft,
  WhatIf,
  AutomationAlerts,
  BreachedConversation,
  Bootstrap,
  CallReason,
  CallSuggestion,
  CommandError,
  Conversation,
  ConversationPayload,
  CustomerHistory,
  EngineEvent,
  ErrorCode,
  HistoryConversation,
  HistoryItem,
  HistoryLine,
  KnowledgeArticle,
  KnowledgeSnippet,
  MessageView,
  ParkedConversation,
  Presence,
  PresenceNote,
  QueueSummary,
  Rearranged,
  OAuthForm,
  SaveReport,
  SetupForm,
  SetupReport,
  SignInReport,
  SlaLevel,
  Snippet,
  Startup,
  SupervisorAdvisor,
  SupervisorView,
  TeamTemplate,
  WorkspacePayload,
};

/// The advisor's states as the window names them (the engine sends them as text).
export type AdvisorState = "available" | "on_call" | "wrap_up" | "away" | "offline";

/// The engine's events (generated) and the window's own "you missed some, reload".
export type WindowEvent = EngineEvent | { type: "lagged" };

export const api = {
  whatIf: (draft: PolicyDraft, days: WhatIfDays) => invoke<WhatIf>("what_if", { draft, days }),
  publishDraft: (draft: PolicyDraft) => invoke<number>("publish_draft", { draft }),
  replyDraft: (key: string) => invoke<Draft>("reply_draft", { key }),
  saveReplyDraft: (key: string, text: string) => invoke<void>("save_reply_draft", { key, text }),
  notices: () => invoke<Notice[]>("notices"),
  dismissNotice: (id: number) => invoke<void>("dismiss_notice", { id }),
  myDay: () => invoke<MyDay>("my_day"),
  bootstrap: () => invoke<Bootstrap>("bootstrap"),
  workspace: () => invoke<WorkspacePayload>("workspace"),
  openConversation: (message: number) => invoke<ConversationPayload>("open_conversation", { message }),
  searchKnowledge: (query: string, customer: string) => invoke<Snippet[]>("search_knowledge", { query, customer }),
  sendReply: (message: number, body: string, handleMs: number | null) =>
    invoke<number>("send_reply", { message, body, handleMs: handleMs === null ? null : Math.round(handleMs) }),
  setCall: (on: boolean) => invoke<Presence>("set_call", { on }),
  setCallDisposition: (disposition: Disposition) => invoke<Presence>("set_call_disposition", { disposition }),
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
  dial: (tel: string, customer: string | null) => invoke<void>("dial", { tel, customer }),
  logCallNote: (message: number, text: string) => invoke<string>("log_call_note", { message, text }),
  activity: () => invoke<Presence>("activity"),
  supervisorView: () => invoke<SupervisorView>("supervisor_view"),
  setCap: (advisor: string, cap: number) => invoke<number>("set_cap", { advisor, cap }),
  testSetup: (form: SetupForm) => invoke<SetupReport>("test_setup", { form }),
  saveSetup: (form: SetupForm) => invoke<SaveReport>("save_setup", { form }),
  oauthSignIn: (form: SetupForm) => invoke<SignInReport>("oauth_sign_in", { form }),
  autostart: () => invoke<boolean>("autostart"),
  setAutostart: (on: boolean) => invoke<boolean>("set_autostart", { on }),
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
