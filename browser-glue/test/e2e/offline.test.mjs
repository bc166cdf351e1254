// Bodies that could not be sent are kept (IndexedDB) and delivered later, once: when the
// browser is back online, or on the next page load after the page that made them closed
// while offline. Real pages of the demo app against the real collector; offline is
// Chromium's network emulation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { endTaggedSpan as endSpan, startStack } from './harness.mjs';

let stack;
before(async () => (stack = await startStack()), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));


/** How many bodies the page's outbox holds (0 before the SDK made it). */
const kept = (page) =>
  page.evaluate(async () => {
    if (!(await indexedDB.databases()).some((d) => d.name === 'wasm-otlp')) return 0;
    return new Promise((resolve) => {
      const open = indexedDB.open('wasm-otlp');
      open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains('outbox')) return db.close(), resolve(0);
        const count = db.transaction('outbox').objectStore('outbox').count();
        count.onsuccess = () => (db.close(), resolve(count.result));
      };
      open.onerror = () => resolve(-1);
    });
  });

/** The spans tagged `id` after `ms` more milliseconds of waiting (to see a duplicate if one comes). */
async function settled(id, ms = 1500) {
  const found = await stack.api.waitFor((spans) => spans.some((s) => s.attrs['test.id'] === id), { what: `the span tagged ${id}` });
  assert.ok(found);
  await sleep(ms);
  return (await stack.api.allSpans()).filter((s) => s.attrs['test.id'] === id);
}

test('a span ended offline is kept and sent once when the browser is back online', { timeout: 60_000 }, async () => {
  const { page } = await stack.open();
  const id = randomUUID();
  await stack.browser.context.setOffline(true);
  try {
    await endSpan(page, 'while.offline', id);
    for (let i = 0; i < 50 && (await kept(page)) < 1; i++) await sleep(100);
    assert.equal(await kept(page), 1, 'the failed body is kept');
  } finally {
    await stack.browser.context.setOffline(false);
  }
  const spans = await settled(id);
  assert.deepEqual(spans.map((s) => s.name), ['while.offline']);
  for (let i = 0; i < 50 && (await kept(page)) > 0; i++) await sleep(100);
  assert.equal(await kept(page), 0, 'delivered bodies leave the outbox');
  await page.close();
});

test('a body kept by a page that closed while offline is delivered by the next load', { timeout: 60_000 }, async () => {
  const { page } = await stack.open();
  const id = randomUUID();
  await stack.browser.context.setOffline(true);
  try {
    await endSpan(page, 'before.close', id);
    for (let i = 0; i < 50 && (await kept(page)) < 1; i++) await sleep(100);
    assert.equal(await kept(page), 1);
    await page.close();
  } finally {
    await stack.browser.context.setOffline(false);
  }
  assert.deepEqual(await stack.api.allSpans().then((all) => all.filter((s) => s.attrs['test.id'] === id)), [], 'nothing arrived while offline');
  const { page: next } = await stack.open();
  const spans = await settled(id);
  assert.deepEqual(spans.map((s) => s.name), ['before.close']);
  await next.close();
});
