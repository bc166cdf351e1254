// Log records from a real page: console.error inside a click handler is a log in the
// click's trace, an uncaught error a log on its exception span, `log()` outside any span
// a log of the session; each arrives at the collector's /v1/logs and is served with its
// trace and its session. The page's console still prints everything.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { attributes, startStack } from './harness.mjs';

let stack;
before(async () => (stack = await startStack()), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

/** The log records of an answer's `resourceLogs`, with their attributes as an object. */
function records(doc) {
  return (doc.resourceLogs ?? []).flatMap((rl) =>
    (rl.scopeLogs ?? []).flatMap((sl) =>
      (sl.logRecords ?? []).map((r) => ({ ...r, attrs: attributes(r.attributes), resource: attributes(rl.resource?.attributes), scope: sl.scope?.name }))));
}

async function getJson(path) {
  const response = await fetch(stack.collector.url + path);
  return { status: response.status, body: await response.json() };
}

/** Polls `path` until `pick(records)` finds something. */
async function waitForLog(path, pick, what) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { status, body } = await getJson(path);
    const found = status === 200 && pick(records(body));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${status} ${JSON.stringify(body).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

test('console.error in a click handler is a log record in the click\'s trace, with the error and the session', { timeout: 60_000 }, async () => {
  const { page } = await stack.open();
  const printed = [];
  page.on('console', (message) => printed.push(`${message.type()}: ${message.text()}`));
  await page.evaluate(() => {
    const button = document.createElement('button');
    button.id = 'pay';
    button.textContent = 'pay';
    button.addEventListener('click', () => {
      console.error('payment failed', new Error('card declined'), { order: 42 });
      console.info('not recorded: info is not a default level');
    });
    document.body.prepend(button);
  });
  await page.click('#pay');
  const sessionId = await page.evaluate(() => window.demo.api.getSessionId());
  await page.evaluate(() => window.demo.api.flush());
  const click = await stack.api.waitFor((spans) => spans.find((s) => s.name === 'user.click' && s.attrs['element.id'] === 'pay'), { what: 'the click span' });
  const record = await waitForLog(`/api/traces/${click.traceId}`, (logs) => logs.find((r) => r.body?.stringValue?.startsWith('payment failed')), 'the console error in the trace');
  assert.equal(record.body.stringValue, 'payment failed Error: card declined {"order":42}');
  assert.equal(record.severityNumber, 17);
  assert.equal(record.severityText, 'error');
  assert.equal(record.traceId, click.traceId);
  assert.equal(record.spanId, click.spanId);
  assert.equal(record.attrs['session.id'], sessionId);
  assert.equal(record.attrs['exception.type'], 'Error');
  assert.equal(record.attrs['exception.message'], 'card declined');
  assert.match(record.attrs['exception.stacktrace'], /card declined/);
  assert.equal(record.resource['service.name'], click.service);
  assert.equal(record.scope, '@wasm-otlp/instrumentation-console');
  assert.ok(printed.some((line) => line.startsWith('error: payment failed')), 'the page\'s console still printed it');
  assert.ok(printed.some((line) => line.startsWith('info: not recorded')));
  const { body: listed } = await getJson(`/api/logs?text=${encodeURIComponent('not recorded')}`);
  assert.equal(records(listed).length, 0, 'console.info is not recorded by default');
});

test('an uncaught error is a log record on its exception span; log() outside any span is in the session', { timeout: 60_000 }, async () => {
  const { page } = await stack.open();
  const sessionId = await page.evaluate(() => window.demo.api.getSessionId());
  await page.click('#throw');
  await page.evaluate(async () => {
    // The click's span stays active as a flow until the task after its dispatch; the
    // evaluation may come first, so log() waits for a later task.
    await new Promise((resolve) => setTimeout(resolve, 50));
    window.demo.api.log('warn', 'cart total mismatch', { attributes: { 'cart.items': 3 } });
    window.demo.api.flush();
  });
  const exception = await stack.api.waitFor((spans) => spans.find((s) => s.name === 'exception' && s.attrs['session.id'] === sessionId), { what: 'the exception span' });
  const uncaught = await waitForLog(`/api/traces/${exception.traceId}`, (logs) => logs.find((r) => r.spanId === exception.spanId), 'the uncaught error\'s log');
  assert.equal(uncaught.body.stringValue, 'Uncaught Error: Demo: the price widget crashed');
  assert.equal(uncaught.severityNumber, 17);
  assert.equal(uncaught.attrs['exception.message'], 'Demo: the price widget crashed');
  const session = `/api/sessions/${sessionId}`;
  const logged = await waitForLog(session, (logs) => logs.find((r) => r.body?.stringValue === 'cart total mismatch'), 'log() in the session');
  assert.equal(logged.severityNumber, 13);
  assert.equal(logged.attrs['cart.items'], 3);
  assert.equal(logged.traceId ?? '', '', 'no span was active');
  const inSession = records((await getJson(session)).body);
  assert.ok(inSession.some((r) => r.spanId === exception.spanId), 'the uncaught error is in the session too');
});
