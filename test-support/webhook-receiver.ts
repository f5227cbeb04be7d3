import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got, as it got it. */
export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status it answered with (undefined while it has not answered). */
  status?: number;
}

/** How the receiver answers a request: a status (and headers), or nothing at all (`hang`). */
export type ReceiverAnswer = { status: number; headers?: Record<string, string>; delayMs?: number } | 'hang';

/**
 * A real HTTP server on 127.0.0.1 that records every request and answers as `answer` says (200 by
 * default), on `port` if given (a receiver that comes back where it was); `answer` can be changed
 * while it runs. `close()` cuts open connections too.
 */
export async function startReceiver(answer: (request: ReceivedRequest, index: number) => ReceiverAnswer = () => ({ status: 200 }), port = 0) {
  const requests: ReceivedRequest[] = [];
  const hanging = new Set<ServerResponse>();
  let decide = answer;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received: ReceivedRequest = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      const index = requests.push(received) - 1;
      const how = decide(received, index);
      if (how === 'hang') {
        hanging.add(res);
        return;
      }
      setTimeout(() => {
        received.status = how.status;
        res.writeHead(how.status, how.headers).end('ok');
      }, how.delayMs ?? 0);
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}/hook`,
    requests,
    /** Changes how later requests are answered. */
    answerWith(next: typeof answer) {
      decide = next;
    },
    /** The requests answered with a 2xx. */
    delivered: () => requests.filter((r) => r.status !== undefined && r.status >= 200 && r.status < 300),
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
