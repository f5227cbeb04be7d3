import { z } from 'zod';
import { intVar, optionalVar } from '../config.js';
import { fcmServiceAccountVar, fcmSettingsFrom, type FcmSettings } from './fcm-config.js';

/** When a push goes out: only while the user has no open stream (`offline`, the default), or `always`. */
export const pushWhenModes = ['offline', 'always'] as const;
export type PushWhen = (typeof pushWhenModes)[number];

/**
 * The push variables, read by the api (subscriptions, the public key) and the worker (delivery).
 * Push is on when the three VAPID variables are set, off when none is; anything between is an error.
 */
export const pushEnvShape = {
  VAPID_PUBLIC_KEY: optionalVar(z.string().regex(/^[A-Za-z0-9_-]{86,88}$/, 'must be a base64url P-256 public key (npm run vapid-keys)')),
  VAPID_PRIVATE_KEY: optionalVar(z.string().regex(/^[A-Za-z0-9_-]{42,44}$/, 'must be a base64url P-256 private key (npm run vapid-keys)')),
  VAPID_SUBJECT: optionalVar(z.string().regex(/^(mailto:\S+@\S+|https:\/\/\S+)$/, 'must be a mailto: or https: URL')),
  PUSH_MAX_SUBSCRIPTIONS_PER_USER: intVar(10, 1, 1_000),
  PUSH_ALLOWED_HOSTS: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean) : [])),
  PUSH_WHEN: z.enum(pushWhenModes).default('offline'),
  PUSH_MAX_PER_USER_PER_MINUTE: intVar(30, 1, 100_000),
  PUSH_MAX_PER_DEVICE_PER_MINUTE: intVar(20, 1, 100_000),
  PUSH_MAX_PAYLOAD_BYTES: intVar(4_096, 256, 65_536),
  PUSH_TTL_SECONDS: intVar(86_400, 0, 2_419_200),
  PUSH_TIMEOUT_MS: intVar(10_000, 100, 120_000),
  PUSH_ATTEMPTS: intVar(5, 1, 50),
  PUSH_BACKOFF_MS: intVar(2_000, 10, 600_000),
  PUSH_LOCK_TTL_MS: intVar(5_000, 1_000),
  PUSH_CONCURRENCY: intVar(10, 1, 1_000),
  EXPO_PUSH_URL: z.url().default('https://exp.host/--/api/v2/push/send'),
  EXPO_ACCESS_TOKEN: optionalVar(z.string().min(1)),
  DASHBOARD_BASE_URL: optionalVar(z.url()),
  FCM_PROJECT_ID: optionalVar(z.string().regex(/^[a-z][a-z0-9-]{4,61}[a-z0-9]$/, 'must be a Firebase project id (my-app-1234)')),
  FCM_SERVICE_ACCOUNT_JSON: optionalVar(fcmServiceAccountVar),
  FCM_API_URL: z.url().default('https://fcm.googleapis.com'),
  FCM_TOKEN_URL: optionalVar(z.url()),
};

export type PushEnv = z.output<z.ZodObject<typeof pushEnvShape>>;

/** Cross-field rules: the three VAPID variables come together; FCM needs push on. */
export function checkPushEnv(env: PushEnv, ctx: z.RefinementCtx): void {
  if (env.FCM_PROJECT_ID !== undefined && env.VAPID_PUBLIC_KEY === undefined) {
    ctx.addIssue({ code: 'custom', path: ['FCM_PROJECT_ID'], message: 'needs push on: set the VAPID variables too' });
  }
  const set = (['VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY', 'VAPID_SUBJECT'] as const).filter((name) => env[name] !== undefined);
  if (set.length === 0 || set.length === 3) return;
  for (const name of ['VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY', 'VAPID_SUBJECT'] as const) {
    if (env[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message: `is required when ${set.join(' and ')} ${set.length === 1 ? 'is' : 'are'} set` });
  }
}

