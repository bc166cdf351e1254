// The session view (#/session/<id>): one user's session on one time axis, in lanes by
// kind (page loads, web vitals, navigations, interactions, fetches and XHRs, errors, other), each
// item a bar (or a mark, when too short to see) linking to its span in its trace, and a
// lane of its log records (a mark coloured by severity, linking to its trace); below,
// the same items as a table in time order, with what each was about, and the log records.
//
// Data: GET /api/sessions/{id}, the spans of the traces with that session.id (bounded
// by the API: the most recent traces, then `truncated`) and the session's log records
// (with a trace or not: the most recent, then `logsTruncated`). One request rather than
// composing /api/traces?attr=session.id=... and one /api/traces/{id} per trace: the
// collector applies the bounds in one place and the page makes one round trip.
import { el, getJson, formatDuration, formatTime, nsToDate, attributePairs } from './util.js';
import { flattenSpans } from './trace.js';
import { flattenLogs, logMark, logTable } from './logs.js';

/** The lanes, top to bottom: id, label, and the kind of one item. */
export const LANES = [
  ['page-load', 'page loads', 'page load'],
  ['vital', 'web vitals', 'web vital'],
  ['navigation', 'navigations', 'navigation'],
  ['interaction', 'interactions', 'interaction'],
  ['http', 'fetch / XHR', 'request'],
  ['error', 'errors', 'error'],
  ['other', 'other', 'other'],
];

/** What an item was about: the element, the URL, the error's message, a vital's value. */
function about(node) {
  const attrs = new Map(attributePairs(node.span.attributes));
  if (attrs.has('browser.web_vital.name')) {
    const [name, value, rating, target] = ['name', 'value', 'rating', 'target'].map((k) => attrs.get(`browser.web_vital.${k}`));
    const shown = name === 'cls' ? Number(value).toFixed(3) : `${Math.round(Number(value))} ms`;
    return [`${String(name).toUpperCase()} ${shown}`, rating, target].filter((p) => p !== undefined).join(' · ');
  }
  const parts = ['element.name', 'url.full', 'error.type'].filter((k) => attrs.has(k)).map((k) => attrs.get(k));
  if (node.error && node.span.status?.message) parts.push(String(node.span.status.message));
  return parts.join(' · ');
}

const CLIENT = [3, 'SPAN_KIND_CLIENT'];

/**
 * The lane of a span, by the names and attributes the browser SDK (and OpenTelemetry's
 * web instrumentations) give it; null for a span that is part of another item (a page
 * load's resource fetches, a server's spans). Spans that are none of the known kinds go
 * to `other` when they start a trace.
 */
export function laneOf(node) {
  const attrs = new Map(attributePairs(node.span.attributes));
  const name = node.name;
  if (name === 'documentLoad') return 'page-load';
  if (name === 'browser.web_vital') return 'vital';
  if (name === 'navigation' && attrs.has('navigation.trigger')) return 'navigation';
  if ((name.startsWith('user.') && attrs.has('event.type')) || attrs.has('event_type')) return 'interaction';
  if (CLIENT.includes(node.span.kind) && (attrs.has('http.request.method') || attrs.has('http.method'))) return 'http';
  if (name === 'exception' || name === 'unhandledrejection' || node.error) return 'error';
  if (!node.parentSpanId) return 'other';
  return null;
}

/**
 * The session's items: spans of the services that carry the session (a service of
 * which some span, or its resource, has this session.id: the browser app, not the
 * servers its requests reach), each with its lane, by start time.
 */
export function sessionItems(nodes, sessionId) {
  const carries = (n) => [...attributePairs(n.span.attributes), ...attributePairs(n.resource.attributes)].some(([k, v]) => k === 'session.id' && v === sessionId);
  const services = new Set(nodes.filter(carries).map((n) => n.service));
  return nodes
    .filter((n) => services.has(n.service))
    .map((n) => ({ node: n, lane: laneOf(n) }))
    .filter((item) => item.lane)
    .sort((a, b) => a.node.start - b.node.start);
}

