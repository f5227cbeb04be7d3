import { KeyedStores } from './keyed-stores';
import { filtersKey, filtersOfKey } from './notification-store';
import { SharedStore, type StoreLifecycle } from './shared-store';

/** A store whose "stream" is a counter of opens and closes, so the tests see what it ran. */
class CountingStore extends SharedStore<number> {
  opened = 0;
  closed = 0;

  constructor(lifecycle: StoreLifecycle = {}) {
    super(0, lifecycle);
  }

  bump(): void {
    this.update((n) => n + 1);
  }

  protected activate(): () => void {
    this.opened += 1;
    return () => {
      this.closed += 1;
    };
  }
}

/** One macrotask: when a store's pending close runs. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('SharedStore', () => {
  it('opens on the first subscriber and closes a task after the last one leaves', async () => {
    const store = new CountingStore();
    const first = store.subscribe(() => undefined);
    const second = store.subscribe(() => undefined);
    expect(store.opened).toBe(1);
    first();
    await nextTask();
    expect(store.closed).toBe(0);
    second();
    expect(store.closed).toBe(0);
    await nextTask();
    expect([store.opened, store.closed, store.isOpen]).toEqual([1, 1, false]);
  });

  it('keeps running when a subscriber leaves and another comes within the same task (StrictMode, a moved component)', async () => {
    const store = new CountingStore();
    store.subscribe(() => undefined)();
    const again = store.subscribe(() => undefined);
    await nextTask();
    expect([store.opened, store.closed, store.isOpen]).toEqual([1, 0, true]);
    again();
    await nextTask();
    expect(store.closed).toBe(1);
  });

  it('tells its listeners of each change with a new snapshot, and starts from the initial one when it opens again', async () => {
    const store = new CountingStore();
    const seen: number[] = [];
    const leave = store.subscribe(() => seen.push(store.getSnapshot()));
    store.bump();
    store.bump();
    expect(seen).toEqual([1, 2]);
    leave();
    await nextTask();
    store.subscribe(() => undefined);
    expect([store.getSnapshot(), store.opened]).toEqual([0, 2]);
  });

  it('counts a released hold once however often its release is called', async () => {
    const store = new CountingStore();
    const release = store.retain();
    const other = store.retain();
    release();
    release();
    await nextTask();
    expect(store.isOpen).toBe(true);
    other();
    await nextTask();
    expect(store.isOpen).toBe(false);
  });
});

describe('KeyedStores', () => {
  it('hands out one store per key while it is in use and a new one after it closed', async () => {
    const stores = new KeyedStores((_key, lifecycle) => new CountingStore(lifecycle));
    const a = stores.get('job-a');
    expect(stores.get('job-a')).toBe(a);
    expect(stores.get('job-b')).not.toBe(a);
    a.subscribe(() => undefined)();
    await nextTask();
    expect(stores.get('job-a')).not.toBe(a);
  });

  it('takes back a store subscribed to after it was let go, when no other holds its key', async () => {
    const stores = new KeyedStores((_key, lifecycle) => new CountingStore(lifecycle));
    const a = stores.get('job-a');
    a.subscribe(() => undefined)();
    await nextTask();
    a.subscribe(() => undefined);
    expect(stores.get('job-a')).toBe(a);
  });
});

describe('filtersKey', () => {
  it('gives equal filters one key however they are written', () => {
    expect(filtersKey({ types: ['notification', 'job.failed'], severity: ['high'] })).toBe(filtersKey({ severity: ['high'], types: ['job.failed', 'notification', 'job.failed'] }));
    expect(filtersKey({ jobType: 'demo.work' })).toBe(filtersKey({ jobType: ['demo.work'] }));
    expect(filtersKey({ types: [], topics: [] })).toBe(filtersKey());
    expect(filtersKey({ topics: ['news'] })).not.toBe(filtersKey());
  });

  it('turns a key back into the filters it stands for', () => {
    expect(filtersOfKey(filtersKey({ types: ['notification'], jobType: 'demo.work', topics: ['news'] }))).toEqual({ types: ['notification'], jobType: ['demo.work'], topics: ['news'] });
    expect(filtersOfKey(filtersKey())).toEqual({});
  });
});
