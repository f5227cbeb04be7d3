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

/** Headers of every stream: no caching, no proxy buffering. */
export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
} as const;