/** Mounts the view for session `id`; returns its clean-up. */
export function renderSession(view, id) {
  let alive = true;
  view.replaceChildren(el('p', { className: 'muted', id: 'session-status', textContent: `Loading session ${id}…` }));
  getJson(`/api/sessions/${encodeURIComponent(id)}`).then(
    (doc) => {
      if (alive) showSession(view, id, doc);
    },
    (error) => {
      if (alive) view.replaceChildren(el('p', { className: 'err', id: 'session-status', textContent: `Session ${id}: ${error.message}` }));
    },
  );
  return () => {
    alive = false;
  };
}

/** Items in `lane` packed into rows so that none overlaps another (in % of the axis). */
function pack(items, left, width) {
  const rows = [];
  for (const item of items) {
    const from = left(item);
    const to = from + Math.max(width(item), MIN_WIDTH) + GAP;
    let row = rows.find((r) => r.end <= from);
    if (!row) rows.push((row = { end: 0, items: [] }));
    row.items.push(item);
    row.end = to;
  }
  return rows;
}

/** The narrowest item drawn and the space kept after it, in % of the axis. */
const MIN_WIDTH = 0.6;
const GAP = 0.2;

function showSession(view, id, doc) {
  const { nodes, startNs: spansStartNs, total } = flattenSpans(doc);
  const items = sessionItems(nodes, id);
  const logs = flattenLogs(doc);
  // Times are ns from the earliest span's start (the earliest record's without spans).
  const startNs = nodes.length ? spansStartNs : (logs[0]?.timeNs ?? 0n);
  const logAt = (log) => Number(log.timeNs - startNs);
  const times = [...items.map((i) => i.node.start), ...logs.map(logAt)];
  const ends = [...items.map((i) => i.node.start + i.node.duration), ...logs.map(logAt)];
  const from = times.length ? Math.min(...times) : 0;
  const to = ends.length ? Math.max(...ends) : total;
  const span = Math.max(to - from, 1);
  const left = (item) => (100 * (item.node.start - from)) / span;
  const width = (item) => (100 * item.node.duration) / span;

  const traces = new Set(items.map((i) => String(i.node.span.traceId ?? '').toLowerCase()));
  const head = el('div', { className: 'trace-head' }, [
    el('h2', { id: 'session-title' }, ['session ', el('span', { className: 'mono', textContent: id })]),
    el('p', { className: 'muted', id: 'session-meta', textContent: [
      `${items.length} item${items.length === 1 ? '' : 's'} in ${traces.size} trace${traces.size === 1 ? '' : 's'}`,
      `${logs.length} log record${logs.length === 1 ? '' : 's'}`,
      formatDuration(to - from),
      `started ${formatTime(nsToDate(startNs + BigInt(from)))}`,
    ].join(' · ') }),
    doc.truncated ? el('p', { className: 'warn', id: 'session-truncated', textContent: `Cut: the ${doc.traces} most recent traces of this session, or the first spans of them, are shown (the API's limit).` }) : null,
    doc.logsTruncated ? el('p', { className: 'warn', id: 'session-logs-truncated', textContent: `Cut: the ${logs.length} most recent log records of this session are shown (the API's limit).` }) : null,
  ]);

  const axis = el('div', { className: 'axis' });
  for (let i = 0; i <= 4; i++) {
    const tick = el('span', { className: 'tick' + (i === 4 ? ' last' : ''), textContent: '+' + formatDuration(Math.round((span * i) / 4)) });
    tick.style.left = `${i * 25}%`;
    axis.append(tick);
  }
  const lanes = LANES.map(([lane, label]) => {
    const rows = pack(items.filter((i) => i.lane === lane), left, width);
    const tracks = (rows.length ? rows : [{ items: [] }]).map((row) =>
      el('div', { className: 'track' }, row.items.map((item) => itemLink(item, left(item), width(item)))));
    return el('div', { className: 'lane', id: `lane-${lane}` }, [
      el('div', { className: 'lane-label', textContent: `${label} (${items.filter((i) => i.lane === lane).length})` }),
      el('div', { className: 'lane-tracks' }, tracks),
    ]);
  });
  const logLane = el('div', { className: 'lane', id: 'lane-logs' }, [
    el('div', { className: 'lane-label', textContent: `log records (${logs.length})` }),
    el('div', { className: 'lane-tracks' }, [el('div', { className: 'track' }, logs.map((log) => logMark(log, (100 * (logAt(log) - from)) / span, log.traceId ? 'a' : 'span', log.traceId ? { href: traceHref(log) } : {})))]),
  ]);
  const logList = logs.length ? el('section', { id: 'session-logs' }, [
    el('h3', { textContent: `log records (${logs.length})` }),
    logTable(logs, { id: 'session-log-table', startNs: startNs + BigInt(from), link: (log) => (log.traceId ? el('a', { href: traceHref(log), textContent: 'trace' }) : null) }),
  ]) : null;
  view.replaceChildren(el('section', { className: 'session-view' }, [
    head,
    el('div', { className: 'timeline' }, [
      el('div', { className: 'axis-row' }, [el('div', { className: 'label-head', textContent: 'lane' }), axis]),
      ...lanes,
      logLane,
    ]),
    items.length ? itemTable(items, from) : el('p', { className: 'muted', textContent: 'No page loads, navigations, interactions, requests or errors in this session’s spans.' }),
    logList,
  ]));
  view.querySelector('.timeline').dataset.ready = 'true';
}

