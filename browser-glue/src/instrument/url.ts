/**
 * What a recorded URL looks like: credentials and the query values that the semantic
 * conventions name as secrets are redacted, then the app's own `sanitizeUrl` (say, to
 * drop query values or replace IDs in paths) has the last word. Every URL an
 * instrumentation records goes through `recordedUrl`.
 */

/** The app's rewrite of a URL before it is recorded (it gets a copy it may change). */
export type UrlSanitizer = (url: URL) => string;

/** Query parameters whose values `url.full` must not carry (OpenTelemetry's HTTP conventions). */
const SECRET_PARAMS = ['AWSAccessKeyId', 'Signature', 'sig', 'X-Goog-Signature'];

/** `url` as it may be recorded; undefined when it is no URL at all. */
export function recordedUrl(url: string | URL, sanitize?: UrlSanitizer): string | undefined {
  let copy: URL;
  try {
    copy = new URL(url, globalThis.location?.href);
  } catch {
    return undefined;
  }
  if (copy.username) copy.username = 'REDACTED';
  if (copy.password) copy.password = 'REDACTED';
  for (const name of SECRET_PARAMS) if (copy.searchParams.has(name)) copy.searchParams.set(name, 'REDACTED');
  return sanitize ? sanitize(copy) : copy.href;
}
