import { embeddedIpv4, isRefusedAddress } from './address-ranges';
import { WebhookTargetPolicy } from './target-policy';

describe('webhook address ranges', () => {
  it.each([
    '127.0.0.1', '127.255.0.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.0.10', '169.254.169.254', '100.64.0.1',
    '100.127.255.254', '0.0.0.0', '224.0.0.251', '239.255.255.250', '255.255.255.255', '192.0.2.1', '198.18.0.1',
    '::', '::1', 'fe80::1', 'fc00::1', 'fd00:ec2::254', 'ff02::1', '2001:db8::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '::127.0.0.1', '64:ff9b::a00:1', '2002:7f00:1::', 'not-an-ip',
  ])('refuses %s', (address) => {
    expect(isRefusedAddress(address)).toBe(true);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])('lets %s through', (address) => {
    expect(isRefusedAddress(address)).toBe(false);
  });

  it('reads the IPv4 address inside mapped, compatible, NAT64 and 6to4 addresses', () => {
    expect([embeddedIpv4('::ffff:7f00:1'), embeddedIpv4('::ffff:10.0.0.1'), embeddedIpv4('64:ff9b::a9fe:a9fe'), embeddedIpv4('2002:c0a8:101::1')]).toEqual([
      '127.0.0.1',
      '10.0.0.1',
      '169.254.169.254',
      '192.168.1.1',
    ]);
    expect(embeddedIpv4('2606:4700::1111')).toBeUndefined();
  });

  it('lets an operator allow a host name or a range, and nothing else', () => {
    const policy = new WebhookTargetPolicy(['receiver.internal', '10.20.0.0/16', '::1/128']);
    expect(policy.allowsAddress('receiver.internal', '10.9.9.9')).toBe(true);
    expect(policy.allowsAddress('other.internal', '10.20.1.1')).toBe(true);
    expect(policy.allowsAddress('other.internal', '::ffff:10.20.1.1')).toBe(true);
    expect(policy.allowsAddress('other.internal', '::1')).toBe(true);
    expect(policy.allowsAddress('other.internal', '10.21.0.1')).toBe(false);
    expect(policy.allowsAddress('other.internal', '127.0.0.1')).toBe(false);
  });

  it('fails at construction on a range that does not parse', () => {
    expect(() => new WebhookTargetPolicy(['10.0.0.0/33'])).toThrow('"10.0.0.0/33" is not a CIDR range');
    expect(() => new WebhookTargetPolicy(['nonsense/8'])).toThrow('is not a CIDR range');
  });
});
