// The app every bundler test builds, written as a user of the package would write it. The
// page's query names the collector (`?collector=http://127.0.0.1:4318`) and the case
// (`&case=vite-build`), which names the service and the one span; the outcome is shown
// in #status (data-state="ok" or "error", with the error's message) and the title.
import { flush, init, startSpan } from '@wasm-otlp/browser';

const query = new URLSearchParams(location.search);
const name = query.get('case') ?? 'unnamed';
const status = document.getElementById('status');

async function main() {
  const sdk = await init({ endpoint: query.get('collector') ?? 'http://127.0.0.1:4318', serviceName: `bundler-${name}` });
  const span = startSpan(`bundler-span-${name}`);
  span.setAttribute('bundler.case', name);
  span.end();
  flush();
  // Wait for the collector's answer, so that a failed export shows on the page too.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const reports = sdk.deliveries();
    const failed = reports.find((r) => !r.ok);
    if (failed) throw new Error(`export failed: ${JSON.stringify(failed)}`);
    if (reports.length) return `delivered ${reports.reduce((n, r) => n + r.count, 0)} span(s)`;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the collector did not answer within 10 s');
}

function report(state, text) {
  status.dataset.state = state;
  status.textContent = text;
  document.title = `${state}: ${name}`;
}

main().then(
  (text) => report('ok', text),
  (error) => report('error', error?.stack ? `${error}\n${error.stack}` : String(error)),
);
