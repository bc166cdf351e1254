// Fail-open and privacy in a real page: whatever tracing does, fetch, XMLHttpRequest and
// the History API behave as they do without the SDK; a component trap turns tracing off
// with one warning and the page goes on; keys typed into text entry are redacted by the
// element really typed into; URLs lose their credentials.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';
import { trappingCore } from '../trap.mjs';

let stack;
before(async () => (stack = await startStack()), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

/** Runs odd calls in the page; returns what each returned or threw, comparably. */
function oddCalls() {
  const settle = async (call) => {
    try {
      const value = await call();
      return { ok: true, value: value instanceof Response ? value.status : value };
    } catch (error) {
      return { ok: false, name: error?.name, message: error?.message };
    }
  };
  const syncThrow = (call) => {
    try {
      const result = call();
      result?.catch?.(() => {});
      return 'no throw';
    } catch (error) {
      return `threw ${error.name}`;
    }
  };
  const xhr = (setup) =>
    new Promise((resolve) => {
      const request = new XMLHttpRequest();
      try {
        setup(request);
      } catch (error) {
        return resolve({ threw: error.name });
      }
      request.onloadend = () => resolve({ status: request.status });
    });
  return (async () => ({
    fetchBadHeaderSync: syncThrow(() => fetch('/api/product/1', { headers: { 'x-bad': 'a\nb' } })),
    fetchBadHeader: await settle(() => fetch('/api/product/1', { headers: { 'x-bad': 'a\nb' } })),
    fetchNumericMethod: await settle(() => fetch('/api/product/1', { method: 123 })),
    fetchNetworkError: await settle(() => fetch('http://127.0.0.1:1/closed')),
    fetchCredentials: await settle(() => fetch('http://u:p@127.0.0.1:1/x')),
    fetchOk: await settle(() => fetch('/api/product/1').then((r) => r.json().then((j) => j.product.id))),
    xhrNumericMethod: await xhr((r) => { r.open(123, '/api/product/1'); r.send(); }),
    xhrSendTwice: await xhr((r) => { r.open('GET', '/api/product/1'); r.send(); r.send(); }),
    xhrBadHeader: await xhr((r) => { r.open('GET', '/api/product/1'); r.setRequestHeader('x', 'a\nb'); r.send(); }),
    xhrNotOpened: await xhr((r) => r.send()),
    pushStateUncloneable: syncThrow(() => history.pushState({ f() {} }, '', '/never')),
    pushState: syncThrow(() => history.pushState({ n: 1 }, '', '?step=1')) + ' ' + location.search,
  }))();
}

test('fetch, XHR and pushState behave as without the SDK, odd input included', { timeout: 30_000 }, async () => {
  const { page, errors } = await stack.open();
  const traced = await page.evaluate(oddCalls);
  const plain = await stack.browser.context.newPage();
  await plain.goto(`${stack.demo.url}/api/none`);
  const untraced = await plain.evaluate(oddCalls);
  await plain.close();
  assert.deepEqual(traced, untraced);
  assert.equal(traced.fetchBadHeaderSync, 'no throw');
  assert.equal(traced.fetchOk.value, '1');
  assert.deepEqual(errors, []);
  const stats = await page.evaluate(() => window.demo.api.getSdk().stats());
  assert.equal(stats.tracingOff, 0n);
});

test('a component trap turns tracing off with one warning; the page goes on', { timeout: 30_000 }, async () => {
  const page = await stack.browser.context.newPage();
  const warnings = [];
  page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  // The real module with reserve-roots trapping: the first root span (here, the navigation's) traps.
  const trapping = Buffer.from(trappingCore('recorder#reserve-roots'));
  await page.route('**/tracing.core.wasm', (route) => route.fulfill({ body: trapping, contentType: 'application/wasm' }));
  await page.goto(`${stack.demo.url}/api/none`);
  const outcome = await page.evaluate(async (collector) => {
    const api = await import('/dist/index.js');
    await api.init({ endpoint: collector, serviceName: 'trap', instrumentations: { pageLoad: false } });
    history.pushState({}, '', '/after-trap');
    const response = await fetch('/api/product/2').then((r) => r.json());
    const xhrStatus = await new Promise((resolve) => {
      const r = new XMLHttpRequest();
      r.open('GET', '/api/product/3');
      r.onloadend = () => resolve(r.status);
      r.send();
    });
    api.startSpan('later').end();
    api.flush();
    return { path: location.pathname, product: response.product.id, xhrStatus, stats: api.getSdk().stats() };
  }, stack.collector.url);
  assert.equal(outcome.path, '/after-trap');
  assert.equal(outcome.product, '2');
  assert.equal(outcome.xhrStatus, 200);
  assert.equal(outcome.stats.tracingOff, 1n);
  assert.equal(warnings.filter((w) => w.includes('wasm-otlp')).length, 1, `one warning: ${warnings}`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('keys typed into an editor inside a link or a password field in shadow DOM are redacted', { timeout: 30_000 }, async () => {
  const { page } = await stack.open();
  await page.evaluate(() => {
    const link = document.createElement('a');
    link.href = '#notes';
    link.id = 'note-link';
    link.innerHTML = 'Note: <span id="editor" contenteditable="true">secret draft</span>';
    const host = document.createElement('div');
    host.id = 'login';
    host.setAttribute('data-otlp', 'login-box');
    host.attachShadow({ mode: 'open' }).innerHTML = '<input id="pw" type="password">';
    document.body.append(link, host);
  });
  await page.focus('#editor');
  await page.keyboard.press('q');
  await page.locator('#login').locator('input').focus();
  await page.keyboard.press('z');
  const spans = await stack.api.waitFor(
    (all) => {
      const keys = all.filter((s) => s.name === 'user.keydown' && ['note-link', 'login'].includes(s.attrs['element.id']));
      return keys.length === 2 && keys;
    },
    { what: 'two keydown spans' },
  );
  for (const span of spans) {
    assert.equal(span.attrs.key, '(redacted)', span.attrs['element.id']);
    assert.equal(span.attrs.code, undefined);
  }
  const link = spans.find((s) => s.attrs['element.id'] === 'note-link');
  assert.equal(link.attrs['element.name'], undefined, 'a link around an editor is not named by its text');
});

test('XHR URLs are recorded without credentials', { timeout: 30_000 }, async () => {
  const { page } = await stack.open();
  const target = `${stack.demo.url.replace('http://', 'http://alice:secret@')}/api/product/1?sig=abc`;
  await page.evaluate(
    (url) =>
      new Promise((resolve) => {
        const r = new XMLHttpRequest();
        r.open('GET', url);
        r.onloadend = resolve;
        r.send();
      }),
    target,
  );
  const span = await stack.api.waitFor((all) => all.find((s) => s.name === 'GET' && s.attrs['url.full']?.includes('sig=')), { what: 'the XHR span' });
  assert.equal(span.attrs['url.full'], `${stack.demo.url.replace('http://', 'http://REDACTED:REDACTED@')}/api/product/1?sig=REDACTED`);
});
