// Every UI string, in English and Simplified Chinese. The language follows the system
// (navigator.language) until the advisor picks one; the choice is remembered.

export type Locale = "en" | "zh-CN";

const en = {
  "app.name": "Blendesk",
  "state.available": "Available",
  "state.on_call": "On call",
  "state.wrap_up": "Wrap-up",
  "state.away": "Away",
  "state.offline": "Offline",
  "state.label": "Your state",
  "call.start": "Start call",
  "call.end": "End call",
  "call.toggleLabel": "On call (Alt+C)",
  "away.go": "Take a break",
  "away.back": "Back to work",
  "away.label": "Away: no new email is pushed to you (Alt+A)",
  "load.label": "Email load",
  "load.value": "{n} / {cap}",
  "queues.label": "Queue summary",
  "queues.waiting": "{n} waiting",
  "queues.oldest": "oldest {age}",
  "queues.atRisk": "{n} at SLA risk",
  "conn.label": "Mail connection",
  "conn.connecting": "Connecting…",
  "conn.online": "Connected",
  "conn.offline": "Offline — retrying",
  "conn.syncing": "Syncing {done} / {total}",
  "list.title": "My conversations",
  "list.empty": "No open conversations. New customer email will appear here.",
  "list.more": "{n} messages",
  "sla.ok": "due in {time}",
  "sla.at_risk": "due in {time}",
  "sla.breached": "overdue {time}",
  "sla.label": "Reply-time promise",
  "thread.empty": "Pick a conversation on the left (Alt+J / Alt+K).",
  "thread.team": "Team",
  "handle.short": "Handling {time}",
  "handle.label": "Handle time on this conversation (stops during calls and breaks)",
  "thread.to": "to {to}",
  "thread.remoteBlocked": "{n} remote images blocked",
  "thread.showImages": "Show images (the sender may learn you opened it)",
  "thread.htmlTitle": "Email content (isolated)",
  "thread.linkHost": "Link to {host}",
  "composer.label": "Reply to {customer}",
  "composer.placeholder": "Write your reply… (Ctrl+Enter sends)",
  "composer.template": "Template",
  "composer.templatePick": "Choose a template…",
  "composer.insert": "Insert template (Alt+T)",
  "composer.send": "Send (Ctrl+Enter)",
  "park.button": "Come back later (Alt+P)",
  "park.label": "Park this conversation: it leaves your load and returns by itself",
  "park.for": "Return after",
  "park.15m": "in 15 min",
  "park.1h": "in 1 hour",
  "park.4h": "in 4 hours",
  "park.title": "Parked",
  "park.returns": "returns {time}",
  "composer.resolve": "Resolve (Alt+R)",
  "composer.resolveLabel": "Close this conversation without a reply (spam, a thank-you, a duplicate)",
  "composer.resolved": "Resolved — closed without a reply",
  "composer.queued": "Reply queued — sending…",
  "composer.sent": "Reply sent",
  "composer.failed": "Not sent: {error}",
  "composer.retrying": "Retrying: {error}",
  "composer.paused": "Email is paused during the call",
  "overlay.onCall": "On call — email paused",
  "overlay.draftKept": "Your draft is kept and will be here after the call.",
  "overlay.wrapUp": "Wrap-up — email resumes in {s} s",
  "link.title": "Open a link from this email",
  "link.question": "This link goes to",
  "link.open": "Open in browser",
  "link.cancel": "Cancel",
  "history.title": "Customer history",
  "history.empty": "No earlier messages from this customer.",
  "history.open": "Open",
  "history.answered": "Answered",
  "history.sent": "Sent by team",
  "history.resolved": "Resolved",
  "knowledge.title": "Knowledge snippets",
  "knowledge.search": "Search the mailbox (Alt+S)",
  "knowledge.empty": "No matching snippets.",
  "knowledge.insert": "Insert",
  "knowledge.insertLabel": "Insert snippet: {subject}",
  "lang.toggle": "中文",
  "lang.label": "Switch language to Chinese (Alt+L)",
  "setup.title": "Set up Blendesk",
  "setup.intro": "Connect to your team's support mailbox. Settings are saved to {path}; passwords go to the system keyring, never to that file.",
  "setup.advisor": "You",
  "setup.advisorId": "Advisor id (a-z, 0-9, _)",
  "setup.advisorName": "Your name (signs replies)",
  "setup.imap": "Incoming mail (IMAP)",
  "setup.smtp": "Outgoing mail (SMTP)",
  "setup.host": "Server",
  "setup.port": "Port",
  "setup.security": "Security",
  "setup.plain": "None (this computer only)",
  "setup.username": "User name",
  "setup.password": "Password",
  "setup.queues": "Queue folders (comma-separated)",
  "setup.from": "Replies come from",
  "setup.test": "Test connection",
  "setup.save": "Save and start",
  "setup.testOk": "Connection works: logged in to IMAP and reached the SMTP server.",
  "setup.soloOnly": "This server lacks {caps}: Blendesk will work for one advisor only (solo mode).",
  "setup.testFailed": "Connection failed: {error}",
  "setup.keyringWarning": "Passwords could not be saved in the system keyring ({error}). They are used for this session only.",
  "startup.starting": "Starting Blendesk…",
  "startup.failed": "Blendesk could not start",
  "startup.config": "Configuration file: {path}",
  "age.min": "{n} min",
  "age.h": "{n} h",
  "age.d": "{n} d",
  "shortcuts": "Shortcuts: Alt+C call · Alt+A break · Alt+J/K next/previous · Alt+T template · Alt+R resolve · Alt+P park · Ctrl+Enter send · Alt+S search · Alt+L language · Alt+V supervisor view",
  "sup.tab": "Supervisor (Alt+V)",
  "sup.tabLabel": "Show the supervisor view (Alt+V)",
  "sup.back": "My desk (Alt+V)",
  "sup.title": "Supervisor view",
  "sup.advisors": "Advisors",
  "sup.noAdvisors": "No advisor has reported presence yet.",
  "sup.advisor": "Advisor",
  "sup.state": "State",
  "sup.loadCap": "Load / cap",
  "sup.reported": "Cap in use",
  "sup.reportedLabel": "The cap the advisor's app last reported applying",
  "sup.pending": "updating",
  "sup.onCallSince": "On call for",
  "sup.heartbeat": "Last seen",
  "sup.secondsAgo": "{n} s ago",
  "sup.never": "never",
  "sup.skills": "Skills",
  "sup.skillQueues": "Queues: {list}",
  "sup.skillLanguages": "Languages: {list}",
  "sup.all": "all",
  "sup.capLabel": "Email cap for {advisor}",
  "sup.setCap": "Set",
  "sup.capSaved": "Cap for {advisor} set to {cap}: published to the team policy.",
  "sup.capFailed": "Cap not changed: {error}",
  "sup.capInvalid": "A cap is a whole number from 0 (email off) to 99.",
  "sup.queues": "Queues",
  "sup.queue": "Queue",
  "sup.waiting": "Waiting",
  "sup.oldest": "Oldest",
  "sup.atRisk": "At SLA risk",
  "sup.hint": "Advisors without their own cap get the team default ({n}). A lowered cap stops new claims and takes nothing away; apps follow within 5 s.",
  "tpl.thanks.name": "Thanks — we're on it",
  "tpl.thanks.body": "Hello,\n\nThank you for contacting us. We are looking into this and will get back to you shortly.\n\nKind regards,\n{advisor}",
  "tpl.refund.name": "Refund issued",
  "tpl.refund.body": "Hello,\n\nWe have issued your refund. It usually reaches your account within 3–5 working days.\n\nKind regards,\n{advisor}",
  "tpl.tracking.name": "Where is my order",
  "tpl.tracking.body": "Hello,\n\nYour order has left our warehouse. You can follow it with the tracking link in your shipping confirmation.\n\nKind regards,\n{advisor}",
};

