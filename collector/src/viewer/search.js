// The search view: a form whose state lives in the URL (#/search?...), the results as a
// table and as a scatter plot of duration over start time.
import { el, svg, getJson, formatDuration, formatTime, nsToDate } from './util.js';

/** Time range presets: URL value, label, length in ms (none: any time). */
export const RANGES = [
  ['any', 'any time', null],
  ['15m', 'last 15 min', 15 * 60e3],
  ['1h', 'last 1 h', 3600e3],
  ['6h', 'last 6 h', 6 * 3600e3],
  ['24h', 'last 24 h', 24 * 3600e3],
  ['7d', 'last 7 d', 7 * 86400e3],
  ['custom', 'custom…', null],
];

/** Milliseconds as a decimal string of Unix nanoseconds. */
export const msToNs = (ms) => (BigInt(Math.floor(ms)) * 1000000n).toString();

/** The `GET /api/traces` query for the form state `params` (URL search params). */
export function apiQuery(params, now = Date.now()) {
  const q = new URLSearchParams();
  for (const name of ['service', 'operation', 'minDuration', 'maxDuration']) {
    const v = (params.get(name) ?? '').trim();
    if (v) q.set(name, v);
  }
  for (const a of params.getAll('attr')) if (a.trim()) q.append('attr', a.trim());
  const range = params.get('range') ?? 'any';
  const preset = RANGES.find(([id]) => id === range);
  if (preset && preset[2] != null) {
    q.set('start', msToNs(now - preset[2]));
  } else if (range === 'custom') {
    const from = Date.parse(params.get('from') ?? '');
    const to = Date.parse(params.get('to') ?? '');
    if (Number.isFinite(from)) q.set('start', msToNs(from));
    if (Number.isFinite(to)) q.set('end', msToNs(to));
  }
  if (params.get('error') === 'true') q.set('error', 'true');
  q.set('limit', (params.get('limit') ?? '').trim() || '20');
  return q;
}

