// Fail-open in Node, against the real component and real HTTP servers: whatever tracing
// does, fetch behaves as the original does; a component trap turns tracing off with one
// warning; odd strings never corrupt a batch; flush() sends everything even while the
// transport is busy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSdk, fetchInstrumentation } from '../../dist/index.js';
import { createSdk as createCoreSdk } from '../../dist/core.js';
import { loadCoreModule, startSink } from './support.mjs';
import { trappingCore } from '../trap.mjs';

/** Collects console.warn calls while `fn` runs. */
async function capturingWarnings(fn) {
  const warnings = [];
  const warn = console.warn;
  console.warn = (...args) => warnings.push(args);
  try {
    await fn(warnings);
  } finally {
    console.warn = warn;
  }
}

/** The outcome of a call: its value or its error, for comparing two calls. */
async function outcome(call) {
  try {
    const response = await call();
    return { ok: true, status: response.status, body: await response.text() };
  } catch (error) {
    return { ok: false, name: error.name, message: error.message, cause: error.cause?.code };
  }
}

for (const func of ['pipeline#force-flush', 'recorder#reserve-roots']) {
  test(`a trap in ${func} turns tracing off with one warning; fetch goes on unchanged`, async () => {
    const collector = await startSink();
    const backend = await startSink();
    const bytes = trappingCore(func);
    const sdk = await createSdk({
      endpoint: collector.url,
      serviceName: 'trap',
      flushOnHide: false,
      propagateTraceHeaderCorsUrls: [backend.url],
      loadCoreModule: async (file) => (file === 'tracing.core.wasm' ? WebAssembly.compile(bytes) : loadCoreModule(file)),
    });
    try {
      await capturingWarnings(async (warnings) => {
        sdk.tracer.startSpan('before').end();
        const first = await fetch(`${backend.url}/one`, { method: 'POST', body: 'x' });
        assert.equal(first.status, 200);
        assert.equal(await first.text(), '{}');
        sdk.flush();
        assert.equal(warnings.length, 1, 'one warning');
        assert.match(String(warnings[0][0]), /tracing is off/);
        assert.ok(warnings[0][1] instanceof WebAssembly.RuntimeError, 'a real trap');
        // Tracing is off: spans are inert, requests go out untouched, nothing throws.
        const span = sdk.tracer.startSpan('after');
        assert.equal(span.isRecording(), false);
        span.setAttribute('k', 'v').end();
        const second = await fetch(`${backend.url}/two`);
        assert.equal(second.status, 200);
        assert.equal(backend.requests.at(-1).headers.traceparent, undefined, 'no header from a dead tracer');
        sdk.flush();
        assert.equal(sdk.stats().tracingOff, 1n);
        assert.equal(warnings.length, 1, 'still one warning');
      });
    } finally {
      sdk.shutdown();
      await Promise.all([collector.close(), backend.close()]);
    }
  });
}

test('a trap while a response is being recorded leaves the response as it is', async () => {
  const collector = await startSink();
  const backend = await startSink();
  // apply() works for the configuration and the HTTP scope, then traps: at the span's end,
  // inside the wrapper's handling of the response.
  const bytes = trappingCore('recorder#apply', { after: 2 });
  const sdk = await createCoreSdk({
    endpoint: collector.url,
    serviceName: 'trap-at-end',
    flushOnHide: false,
    instrumentations: [fetchInstrumentation()],
    loadCoreModule: async (file) => (file === 'tracing.core.wasm' ? WebAssembly.compile(bytes) : loadCoreModule(file)),
  });
  try {
    await capturingWarnings(async (warnings) => {
      const response = await fetch(`${backend.url}/ok`);
      assert.equal(response.status, 200);
      assert.equal(await response.text(), '{}');
      await assert.rejects(fetch('http://127.0.0.1:1/closed'), (error) => error instanceof TypeError && error.message === 'fetch failed');
      assert.equal(warnings.length, 1);
      assert.equal(sdk.stats().tracingOff, 1n);
    });
  } finally {
    sdk.shutdown();
    await Promise.all([collector.close(), backend.close()]);
  }
});

