/**
 * Sessions: one ID for a user's visit, shared by the tabs of an origin and kept across
 * reloads (in `localStorage`), replaced after `idleMinutes` without a span (15 by default)
 * or `maxMinutes` after it began (240). Every span carries it as `session.id`
 * (OpenTelemetry's session conventions).
 */

/** How long a session lasts. */
export interface SessionOptions {
  /** Minutes without a span, in any tab, after which the next span begins a new session (default 15). */
  idleMinutes?: number;
  /** Minutes after which a session ends however busy (default 240). */
  maxMinutes?: number;
}

/** What is stored: the ID, when the session began and when it was last used (epoch ms). */
interface Stored {
  id: string;
  start: number;
  last: number;
}

/** Where the session is kept: `localStorage` in a page. */
export type SessionStorage = Pick<Storage, 'getItem' | 'setItem'>;

const KEY = 'wasm-otlp:session';
/** Other tabs learn of this one's activity at most this late (ms): writes are throttled. */
const WRITE_EVERY_MS = 5_000;

/** The page's session. */
export class Session {
  private current: Stored | undefined;
  private written = 0;
  private readonly idleMs: number;
  private readonly maxMs: number;

  constructor(
    private readonly storage: SessionStorage,
    options: SessionOptions = {},
    private readonly clock: () => number = Date.now,
  ) {
    this.idleMs = (options.idleMinutes ?? 15) * 60_000;
    this.maxMs = (options.maxMinutes ?? 240) * 60_000;
  }

  /** The session's ID now; counts as activity (a span is starting). */
  id(): string {
    const now = this.clock();
    let session = this.current;
    if (!session || !this.live(session, now)) {
      // Another tab may have kept the session going, or begun a new one.
      const stored = this.read();
      session = this.current = stored && this.live(stored, now) ? stored : { id: newId(), start: now, last: now };
      this.written = 0;
    }
    session.last = now;
    if (now - this.written >= WRITE_EVERY_MS) {
      this.written = now;
      try {
        this.storage.setItem(KEY, JSON.stringify(session));
      } catch {
        // Storage full or denied: the session lives in this page only.
      }
    }
    return session.id;
  }

  private live(session: Stored, now: number): boolean {
    return now - session.last < this.idleMs && now - session.start < this.maxMs;
  }

  private read(): Stored | undefined {
    try {
      const stored = JSON.parse(this.storage.getItem(KEY) ?? 'null');
      const valid = stored && typeof stored.id === 'string' && /^[0-9a-f]{32}$/.test(stored.id) && Number.isFinite(stored.start) && Number.isFinite(stored.last);
      return valid ? stored : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * The page's sessions, for `createSdk({ session })` and the core entry's `init` (the main
 * entry's `init` has them by default); none where the page has no `localStorage` (a
 * worker, or a sandboxed frame that refuses it).
 */
export function pageSessions(options?: SessionOptions): Session | undefined {
  try {
    return typeof localStorage === 'object' ? new Session(localStorage, options) : undefined;
  } catch {
    return undefined;
  }
}

/** 128 random bits as 32 hex digits. */
function newId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let hex = '';
  for (const b of bytes) hex += (b < 16 ? '0' : '') + b.toString(16);
  return hex;
}
