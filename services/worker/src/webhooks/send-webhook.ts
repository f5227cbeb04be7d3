import { WebhookTargetError, type WebhookTargetPolicy } from '@jobstream/runtime';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';

export interface SendOptions {
  policy: WebhookTargetPolicy;
  /** The whole attempt: connecting, sending, the answer's headers and body. */
  timeoutMs: number;
  /** Bytes of the answer's body read at most; the rest is not waited for. */
  maxResponseBytes: number;
}

/** How an attempt ended; `reason` is the metrics' outcome label. */
export type SendOutcome =
  | { ok: true; statusCode: number; durationMs: number }
  | { ok: false; reason: 'http_error' | 'redirect' | 'timeout' | 'network' | 'refused'; statusCode?: number; error: string; durationMs: number };

/** Reads at most `max` bytes of the answer, then lets the connection go. */
function drain(res: IncomingMessage, max: number): Promise<void> {
  return new Promise((resolve) => {
    let read = 0;
    res.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > max) {
        res.destroy();
        resolve();
      }
    });
    res.on('end', () => resolve());
    res.on('error', () => resolve());
    res.on('close', () => resolve());
  });
}

/**
 * One attempt: POSTs `body` with `headers` to `url`. The target is checked again here, as the
 * socket connects (see WebhookTargetPolicy.guardedLookup): a name that resolved to a public
 * address at registration and to a private one now is refused. Redirects are answers, never
 * followed (a 3xx is a failed attempt), and nothing waits past `timeoutMs`.
 */
export async function sendWebhook(url: string, headers: Record<string, string>, body: string, options: SendOptions): Promise<SendOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let target: URL;
  try {
    target = options.policy.parseUrl(url);
    const host = target.hostname.replace(/^\[|\]$/g, '');
    // Node connects to an IP literal without a lookup: check it here.
    if (isIP(host) && !options.policy.allowsAddress(host, host)) throw new WebhookTargetError(`${host} is an address webhooks may not reach`);
  } catch (err) {
    return { ok: false, reason: 'refused', error: (err as Error).message, durationMs: elapsed() };
  }
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<SendOutcome>((resolve) => {
    const signal = AbortSignal.timeout(options.timeoutMs);
    const req = request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'jobstream-webhooks/1' },
        lookup: options.policy.guardedLookup(),
        agent: false,
        signal,
      },
      (res) => {
        void drain(res, options.maxResponseBytes).then(() => {
          const statusCode = res.statusCode ?? 0;
          if (statusCode >= 200 && statusCode < 300) resolve({ ok: true, statusCode, durationMs: elapsed() });
          else if (statusCode >= 300 && statusCode < 400) {
            const location = String(res.headers.location ?? '').slice(0, 200);
            resolve({ ok: false, reason: 'redirect', statusCode, error: `HTTP ${statusCode} redirect${location ? ` to ${location}` : ''} not followed`, durationMs: elapsed() });
          } else resolve({ ok: false, reason: 'http_error', statusCode, error: `HTTP ${statusCode}`, durationMs: elapsed() });
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (signal.aborted) resolve({ ok: false, reason: 'timeout', error: `no answer within ${options.timeoutMs} ms`, durationMs: elapsed() });
      else if (err instanceof WebhookTargetError) resolve({ ok: false, reason: 'refused', error: err.message, durationMs: elapsed() });
      else resolve({ ok: false, reason: 'network', error: err.code ? `${err.code}: ${err.message}` : err.message, durationMs: elapsed() });
    });
    req.end(body);
  });
}
