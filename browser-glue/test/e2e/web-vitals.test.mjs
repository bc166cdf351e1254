// Web vitals with attribution, on a demo page that shifts and answers a click slowly:
// recorded once, when the page is hidden, in the page view's trace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';

let stack;
before(async () => (stack = await startStack()), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('LCP, CLS, INP, FCP and TTFB are recorded with attribution when the page is hidden', { timeout: 60_000 }, async () => {
  const { page, server } = await stack.open();
  // A late banner pushes the page down (a layout shift with no input before it).
  await page.evaluate(() => {
    const banner = document.createElement('div');
    banner.id = 'late-banner';
    banner.style.height = '300px';
    document.body.prepend(banner);
  });
  await sleep(600);
  // A button whose click handler blocks the main thread for 250 ms.
  await page.evaluate(() => {
    const button = document.createElement('button');
    button.id = 'slow';
    button.textContent = 'slow';
    button.addEventListener('click', () => {
      const until = performance.now() + 250;
      while (performance.now() < until);
    });
    document.body.prepend(button);
  });
  await page.click('#slow');
  await sleep(500); // the next paint, and the Event Timing entry
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  const vitals = await stack.api.waitFor(
    (spans) => {
      const found = spans.filter((s) => s.name === 'browser.web_vital');
      return found.length >= 5 && Object.fromEntries(found.map((s) => [s.attrs['browser.web_vital.name'], s]));
    },
    { traceId: server.traceId, what: 'five web vitals in the page view trace' },
  );
  const a = (name) => Object.fromEntries(Object.entries(vitals[name].attrs).filter(([k]) => k.startsWith('browser.web_vital.')).map(([k, v]) => [k.slice(18), v]));
  assert.deepEqual(Object.keys(vitals).sort(), ['cls', 'fcp', 'inp', 'lcp', 'ttfb']);
  const spans = await stack.api.trace(server.traceId);
  const load = spans.find((s) => s.name === 'documentLoad');
  for (const vital of Object.values(vitals)) assert.equal(vital.parentSpanId, load.spanId, 'under the page view span');

  const inp = a('inp');
  assert.ok(inp.value >= 250, `INP ${inp.value}`);
  assert.equal(inp.rating, 'needs-improvement');
  assert.equal(inp.target, 'button#slow');
  assert.equal(inp.interaction_type, 'pointer');
  assert.ok(inp.processing_duration >= 245, `processing ${inp.processing_duration}`);
  assert.ok(inp.input_delay >= 0 && inp.presentation_delay >= 0);
  assert.ok(Math.abs(inp.input_delay + inp.processing_duration + inp.presentation_delay - inp.value) < 9, 'the three parts make up INP (durations are rounded to 8 ms)');
  assert.ok(inp.long_animation_frames >= 1, 'the long animation frame it caused');
  assert.match(String(inp.longest_script), /click/i);

  const cls = a('cls');
  assert.ok(cls.value > 0, `CLS ${cls.value}`);
  assert.ok(cls.target, 'the element that moved');
  const lcp = a('lcp');
  assert.ok(lcp.value > 0 && lcp.target, JSON.stringify(lcp));
  assert.ok(a('fcp').value > 0);
  assert.ok(a('ttfb').value >= 0);
  assert.equal(a('ttfb').rating, 'good');
});