type Key = keyof typeof en;

const zh: Record<Key, string> = {
  "app.name": "Blendesk",
  "state.available": "可接待",
  "state.on_call": "通话中",
  "state.wrap_up": "话后处理",
  "state.away": "离开",
  "state.offline": "离线",
  "state.label": "您的状态",
  "call.start": "开始通话",
  "call.end": "结束通话",
  "call.toggleLabel": "通话中（Alt+C）",
  "away.go": "暂时离开",
  "away.back": "回来工作",
  "away.label": "离开：不会再为您分配新邮件（Alt+A）",
  "load.label": "邮件负载",
  "load.value": "{n} / {cap}",
  "queues.label": "队列概况",
  "queues.waiting": "{n} 封待处理",
  "queues.oldest": "最早 {age}",
  "queues.atRisk": "{n} 封有 SLA 风险",
  "conn.label": "邮件连接",
  "conn.connecting": "正在连接…",
  "conn.online": "已连接",
  "conn.offline": "离线 — 正在重试",
  "conn.syncing": "同步中 {done} / {total}",
  "list.title": "我的会话",
  "list.empty": "暂无待处理会话。新的客户邮件会显示在这里。",
  "list.more": "{n} 封邮件",
  "sla.ok": "{time} 后到期",
  "sla.at_risk": "{time} 后到期",
  "sla.breached": "已超时 {time}",
  "sla.label": "回复时限",
  "thread.empty": "请在左侧选择一个会话（Alt+J / Alt+K）。",
  "thread.team": "团队",
  "handle.short": "处理中 {time}",
  "handle.label": "本会话的处理时长（通话和离开时暂停）",
  "thread.to": "发给 {to}",
  "thread.remoteBlocked": "已阻止 {n} 张远程图片",
  "thread.showImages": "显示图片（发件人可能因此得知您已打开邮件）",
  "thread.htmlTitle": "邮件内容（隔离显示）",
  "thread.linkHost": "链接到 {host}",
  "composer.label": "回复 {customer}",
  "composer.placeholder": "撰写回复…（Ctrl+Enter 发送）",
  "composer.template": "模板",
  "composer.templatePick": "选择模板…",
  "composer.insert": "插入模板（Alt+T）",
  "composer.send": "发送（Ctrl+Enter）",
  "park.button": "稍后处理（Alt+P）",
  "park.label": "暂存此会话：它不计入您的负载，到时会自动回来",
  "park.for": "回来时间",
  "park.15m": "15 分钟后",
  "park.1h": "1 小时后",
  "park.4h": "4 小时后",
  "park.title": "已暂存",
  "park.returns": "{time} 回来",
  "composer.resolve": "结案（Alt+R）",
  "composer.resolveLabel": "不回复直接关闭此会话（垃圾邮件、致谢、重复邮件）",
  "composer.resolved": "已结案 — 未回复直接关闭",
  "composer.queued": "回复已排队 — 正在发送…",
  "composer.sent": "回复已发送",
  "composer.failed": "发送失败：{error}",
  "composer.retrying": "正在重试：{error}",
  "composer.paused": "通话期间邮件已暂停",
  "overlay.onCall": "通话中 — 邮件已暂停",
  "overlay.draftKept": "您的草稿已保存，通话结束后仍在这里。",
  "overlay.wrapUp": "话后处理 — {s} 秒后恢复邮件",
  "link.title": "打开邮件中的链接",
  "link.question": "该链接将打开",
  "link.open": "在浏览器中打开",
  "link.cancel": "取消",
  "history.title": "客户历史",
  "history.empty": "该客户没有更早的邮件。",
  "history.open": "待处理",
  "history.answered": "已回复",
  "history.sent": "团队已发送",
  "history.resolved": "已结案",
  "knowledge.title": "知识片段",
  "knowledge.search": "搜索邮箱（Alt+S）",
  "knowledge.empty": "没有匹配的片段。",
  "knowledge.insert": "插入",
  "knowledge.insertLabel": "插入片段：{subject}",
  "lang.toggle": "English",
  "lang.label": "切换为英文（Alt+L）",
  "setup.title": "设置 Blendesk",
  "setup.intro": "连接到团队的客服邮箱。设置保存在 {path}；密码保存在系统钥匙串中，绝不写入该文件。",
  "setup.advisor": "您",
  "setup.advisorId": "客服编号（a-z、0-9、_）",
  "setup.advisorName": "您的姓名（用于回复署名）",
  "setup.imap": "收件服务器（IMAP）",
  "setup.smtp": "发件服务器（SMTP）",
  "setup.host": "服务器",
  "setup.port": "端口",
  "setup.security": "安全",
  "setup.plain": "无（仅限本机）",
  "setup.username": "用户名",
  "setup.password": "密码",
  "setup.queues": "队列文件夹（逗号分隔）",
  "setup.from": "回复发件人",
  "setup.test": "测试连接",
  "setup.save": "保存并启动",
  "setup.testOk": "连接正常：已登录 IMAP 并连接到 SMTP 服务器。",
  "setup.soloOnly": "该服务器不支持 {caps}：Blendesk 只能供一名客服使用（单人模式）。",
  "setup.testFailed": "连接失败：{error}",
  "setup.keyringWarning": "无法将密码保存到系统钥匙串（{error}）。密码仅在本次会话中使用。",
  "startup.starting": "Blendesk 正在启动…",
  "startup.failed": "Blendesk 无法启动",
  "startup.config": "配置文件：{path}",
  "age.min": "{n} 分钟",
  "age.h": "{n} 小时",
  "age.d": "{n} 天",
  "shortcuts": "快捷键：Alt+C 通话 · Alt+A 离开 · Alt+J/K 下一个/上一个 · Alt+T 模板 · Alt+R 结案 · Alt+P 暂存 · Ctrl+Enter 发送 · Alt+S 搜索 · Alt+L 语言 · Alt+V 主管视图",
  "sup.tab": "主管视图（Alt+V）",
  "sup.tabLabel": "显示主管视图（Alt+V）",
  "sup.back": "我的工作台（Alt+V）",
  "sup.title": "主管视图",
  "sup.advisors": "客服",
  "sup.noAdvisors": "还没有客服上报在线状态。",
  "sup.advisor": "客服",
  "sup.state": "状态",
  "sup.loadCap": "负载 / 上限",
  "sup.reported": "生效上限",
  "sup.reportedLabel": "该客服的应用最近上报的生效上限",
  "sup.pending": "更新中",
  "sup.onCallSince": "通话时长",
  "sup.heartbeat": "最近在线",
  "sup.secondsAgo": "{n} 秒前",
  "sup.never": "从未",
  "sup.skills": "技能",
  "sup.skillQueues": "队列：{list}",
  "sup.skillLanguages": "语言：{list}",
  "sup.all": "全部",
  "sup.capLabel": "{advisor} 的邮件上限",
  "sup.setCap": "设置",
  "sup.capSaved": "已将 {advisor} 的上限设为 {cap}，并发布到团队策略。",
  "sup.capFailed": "上限未更改：{error}",
  "sup.capInvalid": "上限须为 0（关闭邮件）到 99 之间的整数。",
  "sup.queues": "队列",
  "sup.queue": "队列",
  "sup.waiting": "待处理",
  "sup.oldest": "最早",
  "sup.atRisk": "有 SLA 风险",
  "sup.hint": "未单独设置上限的客服使用团队默认值（{n}）。降低上限只会停止新分配，不会收回已有会话；各应用会在 5 秒内生效。",
  "tpl.thanks.name": "感谢来信 — 正在处理",
  "tpl.thanks.body": "您好：\n\n感谢您联系我们。我们正在处理您的问题，会尽快回复您。\n\n此致\n{advisor}",
  "tpl.refund.name": "退款已办理",
  "tpl.refund.body": "您好：\n\n您的退款已办理，通常会在 3–5 个工作日内到账。\n\n此致\n{advisor}",
  "tpl.tracking.name": "订单在哪里",
  "tpl.tracking.body": "您好：\n\n您的订单已从仓库发出。您可以通过发货确认邮件中的物流链接查询。\n\n此致\n{advisor}",
};

