#!/usr/bin/env node
// Keeps package-lock.json installable with `npm ci` on every platform.
//
// Packages such as turbo, msgpackr-extract and unrs-resolver ship their native binaries as one
// optional package per platform. When the registry a lock was made against does not serve some
// of those platform packages, npm leaves them out of the lock, and `npm ci` (npm 11) then refuses
// the lock as out of sync. This adds the missing entries with their version, `optional`, and the
// os/cpu read from the package name, so every platform installs its own binary and skips the rest.
//
//   node scripts/lock-optional-stubs.mjs        (after any `npm install`)
import { readFileSync, writeFileSync } from 'node:fs';

const OS = ['darwin', 'linux', 'win32', 'freebsd', 'android', 'openbsd', 'netbsd', 'sunos', 'aix'];
const OS_ALIASES = { windows: 'win32', macos: 'darwin' };
const CPU = ['x64', 'arm64', 'arm', 'ia32', 'loong64', 'ppc64', 'riscv64', 's390x', 'wasm32'];
const CPU_ALIASES = { '64': 'x64', eabi: 'arm', gnueabihf: 'arm', musleabihf: 'arm' };

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.map((p) => OS_ALIASES[p] ?? p).find((p) => OS.includes(p));
  let cpu = parts.find((p) => CPU.includes(p));
  if (!cpu) cpu = parts.map((p) => CPU_ALIASES[p]).find(Boolean);
  return { ...(os ? { os: [os] } : {}), ...(cpu ? { cpu: [cpu] } : {}) };
}

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const added = [];
for (const [key, pkg] of Object.entries(lock.packages)) {
  for (const [name, range] of Object.entries(pkg.optionalDependencies ?? {})) {
    const at = `node_modules/${name}`;
    if (lock.packages[at] || lock.packages[`${key}/${at}`]) continue;
    const version = range.replace(/^[\^~=]/, '');
    lock.packages[at] = { version, ...(pkg.dev ? { dev: true } : {}), optional: true, ...platformOf(name) };
    added.push(`${name}@${version}`);
  }
}
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length ? `added ${added.length} lock entries:\n  ${added.join('\n  ')}` : 'package-lock.json already complete');
