import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { freePort, startRedisServer, type RedisProcess, type RedisProcessOptions } from './redis-server';

const SLOTS = 16_384;

export interface RedisClusterProcess {
  /** One `redis-server --cluster-enabled yes` per master, each on its own loopback port. */
  masters: RedisProcess[];
  /** `host:port` of every master: the value of `REDIS_CLUSTER_NODES`. */
  nodes: string[];
  /** The slots each master owns, `[first, last]`, in the order of `masters`. */
  slotRanges: [number, number][];
  /** Stops every node and removes their data dirs. */
  destroy(): Promise<void>;
}

export interface RedisClusterOptions {
  /** Number of masters, each owning an equal share of the 16384 slots. Default 3. */
  masters?: number;
  /** How long to wait for `cluster_state:ok` on every node. Default 20 s. */
  timeoutMs?: number;
  /** AOF on every node, so a restarted master keeps its data. Default false. */
  appendOnly?: boolean;
  /** Every node requires this password (clients and the nodes among themselves). */
  password?: RedisProcessOptions['password'];
  /** Every node listens with TLS only, its cluster bus too (see RedisProcessOptions). */
  tls?: RedisProcessOptions['tls'];
}

function clusterInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const [key, value] = line.split(':');
    if (key && value !== undefined) out[key] = value.trim();
  }
  return out;
}

/** The highest port a cluster node can use: its cluster bus listens on the port + 10000. */
const MAX_CLUSTER_PORT = 65_535 - 10_000;

/** Whether nothing listens on `port` of the loopback address. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free port for a cluster node whose bus port (+10000) is free too. The kernel hands out
 * ephemeral ports up to 60999, and Redis refuses cluster mode on a port above 55535.
 */
async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = await freePort();
    if (port <= MAX_CLUSTER_PORT && (await portIsFree(port + 10_000))) return port;
  }
  throw new Error('found no free port pair for a cluster node (port and port + 10000)');
}

/**
 * Starts a local Redis Cluster of `masters` masters and no replicas, the way `redis-cli --cluster
 * create` would, but without its fixed sleeps: each node gets its range of slots (CLUSTER
 * ADDSLOTS), the first node MEETs the others, and it resolves once every node reports
 * `cluster_state:ok` and knows every node and every slot. Needs `redis-server` on the PATH.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterProcess> {
  const count = options.masters ?? 3;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const masters: RedisProcess[] = [];
  const admins: Redis[] = [];
  const destroy = async (): Promise<void> => {
    for (const admin of admins.splice(0)) admin.disconnect();
    await Promise.allSettled(masters.map((m) => m.destroy()));
  };
  try {
    for (let i = 0; i < count; i += 1) {
      // nodes.conf is relative to the node's --dir, so each node keeps its own.
      masters.push(
        await startRedisServer({
          port: await freeClusterPort(),
          appendOnly: options.appendOnly ?? false,
          ...(options.password !== undefined ? { password: options.password } : {}),
          ...(options.tls ? { tls: options.tls } : {}),
          extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '3000'],
        }),
      );
    }
    for (const master of masters) {
      const admin = new Redis(master.url, { ...master.clientOptions, maxRetriesPerRequest: 1, lazyConnect: true });
      admin.on('error', () => undefined);
      await admin.connect();
      admins.push(admin);
    }
    const perNode = Math.ceil(SLOTS / count);
    const slotRanges = masters.map((_, i): [number, number] => [i * perNode, Math.min(SLOTS, (i + 1) * perNode) - 1]);
    await Promise.all(
      admins.map((admin, i) => {
        const [from, to] = slotRanges[i]!;
        const slots: number[] = [];
        for (let slot = from; slot <= to; slot += 1) slots.push(slot);
        // Distinct config epochs, as redis-cli sets them, so no epoch collision has to be resolved first.
        return admin.cluster('SET-CONFIG-EPOCH', i + 1).then(() => admin.cluster('ADDSLOTS', ...slots));
      }),
    );
    const first = admins[0]!;
    for (const master of masters.slice(1)) await first.cluster('MEET', '127.0.0.1', master.port);

    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const infos = await Promise.all(admins.map(async (admin) => clusterInfo(String(await admin.cluster('INFO')))));
      const ok = infos.every(
        (info) =>
          info.cluster_state === 'ok' &&
          Number(info.cluster_known_nodes) === count &&
          Number(info.cluster_slots_ok) === SLOTS,
      );
      if (ok) break;
      if (Date.now() > deadline) {
        throw new Error(`Redis Cluster not ok after ${timeoutMs} ms: ${JSON.stringify(infos.map((i) => i.cluster_state))}`);
      }
      await sleep(50);
    }
    for (const admin of admins.splice(0)) admin.disconnect();
    return { masters, nodes: masters.map((m) => `127.0.0.1:${m.port}`), slotRanges, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}

/** CRC16/XMODEM, the checksum Redis Cluster hashes keys with. */
function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The cluster slot of a key, hash tags included (the same answer as CLUSTER KEYSLOT). */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16(key.slice(open + 1, close)) % SLOTS;
  }
  return crc16(key) % SLOTS;
}

/** A fresh `{test-<uuid>}` queue prefix whose hash tag falls in the slots `[from, to]` (one master's share). */
export function prefixInSlots([from, to]: [number, number]): string {
  for (let i = 0; i < 10_000; i += 1) {
    const prefix = `{test-${randomUUID()}}`;
    const slot = keySlot(prefix);
    if (slot >= from && slot <= to) return prefix;
  }
  throw new Error(`no prefix found for slots ${from}-${to}`);
}
