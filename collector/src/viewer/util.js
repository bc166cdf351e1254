// Helpers shared by the views. Every value that comes from spans is put on the page as
// text (textContent, attribute values set through the DOM), never parsed as markup.

/** An element: `props` are DOM properties (textContent, className, title, ...). */
export function el(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) if (child != null) node.append(child);
  return node;
}

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element; `attrs` are set with setAttribute (never markup). */
export function svg(tag, attrs = {}, children = []) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const child of children) if (child != null) node.append(child);
  return node;
}

/** GET a JSON answer of the collector; throws with its `error` text when not 2xx. */
export async function getJson(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Error(`${response.status} ${response.statusText}: the answer is not JSON`);
  }
  if (!response.ok) throw new Error(typeof body?.error === 'string' ? body.error : `${response.status} ${response.statusText}`);
  return body;
}

/** A duration in nanoseconds as text: 850 ns, 12.3 µs, 4.56 ms, 1.23 s, 2 m 3 s. */
export function formatDuration(ns) {
  ns = Number(ns);
  if (!Number.isFinite(ns)) return '?';
  const abs = Math.abs(ns);
  if (abs < 1e3) return `${ns} ns`;
  if (abs < 1e6) return `${(ns / 1e3).toPrecision(3)} µs`;
  if (abs < 1e9) return `${(ns / 1e6).toPrecision(3)} ms`;
  if (abs < 60e9) return `${(ns / 1e9).toPrecision(3)} s`;
  const s = Math.round(ns / 1e9);
  return s < 3600 ? `${Math.floor(s / 60)} m ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} m`;
}

/** Unix nanoseconds (a decimal string or number) as a Date (millisecond precision). */
export function nsToDate(ns) {
  try {
    return new Date(Number(BigInt(ns) / 1000000n));
  } catch {
    return new Date(NaN);
  }
}

/** A local date and time with milliseconds. */
export function formatTime(date) {
  if (Number.isNaN(date.getTime())) return '?';
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** An OTLP JSON AnyValue as display text. */
export function anyValueText(value) {
  if (value == null || typeof value !== 'object') return String(value ?? '');
  if ('stringValue' in value) return String(value.stringValue);
  if ('intValue' in value) return String(value.intValue);
  if ('doubleValue' in value) return String(value.doubleValue);
  if ('boolValue' in value) return String(value.boolValue);
  if ('bytesValue' in value) return `bytes ${value.bytesValue}`;
  if ('arrayValue' in value) return `[${(value.arrayValue?.values ?? []).map(anyValueText).join(', ')}]`;
  if ('kvlistValue' in value) return `{${(value.kvlistValue?.values ?? []).map((kv) => `${kv.key}: ${anyValueText(kv.value)}`).join(', ')}}`;
  return '';
}

/** OTLP JSON attributes as [key, text] pairs. */
export function attributePairs(list) {
  return (Array.isArray(list) ? list : []).map((a) => [String(a?.key ?? ''), anyValueText(a?.value)]);
}

/**
 * A two-column table of [key, value] pairs (text only), or a muted "none". With
 * `searchable`, each value links to a search for traces with that attribute.
 */
export function pairsTable(pairs, className = 'kv', searchable = false) {
  if (!pairs.length) return el('p', { className: 'muted', textContent: 'none' });
  const value = (k, v) => {
    const cell = el('td', { textContent: v });
    if (searchable && k) {
      cell.append(' ', el('a', { className: 'find', href: searchHash([['attr', `${k}=${v}`]]), textContent: '⌕', title: `traces with ${k}=${v}` }));
    }
    return cell;
  };
  return el('table', { className }, [
    el('tbody', {}, pairs.map(([k, v]) => el('tr', {}, [el('th', { textContent: k }), value(k, v)]))),
  ]);
}

/** The URL hash of a search: `#/search?` and the [name, value] pairs, encoded. */
export const searchHash = (pairs) => '#/search?' + new URLSearchParams(pairs);

/** 32 hex digits. */
export const isTraceId = (text) => /^[0-9a-fA-F]{32}$/.test(text);
