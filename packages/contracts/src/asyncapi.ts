import { z } from 'zod';
import {
  jobStreamEventDefinition,
  jobStreamEventNames,
  jobStreamEventSchemas,
  notificationStreamEventDefinition,
  notificationStreamEventNames,
} from './event-catalog.js';
import { notificationStreamSchemas } from './notifications.js';
import { API_VERSION, type JsonObject } from './openapi/document.js';
import { embeddableJsonSchema } from './openapi/embeddable-schema.js';
import { withJobResults } from './openapi/job-results.js';

/** One SSE message: its event name, what it means, and the schema of its one-line JSON `data:`. */
interface StreamMessage {
  name: string;
  summary: string;
  schema: z.ZodType;
}

/**
 * The AsyncAPI schema format is a superset of JSON Schema draft-07, so payloads are generated for
 * draft-07 (the catalog and OpenAPI use 2020-12; for these shapes the two say the same).
 */
function payload(schema: z.ZodType): JsonObject {
  return embeddableJsonSchema(schema, { target: 'draft-7' });
}

const ref = ($ref: string) => ({ $ref });

interface StreamChannel {
  id: string;
  operationId: string;
  address: string;
  title: string;
  description: string;
  parameters?: Record<string, { description: string }>;
  messages: StreamMessage[];
}

const SSE_FRAMING =
  'Server-Sent Events (`text/event-stream`): each message is `event: <name>`, one line of JSON `data:`, and an `id:` when it can be resumed from; a `retry:` hint comes first. Reconnect with `Last-Event-ID` (EventSource does it) or `?lastEventId=` on a first connect.';

function streams(): StreamChannel[] {
  return [
    {
      id: 'jobEvents',
      operationId: 'followJob',
      address: '/api/jobs/{jobId}/events',
      title: "A job's event stream",
      description: `${SSE_FRAMING} Also served as \`/api/job-events?jobId=\`. The owner of the job or an admin; the stream ends after the job's terminal event. Lifecycle events carry the job history's id.`,
      parameters: { jobId: { description: 'The job id (a lowercase UUID) from the submission.' } },
      messages: jobStreamEventNames.map((name) => {
        const { kind, description } = jobStreamEventDefinition(name);
        const schema = name === 'completed' ? withJobResults(jobStreamEventSchemas.completed) : jobStreamEventSchemas[name];
        return { name, summary: `${description}${kind === 'lifecycle' ? ' Sent with an id.' : ''}`, schema };
      }),
    },
    {
      id: 'notificationStream',
      operationId: 'followNotifications',
      address: '/api/notifications/stream',
      title: "The caller's notification stream",
      description: `${SSE_FRAMING} Every job of the caller, their notifications and unread count, topics (\`?topics=\`), and system events for admins. Its id is a cursor over channels (\`u=<id>,s=<id>,t:<topic>=<id>\`). \`types\`, \`severity\` and \`jobType\` filter.`,
      messages: notificationStreamEventNames.map((name) => {
        const { channel, severity, description } = notificationStreamEventDefinition(name);
        const schema = name === 'job.completed' ? withJobResults(notificationStreamSchemas['job.completed']) : notificationStreamSchemas[name];
        return { name, summary: `${description} Channel: ${channel}; default severity: ${severity}.`, schema };
      }),
    },
  ];
}

let cached: JsonObject | undefined;

/** The AsyncAPI 3 document of the api's two SSE streams, generated from the event schemas and the event catalog. */
export function asyncApiDocument(): JsonObject {
  if (cached) return cached;
  const channels: JsonObject = {};
  const operations: JsonObject = {};
  const messages: JsonObject = {};
  for (const stream of streams()) {
    const channelMessages: JsonObject = {};
    for (const message of stream.messages) {
      const id = `${stream.id}.${message.name}`;
      messages[id] = { name: message.name, title: message.name, summary: message.summary, payload: payload(message.schema) };
      channelMessages[message.name] = ref(`#/components/messages/${id}`);
    }
    channels[stream.id] = {
      address: stream.address,
      title: stream.title,
      description: stream.description,
      ...(stream.parameters ? { parameters: stream.parameters } : {}),
      messages: channelMessages,
    };
    operations[stream.operationId] = {
      action: 'receive',
      channel: ref(`#/channels/${stream.id}`),
      summary: `Follow ${stream.title.toLowerCase()}.`,
      messages: stream.messages.map((message) => ref(`#/channels/${stream.id}/messages/${message.name}`)),
    };
  }
  cached = {
    asyncapi: '3.1.0',
    info: {
      title: 'jobstream streams',
      version: API_VERSION,
      description: 'The Server-Sent Event streams of the jobstream api. The HTTP routes are in docs/openapi.json.',
      license: { name: 'MIT' },
    },
    defaultContentType: 'application/json',
    servers: {
      api: {
        host: 'localhost:3000',
        protocol: 'http',
        description: 'An api process (PORT, default 3000); behind a proxy, its address.',
        security: [ref('#/components/securitySchemes/bearerAuth'), ref('#/components/securitySchemes/accessToken'), ref('#/components/securitySchemes/gateway')],
      },
    },
    channels,
    operations,
    components: {
      messages,
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: '`Authorization: Bearer <JWT>` (AUTH_MODE=jwt).' },
        accessToken: { type: 'httpApiKey', in: 'query', name: 'access_token', description: 'A short-lived token in the query, for EventSource.' },
        gateway: { type: 'httpApiKey', in: 'header', name: 'X-User-Id', description: 'AUTH_MODE=gateway: the identity headers of a trusted gateway.' },
      },
    },
  };
  return cached;
}
