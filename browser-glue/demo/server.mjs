#!/usr/bin/env node
// The demo shop's backend: node:http only, no framework.
//
//   node demo/server.mjs --collector http://127.0.0.1:4318 [--port 8080] [--cross-port 8081] [--host 127.0.0.1] [--dist DIR]
//
// The main origin serves the page (with a server span context in <meta name="traceparent">
// and the demo's settings in window.DEMO_CONFIG), the demo's scripts, the built SDK from
// ../dist (its .wasm as application/wasm) and the JSON API, which echoes the `traceparent`
// each request carried. A second origin (another port) serves /api/recommendations with
// CORS allowed; the page does not list it in propagateTraceHeaderCorsUrls, so requests to
// it must arrive without `traceparent`.
//
// The end-to-end tests import `startDemoServer` and read `requests` / `pages`.

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEMO_DIR = fileURLToPath(new URL('./', import.meta.url));
const DIST_DIR = fileURLToPath(new URL('../dist/', import.meta.url));


const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
};

/** The catalogue. */
const PRODUCTS = {
  1: { id: '1', name: 'Espresso cup', price: 12.5, stock: 40 },
  2: { id: '2', name: 'Pour-over kettle', price: 54, stock: 7 },
  3: { id: '3', name: 'Hand grinder', price: 89.9, stock: 0 },
};

/** Random W3C IDs, never all zero. */
function randomHex(bytes) {
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (!/^0+$/.test(hex)) return hex;
  }
}

/** JSON for an inline <script>: no `</script>` or `<!--` can close it early. */
function inlineJson(value) {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeAttribute(text) {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

async function readJson(req, limit = 64 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(chunk);
  }
  if (!size) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw Object.assign(new Error('body is not JSON'), { status: 400 });
  }
}

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/**
 * Starts both origins. `port` / `crossPort` 0 pick free ports.
 * Returns `{ url, crossUrl, requests, pages, close }`: `requests` records every API request
 * (`{ origin: 'main' | 'cross', method, path, traceparent, tracestate, headers }`, preflights
 * included), `pages` every page rendered (`{ path, traceparent, traceId, spanId }`).
 */
