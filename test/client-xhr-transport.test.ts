import { createClient, type ConnectionState, type FetchLike, type JobWatchItem, type LifecycleEvent, type XhrConstructor, type XhrLike } from '@jobstream/client';
import { XMLHttpRequest as NodeXMLHttpRequest } from 'xmlhttprequest';
import { Transport } from '../packages/client/src/http/transport';
import { resolveStreamOptions } from '../packages/client/src/sse/stream-options';
import { xhrStreamOpener } from '../packages/client/src/sse/xhr-stream';
import { JobWatch } from '../packages/client/src/watch/job-watch';
import { DEFAULT_TEST_USER, tokenFor } from '../test-support/auth';
import { http } from '../test-support/http';
import { connectSse, type ReceivedEvent } from '../test-support/sse-client';
import { useApiAndWorker, useRestartableStack } from '../test-support/services';
import { waitUntil } from '../test-support/wait';

/**
 * The SDK's XMLHttpRequest transport (React Native's way to read a stream) against the real api.
 * Node has no XMLHttpRequest: the `xmlhttprequest` package is one whose `responseText` grows with
 * every chunk and announces each with a readyState 3 event, as React Native's does (`xhr2` and
 * `xmlhttprequest-ssl` only fill `responseText` once the response has ended).
 */

/** One XMLHttpRequest the SDK opened: its URL, the headers it set, and the request itself. */
interface OpenedRequest {
  url: string;
  headers: Record<string, string>;
  xhr: XhrLike;
}

/** The Node XMLHttpRequest, recording every request the SDK opens through it. */
function recordingXhr(): { XMLHttpRequest: XhrConstructor; opened: OpenedRequest[] } {
  const opened: OpenedRequest[] = [];
  const XMLHttpRequest = function (this: unknown) {
    const xhr = new NodeXMLHttpRequest();
    const record: OpenedRequest = { url: '', headers: {}, xhr };
    const open = xhr.open.bind(xhr);
    const setRequestHeader = xhr.setRequestHeader.bind(xhr);
    xhr.open = (method: string, url: string, async?: boolean) => {
      record.url = url;
      opened.push(record);
      open(method, url, async);
    };
    xhr.setRequestHeader = (name: string, value: string) => {
      record.headers[name] = value;
      setRequestHeader(name, value);
    };
    return xhr;
  } as unknown as XhrConstructor;
  return { XMLHttpRequest, opened };
}

/** The global fetch, recording the URLs it was asked for. */
function recordingFetch(): { fetch: FetchLike; urls: string[] } {
  const urls: string[] = [];
  return { urls, fetch: (input, init) => (urls.push(input), fetch(input, init)) };
}

const lifecycleOf = (items: JobWatchItem[]) => items.filter((i): i is LifecycleEvent => i.event !== 'snapshot');
const collapse = (states: ConnectionState[]) => states.filter((s, i) => s !== states[i - 1]);
const streamsOf = (opened: OpenedRequest[], jobId: string) => opened.filter((r) => r.url.includes(`/api/jobs/${jobId}/events`));

async function referenceEvents(baseUrl: string, jobId: string): Promise<ReceivedEvent[]> {
  const stream = await connectSse(`${baseUrl}/api/jobs/${jobId}/events`);
  await stream.ended;
  return stream.lifecycle();
}

