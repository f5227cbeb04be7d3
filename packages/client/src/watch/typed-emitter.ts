/** An event map: each event's name and the arguments its listeners get. */
export type EventMap = { [name: string]: unknown[] };

/** Reports a listener's exception without stopping the other listeners or the watch (as DOM events do). */
function reportListenerError(err: unknown): void {
  const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof report === 'function') report(err);
  else
    setTimeout(() => {
      throw err;
    }, 0);
}

/** A small typed event emitter with no platform dependency (no `node:events` in the browser build). */
export class TypedEmitter<M extends EventMap> {
  private readonly listeners = new Map<keyof M, Set<unknown>>();

  /** Adds a listener; returns the emitter so that calls chain. */
  on<K extends keyof M>(name: K, listener: (...args: M[K]) => void): this {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener);
    return this;
  }

  /** Adds a listener that is removed after its first call. */
  once<K extends keyof M>(name: K, listener: (...args: M[K]) => void): this {
    const wrapper = (...args: M[K]): void => {
      this.off(name, wrapper);
      listener(...args);
    };
    return this.on(name, wrapper);
  }

  off<K extends keyof M>(name: K, listener: (...args: M[K]) => void): this {
    this.listeners.get(name)?.delete(listener);
    return this;
  }

  protected emit<K extends keyof M>(name: K, ...args: M[K]): void {
    this.emitUnchecked(name, args);
  }

  /** For generic subclasses that know an event's arguments where the compiler cannot follow. */
  protected emitUnchecked(name: keyof M, args: readonly unknown[]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (...a: readonly unknown[]) => void)(...args);
      } catch (err) {
        reportListenerError(err);
      }
    }
  }

  protected listenerCount(name: keyof M): number {
    return this.listeners.get(name)?.size ?? 0;
  }
}
