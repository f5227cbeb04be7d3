import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../http/api-error.js';
import { headerOf } from '../http/request-context.js';
import { addressMatcher } from './address-ranges.js';
import type { AuthConfig } from './auth-config.js';

// The same challenge as the gateway mode's other 401s (RFC 9110 §11.6.1: a 401 names a scheme).
const untrusted = (message: string) => new ApiError(401, 'GATEWAY_UNTRUSTED', message, undefined, { 'WWW-Authenticate': 'Bearer realm="jobstream"' });

/** Equal-length digests, so comparing them takes the same time whatever was sent and however long. */
const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Names (lower case) that occur more than once among `names` in the raw headers of a request. */
function repeatedHeaders(rawHeaders: readonly string[], names: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]?.toLowerCase();
    if (name !== undefined && names.includes(name)) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return names.filter((name) => (counts.get(name) ?? 0) > 1);
}

/**
 * Proof that a request came through the gateway, before its identity headers are believed: it
 * comes from one of the gateway's addresses (when GATEWAY_TRUSTED_PROXIES is set), carries the
 * gateway's secret (when GATEWAY_SECRET is set), and has each identity header once. Node joins a
 * repeated header with ", ", so a gateway that appends to a client's `X-User-Role: admin` instead
 * of replacing it would otherwise hand out the role; `rawHeaders` still shows every occurrence.
 * Throws 401 GATEWAY_UNTRUSTED; the answer never says which check failed for a stranger.
 */
export function gatewayTrust(gateway: AuthConfig['gateway']): (req: IncomingMessage) => void {
  const fromGateway = gateway.trustedProxies.length > 0 ? addressMatcher(gateway.trustedProxies) : undefined;
  const secret = gateway.secret === undefined ? undefined : digest(gateway.secret);
  const identityHeaders = [gateway.userHeader, gateway.roleHeader, gateway.topicsHeader, gateway.secretHeader].filter((name) => name !== undefined);
  return (req) => {
    if (fromGateway && !fromGateway(req.socket.remoteAddress)) throw untrusted('This api answers only requests that come through its gateway');
    if (secret) {
      const sent = headerOf(req.headers, gateway.secretHeader);
      if (sent === undefined || !timingSafeEqual(digest(sent), secret)) throw untrusted('This api answers only requests that come through its gateway');
    }
    const repeated = repeatedHeaders(req.rawHeaders, identityHeaders);
    if (repeated.length > 0) {
      throw untrusted(`The gateway must send ${repeated.join(', ')} once, replacing what the client sent`);
    }
  };
}
