// The desk's shared state and actions (Svelte 5 runes), used by every feature component.
// Components read `desk.*` and call its actions; App.svelte wires the engine's events,
// the timers and the keyboard to it.
import { tick } from "svelte";
import {
  api,
  type Bootstrap,
  type CommandError,
  type Conversation,
  type ConversationPayload,
  type MyDay,
  type Disposition,
  type Notice,
  type WindowEvent,
  type Presence,
  type Snippet,
  type Startup,
  type TeamTemplate,
  type WorkspacePayload,
} from "./api";
import { i18n, setLocale, t, type TemplateId } from "./i18n.svelte";
import { rankTemplates } from "./templates";
import { clock, errorText } from "./format";
import { shortcutFor, type ShortcutAction } from "./shortcuts";

export type SendStatus = { outbox: number; state: string; error: string | null };
type Progress = { done: number; total: number };

export function toggleLocale() {
  setLocale(i18n.locale === "en" ? "zh-CN" : "en");
}

class Desk {
  startup = $state<Startup>({ phase: "starting" });
  boot = $state<Bootstrap | null>(null);
  presence = $state<Presence | null>(null);
  ws = $state<WorkspacePayload | null>(null);
  selected = $state<Conversation | null>(null);
  detail = $state<ConversationPayload | null>(null);
  drafts = $state<Record<string, string>>({});
  // A colleague's id when the draft came with an email they handed back during a call.
  draftHandedBy = $state<Record<string, string | null>>({});
  // What happened while the advisor was on a call (the engine holds them until it ends).
  notices = $state<Notice[]>([]);
  // The advisor's own figures today beside the team's median.
  myDay = $state<MyDay | null>(null);
  private draftSaves: Record<string, ReturnType<typeof setTimeout>> = {};
  template = $state<TemplateId | "" | `team:${string}`>("");
  // Templates a supervisor approved in the shared mailbox (the picker shows no others).
  teamTemplates = $state<TeamTemplate[]>([]);
  // The open email's queue and language first (Chinese when its subject is), then the rest.
  offeredTemplates = $derived(rankTemplates(this.teamTemplates, this.selected?.queue ?? "", this.selected?.subject ?? ""));
  sendStatus = $state<SendStatus | null>(null);
  knowledgeQuery = $state("");
  knowledge = $state<Snippet[]>([]);
  connection = $state<Record<string, { state: string; detail: string | null }>>({});
  sync = $state<Progress | null>(null);
  now = $state(Date.now());
  lastError = $state<string | null>(null);
  handleMs = $state<Record<string, number>>({});
  // Per conversation: the reply was started from a team template, an article or a
  // similar email (sent with the reply for the reviewers' automatic checks).
  assisted = $state<Record<string, boolean>>({});
  pendingLink = $state<{ href: string; host: string } | null>(null);
  // The supervisor view (a tab over the workspace), for supervisors in the policy only.
  supervisorOpen = $state(false);
  isSupervisor = $derived(this.ws?.supervisor ?? false);
  showSupervisor = $derived(this.supervisorOpen && this.isSupervisor);
  syncs = $state<Record<string, Progress>>({});
  syncTotals = $derived(
    Object.values(this.syncs).reduce((a, s) => ({ done: a.done + s.done, total: a.total + s.total }), { done: 0, total: 0 }),
  );
  parkFor = $state(3600);
  resolving = $state(false);
  resolvedStatus = $state<string | null>(null);
  // Merge and split by hand (the engine's `conversation.rs`): the list follows at once.
  mergeOpen = $state(false);
  rearrangeStatus = $state<{ ok: boolean; text: string } | null>(null);
  mergeTargets = $derived(
    this.selected && this.ws ? [...this.ws.mine, ...this.ws.parked].filter((c) => c.key !== this.selected!.key) : [],
  );

  // Elements the shortcuts and actions focus.
  composerEl = $state<HTMLTextAreaElement | null>(null);
  templateEl = $state<HTMLSelectElement | null>(null);
  knowledgeEl = $state<HTMLInputElement | null>(null);
  mergeButtonEl = $state<HTMLButtonElement | null>(null);
  mergeListEl = $state<HTMLElement | null>(null);

