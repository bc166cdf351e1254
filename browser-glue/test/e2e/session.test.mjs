// Sessions: one `session.id` on every span of a visit, across reloads and the origin's
// tabs (localStorage), a new one after the idle limit; `setUser` names the user, hashed
// on request. Real pages of the demo app against the real collector.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { endTaggedSpan as endSpan, startStack } from './harness.mjs';

let stack;
before(async () => (stack = await startStack()), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));


/** The spans tagged `id`, by name, once `count` arrived. */
async function tagged(id, count) {
  const spans = await stack.api.waitFor((spans) => {
    const mine = spans.filter((s) => s.attrs['test.id'] === id);
    return mine.length >= count && mine;
  }, { what: `${count} spans tagged ${id}` });
  return Object.fromEntries(spans.map((s) => [s.name, s]));
}

test('one session.id across two page loads and two tabs', { timeout: 60_000 }, async () => {
  const id = randomUUID();
  const { page } = await stack.open();
  await endSpan(page, 'first.load', id);
  const session = await page.evaluate(() => window.demo.api.getSessionId());
  assert.match(session, /^[0-9a-f]{32}$/);
  await page.reload();
  await page.waitForSelector('html[data-ready]');
  await endSpan(page, 'second.load', id);
  const { page: tab } = await stack.open();
  await endSpan(tab, 'other.tab', id);
  const spans = await tagged(id, 3);
  for (const name of ['first.load', 'second.load', 'other.tab']) assert.equal(spans[name].attrs['session.id'], session, name);
  // The page's automatic spans carry it too.
  const load = await stack.api.waitFor((all) => all.find((s) => s.name === 'documentLoad' && s.attrs['session.id'] === session));
  assert.ok(load);
});

test('after the idle limit the next span begins a new session, which the next load keeps', { timeout: 60_000 }, async () => {
  const id = randomUUID();
  const { page } = await stack.open('?sessionIdleMinutes=0.02'); // 1.2 s
  await endSpan(page, 'before.idle', id);
  await sleep(2_000);
  await endSpan(page, 'after.idle', id);
  await page.reload();
  await page.waitForSelector('html[data-ready]');
  await endSpan(page, 'after.reload', id);
  const spans = await tagged(id, 3);
  const [before, after, reloaded] = ['before.idle', 'after.idle', 'after.reload'].map((n) => spans[n].attrs['session.id']);
  assert.notEqual(after, before);
  assert.equal(reloaded, after);
});

test('setUser names the user on later spans, or only its SHA-256 with hash', { timeout: 60_000 }, async () => {
  const id = randomUUID();
  const { page } = await stack.open();
  await endSpan(page, 'anonymous', id);
  await page.evaluate(() => window.demo.api.setUser({ id: 'u-42', email: 'ada@example.com', roles: ['admin'] }));
  await endSpan(page, 'named', id);
  await page.evaluate(() => window.demo.api.setUser({ id: 'u-42', email: 'ada@example.com' }, { hash: true }));
  await endSpan(page, 'hashed', id);
  await page.evaluate(() => window.demo.api.setUser(null));
  await endSpan(page, 'signed.out', id);
  const spans = await tagged(id, 4);
  assert.equal(spans.anonymous.attrs['user.id'], undefined);
  assert.equal(spans.named.attrs['user.id'], 'u-42');
  assert.equal(spans.named.attrs['user.email'], 'ada@example.com');
  assert.deepEqual(spans.named.attrs['user.roles'], ['admin']);
  assert.equal(spans.hashed.attrs['user.id'], undefined);
  assert.equal(spans.hashed.attrs['user.email'], undefined);
  assert.equal(spans.hashed.attrs['user.hash'], createHash('sha256').update('u-42').digest('hex'));
  assert.equal(spans['signed.out'].attrs['user.hash'], undefined);
});

test('the session sampler keeps all or nothing of a session, in every tab', { timeout: 60_000 }, async () => {
  const id = randomUUID();
  /** Opens a page whose stored session is `session`, sampling half of all sessions. */
  const openIn = async (session) => {
    const { page } = await stack.open();
    await page.evaluate((session) => {
      const now = Date.now();
      localStorage.setItem('wasm-otlp:session', JSON.stringify({ id: session, start: now, last: now }));
    }, session);
    return (await stack.open('?sessionSampling=0.5')).page;
  };
  const kept = '1'.repeat(8) + 'a'.repeat(24); // 0x11111111 / 2^32 < 0.5
  const dropped = 'e'.repeat(8) + 'b'.repeat(24); // 0xeeeeeeee / 2^32 > 0.5
  for (const [session, name] of [[kept, 'kept'], [dropped, 'dropped']]) {
    const page = await openIn(session);
    await endSpan(page, `${name}.1`, id);
    await endSpan(page, `${name}.2`, id);
  }
  const spans = await tagged(id, 2);
  assert.deepEqual(Object.keys(spans).sort(), ['kept.1', 'kept.2']);
  await sleep(1500); // the other session's spans would have arrived by now
  const all = await stack.api.allSpans();
  assert.ok(all.some((s) => s.name === 'documentLoad' && s.attrs['session.id'] === kept), "the kept session's page load");
  assert.deepEqual(all.filter((s) => s.attrs['session.id'] === dropped || s.name.startsWith('dropped')), [], 'nothing of the other session');
});
