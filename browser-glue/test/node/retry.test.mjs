// When the transport retries and after how long (src/transport/retry.ts), bundled from
// the source with esbuild: the SDK's bundle does not export it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';

const { outputFiles } = await build({
  entryPoints: [new URL('../../src/transport/retry.ts', import.meta.url).pathname],
  bundle: true,
  format: 'esm',
  write: false,
  logLevel: 'warning',
});
const { isRetryable, retryDelay } = await import(`data:text/javascript,${encodeURIComponent(outputFiles[0].text)}`);

const NOW = Date.parse('2026-12-03T12:00:00Z');
const least = () => 0;
const most = () => 0.999999;

test('what OTLP/HTTP says to retry is retried, and nothing else', () => {
  for (const status of [undefined, 429, 502, 503, 504]) assert.equal(isRetryable(status), true, String(status));
  for (const status of [200, 400, 401, 403, 404, 413, 500]) assert.equal(isRetryable(status), false, String(status));
});

test('Retry-After in seconds or as a date is waited out, plus up to a quarter, within the cap', () => {
  assert.equal(retryDelay(1, '2', NOW, 1000, 30_000, least), 2000);
  assert.ok(Math.abs(retryDelay(1, '2', NOW, 1000, 30_000, most) - 2500) < 1);
  assert.equal(retryDelay(1, '0', NOW, 1000, 30_000, most), 0);
  assert.equal(retryDelay(1, new Date(NOW + 4000).toUTCString(), NOW, 1000, 30_000, least), 4000);
  assert.equal(retryDelay(1, new Date(NOW - 4000).toUTCString(), NOW, 1000, 30_000, most), 0, 'a date past');
  assert.equal(retryDelay(1, '3600', NOW, 1000, 30_000, least), 30_000, 'capped');
  const spread = new Set(Array.from({ length: 50 }, () => Math.round(retryDelay(1, '2', NOW))));
  assert.ok(spread.size > 10, 'pages refused together come back apart');
});

test('without a readable Retry-After, the backoff doubles from the base with jitter, capped', () => {
  for (const retryAfter of [null, '', 'soon', '-1']) {
    assert.equal(retryDelay(1, retryAfter, NOW, 1000, 30_000, least), 500, JSON.stringify(retryAfter));
  }
  assert.equal(retryDelay(3, null, NOW, 1000, 30_000, least), 2000);
  assert.ok(Math.abs(retryDelay(3, null, NOW, 1000, 30_000, most) - 4000) < 1);
  assert.ok(Math.abs(retryDelay(10, null, NOW, 1000, 30_000, most) - 30_000) < 1);
});
