import { createHash } from 'node:crypto';
import type { RedisClient } from './redis.js';

/** A Lua script run as the command `name` on a client (see registerScript). */
export interface ScriptDefinition {
  /** Keys the script takes; when undefined, the first argument of each call says how many. */
  numberOfKeys?: number;
  lua: string;
}

type ScriptArg = string | number;
type ScriptRun = (redis: RedisClient, args: ScriptArg[]) => Promise<unknown>;

const registered = new Map<string, { definition: ScriptDefinition; run: ScriptRun }>();

/** Runs a script by its SHA1 and sends the source once when Redis does not know it (after a restart or SCRIPT FLUSH). */
function scriptRunner(definition: ScriptDefinition): ScriptRun {
  const sha = createHash('sha1').update(definition.lua).digest('hex');
  const { numberOfKeys, lua } = definition;
  return async (redis, args) => {
    const numKeys = numberOfKeys ?? Number(args[0]);
    const rest = numberOfKeys === undefined ? args.slice(1) : args;
    try {
      return await redis.evalsha(sha, numKeys, ...rest);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(lua, numKeys, ...rest);
    }
  };
}

/**
 * Gives the client a method `name` that runs the script. Not ioredis's defineCommand: ioredis
 * copies every defined command into each pipeline it makes, and a client that pipelines
 * automatically makes one per turn of the event loop, so each defined script made every command
 * dearer. EVALSHA is a plain command, pipelined with the rest of its turn.
 */
function define(redis: RedisClient, name: string, run: ScriptRun): void {
  if (name in redis) return;
  Object.defineProperty(redis, name, { value: (...args: ScriptArg[]) => run(redis, args), enumerable: false });
}

/**
 * Registers a Lua script as the command `name` (call it at module level, so it is known before any
 * client is made). Clients made by `createRedis` get every registered script when they are made;
 * the returned function defines it on any other client that lacks it.
 */
export function registerScript(name: string, definition: ScriptDefinition): (redis: RedisClient) => void {
  const known = registered.get(name);
  if (known && known.definition.lua !== definition.lua) throw new Error(`two different Lua scripts are named ${name}`);
  const run = known?.run ?? scriptRunner(definition);
  registered.set(name, { definition, run });
  return (redis) => define(redis, name, run);
}

/** Defines every registered script on a new client. */
export function defineRegisteredScripts(redis: RedisClient): void {
  for (const [name, { run }] of registered) define(redis, name, run);
}
