import { killSwitchStateSchema, type KillSwitchAuditEntry, type KillSwitchState } from '@jobstream/contracts';
import type { Logger } from 'pino';
import type { JobstreamKeys } from './keys.js';
import type { RedisClient } from './redis.js';
import { LUA_SYSTEM_APPEND, SYSTEM_STREAM_MAX_LEN } from './system-events.js';
import { registerScript } from './lua-scripts.js';

/** Audit entries kept (approximate trimming): years of manual changes, and one automatic one a month. */
export const KILL_SWITCH_AUDIT_MAX_LEN = 10_000;

export const KILL_SWITCH_OFF: KillSwitchState = { enabled: false, reason: null, auto: false, changedAt: null, changedBy: null };

type KillSwitchKeys = Pick<JobstreamKeys, 'killSwitch' | 'killSwitchAudit' | 'system' | 'feed'>;

/** A request to change the switch. `changedBy` is who asked: an admin's id, or `budget`. */
export interface KillSwitchChange {
  enabled: boolean;
  reason: string | null;
  changedBy: string;
  /** True when the budget, not a person, changes it. */
  auto: boolean;
  /** Only turn it on when it is off (the budget must not overwrite a person's reason). Default false. */
  onlyIfOff?: boolean;
}

/**
 * State, audit entry and system notification (with its feed pointer) are written in one script,
 * so no change is ever missing from the audit trail and no notification announces a change that
 * did not happen.
 */
const SET_SCRIPT = `${LUA_SYSTEM_APPEND}
if ARGV[6] == '1' and redis.call('HGET', KEYS[1], 'enabled') == '1' then return 0 end
redis.call('HSET', KEYS[1], 'enabled', ARGV[1], 'reason', ARGV[2], 'auto', ARGV[3], 'changedBy', ARGV[4], 'changedAt', ARGV[5])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'at', ARGV[5], 'by', ARGV[4], 'enabled', ARGV[1], 'reason', ARGV[2], 'auto', ARGV[3])
append_system_event(KEYS[3], KEYS[4], ARGV[8], 'kill_switch_changed', ARGV[9])
return 1
`;

type ScriptClient = RedisClient & { jobstreamSetKillSwitch(...args: string[]): Promise<number> };

function decodeState(fields: Record<string, string>): KillSwitchState {
  if (!fields.enabled) return KILL_SWITCH_OFF;
  return killSwitchStateSchema.parse({
    enabled: fields.enabled === '1',
    reason: fields.reason ? fields.reason : null,
    auto: fields.auto === '1',
    changedAt: fields.changedAt || null,
    changedBy: fields.changedBy || null,
  });
}

/** The kill-switch as stored; off when it was never set. */
export async function readKillSwitch(redis: RedisClient, keys: Pick<JobstreamKeys, 'killSwitch'>): Promise<KillSwitchState> {
  return decodeState(await redis.hgetall(keys.killSwitch));
}

const defineSetKillSwitch = registerScript('jobstreamSetKillSwitch', { numberOfKeys: 4, lua: SET_SCRIPT });

/**
 * Turns the switch on or off, recording who, when and why in the audit trail and publishing a
 * `kill_switch_changed` notification. Returns false when `onlyIfOff` found it already on.
 */
export async function setKillSwitch(redis: RedisClient, keys: KillSwitchKeys, change: KillSwitchChange): Promise<boolean> {
  defineSetKillSwitch(redis);
  const changedAt = new Date().toISOString();
  const notification = JSON.stringify({
    timestamp: changedAt,
    enabled: change.enabled,
    reason: change.reason,
    auto: change.auto,
    changedBy: change.changedBy,
  });
  const applied = await (redis as ScriptClient).jobstreamSetKillSwitch(
    keys.killSwitch,
    keys.killSwitchAudit,
    keys.system,
    keys.feed,
    change.enabled ? '1' : '0',
    change.reason ?? '',
    change.auto ? '1' : '0',
    change.changedBy,
    changedAt,
    change.onlyIfOff ? '1' : '0',
    String(KILL_SWITCH_AUDIT_MAX_LEN),
    String(SYSTEM_STREAM_MAX_LEN),
    notification,
  );
  return applied === 1;
}

/** The newest audit entries first. */
export async function readKillSwitchAudit(
  redis: RedisClient,
  keys: Pick<JobstreamKeys, 'killSwitchAudit'>,
  count = 20,
): Promise<KillSwitchAuditEntry[]> {
  const rows = (await redis.xrevrange(keys.killSwitchAudit, '+', '-', 'COUNT', count)) as [string, string[]][];
  return rows.map(([id, list]) => {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < list.length; i += 2) f[list[i] as string] = list[i + 1] as string;
    return { id, at: f.at ?? '', by: f.by ?? '', enabled: f.enabled === '1', reason: f.reason ? f.reason : null, auto: f.auto === '1' };
  });
}

export interface KillSwitchWatcherOptions {
  redis: RedisClient;
  keys: Pick<JobstreamKeys, 'killSwitch'>;
  logger: Logger;
  /** How often the copy is refreshed. Must stay well under a second: a change must reach every replica within one. */
  refreshMs: number;
}

/**
 * Each api replica's in-memory copy of the switch, checked on every job request without a
 * Redis round trip. It polls instead of subscribing: a lost pub/sub message (reconnect, cluster
 * failover) would leave a replica admitting jobs until the next change, while a poll of one
 * small hash catches up within `refreshMs` whatever happened in between.
 */
export class KillSwitchWatcher {
  private state: KillSwitchState = KILL_SWITCH_OFF;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;

  constructor(private readonly options: KillSwitchWatcherOptions) {}

  get current(): KillSwitchState {
    return this.state;
  }

  /** Reads the switch once (so a new replica never admits while it is on), then keeps refreshing. */
  async start(): Promise<void> {
    this.state = await readKillSwitch(this.options.redis, this.options.keys);
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async refresh(): Promise<void> {
    try {
      const next = await readKillSwitch(this.options.redis, this.options.keys);
      if (next.enabled !== this.state.enabled) {
        this.options.logger.warn({ killSwitch: next }, next.enabled ? 'kill-switch is on: refusing new jobs' : 'kill-switch is off: accepting jobs');
      }
      this.state = next;
      if (this.failing) this.options.logger.info('kill-switch refresh works again');
      this.failing = false;
    } catch (err) {
      // Keep the last known state: with Redis away, enqueueing fails with 503 anyway.
      if (!this.failing) this.options.logger.warn({ err }, 'could not refresh the kill-switch');
      this.failing = true;
    }
  }
}
