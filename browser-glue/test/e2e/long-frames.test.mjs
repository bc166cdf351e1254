// Long animation frames as spans under the interaction they delayed, naming its script.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';

let stack;
before(async () => (stack = await startStack()), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

test('a click handler that blocks for 200 ms gives a long animation frame under the click, naming the handler', { timeout: 60_000 }, async () => {
  const { page } = await stack.open();
  await page.evaluate(() => {
    const button = document.createElement('button');
    button.id = 'blocking';
    button.textContent = 'blocking';
    button.addEventListener('click', function blockFor200ms() {
      const until = performance.now() + 200;
      while (performance.now() < until);
    });
    document.body.prepend(button);
  });
  await page.click('#blocking');
  await page.waitForTimeout(300); // the frame's paint, then the observer's report
  await page.evaluate(() => window.demo.api.flush());
  const [click, frame] = await stack.api.waitFor((spans) => {
    const click = spans.find((s) => s.name === 'user.click' && s.attrs['element.id'] === 'blocking');
    const frame = click && spans.find((s) => s.name === 'longAnimationFrame' && s.parentSpanId === click.spanId);
    return frame && [click, frame];
  }, { what: 'a long animation frame under the click' });
  assert.equal(frame.traceId, click.traceId);
  assert.ok(frame.attrs['browser.frame.blocking_duration'] >= 100, JSON.stringify(frame.attrs));
  assert.match(frame.attrs['browser.script.invoker'], /click/i);
  assert.ok(frame.attrs['browser.script.duration'] >= 190, JSON.stringify(frame.attrs));
  assert.ok(frame.events.some((e) => e.name === 'script' && /click/i.test(e.attrs['browser.script.invoker'])));
});
