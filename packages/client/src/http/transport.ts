import { errorFromResponse } from '../errors/error-from-response.js';
import { JobstreamNetworkError } from '../errors/network-error.js';
import { JobstreamProtocolError } from '../errors/protocol-error.js';
import { fetchStreamOpener } from '../sse/fetch-stream.js';
import type { StreamOpener } from '../sse/stream-response.js';

/** The part of `fetch` the SDK uses; the global one in browsers and Node 20, or a streaming one in React Native. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** Why the SDK asks for a token. */
export interface TokenRequest {
  /**
   * True when the api has just refused the last token as expired (`401 TOKEN_EXPIRED`): skip any
   * cache and get a new token. The SDK then sends the request, or opens the stream, once more.
   */
  forceRefresh: boolean;
}

/**
 * Returns the bearer token to send now; called before every request and (re)connect, so it can
 * refresh, and once more with `forceRefresh: true` after a `401 TOKEN_EXPIRED`.
 */
export type TokenProvider = (request: TokenRequest) => string | null | undefined | Promise<string | null | undefined>;

export type QueryValue = string | number | boolean | readonly string[] | undefined;

export interface RequestOptions<T> {
  body?: unknown;
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  /** Checks the answer (see shape-checks.ts); without it the answer is returned as `unknown`. */
  check?: (value: unknown) => value is T;
  /** Named in the error when the check fails. */
  expected?: string;
  signal?: AbortSignal;
}

/** True for the error a fetch throws when its signal aborts (a DOMException in browsers, an Error elsewhere). */
export function isAbortError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}

/** HTTP to one api: URLs, the bearer token, JSON bodies, and error answers turned into typed errors. */
export class Transport {
  /** Opens the SSE streams of watches (fetch or XMLHttpRequest, see stream-transport.ts). */
  readonly openStream: StreamOpener;

  constructor(
    readonly baseUrl: string,
    private readonly fetchFn: FetchLike,
    private readonly tokenProvider: TokenProvider | undefined,
    /** Whether asking the provider again can give another token (`getToken`; a fixed `token` cannot). */
    private readonly refreshable: boolean = tokenProvider !== undefined,
    openStream?: StreamOpener,
  ) {
    this.openStream = openStream ?? fetchStreamOpener((input, init = {}) => this.fetch(input, init));
  }

  /** `path` under the base URL, with `query` (arrays joined by commas; undefined values left out). */
  url(path: string, query: Record<string, QueryValue> = {}): string {
    const params: string[] = [];
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue;
      const text = Array.isArray(value) ? value.join(',') : String(value);
      params.push(`${encodeURIComponent(key)}=${encodeURIComponent(text)}`);
    }
    return `${this.baseUrl}${path}${params.length > 0 ? `?${params.join('&')}` : ''}`;
  }

  /** `Authorization: Bearer <token>` from a fresh call of the token provider, or nothing without a token. */
  async authorization(forceRefresh = false): Promise<Record<string, string>> {
    const token = this.tokenProvider ? await this.tokenProvider({ forceRefresh }) : undefined;
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  /**
   * True when `res` refused the token as expired and `getToken` may give a new one: the caller
   * then asks for it (`authorization(true)`) and sends once more. The answer's body is left unread
   * (a clone is read) so that it still makes the error when the caller does not retry.
   * Retrying is safe for any method: the api authenticates before any route runs.
   */
  async refusedAsExpired(res: Response): Promise<boolean> {
    if (res.status !== 401 || !this.refreshable) return false;
    const body = await res
      .clone()
      .text()
      .catch(() => '');
    return this.refusedTextAsExpired(res.status, body);
  }

  /** The same decision from an answer's status and body text (a stream's error answer, read whole). */
  refusedTextAsExpired(status: number, body: string): boolean {
    if (status !== 401 || !this.refreshable) return false;
    let code: unknown;
    try {
      code = (JSON.parse(body) as { code?: unknown } | null)?.code;
    } catch {
      return false;
    }
    return code === 'TOKEN_EXPIRED';
  }

  fetch(url: string, init: RequestInit): Promise<Response> {
    const fetchFn = this.fetchFn;
    return fetchFn(url, init);
  }

  /** One JSON request; resolves with the (validated) body or rejects with a JobstreamError subclass. */
  async json<T = unknown>(method: string, path: string, options: RequestOptions<T> = {}): Promise<T> {
    const url = this.url(path, options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const send = async (forceRefresh: boolean): Promise<Response> => {
      const headers: Record<string, string> = { Accept: 'application/json', ...(await this.authorization(forceRefresh)), ...options.headers };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      try {
        return await this.fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), ...(options.signal ? { signal: options.signal } : {}) });
      } catch (err) {
        if (isAbortError(err)) throw err;
        throw new JobstreamNetworkError(`${method} ${url} failed: ${describe(err)}`, { cause: err });
      }
    };
    let res = await send(false);
    if (await this.refusedAsExpired(res)) {
      await res.body?.cancel().catch(() => undefined);
      res = await send(true);
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    let isJson = false;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
        isJson = true;
      } catch {
        parsed = text;
      }
    }
    if (!res.ok) throw errorFromResponse(res, parsed);
    if (!isJson && text !== '') throw new JobstreamProtocolError(`${method} ${path} answered ${res.status} with a body that is not JSON`);
    if (options.check && !options.check(parsed)) {
      throw new JobstreamProtocolError(`${method} ${path} answered ${res.status} with something that is not ${options.expected ?? 'what the contract promises'}`);
    }
    return parsed as T;
  }
}

/** A fetch failure's message with its cause (Node's fetch hides ECONNREFUSED in `cause`). Realm-agnostic: no instanceof. */
export function describe(err: unknown): string {
  const messageOf = (value: unknown): string | undefined =>
    typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string' ? (value as { message: string }).message : undefined;
  const message = messageOf(err) ?? String(err);
  const cause = typeof err === 'object' && err !== null ? (err as { cause?: unknown }).cause : undefined;
  const causeText = messageOf(cause) || (typeof cause === 'object' && cause !== null && 'code' in cause ? String((cause as { code: unknown }).code) : '');
  return causeText && !message.includes(causeText) ? `${message} (${causeText})` : message;
}
