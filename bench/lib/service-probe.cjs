'use strict';
// Preloaded (`node --require`) into the api and worker processes the bench starts. It changes
// nothing they do: it answers the runner's questions about the process over the IPC channel
// (memory after a full GC, CPU, open descriptors and their limit) and ends the process when the
// runner disappears, so a crashed bench leaves nothing behind.
const { readFileSync, readdirSync } = require('node:fs');

function fdLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  return Number(line ? line.split(/\s+/)[3] : NaN);
}

if (typeof process.send === 'function') {
  process.on('message', (msg) => {
    if (!msg || msg.type !== 'probe') return;
    if (msg.heapSnapshot) {
      // For investigations (bench/README.md): a heap snapshot to break memory down by object type.
      const file = require('node:v8').writeHeapSnapshot(msg.heapSnapshot);
      process.send({ type: 'probe', id: msg.id, file });
      return;
    }
    if (msg.gc && typeof global.gc === 'function') {
      global.gc();
      global.gc();
    }
    process.send({
      type: 'probe',
      id: msg.id,
      memory: process.memoryUsage(),
      cpu: process.cpuUsage(),
      fds: readdirSync('/proc/self/fd').length,
      fdLimit: fdLimit(),
    });
  });
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  // The channel must not keep a service alive that is shutting down on its own.
  if (process.channel && typeof process.channel.unref === 'function') process.channel.unref();
}
