import { describe, expect, it } from "vitest";
import { clock, errorText } from "./format";
import { setLocale } from "./i18n.svelte";

describe("clock", () => {
  it("shows minutes and seconds, padded", () => {
    expect(clock(0)).toBe("00:00");
    expect(clock(5_999)).toBe("00:05");
    expect(clock(65_000)).toBe("01:05");
    expect(clock(3_600_000)).toBe("60:00");
  });
  it("never goes negative (clock skew)", () => {
    expect(clock(-4_000)).toBe("00:00");
  });
});

describe("errorText", () => {
  it("says what went wrong by its code, in the advisor's language, with the engine's detail", () => {
    setLocale("en");
    expect(errorText({ code: "forbidden", message: "not yours" })).toBe("Not allowed (not yours)");
    setLocale("zh-CN");
    expect(errorText({ code: "imap", message: "connection refused" })).toBe("邮件服务器或网络出错（connection refused）");
    expect(errorText({ code: "paused", message: "" })).toBe("通话或话后处理期间邮件已暂停");
    setLocale("en");
  });
  it("keeps an unknown code's message as it is", () => {
    expect(errorText({ code: "from_the_future", message: "new thing" })).toBe("new thing");
  });
  it("falls back to the value as text", () => {
    expect(errorText("boom")).toBe("boom");
    expect(errorText(null)).toBe("null");
  });
});
