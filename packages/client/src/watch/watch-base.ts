import type { JobstreamError } from '../errors/jobstream-error.js';
import type { ConnectionInfo, ConnectionState } from '../sse/connection-state.js';
import { ItemQueue } from './item-queue.js';
import { TypedEmitter, type EventMap } from './typed-emitter.js';

/** Events every watch has. */
export interface BaseWatchEvents extends EventMap {
  /** The connection state changed (or, while reconnecting, another attempt failed). */
  connection: [info: ConnectionInfo];
  /** The watch stopped on an error it will not retry (404, 400, 401, 403, a broken contract). */
  error: [error: JobstreamError];
  /** The watch is closed: after the end, a final error, or `close()`. Nothing follows. */
  close: [];
}

/** The part of a StreamEngine a watch drives. */
export interface EngineControl {
  start(): void;
  close(): void;
  readonly connectionState: ConnectionState;
  readonly connection: ConnectionInfo;
  readonly cursor: string | undefined;
}

/**
 * What `watchJob` and `watchNotifications` share: the two ways to consume one stream engine (an
 * async iterator and listeners), the lazy start, `close()` and the `done` promise.
 * A watch connects when it is first iterated, listened to, awaited (`done`) or `start()`ed, so an
 * iterator created after an `await` misses nothing.
 */
export abstract class WatchBase<Item, M extends BaseWatchEvents, R> extends TypedEmitter<M> implements AsyncIterable<Item> {
  protected abstract readonly engine: EngineControl;
  private readonly queues = new Set<ItemQueue<Item>>();
  private started = false;
  private closedFlag = false;
  private finalError: JobstreamError | undefined;
  private settle!: { resolve: (value: R) => void; reject: (error: unknown) => void };
  private readonly donePromise: Promise<R>;

  protected constructor(signal?: AbortSignal) {
    super();
    this.donePromise = new Promise<R>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // Whoever awaits `done` sees the rejection; nobody awaiting it must not crash the process.
    this.donePromise.catch(() => undefined);
    if (signal?.aborted) queueMicrotask(() => this.close());
    else signal?.addEventListener('abort', () => this.close(), { once: true });
  }

  /** What `done` resolves with once the engine closed without an error. */
  protected abstract outcome(): R;

  /** Connects now (otherwise the first listener, iterator or `done` does). Idempotent. */
  start(): this {
    if (this.started || this.closedFlag) return this;
    this.started = true;
    // A microtask later, so that listeners added in the same chain see the `connecting` state.
    queueMicrotask(() => this.engine.start());
    return this;
  }

  override on<K extends keyof M>(name: K, listener: (...args: M[K]) => void): this {
    super.on(name, listener);
    return this.start();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Item> {
    const queue = new ItemQueue<Item>(() => {
      this.queues.delete(queue);
      this.close();
    });
    if (this.closedFlag) queue.end(this.finalError);
    else this.queues.add(queue);
    this.start();
    return queue;
  }

  /** Resolves when the watch ends by itself, rejects with its final error; resolves too after `close()`. */
  get done(): Promise<R> {
    this.start();
    return this.donePromise;
  }

  get connectionState(): ConnectionState {
    return this.closedFlag ? 'closed' : this.engine.connectionState;
  }

  /** The last connection change, with its reason, failures and next attempt: for a status indicator. */
  get connection(): ConnectionInfo {
    return this.engine.connection;
  }

  /** The error that stopped the watch, if one did. */
  get error(): JobstreamError | undefined {
    return this.finalError;
  }

  /** The id a reconnect would resume after; persist it to resume a watch across page loads. */
  get lastEventId(): string | undefined {
    return this.engine.cursor;
  }

  /** Stops the stream, polling and every timer now. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    if (!this.started) {
      // Never connected: close without starting anything.
      this.started = true;
      this.onEngineClosed();
      return;
    }
    this.engine.close();
  }

  protected deliver(item: Item): void {
    for (const queue of this.queues) queue.push(item);
  }

  /** The hooks the subclass hands to its engine. */
  protected engineHooks(): {
    onConnection: (info: ConnectionInfo) => void;
    onFinalError: (error: JobstreamError) => void;
    onClosed: () => void;
  } {
    return {
      onConnection: (info) => this.emitUnchecked('connection', [info]),
      onFinalError: (error) => {
        this.finalError = error;
        this.emitUnchecked('error', [error]);
      },
      onClosed: () => this.onEngineClosed(),
    };
  }

  private onEngineClosed(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const queue of this.queues) queue.end(this.finalError);
    this.queues.clear();
    if (this.finalError) this.settle.reject(this.finalError);
    else this.settle.resolve(this.outcome());
    this.emitUnchecked('close', []);
  }
}
