import type { FetchLike } from '../http/transport.js';
import type { StreamOpener, StreamResponse } from './stream-response.js';

/** SSE over fetch: the response body's ReadableStream through a TextDecoder. */
export function fetchStreamOpener(fetchFn: FetchLike): StreamOpener {
  return async (url, headers, signal) => {
    // Its own controller, so that `cancel()` ends the request even when the body cannot be read.
    const request = new AbortController();
    const abort = (): void => request.abort();
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
    const res = await fetchFn(url, { headers, signal: request.signal });
    const body = res.body;
    const response: StreamResponse = {
      status: res.status,
      header: (name) => res.headers.get(name),
      streams: body !== null && body !== undefined && typeof body.getReader === 'function',
      chunks: () => {
        if (!body) throw new TypeError('this response has no body to stream');
        return decodeChunks(body);
      },
      text: () => res.text(),
      cancel: () => {
        void body?.cancel().catch(() => undefined);
        signal.removeEventListener('abort', abort);
        abort();
      },
    };
    return response;
  };
}

async function* decodeChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      yield decoder.decode(value, { stream: true });
    }
    const tail = decoder.decode();
    if (tail !== '') yield tail;
  } finally {
    // Ends the connection when the reader leaves early (the watch has all it needs, or closed).
    await reader.cancel().catch(() => undefined);
  }
}
