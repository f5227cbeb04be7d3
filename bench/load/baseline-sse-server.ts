/**
 * The floor for the capacity scenario: a bare node:http server that answers every
 * `GET /api/jobs/:id/events` like the api does at its start (the same headers, `setNoDelay`, a
 * `connected` event with a job snapshot) and then holds the stream open, with no framework, no
 * Redis and no per-stream bookkeeping beyond a Set. What the api costs per stream above this is
 * jobstream's (and Express's) own.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const open = new Set<ServerResponse>();
const server = createServer((req, res) => {
  const match = /^\/api\/jobs\/([^/]+)\/events/.exec(req.url ?? '');
  if (!match) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.socket?.setNoDelay(true);
  const timestamp = new Date().toISOString();
  const job = { jobId: match[1], type: 'demo.work', state: 'delayed', progress: 0, attemptsMade: 0, createdAt: timestamp };
  res.write(`retry: 3000\nevent: connected\ndata: ${JSON.stringify({ jobId: match[1], timestamp, job })}\n\n`);
  open.add(res);
  res.on('close', () => open.delete(res));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`baseline listening port ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  for (const res of open) res.destroy();
  server.close(() => process.exit(0));
});
