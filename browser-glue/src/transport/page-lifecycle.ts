/**
 * Gets the last spans out when the page goes away: flush on `visibilitychange` to hidden
 * (the last moment a page is reliably alive on mobile) and on `pagehide`. The transport
 * sends these with `keepalive`, so they survive the page closing.
 */

/** Calls `flush` whenever the page is hidden or unloaded; returns a function that stops it. */
export function flushOnPageHide(flush: () => void): () => void {
  if (typeof document === 'undefined' || typeof addEventListener === 'undefined') return () => {};
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') flush();
  };
  document.addEventListener('visibilitychange', onVisibility, { capture: true });
  addEventListener('pagehide', flush, { capture: true });
  return () => {
    document.removeEventListener('visibilitychange', onVisibility, { capture: true });
    removeEventListener('pagehide', flush, { capture: true });
  };
}
