import { BlockList, isIP } from 'node:net';

/** One entry of GATEWAY_TRUSTED_PROXIES: an address (`10.0.0.7`, `::1`) or a CIDR range (`10.0.0.0/8`, `fd00::/8`). */
export interface AddressRange {
  address: string;
  family: 'ipv4' | 'ipv6';
  /** Absent for a single address. */
  prefix?: number;
}

/** Parses `10.0.0.0/8`, `10.0.0.7`, `fd00::/8` or `::1`; undefined when it is none of them. */
export function parseAddressRange(entry: string): AddressRange | undefined {
  const [address = '', prefixText, ...rest] = entry.trim().split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return { address, family };
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > (version === 4 ? 32 : 128)) return undefined;
  return { address, family, prefix };
}

/**
 * A matcher of remote addresses. node's BlockList also matches an IPv4-mapped IPv6 address
 * (`::ffff:127.0.0.1`, what a dual-stack socket reports) against the IPv4 ranges.
 */
export function addressMatcher(ranges: readonly AddressRange[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const range of ranges) {
    if (range.prefix === undefined) list.addAddress(range.address, range.family);
    else list.addSubnet(range.address, range.prefix, range.family);
  }
  return (address) => {
    if (address === undefined) return false;
    const version = isIP(address);
    return version !== 0 && list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  };
}
