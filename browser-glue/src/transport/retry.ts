/** When to retry an export, and after how long (pure: unit-tested in Node). */

/** Statuses OTLP/HTTP says to retry. */
const RETRYABLE = new Set([429, 502, 503, 504]);

/** Whether a response status (or a network error, `undefined`) is worth retrying. */
export function isRetryable(status: number | undefined): boolean {
  return status === undefined || RETRYABLE.has(status);
}

/**
 * Milliseconds to wait before attempt `attempt` (1-based retry count): the server's
 * `Retry-After` (seconds or an HTTP date) when given, plus up to a quarter more, so that
 * the pages a rate limit refused together do not all come back in the same instant; else
 * exponential backoff from `baseMs` with jitter (half to all of it). Capped at `maxMs`.
 */
export function retryDelay(attempt: number, retryAfter: string | null, nowMs: number, baseMs = 1000, maxMs = 30_000, random = Math.random): number {
  const asked = retryAfter ? secondsAsked(retryAfter, nowMs) : undefined;
  if (asked !== undefined) return Math.min(asked * 1000 * (1 + random() / 4), maxMs);
  return Math.min(maxMs, baseMs * 2 ** (attempt - 1)) * (0.5 + random() / 2);
}

/**
 * The wait a `Retry-After` value asks for in seconds (a date past asks 0), if it reads as
 * one. A date names its month (`Date.parse` alone reads `-1` as a year).
 */
function secondsAsked(retryAfter: string, nowMs: number): number | undefined {
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = /[a-z]/i.test(retryAfter) ? Date.parse(retryAfter) : NaN;
  return Number.isFinite(date) ? Math.max(date - nowMs, 0) / 1000 : undefined;
}
