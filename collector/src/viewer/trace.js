// The trace view (#<traceId>?span=...&filter=...&hide=1&skew=adjust): a span tree built
// from parent IDs (iteratively, with no depth limit), a waterfall on a time axis whose
// rows are virtualised (only the rows in view are in the DOM), and the selected span's
// details. Spans whose parent is not in the trace are listed under a marker row, never
// dropped. The selected span, the filter and the clock-skew adjustment are kept in the
// URL: a click on a span or the adjustment adds a history entry, the keys and the filter
// replace the current one. The trace's log records are marked on their spans' rows (at
// their time), listed in their span's details, and all listed below the waterfall.
import { el, getJson, formatDuration, formatTime, nsToDate, attributePairs, pairsTable, isTraceId, searchHash } from './util.js';
import { flattenLogs, logMark, logTable } from './logs.js';

/** Row height in px (must match `.row` in viewer.css). */
const ROW = 24;
/** Rows rendered above and below the visible ones. */
const OVERSCAN = 12;
/** Depth up to which every level indents a full step; deeper levels indent by less. */
const DEEP = 12;
/** The indent of a row at `depth`, in px: 14 a level to DEEP, then 2 a level, at most 60 more. */
const indent = (depth) => Math.min(depth, DEEP) * 14 + Math.min(Math.max(depth - DEEP, 0) * 2, 60);
const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS = ['unset', 'ok', 'error'];

/**
 * Mounts the view for `traceId` in the URL state `params` (`span`, `filter`, `hide`,
 * `skew`); returns `{ dispose, update(params) }` (update: the URL changed within this
 * trace, as back and forward do).
 */
export function renderTrace(view, traceId, params = new URLSearchParams()) {
  let alive = true;
  let shown = null;
  let wanted = params;
  view.replaceChildren(el('p', { className: 'muted', id: 'trace-status', textContent: `Loading trace ${traceId}…` }));
  getJson(`/api/traces/${traceId}`).then(
    (doc) => {
      if (alive) shown = showTrace(view, traceId, doc, null, wanted);
    },
    (error) => {
      if (alive) view.replaceChildren(el('p', { className: 'err', id: 'trace-status', textContent: `Trace ${traceId}: ${error.message}` }));
    },
  );
  return {
    dispose() {
      alive = false;
      shown?.dispose();
    },
    update(params) {
      if (shown) shown.update(params);
      else wanted = params;
    },
  };
}

/**
 * Mounts the view for an OTLP JSON document that is not stored (an opened file);
 * `name` is shown as its source. Returns `{ dispose }`.
 */
export function renderDocument(view, doc, name) {
  const first = (Array.isArray(doc?.resourceSpans) ? doc.resourceSpans : [])
    .flatMap((rs) => (Array.isArray(rs?.scopeSpans) ? rs.scopeSpans : []))
    .flatMap((ss) => (Array.isArray(ss?.spans) ? ss.spans : []))[0];
  const traceId = String(first?.traceId ?? '').toLowerCase();
  return showTrace(view, traceId, doc, name);
}

/**
 * By how many milliseconds the sender moved a span's times because its clock was off (the
 * browser SDK's resource attribute `wasm_otlp.clock_correction_ms`), or null.
 */
function clockCorrection(node) {
  const value = attributePairs(node.resource?.attributes).find(([k]) => k === 'wasm_otlp.clock_correction_ms')?.[1];
  const ms = Number(value);
  return value === undefined || !Number.isFinite(ms) ? null : ms;
}

/** A correction in milliseconds as signed text (`−2 h 0 m`). */
function correctionText(ms) {
  return `${ms < 0 ? '−' : '+'}${formatDuration(Math.abs(ms) * 1e6)}`;
}

