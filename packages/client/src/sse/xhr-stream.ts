import { ItemQueue } from '../watch/item-queue.js';
import type { StreamOpener, StreamResponse } from './stream-response.js';

/**
 * The part of XMLHttpRequest the SDK uses: React Native's, a browser's, or an implementation for
 * Node. Its `responseText` must grow while the response arrives, with a `readystatechange`
 * (readyState 3) or `progress` event each time it does.
 */
export interface XhrLike {
  readonly readyState: number;
  readonly status: number;
  readonly responseText: string;
  open(method: string, url: string, async?: boolean): void;
  setRequestHeader(name: string, value: string): void;
  getResponseHeader(name: string): string | null;
  send(body?: null): void;
  abort(): void;
  addEventListener(type: 'readystatechange' | 'progress' | 'error', listener: () => void): void;
}

/** A constructor of XhrLike requests: the global `XMLHttpRequest` or one passed to `createClient`. */
export type XhrConstructor = new () => XhrLike;

const HEADERS_RECEIVED = 2;
const LOADING = 3;
const DONE = 4;

/**
 * An XMLHttpRequest keeps the whole body in `responseText`, so a long-lived stream would hold
 * everything it ever received. Past this many characters the connection is closed; the watch
 * reconnects with its Last-Event-ID and misses nothing.
 */
export const XHR_MAX_RESPONSE_CHARS = 4_000_000;

function abortError(): Error {
  const error = new Error('the stream was aborted');
  error.name = 'AbortError';
  return error;
}

/**
 * SSE over XMLHttpRequest, for runtimes whose fetch cannot stream a body (React Native): each
 * time `responseText` grows (a progress event, or readyState 3), the new part is the next chunk.
 * `maxResponseChars` closes the connection once that much has arrived (see XHR_MAX_RESPONSE_CHARS).
 */
export function xhrStreamOpener(Xhr: XhrConstructor, maxResponseChars = XHR_MAX_RESPONSE_CHARS): StreamOpener {
  return (url, headers, signal) =>
    new Promise<StreamResponse>((resolve, reject) => {
      if (signal.aborted) {
        reject(abortError());
        return;
      }
      const xhr = new Xhr();
      let read = 0;
      let opened = false;
      let finished = false;
      let resolveText!: (text: string) => void;
      let rejectText!: (error: unknown) => void;
      const whole = new Promise<string>((res, rej) => {
        resolveText = res;
        rejectText = rej;
      });
      whole.catch(() => undefined);

      const finish = (error?: Error): void => {
        if (finished) return;
        finished = true;
        signal.removeEventListener('abort', onAbort);
        if (error) {
          if (!opened) reject(error);
          chunks.end(error);
          rejectText(error);
          return;
        }
        chunks.end();
        resolveText(xhr.responseText ?? '');
      };
      // Leaving the loop early: close the connection, nothing more to report.
      const chunks = new ItemQueue<string>(() => {
        finish();
        xhr.abort();
      });
      const onAbort = (): void => {
        finish(abortError());
        xhr.abort();
      };
      const takeNewText = (): void => {
        const text = xhr.responseText ?? '';
        if (text.length <= read) return;
        chunks.push(text.slice(read));
        read = text.length;
        if (read >= maxResponseChars) {
          finish(new Error(`the response reached ${maxResponseChars} characters; reconnecting to free it`));
          xhr.abort();
        }
      };
      const response: StreamResponse = {
        get status() {
          return xhr.status;
        },
        header: (name) => xhr.getResponseHeader(name),
        streams: true,
        chunks: () => chunks,
        text: () => whole,
        cancel: () => {
          finish();
          xhr.abort();
        },
      };
      const onChange = (): void => {
        if (finished) return;
        const state = xhr.readyState;
        // Some implementations set the status only after announcing HEADERS_RECEIVED: wait for it.
        if (!opened && state >= HEADERS_RECEIVED && xhr.status > 0) {
          opened = true;
          resolve(response);
        }
        if (state === LOADING) takeNewText();
        if (state === DONE) {
          // Status 0 at the end: the connection failed or was cut (responseText may then hold anything).
          if (xhr.status === 0) finish(new TypeError(`XMLHttpRequest to ${url} failed`));
          else {
            takeNewText();
            finish();
          }
        }
      };
      xhr.addEventListener('readystatechange', onChange);
      xhr.addEventListener('progress', onChange);
      xhr.addEventListener('error', () => finish(new TypeError(`XMLHttpRequest to ${url} failed`)));
      signal.addEventListener('abort', onAbort, { once: true });
      xhr.open('GET', url, true);
      for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
      xhr.send(null);
    });
}