test('fetch with odd input behaves exactly as the original fetch', async () => {
  const native = globalThis.fetch;
  const collector = await startSink();
  const backend = await startSink();
  const sdk = await createSdk({ endpoint: collector.url, serviceName: 'odd', flushOnHide: false, loadCoreModule, propagateTraceHeaderCorsUrls: [backend.url] });
  try {
    assert.notEqual(globalThis.fetch, native, 'fetch is wrapped');
    const cases = [
      ['an invalid header value', `${backend.url}/h`, { headers: { 'x-bad': 'a\nb' } }],
      ['a numeric method', `${backend.url}/m`, { method: 123 }],
      ['a forbidden method', `${backend.url}/m`, { method: 'CONNECT' }],
      ['an unreachable port', 'http://127.0.0.1:1/closed', undefined],
      ['credentials in the URL', `http://user:pw@127.0.0.1:1/x`, undefined],
      ['not a URL', 'http://[bad', undefined],
    ];
    for (const [what, url, init] of cases) {
      let pending;
      assert.doesNotThrow(() => (pending = fetch(url, init)), `${what}: no synchronous throw`);
      const traced = await outcome(() => pending);
      const original = await outcome(() => native(url, init));
      assert.deepEqual(traced, original, what);
    }
    sdk.flush();
    await collector.waitFor(1);
    const names = collector.spans().map((s) => s.name);
    assert.ok(names.includes('_OTHER'), `a method outside the conventions is named _OTHER (${names})`);
    assert.equal(sdk.stats().tracingOff, 0n);
  } finally {
    sdk.shutdown();
    await Promise.all([collector.close(), backend.close()]);
  }
});

test('recorded URLs lose credentials and signatures, then pass through sanitizeUrl', async () => {
  const collector = await startSink();
  const backend = await startSink();
  const sanitizeUrl = (url) => url.origin + url.pathname.replace(/\/\d+/g, '/{id}');
  for (const [options, path, expected] of [
    [{}, '/orders/42?sig=abc&q=1', '/orders/42?sig=REDACTED&q=1'],
    [{ sanitizeUrl }, '/orders/42?q=1', '/orders/{id}'],
  ]) {
    const sdk = await createSdk({ endpoint: collector.url, serviceName: 'urls', flushOnHide: false, loadCoreModule, ...options });
    const before = collector.spans().length;
    await fetch(`${backend.url}${path}`);
    // Node's fetch refuses URLs with credentials (as browsers' fetch does); the span records them redacted.
    await fetch(backend.url.replace('http://', 'http://alice:secret@') + '/private').catch(() => {});
    sdk.flush();
    await collector.waitFor(collector.requests.length + 1);
    const urls = collector.spans().slice(before).map((s) => s.attributes.find((a) => a.key === 'url.full').value.stringValue);
    assert.equal(urls[0], `${backend.url}${expected}`);
    assert.ok(!urls[1].includes('alice') && !urls[1].includes('secret'), urls[1]);
    sdk.shutdown();
  }
  await Promise.all([collector.close(), backend.close()]);
});

test('strings with lone surrogates or of other types never corrupt the batch', async () => {
  const sink = await startSink();
  const sdk = await createSdk({ endpoint: sink.url, serviceName: 'strings', flushOnHide: false, loadCoreModule });
  try {
    const [high, low] = ['😀'.charAt(0), '😀'.charAt(1)];
    sdk.tracer.startSpan(`ends with a half ${high}`).end();
    sdk.tracer.startSpan(`${low} begins with the other half`).setAttribute(`k${high}`, `${low}v`).end();
    sdk.tracer.startSpan(123).setAttribute('whole', '😀').end();
    sdk.tracer.startSpan({ toString() { throw new Error('no'); } }).end();
    sdk.flush();
    await sink.waitFor(1);
    const spans = sink.spans();
    assert.deepEqual(
      spans.map((s) => s.name),
      ['ends with a half \uFFFD', '\uFFFD begins with the other half', '123', ''],
    );
    assert.deepEqual(spans[1].attributes, [{ key: 'k\uFFFD', value: { stringValue: '\uFFFDv' } }]);
    assert.deepEqual(spans[2].attributes, [{ key: 'whole', value: { stringValue: '😀' } }]);
    assert.equal(sdk.stats().rejectedOperations, 0n);
  } finally {
    sdk.shutdown();
    await sink.close();
  }
});

test('flush() exports everything even while every request slot is taken', async () => {
  const sink = await startSink();
  // A 60 s delay: nothing but the flush can send the last partial batch in time.
  const sdk = await createSdk({ endpoint: sink.url, serviceName: 'busy', flushOnHide: false, loadCoreModule, batch: { size: 100, maxQueueSize: 5000, delayMs: 60_000 } });
  try {
    for (let i = 0; i < 1050; i++) sdk.tracer.startSpan(`s${i}`).end();
    // 10 full batches went out as they filled, the transport took 8 at once: 2 batches and
    // a partial one of 50 wait when flush() is called.
    sdk.flush();
    const deadline = Date.now() + 10_000;
    while (sink.spans().length < 1050 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(sink.spans().length, 1050);
    assert.equal(new Set(sink.spans().map((s) => s.name)).size, 1050, 'each span once');
  } finally {
    sdk.shutdown();
    await sink.close();
  }
});