export interface VapidSettings {
  publicKey: string;
  privateKey: string;
  /** Who the push services contact about this sender: `mailto:` or an https URL. */
  subject: string;
}

/** Push delivery, taken from the push variables. */
export interface PushSettings {
  /** The VAPID keys; undefined: push is off (the routes answer 404 PUSH_NOT_CONFIGURED and nothing is sent). */
  vapid?: VapidSettings | undefined;
  /** Subscriptions one user may hold. Default 10. */
  maxSubscriptionsPerUser: number;
  /**
   * Hosts an endpoint may name even when they are not https or resolve to a private or loopback
   * address (a push service run in a test or on an internal network). Default: none.
   */
  allowedHosts: readonly string[];
  /** Default `offline`: only while no stream of the user is open (see docs/api.md for the rule). */
  when: PushWhen;
  /** Pushes one user is sent per minute, over all their devices; the rest are dropped. Default 30. */
  maxPerUserPerMinute: number;
  /** Pushes one device (subscription) is sent per minute; the rest are dropped for that device only. Default 20. */
  maxPerDevicePerMinute: number;
  /**
   * Bytes of the request one device's push service is sent (Web Push: the encrypted body; Expo and
   * FCM: the JSON message); a bigger one is refused for that device, not sent. Default 4,096.
   */
  maxPayloadBytes: number;
  /** How long the push service keeps a message for a device that is offline. Default 1 day. */
  ttlSeconds: number;
  /** One request to a push service. Default 10 s. */
  timeoutMs: number;
  /** Tries of one push (5xx, 429, timeouts) with exponential backoff from `backoffMs`. Default 5 and 2 s. */
  attempts: number;
  backoffMs: number;
  /** The dispatcher's leadership lease. Default 5 s. */
  lockTtlMs: number;
  /** Pushes one worker process sends at once. Default 10. */
  concurrency: number;
  /** Expo's send endpoint (EXPO_PUSH_URL) and its optional access token. */
  expo: { url: string; accessToken?: string | undefined };
  /** Prefix of the links in pushes (`https://jobs.example.com`); default: paths on the page's own origin. */
  dashboardBaseUrl?: string | undefined;
  /** Firebase Cloud Messaging (FCM_PROJECT_ID); undefined: FCM tokens are refused (400 PUSH_KIND_NOT_CONFIGURED). */
  fcm?: FcmSettings | undefined;
}

export function pushSettingsFrom(env: PushEnv): PushSettings {
  const { VAPID_PUBLIC_KEY: publicKey, VAPID_PRIVATE_KEY: privateKey, VAPID_SUBJECT: subject } = env;
  return {
    vapid: publicKey && privateKey && subject ? { publicKey, privateKey, subject } : undefined,
    maxSubscriptionsPerUser: env.PUSH_MAX_SUBSCRIPTIONS_PER_USER,
    allowedHosts: env.PUSH_ALLOWED_HOSTS,
    when: env.PUSH_WHEN,
    maxPerUserPerMinute: env.PUSH_MAX_PER_USER_PER_MINUTE,
    maxPerDevicePerMinute: env.PUSH_MAX_PER_DEVICE_PER_MINUTE,
    maxPayloadBytes: env.PUSH_MAX_PAYLOAD_BYTES,
    ttlSeconds: env.PUSH_TTL_SECONDS,
    timeoutMs: env.PUSH_TIMEOUT_MS,
    attempts: env.PUSH_ATTEMPTS,
    backoffMs: env.PUSH_BACKOFF_MS,
    lockTtlMs: env.PUSH_LOCK_TTL_MS,
    concurrency: env.PUSH_CONCURRENCY,
    expo: { url: env.EXPO_PUSH_URL, accessToken: env.EXPO_ACCESS_TOKEN },
    dashboardBaseUrl: env.DASHBOARD_BASE_URL,
    fcm: fcmSettingsFrom(env),
  };
}
