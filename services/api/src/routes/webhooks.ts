import {
  webhookCreateSchema,
  webhookDeliveryIdSchema,
  webhookDeliveryQuerySchema,
  webhookIdSchema,
  zodIssuesToDetails,
  type WebhookDeliveryList,
  type WebhookListResponse,
} from '@jobstream/contracts';
import {
  deliveryJobOptions,
  isFinishedDelivery,
  publicDelivery,
  publicEndpoint,
  WebhookTargetError,
  type DeliveryJobData,
  type DeliveryLog,
  type WebhookEndpointState,
  type WebhookEndpointStore,
  type WebhookSettings,
  type WebhookTargetPolicy,
} from '@jobstream/runtime';
import type { Queue } from 'bullmq';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { principalOf } from '../auth/principal.js';
import { ApiError } from '../http/api-error.js';
import { deliveryNotFound, targetRefused, webhookNotFound, webhookQuotaExceeded } from '../webhooks/webhook-errors.js';

export interface WebhookRoutesDeps {
  endpoints: WebhookEndpointStore;
  deliveries: DeliveryLog;
  policy: WebhookTargetPolicy;
  /** The delivery queue: a redelivery is a new job on it. */
  queue: Queue<DeliveryJobData>;
  settings: WebhookSettings;
}

const emptyBodySchema = z.object({}).strict().optional();

function parse<S extends z.ZodType>(schema: S, value: unknown, root = '(body)'): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw ApiError.validation(zodIssuesToDetails(parsed.error, [], root));
  return parsed.data;
}

/**
 * Webhook endpoints of the caller (any signed-in user or service; each sees only its own):
 * POST/GET /api/webhooks, DELETE /api/webhooks/:id, POST /api/webhooks/:id/rotate-secret,
 * GET /api/webhooks/:id/deliveries, POST /api/webhooks/:id/deliveries/:deliveryId/redeliver.
 */
export function webhookRoutes(deps: WebhookRoutesDeps): Router {
  const router = Router();

  /** The caller's endpoint named by the path; a malformed id, another user's or a deleted one is the same 404. */
  const ownEndpoint = async (id: string | undefined, res: Response): Promise<WebhookEndpointState> => {
    const value = id ?? '';
    const endpoint = webhookIdSchema.safeParse(value).success ? await deps.endpoints.get(principalOf(res).userId, value) : undefined;
    if (!endpoint) throw webhookNotFound(value);
    return endpoint;
  };

  router.post('/webhooks', async (req, res) => {
    const body = parse(webhookCreateSchema, req.body);
    const url = await deps.policy.check(body.url).catch((err: unknown) => {
      if (err instanceof WebhookTargetError) throw targetRefused(err.message);
      throw err;
    });
    const created = await deps.endpoints.create(principalOf(res).userId, { ...body, url: url.href }, deps.settings.maxEndpointsPerUser);
    if (!created) throw webhookQuotaExceeded(`At most ${deps.settings.maxEndpointsPerUser} webhook endpoints per user; delete one first`);
    res.status(201).set('Cache-Control', 'no-store').set('Location', `/api/webhooks/${created.id}`).json(publicEndpoint(created, true));
  });

  // Before `/webhooks/:id/...` by habit; no route there takes a POST on a bare id anyway.
  router.post('/webhooks/job-callbacks', async (req, res) => {
    parse(emptyBodySchema, req.body);
    const ensured = await deps.endpoints.ensureCallbacks(principalOf(res).userId, deps.settings.maxEndpointsPerUser);
    if (!ensured) throw webhookQuotaExceeded(`At most ${deps.settings.maxEndpointsPerUser} webhook endpoints per user, the job-callbacks one included; delete one first`);
    res.status(ensured.created ? 201 : 200).set('Cache-Control', 'no-store').set('Location', `/api/webhooks/${ensured.endpoint.id}`);
    res.json(publicEndpoint(ensured.endpoint, ensured.created));
  });

  router.get('/webhooks', async (_req, res) => {
    const body: WebhookListResponse = { webhooks: (await deps.endpoints.list(principalOf(res).userId)).map((e) => publicEndpoint(e)) };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.delete('/webhooks/:id', async (req, res) => {
    const endpoint = await ownEndpoint(req.params.id, res);
    if (!(await deps.endpoints.delete(endpoint.owner, endpoint.id))) throw webhookNotFound(endpoint.id);
    res.status(204).end();
  });

  router.post('/webhooks/:id/rotate-secret', async (req, res) => {
    parse(emptyBodySchema, req.body);
    const endpoint = await ownEndpoint(req.params.id, res);
    const rotated = await deps.endpoints.rotateSecret(endpoint.owner, endpoint.id);
    if (!rotated) throw webhookNotFound(endpoint.id);
    res.set('Cache-Control', 'no-store').json(publicEndpoint(rotated, true));
  });

  router.get('/webhooks/:id/deliveries', async (req, res) => {
    const query = parse(webhookDeliveryQuerySchema, req.query, '(query)');
    const endpoint = await ownEndpoint(req.params.id, res);
    const body: WebhookDeliveryList = { deliveries: (await deps.deliveries.list(endpoint.id, query.limit)).map(publicDelivery) };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.post('/webhooks/:id/deliveries/:deliveryId/redeliver', async (req, res) => {
    parse(emptyBodySchema, req.body);
    const endpoint = await ownEndpoint(req.params.id, res);
    const deliveryId = req.params.deliveryId ?? '';
    const record = webhookDeliveryIdSchema.safeParse(deliveryId).success ? await deps.deliveries.get(endpoint.id, deliveryId) : undefined;
    if (!record || record.owner !== endpoint.owner) throw deliveryNotFound(deliveryId);
    // Still under way: it is delivered anyway, and a second job would send it twice at once.
    if (!isFinishedDelivery(record.status)) {
      res.status(202).set('Cache-Control', 'no-store').json(publicDelivery(record));
      return;
    }
    if ((await deps.deliveries.pendingCount(record.owner)) >= deps.settings.maxPendingPerUser) {
      throw webhookQuotaExceeded(`At most ${deps.settings.maxPendingPerUser} deliveries may be pending per user; try again once some are delivered`);
    }
    const redelivery = { ...record, status: 'pending' as const, redeliveries: record.redeliveries + 1, updatedAt: Date.now() };
    if (!(await deps.deliveries.update(redelivery))) throw deliveryNotFound(deliveryId);
    // The same webhook-id as before: a receiver that already has it may drop it.
    await deps.queue.add(
      'deliver',
      {
        deliveryId: record.id,
        owner: record.owner,
        endpointId: record.endpointId,
        eventType: record.eventType,
        body: record.body,
        createdAt: record.createdAt,
        ...(record.url !== undefined ? { url: record.url } : {}),
      },
      { ...deliveryJobOptions(deps.settings), jobId: `${record.id}-r${redelivery.redeliveries}` },
    );
    res.status(202).set('Cache-Control', 'no-store').json(publicDelivery(redelivery));
  });

  return router;
}
