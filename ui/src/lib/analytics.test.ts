import { describe, expect, it } from "vitest";
import { bars, defaultRange, linePoints, minCell, pctCell, utcMinute } from "./analytics";

describe("analytics helpers", () => {
  it("writes figures as the CSV does", () => {
    expect(utcMinute(1_796_342_400_000 + 90 * 60_000)).toBe("2026-12-04 01:30");
    expect(pctCell(66.666)).toBe("66.7");
    expect(pctCell(null)).toBe("");
    expect(minCell(0)).toBe("0");
    expect(minCell(null)).toBe("");
  });

  it("defaults to the last 30 days, today included", () => {
    expect(defaultRange(Date.UTC(2026, 11, 4, 10))).toEqual({ from: "2026-11-05", to: "2026-12-04" });
  });

  it("scales bars to the tallest and keeps zeros flat", () => {
    const b = bars(
      [
        { label: "a", value: 2 },
        { label: "b", value: 4 },
        { label: "c", value: 0 },
      ],
      300,
      100,
    );
    expect(b.map((x) => x.height)).toEqual([50, 100, 0]);
    expect(b[1].y).toBe(0);
    expect(b[2].x).toBeGreaterThan(b[1].x + b[1].width);
    expect(bars([{ label: "z", value: 0 }], 100, 100)[0].height).toBe(0);
  });

  it("skips missing points of a line", () => {
    expect(linePoints([10, null, 5], 300, 100)).toBe("50.0,0.0 250.0,50.0");
  });
});
