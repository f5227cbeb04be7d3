import type { FetchLike } from '../http/transport.js';
import { fetchStreamOpener } from './fetch-stream.js';
import type { StreamOpener } from './stream-response.js';
import { xhrStreamOpener, type XhrConstructor } from './xhr-stream.js';

/**
 * How watches read their SSE streams:
 * - `fetch`: the response body's ReadableStream (browsers, Node, `expo/fetch`);
 * - `xhr`: XMLHttpRequest progress events (React Native's built-in networking);
 * - `auto`: fetch where its responses can stream, XMLHttpRequest otherwise.
 */
export type StreamTransport = 'auto' | 'fetch' | 'xhr';

export const streamTransports: readonly StreamTransport[] = ['auto', 'fetch', 'xhr'];

/** Whether this runtime's own fetch gives responses a readable body (React Native's does not). */
function globalFetchStreams(): boolean {
  return typeof ReadableStream === 'function' && typeof Response === 'function' && 'body' in Response.prototype;
}

/**
 * The opener for `transport`. In `auto`, a runtime whose global fetch cannot stream uses
 * XMLHttpRequest from the start; otherwise fetch, until a stream's response turns out to have
 * no readable body: that connection and every later one then go through XMLHttpRequest.
 */
export function selectStreamOpener(transport: StreamTransport, fetchFn: FetchLike, usesGlobalFetch: boolean, xhr: XhrConstructor | undefined): StreamOpener {
  const byFetch = fetchStreamOpener(fetchFn);
  if (transport === 'fetch' || xhr === undefined) return byFetch;
  const byXhr = xhrStreamOpener(xhr);
  if (transport === 'xhr' || (usesGlobalFetch && !globalFetchStreams())) return byXhr;
  let current = byFetch;
  return async (url, headers, signal) => {
    const res = await current(url, headers, signal);
    if (current === byXhr || res.status !== 200 || res.streams) return res;
    res.cancel();
    current = byXhr;
    return current(url, headers, signal);
  };
}
