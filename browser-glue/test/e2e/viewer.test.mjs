// The collector's viewer page (GET /) in headless Chromium against the real collector:
// the search form finds the right traces by each filter, a 10,000-span trace renders
// with virtualised rows and scrolls to its last span, span values stay text, and the
// page is served with a strict Content-Security-Policy that it does not violate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { launchBrowser, startCollector } from './harness.mjs';

const MS = 1_000_000n;
const now = BigInt(Date.now()) * MS;
const id = (bytes) => randomBytes(bytes).toString('hex');
const str = (key, value) => ({ key, value: { stringValue: value } });

let collector;
let browser;
/** Content-Security-Policy violations and page errors seen in any test. */
const problems = [];

/** Posts `spans` of `service` (OTLP JSON) to the collector. */
async function post(service, spans, resourceAttributes = [], scope = { name: 'viewer-e2e', version: '1.0' }) {
  const body = {
    resourceSpans: [{
      resource: { attributes: [str('service.name', service), ...resourceAttributes] },
      scopeSpans: [{ scope, spans }],
    }],
  };
  const response = await fetch(`${collector.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.text());
}

/** Posts log `records` of `service` (OTLP JSON) to the collector. */
async function postLogs(service, records, resourceAttributes = []) {
  const body = {
    resourceLogs: [{
      resource: { attributes: [str('service.name', service), ...resourceAttributes] },
      scopeLogs: [{ scope: { name: 'viewer-e2e' }, logRecords: records }],
    }],
  };
  const response = await fetch(`${collector.url}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.text());
}

/** A span starting `startMs` before now and lasting `durationMs`. */
function span(traceId, name, { startMs, durationMs, parent, attributes = [], error = false, ...rest }) {
  const start = now - BigInt(Math.round(startMs * 1000)) * 1000n;
  return {
    traceId,
    spanId: id(8),
    ...(parent ? { parentSpanId: parent } : {}),
    name,
    kind: 2,
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(start + BigInt(Math.round(durationMs * 1000)) * 1000n),
    attributes,
    ...(error ? { status: { code: 2, message: 'failed' } } : {}),
    ...rest,
  };
}

const T = { path: id(16), pay: id(16), items: id(16), cart: id(16), xss: id(16), orphan: id(16), big: id(16) };
const XSS = '<img src=x onerror="window.__pwned=1">';
const SCRIPT = '<script>window.__pwned=2</script>';
const BIG = 10_000;

