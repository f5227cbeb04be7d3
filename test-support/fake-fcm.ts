import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { importSPKI, jwtVerify, type JWTPayload } from 'jose';

const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

/** One message FCM accepted or refused, with the bearer it came with. */
export interface FcmRequest {
  bearer: string;
  message: { token: string; notification?: { title?: string; body?: string }; data?: Record<string, string> } & Record<string, unknown>;
  status: number;
}

export interface FakeFcm {
  projectId: string;
  /** The environment that points the worker (and the api) at these fakes. */
  env: Record<string, string>;
  /** Requests to messages:send, in order, with what was answered. */
  requests: FcmRequest[];
  /** Claims of each assertion the token server exchanged for an access token. */
  exchanges: JWTPayload[];
  /** Access tokens the token server handed out, in order (a 401 answered with one revokes it). */
  issued: string[];
  /** Problems with requests (a bad assertion, a body that is not an FCM message): a test asserts this stays empty. */
  problems: string[];
  /** Answers the next sends to `token` with these statuses, in order (then 200 again); 404 comes with FCM's UNREGISTERED body. */
  answer(token: string, ...statuses: number[]): void;
  close(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, body: string, res: ServerResponse) => Promise<void>): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => void handler(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

/**
 * Google's token endpoint and FCM HTTP v1 on 127.0.0.1, checking what the real ones check: the
 * token server verifies the service account's RS256 assertion (issuer, scope, audience, an hour at
 * most) with the account's public key; FCM takes only a bearer the token server issued.
 */
export async function startFakeFcm(projectId = 'jobstream-test'): Promise<FakeFcm> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const verifyKey = await importSPKI(publicKey.export({ type: 'spki', format: 'pem' }) as string, 'RS256');
  const clientEmail = `pusher@${projectId}.iam.gserviceaccount.com`;
  const requests: FcmRequest[] = [];
  const exchanges: JWTPayload[] = [];
  const issued: string[] = [];
  const problems: string[] = [];
  const scripted = new Map<string, number[]>();
  const revoked = new Set<string>();
  let tokenUrl = '';

  const tokens = await listen(async (req, body, res) => {
    const form = new URLSearchParams(body);
    try {
      if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') throw new Error(`content-type ${req.headers['content-type']}`);
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') throw new Error(`grant_type ${form.get('grant_type')}`);
      const { payload } = await jwtVerify(form.get('assertion') ?? '', verifyKey, { algorithms: ['RS256'], issuer: clientEmail, audience: tokenUrl });
      if (payload.scope !== FCM_SCOPE) throw new Error(`scope ${String(payload.scope)}`);
      if (!payload.iat || !payload.exp || payload.exp - payload.iat > 3_600) throw new Error('the assertion lives longer than an hour');
      exchanges.push(payload);
      const accessToken = `ya29.fake-${issued.length + 1}`;
      issued.push(accessToken);
      json(res, 200, { access_token: accessToken, expires_in: 3_599, token_type: 'Bearer' });
    } catch (err) {
      problems.push(`token: ${(err as Error).message}`);
      json(res, 400, { error: 'invalid_grant', error_description: (err as Error).message });
    }
  });
  tokenUrl = `${tokens.url}/token`;

  const fcm = await listen(async (req, body, res) => {
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    if (req.url !== `/v1/projects/${projectId}/messages:send`) return void json(res, 404, { error: { code: 404, status: 'NOT_FOUND', message: `no route ${req.url}` } });
    if (!issued.includes(bearer) || revoked.has(bearer)) return void json(res, 401, { error: { code: 401, status: 'UNAUTHENTICATED', message: 'Request had invalid authentication credentials.' } });
    let message: FcmRequest['message'];
    try {
      message = (JSON.parse(body) as { message: FcmRequest['message'] }).message;
      if (typeof message?.token !== 'string') throw new Error('no message.token');
    } catch (err) {
      problems.push(`send: ${(err as Error).message}`);
      return void json(res, 400, { error: { code: 400, status: 'INVALID_ARGUMENT' } });
    }
    const status = scripted.get(message.token)?.shift() ?? 200;
    requests.push({ bearer, message, status });
    if (status === 200) return void json(res, 200, { name: `projects/${projectId}/messages/${requests.length}` });
    if (status === 401) revoked.add(bearer);
    const errorCode = status === 404 ? 'UNREGISTERED' : status === 429 ? 'QUOTA_EXCEEDED' : 'UNAVAILABLE';
    json(res, status, { error: { code: status, status: 'ERROR', details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] } });
  });

  const serviceAccount = {
    type: 'service_account',
    project_id: projectId,
    private_key_id: 'test-key-1',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    client_email: clientEmail,
    token_uri: 'https://oauth2.googleapis.com/token',
  };
  return {
    projectId,
    env: { FCM_PROJECT_ID: projectId, FCM_SERVICE_ACCOUNT_JSON: JSON.stringify(serviceAccount), FCM_API_URL: fcm.url, FCM_TOKEN_URL: tokenUrl },
    requests,
    exchanges,
    issued,
    problems,
    answer(token, ...statuses) {
      scripted.set(token, [...(scripted.get(token) ?? []), ...statuses]);
    },
    close: async () => {
      for (const { server } of [tokens, fcm]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
