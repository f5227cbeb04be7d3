import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { promisify } from 'node:util';
import { embeddedIpv4, isRefusedAddress } from './address-ranges.js';

/** Why a target was refused; `code` is stable (the api answers it as WEBHOOK_TARGET_REFUSED). */
export class WebhookTargetError extends Error {
  readonly code = 'WEBHOOK_TARGET_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'WebhookTargetError';
  }
}

/** How long a target's name may take to resolve. */
const RESOLVE_TIMEOUT_MS = 5_000;

const lookupAll = promisify(dnsLookup) as unknown as (host: string, options: { all: true; verbatim: true }) => Promise<LookupAddress[]>;

/** A lookup with the signature `http.request` takes (`all: false` is all it is called with). */
export type GuardedLookup = (
  hostname: string,
  options: object,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/**
 * Which URLs webhooks may call. A target is an `http:` or `https:` URL without credentials whose
 * host resolves only to public addresses; WEBHOOK_ALLOWED_HOSTS lets an operator allow names
 * (exact, case-insensitive) and address ranges (CIDR) that would be refused otherwise.
 */
export class WebhookTargetPolicy {
  private readonly hosts = new Set<string>();
  private readonly ranges = new BlockList();

  /** `allowed`: host names and CIDRs (`10.0.0.0/8`, `::1/128`); throws on a CIDR that does not parse. */
  constructor(allowed: readonly string[] = []) {
    for (const entry of allowed.map((e) => e.trim().toLowerCase()).filter(Boolean)) {
      const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
      if (!cidr) {
        this.hosts.add(entry.replace(/^\[|\]$/g, ''));
        continue;
      }
      const [, network = '', prefix = ''] = cidr;
      const family = isIP(network);
      if (family === 0 || Number(prefix) > (family === 4 ? 32 : 128)) throw new Error(`"${entry}" is not a CIDR range`);
      this.ranges.addSubnet(network, Number(prefix), family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** The URL, parsed, or a WebhookTargetError saying what is wrong with its form (no DNS). */
  parseUrl(text: string): URL {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new WebhookTargetError('url is not an absolute URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new WebhookTargetError('url must use https or http');
    if (url.username !== '' || url.password !== '') throw new WebhookTargetError('url must not carry credentials');
    if (url.hostname === '') throw new WebhookTargetError('url has no host');
    return url;
  }

  /** Whether an address may be called: allowed by the operator, or not in a refused range. */
  allowsAddress(host: string, address: string): boolean {
    if (this.hosts.has(host.toLowerCase().replace(/^\[|\]$/g, '')) || this.inAllowedRange(address)) return true;
    return !isRefusedAddress(address);
  }

  /**
   * Checks the URL and every address its host resolves to now; resolves with the URL or rejects
   * with a WebhookTargetError. Used at registration; deliveries check again as they connect.
   */
  async check(text: string): Promise<URL> {
    const url = this.parseUrl(text);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      if (!this.allowsAddress(host, host)) throw new WebhookTargetError(`${host} is an address webhooks may not reach`);
      return url;
    }
    const refusedAddress = (await this.resolve(host)).find((address) => !this.allowsAddress(host, address));
    if (refusedAddress !== undefined) throw new WebhookTargetError(`${host} resolves to ${refusedAddress}, an address webhooks may not reach`);
    return url;
  }

  /**
   * A `lookup` for `http.request`: resolves the name, refuses it if any address is not allowed, and
   * hands the socket the checked address, so what was checked is what is connected to (no second,
   * rebound answer in between).
   */
  guardedLookup(): GuardedLookup {
    return (hostname, options, callback) => {
      this.resolve(hostname).then(
        (addresses) => {
          const refusedAddress = addresses.find((address) => !this.allowsAddress(hostname, address));
          const first = addresses[0];
          if (refusedAddress !== undefined || first === undefined) {
            callback(new WebhookTargetError(`${hostname} resolves to ${refusedAddress ?? 'nothing'}, an address webhooks may not reach`), '', 0);
            return;
          }
          // Node asks for every address when it tries both families (autoSelectFamily, on by default).
          if ((options as { all?: boolean }).all) callback(null, addresses.map((address) => ({ address, family: isIP(address) })));
          else callback(null, first, isIP(first));
        },
        (err: NodeJS.ErrnoException) => callback(err, '', 0),
      );
    };
  }

  private inAllowedRange(address: string): boolean {
    const family = isIP(address);
    if (family === 4) return this.ranges.check(address, 'ipv4');
    if (family !== 6) return false;
    const v4 = embeddedIpv4(address);
    return (v4 !== undefined && this.ranges.check(v4, 'ipv4')) || this.ranges.check(address, 'ipv6');
  }

  /**
   * Every address of `host`. A name whose lookup takes longer than RESOLVE_TIMEOUT_MS is refused
   * then: a registrant's slow name must not hold a request (or an attempt) open for the resolver's
   * own retries.
   */
  private async resolve(host: string): Promise<string[]> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('lookup timed out'), { code: 'ETIMEOUT' })), RESOLVE_TIMEOUT_MS);
      });
      return (await Promise.race([lookupAll(host, { all: true, verbatim: true }), timeout])).map((a) => a.address);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'lookup failed';
      throw new WebhookTargetError(`${host} does not resolve (${code})`);
    } finally {
      clearTimeout(timer);
    }
  }
}
