// The browser globals i18n.svelte.ts reads at import time, for unit tests in Node:
// a system language of English, an empty localStorage, a document element for `lang`.
const store = new Map<string, string>();
const stubs: Record<string, unknown> = {
  navigator: { language: "en-GB", languages: ["en-GB"] },
  localStorage: {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, String(v)),
    removeItem: (k: string) => void store.delete(k),
    clear: () => store.clear(),
  },
  document: { documentElement: { lang: "" } },
};
for (const [name, value] of Object.entries(stubs)) {
  Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
}
