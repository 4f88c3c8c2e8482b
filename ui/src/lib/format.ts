// Small pure helpers shared by the desk's state and components.
import type { CommandError } from "./api";

/// "mm:ss" from a span in milliseconds (call clock, handle time); never negative.
export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/// The message of a command error (the engine's `{ code, message }`), or the value as text.
export function errorText(e: unknown): string {
  const ce = e as CommandError;
  return ce && typeof ce === "object" && "message" in ce ? ce.message : String(e);
}
