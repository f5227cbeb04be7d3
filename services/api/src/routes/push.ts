import {
  expoPushSubscriptionRequestSchema,
  fcmPushSubscriptionRequestSchema,
  pushSubscriptionIdSchema,
  webPushSubscriptionRequestSchema,
  zodIssuesToDetails,
  type PushSubscriptionList,
  type VapidPublicKeyResponse,
} from '@jobstream/contracts';
import { endpointProblem, pushSubscriptionView, type PushSettings, type PushSubscriptions, type PushTarget } from '@jobstream/runtime';
import { Router, type RequestHandler } from 'express';
import { principalOf } from '../auth/principal.js';
import { ApiError } from '../http/api-error.js';

export interface PushRoutesDeps {
  settings: PushSettings;
  /** Undefined when push is off (no VAPID keys). */
  subscriptions: PushSubscriptions | undefined;
}

function notFound(id: string): ApiError {
  return new ApiError(404, 'PUSH_SUBSCRIPTION_NOT_FOUND', `No push subscription with id "${id.slice(0, 64)}" of yours`);
}

/** The schema a body is judged by: a token field names its kind, anything else is a browser's subscription. */
function schemaOf(body: unknown) {
  // One shape at a time: the union's own error would list the problems of every shape.
  const has = (field: string) => typeof body === 'object' && body !== null && field in body;
  if (has('expoPushToken')) return expoPushSubscriptionRequestSchema;
  if (has('fcmToken')) return fcmPushSubscriptionRequestSchema;
  return webPushSubscriptionRequestSchema;
}

/** The device the body names, or a 400 naming what is wrong with it. */
function targetOf(body: unknown, settings: PushSettings): PushTarget {
  const parsed = schemaOf(body).safeParse(body);
  if (!parsed.success) throw ApiError.validation(zodIssuesToDetails(parsed.error));
  const request = parsed.data;
  if ('expoPushToken' in request) return { kind: 'expo', token: request.expoPushToken };
  if ('fcmToken' in request) {
    if (!settings.fcm) {
      throw new ApiError(400, 'PUSH_KIND_NOT_CONFIGURED', 'FCM tokens are not accepted: this server has no Firebase project (FCM_PROJECT_ID unset)', [
        { path: 'fcmToken', message: 'FCM is not configured' },
      ]);
    }
    return { kind: 'fcm', token: request.fcmToken };
  }
  const problem = endpointProblem(request.endpoint, settings.allowedHosts);
  if (problem) {
    throw new ApiError(400, 'PUSH_ENDPOINT_NOT_ALLOWED', `endpoint ${problem}`, [{ path: 'endpoint', message: problem }]);
  }
  return { kind: 'web', endpoint: request.endpoint, keys: request.keys, expirationTime: request.expirationTime ?? null };
}

/**
 * Push subscriptions of the caller: GET /api/push/vapid-public-key, POST and GET
 * /api/push/subscriptions, DELETE /api/push/subscriptions/:id. All answer 404 PUSH_NOT_CONFIGURED
 * while push is off.
 */
export function pushRoutes(deps: PushRoutesDeps): Router {
  const router = Router();
  const requireConfigured: RequestHandler = (_req, _res, next) => {
    if (!deps.subscriptions || !deps.settings.vapid) {
      throw new ApiError(404, 'PUSH_NOT_CONFIGURED', 'Push notifications are not configured on this server (VAPID keys unset)');
    }
    next();
  };
  const store = (): PushSubscriptions => deps.subscriptions as PushSubscriptions;

  router.get('/push/vapid-public-key', requireConfigured, (_req, res) => {
    const body: VapidPublicKeyResponse = { publicKey: deps.settings.vapid?.publicKey ?? '' };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.post('/push/subscriptions', requireConfigured, async (req, res) => {
    const target = targetOf(req.body, deps.settings);
    const outcome = await store().add(principalOf(res).userId, target);
    if ('limitReached' in outcome) {
      const max = store().maxPerUser;
      throw new ApiError(409, 'PUSH_SUBSCRIPTION_LIMIT', `You have ${max} push subscriptions, the most allowed; delete one first`);
    }
    res
      .status(outcome.added ? 201 : 200)
      .set('Cache-Control', 'no-store')
      .json(pushSubscriptionView(outcome.subscription));
  });

  router.get('/push/subscriptions', requireConfigured, async (_req, res) => {
    const items = await store().list(principalOf(res).userId);
    const body: PushSubscriptionList = { items: items.map(pushSubscriptionView), max: store().maxPerUser };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.delete('/push/subscriptions/:id', requireConfigured, async (req, res) => {
    const id = String(req.params.id ?? '');
    // A malformed id names no subscription: the same 404 as an unknown one, or another user's.
    if (!pushSubscriptionIdSchema.safeParse(id).success) throw notFound(id);
    if (!(await store().remove(principalOf(res).userId, id))) throw notFound(id);
    res.status(204).end();
  });

  return router;
}