describe('the client SDK over XMLHttpRequest', () => {
  describe('against a running api', () => {
    // Heartbeats every 200 ms: a stream is never silent for more than two of these intervals.
    const stack = useApiAndWorker({ SSE_HEARTBEAT_MS: '200' });

    it('watches a job through its whole lifecycle on one XMLHttpRequest, with every event a plain SSE reader gets', async () => {
      const xhr = recordingXhr();
      const fetched = recordingFetch();
      const client = createClient({ baseUrl: stack.api.url, getToken: () => tokenFor(DEFAULT_TEST_USER), transport: 'xhr', XMLHttpRequest: xhr.XMLHttpRequest, fetch: fetched.fetch });
      const { jobId } = await client.enqueue('demo.work', { durationMs: 1_200, steps: 6 });
      const states: ConnectionState[] = [];
      const progress: unknown[] = [];
      const watch = client
        .watchJob(jobId)
        .on('connection', (info) => states.push(info.state))
        .on('progress', (p) => progress.push(p));
      const items: JobWatchItem[] = [];
      for await (const item of watch) items.push(item);

      const reference = await referenceEvents(stack.api.url, jobId);
      expect(reference.map((e) => e.event)).toEqual(['waiting', 'active', ...Array(6).fill('progress'), 'completed']);
      expect(lifecycleOf(items).map((e) => [e.id, e.event])).toEqual(reference.map((e) => [e.id, e.event]));
      expect(progress.at(-1)).toBe(100);
      expect(progress).toEqual([...progress].sort((a, b) => Number(a) - Number(b)));
      expect(collapse(states)).toEqual(['connecting', 'live', 'closed']);
      // The stream went through XMLHttpRequest, once (the heartbeats kept it alive), and never through fetch.
      const streams = streamsOf(xhr.opened, jobId);
      expect(streams).toHaveLength(1);
      expect(streams[0]?.headers).toMatchObject({ Accept: 'text/event-stream', Authorization: expect.stringMatching(/^Bearer /) });
      expect(fetched.urls.filter((url) => url.includes('/events'))).toEqual([]);
    });

    it('keeps a stream open through a silent stretch longer than its stall window because heartbeats reach it', async () => {
      const xhr = recordingXhr();
      const client = createClient({
        baseUrl: stack.api.url,
        getToken: () => tokenFor(DEFAULT_TEST_USER),
        transport: 'xhr',
        XMLHttpRequest: xhr.XMLHttpRequest,
        // A stream silent for 1 s is cut: more than the api's longest gap between heartbeats (400 ms).
        stream: { heartbeatMs: 500 },
      });
      // No progress steps: three seconds without an event, three times the stall window.
      const { jobId } = await client.enqueue('demo.work', { durationMs: 3_000, steps: 0 });
      const states: ConnectionState[] = [];
      const reasons: (string | undefined)[] = [];
      const outcome = await client
        .watchJob(jobId)
        .on('connection', (info) => {
          states.push(info.state);
          reasons.push(info.reason);
        }).done;

      expect(outcome?.state).toBe('completed');
      expect([collapse(states), reasons.filter((r) => r !== undefined)]).toEqual([['connecting', 'live', 'closed'], []]);
      expect(streamsOf(xhr.opened, jobId)).toHaveLength(1);
    });

    it('aborts its XMLHttpRequest when the watch is closed', async () => {
      const xhr = recordingXhr();
      const client = createClient({ baseUrl: stack.api.url, getToken: () => tokenFor(DEFAULT_TEST_USER), transport: 'xhr', XMLHttpRequest: xhr.XMLHttpRequest });
      const { jobId } = await client.enqueue('demo.work', { durationMs: 5_000, steps: 10 });
      const watch = client.watchJob(jobId);
      const heard: LifecycleEvent[] = [];
      watch.on('event', (e) => heard.push(e));
      await waitUntil('the active event', () => heard.some((e) => e.event === 'active'), 10_000);
      const [stream] = streamsOf(xhr.opened, jobId);
      expect(stream?.xhr.readyState).toBe(3);

      watch.close();
      await watch.done;
      expect(watch.connectionState).toBe('closed');
      // Aborted: the request is reset (readyState 0), not left loading.
      expect(stream?.xhr.readyState).toBe(0);
      const count = heard.length;
      await client.cancelJob(jobId);
      // The cancel's event would have reached an open stream; the closed watch hears nothing more.
      const after = await referenceEvents(stack.api.url, jobId);
      expect(after.at(-1)?.event).toBe('cancelled');
      expect(heard).toHaveLength(count);
    });

    it('switches to XMLHttpRequest by itself when the fetch gives responses no readable body, as React Native does', async () => {
      const xhr = recordingXhr();
      const fetchUrls: string[] = [];
      // React Native's fetch: the real request and answer, but no `body` stream on the response.
      const bodilessFetch: FetchLike = async (input, init) => {
        fetchUrls.push(input);
        const res = await fetch(input, init);
        return new Proxy(res, {
          get: (target, key) => {
            if (key === 'body') return null;
            const value: unknown = Reflect.get(target, key, target);
            return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          },
        });
      };
      const client = createClient({ baseUrl: stack.api.url, getToken: () => tokenFor(DEFAULT_TEST_USER), fetch: bodilessFetch, XMLHttpRequest: xhr.XMLHttpRequest });
      const first = await client.enqueue('demo.work', { durationMs: 300, steps: 2 });
      const second = await client.enqueue('demo.work', { durationMs: 300, steps: 2 });
      const states: ConnectionState[] = [];
      const items = [] as JobWatchItem[];
      for await (const item of client.watchJob(first.jobId).on('connection', (info) => states.push(info.state))) items.push(item);
      await client.watchJob(second.jobId).done;

      expect(lifecycleOf(items).map((e) => e.id)).toEqual((await referenceEvents(stack.api.url, first.jobId)).map((e) => e.id));
      // Live over XMLHttpRequest, never polling.
      expect(collapse(states)).toEqual(['connecting', 'live', 'closed']);
      // The first stream tried fetch once; from then on every stream went through XMLHttpRequest.
      expect(fetchUrls.filter((url) => url.includes('/events'))).toEqual([`${stack.api.url}/api/jobs/${first.jobId}/events`]);
      expect(streamsOf(xhr.opened, first.jobId)).toHaveLength(1);
      expect(streamsOf(xhr.opened, second.jobId)).toHaveLength(1);
    });

    it('closes a request whose responseText grew past its cap and resumes on a new one from the last event, losing nothing', async () => {
      const xhr = recordingXhr();
      const client = createClient({ baseUrl: stack.api.url, getToken: () => tokenFor(DEFAULT_TEST_USER) });
      const { jobId } = await client.enqueue('demo.work', { durationMs: 1_000, steps: 8 });
      // The SDK's own wiring with a cap of 1,500 characters instead of 4,000,000: a few events each.
      const transport = new Transport(stack.api.url, (input, init) => fetch(input, init), () => tokenFor(DEFAULT_TEST_USER), true, xhrStreamOpener(xhr.XMLHttpRequest, 1_500));
      const reasons: (string | undefined)[] = [];
      const watch = new JobWatch(jobId, transport, resolveStreamOptions({ retryBaseMs: 10 })).on('connection', (info) => reasons.push(info.reason));
      const items: JobWatchItem[] = [];
      for await (const item of watch) items.push(item);

      const reference = await referenceEvents(stack.api.url, jobId);
      expect(lifecycleOf(items).map((e) => e.id)).toEqual(reference.map((e) => e.id));
      expect(reasons).toContain('the response reached 1500 characters; reconnecting to free it');
      const streams = streamsOf(xhr.opened, jobId);
      expect(streams.length).toBeGreaterThanOrEqual(2);
      // Every new request resumed after an event the watch had handled.
      const handled = new Set(lifecycleOf(items).map((e) => e.id));
      for (const stream of streams.slice(1)) expect(handled.has(stream.headers['Last-Event-ID'] ?? '')).toBe(true);
    });

    it('refuses the xhr transport at createClient when there is no XMLHttpRequest', () => {
      expect(typeof (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest).toBe('undefined');
      expect(() => createClient({ baseUrl: stack.api.url, transport: 'xhr' })).toThrow(/xhr transport needs an XMLHttpRequest/);
      expect(() => createClient({ baseUrl: stack.api.url, transport: 'websocket' as never })).toThrow(/transport must be one of auto, fetch, xhr/);
    });
  });

  describe('across an api restart', () => {
    const processes = useRestartableStack({ SSE_RETRY_MS: '200' });

    it('resumes from its Last-Event-ID after the api process is killed and restarted: nothing lost, nothing repeated', async () => {
      const { api, base } = await processes.start();
      const xhr = recordingXhr();
      const client = createClient({
        baseUrl: base,
        getToken: () => tokenFor(DEFAULT_TEST_USER),
        transport: 'xhr',
        XMLHttpRequest: xhr.XMLHttpRequest,
        stream: { retryBaseMs: 100, maxRetryDelayMs: 1_000, failuresBeforePolling: 50 },
      });
      const job = await http('POST', `${base}/api/jobs`, { type: 'demo.work', payload: { durationMs: 3_000, steps: 10 } });
      const jobId = job.body.jobId as string;
      const heard: LifecycleEvent[] = [];
      const states: ConnectionState[] = [];
      const watch = client
        .watchJob(jobId)
        .on('event', (e) => heard.push(e))
        .on('connection', (info) => states.push(info.state));

      await waitUntil('the first progress event', () => heard.some((e) => e.event === 'progress'), 15_000);
      await api.stop('SIGKILL');
      const lastBeforeKill = heard.at(-1)?.id;
      await processes.restartApi();
      await watch.done;

      const reference = await referenceEvents(base, jobId);
      expect(reference.map((e) => e.event)).toEqual(['waiting', 'active', ...Array(10).fill('progress'), 'completed']);
      expect(heard.map((e) => e.id)).toEqual(reference.map((e) => e.id));
      expect(collapse(states).slice(0, 3)).toEqual(['connecting', 'live', 'reconnecting']);
      expect(collapse(states).slice(-2)).toEqual(['live', 'closed']);
      // The reconnect that went live asked for what came after the last event heard before the kill.
      const streams = streamsOf(xhr.opened, jobId);
      expect(streams[0]?.headers['Last-Event-ID']).toBeUndefined();
      expect(streams.at(-1)?.headers['Last-Event-ID']).toBe(lastBeforeKill);
    });
  });
});
