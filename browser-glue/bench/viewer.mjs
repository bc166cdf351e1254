// The collector's trace viewer with large traces, in headless Chromium against the real
// collector: time from navigation to the span tree on screen, and frame times while the
// tree is scrolled through.
//
//   just bench-viewer            (builds the collector, then runs this)
//   COLLECTOR_BIN=... node bench/viewer.mjs [--runs 5] [--sizes 10000,50000]
//
// Each trace is generated with a fixed seed (lib/big-trace.mjs), posted as OTLP JSON. The
// API returns a trace's first 10,000 spans (query::MAX_TRACE_SPANS), so a larger trace is
// also opened as a file (#/file), the page's path for a whole trace.
//
// "on screen" is the first animation frame after the rows are in the DOM, measured from
// navigation start (page load, the API's answer, parsing, the tree, the first rows); for a
// file, from its input's change event (reading, parsing, the tree, the first rows).
// "scroll" moves the tree from top to bottom in 500 animation frames (at least 10 rows a
// frame) and reports the intervals between frames.
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_BIN } from '../tools/chromium.mjs';
import { startCollector } from '../test/e2e/harness.mjs';
import { median, table } from './lib/stats.mjs';
import { bigTrace } from './lib/big-trace.mjs';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '10000,50000' },
  },
});
const RUNS = Number(args.runs);
const SIZES = args.sizes.split(',').map(Number);

/** Posts `doc` in requests of at most 2,000 spans. */
async function post(url, doc) {
  for (const rs of doc.resourceSpans) {
    const spans = rs.scopeSpans[0].spans;
    for (let i = 0; i < spans.length; i += 2000) {
      const body = { resourceSpans: [{ ...rs, scopeSpans: [{ ...rs.scopeSpans[0], spans: spans.slice(i, i + 2000) }] }] };
      const response = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!response.ok) throw new Error(`POST /v1/traces: ${response.status} ${await response.text()}`);
    }
  }
}

/** In the page, before its scripts: when a file was picked, and the first frame after the rows are ready. */
function watchPaint() {
  addEventListener('change', (event) => {
    if (event.target.id === 'open-file') window.__picked = performance.now();
  }, true);
  new MutationObserver((_, observer) => {
    if (document.querySelector('#rows[data-ready="true"] .row')) {
      observer.disconnect();
      requestAnimationFrame(() => (window.__painted = performance.now()));
    }
  }).observe(document, { subtree: true, childList: true, attributes: true });
}

/** In the page: scrolls the tree from top to bottom in 500 frames (at least 10 rows a frame); returns the frame intervals (ms). */
async function scrollThrough() {
  const rows = document.getElementById('rows');
  const step = Math.max(240, rows.scrollHeight / 500);
  const frames = [];
  let last = await new Promise((ok) => requestAnimationFrame(ok));
  while (rows.scrollTop + rows.clientHeight < rows.scrollHeight - 1) {
    rows.scrollTop += step;
    const now = await new Promise((ok) => requestAnimationFrame(ok));
    frames.push(now - last);
    last = now;
  }
  return frames;
}

const pct = (values, p) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (v) => `${Math.round(v)} ms`;

async function main() {
  const collector = await startCollector();
  const browser = await chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: CHROMIUM_ARGS });
  const rows = [['trace', 'opened as', 'spans shown', 'on screen', 'answer received', 'then in the page', 'scroll frames p50 / p95 / max', 'frames']];
  try {
    for (const size of SIZES) {
      const { traceId, doc } = bigTrace(size);
      await post(collector.url, doc);
      for (let tries = 0; ; tries++) {
        const listed = await fetch(`${collector.url}/api/traces?attr=session.id%3Dbench-session&limit=10`).then((r) => r.json());
        if (listed.traces.find((t) => t.traceId === traceId)?.spanCount === size) break;
        if (tries > 200) throw new Error(`the ${size}-span trace was not stored`);
        await new Promise((r) => setTimeout(r, 100));
      }
      for (const via of ['API', 'file']) {
        const onScreen = [];
        const answers = [];
        const inPage = [];
        let frames = [];
        let shown = '';
        for (let run = 0; run < RUNS; run++) {
          const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
          await page.addInitScript(watchPaint);
          if (via === 'API') {
            await page.goto(`${collector.url}/#${traceId}`);
            await page.waitForFunction(() => window.__painted, null, { timeout: 60_000 });
            const [painted, answered] = await page.evaluate((id) => [
              window.__painted,
              performance.getEntriesByType('resource').find((e) => e.name.endsWith(`/api/traces/${id}`)).responseEnd,
            ], traceId);
            onScreen.push(painted);
            answers.push(answered);
            inPage.push(painted - answered);
          } else {
            await page.goto(`${collector.url}/#/file`);
            await page.waitForSelector('#open-file', { state: 'attached' });
            await page.setInputFiles('#open-file', { name: 'big.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(doc)) });
            await page.waitForFunction(() => window.__painted, null, { timeout: 60_000 });
            onScreen.push(await page.evaluate(() => window.__painted - window.__picked));
          }
          shown = (await page.textContent('#trace-meta')).match(/(the first \d+ of \d+|\d+) spans/)[1];
          frames = frames.concat(await page.evaluate(scrollThrough));
          await page.close();
        }
        rows.push([
          `${size.toLocaleString('en')} spans`,
          via === 'API' ? '/#<traceId>' : '#/file',
          shown,
          ms(median(onScreen)),
          via === 'API' ? ms(median(answers)) : '',
          via === 'API' ? ms(median(inPage)) : '',
          `${pct(frames, 50).toFixed(1)} / ${pct(frames, 95).toFixed(1)} / ${Math.max(...frames).toFixed(1)} ms`,
          frames.length,
        ]);
      }
    }
  } finally {
    await browser.close();
    await collector.stop();
  }
  console.log(`viewer benchmark, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} CPUs, headless Chromium at 1280x800; medians of ${RUNS} runs,`);
  console.log('times from navigation start (for a file, from picking it); frame intervals of all runs');
  console.log(table(rows));
}

await main();
