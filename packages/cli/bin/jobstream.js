#!/usr/bin/env node
// The `jobstream` command. This launcher is committed (not built) so that `npm ci` can link the bin
// before anything is compiled (npm skips a bin whose file is missing); the CLI itself is the
// compiled `dist/main.js`, which also runs on its own: `node packages/cli/dist/main.js`.
'use strict';
let cli;
try {
  // CommonJS like the rest of the repository's output.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  cli = require('../dist/main.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist/main.js')) {
    process.stderr.write('jobstream: the CLI is not built yet; run `npm run build` at the repository root first\n');
    process.exit(2);
  }
  throw err;
}
cli.run();
