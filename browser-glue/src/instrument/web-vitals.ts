/**
 * Web vitals (LCP, CLS, INP, FCP, TTFB), each recorded once per page view, when the page
 * is first hidden (LCP, CLS and INP are final then), as a span `browser.web_vital` in the
 * page view's trace (under `documentLoad`, else the server's `<meta name="traceparent">`).
 * Attributes follow OpenTelemetry's `browser.web_vital` event (`name`, `value`, `id`,
 * lowercase names), plus the rating and the attribution under the same prefix: which
 * element the largest paint, the largest shift or the slowest interaction was, and where
 * that interaction's time went (input delay, processing, presentation, and the longest
 * script of the long animation frames it overlapped).
 *
 * Measured here with PerformanceObserver, following the definitions web.dev gives and
 * Google's `web-vitals` package implements, rather than with that package: its
 * attribution build is 5.8 kB gzip, more than all of this SDK's instrumentations.
 */

import type { AttributeValue } from '../core/ops.js';
import type { Tracer } from '../core/tracer.js';
import type { Instrumentation } from './instrumentation.js';
import { traceFromMeta } from './page-load.js';
import { observe } from './observe.js';
import { pageSpan } from './page-view.js';

const PREFIX = 'browser.web_vital.';
/** web.dev's thresholds: good up to the first, poor above the second. */
const THRESHOLDS: Record<string, [number, number]> = { lcp: [2500, 4000], cls: [0.1, 0.25], inp: [200, 500], fcp: [1800, 3000], ttfb: [800, 1800] };

/** An Event Timing entry (not in TypeScript's DOM types everywhere yet). */
interface EventEntry extends PerformanceEntry {
  interactionId: number;
  processingStart: number;
  processingEnd: number;
  target: Node | null;
}

/** A Layout Instability entry. */
interface LayoutShift extends PerformanceEntry {
  value: number;
  hadRecentInput: boolean;
  sources: { node: Node | null }[];
}

/** A script of a Long Animation Frame entry. */
interface ScriptTiming extends PerformanceEntry {
  invoker: string;
  sourceURL: string;
  sourceCharPosition: number;
}

/** A short CSS-like path to `node` (tag, id or two classes, at most four levels). */
function selector(node: Node | null | undefined): string | undefined {
  const parts: string[] = [];
  for (let el = node instanceof Element ? node : node?.parentElement; el && parts.length < 4; el = el.parentElement) {
    const classes = [...el.classList].slice(0, 2).map((c) => `.${c}`).join('');
    parts.unshift(el.id ? `${el.localName}#${el.id}` : el.localName + classes);
    if (el.id || el.localName === 'body') break;
  }
  return parts.join('>') || undefined;
}

