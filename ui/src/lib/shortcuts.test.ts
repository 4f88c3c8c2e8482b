import { describe, expect, it } from "vitest";
import { ALT_SHORTCUTS, mergePickerKey, shortcutFor, type KeyLike } from "./shortcuts";
import { messages } from "./i18n.svelte";

const press = (key: string, mods: Partial<KeyLike> = {}): KeyLike => ({
  key,
  code: /^[a-z]$/i.test(key) ? `Key${key.toUpperCase()}` : key,
  altKey: false,
  ctrlKey: false,
  metaKey: false,
  ...mods,
});
const alt = (key: string, mods: Partial<KeyLike> = {}) => press(key, { altKey: true, ...mods });

describe("Alt shortcuts", () => {
  it.each([
    ["c", "call"],
    ["a", "away"],
    ["r", "resolve"],
    ["p", "park"],
    ["l", "locale"],
    ["v", "supervisor"],
    ["j", "next"],
    ["k", "previous"],
    ["t", "template"],
    ["s", "search"],
  ])("Alt+%s is %s", (key, action) => {
    expect(shortcutFor(alt(key), false)).toBe(action);
    expect(shortcutFor(alt(key.toUpperCase(), { shiftKey: true } as Partial<KeyLike>), false)).toBe(action);
  });

  it("follows the physical key where Alt changes the character (macOS: Alt+C is ç)", () => {
    expect(shortcutFor({ key: "ç", code: "KeyC", altKey: true, ctrlKey: false, metaKey: false }, false)).toBe("call");
    expect(shortcutFor({ key: "®", code: "KeyR", altKey: true, ctrlKey: false, metaKey: false }, false)).toBe("resolve");
  });

  it("falls back to the key when the code is not a letter key", () => {
    expect(shortcutFor({ key: "p", code: "", altKey: true, ctrlKey: false, metaKey: false }, false)).toBe("park");
  });

  it("ignores Alt with Ctrl or Meta, unknown letters, and plain letters", () => {
    expect(shortcutFor(alt("c", { ctrlKey: true }), false)).toBeNull();
    expect(shortcutFor(alt("c", { metaKey: true }), false)).toBeNull();
    expect(shortcutFor(alt("x"), false)).toBeNull();
    expect(shortcutFor(press("c"), false)).toBeNull();
    expect(shortcutFor(alt("Escape"), true)).toBeNull();
  });

  it("matches the shortcut hint in both languages", () => {
    for (const hint of [messages.en.shortcuts, messages["zh-CN"].shortcuts]) {
      const letters = [...hint.matchAll(/Alt\+([A-Z])(?:\/([A-Z]))?/g)].flatMap((m) => m.slice(1).filter(Boolean));
      expect(new Set(letters.map((l) => l.toLowerCase()))).toEqual(new Set(ALT_SHORTCUTS.keys()));
      expect(hint).toContain("Ctrl+Enter");
    }
  });
});

describe("Ctrl+Enter and Escape", () => {
  it("Ctrl+Enter sends", () => {
    expect(shortcutFor(press("Enter", { ctrlKey: true }), false)).toBe("send");
    expect(shortcutFor(press("Enter", { ctrlKey: true }), true)).toBe("send");
    expect(shortcutFor(press("Enter"), false)).toBeNull();
  });

  it("Escape closes the merge picker only while it is open", () => {
    expect(shortcutFor(press("Escape"), true)).toBe("closeMerge");
    expect(shortcutFor(press("Escape"), false)).toBeNull();
  });
});

describe("merge picker keys", () => {
  it("Esc closes", () => {
    expect(mergePickerKey("Escape")).toBe("close");
  });
  it("Tab and Enter stay with the browser (focus moves between targets, Enter merges into the focused one)", () => {
    expect(mergePickerKey("Tab")).toBe("native");
    expect(mergePickerKey("Enter")).toBe("native");
    // The window-wide handler leaves them alone, so nothing prevents the default.
    expect(shortcutFor(press("Tab"), true)).toBeNull();
    expect(shortcutFor(press("Enter"), true)).toBeNull();
  });
  it("other keys do nothing", () => {
    expect(mergePickerKey("a")).toBeNull();
    expect(shortcutFor(press("a"), true)).toBeNull();
  });
});
