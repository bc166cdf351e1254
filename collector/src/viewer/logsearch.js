// The log view (#/logs?service=..&minSeverity=..&text=..&range=..&end=..&limit=..): the
// most recent log records that match a form whose state lives in the URL, newest first,
// each linking to its trace; "older" pages back (the oldest time shown becomes `end`).
//
// Data: GET /api/logs, bounded by its `limit`; `truncated` says that older ones match.
import { el, getJson } from './util.js';
import { flattenLogs, logTable } from './logs.js';
import { RANGES, msToNs } from './search.js';

/** Minimum severities offered: URL value and label (the API takes the names). */
const SEVERITIES = [['', 'any'], ['debug', 'debug and above'], ['info', 'info and above'], ['warn', 'warn and above'], ['error', 'error and above'], ['fatal', 'fatal']];

/** The `GET /api/logs` query for the form state `params` (URL search params). */
export function logsApiQuery(params, now = Date.now()) {
  const q = new URLSearchParams();
  for (const name of ['service', 'minSeverity', 'text', 'end']) {
    const v = (params.get(name) ?? '').trim();
    if (v) q.set(name, v);
  }
  const preset = RANGES.find(([id]) => id === params.get('range'));
  if (preset && preset[2] != null) q.set('start', msToNs(now - preset[2]));
  q.set('limit', (params.get('limit') ?? '').trim() || '100');
  return q;
}

/** Mounts the log view for the form state `params`; returns its clean-up. */
export function renderLogSearch(view, params) {
  let alive = true;
  const field = (label, input) => el('label', { className: 'field' }, [el('span', { textContent: label }), input]);
  const service = el('input', { id: 'l-service', type: 'text', placeholder: 'any service', value: params.get('service') ?? '', size: 16 });
  const severity = el('select', { id: 'l-severity' }, SEVERITIES.map(([value, textContent]) => el('option', { value, textContent })));
  severity.value = SEVERITIES.some(([v]) => v === params.get('minSeverity')) ? params.get('minSeverity') : '';
  const text = el('input', { id: 'l-text', type: 'search', placeholder: 'text in the body', value: params.get('text') ?? '', size: 24 });
  const presets = RANGES.filter(([, , ms]) => ms != null);
  const range = el('select', { id: 'l-range' }, [el('option', { value: '', textContent: 'any time' }), ...presets.map(([value, textContent]) => el('option', { value, textContent }))]);
  range.value = presets.some(([id]) => id === params.get('range')) ? params.get('range') : '';
  const limit = el('input', { id: 'l-limit', type: 'number', min: 1, max: 1000, value: params.get('limit') || '100' });
  const form = el('form', { id: 'log-search', className: 'search', autocomplete: 'off' }, [
    field('service', service),
    field('severity', severity),
    field('body', text),
    field('time', range),
    field('limit', limit),
    el('button', { type: 'submit', id: 'l-submit', textContent: 'Search logs' }),
  ]);
  /** The form state as URL params (empty fields left out; a new search starts at the newest). */
  const formState = () => {
    const p = new URLSearchParams();
    const put = (name, value) => value && p.set(name, value);
    put('service', service.value.trim());
    put('minSeverity', severity.value);
    put('text', text.value.trim());
    put('range', range.value);
    if (limit.value && limit.value !== '100') p.set('limit', limit.value);
    return p;
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = '#/logs?' + formState();
  });
  const status = el('p', { id: 'l-status', className: 'muted', role: 'status', textContent: 'Searching…' });
  const results = el('div', { id: 'log-results' });
  view.replaceChildren(el('section', { className: 'search-view' }, [form, status, results]));

  getJson('/api/logs?' + logsApiQuery(params)).then(
    (doc) => {
      if (!alive) return;
      const logs = flattenLogs(doc).reverse();
      const older = new URLSearchParams(params);
      if (logs.length) older.set('end', String(logs.at(-1).timeNs));
      status.textContent = `${logs.length} log record${logs.length === 1 ? '' : 's'}, newest first${params.get('end') ? ' (older ones)' : ''}`;
      results.dataset.state = 'done';
      results.replaceChildren(
        logs.length
          ? logTable(logs, { id: 'log-table', link: (log) => (log.traceId ? el('a', { href: `#${log.traceId}${log.spanId ? `?span=${log.spanId}` : ''}`, textContent: 'trace' }) : null) })
          : el('p', { className: 'muted', textContent: 'No log records match.' }),
        doc.truncated && logs.length ? el('p', {}, [el('a', { id: 'l-older', href: '#/logs?' + older, textContent: 'older records →' })]) : null,
      );
    },
    (error) => {
      if (!alive) return;
      results.dataset.state = 'error';
      status.className = 'err';
      status.textContent = `Logs: ${error.message}`;
    },
  );
  return () => {
    alive = false;
  };
}
