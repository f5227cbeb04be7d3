import { createLogger, createRedis, registerScript, waitForReady, type RedisClient } from '@jobstream/runtime';
import { Cluster } from 'ioredis';
import { testClusterNodes, testRedisUrl } from '../test-support/services';

const log = createLogger({ name: 'test', level: 'silent' });
/** The suite's Redis: a single node, or the cluster on the cluster run. */
const target = { url: testRedisUrl(), clusterNodes: testClusterNodes() };
const onCluster = target.clusterNodes !== undefined;
let redis: RedisClient;

beforeEach(async () => {
  redis = createRedis(target, { role: 'command', logger: log, connectionName: 'jobstream:test:pipelining' });
  await waitForReady(redis);
});

afterEach(() => redis.disconnect());

type Scripted = RedisClient & Record<string, (...args: string[]) => Promise<unknown>>;

describe('command connections', () => {
  it('pipeline automatically on a single Redis and never on a cluster', () => {
    expect((redis.options as { enableAutoPipelining?: boolean }).enableAutoPipelining ?? false).toBe(!onCluster);
  });

  it('sends the commands of one turn together and answers each with its own reply', async () => {
    const key = `test-pipelining-${process.pid}`;
    const replies = await Promise.all([redis.set(key, 'a'), redis.get(key), redis.append(key, 'b'), redis.get(key), redis.del(key)]);
    expect(replies).toEqual(['OK', 'a', 2, 'ab', 1]);
  });

  it('runs a script registered before the client was made inside the pipelines', async () => {
    const define = registerScript('jobstreamTestEcho', { numberOfKeys: 0, lua: 'return ARGV[1]' });
    const client = createRedis(target, { role: 'command', logger: log, connectionName: 'jobstream:test:pipelining:2' });
    try {
      await waitForReady(client);
      define(client);
      const echoes = await Promise.all(['x', 'y'].map((value) => (client as Scripted).jobstreamTestEcho!(value)));
      expect(echoes).toEqual(['x', 'y']);
    } finally {
      client.disconnect();
    }
  });

  it('runs a script first defined while a pipeline of the same turn is pending', async () => {
    const define = registerScript(`jobstreamTestLate${process.pid}`, { numberOfKeys: 0, lua: 'return ARGV[1]' });
    const pending = redis.ping();
    define(redis);
    const late = (redis as Scripted)[`jobstreamTestLate${process.pid}`]!('late');
    await expect(Promise.all([pending, late])).resolves.toEqual(['PONG', 'late']);
  });

  it('runs a script again after Redis forgot it (SCRIPT FLUSH), sending its source once', async () => {
    const define = registerScript('jobstreamTestForgotten', { numberOfKeys: 1, lua: 'return KEYS[1] .. ARGV[1]' });
    define(redis);
    const run = (redis as Scripted).jobstreamTestForgotten!;
    await expect(run('{k}', '1')).resolves.toBe('{k}1');
    const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
    await Promise.all(nodes.map((node) => node.script('FLUSH')));
    await expect(Promise.all([run('{k}', '2'), run('{k}', '3')])).resolves.toEqual(['{k}2', '{k}3']);
  });

  it('refuses two different scripts under one name', () => {
    registerScript('jobstreamTestTwice', { lua: 'return 1' });
    expect(() => registerScript('jobstreamTestTwice', { lua: 'return 2' })).toThrow('two different Lua scripts are named jobstreamTestTwice');
  });
});