  // Email is paused during a call and its wrap-up (the engine's presence state says which).
  paused = $derived(this.presence?.state === "on_call" || this.presence?.state === "wrap_up");
  onCall = $derived(this.presence?.state === "on_call");
  wrapUpLeft = $derived(
    this.presence?.state === "wrap_up" && this.presence.wrap_up_until_ms
      ? Math.max(0, Math.ceil((this.presence.wrap_up_until_ms - this.now) / 1000))
      : 0,
  );
  callClock = $derived(this.presence?.state === "on_call" ? clock(this.now - this.presence.since_ms) : "");
  connSummary = $derived.by(() => {
    const states = Object.values(this.connection);
    const sync = this.sync;
    if (sync && sync.total > 0 && sync.done < sync.total) return { key: "syncing", text: t("conn.syncing", sync) };
    if (states.length === 0) return { key: "connecting", text: t("conn.connecting") };
    if (states.some((s) => s.state === "sign_in_needed")) return { key: "offline", text: t("conn.signInNeeded") };
    if (states.some((s) => s.state === "offline")) return { key: "offline", text: t("conn.offline") };
    return { key: "online", text: t("conn.online") };
  });
  signInNeeded = $derived(Object.values(this.connection).some((s) => s.state === "sign_in_needed"));
  signingIn = $state(false);
  // After a revoked sign-in: the browser sign-in again, then the engine's tasks restart
  // (their connection events clear `signInNeeded`).
  signInAgain = async () => {
    this.signingIn = true;
    try {
      await api.signInAgain();
      // As the engine's side did: folders report again once their loops run.
      for (const [folder, c] of Object.entries(this.connection)) if (c.state === "sign_in_needed") delete this.connection[folder];
      this.lastError = null;
    } catch (e) {
      this.lastError = errorText(e);
    } finally {
      this.signingIn = false;
    }
  };
  connDetail = $derived(
    Object.entries(this.connection)
      .filter(([, s]) => s.detail)
      .map(([f, s]) => `${f}: ${s.detail}`)
      .join("\n"),
  );
  draft = $derived(this.selected ? (this.drafts[this.selected.key] ?? "") : "");

  refreshWorkspace = async () => {
    try {
      this.ws = await api.workspace();
      const ws = this.ws;
      this.notices = await api.notices();
      this.myDay = await api.myDay();
      this.lastError = null;
      for (const [folder, c] of Object.entries(ws.connections)) if (c) this.connection[folder] = c;
      // Keep the open conversation in step (its latest message may have changed).
      const selected = this.selected;
      if (selected) {
        const same = ws.mine.find((c) => c.key === selected.key) ?? ws.parked.find((c) => c.key === selected.key);
        if (same && same.latest_id !== selected.latest_id) {
          this.selected = same;
          await this.loadDetail();
        } else if (same) {
          this.selected = same;
        }
      } else if (ws.mine.length > 0 && !this.paused) {
        // The next email is pushed, not picked: open the first when nothing is open.
        await this.openConversation(ws.mine[0]);
      }
    } catch (e) {
      this.lastError = errorText(e);
    }
  };

