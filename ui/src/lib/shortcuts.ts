// Keyboard shortcuts as pure functions: a key event in, an action name out. The state
// module performs the action (see `runShortcut` in state.svelte.ts).

export type ShortcutAction =
  | "call"
  | "away"
  | "resolve"
  | "park"
  | "next"
  | "previous"
  | "template"
  | "search"
  | "locale"
  | "supervisor"
  | "closeMerge"
  | "send";

export interface KeyLike {
  key: string;
  code: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
}

/// Alt+letter shortcuts (shown in the `shortcuts` hint and on the buttons).
export const ALT_SHORTCUTS: ReadonlyMap<string, ShortcutAction> = new Map<string, ShortcutAction>([
  ["c", "call"],
  ["a", "away"],
  ["r", "resolve"],
  ["p", "park"],
  ["j", "next"],
  ["k", "previous"],
  ["t", "template"],
  ["s", "search"],
  ["l", "locale"],
  ["v", "supervisor"],
]);

/// The window-wide shortcut for a key press, or null when the key is left alone.
export function shortcutFor(e: KeyLike, mergeOpen: boolean): ShortcutAction | null {
  if (e.altKey && !e.ctrlKey && !e.metaKey) {
    const k = e.key.toLowerCase();
    // e.code keeps shortcuts working on layouts where Alt changes the key.
    const byCode = e.code.startsWith("Key") ? e.code.slice(3).toLowerCase() : k;
    return ALT_SHORTCUTS.get(byCode) ?? ALT_SHORTCUTS.get(k) ?? null;
  }
  if (mergeOpen && mergePickerKey(e.key) === "close") return "closeMerge";
  if (e.ctrlKey && e.key === "Enter") return "send";
  return null;
}

export type MergePickerKey = "close" | "native" | null;

/// Keys inside the merge picker: Esc closes it (focus back on "Merge into…"); Tab and
/// Shift+Tab move between the targets and Enter merges into the focused one, both left
/// to the browser ("native": the targets are plain buttons, the first one focused).
export function mergePickerKey(key: string): MergePickerKey {
  if (key === "Escape") return "close";
  if (key === "Tab" || key === "Enter" || key === " ") return "native";
  return null;
}
