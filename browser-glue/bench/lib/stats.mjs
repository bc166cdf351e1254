// Small numeric and table helpers for the report.

/** Median of numbers. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** `median (min-max)` with `digits` decimals. */
export function spread(values, digits = 2) {
  const f = (v) => v.toFixed(digits);
  return `${f(median(values))} (${f(Math.min(...values))}-${f(Math.max(...values))})`;
}

/** Kibibytes with one decimal. */
export const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

/** A ratio with two decimals. */
export const ratio = (a, b) => `${(a / b).toFixed(2)}x`;

/** Rows of cells as a left-aligned, space-padded table (first row is the header). */
export function table(rows, indent = '  ') {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c] ?? '').length)));
  const line = (r) => indent + r.map((cell, c) => String(cell ?? '').padEnd(widths[c])).join('   ').trimEnd();
  return [line(rows[0]), indent + widths.map((w) => '-'.repeat(w)).join('   '), ...rows.slice(1).map(line)].join('\n');
}
