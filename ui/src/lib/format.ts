// Small pure helpers shared by the desk's state and components.
import type { CommandError } from "./api";
import { ERROR_CODES } from "./generated/engine";
import { t, type MessageKey } from "./i18n.svelte";

/// "mm:ss" from a span in milliseconds (call clock, handle time); never negative.
export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/// A command error (the engine's `{ code, message }`) in the advisor's language: what
/// went wrong by its code, then the detail the engine gave; anything else as text.
export function errorText(e: unknown): string {
  const ce = e as CommandError;
  if (!ce || typeof ce !== "object" || !("message" in ce)) return String(e);
  if (!ERROR_CODES.includes(ce.code)) return ce.message;
  const summary = t(`error.${ce.code}` as MessageKey);
  return ce.message ? t("error.detail", { summary, detail: ce.message }) : summary;
}
