// Uncaught errors and unhandled rejections in a real page become error spans.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';

let stack;
before(async () => (stack = await startStack()), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

function assertException(span, type, message) {
  assert.equal(span.scope, '@wasm-otlp/instrumentation-errors');
  assert.deepEqual(span.status, { code: 2, message });
  const events = span.events.filter((e) => e.name === 'exception');
  assert.equal(events.length, 1);
  const { attrs } = events[0];
  assert.equal(attrs['exception.type'], type);
  assert.equal(attrs['exception.message'], message);
  assert.match(attrs['exception.stacktrace'], new RegExp(`${type}: ${message}`));
  assert.match(attrs['exception.stacktrace'], /\/demo\/app\.js:\d+:\d+/, 'the stack names the page script');
  const t = BigInt(events[0].timeUnixNano);
  assert.ok(t >= BigInt(span.startTimeUnixNano) && t <= BigInt(span.endTimeUnixNano));
}

test('an error thrown in a click handler becomes an exception span under the click span', { timeout: 30_000 }, async () => {
  const { page, errors } = await stack.open();
  await page.click('#throw');
  const message = 'Demo: the price widget crashed';
  const { span, click } = await stack.api.waitFor(
    (spans) => {
      const span = spans.find((s) => s.name === 'exception' && s.status?.message === message);
      const click = span && spans.find((s) => s.spanId === span.parentSpanId);
      return click && { span, click };
    },
    { what: 'the exception span and its click span' },
  );
  assertException(span, 'Error', message);
  assert.equal(span.attrs['error.type'], 'javascript');
  assert.equal(span.attrs['code.filepath'], `${stack.demo.url}/demo/app.js`);
  assert.ok(span.attrs['code.lineno'] > 0 && span.attrs['code.column'] > 0);
  // The handler threw while the click span was active.
  assert.equal(click.name, 'user.click');
  assert.equal(click.attrs['element.id'], 'throw');
  assert.equal(span.traceId, click.traceId);
  assert.deepEqual(errors.map((e) => e.message), [message], 'the page saw the error too');
  const listed = await stack.api.traces({ error: 'true' });
  assert.ok(listed.some((t) => t.traceId === span.traceId), 'listed among error traces');
});

test('an unhandled promise rejection becomes an error span', { timeout: 30_000 }, async () => {
  const { page } = await stack.open();
  await page.click('#reject');
  const message = 'Demo: the stock service rejected the request';
  const span = await stack.api.waitFor((spans) => spans.find((s) => s.name === 'unhandledrejection' && s.status?.message === message), { what: 'the unhandledrejection span' });
  assertException(span, 'TypeError', message);
  assert.equal(span.attrs['error.type'], 'promise');
  assert.equal(span.service, 'demo-shop');
});

test('a rejection with a non-Error reason is still an error span', { timeout: 30_000 }, async () => {
  const { page } = await stack.open();
  await page.evaluate(() => void Promise.reject('plain string reason'));
  const span = await stack.api.waitFor((spans) => spans.find((s) => s.name === 'unhandledrejection' && s.status?.message === 'plain string reason'), { what: 'the string rejection span' });
  assert.equal(span.status.code, 2);
  const exception = span.events.find((e) => e.name === 'exception');
  assert.equal(exception.attrs['exception.type'], 'string');
  assert.equal(exception.attrs['exception.message'], 'plain string reason');
  assert.equal(exception.attrs['exception.stacktrace'], undefined);
});