/** The items in time order: when (from the session's start), kind, name, what about, service, duration. */
function itemTable(items, from) {
  const kind = new Map(LANES.map(([lane, , one]) => [lane, one]));
  return el('table', { className: 'results', id: 'session-items' }, [
    el('thead', {}, [el('tr', {}, ['at', 'kind', 'span', 'about', 'service', 'duration'].map((h) => el('th', { textContent: h })))]),
    el('tbody', {}, items.map(({ node, lane }) => el('tr', { className: node.error ? 'has-error' : '' }, [
      el('td', { className: 'num', textContent: '+' + formatDuration(node.start - from) }),
      el('td', { textContent: kind.get(lane) }),
      el('td', { className: 'name' + (node.error ? ' err' : '') }, [el('a', { href: `#${String(node.span.traceId ?? '').toLowerCase()}?span=${node.spanId}`, textContent: node.name })]),
      el('td', { className: 'about', textContent: about(node) }),
      el('td', { textContent: node.service }),
      el('td', { className: 'num', textContent: formatDuration(node.duration) }),
    ]))),
  ]);
}

/** The URL of a log record's trace, at its span if it has one. */
const traceHref = (log) => `#${log.traceId}${log.spanId ? `?span=${log.spanId}` : ''}`;

/** One item: a link to its span in its trace, as a bar on the axis. */
function itemLink({ node, lane }, left, width) {
  const traceId = String(node.span.traceId ?? '').toLowerCase();
  const link = el('a', {
    className: 'item' + (node.error ? ' error' : '') + (width < MIN_WIDTH ? ' mark' : ''),
    href: `#${traceId}?span=${node.spanId}`,
    title: `${node.service}: ${node.name} · ${formatDuration(node.duration)} · ${formatTime(nsToDate(node.startNs))}${node.error ? ' · error' : ''}`,
  }, [el('span', { className: 'item-name', textContent: node.name })]);
  link.dataset.lane = lane;
  link.dataset.spanId = node.spanId;
  link.style.left = `${left}%`;
  link.style.width = `${Math.max(width, MIN_WIDTH)}%`;
  return link;
}