/** The spans of an OTLP JSON document, with their resource and scope, times relative to the earliest start. */
export function flattenSpans(doc) {
  const raw = [];
  for (const rs of Array.isArray(doc?.resourceSpans) ? doc.resourceSpans : []) {
    const resource = rs?.resource ?? {};
    const service = attributePairs(resource.attributes).find(([k]) => k === 'service.name')?.[1] ?? 'unknown_service';
    for (const ss of Array.isArray(rs?.scopeSpans) ? rs.scopeSpans : []) {
      for (const span of Array.isArray(ss?.spans) ? ss.spans : []) raw.push({ span, resource, scope: ss.scope ?? {}, service });
    }
  }
  const big = (v) => {
    try {
      return BigInt(v ?? 0);
    } catch {
      return 0n;
    }
  };
  let min = null;
  let max = null;
  for (const r of raw) {
    r.startNs = big(r.span.startTimeUnixNano);
    r.endNs = big(r.span.endTimeUnixNano);
    if (r.endNs < r.startNs) r.endNs = r.startNs;
    if (min === null || r.startNs < min) min = r.startNs;
    if (max === null || r.endNs > max) max = r.endNs;
  }
  const nodes = raw.map((r, index) => ({
    index,
    span: r.span,
    resource: r.resource,
    scope: r.scope,
    service: r.service,
    name: String(r.span.name ?? ''),
    spanId: String(r.span.spanId ?? '').toLowerCase(),
    parentSpanId: String(r.span.parentSpanId ?? '').toLowerCase(),
    startNs: r.startNs,
    start: Number(r.startNs - min),
    duration: Number(r.endNs - r.startNs),
    error: r.span.status?.code === 2 || r.span.status?.code === 'STATUS_CODE_ERROR',
    kids: [],
    depth: 0,
    marker: null,
  }));
  return { nodes, startNs: min ?? 0n, total: min === null ? 0 : Number(max - min) };
}

/**
 * The tree: top-level rows (roots, then one marker per missing parent with the spans
 * that name it, then one for spans only reachable through a parent cycle); every node's
 * `kids` and `depth`. Iterative, so any depth works; every span appears exactly once.
 */
export function buildTree(nodes) {
  const byId = new Map();
  for (const n of nodes) if (n.spanId && !byId.has(n.spanId)) byId.set(n.spanId, n);
  const children = new Map(); // parent node -> its spans
  const roots = [];
  const missing = new Map(); // missing parent ID -> its spans
  for (const n of nodes) {
    const parent = n.parentSpanId ? byId.get(n.parentSpanId) : undefined;
    if (!n.parentSpanId) roots.push(n);
    else if (parent && parent !== n) {
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(n);
    } else {
      if (!missing.has(n.parentSpanId)) missing.set(n.parentSpanId, []);
      missing.get(n.parentSpanId).push(n);
    }
  }
  const byStart = (a, b) => a.start - b.start || a.index - b.index;
  const marker = (text, kids) => ({ marker: text, kids, depth: 0, name: text, start: kids.reduce((m, k) => Math.min(m, k.start), Infinity), duration: 0 });
  const top = roots.sort(byStart);
  for (const [id, spans] of missing) {
    top.push(marker(`parent ${id} not received (${spans.length} span${spans.length === 1 ? '' : 's'})`, spans.sort(byStart)));
  }
  const seen = new Set();
  const walk = (tops) => {
    const stack = [];
    for (let i = tops.length - 1; i >= 0; i--) stack.push([tops[i], 0]);
    while (stack.length) {
      const [node, depth] = stack.pop();
      node.depth = depth;
      if (node.marker) {
        node.kids = node.kids.filter((k) => !seen.has(k));
        for (const k of node.kids) seen.add(k);
      } else {
        node.kids = (children.get(node) ?? []).filter((k) => !seen.has(k)).sort(byStart);
        for (const k of node.kids) seen.add(k);
      }
      for (let i = node.kids.length - 1; i >= 0; i--) stack.push([node.kids[i], depth + 1]);
    }
  };
  for (const n of top) if (!n.marker) seen.add(n);
  walk(top);
  const stranded = nodes.filter((n) => !seen.has(n)); // in a cycle of parents, or a duplicate span ID's subtree
  if (stranded.length) {
    const m = marker(`parent not reachable from a root (${stranded.length} span${stranded.length === 1 ? '' : 's'})`, []);
    // One representative per cycle: each stranded span that is not yet placed starts a walk.
    for (const n of stranded.sort(byStart)) {
      if (seen.has(n)) continue;
      seen.add(n);
      m.kids.push(n);
      walk([n]);
      n.depth = 1;
      // depths below n were set relative to 0; shift them by one.
      const stack = [...n.kids];
      while (stack.length) {
        const k = stack.pop();
        k.depth += 1;
        for (const kid of k.kids) stack.push(kid);
      }
    }
    top.push(m);
  }
  return top;
}

/**
 * A test for spans from the filter text: `key=value` matches a span whose attribute (or
 * resource attribute) `key` has that value as text; other text matches, ignoring case,
 * the name, service, span ID, status message, or an attribute key or value. Empty: none.
 */
