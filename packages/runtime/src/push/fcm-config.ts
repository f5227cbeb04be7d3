import { z } from 'zod';

/** Google's OAuth2 token endpoint, where a service account's signed JWT is exchanged for an access token. */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** The fields of a Google service account key file (the JSON the Firebase console downloads) that FCM needs. */
export const fcmServiceAccountSchema = z.object({
  client_email: z.email('must be the service account e-mail'),
  private_key: z.string().includes('PRIVATE KEY', { message: 'must be a PEM private key' }),
  private_key_id: z.string().optional(),
  token_uri: z.url().optional(),
});
export type FcmServiceAccount = z.infer<typeof fcmServiceAccountSchema>;

/** FCM_SERVICE_ACCOUNT_JSON: the key file's JSON in one variable (from a Secret). */
export const fcmServiceAccountVar = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be the JSON of a service account key file' });
      return z.NEVER;
    }
  })
  .pipe(fcmServiceAccountSchema);

/** Firebase Cloud Messaging (HTTP v1), taken from the FCM variables. */
export interface FcmSettings {
  /** FCM_PROJECT_ID: the Firebase project the app's tokens belong to. */
  projectId: string;
  /**
   * The service account the worker signs its token requests with (FCM_SERVICE_ACCOUNT_JSON).
   * Only the worker needs it: the api accepts FCM tokens once FCM_PROJECT_ID is set.
   */
  serviceAccount?: FcmServiceAccount | undefined;
  /** `<FCM_API_URL>/v1/projects/<id>/messages:send`; FCM_API_URL defaults to `https://fcm.googleapis.com`. */
  sendUrl: string;
  /** FCM_TOKEN_URL, else the key file's `token_uri`, else Google's token endpoint. */
  tokenUrl: string;
}

interface FcmEnv {
  FCM_PROJECT_ID?: string | undefined;
  FCM_SERVICE_ACCOUNT_JSON?: FcmServiceAccount | undefined;
  FCM_API_URL: string;
  FCM_TOKEN_URL?: string | undefined;
}

export function fcmSettingsFrom(env: FcmEnv): FcmSettings | undefined {
  const projectId = env.FCM_PROJECT_ID;
  if (projectId === undefined) return undefined;
  const account = env.FCM_SERVICE_ACCOUNT_JSON;
  return {
    projectId,
    serviceAccount: account,
    sendUrl: `${env.FCM_API_URL.replace(/\/+$/, '')}/v1/projects/${projectId}/messages:send`,
    tokenUrl: env.FCM_TOKEN_URL ?? account?.token_uri ?? GOOGLE_TOKEN_URL,
  };
}

/** The worker's cross-field rule: it delivers to FCM, so FCM_PROJECT_ID needs the service account. */
export function checkFcmDeliveryEnv(env: FcmEnv, ctx: z.RefinementCtx): void {
  if (env.FCM_PROJECT_ID !== undefined && env.FCM_SERVICE_ACCOUNT_JSON === undefined) {
    ctx.addIssue({ code: 'custom', path: ['FCM_SERVICE_ACCOUNT_JSON'], message: 'is required when FCM_PROJECT_ID is set' });
  }
}
