import {
  inboxQuerySchema,
  notificationIdSchema,
  notificationRequestSchema,
  notificationStreamQuerySchema,
  zodIssuesToDetails,
  type InboxPage,
  type MarkReadResponse,
  type ReadAllResponse,
} from '@jobstream/contracts';
import { publishNotification, type InboxStore, type JobstreamKeys, type NotificationLimits, type RedisClient } from '@jobstream/runtime';
import { Router } from 'express';
import type { ParsedUrlQuery } from 'node:querystring';
import { z } from 'zod';
import { principalOf, type Principal } from '../auth/principal.js';
import { requireRole } from '../auth/require-role.js';
import { mayFollowTopic } from '../auth/topic-grants.js';
import { ApiError } from '../http/api-error.js';
import { headerOf, type ApiResponse } from '../http/request-context.js';
import type { StreamRequest } from '../http/stream-routes.js';
import type { StreamSlots } from '../limits/stream-slots.js';
import { decodeInboxCursor, encodeInboxCursor } from '../notifications/inbox-cursor.js';
import { openNotificationStream, type NotificationStreamDeps } from '../notifications/notification-stream.js';
import { parseStreamCursor, topicsOfCursor, type StreamCursor } from '../notifications/stream-cursor.js';
import { streamOrRetryLater } from '../sse/stream-or-retry-later.js';

export interface NotificationRoutesDeps {
  streams: NotificationStreamDeps;
  inbox: InboxStore;
  redis: RedisClient;
  keys: JobstreamKeys;
  limits: NotificationLimits;
  /** Each open stream takes one (the per-user and per-process stream caps). */
  slots?: StreamSlots | undefined;
}

/** The read routes take no parameters; `{}` is the body (the api wants JSON on every POST). */
const emptyBodySchema = z.object({}).strict().optional();

/** `value` as `schema` says, or a 400 naming each bad field; `root` names the whole value (`(body)` or `(query)`). */
function parse<S extends z.ZodType>(schema: S, value: unknown, root = '(body)'): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw ApiError.validation(zodIssuesToDetails(parsed.error, [], root));
  return parsed.data;
}

/** The stream's cursor and where it came from: the `Last-Event-ID` header (browser reconnects) or `lastEventId` (first connect). */
function streamCursorOf({ req, query: params }: StreamRequest): { cursor: StreamCursor; source: string } | undefined {
  const header = headerOf(req.headers, 'last-event-id');
  if (header !== undefined && header !== '') return { cursor: parseStreamCursor(header, 'Last-Event-ID'), source: 'Last-Event-ID' };
  const query = params.lastEventId;
  if (query === undefined || query === '') return undefined;
  if (typeof query !== 'string') throw new ApiError(400, 'INVALID_LAST_EVENT_ID', 'lastEventId must be given once', [{ path: 'lastEventId', message: 'must be given once' }]);
  return { cursor: parseStreamCursor(query, 'lastEventId'), source: 'lastEventId' };
}

/**
 * Every topic the request names, in `topics` or in its cursor, must be one the caller may follow:
 * a cursor such as `t:payroll=0-0` would otherwise replay a topic's whole stored history to anyone.
 * Refused as a whole with 403 TOPIC_NOT_ALLOWED naming each topic, never served in part.
 */
function requireTopicGrants(viewer: Principal, topics: readonly string[], cursor: { cursor: StreamCursor; source: string } | undefined): void {
  const named = [...topics.map((topic) => ({ topic, path: 'topics' })), ...(cursor ? topicsOfCursor(cursor.cursor).map((topic) => ({ topic, path: cursor.source })) : [])];
  const denied = named.filter(({ topic }) => !mayFollowTopic(viewer, topic));
  if (denied.length === 0) return;
  const names = [...new Set(denied.map(({ topic }) => `"${topic}"`))].join(', ');
  throw new ApiError(
    403,
    'TOPIC_NOT_ALLOWED',
    `Not allowed to follow ${names}: a topic must be public or granted to you`,
    denied.map(({ topic, path }) => ({ path, message: `topic "${topic}" is not allowed` })),
  );
}

function notFound(id: string): ApiError {
  return new ApiError(404, 'NOTIFICATION_NOT_FOUND', `No notification with id "${id.slice(0, 64)}" in your inbox (it may have expired)`);
}

/** Serves the caller's notification stream; Express's route and the stream front door both call it. */
export type NotificationStreamHandler = (request: StreamRequest, res: ApiResponse) => Promise<void>;

/** The notification stream of the authenticated caller; each stream takes one of `deps.slots` while open. */
export function notificationStreamHandler(deps: NotificationRoutesDeps): NotificationStreamHandler {
  return (request, res) =>
    streamOrRetryLater(request.req, res, deps.streams.retryMs, async () => {
      const query = parse(notificationStreamQuerySchema, request.query, '(query)');
      const cursor = streamCursorOf(request);
      const viewer = principalOf(res);
      requireTopicGrants(viewer, query.topics ?? [], cursor);
      await deps.slots?.acquire(res, viewer.userId);
      await openNotificationStream(deps.streams, res, viewer, query, cursor?.cursor);
    });
}

/**
 * The notification stream, the inbox and publishing: GET /api/notifications/stream,
 * GET /api/notifications, POST /api/notifications (service or admin),
 * POST /api/notifications/:id/read, POST /api/notifications/read-all.
 */
export function notificationRoutes(deps: NotificationRoutesDeps): Router {
  const router = Router();

  // A GET without a body is served by the stream front door (http/plain-stream-server.ts); HEAD and the rest come here.
  const serveStream = notificationStreamHandler(deps);
  router.get('/notifications/stream', (req, res) => serveStream({ req, query: req.query as ParsedUrlQuery }, res));

  router.get('/notifications', async (req, res) => {
    const query = parse(inboxQuerySchema, req.query, '(query)');
    const page = await deps.inbox.list(principalOf(res).userId, {
      unreadOnly: query.unread,
      limit: query.limit,
      after: query.cursor === undefined ? undefined : decodeInboxCursor(query.cursor),
    });
    const body: InboxPage = {
      items: page.items,
      nextCursor: page.nextAfter === undefined ? null : encodeInboxCursor(page.nextAfter),
      unreadCount: page.unreadCount,
    };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.post('/notifications', requireRole('service', 'admin'), async (req, res) => {
    const request = parse(notificationRequestSchema, req.body);
    const notification = await publishNotification(deps.redis, deps.keys, request, deps.limits);
    res.status(201).set('Cache-Control', 'no-store').json(notification);
  });

  router.post('/notifications/read-all', async (req, res) => {
    parse(emptyBodySchema, req.body);
    const updated = await deps.inbox.markAllRead(principalOf(res).userId);
    const body: ReadAllResponse = { updated, unreadCount: 0 };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.post('/notifications/:id/read', async (req, res) => {
    const id = req.params.id ?? '';
    // A malformed id names no notification: the same 404 as an unknown one.
    if (!notificationIdSchema.safeParse(id).success) throw notFound(id);
    parse(emptyBodySchema, req.body);
    const unreadCount = await deps.inbox.markRead(principalOf(res).userId, id);
    if (unreadCount === undefined) throw notFound(id);
    const body: MarkReadResponse = { id, read: true, unreadCount };
    res.set('Cache-Control', 'no-store').json(body);
  });

  return router;
}
