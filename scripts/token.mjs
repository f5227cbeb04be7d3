#!/usr/bin/env node
// Mints a development token (HS256 JWT) for the api's AUTH_MODE=jwt:
//
//   npm run -s token -- --user alice [--role admin] [--role service] [--ttl 1h] [--url http://localhost:3000]
//   npm run -s token -- --help
//
// Signs with JWT_SECRET, or with the development secret that `npm start` also uses (.data/dev-jwt-secret).
// Prints the token alone on stdout (so `export JOBSTREAM_TOKEN=$(npm run -s token -- --user alice)`
// works) and, on stderr, a dashboard link with a single-use sign-in code the api at --url issues
// for the token (the token itself never goes into a URL, where browser history would keep it).
import { SignJWT } from 'jose';
import { parseArgs } from 'node:util';
import { jwtSecret } from './dev-secret.mjs';

const ROLES = ['admin', 'service'];
const UNITS = { s: 1, m: 60, h: 3_600, d: 86_400 };

const USAGE = 'usage: npm run -s token -- --user <id> [--role admin|service ...] [--ttl 1h] [--url http://localhost:3000]\n';
const HELP = `Mints a development token (HS256 JWT) for the api's AUTH_MODE=jwt.

${USAGE}
  --user <id>     the subject: whose jobs and inbox the token reaches (required)
  --role <role>   admin (alerts, budget, kill-switch) or service (publishes
                  notifications); repeat it or separate with commas; default: none
  --ttl <time>    how long it is valid: 30s, 15m, 12h or 7d; default 1h
  --url <url>     the api that issues the link's sign-in code and serves the dashboard;
                  default $JOBSTREAM_URL or http://localhost:3000
  -h, --help      this text

Signs with JWT_SECRET when set, else with the development secret npm start uses
(.data/dev-jwt-secret, created on first use). Prints the token alone on stdout and, on stderr,
a dashboard link that signs the browser in: <url>/#code=<code>, valid once, for 2 minutes (the api
at --url must be running; without it no link is printed, the token still is):

  export JOBSTREAM_TOKEN=$(npm run -s token -- --user alice --role admin)

In production tokens come from your identity provider, not from this script.
`;

function fail(message) {
  process.stderr.write(`token: ${message}\n`);
  process.stderr.write(USAGE);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      user: { type: 'string' },
      role: { type: 'string', multiple: true, default: [] },
      ttl: { type: 'string', default: '1h' },
      url: { type: 'string', default: process.env.JOBSTREAM_URL || 'http://localhost:3000' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
} catch (err) {
  fail(err.message);
}
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
if (!values.user) fail('--user is required');
const roles = [...new Set(values.role.flatMap((r) => r.split(',')).map((r) => r.trim()).filter(Boolean))];
const unknown = roles.filter((r) => !ROLES.includes(r));
if (unknown.length > 0) fail(`unknown role ${unknown.join(', ')}; roles are ${ROLES.join(', ')}`);
const ttl = /^(\d+)([smhd])$/.exec(values.ttl);
if (!ttl) fail(`--ttl must look like 30s, 15m, 12h or 7d (got "${values.ttl}")`);
const seconds = Number(ttl[1]) * UNITS[ttl[2]];

// Created here when missing, so `npm run token` before the first `npm start` signs with the secret that start will use.
const key = jwtSecret(process.env, { create: true });
if (key.secret.length < 32) fail('the secret must be at least 32 characters');

const token = await new SignJWT({ roles })
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setSubject(values.user)
  .setIssuedAt()
  .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
  .sign(new TextEncoder().encode(key.secret));

process.stdout.write(`${token}\n`);
process.stderr.write(`token for ${values.user}${roles.length ? ` (${roles.join(', ')})` : ''}, valid for ${values.ttl}, signed with ${key.source === 'JWT_SECRET' ? 'JWT_SECRET' : 'the development secret'}\n`);

// The link carries a code the api exchanges for the token once, within 2 minutes: never the token.
const base = values.url.replace(/\/+$/, '');
try {
  const res = await fetch(`${base}/api/sign-in-codes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(5_000),
  });
  const body = await res.json().catch(() => undefined);
  if (res.status !== 201 || typeof body?.code !== 'string') {
    const reason = typeof body?.error === 'string' ? `${body.error} (${body.code})` : `HTTP ${res.status}`;
    process.stderr.write(`no dashboard link: ${base} did not issue a sign-in code: ${reason}\n`);
  } else {
    process.stderr.write(`dashboard (valid once, for 2 minutes): ${base}/#code=${body.code}\n`);
  }
} catch (err) {
  process.stderr.write(`no dashboard link: the api at ${base} is not answering (${err.cause?.code ?? err.message}); start it and run this again\n`);
}