  #refreshTimer: ReturnType<typeof setTimeout> | null = null;
  scheduleRefresh = () => {
    if (this.#refreshTimer) return;
    this.#refreshTimer = setTimeout(async () => {
      this.#refreshTimer = null;
      await this.refreshWorkspace();
    }, 250);
  };

  loadDetail = async () => {
    if (!this.selected) return;
    try {
      this.detail = await api.openConversation(this.selected.latest_id);
    } catch (e) {
      this.lastError = errorText(e);
    }
  };

  openConversation = async (c: Conversation) => {
    this.selected = c;
    this.pendingLink = null;
    this.resolvedStatus = null;
    this.rearrangeStatus = null;
    this.mergeOpen = false;
    this.detail = null;
    this.sendStatus = null;
    await this.loadDraft(c.key);
    await this.loadDetail();
    this.knowledgeQuery = c.subject;
    this.loadTeamTemplates();
    await this.searchKnowledge();
  };

  /// Rust fetches this message's images (no cookies, no Referer) and re-renders it.
  showImages = async (id: number) => {
    try {
      const html = await api.showImages(id);
      if (!this.detail) return;
      this.detail.thread = this.detail.thread.map((m) => (m.id === id ? { ...m, html } : m));
    } catch (e) {
      this.lastError = errorText(e);
    }
  };

  searchKnowledge = async () => {
    try {
      this.knowledge = this.knowledgeQuery.trim()
        ? await api.searchKnowledge(this.knowledgeQuery, this.selected?.customer ?? "")
        : [];
    } catch (e) {
      this.knowledge = [];
      this.lastError = errorText(e);
    }
  };

  /// The engine keeps drafts (a restart loses none; one handed back travels with its
  /// email), so the composer starts from what it has the first time a conversation opens.
  loadDraft = async (key: string) => {
    if (key in this.drafts) return;
    try {
      const d = await api.replyDraft(key);
      if (!(key in this.drafts)) {
        this.drafts[key] = d.text;
        this.draftHandedBy[key] = d.handed_by;
      }
    } catch (e) {
      this.lastError = errorText(e);
    }
  };

  setDraft = (text: string) => {
    if (!this.selected) return;
    const key = this.selected.key;
    this.drafts[key] = text;
    // Saved a moment after typing stops, not on every key.
    clearTimeout(this.draftSaves[key]);
    this.draftSaves[key] = setTimeout(() => {
      api.saveReplyDraft(key, this.drafts[key] ?? "").catch((e) => (this.lastError = errorText(e)));
    }, 400);
  };

  dismissNotice = async (id: number) => {
    this.notices = this.notices.filter((n) => n.id !== id);
    await api.dismissNotice(id).catch((e) => (this.lastError = errorText(e)));
  };

  loadTeamTemplates = async () => {
    try {
      this.teamTemplates = await api.approvedTemplates();
    } catch {
      this.teamTemplates = [];
    }
  };

  insertText = (text: string) => {
    if (!this.selected || this.paused) return;
    const current = this.drafts[this.selected.key] ?? "";
    this.assisted[this.selected.key] = true;
    this.setDraft(current ? `${current}\n${text}` : text);
    this.composerEl?.focus();
  };

  insertTemplate = async () => {
    const template = this.template;
    if (!template || !this.selected || this.paused) return;
    let body: string;
    if (template.startsWith("team:")) {
      try {
        body = await api.fillTemplate(template.slice(5), this.selected.latest_id);
      } catch (e) {
        this.lastError = errorText(e);
        return;
      }
    } else {
      body = t(`tpl.${template}.body` as any, { advisor: this.boot?.advisor_name ?? "" });
    }
    if (!this.selected) return;
    const current = this.drafts[this.selected.key] ?? "";
    if (template.startsWith("team:")) this.assisted[this.selected.key] = true;
    this.setDraft(current ? `${current}\n\n${body}` : body);
    this.composerEl?.focus();
  };

  insertSnippet = (hit: Snippet) => {
    if (!this.selected || this.paused) return;
    const line = hit.excerpt || hit.subject;
    const current = this.drafts[this.selected.key] ?? "";
    this.assisted[this.selected.key] = true;
    this.setDraft(current ? `${current}\n${line}` : line);
  };

  send = async () => {
    if (!this.selected || this.paused) return;
    const body = this.drafts[this.selected.key] ?? "";
    if (!body.trim()) return;
    try {
      const sentKey = this.selected.key;
      const id = await api.sendReply(this.selected.latest_id, body, this.handleMs[sentKey] ?? null, this.assisted[sentKey] ?? false);
      this.sendStatus = { outbox: id, state: "queued", error: null };
      const key = this.selected!.key;
      this.drafts[key] = "";
      // The next reply in this conversation is timed from now.
      this.handleMs[key] = 0;
      this.assisted[key] = false;
      this.draftHandedBy[key] = null;
      clearTimeout(this.draftSaves[key]);
      await api.saveReplyDraft(key, "");
    } catch (e) {
      this.sendStatus = { outbox: -1, state: "failed", error: errorText(e) };
    }
  };

  park = async () => {
    if (!this.selected || this.paused) return;
    try {
      await api.park(this.selected.key, this.parkFor);
      this.selected = null;
      this.detail = null;
      await this.refreshWorkspace();
    } catch (e) {
      this.resolvedStatus = errorText(e);
    }
  };

  resolve = async () => {
    if (!this.selected || this.paused || this.resolving) return;
    this.resolving = true;
    try {
      await api.resolve(this.selected.latest_id);
      this.resolvedStatus = t("composer.resolved");
    } catch (e) {
      this.resolvedStatus = t("composer.failed", { error: errorText(e) });
    } finally {
      this.resolving = false;
    }
  };

  rearrangeError(e: unknown): string {
    const ce = e as CommandError;
    return ce && ce.code === "forbidden"
      ? t("rearrange.forbidden", { error: ce.message })
      : t("rearrange.failed", { error: errorText(e) });
  }

  openMerge = async () => {
    if (!this.selected || this.paused) return;
    this.mergeOpen = true;
    this.rearrangeStatus = null;
    await tick();
    this.mergeListEl?.querySelector<HTMLButtonElement>("button")?.focus();
  };

  closeMerge = () => {
    this.mergeOpen = false;
    this.mergeButtonEl?.focus();
  };

  mergeInto = async (target: Conversation) => {
    if (!this.selected) return;
    this.mergeOpen = false;
    try {
      const done = await api.mergeConversations(this.selected.key, target.key);
      await this.follow(done.keys[0]);
      this.rearrangeStatus = { ok: true, text: t("merge.done", { n: done.changed }) };
    } catch (e) {
      this.rearrangeStatus = { ok: false, text: this.rearrangeError(e) };
    }
  };

  splitOff = async (message: number) => {
    if (!this.selected || this.paused) return;
    try {
      const done = await api.splitConversation([message]);
      await this.follow(done.keys[0]);
      this.rearrangeStatus = { ok: true, text: t("split.done") };
    } catch (e) {
      this.rearrangeStatus = { ok: false, text: this.rearrangeError(e) };
    }
  };

  // After a merge or split the open conversation may have a new key (a customer's
  // address becomes a token): keep it open under that key, with its new thread.
  async follow(key: string) {
    if (this.selected) this.selected = { ...this.selected, key };
    await this.refreshWorkspace();
    await this.loadDetail();
    // Its customers changed: similar emails leave out all of them now.
    await this.searchKnowledge();
  }

  openLink = () => {
    if (!this.pendingLink) return;
    const url = this.pendingLink.href;
    this.pendingLink = null;
    api.openLink(url).catch((e) => (this.lastError = errorText(e)));
  };

  toggleCall = async () => {
    this.presence = await api.setCall(this.presence?.state !== "on_call");
  };

  /// How the call that just ended went (asked during wrap-up; recorded with the call).
  disposeCall = async (d: Disposition) => {
    try {
      this.presence = await api.setCallDisposition(d);
    } catch (e) {
      this.lastError = errorText(e);
    }
  };

  toggleAway = async () => {
    if (!this.presence || this.presence.state === "on_call") return;
    this.presence = await api.setPresence(this.presence.state === "away" ? "available" : "away");
  };

  move = (delta: number) => {
    const ws = this.ws;
    if (!ws || ws.mine.length === 0 || this.paused) return;
    const selected = this.selected;
    const i = selected ? ws.mine.findIndex((c) => c.key === selected.key) : -1;
    const next = ws.mine[(i + delta + ws.mine.length) % ws.mine.length];
    void this.openConversation(next);
  };

  toggleSupervisor = () => {
    if (this.isSupervisor) this.supervisorOpen = !this.supervisorOpen;
  };

  // Input keeps the advisor from going idle-away (reported at most every 10 s).
  #lastActivity = 0;
  reportActivity = () => {
    const now = Date.now();
    if (this.startup.phase !== "ready" || now - this.#lastActivity < 10_000) return;
    this.#lastActivity = now;
    api
      .activity()
      .then((p) => (this.presence = p))
      .catch(() => {});
  };

  runShortcut(action: ShortcutAction) {
    switch (action) {
      case "call": return void this.toggleCall();
      case "away": return void this.toggleAway();
      case "resolve": return void this.resolve();
      case "park": return void this.park();
      case "next": return this.move(1);
      case "previous": return this.move(-1);
      case "template": return this.templateEl?.focus();
      case "search": return this.knowledgeEl?.focus();
      case "locale": return toggleLocale();
      case "supervisor": return this.toggleSupervisor();
      case "closeMerge": return this.closeMerge();
      case "send": return void this.send();
    }
  }

  onKey = (e: KeyboardEvent) => {
    const action = shortcutFor(e, this.mergeOpen);
    if (action) {
      e.preventDefault();
      this.runShortcut(action);
    }
  };

  onEngineEvent = (ev: WindowEvent) => {
    switch (ev.type) {
      case "connection":
        this.connection[ev.folder] = { state: ev.state, detail: ev.detail };
        break;
      case "sync_progress":
        this.syncs[ev.folder] = { done: ev.done, total: ev.total };
        this.sync = this.syncTotals.total > 0 ? this.syncTotals : null;
        break;
      case "sync_finished":
        delete this.syncs[ev.folder];
        this.sync = this.syncTotals.total > 0 ? this.syncTotals : null;
        this.scheduleRefresh();
        break;
      case "outbox":
        if (this.sendStatus && this.sendStatus.outbox === ev.id)
          this.sendStatus = { outbox: ev.id, state: ev.state, error: ev.error };
        break;
      default:
        this.scheduleRefresh();
    }
  };
}

export const desk = new Desk();
