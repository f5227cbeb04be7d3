import { publicOnlyLookup } from '@jobstream/runtime';
import { lookup as dnsLookup } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface PushResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** At most the first 4 KB of the answer: push services answer small, anything else is not read. */
  body: string;
}

export interface PushRequestOptions {
  /** Hosts that may be http or private (PUSH_ALLOWED_HOSTS); every other must resolve to public addresses. */
  allowedHosts: readonly string[];
  timeoutMs: number;
}

const RESPONSE_MAX_BYTES = 4_096;

/**
 * POSTs one message to a push service. Not fetch: the addresses a name resolves to are checked
 * on the connection itself (see `publicOnlyLookup`), and redirects are never followed.
 */
export function postPush(endpoint: string, headers: Record<string, string | number>, body: Buffer | string, options: PushRequestOptions): Promise<PushResponse> {
  const url = new URL(endpoint);
  const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
  const lookup = publicOnlyLookup(options.allowedHosts, dnsLookup as never);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { ...headers, 'Content-Length': Buffer.byteLength(body) }, lookup: lookup as never, timeout: options.timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < RESPONSE_MAX_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).subarray(0, RESPONSE_MAX_BYTES).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`push service did not answer within ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}
