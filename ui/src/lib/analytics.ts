// Pure helpers of the analytics page and "My week": how figures are written (the same
// way the engine writes them into the CSV, so the screen and the file agree), the
// default range, and the bars of the plain-SVG charts.

/// `YYYY-MM-DD HH:MM` in UTC, as in the CSV export.
export function utcMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

/// A percentage with one decimal, as in the CSV; "" when there is none.
export function pctCell(v: number | null): string {
  return v === null ? "" : v.toFixed(1);
}

/// Whole minutes; "" when there is none.
export function minCell(v: number | null): string {
  return v === null ? "" : String(v);
}

/// The first and last day (UTC) of the 30 days ending `now`.
export function defaultRange(now: number): { from: string; to: string } {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { from: day(now - 29 * 86_400_000), to: day(now) };
}

export type Bar = { x: number; y: number; width: number; height: number; value: number; label: string };

/// Vertical bars for `values` in a chart `width` × `height` (the tallest fills it; a
/// chart of zeros has flat bars), one slot each with a gap.
export function bars(values: { label: string; value: number }[], width: number, height: number): Bar[] {
  const max = Math.max(1, ...values.map((v) => v.value));
  const slot = values.length ? width / values.length : width;
  const gap = Math.min(4, slot / 4);
  return values.map((v, i) => {
    const h = (v.value / max) * height;
    return { x: i * slot + gap / 2, y: height - h, width: slot - gap, height: h, value: v.value, label: v.label };
  });
}

/// Points of a line (`x,y` pairs) through the middles of the bars' slots for `values`
/// (`null` = no point), scaled to its own maximum.
export function linePoints(values: (number | null)[], width: number, height: number): string {
  const max = Math.max(1, ...values.map((v) => v ?? 0));
  const slot = values.length ? width / values.length : width;
  return values
    .map((v, i) => (v === null ? null : `${(i * slot + slot / 2).toFixed(1)},${(height - (v / max) * height).toFixed(1)}`))
    .filter((p) => p !== null)
    .join(" ");
}
