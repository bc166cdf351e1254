// The fetch instrumentation in Node against real HTTP servers: spans, status, propagation rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSdk } from '../../dist/index.js';
import { loadCoreModule, startSink } from './support.mjs';

test('fetch gets a client span; traceparent goes only to allowed URLs; the exporter is not traced', async () => {
  const collector = await startSink();
  const allowed = await startSink([[503, {}]]);
  const other = await startSink();
  const sdk = await createSdk({
    endpoint: collector.url,
    serviceName: 'fetch-test',
    loadCoreModule,
    flushOnHide: false,
    propagateTraceHeaderCorsUrls: [allowed.url],
  });
  try {
    const response = await fetch(`${allowed.url}/api?q=1`, { method: 'post', body: 'x' });
    assert.equal(response.status, 503);
    await fetch(`${other.url}/elsewhere`);
    sdk.flush();
    await collector.waitFor(1);
    const spans = collector.spans();
    assert.equal(spans.length, 2, 'two client spans, none for the export itself');
    const [toAllowed, toOther] = spans;
    const traceparent = allowed.requests[0].headers.traceparent;
    assert.match(traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(traceparent, `00-${toAllowed.traceId}-${toAllowed.spanId}-01`, 'the header names the client span');
    assert.equal(other.requests[0].headers.traceparent, undefined, 'no header for a URL off the list');
    assert.equal(toAllowed.name, 'POST');
    assert.equal(toAllowed.kind, 3);
    const attrs = Object.fromEntries(toAllowed.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
    assert.equal(attrs['http.request.method'], 'POST');
    assert.equal(attrs['url.full'], `${allowed.url}/api?q=1`);
    assert.equal(attrs['server.address'], '127.0.0.1');
    assert.equal(attrs['http.response.status_code'], '503');
    assert.equal(attrs['error.type'], '503');
    assert.equal(toAllowed.status.code, 2);
    assert.equal(toOther.status, undefined);
  } finally {
    sdk.shutdown();
    await Promise.all([collector.close(), allowed.close(), other.close()]);
  }
});

test('a failed fetch ends its span with the error and rethrows', async () => {
  const collector = await startSink();
  const sdk = await createSdk({ endpoint: collector.url, serviceName: 'fetch-test', loadCoreModule, flushOnHide: false });
  try {
    await assert.rejects(fetch('http://127.0.0.1:1/unreachable'));
    sdk.flush();
    await collector.waitFor(1);
    const [span] = collector.spans();
    assert.equal(span.status.code, 2);
    assert.equal(span.events[0].name, 'exception');
  } finally {
    sdk.shutdown();
    await collector.close();
  }
});
