import { createStore, type Store } from '../ui/store.js';

export type ToastKind = 'success' | 'error' | 'info';

export interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  body: string | undefined;
}

export interface ToastOptions {
  kind: ToastKind;
  title: string;
  body?: string;
  /** How long it stays; failures stay longer so they can be read. Default 6 s (10 s for errors). */
  durationMs?: number;
}

/** Most toasts on screen at once; the oldest goes first. */
const MAX_TOASTS = 4;

/** Short-lived messages for finished and failed jobs and new notifications, announced politely to screen readers. */
export class ToastModel {
  readonly toasts: Store<readonly Toast[]> = createStore<readonly Toast[]>([]);
  private nextId = 1;
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();

  show(options: ToastOptions): number {
    const id = this.nextId++;
    const toast: Toast = { id, kind: options.kind, title: options.title, body: options.body };
    this.toasts.set((list) => {
      const next = [...list, toast];
      for (const dropped of next.slice(0, Math.max(0, next.length - MAX_TOASTS))) this.clearTimer(dropped.id);
      return next.slice(-MAX_TOASTS);
    });
    this.schedule(id, options.durationMs ?? (options.kind === 'error' ? 10_000 : 6_000));
    return id;
  }

  dismiss(id: number): void {
    this.clearTimer(id);
    this.toasts.set((list) => list.filter((t) => t.id !== id));
  }

  /** Hover or focus keeps a toast (WCAG 2.2.1: timing adjustable); leaving gives it a few seconds more. */
  hold(id: number, held: boolean): void {
    this.clearTimer(id);
    if (!held) this.schedule(id, 4_000);
  }

  dispose(): void {
    for (const id of this.timers.keys()) this.clearTimer(id);
  }

  private schedule(id: number, ms: number): void {
    this.timers.set(id, setTimeout(() => this.dismiss(id), ms));
  }

  private clearTimer(id: number): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }
}
