import { createECDH, generateKeyPairSync, randomBytes, type ECDH } from 'node:crypto';

/** A fresh VAPID key pair as the api and the worker read it, with the subject. */
export function vapidEnv(subject = 'mailto:push-test@example.com'): Record<string, string> {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pub = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(pub.x as string, 'base64url'), Buffer.from(pub.y as string, 'base64url')]);
  return { VAPID_PUBLIC_KEY: point.toString('base64url'), VAPID_PRIVATE_KEY: privateKey.export({ format: 'jwk' }).d as string, VAPID_SUBJECT: subject };
}

/** A device as a browser makes one: a P-256 key pair and an auth secret; the private half stays here to decrypt with. */
export interface TestDevice {
  ecdh: ECDH;
  authSecret: Buffer;
  /** `PushSubscription.toJSON()` for `endpoint`. */
  subscription(endpoint: string): { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } };
}

export function testDevice(): TestDevice {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const authSecret = randomBytes(16);
  return {
    ecdh,
    authSecret,
    subscription: (endpoint) => ({
      endpoint,
      expirationTime: null,
      keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: authSecret.toString('base64url') },
    }),
  };
}
