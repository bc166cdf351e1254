/** When to retry an export, and after how long (pure: unit-tested in Node). */

/** Statuses OTLP/HTTP says to retry. */
const RETRYABLE = new Set([429, 502, 503, 504]);

/** Whether a response status (or a network error, `undefined`) is worth retrying. */
export function isRetryable(status: number | undefined): boolean {
  return status === undefined || RETRYABLE.has(status);
}

/**
 * Milliseconds to wait before attempt `attempt` (1-based retry count): the server's
 * `Retry-After` (seconds or an HTTP date) when given, else exponential backoff from
 * `baseMs` with full jitter, capped at `maxMs`.
 */
export function retryDelay(attempt: number, retryAfter: string | null, nowMs: number, baseMs = 1000, maxMs = 30_000, random = Math.random): number {
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, maxMs);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.min(Math.max(date - nowMs, 0), maxMs);
  }
  return Math.min(maxMs, baseMs * 2 ** (attempt - 1)) * (0.5 + random() / 2);
}
