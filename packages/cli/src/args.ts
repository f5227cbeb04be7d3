import { parseArgs } from 'node:util';

/** A mistake in how the command was called: printed with the usage hint, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** Print the whole usage, not just the hint to `jobstream help` (no command given at all). */
    readonly withUsage = false,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export const commandNames = ['enqueue', 'watch', 'job', 'jobs', 'cancel', 'retry', 'alerts', 'budget', 'kill-switch', 'admin', 'stats', 'workers', 'events', 'breakdown', 'feed', 'help'] as const;
export type CommandName = (typeof commandNames)[number];

/** What each command accepts besides the global options. */
const commandOptions: Record<CommandName, readonly string[]> = {
  enqueue: ['payload', 'idempotency-key', 'watch'],
  watch: [],
  job: [],
  jobs: ['limit', 'cursor'],
  cancel: [],
  retry: [],
  admin: ['state', 'older-than', 'limit', 'cursor'],
  alerts: [],
  budget: ['limit', 'period'],
  'kill-switch': ['reason', 'limit'],
  stats: [],
  workers: [],
  events: ['limit', 'event'],
  breakdown: ['limit'],
  feed: [],
  help: [],
};

export interface ParsedArgs {
  command: CommandName;
  positionals: string[];
  /** `--url`, else `JOBSTREAM_URL`, else http://localhost:3000. */
  url: string;
  /** `--token`, else `JOBSTREAM_TOKEN`. */
  token: string | undefined;
  json: boolean;
  payload: string | undefined;
  idempotencyKey: string | undefined;
  watch: boolean;
  reason: string | undefined;
  /** `jobs`, `budget charges`: 1-100; `kill-switch audit`, `events`, `breakdown`: 1-1000. */
  limit: number | undefined;
  /** `jobs`, `admin jobs`: the page after this cursor. */
  cursor: string | undefined;
  /** `events`: only notifications of this name. */
  event: string | undefined;
  /** `budget charges`: the month (`YYYY-MM`), else the current one. */
  period: string | undefined;
  /** `admin jobs`, `admin clean`: which jobs. */
  state: string | undefined;
  /** `admin clean`: the age (`1h`, `7d`, seconds without a unit). */
  olderThan: string | undefined;
}

const DEFAULT_URL = 'http://localhost:3000';

/** Parses the command line; throws a UsageError that says what is wrong. */
export function parseCommandLine(argv: string[], env: Record<string, string | undefined>): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        payload: { type: 'string', short: 'p' },
        'idempotency-key': { type: 'string' },
        watch: { type: 'boolean', short: 'w' },
        reason: { type: 'string' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
        event: { type: 'string' },
        period: { type: 'string' },
        state: { type: 'string' },
        'older-than': { type: 'string' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [first, ...rest] = positionals;
  // A bare `jobstream` is a call without a command: a usage error, unlike asking for help.
  if (first === undefined && !values.help) throw new UsageError('no command given', true);
  const command = values.help || first === undefined ? 'help' : first;
  if (!(commandNames as readonly string[]).includes(command)) throw new UsageError(`unknown command "${command}"`);
  const name = command as CommandName;
  const global = ['url', 'token', 'json', 'help'];
  for (const [option, value] of Object.entries(values)) {
    if (value === undefined || global.includes(option)) continue;
    if (!commandOptions[name].includes(option)) throw new UsageError(`--${option} does not apply to "${name}"`);
  }
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  // The api's own bounds: a page of jobs, a stretch of the audit trail.
  const maxLimit = name === 'admin' ? 10_000 : name === 'kill-switch' || name === 'events' || name === 'breakdown' ? 1_000 : 100;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= maxLimit)) throw new UsageError(`--limit must be a whole number from 1 to ${maxLimit}, got "${values.limit}"`);
  if (values.period !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(values.period)) throw new UsageError(`--period must be a month as YYYY-MM, got "${values.period}"`);
  const url = values.url ?? env.JOBSTREAM_URL ?? DEFAULT_URL;
  if (!/^https?:\/\/[^/]/i.test(url)) throw new UsageError(`--url must be an http(s) URL such as ${DEFAULT_URL}, got "${url}"`);
  return {
    command: name,
    positionals: first === undefined ? [] : rest,
    url,
    token: values.token ?? (env.JOBSTREAM_TOKEN || undefined),
    json: values.json ?? false,
    payload: values.payload,
    idempotencyKey: values['idempotency-key'],
    watch: values.watch ?? false,
    reason: values.reason,
    limit,
    cursor: values.cursor,
    event: values.event,
    period: values.period,
    state: values.state,
    olderThan: values['older-than'],
  };
}
