/**
 * @wasm-otlp/browser/instrumentations: the automatic instrumentations, one factory each,
 * for `init({ instrumentations: [...] })`. The package has no side effects at import, so
 * a bundler keeps only the factories an app calls.
 */

import type { Instrumentation } from './instrument/instrumentation.js';
import { type ConsoleLevel, consoleInstrumentation } from './instrument/console.js';
import { errorInstrumentation } from './instrument/errors.js';
import { fetchInstrumentation } from './instrument/fetch.js';
import { interactionInstrumentation } from './instrument/interaction.js';
import { longFramesInstrumentation } from './instrument/long-frames.js';
import { navigationInstrumentation } from './instrument/navigation.js';
import { pageLoadInstrumentation } from './instrument/page-load.js';
import { webVitalsInstrumentation } from './instrument/web-vitals.js';
import { xhrInstrumentation } from './instrument/xhr.js';

export { consoleInstrumentation, errorInstrumentation, fetchInstrumentation, interactionInstrumentation, longFramesInstrumentation, navigationInstrumentation, pageLoadInstrumentation, webVitalsInstrumentation, xhrInstrumentation };
export { INTERACTIVE } from './instrument/interaction.js';
export type { ConsoleLevel };

/** Which default instrumentations to install: each on unless `false` (interactions may take its options). */
export interface DefaultInstrumentations {
  pageLoad?: boolean;
  fetch?: boolean;
  xhr?: boolean;
  /** Events and the selector of traced elements (default `click`, `keydown` on interactive elements). */
  interactions?: boolean | { events?: string[]; selector?: string };
  errors?: boolean;
  /** `console.error` and `console.warn` as log records (or the levels given, `log` and `info` among them). */
  console?: boolean | { levels?: ConsoleLevel[] };
  navigation?: boolean;
  webVitals?: boolean;
  longFrames?: boolean;
}

/** The default instrumentations, less those turned off. */
export function defaultInstrumentations(on: DefaultInstrumentations = {}): Instrumentation[] {
  const chosen: Instrumentation[] = [];
  if (on.pageLoad !== false) chosen.push(pageLoadInstrumentation());
  if (on.fetch !== false) chosen.push(fetchInstrumentation());
  if (on.xhr !== false) chosen.push(xhrInstrumentation());
  if (on.interactions !== false) chosen.push(interactionInstrumentation(typeof on.interactions === 'object' ? on.interactions : {}));
  if (on.errors !== false) chosen.push(errorInstrumentation());
  if (on.console !== false) chosen.push(consoleInstrumentation(typeof on.console === 'object' ? on.console : {}));
  if (on.navigation !== false) chosen.push(navigationInstrumentation());
  if (on.webVitals !== false) chosen.push(webVitalsInstrumentation());
  if (on.longFrames !== false) chosen.push(longFramesInstrumentation());
  return chosen;
}
