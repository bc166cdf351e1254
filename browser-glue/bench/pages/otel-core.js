// What an app ships with OpenTelemetry JS, core + exporter: WebTracerProvider,
// BatchSpanProcessor and the OTLP/HTTP (JSON) exporter.
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, WebTracerProvider } from '@opentelemetry/sdk-trace-web';

export function start(endpoint) {
  const provider = new WebTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench-app' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }))],
  });
  provider.register();
  return provider;
}

export const startSpan = (name) => trace.getTracer('bench-app').startSpan(name);
