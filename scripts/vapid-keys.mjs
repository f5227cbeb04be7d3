#!/usr/bin/env node
// Generates a VAPID key pair (ECDSA P-256) for Web Push, as the environment lines the api and the
// worker read:
//
//   npm run -s vapid-keys >> .env
//
// Set the same three variables on every api replica and worker. A new pair ends every existing
// browser subscription (they were made for the old public key): generate it once per deployment.
import { generateKeyPairSync } from 'node:crypto';

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const pub = publicKey.export({ format: 'jwk' });
const priv = privateKey.export({ format: 'jwk' });
// The public key as browsers take it (applicationServerKey): the uncompressed point 0x04 || x || y.
const point = Buffer.concat([Buffer.from([4]), Buffer.from(pub.x, 'base64url'), Buffer.from(pub.y, 'base64url')]);
process.stdout.write(`VAPID_PUBLIC_KEY=${point.toString('base64url')}\nVAPID_PRIVATE_KEY=${priv.d}\nVAPID_SUBJECT=mailto:push@example.com\n`);
