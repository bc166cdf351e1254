// Ingest keys: the collector takes exports only with a key valid for the page's origin.
// A page whose SDK has the demo origin's key gets its spans stored (the key in a header
// of the exporter's requests only); a page with another site's key, an unknown key or
// none gets 401 and nothing of it is stored.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { endTaggedSpan, startStack } from './harness.mjs';

let stack;
before(async () => (stack = await startStack({
  // The demo page is served from http://127.0.0.1:<port>.
  collectorArgs: ['--key', 'demo-web=http://127.0.0.1:*', '--key', 'other-site=https://shop.example.com'],
})), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

/** The page's delivery reports for traces payloads. */
const traceDeliveries = (page) => page.evaluate(() => window.demo.api.getSdk().deliveries()
  .filter((r) => r.url.endsWith('/v1/traces'))
  .map(({ ok, status }) => ({ ok, status })));

test('a page with its origin\'s key gets its spans stored; the key goes to the collector only', { timeout: 60_000 }, async () => {
  const { page } = await stack.open('?key=demo-web');
  const seen = stack.demo.requests.length;
  await page.evaluate(() => window.demo.viewProduct(1));
  await endTaggedSpan(page, 'keyed', 'key-ok');
  const span = await stack.api.waitFor((spans) => spans.find((s) => s.attrs['test.id'] === 'key-ok'), { what: 'the span sent with the key' });
  assert.equal(span.service, 'demo-shop');
  const reports = await traceDeliveries(page);
  assert.ok(reports.length > 0 && reports.every((r) => r.ok), JSON.stringify(reports));
  // The page's own API request was traced and carried no key.
  const api = stack.demo.requests.slice(seen).filter((r) => r.path.startsWith('/api/'));
  assert.ok(api.length > 0, 'the page called its API');
  for (const request of api) assert.equal(request.headers['x-wasm-otlp-key'], undefined, request.path);
});

for (const [what, query] of [
  ['another site\'s key', '?key=other-site'],
  ['an unknown key', '?key=no-such-key'],
  ['no key', ''],
]) {
  test(`a page with ${what} gets 401 and nothing stored`, { timeout: 60_000 }, async () => {
    const { page } = await stack.open(query);
    const id = `key-refused-${query || 'none'}`;
    await endTaggedSpan(page, 'refused', id);
    await page.waitForFunction(() => window.demo.api.getSdk().deliveries().some((r) => r.url.endsWith('/v1/traces') && r.status === 401), null, { timeout: 15_000 });
    // 401 is not retried: every traces payload of the page was refused once.
    const reports = await traceDeliveries(page);
    assert.ok(reports.every((r) => r.status === 401), JSON.stringify(reports));
    const spans = await stack.api.allSpans();
    assert.equal(spans.filter((s) => s.attrs['test.id'] === id).length, 0);
  });
}
