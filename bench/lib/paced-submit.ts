import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchAuthorization } from './auth.js';

export interface SubmitResult {
  accepted: number;
  rejected: number;
  errors: string[];
}

function post(url: string, agent: Agent, body: string, authorization: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Authorization: authorization } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Submits 0 ms `demo.work` jobs through an api's `POST /api/jobs` at an even `rate` per second for
 * `seconds`, as the bench user, over a few keep-alive connections; nobody watches them. From the
 * runner itself: a few hundred requests per second cost it little, and it measures nothing else then.
 */
export async function submitAtRate(baseUrl: string, rate: number, seconds: number): Promise<SubmitResult> {
  const authorization = await benchAuthorization();
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const body = JSON.stringify({ type: 'demo.work', payload: { durationMs: 0 } });
  const total = Math.round(rate * seconds);
  const result: SubmitResult = { accepted: 0, rejected: 0, errors: [] };
  const inFlight: Promise<void>[] = [];
  const started = Date.now();
  let sent = 0;
  try {
    while (sent < total) {
      const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate) + 1);
      for (; sent < due; sent += 1) {
        inFlight.push(
          post(`${baseUrl}/api/jobs`, agent, body, authorization).then(
            ({ status, text }) => {
              if (status === 202) result.accepted += 1;
              else {
                result.rejected += 1;
                if (result.errors.length < 10) result.errors.push(`HTTP ${status} ${text.slice(0, 200)}`);
              }
            },
            (err: unknown) => {
              result.rejected += 1;
              if (result.errors.length < 10) result.errors.push(err instanceof Error ? err.message : String(err));
            },
          ),
        );
      }
      await sleep(10);
    }
    await Promise.all(inFlight);
  } finally {
    agent.destroy();
  }
  return result;
}
