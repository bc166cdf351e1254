/**
 * Export bodies kept in IndexedDB while they are at risk: sent without `keepalive` (the
 * page may close before the answer), waiting to be retried, or undeliverable while
 * offline. The transport deletes a body once it is delivered (or refused for good) and
 * sends what is kept on the next load and when the browser is back online. Bounded by
 * bytes and age, the oldest going first.
 */

/** A kept body. */
export interface Kept {
  /** Unique per body (a page sending it does not send it twice). */
  id: string;
  /** The endpoint it was meant for. */
  url: string;
  body: Uint8Array;
  gzip: boolean;
  /** Spans or log records in it. */
  count: number;
  /** When it was kept (epoch ms). */
  time: number;
}

/** Bounds of the outbox. */
export interface OutboxOptions {
  /** Bytes kept at most, all endpoints together (default 2 MB). */
  maxBytes?: number;
  /** Bodies older than this are dropped (default 24 hours). */
  maxAgeHours?: number;
}

const DB = 'wasm-otlp';
const STORE = 'outbox';

/** The page's outbox; does nothing where IndexedDB is missing or refused. */
export class Outbox {
  /** Set once the database is open: puts are then issued in the caller's task (at unload, say). */
  private db: IDBDatabase | undefined;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  /** Bodies dropped for the bounds, since the page loaded. */
  dropped = 0;
  private opening: Promise<void> | undefined;

  constructor(options: OutboxOptions = {}) {
    this.maxBytes = options.maxBytes ?? 2_000_000;
    this.maxAgeMs = (options.maxAgeHours ?? 24) * 3_600_000;
  }

  /** Opens the database, once (not at construction: start-up stays free of it). */
  ready(): Promise<void> {
    return (this.opening ??= new Promise<void>((resolve) => {
      const attempt = (version?: number) => {
        try {
          const open = indexedDB.open(DB, version);
          open.onupgradeneeded = () => open.result.createObjectStore(STORE, { autoIncrement: true });
          open.onsuccess = () => {
            const db = open.result;
            // A database of this name without the store (made by other code): upgrade it.
            if (!db.objectStoreNames.contains(STORE)) {
              db.close();
              return version === undefined ? attempt(db.version + 1) : resolve();
            }
            db.onversionchange = () => db.close(); // let another tab upgrade it
            this.db = db;
            resolve();
          };
          open.onerror = open.onblocked = () => resolve();
        } catch {
          resolve(); // no IndexedDB (a Node test, an opaque origin)
        }
      };
      attempt();
    }));
  }

  /** Keeps `kept`; resolves to its key, or `undefined` if it could not be kept. */
  async put(kept: Kept): Promise<number | undefined> {
    if (!this.db) await this.ready(); // once open, the put is issued in the caller's task
    const key = (await this.request((store) => store.put(kept))) as number | undefined;
    void this.prune();
    return key;
  }

  /** Forgets a kept body. */
  delete(key: number): Promise<unknown> {
    return this.request((store) => store.delete(key));
  }

  /** What is kept for `urls`, oldest first, with their keys (after pruning). */
  async all(urls: readonly string[]): Promise<[number, Kept][]> {
    await this.ready();
    return (await this.prune()).filter(([, kept]) => urls.includes(kept.url));
  }

  /** Drops what is too old, then the oldest until the rest fits `maxBytes`; returns the rest. */
  private prune(): Promise<[number, Kept][]> {
    return new Promise((resolve) => {
      try {
        if (!this.db) return resolve([]);
        // One transaction: the keys and the values are of the same moment.
        const store = this.db.transaction(STORE, 'readwrite').objectStore(STORE);
        const keys = store.getAllKeys();
        const values = store.getAll();
        values.onerror = () => resolve([]);
        values.onsuccess = () => {
          const entries = (keys.result as number[]).map((key, i) => [key, values.result[i] as Kept] as [number, Kept]);
          let bytes = entries.reduce((n, [, kept]) => n + kept.body.length, 0);
          const oldest = Date.now() - this.maxAgeMs;
          let first = 0;
          for (; first < entries.length && (entries[first][1].time < oldest || bytes > this.maxBytes); first++) {
            bytes -= entries[first][1].body.length;
            store.delete(entries[first][0]);
            this.dropped++;
          }
          resolve(entries.slice(first));
        };
      } catch {
        resolve([]);
      }
    });
  }

  /** One request in its own transaction; `undefined` on any failure. */
  private request(make: (store: IDBObjectStore) => IDBRequest): Promise<unknown> {
    return new Promise((resolve) => {
      try {
        if (!this.db) return resolve(undefined);
        const request = make(this.db.transaction(STORE, 'readwrite').objectStore(STORE));
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => resolve(undefined);
      } catch {
        resolve(undefined);
      }
    });
  }
}
