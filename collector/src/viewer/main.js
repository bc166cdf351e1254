// The viewer's router: every view has a URL.
//   #/search?service=...&attr=k=v&...   the search form and its results (also the default)
//   #<traceId>                          one trace
import { isTraceId } from './util.js';
import { renderSearch } from './search.js';
import { renderTrace } from './trace.js';

const view = document.getElementById('view');
const notice = document.getElementById('notice');
let current = null; // the mounted view's clean-up, if any

function route() {
  const hash = location.hash.replace(/^#/, '');
  if (current) current();
  current = null;
  notice.textContent = '';
  if (isTraceId(hash)) {
    document.getElementById('trace-id').value = hash.toLowerCase();
    current = renderTrace(view, hash.toLowerCase());
  } else {
    const query = hash.startsWith('/search') ? hash.slice('/search'.length).replace(/^\?/, '') : '';
    current = renderSearch(view, new URLSearchParams(query));
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

window.addEventListener('hashchange', route);
route();
