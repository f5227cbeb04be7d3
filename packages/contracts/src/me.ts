import { z } from 'zod';
import { topicPatternSchema } from './notifications.js';

/** How the api authenticates: bearer tokens, the headers of a trusted gateway, or nobody (local demos). */
export const authModes = ['jwt', 'gateway', 'none'] as const;
export const authModeSchema = z.enum(authModes);
export type AuthMode = z.infer<typeof authModeSchema>;

/** Roles the api acts on: `admin` sees every job and runs operations; `service` publishes notifications. */
export const roles = ['admin', 'service'] as const;
export const roleSchema = z.enum(roles);
export type Role = z.infer<typeof roleSchema>;

/** `GET /api/me`: who the api takes the caller for. */
export const meResponseSchema = z.object({
  /** The token's `sub` (or the gateway's user header; `demo` without authentication). */
  userId: z.string(),
  /** Sorted; empty for a plain user. */
  roles: z.array(roleSchema),
  authMode: authModeSchema,
  /**
   * The topics the caller may follow on the notification stream, as patterns (`news`, `team-42.*`):
   * the public ones and their grants; `["*"]` for the publishers (`service`, `admin`), who may
   * follow any topic.
   */
  topics: z.array(topicPatternSchema),
});
export type MeResponse = z.infer<typeof meResponseSchema>;