before(async () => {
  collector = await startCollector();
  const pay = span(T.pay, 'POST /pay', { startMs: 120_000, durationMs: 300, error: true, attributes: [{ key: 'http.status_code', value: { intValue: '500' } }, str('http.method', 'POST'), str('session.id', 's-42')] });
  await post('checkout', [pay]);
  await post('payments', [span(T.pay, 'charge card', { startMs: 119_950, durationMs: 200, parent: pay.spanId })]);
  await post('catalog', [span(T.items, 'GET /items', { startMs: 60_000, durationMs: 40, attributes: [str('region', 'eu'), str('http.method', 'GET')] })], [str('session.id', 's-42')]);
  await post('checkout', [span(T.cart, 'GET /cart', { startMs: 3 * 3600_000, durationMs: 2000, attributes: [str('region', 'us'), str('http.method', 'GET')] })]);
  // Markup in every field a page could show.
  const xssRoot = span(T.xss, XSS, {
    startMs: 30_000,
    durationMs: 5,
    attributes: [str(XSS, SCRIPT), str('note', XSS)],
    status: { code: 2, message: SCRIPT },
    events: [{ name: XSS, timeUnixNano: String(now - 30_000n * MS + 1n * MS), attributes: [str('e', SCRIPT)] }],
    links: [{ traceId: T.pay, spanId: pay.spanId, attributes: [str('l', XSS)] }],
  });
  await post(XSS, [xssRoot, span(T.xss, SCRIPT, { startMs: 29_999, durationMs: 2, parent: xssRoot.spanId })], [str('host.name', SCRIPT)], { name: XSS, version: SCRIPT, attributes: [str(SCRIPT, XSS)] });
  // Critical path and clock skew: root 0-100 ms; a 10-40, b 20-90, c 50-60 (under the
  // root), d under b from another service starting 5 ms before b, e and f under b.
  const r = span(T.path, 'r', { startMs: 40_000, durationMs: 100 });
  const at = (name, from, to, parent) => span(T.path, name, { startMs: 40_000 - from, durationMs: to - from, parent });
  const b = at('b', 20, 90, r.spanId);
  await post('web', [r, at('a', 10, 40, r.spanId), b, at('c', 50, 60, r.spanId)]);
  // e from another service ends after b (skew); f starts after b ended (async, not skew).
  await post('api', [at('d', 15, 80, b.spanId), at('e', 85, 95, b.spanId), at('f', 92, 99, b.spanId)]);
  // A span whose parent never arrives.
  await post('orphans', [
    span(T.orphan, 'orphan root', { startMs: 20_000, durationMs: 10 }),
    span(T.orphan, 'lost child', { startMs: 19_999, durationMs: 2, parent: 'aaaaaaaaaaaaaaaa' }),
  ]);
  // 10,000 spans: a chain 1,000 deep under the root, then the rest as the root's children.
  const spans = [];
  const spanId = (i) => (i + 1).toString(16).padStart(16, '0');
  for (let i = 0; i < BIG; i++) {
    const start = now - 10_000n * MS + BigInt(i) * 1000n;
    spans.push({
      traceId: T.big,
      spanId: spanId(i),
      ...(i === 0 ? {} : { parentSpanId: spanId(i <= 1000 ? i - 1 : 0) }),
      name: i === 0 ? 'big root' : `span ${i}`,
      kind: 1,
      startTimeUnixNano: String(start),
      endTimeUnixNano: String(start + (i === 0 ? 20n * MS : 500_000n)),
    });
  }
  for (let i = 0; i < BIG; i += 2500) await post('big', spans.slice(i, i + 2500));
  for (let tries = 0; ; tries++) {
    const listed = await fetch(`${collector.url}/api/traces?service=big`).then((r) => r.json());
    if (listed.traces[0]?.spanCount === BIG) break;
    assert.ok(tries < 100, `the big trace is not stored: ${JSON.stringify(listed)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await launchBrowser();
}, { timeout: 60_000 });

after(async () => {
  await browser?.close();
  await collector?.stop();
}, { timeout: 30_000 });

async function open(hash = '') {
  const page = await browser.context.newPage();
  const dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  const response = await page.goto(`${collector.url}/${hash}`);
  return { page, response, dialogs };
}

/** Waits for the search results and returns the listed trace IDs (sorted). */
async function results(page) {
  await page.waitForSelector('#results[data-state="done"], #results[data-state="error"]', { state: 'attached' });
  return page.$$eval('#results tr.trace-row', (rows) => rows.map((r) => r.dataset.traceId).sort());
}

/** Opens the search page, lets `fill` set the form, submits it and returns the result IDs. */
async function search(fill) {
  const { page } = await open('#/search');
  await page.waitForSelector('#search[data-ready="true"]');
  await results(page);
  await fill(page);
  await page.$eval('#results', (r) => (r.dataset.state = 'stale'));
  await page.click('#q-submit');
  const ids = await results(page);
  return { page, ids };
}

const ids = (...names) => names.map((n) => T[n]).sort();

test('the page has a strict CSP and loads its modules without violating it', async () => {
  const { page, response } = await open();
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /style-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  const all = await results(page);
  assert.deepEqual(all, ids('path', 'pay', 'items', 'cart', 'xss', 'orphan', 'big'));
  assert.equal(await page.locator('#scatter circle.point').count(), 7, 'one point per trace');
  await page.close();
});

test('search by service (the list comes from /api/services)', async () => {
  const { page, ids: found } = await search(async (p) => {
    const options = await p.$$eval('#q-service option', (os) => os.map((o) => o.value));
    assert.deepEqual(options, ['', XSS, 'api', 'big', 'catalog', 'checkout', 'orphans', 'payments', 'web']);
    await p.selectOption('#q-service', 'checkout');
  });
  assert.deepEqual(found, ids('pay', 'cart'));
  assert.match(page.url(), /#\/search\?service=checkout$/);
  // Each result names every service of its trace, the root span's first.
  assert.deepEqual(await page.$$eval(`#results tr[data-trace-id="${T.pay}"] .chip`, (cs) => cs.map((c) => c.textContent)), ['checkout', 'payments']);
  await page.close();
});

test('search by operation (the list follows the service)', async () => {
  const { page, ids: found } = await search(async (p) => {
    await p.selectOption('#q-service', 'checkout');
    await p.waitForSelector('#q-operation option[value="POST /pay"]', { state: 'attached' });
    assert.deepEqual(await p.$$eval('#q-operation option', (os) => os.map((o) => o.value)), ['', 'GET /cart', 'POST /pay']);
    await p.selectOption('#q-operation', 'POST /pay');
  });
  assert.deepEqual(found, ids('pay'));
  await page.close();
});

test('search by one and by two attributes', async () => {
  let { page, ids: found } = await search(async (p) => {
    await p.click('#q-add-attr');
    await p.fill('.q-attr >> nth=0', 'http.method=GET');
  });
  assert.deepEqual(found, ids('items', 'cart'));
  await page.close();
  ({ page, ids: found } = await search(async (p) => {
    await p.click('#q-add-attr');
    await p.fill('.q-attr >> nth=0', 'http.method=GET');
    await p.click('#q-add-attr');
    await p.fill('.q-attr >> nth=1', 'region=us');
  }));
  assert.deepEqual(found, ids('cart'));
  assert.match(decodeURIComponent(page.url()), /attr=http\.method=GET&attr=region=us/);
  await page.close();
  ({ page, ids: found } = await search(async (p) => {
    await p.click('#q-add-attr');
    await p.fill('.q-attr >> nth=0', 'http.status_code=500');
  }));
  assert.deepEqual(found, ids('pay'));
  await page.close();
});

test('search by duration range', async () => {
  let { page, ids: found } = await search((p) => p.fill('#q-min', '1s'));
  assert.deepEqual(found, ids('cart'));
  await page.close();
  ({ page, ids: found } = await search(async (p) => {
    await p.fill('#q-min', '250ms');
    await p.fill('#q-max', '0.5s');
  }));
  assert.deepEqual(found, ids('pay'));
  await page.close();
});

test('errors only', async () => {
  const { page, ids: found } = await search((p) => p.check('#q-error'));
  assert.deepEqual(found, ids('pay', 'xss'));
  assert.equal(await page.locator('#results tr.has-error').count(), 2);
  await page.close();
});

test('time range: a preset and a custom range', async () => {
  let { page, ids: found } = await search((p) => p.selectOption('#q-range', '1h'));
  assert.deepEqual(found, ids('path', 'pay', 'items', 'xss', 'orphan', 'big'));
  await page.close();
  const local = (ms) => {
    const d = new Date(ms);
    const pad = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  };
  const nowMs = Number(now / MS);
  ({ page, ids: found } = await search(async (p) => {
    await p.selectOption('#q-range', 'custom');
    await p.fill('#q-from', local(nowMs - 4 * 3600_000));
    await p.fill('#q-to', local(nowMs - 2 * 3600_000));
  }));
  assert.deepEqual(found, ids('cart'));
  await page.close();
});

test('a search is linkable, and API errors are shown as text', async () => {
  let { page } = await open('#/search?service=catalog&limit=5');
  assert.deepEqual(await results(page), ids('items'));
  await page.waitForSelector('#search[data-ready="true"]');
  assert.equal(await page.inputValue('#q-service'), 'catalog');
  assert.equal(await page.inputValue('#q-limit'), '5');
  await page.close();
  ({ page } = await open('#' + '0'.repeat(31) + '1'));
  await page.waitForSelector('#trace-status.err');
  assert.match(await page.textContent('#trace-status'), /no spans or log records stored for trace 0{31}1/);
  await page.close();
  ({ page } = await open('#/search?minDuration=soon'));
  await page.waitForSelector('#results[data-state="error"]', { state: 'attached' });
  assert.match(await page.textContent('#q-status'), /Search failed: minDuration="soon"/);
  await page.close();
});

test('the trace-ID box and the result links open a trace at /#<traceId>', async () => {
  const { page } = await open('#/search');
  await results(page);
  await page.fill('#trace-id', T.pay.toUpperCase());
  await page.press('#trace-id', 'Enter');
  await page.waitForSelector('#rows[data-ready="true"]');
  assert.equal(new URL(page.url()).hash, '#' + T.pay);
  assert.equal(await page.textContent('#trace-title'), 'checkout: POST /pay');
  assert.deepEqual(await page.$$eval('#rows .row .name', (ns) => ns.map((n) => n.textContent)), ['POST /pay', 'charge card']);
  // Back to the search; a click on a point of the plot opens that trace.
  await page.goBack();
  await results(page);
  await page.click(`#scatter circle[data-trace-id="${T.items}"]`);
  await page.waitForSelector('#rows[data-ready="true"]');
  assert.equal(await page.textContent('#trace-title'), 'catalog: GET /items');
  await page.close();
});

test('a 10,000-span trace renders virtualised rows and scrolls to its last span', async () => {
  const { page } = await open('#' + T.big);
  await page.waitForSelector('#rows[data-ready="true"] .row');
  const first = await page.$$eval('#rows .row .name', (ns) => ns.slice(0, 3).map((n) => n.textContent));
  assert.deepEqual(first, ['big root', 'span 1', 'span 2']);
  const inDom = await page.locator('#rows .row').count();
  assert.ok(inDom > 10 && inDom < 200, `${inDom} rows in the DOM`);
  assert.match(await page.textContent('#trace-meta'), /10000 spans/);
  // The chain is 1,000 deep: the deepest span is in the tree, not cut off.
  await page.$eval('#rows', (r) => (r.scrollTop = 1000 * 24));
  await page.waitForSelector('#rows .row:has(.name:text-is("span 1000"))');
  // Scrolling to the end shows the last span.
  await page.$eval('#rows', (r) => (r.scrollTop = r.scrollHeight));
  await page.waitForSelector('#rows .row:has(.name:text-is("span 9999"))');
  assert.ok(await page.locator('#rows .row').count() < 200);
  // Scrolling by a few rows at a time, down then up, keeps the rows in the DOM in order,
  // consecutive, covering the view, each showing its own span (row i is span i here).
  await page.$eval('#rows', (r) => (r.scrollTop = 0));
  for (const by of [131, 131, 131, 500, -131, -131, -700]) {
    const problem = await page.$eval('#rows', async (r, by) => {
      r.scrollTop += by;
      await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
      const rows = [...r.querySelectorAll('.row')].map((row) => [Number(row.dataset.index), row.querySelector('.name').textContent]);
      const at = rows[0][0];
      if (rows.some(([i, name], k) => i !== at + k || name !== (i ? `span ${i}` : 'big root'))) return `rows ${JSON.stringify(rows)}`;
      if (at * 24 > r.scrollTop || (at + rows.length) * 24 < r.scrollTop + r.clientHeight) return `rows ${at} to ${at + rows.length - 1} at scrollTop ${r.scrollTop}`;
      return null;
    }, by);
    assert.equal(problem, null);
  }
  // Collapsing the root leaves one row.
  await page.$eval('#rows', (r) => (r.scrollTop = 0));
  await page.click('#rows .row >> nth=0 >> .toggle');
  await page.waitForFunction(() => document.querySelectorAll('#rows .row').length === 1);
  await page.close();
});

test('keyboard navigation in the tree', async () => {
  const { page } = await open('#' + T.pay);
  await page.waitForSelector('#rows[data-ready="true"] .row');
  await page.focus('#rows');
  await page.keyboard.press('ArrowDown');
  await page.waitForSelector('#detail h3');
  assert.equal(await page.textContent('#detail h3'), 'POST /pay');
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction(() => document.querySelector('#detail h3')?.textContent === 'charge card');
  await page.keyboard.press('ArrowLeft'); // to the parent
  await page.waitForFunction(() => document.querySelector('#detail h3')?.textContent === 'POST /pay');
  await page.keyboard.press('ArrowLeft'); // collapses it
  await page.waitForFunction(() => document.querySelectorAll('#rows .row').length === 1);
  await page.close();
});

test('the filter inside a trace highlights or hides, by text or key=value', async () => {
  const { page } = await open('#' + T.big);
  await page.waitForSelector('#rows[data-ready="true"] .row');
  const names = () => page.$$eval('#rows .row', (rs) => rs.map((r) => r.querySelector('.name').textContent));
  // Text: spans 999 and 9990 to 9999 match; the others are dimmed.
  await page.fill('#trace-filter', 'span 999');
  await page.waitForFunction(() => /^11 matches/.test(document.getElementById('trace-filter-count').textContent));
  assert.ok((await page.locator('#rows .row.dim').count()) > 10);
  // Enter goes to the first match, expanding and scrolling to it.
  await page.press('#trace-filter', 'Enter');
  await page.waitForFunction(() => document.querySelector('#detail h3')?.textContent === 'span 999');
  // Hiding the others keeps the matches and their ancestors: the root, the chain to 999, and 9990-9999.
  await page.check('#trace-filter-hide');
  await page.waitForFunction(() => /^1010 of/.test(document.getElementById('rows-shown').textContent));
  await page.$eval('#rows', (r) => (r.scrollTop = r.scrollHeight));
  await page.waitForSelector('#rows .row:has(.name:text-is("span 9999"))');
  assert.equal((await names()).at(-1), 'span 9999');
  // key=value matches attributes.
  await page.goto(`${collector.url}/#${T.pay}`);
  await page.waitForSelector('#rows[data-ready="true"] .row');
  await page.fill('#trace-filter', 'http.status_code=500');
  await page.check('#trace-filter-hide');
  await page.waitForFunction(() => document.querySelectorAll('#rows .row').length === 1);
  assert.deepEqual(await names(), ['POST /pay']);
  await page.fill('#trace-filter', '');
  await page.waitForFunction(() => document.querySelectorAll('#rows .row').length === 2);
  await page.close();
});

test('the critical path is highlighted and clock skew marked', async () => {
  const { page } = await open('#' + T.path);
  await page.waitForSelector('#rows[data-ready="true"] .row');
  const rows = await page.$$eval('#rows .row', (rs) => rs.map((r) => [
    r.querySelector('.name').textContent,
    r.classList.contains('critical'),
    r.querySelector('.skew-mark')?.title ?? '',
  ]));
  // From b's end (90): e ends at 90 once clamped to b, so it is on the path, then d
  // (ends 80, before e started at 85); f starts after b ended.
  assert.deepEqual(rows.map(([n, c]) => [n, c]), [['r', true], ['a', false], ['b', true], ['d', true], ['e', true], ['f', false], ['c', false]]);
  assert.match(rows[3][2], /^starts 5\.00 ms before its parent/);
  assert.match(rows[4][2], /^ends 5\.00 ms after its parent \(web\)/);
  assert.deepEqual(rows.filter(([, , s]) => s).map(([n]) => n), ['d', 'e']);
  assert.match(await page.textContent('#trace-meta'), /4 on the critical path · 2 with clock skew/);
  await page.close();
});

test('sessions: a span with session.id links to the traces of its session; attribute values link to searches', async () => {
  const { page } = await open('#' + T.pay);
  await page.waitForSelector('#rows[data-ready="true"] .row');
  await page.click('#rows .row >> nth=0');
  await page.click('#session-link');
  assert.deepEqual(await results(page), ids('pay', 'items'));
  assert.match(decodeURIComponent(page.url()), /#\/search\?attr=session\.id=s-42&limit=100$/);
  // From the catalog span, its region attribute.
  await page.click(`#results tr[data-trace-id="${T.items}"] a`);
  await page.waitForSelector('#rows[data-ready="true"] .row');
  await page.click('#rows .row >> nth=0');
  await page.click('#detail tr:has(th:text-is("region")) a.find');
  assert.deepEqual(await results(page), ids('items'));
  await page.close();
});

test('a span whose parent has not arrived is shown under a marker', async () => {
  const { page } = await open('#' + T.orphan);
  await page.waitForSelector('#rows[data-ready="true"] .row');
  const rows = await page.$$eval('#rows .row', (rs) => rs.map((r) => [r.classList.contains('marker'), r.querySelector('.name').textContent]));
  assert.deepEqual(rows, [
    [false, 'orphan root'],
    [true, '⚠ parent aaaaaaaaaaaaaaaa not received (1 span)'],
    [false, 'lost child'],
  ]);
  await page.close();
});

test('markup in span fields stays text', async () => {
  const { page, dialogs } = await open('#/search?service=' + encodeURIComponent(XSS));
  assert.deepEqual(await results(page), ids('xss'));
  assert.equal(await page.textContent('#results td.name'), XSS);
  await page.click('#results td.name a');
  await page.waitForSelector('#rows[data-ready="true"] .row');
  assert.equal(await page.textContent('#trace-title'), `${XSS}: ${XSS}`);
  await page.click('#rows .row >> nth=0');
  await page.waitForSelector('#detail h3');
  const detail = await page.textContent('#detail');
  for (const text of [XSS, SCRIPT]) assert.ok(detail.includes(text), `${text} shown as text`);
  await page.click('#rows .row >> nth=1');
  await page.waitForFunction((s) => document.querySelector('#detail h3')?.textContent === s, SCRIPT);
  const elements = await page.evaluate(() => ({
    img: document.querySelectorAll('img').length,
    script: document.querySelectorAll('script').length,
    pwned: window.__pwned ?? null,
  }));
  assert.deepEqual(elements, { img: 0, script: 1, pwned: null });
  assert.deepEqual(dialogs, []);
  // The link to another trace navigates.
  await page.click('#rows .row >> nth=0');
  await page.click(`#detail a[href="#${T.pay}"]`);
  await page.waitForFunction(() => document.querySelector('#trace-title')?.textContent === 'checkout: POST /pay');
  await page.close();
});

test('file round trip: a downloaded trace, opened as a file, shows the same spans', async () => {
  const { page } = await open('#' + T.pay);
  await page.waitForSelector('#rows[data-ready="true"] .row');
  const rowsOf = () => page.$$eval('#rows .row', (rs) => rs.map((r) => r.textContent));
  const stored = await rowsOf();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  assert.equal(download.suggestedFilename(), `trace-${T.pay}.json`);
  const text = await readFile(await download.path(), 'utf8');
  const doc = JSON.parse(text);
  assert.equal(doc.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)).length, 2);
  await page.setInputFiles('#open-file', { name: 'pay.json', mimeType: 'application/json', buffer: Buffer.from(text) });
  await page.waitForFunction(() => location.hash === '#/file' && document.querySelector('#rows[data-ready="true"] .row'));
  assert.deepEqual(await rowsOf(), stored);
  assert.match(await page.textContent('#trace-meta'), /file pay\.json \(not stored\)/);
  // A file that is not OTLP JSON is refused with a message.
  await page.setInputFiles('#open-file', { name: 'x.json', mimeType: 'application/json', buffer: Buffer.from('{"a":1}') });
  await page.waitForFunction(() => /x\.json: no resourceSpans/.test(document.getElementById('notice').textContent));
  await page.close();
});

test('a 50,000-span file loads and scrolls to its last span', async () => {
  const traceId = id(16);
  const spanId = (i) => (i + 1).toString(16).padStart(16, '0');
  const spans = [];
  for (let i = 0; i < 50_000; i++) {
    const start = now + BigInt(i) * 1000n;
    spans.push({ traceId, spanId: spanId(i), ...(i ? { parentSpanId: spanId(Math.floor((i - 1) / 4)) } : {}), name: `s${i}`, startTimeUnixNano: String(start), endTimeUnixNano: String(start + 5000n) });
  }
  const doc = { resourceSpans: [{ resource: { attributes: [str('service.name', 'file')] }, scopeSpans: [{ scope: { name: 'f' }, spans }] }] };
  const { page } = await open('#/file');
  await page.setInputFiles('#open-file', { name: 'big.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(doc)) });
  await page.waitForSelector('#rows[data-ready="true"] .row');
  assert.match(await page.textContent('#trace-meta'), /50000 spans/);
  assert.ok(await page.locator('#rows .row').count() < 200);
  await page.$eval('#rows', (r) => (r.scrollTop = r.scrollHeight));
  // Depth-first, children by start (span n has children 4n+1 to 4n+4): the last row is
  // reached by taking the last child from the root down.
  let last = 0;
  while (4 * last + 1 < 50_000) last = Math.min(4 * last + 4, 49_999);
  await page.waitForSelector(`#rows .row:has(.name:text-is("s${last}"))`);
  const rows = await page.$$eval('#rows .row', (rs) => rs.map((r) => r.querySelector('.name').textContent));
  assert.equal(rows.at(-1), `s${last}`);
  await page.close();
});

test('refresh every 5 s shows a trace that arrives later; the title link returns to that search', async () => {
  const { page } = await open('#/search?service=late&refresh=5s');
  assert.deepEqual(await results(page), []);
  assert.equal(await page.isChecked('#q-auto'), true);
  const late = id(16);
  await post('late', [span(late, 'arrived later', { startMs: 1000, durationMs: 3 })]);
  await page.waitForSelector(`#results tr[data-trace-id="${late}"]`, { timeout: 12_000 });
  await page.click(`#results tr[data-trace-id="${late}"] a`);
  await page.waitForSelector('#rows[data-ready="true"] .row');
  await page.click('header h1 a');
  await page.waitForSelector(`#results tr[data-trace-id="${late}"]`);
  assert.match(page.url(), /#\/search\?service=late&refresh=5s$/);
  await page.close();
});

test('a session view shows one session’s page loads, requests, clicks and errors in lanes, each linking to its span', async () => {
  const session = [str('session.id', 'sess-1')];
  const load = id(16);
  const click = id(16);
  const other = id(16);
  const page1 = span(load, 'documentLoad', { startMs: 9000, durationMs: 800, kind: 1, attributes: [str('url.full', 'https://shop.example/'), str('navigation.type', 'navigate')] });
  const items = span(load, 'GET', { startMs: 8500, durationMs: 120, parent: page1.spanId, kind: 3, attributes: [str('http.request.method', 'GET'), str('url.full', 'https://shop.example/api/items')] });
  const clicked = span(click, 'user.click', { startMs: 5000, durationMs: 30, kind: 1, attributes: [str('event.type', 'click'), str('element.tag', 'button')] });
  const failed = span(click, 'exception', { startMs: 4990, durationMs: 0, parent: clicked.spanId, kind: 1, error: true, attributes: [str('error.type', 'javascript')] });
  const lcp = span(load, 'browser.web_vital', {
    startMs: 9000,
    durationMs: 1234,
    parent: page1.spanId,
    kind: 1,
    attributes: [str('browser.web_vital.name', 'lcp'), { key: 'browser.web_vital.value', value: { doubleValue: 1234.5 } }, str('browser.web_vital.rating', 'good'), str('browser.web_vital.target', 'img#hero')],
  });
  await post('shop-web', [
    page1,
    span(load, 'documentFetch', { startMs: 9000, durationMs: 200, parent: page1.spanId, kind: 3, attributes: [str('url.full', 'https://shop.example/')] }),
    items,
    clicked,
    failed,
    lcp,
  ], session);
  // The server's span in the page load's trace is not the session's (no session.id on its service).
  await post('shop-api', [span(load, 'GET /api/items', { startMs: 8490, durationMs: 100, parent: items.spanId, error: true })]);
  await post('shop-web', [span(other, 'user.click', { startMs: 4000, durationMs: 20, kind: 1, attributes: [str('event.type', 'click')] })], [str('session.id', 'sess-2')]);

  // From a span's details to its session.
  let { page } = await open('#' + click);
  await page.waitForSelector('#rows[data-ready="true"] .row');
  await page.click('#rows .row >> nth=0');
  await page.click('#session-view-link');
  await page.waitForSelector('.timeline[data-ready="true"]');
  assert.equal(new URL(page.url()).hash, '#/session/sess-1');
  const lanes = await page.$$eval('.timeline .item', (is) => is.map((i) => [i.dataset.lane, i.textContent, i.getAttribute('href')]).sort());
  assert.deepEqual(lanes, [
    ['error', 'exception', `#${click}?span=${failed.spanId}`],
    ['http', 'GET', `#${load}?span=${items.spanId}`],
    ['interaction', 'user.click', `#${click}?span=${clicked.spanId}`],
    ['page-load', 'documentLoad', `#${load}?span=${page1.spanId}`],
    ['vital', 'browser.web_vital', `#${load}?span=${lcp.spanId}`],
  ]);
  for (const [lane, n] of [['page-load', 1], ['vital', 1], ['navigation', 0], ['interaction', 1], ['http', 1], ['error', 1], ['other', 0]]) {
    assert.equal(await page.locator(`#lane-${lane} .item`).count(), n, lane);
  }
  assert.match(await page.textContent('#session-meta'), /^5 items in 2 traces/);
  // The same items as a table, in time order, with what each was about.
  assert.deepEqual(await page.$$eval('#session-items tbody tr', (rs) => rs.map((r) => [...r.cells].slice(1, 4).map((c) => c.textContent))), [
    ['page load', 'documentLoad', 'https://shop.example/'],
    ['web vital', 'browser.web_vital', 'LCP 1235 ms · good · img#hero'],
    ['request', 'GET', 'https://shop.example/api/items'],
    ['interaction', 'user.click', ''],
    ['error', 'exception', 'javascript · failed'],
  ]);
  // An item opens its trace with its span selected.
  await page.click('#lane-http .item');
  await page.waitForFunction(() => document.querySelector('#detail h3')?.textContent === 'GET');
  assert.equal(new URL(page.url()).hash, `#${load}?span=${items.spanId}`);
  assert.equal(await page.textContent('#rows .row.selected .name'), 'GET');
  await page.goBack();
  await page.waitForSelector('.timeline[data-ready="true"]');
  await page.close();
  // A session without spans says so as text.
  ({ page } = await open('#/session/' + encodeURIComponent(XSS)));
  await page.waitForSelector('#session-status.err');
  assert.match(await page.textContent('#session-status'), /no traces or log records stored for session/);
  await page.close();
});

test('log records: marked on their span, in its details and below the trace; a session’s in their lane, linking to their traces', async () => {
  const trace = id(16);
  const session = [str('session.id', 'sess-logs')];
  const root = span(trace, 'checkout', { startMs: 7000, durationMs: 400, kind: 1 });
  const child = span(trace, 'POST /pay', { startMs: 6900, durationMs: 100, parent: root.spanId, kind: 3 });
  await post('shop-web', [root, child], session);
  const record = (body, severityNumber, severityText, ms, extra = {}) => ({
    timeUnixNano: String(now - BigInt(ms) * MS),
    severityNumber,
    severityText,
    body: { stringValue: body },
    ...extra,
  });
  await postLogs('shop-web', [
    record('app started', 9, 'INFO', 8000),
    record('TypeError: x is undefined', 17, 'ERROR', 6850, { traceId: trace, spanId: child.spanId, attributes: [str('exception.type', 'TypeError')] }),
    record('slow image', 13, 'WARN', 6800, { traceId: trace }),
    record(XSS, 17, SCRIPT, 6700, { traceId: trace, spanId: root.spanId, attributes: [str(XSS, SCRIPT)] }),
  ], session);

  let { page, dialogs } = await open('#' + trace);
  await page.waitForSelector('#rows[data-ready="true"] .row');
  // A mark on each span's row, coloured by severity.
  const marks = await page.$$eval('#rows .row', (rs) => rs.map((r) => [r.querySelector('.name').textContent, [...r.querySelectorAll('.log-mark')].map((m) => m.className)]));
  assert.deepEqual(marks, [['checkout', ['log-mark sev-error']], ['POST /pay', ['log-mark sev-error']]]);
  assert.match(await page.textContent('#trace-meta'), /3 log records/);
  // The trace's records below the waterfall, by time, with their spans (none for one).
  const listed = await page.$$eval('#trace-log-table tbody tr.log-row', (rs) => rs.map((r) => [1, 3, 4].map((i) => r.cells[i].textContent)));
  assert.deepEqual(listed, [
    ['ERROR', 'TypeError: x is undefined', 'POST /pay'],
    ['WARN', 'slow image', ''],
    [SCRIPT, XSS, 'checkout'],
  ]);
  // A record's span is selected from the list, and its details list its records.
  await page.click('#trace-log-table button:text-is("POST /pay")');
  await page.waitForFunction(() => document.querySelector('#detail h3')?.textContent === 'POST /pay');
  assert.deepEqual(await page.$$eval('#span-logs tr.log-row td.log-body', (cs) => cs.map((c) => c.textContent)), ['TypeError: x is undefined']);
  await page.click('#span-logs tr.log-row');
  assert.match(await page.textContent('#span-logs tr.log-more'), /exception\.typeTypeError/);
  // Markup in a record stays text.
  await page.click('#trace-log-table tr.log-row >> nth=2');
  assert.equal(await page.evaluate(() => window.__pwned ?? null), null);
  assert.deepEqual(dialogs, []);
  await page.close();

  // The session: a lane of its records (those without a trace too), each linking to its
  // trace (at its span), and their table.
  ({ page } = await open('#/session/sess-logs'));
  await page.waitForSelector('.timeline[data-ready="true"]');
  const lane = await page.$$eval('#lane-logs .log-mark', (ms) => ms.map((m) => [m.tagName, m.getAttribute('href'), m.classList.contains('sev-error')]));
  assert.deepEqual(lane, [
    ['SPAN', null, false],
    ['A', `#${trace}?span=${child.spanId}`, true],
    ['A', `#${trace}`, false],
    ['A', `#${trace}?span=${root.spanId}`, true],
  ]);
  assert.match(await page.textContent('#session-meta'), /4 log records/);
  const table = await page.$$eval('#session-log-table tbody tr.log-row', (rs) => rs.map((r) => [r.cells[3].textContent, r.querySelector('a')?.getAttribute('href') ?? '']));
  assert.deepEqual(table, [
    ['app started', ''],
    ['TypeError: x is undefined', `#${trace}?span=${child.spanId}`],
    ['slow image', `#${trace}`],
    [XSS, `#${trace}?span=${root.spanId}`],
  ]);
  await page.click('#lane-logs a.log-mark >> nth=0');
  await page.waitForFunction(() => document.querySelector('#detail h3')?.textContent === 'POST /pay');
  await page.close();
});

test('the log view lists the most recent records by service, severity and text, newest first, and pages back', async () => {
  const trace = id(16);
  const record = (body, severityNumber, ms, extra = {}) => ({ timeUnixNano: String(now - BigInt(ms) * MS), severityNumber, body: { stringValue: body }, ...extra });
  await postLogs('log-view', [
    record('first error', 17, 5000, { traceId: trace }),
    record('a warning', 13, 4000),
    record('second error', 17, 3000),
    record('debug noise', 5, 2000),
  ]);
  const { page } = await open('#/search');
  await page.click('#logs-link');
  await page.waitForSelector('#log-search');
  await page.fill('#l-service', 'log-view');
  await page.selectOption('#l-severity', 'warn');
  await page.click('#l-submit');
  const bodies = () => page.$$eval('#log-table tr.log-row td.log-body', (cs) => cs.map((c) => c.textContent));
  await page.waitForFunction(() => document.querySelectorAll('#log-table tr.log-row').length === 3);
  assert.deepEqual(await bodies(), ['second error', 'a warning', 'first error']);
  assert.match(page.url(), /#\/logs\?service=log-view&minSeverity=warn$/);
  assert.equal(await page.getAttribute('#log-table tr.log-row >> nth=2 >> a', 'href'), `#${trace}`);
  await page.fill('#l-text', 'ERROR');
  await page.click('#l-submit');
  await page.waitForFunction(() => document.querySelectorAll('#log-table tr.log-row').length === 2);
  assert.deepEqual(await bodies(), ['second error', 'first error']);
  // One at a time: the newest, then older ones.
  await page.goto(`${collector.url}/#/logs?service=log-view&limit=1`);
  await page.waitForFunction(() => document.querySelector('#log-table td.log-body')?.textContent === 'debug noise');
  await page.click('#l-older');
  await page.waitForFunction(() => document.querySelector('#log-table td.log-body')?.textContent === 'second error');
  await page.close();
});

test('clock skew: marked by default; adjusted, a skewed span moves into its parent with its subtree', async () => {
  const skewed = id(16);
  // R (web) 0-100 ms; S (api) starts 10 ms before R and lasts 60 ms, with its child Q;
  // L (api) is longer than R, so it cannot be moved.
  const R = span(skewed, 'R', { startMs: 50_000, durationMs: 100 });
  const at = (name, from, to, parent) => span(skewed, name, { startMs: 50_000 - from, durationMs: to - from, parent });
  const S = at('S', -10, 50, R.spanId);
  await post('web', [R]);
  await post('api', [S, at('Q', -5, 15, S.spanId), at('L', -20, 110, R.spanId)]);
  const { page } = await open('#' + skewed);
  await page.waitForSelector('#rows[data-ready="true"] .row');
  const state = () => page.$$eval('#rows .row', (rs) => Object.fromEntries(rs.map((r) => {
    const bar = r.querySelector('.bar').getBoundingClientRect();
    return [r.querySelector('.name').textContent, { left: bar.left, right: bar.right, mark: r.querySelector('.skew-mark')?.textContent ?? '' }];
  })));
  const before = await state();
  assert.deepEqual(Object.entries(before).map(([n, s]) => [n, s.mark]), [['R', ''], ['L', '⏱ skew'], ['S', '⏱ skew'], ['Q', '']]);
  assert.ok(before.S.left < before.R.left);
  await page.check('#skew-adjust');
  await page.waitForFunction(() => /skew=adjust/.test(location.hash));
  const after = await state();
  assert.deepEqual(Object.entries(after).map(([n, s]) => [n, s.mark]), [['R', ''], ['L', '⏱ skew'], ['S', '⏱ moved'], ['Q', '']]);
  // S is centred in R (20 to 80 ms of 0 to 100), and Q moved by as much.
  const width = before.R.right - before.R.left;
  assert.ok(Math.abs(after.S.left - (after.R.left + 0.2 * width)) < 1.5, JSON.stringify(after));
  assert.ok(Math.abs(after.S.right - (after.R.left + 0.8 * width)) < 1.5, JSON.stringify(after));
  assert.ok(Math.abs((after.Q.left - before.Q.left) - (after.S.left - before.S.left)) < 1);
  assert.deepEqual([after.L.left, after.L.right], [before.L.left, before.L.right]);
  // The details say how far each moved.
  await page.click('#rows .row:has(.name:text-is("S"))');
  assert.equal(await page.textContent('#detail tr:has(th:text-is("clock skew adjustment")) td'), 'shown 30.0 ms later, in the middle of its parent');
  await page.click('#rows .row:has(.name:text-is("Q"))');
  assert.equal(await page.textContent('#detail tr:has(th:text-is("clock skew adjustment")) td'), 'shown 30.0 ms later, moved with its ancestor');
  assert.match(await page.textContent('#trace-meta'), /1 with clock skew · 1 moved for clock skew/);
  // Back, past the two selections and the adjustment, to the trace as received.
  for (let i = 0; i < 3; i++) await page.goBack();
  await page.waitForFunction(() => !/skew=adjust/.test(location.hash) && !document.getElementById('skew-adjust').checked);
  assert.deepEqual(await state(), before);
  await page.close();
});

test('a trace view has a URL: selected span, filter and hiding restored on load, back and forward', async () => {
  const spanId = (i) => (i + 1).toString(16).padStart(16, '0');
  let { page } = await open(`#${T.big}?span=${spanId(999)}&filter=span+999&hide=1`);
  await page.waitForSelector('#rows[data-ready="true"] .row');
  assert.equal(await page.textContent('#detail h3'), 'span 999');
  assert.equal(await page.textContent('#rows .row.selected .name'), 'span 999');
  assert.equal(await page.inputValue('#trace-filter'), 'span 999');
  assert.equal(await page.isChecked('#trace-filter-hide'), true);
  assert.match(await page.textContent('#rows-shown'), /^1010 of/);
  await page.close();

  ({ page } = await open('#' + T.pay));
  await page.waitForSelector('#rows[data-ready="true"] .row');
  const selected = () => page.$eval('#detail', (d) => d.querySelector('h3')?.textContent ?? null);
  const hash = () => page.evaluate(() => location.hash);
  await page.click('#rows .row >> nth=0');
  const first = await hash();
  assert.match(first, new RegExp(`^#${T.pay}\\?span=[0-9a-f]{16}$`));
  await page.click('#rows .row >> nth=1');
  await page.waitForFunction(() => document.querySelector('#detail h3')?.textContent === 'charge card');
  await page.fill('#trace-filter', 'charge');
  await page.waitForFunction(() => /filter=charge/.test(location.hash));
  await page.goBack();
  await page.waitForFunction(() => document.querySelector('#detail h3')?.textContent === 'POST /pay');
  assert.equal(await hash(), first);
  assert.equal(await page.inputValue('#trace-filter'), '');
  await page.goBack();
  await page.waitForFunction(() => !document.querySelector('#detail h3'));
  assert.equal(await hash(), '#' + T.pay);
  await page.goForward();
  await page.waitForFunction(() => document.querySelector('#detail h3')?.textContent === 'POST /pay');
  assert.equal(await selected(), 'POST /pay');
  await page.close();
});

test('duration labels stay in the waterfall, beside or inside their bars', async () => {
  for (const trace of [T.big, T.path, T.pay]) {
    const { page } = await open('#' + trace);
    await page.waitForSelector('#rows[data-ready="true"] .row');
    const outside = await page.$$eval('#rows .row', (rs) => rs.flatMap((r) => {
      const dur = r.querySelector('.dur')?.getBoundingClientRect();
      const name = r.querySelector('.label').getBoundingClientRect();
      const row = r.getBoundingClientRect();
      return dur && (dur.left < name.right || dur.right > row.right) ? [r.querySelector('.name').textContent] : [];
    }));
    assert.deepEqual(outside, [], `labels outside the waterfall in trace ${trace}`);
    await page.close();
  }
});

test('no page errors or CSP violations in any test', () => {
  assert.deepEqual(problems, []);
});
