import { z } from 'zod';
import { apiErrorBodySchema, type ErrorCode } from '../errors.js';
import { errorStatus, openApiPath, routeErrors, routeTags, type ApiRoute, type RouteResponse } from './route-table.js';
import { embeddableJsonSchema } from './embeddable-schema.js';
import { jobRoutesTable } from './routes-jobs.js';
import { notificationRoutesTable } from './routes-notifications.js';
import { operationsRoutesTable } from './routes-operations.js';

export type JsonObject = Record<string, unknown>;

/** The version of the HTTP api the documents describe. */
export const API_VERSION = '0.1.0';

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  description?: string;
  schema: JsonObject;
}

export interface OpenApiResponse {
  description: string;
  content?: Record<string, { schema: JsonObject }>;
}

export interface OpenApiOperation {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  security: Record<string, string[]>[];
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonObject }> };
  responses: Record<string, OpenApiResponse>;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: JsonObject;
  tags: { name: string; description: string }[];
  security: Record<string, string[]>[];
  paths: Record<string, Partial<Record<ApiRoute['method'], OpenApiOperation>>>;
  components: { schemas: Record<string, JsonObject>; securitySchemes: Record<string, JsonObject> };
}

/** Every HTTP route of the api, in the order of the reference: one table for the documents and their tests. */
export function apiRoutes(): ApiRoute[] {
  return [...jobRoutesTable(), ...notificationRoutesTable(), ...operationsRoutesTable()];
}

/** JSON Schema (2020-12, the dialect of OpenAPI 3.1) of a zod schema, as a request (`input`) or an answer (`output`). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  return embeddableJsonSchema(schema, { io });
}

const SIGNED_IN: Record<string, string[]>[] = [{ bearerAuth: [] }, { gateway: [] }];

const securitySchemes: Record<string, JsonObject> = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: '`AUTH_MODE=jwt` (the default): `sub` is the user id; a `roles` claim may hold `admin` and `service`, a `topics` claim grants topics.',
  },
  gateway: {
    type: 'apiKey',
    in: 'header',
    name: 'X-User-Id',
    description:
      '`AUTH_MODE=gateway`: the user id from a trusted gateway, with the roles in `X-User-Role`; the gateway proves itself with `GATEWAY_SECRET` in `x-gateway-secret` and/or by its address (`GATEWAY_TRUSTED_PROXIES`). Header names are configurable.',
  },
  accessToken: {
    type: 'apiKey',
    in: 'query',
    name: 'access_token',
    description: "The streams only, for a browser's EventSource: a token that expires within ACCESS_TOKEN_MAX_TTL_S (default 15 minutes).",
  },
};

function security(route: ApiRoute): Record<string, string[]>[] {
  if (route.access === 'public') return [];
  return route.stream ? [...SIGNED_IN, { accessToken: [] }] : SIGNED_IN;
}

function parameters(route: ApiRoute): OpenApiParameter[] {
  const string = { type: 'string' };
  const list: OpenApiParameter[] = Object.entries(route.pathParams ?? {}).map(([name, description]) => ({ name, in: 'path', required: true, description, schema: string }));
  for (const [name, description] of Object.entries(route.headers ?? {})) list.push({ name, in: 'header', required: false, description, schema: string });
  if (route.query) {
    const query = jsonSchema(route.query, 'input');
    const required = new Set((query.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries((query.properties ?? {}) as Record<string, JsonObject>)) {
      list.push({ name, in: 'query', required: required.has(name), schema });
    }
  }
  if (route.stream) {
    list.push(
      { name: 'Last-Event-ID', in: 'header', required: false, description: 'The cursor to resume after (sent by EventSource on its reconnects).', schema: string },
      { name: 'lastEventId', in: 'query', required: false, description: 'The cursor on a first connect; the header wins.', schema: string },
    );
  }
  return list;
}

function successResponse(response: RouteResponse): OpenApiResponse {
  if (response.schema) return { description: response.description, content: { 'application/json': { schema: jsonSchema(response.schema, 'output') } } };
  if (response.contentType) return { description: response.description, content: { [response.contentType]: { schema: { type: 'string' } } } };
  return { description: response.description };
}

/** The refusals of one status: the error body, its `code` one of `codes`. */
function errorResponse(codes: ErrorCode[]): OpenApiResponse {
  const schema = { allOf: [{ $ref: '#/components/schemas/ApiError' }, { properties: { code: { enum: codes } } }] };
  return { description: `Refused: ${codes.map((code) => `\`${code}\``).join(', ')}.`, content: { 'application/json': { schema } } };
}

function responses(route: ApiRoute): Record<string, OpenApiResponse> {
  const answers: Record<string, OpenApiResponse> = {};
  for (const [status, response] of Object.entries(route.responses)) answers[status] = successResponse(response);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of routeErrors(route)) byStatus.set(errorStatus[code], [...(byStatus.get(errorStatus[code]) ?? []), code]);
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) answers[String(status)] = errorResponse(codes);
  return answers;
}

/** `post /api/jobs/:id/cancel` → `postApiJobsIdCancel`. */
function operationId(route: ApiRoute): string {
  const words = route.path.split(/[/:.-]+/).filter((word) => word !== '');
  return route.method + words.map((word) => word[0]?.toUpperCase() + word.slice(1)).join('');
}

function operation(route: ApiRoute): OpenApiOperation {
  const roles = Array.isArray(route.access) ? `Needs the role ${route.access.join(' or ')}.` : undefined;
  const description = [route.description, roles].filter((part) => part !== undefined).join(' ');
  const params = parameters(route);
  return {
    operationId: operationId(route),
    tags: [route.tag],
    summary: route.summary,
    ...(description ? { description } : {}),
    security: security(route),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(route.body ? { requestBody: { required: !route.bodyOptional, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } } : {}),
    responses: responses(route),
  };
}

let cached: OpenApiDocument | undefined;

/** The OpenAPI 3.1 document of the api, generated from the route table and the zod schemas of this package. */
export function openApiDocument(): OpenApiDocument {
  if (cached) return cached;
  const paths: OpenApiDocument['paths'] = {};
  for (const route of apiRoutes()) (paths[openApiPath(route.path)] ??= {})[route.method] = operation(route);
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'jobstream API',
      version: API_VERSION,
      summary: 'Enqueue jobs, follow their lifecycle over Server-Sent Events, notifications, webhooks and push.',
      description:
        'Every error answers the `ApiError` body with a stable `code`. The SSE streams and their messages are described in docs/asyncapi.json; docs/api.md has the whole story.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: Object.entries(routeTags).map(([name, description]) => ({ name, description })),
    security: SIGNED_IN,
    paths,
    components: { schemas: { ApiError: jsonSchema(apiErrorBodySchema, 'output') }, securitySchemes },
  };
  return cached;
}
