/**
 * When this process last set the expiry of a key it keeps writing to, so that a key written on
 * every event gets a PEXPIRE at most once per `intervalMs` instead of once per write. A key it does
 * not know (never set, or dropped beyond `maxEntries`) is due at once, so forgetting is always safe.
 */
export class ExpiryClock {
  private readonly setAt = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly maxEntries: number,
  ) {}

  due(key: string, now: number): boolean {
    const at = this.setAt.get(key);
    return at === undefined || now - at >= this.intervalMs;
  }

  /** Records an expiry that Redis has set. */
  set(key: string, now: number): void {
    this.setAt.delete(key);
    this.setAt.set(key, now);
    if (this.setAt.size > this.maxEntries) {
      const oldest = this.setAt.keys().next();
      if (!oldest.done) this.setAt.delete(oldest.value);
    }
  }

  forget(key: string): void {
    this.setAt.delete(key);
  }
}
