// Ordering of the team templates in the composer's picker (display order only: which
// templates exist and are approved is decided by the engine).
import type { TeamTemplate } from "./api";

/// The language an email is written in, as far as the picker cares: Chinese when its
/// subject holds a CJK ideograph, English otherwise.
export function emailLanguage(subject: string): "zh" | "en" {
  return /[\u3400-\u9fff]/.test(subject) ? "zh" : "en";
}

/// The open email's queue and language first, then same queue, then same language,
/// then the rest; by name within each group.
export function rankTemplates(templates: readonly TeamTemplate[], queue: string, subject: string): TeamTemplate[] {
  const lang = emailLanguage(subject);
  const rank = (tt: TeamTemplate) => (tt.queue === queue ? 0 : 2) + (tt.language.startsWith(lang) ? 0 : 1);
  return [...templates].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}