export async function startDemoServer({ collector = 'http://127.0.0.1:4318', host = '127.0.0.1', port = 0, crossPort = 0, distDir = DIST_DIR, log = () => {} } = {}) {
  // Files the main origin serves, by URL prefix (`distDir`: another build of the SDK, e.g. to try a fix).
  const STATIC = [
    { prefix: '/demo/', dir: DEMO_DIR, only: new Set(['.js', '.css', '.svg']) },
    { prefix: '/dist/', dir: resolve(distDir) + sep, only: new Set(['.js', '.wasm', '.map']) },
  ];
  const requests = [];
  const pages = [];
  let orders = 0;
  let crossUrl = '';
  const template = () => readFile(join(DEMO_DIR, 'index.html'), 'utf8');

  const record = (origin, req, path) => {
    const entry = {
      origin,
      method: req.method,
      path,
      traceparent: req.headers.traceparent ?? null,
      tracestate: req.headers.tracestate ?? null,
      headers: { ...req.headers },
      at: Date.now(),
    };
    requests.push(entry);
    log(`${origin.padEnd(5)} ${req.method.padEnd(7)} ${path}  traceparent: ${entry.traceparent ?? '(none)'}`);
    return entry;
  };

  /** The page, continuing a fresh server span context. */
  async function renderPage(url, res) {
    const traceId = randomHex(16);
    const spanId = randomHex(8);
    const traceparent = `00-${traceId}-${spanId}-01`;
    const minified = url.searchParams.get('sdk') === 'min';
    const delay = Number(url.searchParams.get('batchDelay'));
    const sessionIdle = Number(url.searchParams.get('sessionIdleMinutes'));
    const sessionRatio = Number(url.searchParams.get('sessionSampling'));
    const config = {
      collector,
      crossOrigin: crossUrl,
      sdk: minified ? '/dist/min/index.js' : '/dist/index.js',
      batchDelayMs: Number.isFinite(delay) && delay > 0 ? delay : 1000,
      sessionIdleMinutes: Number.isFinite(sessionIdle) && sessionIdle > 0 ? sessionIdle : undefined,
      sampler: url.searchParams.has('sessionSampling') ? { type: 'session', ratio: sessionRatio } : undefined,
      key: url.searchParams.get('key') ?? undefined,
    };
    pages.push({ path: url.pathname + url.search, traceparent, traceId, spanId, config });
    log(`page  GET     ${url.pathname}${url.search}  rendered with traceparent ${traceparent}`);
    const html = (await template())
      .replace('{{TRACEPARENT}}', escapeAttribute(traceparent))
      .replace('{{CONFIG}}', inlineJson(config));
    res.writeHead(200, { 'content-type': TYPES['.html'], 'cache-control': 'no-store' });
    res.end(html);
  }

  async function serveStatic(pathname, res) {
    const route = STATIC.find((r) => pathname.startsWith(r.prefix));
    if (!route) return false;
    const file = resolve(route.dir, '.' + decodeURIComponent(pathname.slice(route.prefix.length - 1)));
    if (!file.startsWith(route.dir) || !route.only.has(extname(file))) return false;
    try {
      if (!(await stat(file)).isFile()) return false;
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)], 'cache-control': 'no-cache' });
      res.end(body);
      return true;
    } catch {
      return false;
    }
  }

  const main = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://demo.invalid');
    const path = url.pathname;
    try {
      if (req.method === 'GET' && (path === '/' || path === '/index.html')) return await renderPage(url, res);
      if (req.method === 'GET' && path === '/favicon.ico') {
        res.writeHead(204);
        return res.end();
      }
      if (path.startsWith('/api/')) {
        const entry = record('main', req, path + url.search);
        const echo = { traceparent: entry.traceparent, tracestate: entry.tracestate };
        const product = path.match(/^\/api\/product\/([^/]+)$/);
        if (product && req.method === 'GET') {
          const found = PRODUCTS[product[1]];
          return found ? sendJson(res, 200, { product: found, ...echo }) : sendJson(res, 404, { error: `no product ${product[1]}`, ...echo });
        }
        if (path === '/api/cart' && req.method === 'POST') {
          const { productId, quantity } = await readJson(req);
          const found = PRODUCTS[productId];
          if (!found) return sendJson(res, 404, { error: `no product ${productId}`, ...echo });
          const count = Number.isInteger(quantity) && quantity > 0 ? quantity : 1;
          return sendJson(res, 200, { added: { productId: found.id, quantity: count, subtotal: Math.round(found.price * count * 100) / 100 }, ...echo });
        }
        if (path === '/api/checkout' && req.method === 'POST') {
          const { items = [], total = 0 } = await readJson(req);
          if (!Array.isArray(items) || items.length === 0) return sendJson(res, 400, { error: 'the cart is empty', ...echo });
          await new Promise((r) => setTimeout(r, 20 + Math.random() * 60)); // writing the order
          return sendJson(res, 201, { orderId: `order-${++orders}`, items: items.length, total, ...echo });
        }
        return sendJson(res, 404, { error: `no route ${req.method} ${path}`, ...echo });
      }
      if ((req.method === 'GET' || req.method === 'HEAD') && (await serveStatic(path, res))) return;
      sendJson(res, 404, { error: `not found: ${path}` });
    } catch (error) {
      if (!res.headersSent) sendJson(res, error.status ?? 500, { error: error.message });
      else res.destroy();
    }
  });

  // The other origin: CORS allowed for any origin (so a stray traceparent would get
  // through the preflight and be seen here), but the page must not send one.
  const cross = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://demo.invalid');
    const cors = {
      'access-control-allow-origin': req.headers.origin ?? '*',
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'content-type, traceparent, tracestate',
      'access-control-max-age': '600',
      vary: 'Origin',
    };
    const entry = record('cross', req, url.pathname + url.search);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      return res.end();
    }
    if (req.method === 'GET' && url.pathname === '/api/recommendations') {
      const id = url.searchParams.get('product') ?? '1';
      const recommendations = Object.values(PRODUCTS).filter((p) => p.id !== id).map((p) => ({ id: p.id, name: p.name }));
      return sendJson(res, 200, { recommendations, traceparent: entry.traceparent, tracestate: entry.tracestate }, cors);
    }
    sendJson(res, 404, { error: `no route ${req.method} ${url.pathname}` }, cors);
  });

  main.listen(port, host);
  cross.listen(crossPort, host);
  await Promise.all([once(main, 'listening'), once(cross, 'listening')]);
  const urlOf = (server) => {
    const { address, port: p } = server.address();
    return `http://${address.includes(':') ? `[${address}]` : address}:${p}`;
  };
  crossUrl = urlOf(cross);
  return {
    url: urlOf(main),
    crossUrl,
    requests,
    pages,
    close: () =>
      Promise.all(
        [main, cross].map(
          (server) =>
            new Promise((done) => {
              server.close(() => done());
              server.closeAllConnections();
            }),
        ),
      ),
  };
}

function parseArgs(argv) {
  const options = { collector: 'http://127.0.0.1:4318', host: '127.0.0.1', port: 8080, crossPort: undefined, distDir: DIST_DIR };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--collector') options.collector = value();
    else if (flag === '--port') options.port = Number(value());
    else if (flag === '--cross-port') options.crossPort = Number(value());
    else if (flag === '--host') options.host = value();
    else if (flag === '--dist') options.distDir = resolve(value());
    else if (flag === '--help' || flag === '-h') {
      console.log('usage: node demo/server.mjs [--collector http://127.0.0.1:4318] [--port 8080] [--cross-port PORT+1] [--host 127.0.0.1] [--dist DIR (default ../dist)]');
      process.exit(0);
    } else {
      console.error(`unknown argument ${argv[i]} (try --help)`);
      process.exit(2);
    }
  }
  options.collector = options.collector.replace(/\/v1\/traces\/?$/, '').replace(/\/$/, '');
  options.crossPort ??= options.port === 0 ? 0 : options.port + 1;
  return options;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const options = parseArgs(process.argv.slice(2));
  try {
    await stat(join(options.distDir, 'index.js'));
  } catch {
    console.error(`The SDK is not built (${join(options.distDir, 'index.js')} is missing): run \`just build-browser\` first.`);
    process.exit(1);
  }
  let demo;
  try {
    demo = await startDemoServer({ ...options, log: (line) => console.log(line) });
  } catch (error) {
    console.error(`Could not listen: ${error.message} (choose other ports with --port and --cross-port)`);
    process.exit(1);
  }
  console.log(`wasm-otlp demo shop
  open the shop at          ${demo.url}/
  same page, minified SDK   ${demo.url}/?sdk=min
  other origin (no trace header expected) ${demo.crossUrl}
  spans are sent to         ${options.collector}/v1/traces
  see them in the viewer at ${options.collector}/
Ctrl-C to stop.`);
  const stop = () => demo.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
