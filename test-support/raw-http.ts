import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { withDefaultAuth } from './auth';

export interface RawResponse {
  status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body as the server sent it (latin1, byte for byte); empty when it sent none. */
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: any;
}

/**
 * Sends one request byte for byte over a plain socket and reads the answer until the server closes
 * it. `fetch` and `http.request` normalize `../` segments and refuse CR, LF and NUL in paths and
 * headers; this sends exactly what a hostile client would. Acts as the default test user unless
 * `headers` has an `authorization` (`''`: send none). Answers with a fixed length only (JSON
 * errors, Node's own 400s), not streams.
 */
export async function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const headers = await withDefaultAuth(options.headers ?? {});
  const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : (options.body ?? Buffer.alloc(0));
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (options.body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-length')) {
    lines.push(`Content-Length: ${body.length}`);
  }
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const answer = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${method} ${JSON.stringify(path).slice(0, 80)} within 10 s`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
    // Not end(): Node's server drops a connection whose client half-closed before the answer. `Connection: close` ends it.
    socket.write(Buffer.concat([head, body]));
  });
  return parseResponse(answer.toString('latin1'));
}

function parseResponse(raw: string): RawResponse {
  const split = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...headerLines] = (split < 0 ? raw : raw.slice(0, split)).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]);
  if (!Number.isInteger(status)) throw new Error(`not an HTTP answer: ${JSON.stringify(raw.slice(0, 200))}`);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const text = split < 0 ? '' : raw.slice(split + 4);
  let body: unknown;
  try {
    body = text ? JSON.parse(Buffer.from(text, 'latin1').toString('utf8')) : undefined;
  } catch {
    body = undefined;
  }
  return { status, headers, text, body };
}

/** An open SSE response whose text is kept exactly as the server wrote it (transfer framing removed). */
export interface SseText {
  status: number;
  /** The response headers, names in lower case. */
  headers: IncomingHttpHeaders;
  /** Everything received so far. */
  text: string;
  /** Resolves when the server ends the stream (or `close()` was called). */
  ended: Promise<void>;
  /** Waits until `predicate` holds for the text received so far. */
  waitFor(predicate: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  close(): void;
}

/**
 * Opens an SSE stream and keeps its raw text, for tests that check the bytes themselves rather than
 * what a parser made of them. Resolves once the response headers arrived. Acts as the default test
 * user unless `headers` has an `authorization` (`''`: send none).
 */
export async function openSseText(url: string, headers: Record<string, string> = {}): Promise<SseText> {
  const sent = await withDefaultAuth(headers);
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Accept: 'text/event-stream', ...sent } }, (res) => {
      const waiters = new Set<() => void>();
      const notify = (): void => {
        for (const waiter of waiters) waiter();
      };
      let markEnded!: () => void;
      const ended = new Promise<void>((done) => (markEnded = done));
      let finished = false;
      const stream: SseText = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: '',
        ended,
        waitFor(predicate, timeoutMs = 20_000) {
          return new Promise((ok, fail) => {
            const check = (): void => {
              if (predicate(stream.text)) {
                clearTimeout(timer);
                waiters.delete(check);
                ok(stream.text);
              } else if (finished) {
                clearTimeout(timer);
                waiters.delete(check);
                fail(new Error(`the stream ended before the condition held; got ${JSON.stringify(stream.text.slice(-500))}`));
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`timed out after ${timeoutMs} ms; got ${JSON.stringify(stream.text.slice(-500))}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          });
        },
        close: () => req.destroy(),
      };
      const end = (): void => {
        finished = true;
        markEnded();
        notify();
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        stream.text += chunk;
        notify();
      });
      res.on('end', end);
      res.on('close', end);
      res.on('error', end);
      resolve(stream);
    });
    req.on('error', reject);
    req.end();
  });
}

/** One message of an event stream as its field lines: `[field, value]` pairs in the order sent. */
export type RawSseMessage = [field: string, value: string][];

/**
 * Splits an event stream into messages the way the WHATWG parser does (CR, LF and CRLF all end a
 * line; a blank line ends a message; `:` lines are comments), keeping every field line. Anything
 * injected into the stream shows up here as an extra field or message.
 */
export function rawSseMessages(text: string): RawSseMessage[] {
  const messages: RawSseMessage[] = [];
  let current: RawSseMessage = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (current.length > 0) messages.push(current);
      current = [];
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    current.push([field, value]);
  }
  if (current.length > 0) messages.push(current);
  return messages;
}

/**
 * One request with fetch that never hangs on a stream: an event-stream answer is closed as soon as
 * its headers arrived (its status is what the caller wants), anything else is read and parsed.
 * Acts as the default test user unless `headers` has an `authorization` (`''`: send none).
 */
export async function requestOnce(
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers = await withDefaultAuth(options.headers ?? {});
  const res = await fetch(url, {
    method,
    headers: options.body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: options.body,
  });
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, headers: res.headers, body: undefined };
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body };
}
