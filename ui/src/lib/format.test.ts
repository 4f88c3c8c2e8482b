import { describe, expect, it } from "vitest";
import { clock, errorText } from "./format";

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
  it("takes a command error's message", () => {
    expect(errorText({ code: "forbidden", message: "not yours" })).toBe("not yours");
  });
  it("falls back to the value as text", () => {
    expect(errorText("boom")).toBe("boom");
    expect(errorText(null)).toBe("null");
  });
});