/** Mounts the search view for the form state `params`; returns its clean-up. */
export function renderSearch(view, params) {
  let alive = true;
  const field = (label, input) => el('label', { className: 'field' }, [el('span', { textContent: label }), input]);

  const service = el('select', { id: 'q-service' }, [el('option', { value: '', textContent: 'any service' })]);
  const operation = el('select', { id: 'q-operation' }, [el('option', { value: '', textContent: 'any operation' })]);
  const minDuration = el('input', { id: 'q-min', type: 'text', placeholder: 'e.g. 250ms', value: params.get('minDuration') ?? '', size: 8 });
  const maxDuration = el('input', { id: 'q-max', type: 'text', placeholder: 'e.g. 1.5s', value: params.get('maxDuration') ?? '', size: 8 });
  const range = el('select', { id: 'q-range' }, RANGES.map(([value, textContent]) => el('option', { value, textContent })));
  range.value = RANGES.some(([id]) => id === params.get('range')) ? params.get('range') : 'any';
  const from = el('input', { id: 'q-from', type: 'datetime-local', step: 1, value: params.get('from') ?? '' });
  const to = el('input', { id: 'q-to', type: 'datetime-local', step: 1, value: params.get('to') ?? '' });
  const custom = el('span', { className: 'custom' }, [field('from', from), field('to', to)]);
  const showCustom = () => (custom.hidden = range.value !== 'custom');
  range.addEventListener('change', showCustom);
  showCustom();
  const errors = el('input', { id: 'q-error', type: 'checkbox', checked: params.get('error') === 'true' });
  const limit = el('input', { id: 'q-limit', type: 'number', min: 1, max: 1000, value: params.get('limit') || '20' });

  const attrRows = el('div', { id: 'q-attrs', className: 'attrs' });
  const addAttr = (value = '') => {
    const input = el('input', { type: 'text', className: 'q-attr', placeholder: 'key=value', value, size: 24 });
    const remove = el('button', { type: 'button', className: 'small', textContent: '×', title: 'remove this attribute filter' });
    const row = el('div', { className: 'attr-row' }, [input, remove]);
    remove.addEventListener('click', () => row.remove());
    attrRows.append(row);
    return input;
  };
  for (const a of params.getAll('attr')) addAttr(a);
  const addButton = el('button', { type: 'button', id: 'q-add-attr', textContent: '+ attribute' });
  addButton.addEventListener('click', () => addAttr().focus());

  const auto = el('input', { id: 'q-auto', type: 'checkbox', checked: params.get('refresh') === '5s' });
  const submit = el('button', { type: 'submit', id: 'q-submit', textContent: 'Search' });
  const form = el('form', { id: 'search', className: 'search', autocomplete: 'off' }, [
    field('service', service),
    field('operation', operation),
    el('div', { className: 'field' }, [el('span', { textContent: 'attributes' }), attrRows, addButton]),
    field('min duration', minDuration),
    field('max duration', maxDuration),
    field('time', range),
    custom,
    el('label', { className: 'field check' }, [errors, el('span', { textContent: 'errors only' })]),
    field('limit', limit),
    submit,
    el('label', { className: 'field check' }, [auto, el('span', { textContent: 'refresh every 5 s' })]),
  ]);

  /** The form state as URL params (empty fields left out). */
  const formState = () => {
    const p = new URLSearchParams();
    const put = (name, value) => value && p.set(name, value);
    put('service', service.value);
    put('operation', operation.value);
    for (const input of attrRows.querySelectorAll('input')) if (input.value.trim()) p.append('attr', input.value.trim());
    put('minDuration', minDuration.value.trim());
    put('maxDuration', maxDuration.value.trim());
    if (range.value !== 'any') put('range', range.value);
    if (range.value === 'custom') {
      put('from', from.value);
      put('to', to.value);
    }
    if (errors.checked) p.set('error', 'true');
    if (limit.value && limit.value !== '20') p.set('limit', limit.value);
    if (auto.checked) p.set('refresh', '5s');
    return p;
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const hash = '#/search?' + formState();
    if (location.hash === hash) runSearch(formState());
    else location.hash = hash; // the router re-renders with these params
  });

  const status = el('p', { id: 'q-status', className: 'muted', role: 'status' });
  const plot = el('div', { id: 'scatter', className: 'scatter' });
  const results = el('div', { id: 'results' });
  view.replaceChildren(el('section', { className: 'search-view' }, [form, status, plot, results]));

  // Fill the service and operation lists; a value from the URL is kept even if unknown.
  const setOptions = (select, values, wanted, anyLabel) => {
    select.replaceChildren(el('option', { value: '', textContent: anyLabel }), ...values.map((v) => el('option', { value: v, textContent: v })));
    if (wanted && !values.includes(wanted)) select.append(el('option', { value: wanted, textContent: wanted }));
    select.value = wanted ?? '';
  };
  const loadOperations = async (wanted) => {
    if (!service.value) {
      setOptions(operation, [], wanted, 'any operation');
      return;
    }
    try {
      const { operations } = await getJson(`/api/services/${encodeURIComponent(service.value)}/operations`);
      if (alive) setOptions(operation, operations, wanted, 'any operation');
    } catch {
      if (alive) setOptions(operation, [], wanted, 'any operation');
    }
  };
  service.addEventListener('change', () => loadOperations(''));
  form.dataset.ready = 'false';
  (async () => {
    try {
      const { services } = await getJson('/api/services');
      if (!alive) return;
      setOptions(service, services, params.get('service') ?? '', 'any service');
      await loadOperations(params.get('operation') ?? '');
    } catch (error) {
      if (alive) status.textContent = `Could not list services: ${error.message}`;
    }
    if (alive) form.dataset.ready = 'true';
  })();

  async function runSearch(state) {
    status.className = 'muted';
    status.textContent = 'Searching…';
    results.dataset.state = 'loading';
    let traces;
    try {
      ({ traces } = await getJson('/api/traces?' + apiQuery(state)));
    } catch (error) {
      if (!alive) return;
      status.className = 'err';
      status.textContent = `Search failed: ${error.message}`;
      plot.replaceChildren();
      results.replaceChildren();
      results.dataset.state = 'error';
      return;
    }
    if (!alive) return;
    status.className = 'muted';
    status.textContent = `${traces.length} trace${traces.length === 1 ? '' : 's'}${traces.length >= Number(apiQuery(state).get('limit')) ? ' (the limit; raise it for more)' : ''}, ${formatTime(new Date())}`;
    plot.replaceChildren(scatter(traces));
    results.replaceChildren(table(traces));
    results.dataset.state = 'done';
  }
  runSearch(params);
  // Refreshing repeats the search in the URL (a preset time range moves with the clock).
  auto.addEventListener('change', () => history.replaceState(null, '', '#/search?' + formState()));
  const timer = setInterval(() => {
    if (auto.checked && !document.hidden && results.dataset.state !== 'loading') runSearch(new URLSearchParams(location.hash.replace(/^#\/search\??/, '')));
  }, 5000);
  return () => {
    alive = false;
    clearInterval(timer);
  };
}

function table(traces) {
  if (!traces.length) return el('p', { className: 'muted', textContent: 'No traces match.' });
  const rows = traces.map((t) => {
    const link = el('a', { href: '#' + t.traceId, textContent: t.rootSpanName ?? '(root not received)' });
    if (t.rootSpanName == null) link.className = 'muted';
    const row = el('tr', { className: 'trace-row' + (t.error ? ' has-error' : '') }, [
      el('td', { className: 'name' }, [link]),
      el('td', { className: 'services', title: (t.services ?? []).join(', ') }, services(t)),
      el('td', { textContent: formatTime(nsToDate(t.startTimeUnixNano)) }),
      el('td', { className: 'num', textContent: formatDuration(t.durationNanos) }),
      el('td', { className: 'num', textContent: String(t.spanCount) }),
      el('td', { className: 'err', textContent: t.error ? '✖ error' : '', title: t.error ? 'a span of this trace has status error' : '' }),
      el('td', { className: 'mono muted', textContent: t.traceId }),
    ]);
    row.dataset.traceId = t.traceId;
    row.addEventListener('click', (event) => {
      if (event.target.tagName !== 'A') location.hash = '#' + t.traceId;
    });
    return row;
  });
  return el('table', { className: 'results' }, [
    el('thead', {}, [el('tr', {}, ['root span', 'services', 'start', 'duration', 'spans', 'error', 'trace ID'].map((h) => el('th', { textContent: h })))]),
    el('tbody', {}, rows),
  ]);
}

/** A trace's services as chips: the root span's first, then the others (sorted). */
function services(t) {
  const all = Array.isArray(t.services) ? t.services : [];
  const root = t.service ?? '';
  return [root, ...all.filter((s) => s !== root)].map((s, i) =>
    el('span', { className: 'chip' + (i === 0 ? ' root' : ''), textContent: s, title: i === 0 ? 'the root span\'s service' : '' }));
}

/** Duration over start time, one clickable point per trace. */
function scatter(traces) {
  if (!traces.length) return el('span');
  const W = 900, H = 160, L = 70, R = 10, T = 10, B = 24;
  const xs = traces.map((t) => nsToDate(t.startTimeUnixNano).getTime());
  const ys = traces.map((t) => Number(t.durationNanos));
  let x0 = Math.min(...xs), x1 = Math.max(...xs);
  if (x1 - x0 < 1) [x0, x1] = [x0 - 500, x1 + 500];
  const y1 = Math.max(...ys, 1);
  const px = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y) => H - B - (y / y1) * (H - T - B);
  const plot = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'trace duration over start time' });
  plot.append(
    svg('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }),
    svg('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }),
  );
  const label = (x, y, text, anchor) => {
    const t = svg('text', { x, y, 'text-anchor': anchor, class: 'tick' });
    t.textContent = text;
    return t;
  };
  plot.append(
    label(L - 4, T + 8, formatDuration(y1), 'end'),
    label(L - 4, H - B, '0', 'end'),
    label(L, H - 6, formatTime(new Date(x0)), 'start'),
    label(W - R, H - 6, formatTime(new Date(x1)), 'end'),
  );
  traces.forEach((t, i) => {
    const point = svg('circle', { cx: px(xs[i]).toFixed(1), cy: py(ys[i]).toFixed(1), r: 4.5, class: 'point' + (t.error ? ' error' : '') });
    const title = svg('title');
    title.textContent = `${t.rootSpanName ?? '(root not received)'} · ${t.service ?? ''} · ${formatDuration(t.durationNanos)}`;
    point.append(title);
    point.dataset.traceId = t.traceId;
    point.addEventListener('click', () => (location.hash = '#' + t.traceId));
    plot.append(point);
  });
  return plot;
}
