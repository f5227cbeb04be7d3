import type { RedisClient } from './redis.js';

/** A Lua script as ioredis defines it as a command. */
export interface ScriptDefinition {
  numberOfKeys?: number;
  lua: string;
}

const registered = new Map<string, ScriptDefinition>();

type PipeliningOptions = { enableAutoPipelining?: boolean; autoPipeliningIgnoredCommands?: string[] };

function define(redis: RedisClient, name: string, definition: ScriptDefinition, late: boolean): void {
  if (name in redis) return;
  const options = redis.options as PipeliningOptions;
  // A client that pipelines automatically copies its commands into each pipeline it starts: a
  // command defined while one is pending would be missing from it. Scripts are defined when the
  // client is made (createRedis); one defined later is sent on its own.
  if (late && options.enableAutoPipelining) options.autoPipeliningIgnoredCommands = [...(options.autoPipeliningIgnoredCommands ?? []), name];
  redis.defineCommand(name, definition);
}

/**
 * Registers a Lua script as the command `name` (call it at module level, so it is known before any
 * client is made). Clients made by `createRedis` get every registered script when they are made;
 * the returned function defines it on any other client that lacks it.
 */
export function registerScript(name: string, definition: ScriptDefinition): (redis: RedisClient) => void {
  const known = registered.get(name);
  if (known && known.lua !== definition.lua) throw new Error(`two different Lua scripts are named ${name}`);
  registered.set(name, definition);
  return (redis) => define(redis, name, definition, true);
}

/** Defines every registered script on a new client. */
export function defineRegisteredScripts(redis: RedisClient): void {
  for (const [name, definition] of registered) define(redis, name, definition, false);
}