export const messages: Record<Locale, Record<Key, string>> = { en, "zh-CN": zh };

export const TEMPLATES = ["thanks", "refund", "tracking"] as const;
export type TemplateId = (typeof TEMPLATES)[number];

const STORAGE_KEY = "blendesk.locale";

export function systemLocale(languages: readonly string[]): Locale {
  for (const l of languages) {
    const lower = l.toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

function savedLocale(): Locale | null {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === "en" || saved === "zh-CN") return saved;
  } catch {
    // storage unavailable: follow the system
  }
  return null;
}

function initialLocale(): Locale {
  return savedLocale() ?? systemLocale(navigator.languages?.length ? navigator.languages : [navigator.language]);
}

/// The OS locale as the Rust side reads it (LANG…), which the webview may not reflect.
/// Applies only while the advisor has not picked a language.
export function adoptSystemLocale(system: string | null) {
  if (!system || savedLocale()) return;
  i18n.locale = systemLocale([system.replace("_", "-")]);
  document.documentElement.lang = i18n.locale;
}

export const i18n = $state({ locale: initialLocale() });

export function setLocale(l: Locale) {
  i18n.locale = l;
  document.documentElement.lang = l;
  try {
    localStorage.setItem(STORAGE_KEY, l);
  } catch {
    // not remembered; still switched
  }
}

export function t(key: Key, params: Record<string, string | number> = {}): string {
  const s = messages[i18n.locale][key] ?? en[key];
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

/// "5 min", "3 h", "2 d" from a span in seconds.
export function age(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 3600) return t("age.min", { n: Math.max(1, Math.round(s / 60)) });
  if (s < 86400) return t("age.h", { n: Math.round(s / 3600) });
  return t("age.d", { n: Math.round(s / 86400) });
}

export function formatDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleString(i18n.locale, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}
