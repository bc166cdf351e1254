/**
 * Long animation frames (frames that took over 50 ms from the task that began them to
 * their paint; Long Tasks where the browser has no Long Animation Frames API) as spans
 * `longAnimationFrame` (or `longTask`) under what they delayed: the interaction whose
 * time they overlap, else the page load, else in a trace of their own. Each names the
 * scripts that ran in it (the longest as attributes, every one as an event): who invoked
 * them (`BUTTON#buy.onclick`, `TimerHandler:setTimeout`, ...), from which file, at which
 * character, for how long.
 */

import type { Attributes } from '../core/ops.js';
import type { Tracer } from '../core/tracer.js';
import type { Instrumentation } from './instrumentation.js';
import { observe } from './observe.js';
import { spanDuring } from './page-view.js';

/** A script of a long animation frame (not in TypeScript's DOM types yet). */
interface Script {
  startTime: number;
  duration: number;
  invoker: string;
  invokerType: string;
  sourceURL: string;
  sourceFunctionName: string;
  sourceCharPosition: number;
  forcedStyleAndLayoutDuration: number;
}

/** A Long Animation Frame entry, or a Long Task entry (no scripts, no blocking duration). */
interface Frame extends PerformanceEntry {
  blockingDuration?: number;
  renderStart?: number;
  styleAndLayoutStart?: number;
  scripts?: Script[];
}

function scriptAttributes(script: Script): Attributes {
  return {
    'browser.script.invoker': script.invoker,
    'browser.script.invoker_type': script.invokerType,
    'browser.script.source_url': script.sourceURL,
    'browser.script.function': script.sourceFunctionName,
    'browser.script.char_position': script.sourceCharPosition,
    'browser.script.duration': script.duration,
    'browser.script.forced_style_and_layout_duration': script.forcedStyleAndLayoutDuration,
  };
}

function record(tracer: Tracer, scope: number, frame: Frame): void {
  const end = frame.startTime + frame.duration;
  const scripts = frame.scripts ?? [];
  const longest = scripts.reduce<Script | undefined>((a, s) => (!a || s.duration > a.duration ? s : a), undefined);
  const attributes: Attributes = { 'browser.frame.scripts': scripts.length };
  if (frame.blockingDuration !== undefined) attributes['browser.frame.blocking_duration'] = frame.blockingDuration;
  if (frame.renderStart) attributes['browser.frame.render_start'] = frame.renderStart - frame.startTime;
  if (frame.styleAndLayoutStart) attributes['browser.frame.style_and_layout_start'] = frame.styleAndLayoutStart - frame.startTime;
  const span = tracer.startSpan(frame.entryType === 'longtask' ? 'longTask' : 'longAnimationFrame', {
    scope,
    parent: spanDuring(frame.startTime, end) ?? null,
    startTime: frame.startTime,
    attributes: longest ? { ...attributes, ...scriptAttributes(longest) } : attributes,
  });
  for (const script of scripts.slice(0, 10)) span.addEvent('script', scriptAttributes(script), script.startTime);
  span.end(end);
}

/** Records long animation frames (see the module comment). */
export function longFramesInstrumentation(): Instrumentation {
  return {
    name: 'longFrames',
    install(context) {
      if (typeof document === 'undefined' || typeof PerformanceObserver !== 'function') return () => {};
      const { tracer } = context;
      const scope = context.scope('@wasm-otlp/instrumentation-long-frames');
      const type = PerformanceObserver.supportedEntryTypes?.includes('long-animation-frame') ? 'long-animation-frame' : 'longtask';
      // Frames before the page-load span exists wait for it: they delayed the page load.
      const waiting: Frame[] = [];
      const each = (frame: Frame) => tracer.safely(() => record(tracer, scope, frame), undefined);
      const loading = () => document.readyState !== 'complete';
      const onLoad = () => setTimeout(() => waiting.splice(0).forEach(each), 1); // after the page-load span's task
      if (loading()) addEventListener('load', onLoad, { once: true });
      const stop = observe<Frame>(type, (frame) => (loading() ? waiting.push(frame) : each(frame)));
      return () => {
        stop();
        removeEventListener('load', onLoad);
      };
    },
  };
}
