// Shared by the Node tests: a real OTLP/HTTP sink on loopback and an SDK wired to it.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { gunzipSync } from 'node:zlib';

const dist = new URL('../../dist/', import.meta.url);

/** Compiles the component's core modules from dist/ (Node has no fetch for file URLs). */
export const loadCoreModule = async (file) => WebAssembly.compile(await readFile(new URL(file, dist)));

/**
 * An HTTP server on 127.0.0.1 that records every POST body as JSON (gunzipped first when it
 * came gzipped; `bytes` is its size as sent, `jsonBytes` its JSON's) and answers with the statuses given in
 * `script` (then 200).
 */
export async function startSink(script = []) {
  const requests = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const sent = Buffer.concat(chunks);
    const raw = req.headers['content-encoding'] === 'gzip' ? gunzipSync(sent) : sent;
    const body = raw.toString('utf8');
    const json = req.headers['content-type']?.includes('json');
    requests.push({ method: req.method, url: req.url, headers: req.headers, bytes: sent.length, jsonBytes: raw.length, body: json && body ? JSON.parse(body) : body });
    const [status, headers] = script.shift() ?? [200, {}];
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Every span received so far. */
    spans: () => requests.flatMap((r) => r.body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans))),
    /** Resolves once `count` requests arrived. */
    async waitFor(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} requests, got ${requests.length}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    close: () => new Promise((r) => server.close(r)),
  };
}
