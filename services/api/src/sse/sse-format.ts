import { STREAM_SECURITY_HEADERS } from '../http/security-headers.js';

/** One SSE message. `data` is serialized as one-line JSON, so user content can never add fields. */
export interface SseMessage {
  event: string;
  data: unknown;
  id?: string;
  retryMs?: number;
}

/** Formats a message per the WHATWG event-stream format. JSON.stringify escapes newlines, keeping `data:` on one line. */
export function formatSse(message: SseMessage): string {
  let out = '';
  if (message.retryMs !== undefined) out += `retry: ${Math.round(message.retryMs)}\n`;
  if (message.id !== undefined) out += `id: ${message.id}\n`;
  out += `event: ${message.event}\ndata: ${JSON.stringify(message.data)}\n\n`;
  return out;
}

const formatted = new WeakMap<object, string>();

/**
 * Formats a lifecycle event once, however many streams it goes to: the hub hands the same event
 * object to every subscriber of the job, so the text is made on the first and reused after.
 */
export function formatLifecycleEvent(event: { id: string; event: string; data: unknown }): string {
  let text = formatted.get(event);
  if (text === undefined) {
    text = formatSse(event);
    formatted.set(event, text);
  }
  return text;
}

/** Headers of every stream: no caching, no proxy buffering, never taken for a page. */
export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
  ...STREAM_SECURITY_HEADERS,
} as const;
