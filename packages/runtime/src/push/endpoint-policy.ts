import { isIP } from 'node:net';
import { isRefusedAddress } from '../webhooks/address-ranges.js';

/*
 * A push endpoint is a URL a user hands the service, which the worker then POSTs to: without a
 * check it is a way to make the worker call anything it can reach (metadata services, Redis on
 * localhost, the cluster's internal names). Endpoints must be https on a public address; an
 * operator may allow named hosts for a push service of their own (PUSH_ALLOWED_HOSTS). Names are
 * checked here when a subscription is registered, and the addresses they resolve to again on
 * every send (see `publicOnlyLookup`), which a DNS answer changed after registration cannot pass.
 * The refused addresses are the webhooks' (`isRefusedAddress`): loopback, private, link-local and
 * metadata, CGNAT, multicast, unspecified and reserved ranges, and IPv6 forms that carry one.
 */

const INTERNAL_NAME = /(^|\.)(localhost|local|internal|localdomain|home\.arpa)$/;

/** A host name without the brackets of an IPv6 literal, lowercased, without a trailing dot. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
}

/** Whether the operator allowed this endpoint's host (PUSH_ALLOWED_HOSTS: `host` or `host:port`). */
export function isAllowedHost(url: URL, allowedHosts: readonly string[]): boolean {
  const host = hostOf(url);
  return allowedHosts.includes(host) || allowedHosts.includes(url.host.toLowerCase());
}

/** Why an endpoint is refused, or undefined when it may be used. */
export function endpointProblem(endpoint: string, allowedHosts: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  if (url.hash !== '') return 'must not have a fragment';
  if (isAllowedHost(url, allowedHosts)) return url.protocol === 'https:' || url.protocol === 'http:' ? undefined : 'must be an https URL';
  if (url.protocol !== 'https:') return 'must be an https URL';
  const host = hostOf(url);
  if (isIP(host) !== 0) return isRefusedAddress(host) ? 'must not name a private, loopback or link-local address' : undefined;
  if (!host.includes('.') || INTERNAL_NAME.test(host)) return 'must name a public host';
  return undefined;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | { address: string; family: number }[], family?: number) => void;
type Lookup = (hostname: string, options: { all?: boolean } & Record<string, unknown>, callback: LookupCallback) => void;

/**
 * A `lookup` for an http(s) agent that fails when a name resolves to a non-public address, unless
 * the host is allowed: the check at send time that DNS rebinding cannot get past.
 */
export function publicOnlyLookup(allowedHosts: readonly string[], lookup: Lookup): Lookup {
  return (hostname, options, callback) => {
    lookup(hostname, options, (err, address, family) => {
      if (err) return callback(err, address, family);
      const host = hostname.toLowerCase();
      const addresses = typeof address === 'string' ? [address] : address.map((a) => a.address);
      if (!allowedHosts.includes(host) && addresses.some(isRefusedAddress)) {
        const refused = Object.assign(new Error(`push endpoint ${hostname} resolves to a non-public address`), { code: 'EPUSHADDRESS' });
        return callback(refused, address, family);
      }
      callback(null, address, family);
    });
  };
}
