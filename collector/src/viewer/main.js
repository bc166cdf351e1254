// The viewer's router: every view has a URL.
//   #/search?service=...&attr=k=v&...   the search form and its results (also the default)
//   #<traceId>?span=..&filter=..&hide=1&skew=adjust   one trace (selected span, filter, adjustment)
//   #/session/<id>                      one session's page loads, clicks, requests, errors, logs
//   #/logs?service=..&minSeverity=..    the most recent log records, filtered
//   #/file                              the OTLP JSON file opened last (kept in memory only)
import { el, isTraceId } from './util.js';
import { renderSearch } from './search.js';
import { renderDocument, renderTrace } from './trace.js';
import { renderSession } from './session.js';
import { renderLogSearch } from './logsearch.js';

const view = document.getElementById('view');
const notice = document.getElementById('notice');
let current = null; // the mounted view: { dispose, update?, traceId? }
let opened = null; // the opened file: { name, doc }
const home = document.querySelector('header h1 a'); // back to the latest search

function route() {
  const hash = location.hash.replace(/^#/, '');
  const [path, query = ''] = hash.split(/\?(.*)/s);
  const traceId = isTraceId(path) ? path.toLowerCase() : null;
  // Within the trace on screen (back, forward, a link to one of its spans): update it.
  if (traceId && current?.traceId === traceId) {
    current.update(new URLSearchParams(query));
    return;
  }
  if (current) current.dispose();
  current = null;
  notice.textContent = '';
  if (hash === '/file') {
    if (opened) current = renderDocument(view, opened.doc, opened.name);
    else view.replaceChildren(el('p', { className: 'muted', textContent: 'Open an OTLP JSON file (the button at the top): files are viewed in this page only, never stored, so a reload forgets them.' }));
  } else if (path === '/logs') {
    current = { dispose: renderLogSearch(view, new URLSearchParams(query)) };
  } else if (hash.startsWith('/session/')) {
    current = { dispose: renderSession(view, decodeURIComponent(hash.slice('/session/'.length))) };
  } else if (traceId) {
    document.getElementById('trace-id').value = traceId;
    current = { traceId, ...renderTrace(view, traceId, new URLSearchParams(query)) };
  } else {
    home.href = location.hash.startsWith('#/search') ? location.hash : '#/search';
    const search = path.startsWith('/search') ? query : '';
    current = { dispose: renderSearch(view, new URLSearchParams(search)) };
  }
}

document.getElementById('open-trace').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = document.getElementById('trace-id');
  const id = input.value.trim();
  if (isTraceId(id)) {
    location.hash = '#' + id.toLowerCase();
  } else {
    notice.textContent = 'A trace ID is 32 hex digits.';
    input.focus();
  }
});

document.getElementById('open-file').addEventListener('change', async (event) => {
  const file = event.target.files?.[0];
  event.target.value = '';
  if (!file) return;
  try {
    const doc = JSON.parse(await file.text());
    if (!doc || !Array.isArray(doc.resourceSpans)) throw new Error('no resourceSpans: not an OTLP JSON trace export');
    opened = { name: file.name, doc };
  } catch (error) {
    notice.textContent = `${file.name}: ${error.message}`;
    return;
  }
  if (location.hash === '#/file') route();
  else location.hash = '#/file';
});

window.addEventListener('hashchange', route);
route();