/** Records the page's web vitals (see the module comment). */
export function webVitalsInstrumentation(): Instrumentation {
  return {
    name: 'webVitals',
    install(context) {
      if (typeof document === 'undefined' || typeof PerformanceObserver !== 'function') return () => {};
      const { tracer } = context;
      const scope = context.scope('@wasm-otlp/instrumentation-web-vitals');
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
      const ttfb = nav ? Math.max(nav.responseStart - ((nav as { activationStart?: number }).activationStart || 0), 0) : undefined;
      let lcp: LargestContentfulPaint | undefined;
      let lcpFinal = false;
      let fcp: number | undefined;
      // CLS: the largest session window (shifts under 1 s apart, 5 s at most).
      let cls = 0;
      let window: LayoutShift[] = [];
      let windowValue = 0;
      let largest: LayoutShift[] = [];
      // INP: per interaction, its longest entry and the span of all its handlers.
      const interactions = new Map<number, { entry: EventEntry; processingStart: number; processingEnd: number }>();
      const frames: PerformanceEntry[] = [];
      const stops = [
        observe<LargestContentfulPaint>('largest-contentful-paint', (e) => lcpFinal || (lcp = e)),
        observe<PerformancePaintTiming>('paint', (e) => e.name === 'first-contentful-paint' && (fcp = e.startTime)),
        observe<LayoutShift>('layout-shift', (e) => {
          if (e.hadRecentInput) return;
          const last = window[window.length - 1];
          if (last && (e.startTime - last.startTime >= 1000 || e.startTime - window[0].startTime >= 5000)) {
            window = [];
            windowValue = 0;
          }
          window.push(e);
          windowValue += e.value;
          if (windowValue > cls) {
            cls = windowValue;
            largest = window.slice();
          }
        }),
        observe<EventEntry>('event', (e) => {
          if (!e.interactionId) return;
          const known = interactions.get(e.interactionId);
          if (!known) return void interactions.set(e.interactionId, { entry: e, processingStart: e.processingStart, processingEnd: e.processingEnd });
          if (e.duration > known.entry.duration) known.entry = e;
          known.processingStart = Math.min(known.processingStart, e.processingStart);
          known.processingEnd = Math.max(known.processingEnd, e.processingEnd);
        }, { durationThreshold: 16 }),
        observe<PerformanceEntry>('long-animation-frame', (e) => frames.push(e) > 100 && frames.shift()),
      ];
      // LCP stops at the first input.
      const input = () => (lcpFinal = true);
      for (const type of ['keydown', 'pointerdown']) addEventListener(type, input, { capture: true, once: true });

      const emit = (name: string, value: number, start: number, end: number, attribution: Record<string, AttributeValue | undefined>) => {
        const [good, poor] = THRESHOLDS[name];
        const attributes: Record<string, AttributeValue> = {
          [`${PREFIX}name`]: name,
          [`${PREFIX}value`]: value,
          [`${PREFIX}id`]: `${name}-${Math.round(performance.timeOrigin)}`,
          [`${PREFIX}rating`]: value <= good ? 'good' : value <= poor ? 'needs-improvement' : 'poor',
        };
        for (const [key, v] of Object.entries(attribution)) if (v !== undefined) attributes[PREFIX + key] = v;
        tracer.startSpan('browser.web_vital', { scope, parent: pageSpan() ?? traceFromMeta() ?? null, startTime: start, attributes }).end(end);
      };

      const recordAll = () => {
        if (ttfb !== undefined && nav) {
          emit('ttfb', ttfb, 0, ttfb, { dns: nav.domainLookupEnd - nav.domainLookupStart, connection: nav.connectEnd - nav.connectStart, request: nav.responseStart - nav.requestStart });
        }
        if (fcp !== undefined) emit('fcp', fcp, 0, fcp, { time_to_first_byte: ttfb, first_byte_to_fcp: ttfb === undefined ? undefined : fcp - ttfb });
        if (lcp) {
          const resource = lcp.url ? (performance.getEntriesByName(lcp.url)[0] as PerformanceResourceTiming | undefined) : undefined;
          const loaded = resource ? resource.responseEnd : (ttfb ?? 0);
          emit('lcp', lcp.startTime, 0, lcp.startTime, {
            target: selector(lcp.element),
            url: lcp.url || undefined,
            time_to_first_byte: ttfb,
            resource_load_delay: resource ? Math.max(resource.startTime - (ttfb ?? 0), 0) : undefined,
            resource_load_duration: resource ? resource.responseEnd - resource.startTime : undefined,
            element_render_delay: Math.max(lcp.startTime - loaded, 0),
          });
        }
        const shift = largest.reduce<LayoutShift | undefined>((a, e) => (!a || e.value > a.value ? e : a), undefined);
        emit('cls', cls, shift?.startTime ?? 0, shift?.startTime ?? 0, { target: selector(shift?.sources[0]?.node), largest_shift_value: shift?.value });
        const slowest = [...interactions.values()].sort((a, b) => b.entry.duration - a.entry.duration);
        // INP: the 98th percentile, i.e. one slowest interaction left out per 50.
        const interaction = slowest[Math.min(Math.floor(slowest.length / 50), slowest.length - 1)];
        if (interaction) {
          const { entry: e, processingStart, processingEnd } = interaction;
          const end = e.startTime + e.duration;
          const overlapping = frames.filter((f) => f.startTime < end && f.startTime + f.duration > e.startTime);
          const scripts = overlapping.flatMap((f) => (f as unknown as { scripts: ScriptTiming[] }).scripts ?? []);
          const script = scripts.sort((a, b) => b.duration - a.duration)[0];
          emit('inp', e.duration, e.startTime, end, {
            target: selector(e.target),
            interaction_type: e.name.startsWith('key') ? 'keyboard' : 'pointer',
            input_delay: processingStart - e.startTime,
            processing_duration: processingEnd - processingStart,
            presentation_delay: Math.max(end - processingEnd, 0),
            long_animation_frames: overlapping.length,
            longest_script: script ? `${script.invoker} (${script.sourceURL || 'inline'}:${script.sourceCharPosition})` : undefined,
            longest_script_duration: script?.duration,
          });
        }
      };
      // The window's capture phase comes before the SDK's own flush on hide (on the document).
      const onHide = () => {
        if (document.visibilityState !== 'hidden') return;
        removeEventListener('visibilitychange', onHide, { capture: true });
        tracer.safely(recordAll, undefined);
      };
      addEventListener('visibilitychange', onHide, { capture: true });
      return () => {
        for (const stop of stops) stop();
        removeEventListener('visibilitychange', onHide, { capture: true });
        for (const type of ['keydown', 'pointerdown']) removeEventListener(type, input, { capture: true });
      };
    },
  };
}
