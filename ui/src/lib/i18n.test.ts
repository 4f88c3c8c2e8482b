import { beforeEach, describe, expect, it } from "vitest";
import { ERROR_CODES } from "./generated/engine";
import { adoptSystemLocale, age, i18n, messages, setLocale, systemLocale, t, TEMPLATES } from "./i18n.svelte";

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
const en = messages.en;
const zh = messages["zh-CN"];

describe("catalogue", () => {
  it("has every key in both English and Chinese, none empty", () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const [key, s] of [...Object.entries(en), ...Object.entries(zh)]) expect(s.trim(), key).not.toBe("");
  });

  it("uses the same placeholders in both languages", () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(placeholders(zh[key]), key).toEqual(placeholders(en[key]));
    }
  });

  it("really translates (only the product name and bare numbers read the same)", () => {
    const same = Object.keys(en).filter((k) => zh[k as keyof typeof en] === en[k as keyof typeof en]);
    expect(same.sort()).toEqual(["app.name", "load.value"]);
  });

  it("says every engine error code in both languages", () => {
    for (const code of ERROR_CODES) {
      expect(en, code).toHaveProperty(`error.${code}`);
      expect(zh, code).toHaveProperty(`error.${code}`);
    }
  });

  it("names and fills every built-in template", () => {
    for (const id of TEMPLATES) {
      expect(en).toHaveProperty(`tpl.${id}.name`);
      expect(zh).toHaveProperty(`tpl.${id}.body`);
    }
  });
});

describe("t", () => {
  beforeEach(() => setLocale("en"));

  it("fills every placeholder", () => {
    for (const locale of ["en", "zh-CN"] as const) {
      setLocale(locale);
      for (const key of Object.keys(en) as (keyof typeof en)[]) {
        const params = Object.fromEntries(placeholders(messages[locale][key]).map((p) => [p, `<${p}>`]));
        const out = t(key, params);
        expect(out, key).not.toMatch(/\{\w+\}/);
        for (const p of Object.keys(params)) expect(out, key).toContain(`<${p}>`);
      }
    }
  });

  it("leaves a missing placeholder visible rather than inventing a value", () => {
    expect(t("load.value", { n: 3 })).toBe("3 / {cap}");
  });

  it("uses the English singular when n is 1", () => {
    expect(t("list.more", { n: 1 })).toBe("1 message");
    expect(t("list.more", { n: 2 })).toBe("2 messages");
    setLocale("zh-CN");
    expect(t("list.more", { n: 1 })).toBe(zh["list.more"].replace("{n}", "1"));
  });

  it("formats ages in the current language", () => {
    expect(age(90)).toBe(t("age.min", { n: 2 }));
    expect(age(2 * 3600)).toBe(t("age.h", { n: 2 }));
    expect(age(3 * 86400)).toBe(t("age.d", { n: 3 }));
    expect(age(-5)).toBe(t("age.min", { n: 1 }));
  });
});

describe("language switch", () => {
  it("switches every string, the document language, and remembers the choice", () => {
    setLocale("en");
    expect(t("lang.toggle")).toBe("中文");
    setLocale("zh-CN");
    expect(i18n.locale).toBe("zh-CN");
    expect(t("lang.toggle")).toBe("English");
    expect(t("state.on_call")).toBe(zh["state.on_call"]);
    expect(document.documentElement.lang).toBe("zh-CN");
    expect(localStorage.getItem("blendesk.locale")).toBe("zh-CN");
    setLocale("en");
    expect(t("state.on_call")).toBe("On call");
    expect(document.documentElement.lang).toBe("en");
  });

  it("maps system languages", () => {
    expect(systemLocale(["zh-TW"])).toBe("zh-CN");
    expect(systemLocale(["zh_CN".replace("_", "-")])).toBe("zh-CN");
    expect(systemLocale(["fr-FR", "en-US"])).toBe("en");
    expect(systemLocale(["fr-FR", "zh-Hans"])).toBe("zh-CN");
    expect(systemLocale(["de"])).toBe("en");
    expect(systemLocale([])).toBe("en");
  });

  it("adopts the OS locale only until the advisor picks one", () => {
    localStorage.removeItem("blendesk.locale");
    i18n.locale = "en";
    adoptSystemLocale("zh_CN.UTF-8");
    expect(i18n.locale).toBe("zh-CN");
    adoptSystemLocale(null);
    expect(i18n.locale).toBe("zh-CN");
    setLocale("en");
    adoptSystemLocale("zh_CN.UTF-8");
    expect(i18n.locale).toBe("en");
  });
});
