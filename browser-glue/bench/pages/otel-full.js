// What an app ships with OpenTelemetry JS, the usual browser set-up: core + exporter
// (otel-core.js) and the fetch, XHR, document-load and user-interaction instrumentations.
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { DocumentLoadInstrumentation } from '@opentelemetry/instrumentation-document-load';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
import { UserInteractionInstrumentation } from '@opentelemetry/instrumentation-user-interaction';
import { XMLHttpRequestInstrumentation } from '@opentelemetry/instrumentation-xml-http-request';
import { start as startCore } from './otel-core.js';

export function start(endpoint) {
  const provider = startCore(endpoint);
  registerInstrumentations({
    instrumentations: [
      new FetchInstrumentation(),
      new XMLHttpRequestInstrumentation(),
      new DocumentLoadInstrumentation(),
      new UserInteractionInstrumentation(),
    ],
  });
  return provider;
}

export { startSpan } from './otel-core.js';