export function spanMatcher(text) {
  text = text.trim();
  if (!text) return null;
  const eq = text.indexOf('=');
  if (eq > 0) {
    const key = text.slice(0, eq).trim();
    const value = text.slice(eq + 1).trim();
    return (n) => !n.marker && [...attributePairs(n.span.attributes), ...attributePairs(n.resource.attributes)].some(([k, v]) => k === key && v === value);
  }
  const needle = text.toLowerCase();
  const has = (v) => String(v ?? '').toLowerCase().includes(needle);
  return (n) =>
    !n.marker &&
    (has(n.name) || has(n.service) || has(n.spanId) || has(n.span.status?.message) ||
      attributePairs(n.span.attributes).some(([k, v]) => has(k) || has(v)));
}

/**
 * The critical path under `root`: walking back from its end, the child that finished
 * last (before the time reached) is on the path, then the one that finished before that
 * child started, and so on, into each of them. Children's ends are clamped to their
 * parent's (clock skew). Iterative; returns the set of spans on the path.
 */
export function criticalPath(root) {
  const path = new Set();
  if (!root || root.marker) return path;
  const work = [[root, root.start + root.duration]];
  while (work.length) {
    const [node, until] = work.pop();
    path.add(node);
    const end = Math.min(node.start + node.duration, until);
    const kids = node.kids
      .filter((k) => !k.marker)
      .map((k) => [k, Math.min(k.start + k.duration, end)])
      .sort((a, b) => b[1] - a[1]);
    let t = end;
    for (const [kid, kidEnd] of kids) {
      if (t <= node.start) break;
      if (kidEnd > t || kid.start >= t) continue;
      work.push([kid, kidEnd]);
      t = kid.start;
    }
  }
  return path;
}

/**
 * Why `node` looks skewed against its parent, or null: it starts before its parent, or,
 * from another service, starts within its parent and ends after it (a child of the same
 * service that outlives its parent, one that starts after its parent ended, and a
 * producer's or consumer's span are usually asynchronous work, not skew).
 */
function skewOf(node, parent, start = node.start) {
  if (!parent || parent.marker || node.marker) return null;
  if (start < parent.start) return `starts ${formatDuration(parent.start - start)} before its parent: the hosts' clocks may differ`;
  const parentEnd = parent.start + parent.duration;
  const end = start + node.duration;
  const async = node.span.kind === 5 || parent.span.kind === 4 || node.span.kind === 'SPAN_KIND_CONSUMER' || parent.span.kind === 'SPAN_KIND_PRODUCER';
  if (node.service !== parent.service && !async && start < parentEnd && end > parentEnd) {
    return `ends ${formatDuration(end - parentEnd)} after its parent (${parent.service}): the hosts' clocks may differ`;
  }
  return null;
}

/**
 * Clock-skew adjustment as Jaeger UI makes it: a span that looks skewed against its
 * parent (see skewOf) and is no longer than it is moved, with its whole subtree, to the
 * middle of its parent (the latency split evenly before and after it). Parents first,
 * so a moved span's children are judged where it now lies. Changes the nodes' `start`;
 * returns each moved span's shift: `by` ns in all, `own` when the span was moved for its
 * own skew (else with an ancestor).
 */
export function adjustClockSkew(top) {
  const shifts = new Map();
  const stack = top.map((n) => [n, 0]);
  while (stack.length) {
    const [node, inherited] = stack.pop();
    for (const kid of node.kids) {
      let by = inherited;
      let own = false;
      if (!kid.marker && kid.duration <= node.duration && skewOf(kid, node, kid.start + inherited)) {
        by = node.start + Math.round((node.duration - kid.duration) / 2) - kid.start;
        own = true;
      }
      if (by) {
        kid.start += by;
        shifts.set(kid, { by, own });
      }
      stack.push([kid, by]);
    }
  }
  return shifts;
}

/** A shift in ns as text: `5.00 ms later`, `2.00 ms earlier`. */
const shiftText = (by) => `${formatDuration(Math.abs(by))} ${by > 0 ? 'later' : 'earlier'}`;

