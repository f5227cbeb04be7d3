import { JobstreamApiError, JobstreamError } from '@jobstream/client';
import { UsageError } from './args.js';
import { usage } from './usage.js';

/** Where the CLI writes; `process.stdout`/`stderr` in real use. */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Io {
  stdout: OutputStream;
  stderr: OutputStream;
}

/** Where tokens come from: the repository's script against `npm start`, the identity provider elsewhere. */
const TOKEN_HINT = 'npm run -s token -- --user <you> [--role admin] in development (npm start), from your identity provider otherwise';

export const exitCodes = {
  ok: 0,
  jobFailed: 1,
  usage: 2,
  apiError: 3,
  interrupted: 130,
} as const;

/** Human text or JSON to stdout, errors to stderr; colors only for a person at a terminal. */
export class Output {
  readonly color: boolean;

  constructor(
    readonly io: Io,
    readonly json: boolean,
    env: Record<string, string | undefined>,
  ) {
    this.color = io.stdout.isTTY === true && !json && env.NO_COLOR === undefined;
  }

  get interactive(): boolean {
    return this.io.stdout.isTTY === true && !this.json;
  }

  line(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** One JSON document (or one NDJSON line) on stdout. */
  value(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value)}\n`);
  }

  green(text: string): string {
    return this.color ? `\x1b[32m${text}\x1b[0m` : text;
  }

  red(text: string): string {
    return this.color ? `\x1b[31m${text}\x1b[0m` : text;
  }

  yellow(text: string): string {
    return this.color ? `\x1b[33m${text}\x1b[0m` : text;
  }

  dim(text: string): string {
    return this.color ? `\x1b[2m${text}\x1b[0m` : text;
  }

  /** Prints an error the way a person (or, with --json, a script) can act on; returns its exit code. */
  fail(err: unknown, url: string): number {
    if (err instanceof UsageError) {
      this.io.stderr.write(err.withUsage ? `jobstream: ${err.message}\n\n${usage}` : `jobstream: ${err.message}\nRun "jobstream help" for usage.\n`);
      return exitCodes.usage;
    }
    if (this.json) {
      const body =
        err instanceof JobstreamApiError
          ? { error: err.message, code: err.code, status: err.status, ...(err.details ? { details: err.details } : {}), ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) }
          : err instanceof JobstreamError
            ? { error: err.message, code: err.code }
            : { error: String((err as Error)?.message ?? err), code: 'CLI_ERROR' };
      this.io.stderr.write(`${JSON.stringify(body)}\n`);
      return exitCodes.apiError;
    }
    let text: string;
    if (err instanceof JobstreamApiError) {
      text = `jobstream: ${err.code} (HTTP ${err.status}): ${err.message}\n`;
      for (const detail of err.details ?? []) text += `  - ${detail.path}: ${detail.message}\n`;
      if (err.retryAfterMs !== undefined) text += `  retry after ${Math.ceil(err.retryAfterMs / 1000)} s\n`;
      if (err.code === 'AUTH_REQUIRED') text += '  (pass a token with --token or JOBSTREAM_TOKEN)\n';
      else if (err.status === 401) text += '  (the token was refused: get a new one)\n';
      if (err.status === 401) text += `  get a token: ${TOKEN_HINT}\n`;
      if (err.status === 403) text += '  (this command needs a token with the admin role)\n';
    } else if (err instanceof JobstreamError) {
      text = `jobstream: ${err.code}: ${err.message}\n`;
      if (err.code === 'NETWORK_ERROR') text += `  is the api running at ${url}? (set --url or JOBSTREAM_URL)\n`;
    } else {
      text = `jobstream: ${String((err as Error)?.stack ?? err)}\n`;
    }
    this.io.stderr.write(text);
    return exitCodes.apiError;
  }
}

/** Durations and money as the dashboard shows them too (`2.4 s`, `$12.34`): one rule each, in the SDK. */
export { formatDuration, formatUsd } from '@jobstream/client';
