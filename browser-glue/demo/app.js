// The demo shop's page: the seed's e-commerce flow, traced with @wasm-otlp/browser.
//
// Automatic instrumentation gives the page-load span (continuing the server's
// <meta name="traceparent">), a span per click, fetch client spans (with `traceparent` on
// same-origin requests only) and error spans. The shop's own steps use the API:
// traceAsync('view_product'), measure('add_to_cart'), traceAsync('checkout') with
// validate / payment / order children, and a worker job continuing the page's trace.

const config = window.DEMO_CONFIG;
const api = await import(config.sdk);
const { init, measure, traceAsync, injectContext } = api;

await init({
  endpoint: config.collector,
  serviceName: 'demo-shop',
  serviceVersion: '0.1.0',
  resource: { 'deployment.environment.name': 'demo' },
  batch: { delayMs: config.batchDelayMs },
  session: { idleMinutes: config.sessionIdleMinutes },
  sampler: config.sampler,
  key: config.key,
  // The other origin (config.crossOrigin) is deliberately not listed: its requests are
  // traced, but carry no traceparent. Same-origin requests always carry it.
  propagateTraceHeaderCorsUrls: [],
});

const $ = (selector, root = document) => root.querySelector(selector);
const cart = new Map(); // product id -> quantity
const prices = { 1: 12.5, 2: 54, 3: 89.9 };

/** One line in the page's log, with a link to the trace in the collector's viewer. */
function log(text, { traceId, error = false } = {}) {
  const item = document.createElement('li');
  item.textContent = text + ' ';
  if (error) item.className = 'error';
  if (traceId) {
    const link = document.createElement('a');
    link.href = `${config.collector}/#${traceId}`;
    link.target = '_blank';
    link.rel = 'noopener';
    link.textContent = `trace ${traceId.slice(0, 8)}…`;
    item.append(link);
  }
  $('#log').prepend(item);
}

const traceOf = (traceparent) => traceparent?.split('-')[1];
const cartItems = () => [...cart.values()].reduce((a, b) => a + b, 0);
const cartTotal = () => Math.round([...cart].reduce((sum, [id, q]) => sum + prices[id] * q, 0) * 100) / 100;

function renderCart() {
  const list = $('#cart-items');
  list.replaceChildren();
  for (const [id, quantity] of cart) {
    const item = document.createElement('li');
    item.textContent = `${quantity} × ${$(`.product[data-product="${id}"] h2`).textContent}`;
    list.append(item);
  }
  if (!cart.size) list.innerHTML = '<li class="muted">empty</li>';
}

/** View a product: a span around the API call (the fetch span is its child). */
function viewProduct(id) {
  history.pushState(null, '', `${location.search}#product-${id}`); // an SPA navigation span
  return traceAsync('view_product', async (span) => {
    span.setAttribute('product.id', id);
    const response = await fetch(`/api/product/${id}`);
    const body = await response.json();
    span.setAttributes({ 'product.price': body.product.price, 'product.in_stock': body.product.stock > 0, result: response.ok ? 'shown' : 'missing' });
    log(`viewed ${body.product.name} (${body.product.stock} in stock); the server saw traceparent ${body.traceparent}`, { traceId: traceOf(body.traceparent) });
    return body;
  });
}

/** Add to cart: a synchronous `measure` span, then the API call straight from the click handler. */
function addToCart(id, quantity) {
  measure('add_to_cart', (span) => {
    span.setAttributes({ 'product.id': id, quantity });
    cart.set(id, (cart.get(id) ?? 0) + quantity);
    span.setAttributes({ 'cart.items': cartItems(), result: 'added' });
  });
  renderCart();
  // Called while the click span is active: the fetch span is the click span's child.
  return fetch('/api/cart', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ productId: id, quantity }),
  })
    .then((response) => response.json())
    .then((body) => {
      log(`added ${quantity} × product ${id}; the server saw traceparent ${body.traceparent}`, { traceId: traceOf(body.traceparent) });
      return body;
    });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Checkout: validate, payment and order as children of the checkout span, which stays
 * the active span across the awaits (no parent passed by hand).
 */
