/** Called with nothing: the store's snapshot changed. */
export type StoreListener = () => void;

/** Told when a store opens and closes, so that a registry keeps exactly the stores in use. */
export interface StoreLifecycle {
  onOpen?: () => void;
  onClose?: () => void;
}

/**
 * A snapshot store for `useSyncExternalStore` that runs something (a stream, a fetch) only while
 * it has subscribers: the first subscriber opens it, the last one's leaving closes it.
 *
 * The close waits one task: React's StrictMode (and a component moving in the tree) unsubscribes
 * and subscribes again within one commit, and closing at once would drop the stream only to open
 * a second one. A store closed this way opens afresh on its next subscriber.
 */
export abstract class SharedStore<S> {
  private snapshot: S;
  private readonly listeners = new Set<StoreListener>();
  private holds = 0;
  private stop: (() => void) | undefined;
  private pendingClose: ReturnType<typeof setTimeout> | undefined;

  protected constructor(
    private readonly initial: S,
    private readonly lifecycle: StoreLifecycle = {},
  ) {
    this.snapshot = initial;
  }

  /** Starts what the store runs (a watch, a fetch); returns what stops it. Each open starts from the initial snapshot. */
  protected abstract activate(): () => void;

  /** The current snapshot; the same object until something changed (what `useSyncExternalStore` needs). */
  readonly getSnapshot = (): S => this.snapshot;

  /** For `useSyncExternalStore`: listens for changes and keeps the store open until the returned function is called. */
  readonly subscribe = (listener: StoreListener): (() => void) => {
    this.listeners.add(listener);
    const release = this.retain();
    return () => {
      this.listeners.delete(listener);
      release();
    };
  };

  /** Keeps the store open without listening (another store built on this one); the returned function lets go, once. */
  retain(): () => void {
    this.holds += 1;
    if (this.pendingClose !== undefined) {
      clearTimeout(this.pendingClose);
      this.pendingClose = undefined;
    }
    if (!this.stop) this.open();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds -= 1;
      if (this.holds === 0) this.pendingClose = setTimeout(() => this.close(), 0);
    };
  }

  /** Whether something runs now (a subscriber holds the store, or its close is still pending). */
  get isOpen(): boolean {
    return this.stop !== undefined;
  }

  /** Replaces the snapshot and tells every listener. */
  protected set(next: S): void {
    if (Object.is(next, this.snapshot)) return;
    this.snapshot = next;
    for (const listener of [...this.listeners]) listener();
  }

  /** Changes part of the snapshot. */
  protected update(change: (current: S) => S): void {
    this.set(change(this.snapshot));
  }

  private open(): void {
    this.snapshot = this.initial;
    this.lifecycle.onOpen?.();
    this.stop = this.activate();
  }

  private close(): void {
    this.pendingClose = undefined;
    if (this.holds > 0 || !this.stop) return;
    const stop = this.stop;
    this.stop = undefined;
    stop();
    this.lifecycle.onClose?.();
  }
}
