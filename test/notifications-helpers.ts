import { jobstreamKeys, type JobstreamKeys } from '@jobstream/runtime';
import { authHeaders, type TestRole } from '../test-support/auth';
import { http } from '../test-support/http';
import { connectSse, type ReceivedEvent, type SseConnection } from '../test-support/sse-client';

/** Helpers shared by the notification tests: callers with roles, streams, publishing. */

export const SERVICE = { userId: 'chat-service', roles: ['service'] as TestRole[] };
export const ADMIN = { userId: 'ops-admin', roles: ['admin'] as TestRole[] };

export function keysFor(env: Record<string, string>): JobstreamKeys {
  return jobstreamKeys({ prefix: env.QUEUE_PREFIX ?? '{jobstream}', name: env.QUEUE_NAME ?? 'jobs' });
}

/** A request as `userId` (with `roles`). */
export async function as(userId: string, roles: TestRole[] = []): Promise<Record<string, string>> {
  return authHeaders(userId, roles);
}

/**
 * Opens `userId`'s notification stream (query and extra headers as given) and waits for its
 * `connected` message.
 */
export async function openStream(
  apiUrl: string,
  userId: string,
  options: { roles?: TestRole[]; query?: string; headers?: Record<string, string> } = {},
): Promise<SseConnection> {
  const url = `${apiUrl}/api/notifications/stream${options.query ? `?${options.query}` : ''}`;
  const stream = await connectSse(url, { ...(await as(userId, options.roles)), ...options.headers });
  if (stream.status !== 200) throw new Error(`notification stream answered ${stream.status}`);
  await stream.waitFor((events) => events.some((e) => e.event === 'connected'));
  return stream;
}

/** POSTs a notification as the test service; returns the stored Notification. */
export async function notify(apiUrl: string, body: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await http('POST', `${apiUrl}/api/notifications`, { type: 'chat.message', title: 'Hello', message: 'You have mail', ...body }, await as(SERVICE.userId, SERVICE.roles));
  if (res.status !== 201) throw new Error(`publishing answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Enqueues a demo job as `userId`; returns its id. */
export async function enqueueAs(apiUrl: string, userId: string, payload: Record<string, unknown>): Promise<string> {
  const res = await http('POST', `${apiUrl}/api/jobs`, { type: 'demo.work', payload }, await as(userId));
  if (res.status !== 202) throw new Error(`enqueue answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.jobId as string;
}

export const named = (events: ReceivedEvent[], name: string): ReceivedEvent[] => events.filter((e) => e.event === name);
export const jobEvents = (events: ReceivedEvent[]): ReceivedEvent[] => events.filter((e) => e.event.startsWith('job.'));
export const counts = (events: ReceivedEvent[]): number[] => named(events, 'unread_count').map((e) => e.data.count as number);

/** True once the stream holds an `unread_count` of `count` after at least `seen` of them. */
export const countReached = (count: number, seen = 0) => (events: ReceivedEvent[]) => counts(events).slice(seen).includes(count);