function checkout() {
  const declined = $('#decline').checked;
  const items = [...cart].map(([productId, quantity]) => ({ productId, quantity }));
  const total = cartTotal();
  return traceAsync('checkout', async (span) => {
    span.setAttributes({ 'cart.items': cartItems(), 'cart.total': total });
    try {
      measure('validate', (validate) => {
        validate.setAttribute('cart.items', items.length);
        if (!items.length) throw new Error('the cart is empty');
        validate.setAttribute('result', 'valid');
      });
      const payment = await traceAsync('payment', async (pay) => {
        pay.setAttributes({ 'payment.method': 'card', 'payment.amount': total });
        await sleep(40 + Math.random() * 80); // the payment provider
        if (declined) throw new Error('card declined');
        pay.setAttribute('result', 'authorized');
        return { authorization: Math.random().toString(36).slice(2, 10) };
      });
      // After an await: checkout is still the active span.
      const order = await traceAsync('order', async (o) => {
        // The fetch span is the order step's child.
        const response = await fetch('/api/checkout', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ items, total, authorization: payment.authorization }),
        });
        const body = await response.json();
        if (!response.ok) throw new Error(body.error);
        o.setAttributes({ 'order.id': body.orderId, result: 'created' });
        return body;
      });
      span.setAttributes({ 'order.id': order.orderId, result: 'ok' });
      cart.clear();
      renderCart();
      log(`order ${order.orderId} placed (${total}); the server saw traceparent ${order.traceparent}`, { traceId: traceOf(order.traceparent) });
      return order;
    } catch (error) {
      span.setAttribute('result', declined ? 'declined' : 'failed');
      log(`checkout failed: ${error.message}`, { traceId: span.spanContext().traceId, error: true });
      throw error;
    }
  }).catch(() => undefined); // shown in the log; the span has the error
}

/** Recommendations from another origin: traced, but no traceparent goes there. */
function recommendations() {
  return fetch(`${config.crossOrigin}/api/recommendations?product=1`)
    .then((response) => response.json())
    .then((body) => {
      log(`recommended ${body.recommendations.map((r) => r.name).join(', ')}; the other origin saw traceparent ${body.traceparent ?? '(none)'}`);
      return body;
    });
}

// The worker continues the page's trace from the carrier it is sent.
const workerUrl = new URL('./worker.js', import.meta.url);
workerUrl.searchParams.set('collector', config.collector);
workerUrl.searchParams.set('sdk', config.sdk);
workerUrl.searchParams.set('batchDelay', String(config.batchDelayMs));
if (config.key) workerUrl.searchParams.set('key', config.key);
const worker = new Worker(workerUrl, { type: 'module' });
const jobs = new Map();
let nextJob = 0;
worker.onmessage = ({ data }) => {
  const job = jobs.get(data.id);
  jobs.delete(data.id);
  if (data.error) job?.reject(new Error(data.error));
  else job?.resolve(data);
};
worker.onerror = (event) => log(`worker failed: ${event.message}`, { error: true });

function runInWorker(size = 200_000) {
  return traceAsync('worker.job', (span) => {
    span.setAttributes({ 'job.name': 'price-index', 'job.size': size });
    const id = ++nextJob;
    const done = new Promise((resolve, reject) => jobs.set(id, { resolve, reject }));
    worker.postMessage({ trace: injectContext(span), job: { id, name: 'price-index', size } });
    return done.then((reply) => {
      span.setAttribute('result', reply.result);
      log(`worker computed price index ${reply.result} in span ${reply.span.spanId} (parent ${span.spanContext().spanId})`, { traceId: reply.span.traceId });
      return { ...reply, parent: span.spanContext() };
    });
  });
}

// Wire the buttons (the click instrumentation makes a `user.click` span for each).
for (const product of document.querySelectorAll('.product')) {
  const id = product.dataset.product;
  $('.view', product).addEventListener('click', () => void viewProduct(id));
  $('.add', product).addEventListener('click', () => void addToCart(id, Math.max(1, Number($('.quantity', product).value) | 0)));
}
$('#checkout').addEventListener('click', () => void checkout());
$('#recommendations').addEventListener('click', () => void recommendations());
$('#worker').addEventListener('click', () => void runInWorker());
$('#throw').addEventListener('click', () => {
  throw new Error('Demo: the price widget crashed');
});
$('#reject').addEventListener('click', () => {
  void Promise.reject(new TypeError('Demo: the stock service rejected the request'));
});

$('#viewer').href = `${config.collector}/`;
const meta = document.querySelector('meta[name="traceparent"]')?.content;
$('#status').textContent = `Ready (page load continues server trace ${traceOf(meta)?.slice(0, 8)}…).`;
for (const button of document.querySelectorAll('button')) button.disabled = false;

// For the end-to-end tests and the devtools console.
window.demo = { api, config, cart, viewProduct, addToCart, checkout, recommendations, runInWorker };
document.documentElement.dataset.ready = 'true';
