import type { SharedStore, StoreLifecycle } from './shared-store.js';

/**
 * One store per key (a job id, a filter set), made on first use and forgotten when it closes: the
 * components that ask for the same key share one store, so one stream.
 */
export class KeyedStores<T extends SharedStore<unknown>> {
  private readonly stores = new Map<string, T>();

  constructor(private readonly create: (key: string, lifecycle: StoreLifecycle) => T) {}

  /** The store of `key`; a new one when none is in use. */
  get(key: string): T {
    const existing = this.stores.get(key);
    if (existing) return existing;
    const store: T = this.create(key, {
      // A store React got during a render that it subscribed to only after the registry had let it
      // go comes back, unless another took its key meanwhile (that one keeps its own stream).
      onOpen: () => {
        if (!this.stores.has(key)) this.stores.set(key, store);
      },
      onClose: () => {
        if (this.stores.get(key) === store) this.stores.delete(key);
      },
    });
    this.stores.set(key, store);
    return store;
  }

  /** How many stores are kept now. */
  get size(): number {
    return this.stores.size;
  }
}
