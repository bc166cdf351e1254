// A quick CPU profile of one page call through the Chrome DevTools Protocol, summarised by
// where the time went: which bundled module (esbuild's `// path` markers), the component's
// wasm, or the garbage collector.

/** Profiles `run()` (which drives `page`); returns the raw CDP profile. */
export async function cpuProfile(page, run) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
  await cdp.send('Profiler.start');
  await run();
  const { profile } = await cdp.send('Profiler.stop');
  await cdp.detach();
  return profile;
}

/** Self time (ms) per category and per function, largest first. */
export function summarise(profile, modules) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  });
  const byCategory = new Map();
  const byFunction = new Map();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    if (functionName === '(idle)' || functionName === '(root)') continue;
    const where = locate(url, lineNumber, modules, functionName);
    add(byCategory, category(where), us);
    add(byFunction, `${functionName || '(anonymous)'}  [${where}]`, us);
  }
  const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]).map(([k, us]) => [k, us / 1000]);
  return { categories: sorted(byCategory), functions: sorted(byFunction) };
}

function add(map, key, us) {
  map.set(key, (map.get(key) ?? 0) + us);
}

/** The module (or `wasm`, or a V8 pseudo-frame) a frame belongs to. */
function locate(url, line, modules, functionName) {
  if (url.endsWith('.wasm') || url.startsWith('wasm://')) return 'wasm';
  if (!url) return functionName.startsWith('(') ? functionName : 'native';
  if (!url.endsWith('/page.js')) return url;
  return modules.find((r) => line >= r.from && line < r.to)?.module ?? url;
}

function category(where) {
  if (where === 'wasm') return 'component wasm (apply ops, encode OTLP/JSON)';
  if (where.startsWith('gen/')) return 'jco glue (lower batch in, lift payload out)';
  if (where.startsWith('src/core/')) return 'SDK JS recording (src/core)';
  if (where.startsWith('src/')) return 'SDK JS other (src)';
  if (where.startsWith('bench/')) return 'benchmark loop + stand-in transport';
  if (where === '(garbage collector)') return 'garbage collector';
  if (where === 'native') return 'browser built-ins (performance.now, TextEncoder, ...)';
  if (where.includes('@opentelemetry')) return 'OpenTelemetry JS';
  return `other: ${where}`;
}
