import { createDecipheriv, createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { importJWK, jwtVerify, type JWTPayload } from 'jose';
import { testDevice, type TestDevice } from './push';

/** One message the fake push service accepted: what the device would show, and the VAPID claims it came with. */
export interface ReceivedPush {
  device: string;
  payload: Record<string, unknown>;
  claims: JWTPayload;
  headers: IncomingMessage['headers'];
}

const hmac = (key: Buffer, data: Buffer): Buffer => createHmac('sha256', key).update(data).digest();

/**
 * Decrypts an aes128gcm Web Push message (RFC 8188 framing, RFC 8291 keys) with the device's
 * private key and auth secret, written from the RFCs, not with the sender's library.
 */
export function decryptWebPush(body: Buffer, device: TestDevice): Buffer {
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idLength = body[20] as number;
  const senderKey = body.subarray(21, 21 + idLength);
  const records = body.subarray(21 + idLength);
  if (idLength !== 65) throw new Error(`keyid is ${idLength} bytes, not the sender's 65-byte public key`);
  if (records.length > recordSize) throw new Error('more than one record');
  const deviceKey = device.ecdh.getPublicKey();
  const shared = device.ecdh.computeSecret(senderKey);
  const prkKey = hmac(device.authSecret, shared);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), deviceKey, senderKey, Buffer.from([1])]);
  const ikm = hmac(prkKey, keyInfo);
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(records.subarray(records.length - 16));
  const padded = Buffer.concat([decipher.update(records.subarray(0, records.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error('the last record does not end with the 0x02 delimiter');
  return padded.subarray(0, end);
}

export interface FakePushService {
  url: string;
  received: ReceivedPush[];
  /** Problems with requests (bad VAPID, undecryptable bodies): a test asserts this stays empty. */
  problems: string[];
  /** A new device whose endpoint is on this service, and the subscription JSON a browser would send. */
  device(name: string): { endpoint: string; subscription: ReturnType<TestDevice['subscription']> };
  /** Answers the next pushes to `name` with these statuses, in order (then 201 again); 0: never answers. */
  answer(name: string, ...statuses: number[]): void;
  /** Requests to `name`, accepted or not. */
  attempts(name: string): number;
  close(): Promise<void>;
}

/**
 * A push service on 127.0.0.1 that checks what a real one checks (the VAPID JWT: ES256 signature
 * by the key in `k=`, `aud` the endpoint's origin, `exp` within 24 hours, `sub`) and, as the
 * device would, decrypts the payload.
 */
export async function startFakePushService(vapid: { publicKey: string; subject: string }): Promise<FakePushService> {
  const devices = new Map<string, TestDevice>();
  const scripted = new Map<string, number[]>();
  const attempts = new Map<string, number>();
  const received: ReceivedPush[] = [];
  const problems: string[] = [];
  let origin = '';

  async function accept(req: IncomingMessage, name: string, body: Buffer): Promise<number> {
    const device = devices.get(name);
    if (!device) return 404;
    const auth = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(req.headers.authorization ?? '');
    if (!auth?.[1] || !auth[2]) throw new Error(`Authorization is not a VAPID header: ${req.headers.authorization}`);
    if (auth[2] !== vapid.publicKey) throw new Error('k= is not the server public key');
    const point = Buffer.from(auth[2], 'base64url');
    const key = await importJWK({ kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, 'ES256');
    const { payload: claims } = await jwtVerify(auth[1], key, { algorithms: ['ES256'], audience: origin });
    const now = Date.now() / 1_000;
    if (claims.sub !== vapid.subject) throw new Error(`sub is ${claims.sub}`);
    if (!claims.exp || claims.exp <= now || claims.exp > now + 24 * 3_600) throw new Error(`exp ${claims.exp} is not within 24 h`);
    if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error(`Content-Encoding ${req.headers['content-encoding']}`);
    if (req.headers.ttl === undefined) throw new Error('no TTL header');
    if (body.length > 4_096) throw new Error(`a body of ${body.length} bytes, over the 4 KB of Web Push`);
    const payload = JSON.parse(decryptWebPush(body, device).toString('utf8')) as Record<string, unknown>;
    const status = scripted.get(name)?.shift() ?? 201;
    if (status === 0) return 0;
    if (status === 201) received.push({ device: name, payload, claims, headers: req.headers });
    return status;
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const name = /^\/send\/([\w-]+)$/.exec(req.url ?? '')?.[1] ?? '';
      attempts.set(name, (attempts.get(name) ?? 0) + 1);
      accept(req, name, Buffer.concat(chunks)).then(
        (status) => (status === 0 ? undefined : res.writeHead(status).end()),
        (err: Error) => {
          problems.push(`${name}: ${err.message}`);
          res.writeHead(400).end(err.message);
        },
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: origin,
    received,
    problems,
    device(name) {
      const device = testDevice();
      devices.set(name, device);
      const endpoint = `${origin}/send/${name}`;
      return { endpoint, subscription: device.subscription(endpoint) };
    },
    answer(name, ...statuses) {
      scripted.set(name, [...(scripted.get(name) ?? []), ...statuses]);
    },
    attempts: (name) => attempts.get(name) ?? 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
