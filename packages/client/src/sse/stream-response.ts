/**
 * An SSE response as a stream attempt reads it, whichever API opened it (fetch or
 * XMLHttpRequest): the status and headers first, then the body as decoded text, chunk by chunk.
 */
export interface StreamResponse {
  readonly status: number;
  header(name: string): string | null;
  /** False when this response's body cannot be read as it arrives (React Native's built-in fetch). */
  readonly streams: boolean;
  /**
   * The body as text chunks as they arrive: ends with the body, throws when the connection breaks
   * or the request's signal aborts. Leaving the loop early closes the connection.
   */
  chunks(): AsyncIterable<string>;
  /** The whole body as text (an error answer's). */
  text(): Promise<string>;
  /** Closes the connection without reading any further. */
  cancel(): void;
}

/**
 * Opens one SSE request (GET `url` with `headers`). Rejects as fetch does: an AbortError when
 * `signal` aborts, another error when the network fails.
 */
export type StreamOpener = (url: string, headers: Record<string, string>, signal: AbortSignal) => Promise<StreamResponse>;
