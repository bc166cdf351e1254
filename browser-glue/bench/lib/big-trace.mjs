// A large trace for the viewer's benchmark and screenshots, the same for a given size and
// seed: one trace as an OTLP JSON export request, a tree of 8 services (a child keeps its
// parent's service 70% of the time), fan-out 1-6 (6 under the root), up to 14 deep, a
// child lasting 15-65% of its parent somewhere within it, 6-10 attributes a span, an event
// on a tenth of the spans, an error on 3%.

/** A small seeded PRNG (mulberry32), so that every run posts the same traces. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVICES = ['web', 'gateway', 'checkout', 'cart', 'payments', 'inventory', 'search', 'postgres'];
const OPERATIONS = ['GET /api/cart', 'POST /api/checkout', 'SELECT orders', 'charge card', 'render', 'cache get', 'publish order.created', 'GET /api/items'];
const str = (key, value) => ({ key, value: { stringValue: value } });
const int = (key, value) => ({ key, value: { intValue: String(value) } });

/** An OTLP JSON export request holding one trace of `size` spans. */
export function bigTrace(size, seed = size, sessionId = 'bench-session') {
  const rand = random(seed);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const hex = (bytes) => Array.from({ length: bytes }, () => Math.floor(rand() * 256).toString(16).padStart(2, '0')).join('');
  const traceId = hex(16);
  const t0 = BigInt(Date.now() - 60_000) * 1_000_000n;
  const bySvc = new Map(SERVICES.map((s) => [s, []]));
  const root = { id: hex(8), depth: 0, start: 0, duration: 4_000_000_000, service: 'web' };
  const queue = [root];
  let made = 1;
  for (let next = 0; next < queue.length; next++) {
    const node = queue[next];
    const attributes = [
      str('http.request.method', pick(['GET', 'POST'])),
      str('url.full', `https://shop.example/api/${pick(['cart', 'items', 'orders'])}/${Math.floor(rand() * 1e6)}`),
      int('http.response.status_code', rand() < 0.03 ? 500 : 200),
      str('net.peer.name', `${node.service}.internal`),
      int('thread.id', Math.floor(rand() * 64)),
      str('session.id', sessionId),
    ];
    for (let i = Math.floor(rand() * 5); i > 0; i--) attributes.push(str(`app.attr_${i}`, hex(6)));
    const start = t0 + BigInt(node.start);
    const events = rand() < 0.1
      ? [{ name: pick(['cache miss', 'retry', 'exception']), timeUnixNano: String(start + BigInt(Math.floor(node.duration / 2))), attributes: [str('detail', hex(8))] }]
      : [];
    bySvc.get(node.service).push({
      traceId,
      spanId: node.id,
      ...(node.parent ? { parentSpanId: node.parent } : {}),
      name: node === root ? 'GET /checkout' : pick(OPERATIONS),
      kind: node.parent ? pick([1, 2, 3]) : 2,
      startTimeUnixNano: String(start),
      endTimeUnixNano: String(start + BigInt(node.duration)),
      attributes,
      events,
      ...(attributes[2].value.intValue === '500' ? { status: { code: 2, message: 'internal error' } } : {}),
    });
    if (node.depth >= 14) continue;
    const kids = node === root ? 6 : 1 + Math.floor(rand() * 6);
    for (let k = 0; k < kids && made < size; k++, made++) {
      const duration = Math.max(1000, Math.floor(node.duration * (0.15 + rand() * 0.5)));
      const start = node.start + Math.floor(rand() * (node.duration - duration));
      queue.push({ id: hex(8), parent: node.id, depth: node.depth + 1, start, duration, service: rand() < 0.3 ? pick(SERVICES) : node.service });
    }
  }
  return {
    traceId,
    doc: {
      resourceSpans: [...bySvc].filter(([, s]) => s.length).map(([service, list]) => ({
        resource: { attributes: [str('service.name', service), str('deployment.environment', 'bench')] },
        scopeSpans: [{ scope: { name: 'bench', version: '1.0' }, spans: list }],
      })),
    },
  };
}
