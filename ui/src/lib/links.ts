// Plain-text mail: split into text and detected links. Links are shown with their real
// host; the text itself is never interpreted as HTML.
export type Segment = { kind: "text"; text: string } | { kind: "link"; text: string; href: string; host: string };

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+[^\s<>"'`.,;:!?)\]}]/gi;

export function linkify(text: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    const start = m.index ?? 0;
    if (start > last) out.push({ kind: "text", text: text.slice(last, start) });
    let host = "";
    try {
      host = new URL(m[0]).host;
    } catch {
      host = "";
    }
    if (host) out.push({ kind: "link", text: m[0], href: m[0], host });
    else out.push({ kind: "text", text: m[0] });
    last = start + m[0].length;
  }
  if (last < text.length) out.push({ kind: "text", text: text.slice(last) });
  return out;
}
