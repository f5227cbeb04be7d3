import { BlockList, isIP } from 'node:net';

/*
 * A push endpoint is a URL a user hands the service, which the worker then POSTs to: without a
 * check it is a way to make the worker call anything it can reach (metadata services, Redis on
 * localhost, the cluster's internal names). Endpoints must be https on a public address; an
 * operator may allow named hosts for a push service of their own (PUSH_ALLOWED_HOSTS). Names are
 * checked here when a subscription is registered, and the addresses they resolve to again on
 * every send (see `publicOnlyLookup`), which a DNS answer changed after registration cannot pass.
 */

const nonPublic = new BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  nonPublic.addSubnet(address, prefix, 'ipv4');
}
for (const [address, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  nonPublic.addSubnet(address, prefix, 'ipv6');
}

/** Whether an IP address is loopback, private, link-local, shared, multicast or unspecified (an IPv4-mapped IPv6 address counts as its IPv4 one). */
export function isNonPublicAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 0) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return nonPublic.check(mapped[1], 'ipv4');
  return nonPublic.check(address, version === 4 ? 'ipv4' : 'ipv6');
}

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
  if (isIP(host) !== 0) return isNonPublicAddress(host) ? 'must not name a private, loopback or link-local address' : undefined;
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
      if (!allowedHosts.includes(host) && addresses.some(isNonPublicAddress)) {
        const refused = Object.assign(new Error(`push endpoint ${hostname} resolves to a non-public address`), { code: 'EPUSHADDRESS' });
        return callback(refused, address, family);
      }
      callback(null, address, family);
    });
  };
}
