// Rate limits: once the page's origin is over the collector's --rate-limit-origin, its
// exports get 429 with Retry-After (readable through CORS) while other origins are
// served; the SDK waits that long, retries, and its spans arrive.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { endTaggedSpan, startStack } from './harness.mjs';

let stack;
// 10 a minute: a token every 6 s, so the page's export surely meets the empty bucket
// however slow the machine, and its retry (Retry-After: 6) finds a token.
before(async () => (stack = await startStack({ collectorArgs: ['--rate-limit-origin', '10/m,burst=4'] })), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

/** POSTs an empty (valid) traces request to the collector from `origin`. */
const postFrom = (origin) => fetch(`${stack.collector.url}/v1/traces`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', origin },
  body: '{}',
});

test('a rate-limited origin gets 429 while others are served, and the SDK delivers after Retry-After', { timeout: 90_000 }, async () => {
  const { page } = await stack.open();
  const deliveries = () => page.evaluate(() => window.demo.api.getSdk().deliveries().map(({ ok, attempts, status }) => ({ ok, attempts, status })));
  // The page load's payload first, so that the page has nothing else in flight.
  await page.waitForFunction(() => window.demo.api.getSdk().deliveries().length > 0, null, { timeout: 15_000 });

  // Spend the page origin's bucket from here (outside a browser any Origin can be claimed).
  const origin = new URL(stack.demo.url).origin;
  let answer;
  let served = 0;
  while ((answer = await postFrom(origin)).status === 200) served++;
  assert.equal(answer.status, 429);
  assert.ok(served <= 4, `at most the burst was served: ${served}`);
  const retryAfter = Number(answer.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= 6, `Retry-After ${retryAfter}`);
  const status = await answer.json();
  assert.equal(status.code, 8);
  assert.match(status.message, /too many export requests from this origin/);
  const others = await Promise.all(['http://localhost:1234', 'https://elsewhere.example'].map(async (o) => (await postFrom(o)).status));
  assert.deepEqual(others, [200, 200], 'other origins have buckets of their own');

  const before = (await deliveries()).length;
  await endTaggedSpan(page, 'limited', 'rate-1');
  await stack.api.waitFor((spans) => spans.some((s) => s.attrs['test.id'] === 'rate-1'), { what: 'the span sent while limited', timeoutMs: 40_000 });
  // The page's own attempts: refused first, delivered on a retry. (The demo's worker shares
  // the origin's outbox and may send the kept body too, within its own SDK: the store
  // keeps the span once, and this page's report still comes when its retry succeeds.)
  await page.waitForFunction((n) => window.demo.api.getSdk().deliveries().length > n, before, { timeout: 40_000 });
  const reports = (await deliveries()).slice(before);
  assert.ok(reports.length > 0 && reports.every((r) => r.ok), JSON.stringify(reports));
  assert.ok(reports.some((r) => r.attempts > 1), `the payload was refused first: ${JSON.stringify(reports)}`);
  const metrics = await fetch(`${stack.collector.url}/metrics`).then((r) => r.text());
  const limited = /wasm_otlp_collector_requests_total\{signal="traces",outcome="rejected",reason="rate_limited"\} (\d+)/.exec(metrics);
  assert.ok(limited && Number(limited[1]) >= 2, `the collector counted the 429s: ${limited?.[0]}`);
});
