/** PerformanceObserver for the page instrumentations. */

/**
 * Calls `each` for the entries of `type` so far and from now on; returns the function that
 * stops it (nothing is observed where the browser lacks the type).
 */
export function observe<T extends PerformanceEntry>(type: string, each: (entry: T) => void, options: object = {}): () => void {
  try {
    const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => each(e as T)));
    observer.observe({ type, buffered: true, ...options });
    return () => observer.disconnect();
  } catch {
    return () => {};
  }
}