function showTrace(view, traceId, doc, fileName = null, params = new URLSearchParams()) {
  const { nodes, startNs, total } = flattenSpans(doc);
  const top = buildTree(nodes);
  const logs = flattenLogs(doc);
  // Each span's records (by span ID), in time order.
  const logsOf = new Map();
  for (const log of logs) {
    if (!log.spanId) continue;
    if (!logsOf.has(log.spanId)) logsOf.set(log.spanId, []);
    logsOf.get(log.spanId).push(log);
  }
  const span = Math.max(total, 1);
  const collapsed = new Set();
  let visible = [];
  let selected = null;
  /** The URL state is being applied (back, forward, load): do not write it back. */
  let applying = false;

  // The tree's parent of every row (markers included), for ancestors.
  const parentOf = new Map();
  {
    const stack = top.slice();
    while (stack.length) {
      const n = stack.pop();
      for (const k of n.kids) {
        parentOf.set(k, n);
        stack.push(k);
      }
    }
  }
  // Positions: as received, or with clock skew adjusted; what depends on them.
  const received = new Map(nodes.map((n) => [n, n.start]));
  const root = top.find((n) => !n.marker);
  let adjust = false;
  let shifts = new Map();
  let critical = new Set();
  let skew = new Map();
  const layout = () => {
    for (const n of nodes) n.start = received.get(n);
    shifts = adjust ? adjustClockSkew(top) : new Map();
    skew = new Map();
    for (const n of nodes) {
      const why = skewOf(n, parentOf.get(n));
      if (why) skew.set(n, why);
    }
    critical = criticalPath(root);
  };
  layout();
  // The filter inside the trace: the matching spans (null: no filter), and whether the
  // others are hidden (a match keeps its ancestors) or only dimmed.
  let matches = null;
  let keep = null;
  let hideOthers = false;

  const recompute = () => {
    visible = [];
    const stack = [];
    const kept = (n) => !hideOthers || !keep || keep.has(n);
    for (let i = top.length - 1; i >= 0; i--) if (kept(top[i])) stack.push(top[i]);
    while (stack.length) {
      const node = stack.pop();
      visible.push(node);
      if (!collapsed.has(node)) for (let i = node.kids.length - 1; i >= 0; i--) if (kept(node.kids[i])) stack.push(node.kids[i]);
    }
    spacer.style.height = `${visible.length * ROW}px`;
    shown.textContent = `${visible.length} of ${nodes.length + top.filter((n) => n.marker).length} rows shown`;
  };

  // Header
  const corrected = nodes.filter((n) => n.resource && clockCorrection(n) !== null);
  const metaText = () => [
    ...(fileName != null ? [`file ${fileName} (not stored)`] : []),
    `trace ${traceId}`,
    doc.truncated ? `the first ${nodes.length} of ${doc.truncated.spans} spans (the API returns at most ${doc.truncated.returned})` : `${nodes.length} span${nodes.length === 1 ? '' : 's'}`,
    `${new Set(nodes.map((n) => n.service)).size} service(s)`,
    formatDuration(total),
    `started ${formatTime(nsToDate(startNs))}`,
    `${critical.size} on the critical path`,
    ...(logs.length ? [`${logs.length} log record${logs.length === 1 ? '' : 's'}${doc.logsTruncated ? ' (the most recent)' : ''}`] : []),
    ...(corrected.length ? [`${corrected.length} dated after correcting the client's clock by ${[...new Set(corrected.map((n) => correctionText(clockCorrection(n))))].join(', ')}`] : []),
    ...(skew.size ? [`${skew.size} with clock skew`] : []),
    ...(shifts.size ? [`${[...shifts.values()].filter((s) => s.own).length} moved for clock skew`] : []),
  ].join(' · ');
  const meta = el('p', { className: 'muted', id: 'trace-meta', textContent: metaText() });
  const shown = el('span', { className: 'muted', id: 'rows-shown' });
  const expandAll = el('button', { type: 'button', textContent: 'expand all' });
  const collapseAll = el('button', { type: 'button', textContent: 'collapse all' });
  const filterBox = el('input', { type: 'search', id: 'trace-filter', placeholder: 'filter: text or key=value', size: 28, spellcheck: false });
  const hideBox = el('input', { type: 'checkbox', id: 'trace-filter-hide' });
  const filterCount = el('span', { className: 'muted', id: 'trace-filter-count' });
  const applyFilter = () => {
    const test = spanMatcher(filterBox.value);
    hideOthers = hideBox.checked;
    if (!test) {
      matches = keep = null;
      filterCount.textContent = '';
    } else {
      matches = new Set(nodes.filter(test));
      keep = new Set(matches);
      for (const m of matches) for (let p = parentOf.get(m); p && !keep.has(p); p = parentOf.get(p)) keep.add(p);
      filterCount.textContent = `${matches.size} match${matches.size === 1 ? '' : 'es'} (Enter: next)`;
    }
    recompute();
    render(true);
  };
  filterBox.addEventListener('input', () => {
    applyFilter();
    writeUrl(false);
  });
  hideBox.addEventListener('change', () => {
    applyFilter();
    writeUrl(false);
  });
  const skewBox = el('input', { type: 'checkbox', id: 'skew-adjust' });
  skewBox.addEventListener('change', () => {
    adjust = skewBox.checked;
    relayout();
    writeUrl(true);
  });
  filterBox.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || !matches?.size) return;
    event.preventDefault();
    // The next match in tree order after the selected row.
    const order = [];
    const stack = top.slice().reverse();
    while (stack.length) {
      const n = stack.pop();
      if (matches.has(n)) order.push(n);
      for (let i = n.kids.length - 1; i >= 0; i--) stack.push(n.kids[i]);
    }
    const at = order.indexOf(selected);
    const next = order[(at + 1) % order.length];
    expandTo(next);
    recompute();
    select(next);
  });
  const download = el('button', { type: 'button', id: 'download', textContent: 'download OTLP JSON' });
  download.addEventListener('click', () => {
    // The answer as an OTLP export request (without the API's truncation notes).
    const { truncated: _, logsTruncated: __, ...otlp } = doc;
    const url = URL.createObjectURL(new Blob([JSON.stringify(otlp)], { type: 'application/json' }));
    const a = el('a', { href: url, download: `trace-${traceId || 'file'}.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  const head = el('div', { className: 'trace-head' }, [
    el('h2', { id: 'trace-title', textContent: root ? `${root.service}: ${root.name}` : `trace ${traceId} (root not received)` }),
    meta,
    doc.truncated ? el('p', { className: 'warn', id: 'trace-truncated', textContent: `Truncated: ${doc.truncated.returned} of ${doc.truncated.spans} spans are shown (the earliest by start time).` }) : null,
    el('div', { className: 'tools' }, [
      expandAll, collapseAll, download, shown,
      filterBox, el('label', {}, [hideBox, ' hide the others']), filterCount,
      el('label', { title: 'Move a span that lies outside its parent, with its subtree, to the middle of the parent (as Jaeger does), when it is no longer than the parent' }, [skewBox, ' adjust clock skew']),
    ]),
  ]);

  // Time axis
  const axis = el('div', { className: 'axis' });
  for (let i = 0; i <= 4; i++) {
    const tick = el('span', { className: 'tick', textContent: formatDuration(Math.round((total * i) / 4)) });
    tick.style.left = `${i * 25}%`;
    if (i === 4) tick.classList.add('last');
    axis.append(tick);
  }
  const axisRow = el('div', { className: 'axis-row' }, [el('div', { className: 'label-head', textContent: 'service: span' }), axis]);

  const spacer = el('div', { className: 'spacer' });
  const rows = el('div', { className: 'rows', id: 'rows', tabIndex: 0 }, [spacer]);
  rows.setAttribute('role', 'tree');
  rows.setAttribute('aria-label', 'spans');
  const noSelection = () => el('p', { className: 'muted', textContent: 'Select a span (click, or the arrow keys).' });
  const detail = el('aside', { className: 'detail', id: 'detail' }, [noSelection()]);
  const waterfall = el('div', { className: 'waterfall' }, [axisRow, rows]);
  /** A link that selects a record's span in this trace (null without one). */
  const spanLink = (log) => {
    const node = log.spanId && nodes.find((n) => n.spanId === log.spanId);
    if (!node) return log.spanId ? el('span', { className: 'muted', textContent: `span ${log.spanId} (not received)` }) : null;
    const button = el('button', { type: 'button', className: 'link', textContent: node.name, title: `select span ${node.spanId}` });
    button.addEventListener('click', () => goToSpan(node.spanId));
    return button;
  };
  const logSection = el('section', { className: 'trace-logs', id: 'trace-logs' }, logs.length ? [
    el('h3', { textContent: `log records (${logs.length})` }),
    doc.logsTruncated ? el('p', { className: 'warn', textContent: `Cut: the ${logs.length} most recent log records of this trace are shown (the API's limit).` }) : null,
    logTable(logs, { id: 'trace-log-table', startNs: nodes.length ? startNs : null, link: spanLink }),
  ] : []);
  view.replaceChildren(el('section', { className: 'trace-view' }, [head, el('div', { className: 'trace-body' }, [waterfall, detail]), logSection]));

  const rowFor = (node, i) => {
    const row = el('div', { className: 'row' + (node.marker ? ' marker' : '') + (node.error ? ' error' : '') + (node === selected ? ' selected' : '') + (matches ? (matches.has(node) ? ' match' : ' dim') : '') + (critical.has(node) ? ' critical' : '') });
    row.style.top = `${i * ROW}px`;
    row.dataset.index = String(i);
    row.setAttribute('role', 'treeitem');
    const toggle = el('span', { className: 'toggle', textContent: node.kids.length ? (collapsed.has(node) ? '▸' : '▾') : '' });
    const label = el('div', { className: 'label' }, [toggle]);
    label.style.paddingLeft = `${4 + indent(node.depth)}px`;
    if (node.marker) {
      label.append(el('span', { className: 'name', textContent: '⚠ ' + node.marker }));
      label.title = node.marker;
    } else {
      label.append(el('span', { className: 'svc', textContent: node.service }), el('span', { className: 'name', textContent: node.name }));
      label.title = `${node.service}: ${node.name} (depth ${node.depth})`;
      if (skew.has(node)) {
        row.classList.add('skew');
        label.append(el('span', { className: 'skew-mark', textContent: '⏱ skew', title: skew.get(node) }));
      } else if (shifts.get(node)?.own) {
        row.classList.add('moved');
        label.append(el('span', { className: 'skew-mark', textContent: '⏱ moved', title: `shown ${shiftText(shifts.get(node).by)} to adjust clock skew` }));
      }
      if (node.depth > DEEP) label.insertBefore(el('span', { className: 'depth', textContent: String(node.depth) }), toggle);
    }
    const track = el('div', { className: 'track' });
    if (!node.marker) {
      const left = (100 * node.start) / span;
      const width = (100 * node.duration) / span;
      const bar = el('div', { className: 'bar' });
      bar.style.left = `${left}%`;
      bar.style.width = `${width}%`;
      track.append(bar);
      for (const e of Array.isArray(node.span.events) ? node.span.events : []) {
        let at;
        try {
          at = Number(BigInt(e?.timeUnixNano ?? 0) - startNs) + (shifts.get(node)?.by ?? 0);
        } catch {
          continue;
        }
        const mark = el('span', { className: 'event', title: String(e?.name ?? '') });
        mark.style.left = `${(100 * Math.min(Math.max(at, 0), span)) / span}%`;
        track.append(mark);
      }
      for (const log of logsOf.get(node.spanId) ?? []) {
        const at = Number(log.timeNs - startNs) + (shifts.get(node)?.by ?? 0);
        track.append(logMark(log, (100 * Math.min(Math.max(at, 0), span)) / span));
      }
      track.append(durationLabel(node.duration, left, width));
    }
    row.append(label, track);
    return row;
  };

  let first = -1;
  let last = -1;
  const render = (force = false) => {
    const top = rows.scrollTop;
    const height = rows.clientHeight || 600;
    const a = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const b = Math.min(visible.length, Math.ceil((top + height) / ROW) + OVERSCAN);
    if (!force && a === first && b === last) return;
    first = a;
    last = b;
    const out = [];
    for (let i = a; i < b; i++) out.push(rowFor(visible[i], i));
    spacer.replaceChildren(...out);
  };
  let frame = 0;
  const onScroll = () => {
    if (!frame) frame = requestAnimationFrame(() => {
      frame = 0;
      render();
    });
  };
  rows.addEventListener('scroll', onScroll, { passive: true });
  const onResize = () => render(true);
  window.addEventListener('resize', onResize);

  const toggle = (node) => {
    if (!node.kids.length) return;
    if (collapsed.has(node)) collapsed.delete(node);
    else collapsed.add(node);
    recompute();
    render(true);
  };
  const reveal = (i) => {
    const y = i * ROW;
    if (y < rows.scrollTop) rows.scrollTop = y;
    else if (y + ROW > rows.scrollTop + rows.clientHeight) rows.scrollTop = y + ROW - rows.clientHeight;
  };
  /** Selects `node` (null: none); `push`: a new history entry, else the current one is replaced. */
  const select = (node, push = false) => {
    selected = node;
    const i = visible.indexOf(node);
    if (i >= 0) reveal(i);
    render(true);
    if (node) showDetail(node);
    else detail.replaceChildren(noSelection());
    writeUrl(push);
  };
  /** The view's state as URL parameters. */
  const urlState = () => {
    const p = new URLSearchParams();
    if (selected && !selected.marker) p.set('span', selected.spanId);
    if (filterBox.value.trim()) p.set('filter', filterBox.value.trim());
    if (hideBox.checked) p.set('hide', '1');
    if (adjust) p.set('skew', 'adjust');
    return p;
  };
  /** Puts the state into the URL (not for a file: its URL is #/file). */
  const writeUrl = (push) => {
    if (applying || fileName != null) return;
    const query = urlState().toString();
    const hash = `#${traceId}${query ? '?' + query : ''}`;
    if (hash !== location.hash) history[push ? 'pushState' : 'replaceState'](null, '', hash);
  };
  /** Re-places the spans after the adjustment changed. */
  const relayout = () => {
    layout();
    meta.textContent = metaText();
    render(true);
    if (selected) showDetail(selected);
  };
  /** Expands every collapsed ancestor of `node`. */
  const expandTo = (node) => {
    for (let p = parentOf.get(node); p; p = parentOf.get(p)) collapsed.delete(p);
  };
  /** Selects a span of this trace by ID, expanding its ancestors. */
  const goToSpan = (spanId) => {
    const target = nodes.find((n) => n.spanId === spanId);
    if (!target) return false;
    expandTo(target);
    if (matches && hideOthers && !keep.has(target)) {
      hideOthers = false;
      hideBox.checked = false;
    }
    recompute();
    select(target, true);
    return true;
  };

  rows.addEventListener('click', (event) => {
    const row = event.target.closest('.row');
    if (!row) return;
    const node = visible[Number(row.dataset.index)];
    if (!node) return;
    if (event.target.classList.contains('toggle')) toggle(node);
    else if (node !== selected) select(node, true);
    rows.focus({ preventScroll: true });
  });
  rows.addEventListener('dblclick', (event) => {
    const row = event.target.closest('.row');
    if (row) toggle(visible[Number(row.dataset.index)]);
  });
  rows.addEventListener('keydown', (event) => {
    const i = selected ? visible.indexOf(selected) : -1;
    const go = (j) => {
      if (visible.length) select(visible[Math.max(0, Math.min(visible.length - 1, j))]);
    };
    switch (event.key) {
      case 'ArrowDown': go(i + 1); break;
      case 'ArrowUp': go(i <= 0 ? 0 : i - 1); break;
      case 'PageDown': go(i + Math.floor(rows.clientHeight / ROW)); break;
      case 'PageUp': go(i - Math.floor(rows.clientHeight / ROW)); break;
      case 'Home': go(0); break;
      case 'End': go(visible.length - 1); break;
      case 'ArrowRight':
        if (selected && selected.kids.length && collapsed.has(selected)) toggle(selected);
        else go(i + 1);
        break;
      case 'ArrowLeft':
        if (selected && selected.kids.length && !collapsed.has(selected)) toggle(selected);
        else if (selected) {
          const p = parentOf.get(selected);
          if (p && visible.includes(p)) select(p);
        }
        break;
      case 'Enter': case ' ':
        if (selected) toggle(selected);
        break;
      default: return;
    }
    event.preventDefault();
  });
  expandAll.addEventListener('click', () => {
    collapsed.clear();
    recompute();
    render(true);
  });
  collapseAll.addEventListener('click', () => {
    for (const n of top) if (n.kids.length) collapsed.add(n);
    recompute();
    rows.scrollTop = 0;
    render(true);
  });

  const showDetail = (node) => {
    if (node.marker) {
      detail.replaceChildren(
        el('h3', { textContent: node.marker }),
        el('p', { textContent: 'These spans name a parent span that is not in this trace (not received yet, lost, or dropped), or that is only reachable through a cycle of parent IDs. They are listed here so that none is hidden.' }),
      );
      return;
    }
    const s = node.span;
    const status = s.status ?? {};
    const code = typeof status.code === 'number' ? STATUS[status.code] ?? String(status.code) : String(status.code ?? 'unset');
    const kind = typeof s.kind === 'number' ? KINDS[s.kind] ?? String(s.kind) : String(s.kind ?? 'unspecified');
    const session = [...attributePairs(s.attributes), ...attributePairs(node.resource.attributes)].find(([k]) => k === 'session.id')?.[1];
    const section = (title, ...content) => el('section', {}, [el('h4', { textContent: title }), ...content]);
    const events = (Array.isArray(s.events) ? s.events : []).map((e) => {
      let at = '?';
      try {
        at = formatDuration(Number(BigInt(e?.timeUnixNano ?? 0) - node.startNs));
      } catch { /* leave ? */ }
      return el('li', {}, [el('span', { className: 'mono', textContent: `+${at} ` }), el('strong', { textContent: String(e?.name ?? '') }), pairsTable(attributePairs(e?.attributes))]);
    });
    const links = (Array.isArray(s.links) ? s.links : []).map((l) => {
      const tid = String(l?.traceId ?? '').toLowerCase();
      const sid = String(l?.spanId ?? '').toLowerCase();
      let target;
      if (tid === traceId) {
        target = el('button', { type: 'button', className: 'link', textContent: `span ${sid} (this trace)` });
        target.addEventListener('click', () => {
          if (!goToSpan(sid)) target.textContent = `span ${sid}: not in this trace`;
        });
      } else if (isTraceId(tid)) {
        target = el('a', { href: '#' + tid, textContent: `trace ${tid}, span ${sid}` });
      } else {
        target = el('span', { textContent: `trace ${tid}, span ${sid}` });
      }
      return el('li', {}, [target, pairsTable(attributePairs(l?.attributes))]);
    });
    const spanLogs = logsOf.get(node.spanId) ?? [];
    detail.replaceChildren(
      el('h3', { className: node.error ? 'err' : '', textContent: node.name }),
      pairsTable([
        ['service', node.service],
        ['duration', formatDuration(node.duration)],
        ['start', `${formatTime(nsToDate(node.startNs))} (+${formatDuration(received.get(node))} in the trace)`],
        ...(shifts.has(node) ? [['clock skew adjustment', shifts.get(node).own
          ? `shown ${shiftText(shifts.get(node).by)}, in the middle of its parent`
          : `shown ${shiftText(shifts.get(node).by)}, moved with its ancestor`]] : []),
        ['kind', kind],
        ['status', code + (status.message ? `: ${status.message}` : '')],
        ...(skew.has(node) ? [['clock skew?', skew.get(node)]] : []),
        ...(clockCorrection(node) !== null ? [['client clock', `corrected by ${correctionText(clockCorrection(node))} (the browser compared it with the collector's Date header)`]] : []),
        ...(critical.has(node) ? [['critical path', 'on it']] : []),
        ['span ID', node.spanId],
        ['parent span ID', node.parentSpanId || '(root)'],
        ['trace ID', String(s.traceId ?? traceId)],
        ...(s.traceState ? [['trace state', String(s.traceState)]] : []),
      ], 'kv summary'),
      ...(session ? [el('p', { className: 'session' }, [
        'session ', el('span', { className: 'mono', textContent: session }), ': ',
        el('a', { id: 'session-link', href: searchHash([['attr', `session.id=${session}`], ['limit', '100']]), textContent: 'its traces' }),
        ', ', el('a', { id: 'session-view-link', href: `#/session/${encodeURIComponent(session)}`, textContent: 'its timeline' }),
      ])] : []),
      section('attributes', pairsTable(attributePairs(s.attributes), 'kv', true)),
      section(`log records (${spanLogs.length})`, spanLogs.length ? logTable(spanLogs, { id: 'span-logs', startNs: node.startNs }) : el('p', { className: 'muted', textContent: 'none' })),
      section(`events (${events.length})`, events.length ? el('ul', { className: 'events' }, events) : el('p', { className: 'muted', textContent: 'none' })),
      section(`links (${links.length})`, links.length ? el('ul', { className: 'links' }, links) : el('p', { className: 'muted', textContent: 'none' })),
      section('resource', pairsTable(attributePairs(node.resource.attributes), 'kv', true)),
      section('scope', pairsTable([
        ['name', String(node.scope.name ?? '')],
        ['version', String(node.scope.version ?? '')],
        ...attributePairs(node.scope.attributes),
      ])),
    );
  };

  /** Shows the state in URL parameters `p` (on load, back and forward). */
  const update = (p) => {
    applying = true;
    try {
      if ((p.get('skew') === 'adjust') !== adjust) {
        adjust = skewBox.checked = p.get('skew') === 'adjust';
        layout();
        meta.textContent = metaText();
      }
      filterBox.value = p.get('filter') ?? '';
      hideBox.checked = p.get('hide') === '1';
      applyFilter();
      const spanId = (p.get('span') ?? '').toLowerCase();
      if (!spanId || !goToSpan(spanId)) select(null);
    } finally {
      applying = false;
    }
  };
  recompute();
  update(params);
  rows.dataset.ready = 'true';
  return {
    dispose() {
      window.removeEventListener('resize', onResize);
      if (frame) cancelAnimationFrame(frame);
    },
    update,
  };
}

/**
 * The duration label of a bar at `left`% lasting `width`% of the axis: after the bar,
 * else before it, else inside its end, so that it never leaves the waterfall.
 */
function durationLabel(duration, left, width) {
  const label = el('span', { className: 'dur', textContent: formatDuration(duration) });
  if (left + width <= 85) label.style.left = `${left + width}%`;
  else if (left >= 15) label.style.right = `${100 - left}%`;
  else {
    label.classList.add('inside');
    label.style.right = `${100 - left - width}%`;
  }
  return label;
}

