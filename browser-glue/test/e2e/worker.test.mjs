// The SDK inside a module worker (no document): a worker span continues the page's span
// from the carrier made by injectContext.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';

let stack;
before(async () => (stack = await startStack()), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

test('a worker span is the child of the page span that posted the job', { timeout: 30_000 }, async () => {
  const { page } = await stack.open();
  await page.click('#worker');
  // The page logs the worker's reply, which names the worker's span.
  await page.waitForSelector('#log li a', { timeout: 10_000 });
  const traceId = await page.$eval('#log li a', (a) => a.href.split('#')[1]);

  const { click, job, work } = await stack.api.waitFor(
    (spans) => {
      const click = spans.find((s) => s.name === 'user.click');
      const job = spans.find((s) => s.name === 'worker.job' && s.attrs.result !== undefined);
      const work = spans.find((s) => s.name === 'worker.process');
      return click && job && work && { click, job, work };
    },
    { traceId, what: 'user.click, worker.job and worker.process' },
  );
  assert.equal(job.parentSpanId, click.spanId);
  assert.equal(job.service, 'demo-shop');
  assert.equal(job.attrs['job.name'], 'price-index');

  // The worker's own SDK instance exported it, under the page span.
  assert.equal(work.service, 'demo-shop-worker');
  assert.equal(work.traceId, job.traceId);
  assert.equal(work.parentSpanId, job.spanId);
  assert.equal(work.flags & 0x300, 0x300, 'parent marked remote');
  assert.equal(work.kind, 5, 'consumer');
  assert.equal(work.attrs['job.size'], job.attrs['job.size']);
  assert.equal(work.attrs.result, job.attrs.result, 'the page recorded the result the worker computed');
  // Page and worker each convert their own performance clock to Unix time: they should
  // agree to well under the 20 ms allowed here.
  const slack = 20_000_000n;
  assert.ok(BigInt(work.startTimeUnixNano) + slack >= BigInt(job.startTimeUnixNano), 'the worker span starts after the job span');
  assert.ok(BigInt(work.endTimeUnixNano) <= BigInt(job.endTimeUnixNano) + slack, 'the worker span ends before the job span');

  // What the page shows matches: the worker's reply carried its span context.
  const shown = await page.$eval('#log li', (li) => li.textContent);
  assert.ok(shown.includes(`in span ${work.spanId} (parent ${job.spanId})`), shown);
});

test('jobs posted right after load (before the worker may have finished init) each continue their page span', { timeout: 30_000 }, async () => {
  const { page } = await stack.open();
  // Started outside any span: each worker.job is the root of its own trace.
  const replies = await page.evaluate(() => Promise.all([1, 2, 3].map((i) => window.demo.runInWorker(1000 * i))));
  assert.equal(new Set(replies.map((r) => r.span.traceId)).size, 3, 'three traces');
  for (const reply of replies) {
    assert.equal(reply.span.traceId, reply.parent.traceId, 'the worker span is in the job trace');
    const spans = await stack.api.waitFor(
      (spans) => spans.some((s) => s.name === 'worker.process') && spans.some((s) => s.name === 'worker.job') && spans,
      { traceId: reply.parent.traceId, what: `worker.job and worker.process in ${reply.parent.traceId}` },
    );
    const job = spans.find((s) => s.name === 'worker.job');
    const work = spans.find((s) => s.name === 'worker.process');
    assert.equal(job.spanId, reply.parent.spanId);
    assert.equal(job.parentSpanId, '');
    assert.equal(work.spanId, reply.span.spanId);
    assert.equal(work.parentSpanId, job.spanId);
    assert.equal(work.attrs['job.size'], job.attrs['job.size']);
  }
});

test('worker spans waiting for their batch delay go out when the page is hidden', { timeout: 30_000 }, async () => {
  const { page } = await stack.open('?batchDelay=600000'); // page and worker hold spans 10 minutes
  const reply = await page.evaluate(() => window.demo.runInWorker(1000));
  const traceId = reply.span.traceId;
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await stack.api.allSpans()).filter((s) => s.traceId === traceId).length, 0, 'nothing exported while the page is visible');

  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  const spans = await stack.api.waitFor(
    (spans) => spans.some((s) => s.name === 'worker.process') && spans.some((s) => s.name === 'worker.job') && spans,
    { traceId, timeoutMs: 10_000, what: 'the worker span and its page span, flushed on hide' },
  );
  assert.equal(spans.find((s) => s.name === 'worker.process').spanId, reply.span.spanId);
});
