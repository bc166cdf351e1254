/**
 * Gets the last spans out when the page goes away: flush on `visibilitychange` to hidden
 * (the last moment a page is reliably alive on mobile) and on `pagehide`. The transport
 * sends these with `keepalive`, so they survive the page closing.
 *
 * A worker has no such events: the page tells its same-origin workers on a
 * `BroadcastChannel`, and their SDKs flush too (while the page is merely hidden they
 * still run; on unload it is a race with the worker's end).
 */

/** The channel on which pages announce that they are being hidden or unloaded. */
const CHANNEL = 'wasm-otlp:page-hide';

/** Calls `flush` whenever the page is hidden or unloaded; returns a function that stops it. */
export function flushOnPageHide(flush: () => void): () => void {
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : undefined;
  if (typeof document === 'undefined') {
    if (!channel || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'function') {
      channel?.close(); // neither page nor worker (e.g. Node): nothing announces hiding
      return () => {};
    }
    channel.onmessage = () => flush();
    return () => channel.close();
  }
  const hiding = () => {
    flush();
    channel?.postMessage('hide');
  };
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') hiding();
  };
  document.addEventListener('visibilitychange', onVisibility, { capture: true });
  addEventListener('pagehide', hiding, { capture: true });
  return () => {
    document.removeEventListener('visibilitychange', onVisibility, { capture: true });
    removeEventListener('pagehide', hiding, { capture: true });
    channel?.close();
  };
}
