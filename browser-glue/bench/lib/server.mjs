// A tiny static server on 127.0.0.1 for the benchmark pages.
//
// Every response carries COOP/COEP (the page is cross-origin isolated, so performance.now()
// has 5 µs resolution) and `no-store` (every page load fetches and compiles afresh).
// POST /v1/traces answers 200 `{}` like an OTLP/HTTP receiver and discards the body.
// Files are read into memory at start, so a response costs no disk read.
import { createServer } from 'node:http';
import { readFile, readdir } from 'node:fs/promises';
import { once } from 'node:events';
import { extname, join, relative, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** Serves the files under `root` on an ephemeral port; returns `{ origin, close }`. */
export async function startServer(root) {
  const files = await readTree(root);
  const server = createServer((req, res) => {
    handle(files, req, res).catch(() => {
      res.writeHead(500, ISOLATION);
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Every file under `root`, by URL path (`/init/ours.js`). */
async function readTree(root) {
  const files = new Map();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath ?? entry.path, entry.name);
    files.set(`/${relative(root, path).split(sep).join('/')}`, await readFile(path));
  }
  return files;
}

async function handle(files, req, res) {
  const path = new URL(req.url, 'http://x').pathname;
  if (req.method === 'POST' && path === '/v1/traces') {
    for await (const _chunk of req); // drain and drop
    res.writeHead(200, { ...ISOLATION, 'content-type': 'application/json' });
    res.end('{}');
    return;
  }
  const key = path.endsWith('/') ? `${path}index.html` : path;
  const body = req.method === 'GET' ? files.get(key) : undefined;
  res.writeHead(body ? 200 : 404, { ...ISOLATION, 'content-type': TYPES[extname(key)] ?? 'application/octet-stream' });
  res.end(body);
}
