import { createLogger, jobstreamKeys, type RedisClient } from '@jobstream/runtime';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from '../services/api/src/http/api-error';
import { StreamSlots } from '../services/api/src/limits/stream-slots';
import { cleanupPrefix, testRedisClient, testRedisUrl } from '../test-support/services';
import { waitUntil } from '../test-support/wait';

const logger = createLogger({ name: 'test', level: 'silent' });

/**
 * StreamSlots behind a bare node:http server: each request takes a slot for user `?user=` and the
 * test decides how the server ends the response, as the stream code paths do (end for a terminal
 * event or shutdown, destroy for a slow client).
 */
describe('stream slots are tied to the response that carries the stream', () => {
  let prefix: string;
  let keys: ReturnType<typeof jobstreamKeys>;
  let redis: RedisClient;
  let slots: StreamSlots;
  let server: Server;
  let port: number;
  let opened: { res: ServerResponse; settled: boolean; error?: unknown }[];

  const start = async (maxPerUser: number, maxPerProcess: number, beforeAcquire?: (req: IncomingMessage) => void) => {
    slots = new StreamSlots({ redis, keyOf: keys.streamLeases, maxPerUser, maxPerProcess, leaseTtlMs: 30_000, logger });
    server = createServer((req, res) => {
      const user = new URL(req.url ?? '/', 'http://x').searchParams.get('user') ?? 'nobody';
      beforeAcquire?.(req);
      const entry: { res: ServerResponse; settled: boolean; error?: unknown } = { res, settled: false };
      opened.push(entry);
      slots.acquire(res, user).then(
        () => {
          entry.settled = true;
          if (!res.destroyed) res.writeHead(200, { 'content-type': 'text/event-stream' }).write(': open\n\n');
        },
        (err: unknown) => {
          entry.settled = true;
          entry.error = err;
          if (!res.destroyed) res.writeHead(err instanceof ApiError ? err.status : 500).end();
        },
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  };

  /** Resolves with the status once the headers arrived; the body stays open. */
  const connect = (user: string): Promise<{ status: number; abort: () => void }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: `/?user=${user}` }, (res) => {
        res.on('error', () => undefined);
        resolve({ status: res.statusCode ?? 0, abort: () => req.destroy() });
      });
      req.on('error', reject);
      req.end();
    });

  const leasesOf = (user: string) => redis.zcard(keys.streamLeases(user));

  beforeEach(() => {
    prefix = `{test-${randomUUID()}}`;
    keys = jobstreamKeys({ prefix, name: 'jobs' });
    redis = testRedisClient();
    opened = [];
  });

  afterEach(async () => {
    server.closeAllConnections();
    server.close();
    await slots.stop();
    redis.disconnect();
    await cleanupPrefix(testRedisUrl(), prefix);
  });

  it('gives both slots back when the server cuts a slow client off', async () => {
    await start(2, 10);
    expect((await connect('ann')).status).toBe(200);
    expect(slots.size).toBe(1);
    expect(await leasesOf('ann')).toBe(1);
    opened[0]!.res.destroy();
    await waitUntil('the slot to come back', async () => slots.size === 0 && (await leasesOf('ann')) === 0);
  });

  it('gives both slots back when the server ends the stream (terminal event, shutdown)', async () => {
    await start(2, 10);
    await connect('ben');
    await connect('ben');
    expect(await leasesOf('ben')).toBe(2);
    opened[0]!.res.end();
    await waitUntil('one slot to come back', async () => slots.size === 1 && (await leasesOf('ben')) === 1);
    opened[1]!.res.end();
    await waitUntil('the other slot to come back', async () => slots.size === 0 && (await leasesOf('ben')) === 0);
  });

  it('gives the lease back when the client left while Redis was still granting it', async () => {
    // The connection is gone before the lease request is even sent.
    await start(2, 10, (req) => req.socket.destroy());
    await expect(connect('cleo')).rejects.toThrow();
    await waitUntil('the lease request to be answered', () => opened[0]?.settled);
    await waitUntil('no slot to be held', async () => slots.size === 0 && (await leasesOf('cleo')) === 0);
    // It was granted (not refused): the lease went back because the response had closed meanwhile.
    expect(opened[0]!.error).toBeUndefined();
  });

  it('holds nothing for a refused stream, and frees a slot once however the response ends', async () => {
    await start(1, 10);
    expect((await connect('dan')).status).toBe(200);
    expect((await connect('dan')).status).toBe(429);
    expect((opened[1]!.error as ApiError).code).toBe('TOO_MANY_STREAMS');
    await waitUntil('the refused response to close', () => opened[1]!.res.writableFinished);
    expect(slots.size).toBe(1);
    // end() then destroy(): one close, one release (a second release would free a slot never taken).
    opened[0]!.res.end();
    opened[0]!.res.destroy();
    await waitUntil('the slot to come back', async () => slots.size === 0 && (await leasesOf('dan')) === 0);
    expect((await connect('dan')).status).toBe(200);
    expect(slots.size).toBe(1);
  });

  it('refuses with SERVER_BUSY at the process cap before asking Redis', async () => {
    await start(5, 1);
    expect((await connect('eve')).status).toBe(200);
    expect((await connect('finn')).status).toBe(503);
    expect((opened[1]!.error as ApiError).code).toBe('SERVER_BUSY');
    expect(await leasesOf('finn')).toBe(0);
  });
});
