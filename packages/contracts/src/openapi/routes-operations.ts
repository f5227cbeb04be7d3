import { z } from 'zod';
import { meResponseSchema } from '../me.js';
import {
  budgetChargesQuerySchema,
  budgetChargesResponseSchema,
  feedProgressResponseSchema,
  queueBreakdownQuerySchema,
  queueBreakdownResponseSchema,
  systemEventsQuerySchema,
  systemEventsResponseSchema,
  workersResponseSchema,
} from '../operations-status.js';
import { alertsResponseSchema, budgetStatusSchema, killSwitchAuditEntrySchema, killSwitchRequestSchema, killSwitchStateSchema } from '../operations.js';
import { redeemSignInCodeRequestSchema, redeemSignInCodeResponseSchema, signInCodeResponseSchema } from '../sign-in-codes.js';
import type { ApiRoute } from './route-table.js';

/** Most audit entries one `GET /api/admin/budget/kill-switch/audit` lists. */
const KILL_SWITCH_AUDIT_MAX = 1_000;

/** The query of the kill-switch audit: out-of-range limits are clamped rather than refused. */
const killSwitchAuditQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(KILL_SWITCH_AUDIT_MAX).default(20) });
const killSwitchAuditSchema = z.object({ entries: z.array(killSwitchAuditEntrySchema) });
const statusSchema = (status: string) => z.object({ status: z.literal(status) });

/** The operator's routes (admins), the caller's own account routes, this reference, health and metrics. */
export function operationsRoutesTable(): ApiRoute[] {
  const admin = ['admin'] as const;
  const adminGet = (path: string, summary: string, schema: z.ZodType, query?: z.ZodObject): ApiRoute => ({
    method: 'get', path, tag: 'Operations', summary, access: admin, ...(query ? { query } : {}),
    responses: { 200: { description: 'The answer.', schema } },
    errors: ['REDIS_UNAVAILABLE'],
  });
  return [
    {
      ...adminGet('/api/metrics/alerts', "The metrics service's latest alert evaluation", alertsResponseSchema),
      errors: ['ALERTS_UNAVAILABLE', 'REDIS_UNAVAILABLE'],
    },
    adminGet('/api/admin/budget/status', "The month's spend, the budget and the kill-switch", budgetStatusSchema),
    {
      method: 'post', path: '/api/admin/budget/kill-switch', tag: 'Operations', summary: 'Turn the kill-switch on (with a reason) or off',
      access: admin, body: killSwitchRequestSchema,
      responses: { 200: { description: 'The kill-switch as it is now.', schema: killSwitchStateSchema } },
      errors: ['REDIS_UNAVAILABLE'],
    },
    adminGet('/api/admin/budget/kill-switch/audit', 'Who turned the kill-switch on or off, newest first', killSwitchAuditSchema, killSwitchAuditQuerySchema),
    adminGet('/api/admin/workers', "Every worker's heartbeat: its jobs and circuit breakers", workersResponseSchema),
    adminGet('/api/admin/system-events', 'The latest alert, kill-switch, budget and breaker events', systemEventsResponseSchema, systemEventsQuerySchema),
    adminGet('/api/admin/feed', 'How far the metrics service has read the live feed', feedProgressResponseSchema),
    adminGet('/api/admin/queue/breakdown', 'Who and what is behind the waiting or failed jobs', queueBreakdownResponseSchema, queueBreakdownQuerySchema),
    adminGet('/api/admin/budget/charges', "The month's most expensive jobs", budgetChargesResponseSchema, budgetChargesQuerySchema),
    {
      method: 'get', path: '/api/me', tag: 'Account', summary: 'Who the api takes the caller for', access: 'user',
      responses: { 200: { description: 'The caller.', schema: meResponseSchema } },
      errors: [],
    },
    {
      method: 'post', path: '/api/sign-in-codes', tag: 'Account', summary: "A single-use code for the caller's own bearer token",
      description: 'Good once, for two minutes at most, never past the token’s `exp`. Needs a bearer token (400 without one).',
      access: 'user',
      responses: { 201: { description: 'The code.', schema: signInCodeResponseSchema } },
      errors: ['VALIDATION_FAILED', 'RATE_LIMITED', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'post', path: '/api/sign-in-codes/redeem', tag: 'Account', summary: 'Trade a sign-in code for the token it stands for',
      description: 'Public: the code is the credential, and it works once.', access: 'public', body: redeemSignInCodeRequestSchema,
      responses: { 200: { description: 'The token and whose it is.', schema: redeemSignInCodeResponseSchema } },
      errors: ['SIGN_IN_CODE_INVALID', 'RATE_LIMITED', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'get', path: '/api/openapi.json', tag: 'Reference', summary: 'This OpenAPI 3.1 document', access: 'public',
      responses: { 200: { description: 'The document.', schema: z.record(z.string(), z.unknown()) } },
      errors: [],
    },
    {
      method: 'get', path: '/api/docs', tag: 'Reference', summary: 'This reference as an HTML page', access: 'public',
      responses: { 200: { description: 'The page.', contentType: 'text/html' } },
      errors: [],
    },
    {
      method: 'get', path: '/healthz', tag: 'Health', summary: 'Liveness: the process answers', access: 'public',
      responses: { 200: { description: 'Alive.', schema: statusSchema('ok') } },
      errors: [],
    },
    {
      method: 'get', path: '/readyz', tag: 'Health', summary: 'Readiness: Redis answers and the process is not shutting down', access: 'public',
      responses: { 200: { description: 'Ready.', schema: statusSchema('ready') } },
      errors: ['SHUTTING_DOWN', 'REDIS_UNAVAILABLE'],
    },
    {
      method: 'get', path: '/metrics', tag: 'Health', summary: "The api's Prometheus metrics (unless API_METRICS_ENABLED=false)", access: 'public',
      responses: { 200: { description: 'Prometheus text exposition.', contentType: 'text/plain' } },
      errors: [],
    },
  ];
}
