// Log records in the views: read from an answer's `resourceLogs` (OTLP JSON, as
// GET /api/traces/{id}, /api/sessions/{id} and /api/logs return them), named and
// coloured by severity, listed in a table whose rows open to show their attributes.
import { el, anyValueText, attributePairs, pairsTable, formatDuration, formatTime, nsToDate } from './util.js';

/** Severity ranges of OpenTelemetry's data model: the lowest number of each, its name. */
const SEVERITIES = [[21, 'fatal'], [17, 'error'], [13, 'warn'], [9, 'info'], [5, 'debug'], [1, 'trace']];

/** The name of a SeverityNumber (`error` for 17 to 20), or `unset`. */
export function severityName(number) {
  const n = Number(number) || 0;
  return SEVERITIES.find(([lowest]) => n >= lowest)?.[1] ?? 'unset';
}

const big = (v) => {
  try {
    return BigInt(v ?? 0);
  } catch {
    return 0n;
  }
};

/**
 * The log records of an OTLP JSON document, by time: each with its resource, scope,
 * service, time (ns, BigInt: its timeUnixNano, else its observed time), severity
 * (number, name, and the sender's text), body as text, trace and span IDs (lowercase).
 */
export function flattenLogs(doc) {
  const records = [];
  for (const rl of Array.isArray(doc?.resourceLogs) ? doc.resourceLogs : []) {
    const resource = rl?.resource ?? {};
    const service = attributePairs(resource.attributes).find(([k]) => k === 'service.name')?.[1] ?? 'unknown_service';
    for (const sl of Array.isArray(rl?.scopeLogs) ? rl.scopeLogs : []) {
      for (const record of Array.isArray(sl?.logRecords) ? sl.logRecords : []) {
        const time = big(record.timeUnixNano) || big(record.observedTimeUnixNano);
        const number = Number(record.severityNumber) || 0;
        records.push({
          record,
          resource,
          scope: sl.scope ?? {},
          service,
          timeNs: time,
          severity: severityName(number),
          severityNumber: number,
          severityText: String(record.severityText ?? ''),
          body: anyValueText(record.body),
          traceId: String(record.traceId ?? '').toLowerCase(),
          spanId: String(record.spanId ?? '').toLowerCase(),
        });
      }
    }
  }
  return records.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
}

/** The severity as a coloured chip: the sender's text, else the name. */
export function severityChip(log) {
  return el('span', {
    className: `sev sev-${log.severity}`,
    textContent: log.severityText || log.severity,
    title: `severity ${log.severityNumber} (${log.severity})`,
  });
}

/**
 * A table of log records: time (+ from `startNs`), severity, service, body; each row
 * opens (a click, or Enter) to show the record's attributes and IDs. `link(log)` gives
 * an element for the record's last cell (its span or trace), or null.
 */
export function logTable(logs, { id, startNs, link = () => null }) {
  const body = el('tbody');
  for (const log of logs) {
    const row = el('tr', { className: `log-row sev-row-${log.severity}`, tabIndex: 0 });
    const offset = startNs != null ? `+${formatDuration(Number(log.timeNs - startNs))}` : '';
    row.append(
      el('td', { className: 'num', title: formatTime(nsToDate(log.timeNs)), textContent: offset || formatTime(nsToDate(log.timeNs)) }),
      el('td', {}, [severityChip(log)]),
      el('td', { textContent: log.service }),
      el('td', { className: 'log-body', textContent: log.body }),
      el('td', {}, [link(log) ?? '']),
    );
    const more = el('tr', { className: 'log-more', hidden: true }, [el('td', { colSpan: 5 }, [logDetail(log)])]);
    const open = () => {
      more.hidden = !more.hidden;
      row.classList.toggle('open', !more.hidden);
    };
    row.addEventListener('click', (event) => {
      if (!event.target.closest('a, button')) open();
    });
    row.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.target.closest('a, button')) open();
    });
    body.append(row, more);
  }
  return el('table', { className: 'results logs', id }, [
    el('thead', {}, [el('tr', {}, ['at', 'severity', 'service', 'body', ''].map((h) => el('th', { textContent: h })))]),
    body,
  ]);
}

/** One record's details: time, severity, IDs, event name, attributes. */
export function logDetail(log) {
  const r = log.record;
  return el('div', { className: 'log-detail' }, [
    pairsTable([
      ['time', formatTime(nsToDate(log.timeNs))],
      ['severity', `${log.severityText || log.severity} (${log.severityNumber})`],
      ...(r.eventName ? [['event', String(r.eventName)]] : []),
      ...(log.traceId ? [['trace ID', log.traceId]] : []),
      ...(log.spanId ? [['span ID', log.spanId]] : []),
    ], 'kv summary'),
    pairsTable(attributePairs(r.attributes), 'kv', true),
  ]);
}

/** A mark for a record at `left`% of a track, coloured by severity. */
export function logMark(log, left, tag = 'span', props = {}) {
  const mark = el(tag, { className: `log-mark sev-${log.severity}`, title: `${log.severityText || log.severity}: ${log.body}`, ...props });
  mark.style.left = `${left}%`;
  return mark;
}
