import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const RUNTIME = join(__dirname, '..', 'packages', 'runtime', 'dist', 'index.js');

/** Runs a script against the built runtime in a fresh Node process; returns what it printed. */
async function inNode(script: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['-e', `const runtime = require(${JSON.stringify(RUNTIME)});\n${script}`], { timeout: 20_000 });
  return stdout;
}

const loadedSentry = "Object.keys(require.cache).filter((file) => file.includes('@sentry')).length";

describe('error reporting loads only when configured', () => {
  it('never loads the Sentry SDK in a process without SENTRY_DSN', async () => {
    const out = await inNode(`
      const logger = runtime.createLogger({ name: 'test', level: 'silent' });
      const started = runtime.initSentry({ service: 'test', logger });
      runtime.reportError(new Error('not sent'));
      runtime.flushSentry().then(() => console.log(JSON.stringify({ started, enabled: runtime.sentryEnabled(), loaded: ${loadedSentry} })));
    `);
    expect(JSON.parse(out)).toEqual({ started: false, enabled: false, loaded: 0 });
  });

  it('loads the Sentry SDK once a DSN is configured', async () => {
    const out = await inNode(`
      const logger = runtime.createLogger({ name: 'test', level: 'silent' });
      const started = runtime.initSentry({ service: 'test', dsn: 'http://publickey@127.0.0.1:9/1', logger });
      runtime.flushSentry(100).then(() => console.log(JSON.stringify({ started, enabled: runtime.sentryEnabled(), loaded: ${loadedSentry} > 0 })));
    `);
    expect(JSON.parse(out)).toEqual({ started: true, enabled: true, loaded: true });
  });
});
