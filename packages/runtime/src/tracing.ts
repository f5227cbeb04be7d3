import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import { intVar, optionalVar, parseEnv } from './config.js';
import type { TracingSdk } from './tracing-sdk.js';

/**
 * The variables tracing reads, with the names the OpenTelemetry specification gives them. Without
 * `OTEL_EXPORTER_OTLP_ENDPOINT` nothing is loaded or started.
 */
export const tracingEnvShape = {
  /** The collector's OTLP/HTTP base URL (`http://jaeger:4318`); spans go to `<it>/v1/traces` as JSON. */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalVar(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
  /** Share of new traces recorded, 0 to 1 (default 1); a job's spans follow the decision of its POST. */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
  /** How often finished spans are sent, in ms (default 5000). */
  OTEL_BSP_SCHEDULE_DELAY: intVar(5_000, 1, 600_000),
};

export interface TracingConfig {
  serviceName: string;
  endpoint: string;
  sampleRatio: number;
  exportDelayMs: number;
}

/** What `startTracing` returns; `shutdown` sends the spans still queued. */
export interface TracingHandle {
  enabled: boolean;
  shutdown(): Promise<void>;
}

export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer';
export type SpanAttributes = Record<string, string | number | boolean>;

export interface SpanOptions {
  /** Default `internal`. */
  kind?: SpanKindName;
  attributes?: SpanAttributes;
  /** W3C `traceparent` of the parent (another process's span); default: the span active here. */
  parent?: string | undefined;
  /** `traceparent`s of spans this one is linked to without being their child. */
  links?: (string | undefined)[];
  /** When the span started (ms since epoch); default now. */
  startTimeMs?: number;
  /** Whether an error `inSpan`'s function throws marks the span failed; default every error does. */
  isFailure?: (err: unknown) => boolean;
}

/** A started span, as code outside the SDK sees it. */
export interface TraceSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** This span as a W3C `traceparent`, to be carried to another process. */
  readonly traceparent: string;
  /** Whether the span is recorded and sent (false: the trace was not sampled). */
  readonly sampled: boolean;
  setAttributes(attributes: SpanAttributes): void;
  addEvent(name: string, attributes?: SpanAttributes): void;
  /** Marks the span as failed and records the error on it. */
  fail(err: unknown): void;
  end(endTimeMs?: number): void;
}

let sdk: TracingSdk | undefined;

/**
 * Starts tracing when `OTEL_EXPORTER_OTLP_ENDPOINT` is set and does nothing otherwise: the SDK is
 * imported only then, so a process without it never loads an OpenTelemetry module. Called once at
 * a service's start, before it creates its servers and workers.
 */
export async function startTracing(serviceName: string, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<TracingHandle> {
  const parsed = parseEnv(serviceName, z.object(tracingEnvShape), env);
  const endpoint = parsed.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return { enabled: false, shutdown: async () => undefined };
  if (sdk) throw new Error('tracing is already started in this process');
  const config: TracingConfig = {
    serviceName: `jobstream-${serviceName}`,
    endpoint,
    sampleRatio: parsed.OTEL_TRACES_SAMPLER_ARG,
    exportDelayMs: parsed.OTEL_BSP_SCHEDULE_DELAY,
  };
  const module = await import('./tracing-sdk.js');
  const started = module.startTracingSdk(config, logger);
  sdk = started;
  logger.info({ endpoint: withoutCredentials(endpoint), sampleRatio: config.sampleRatio }, 'tracing enabled');
  return {
    enabled: true,
    shutdown: async () => {
      if (sdk === started) sdk = undefined;
      await started.shutdown();
    },
  };
}

function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = parsed.password = '';
  return parsed.origin + parsed.pathname;
}

/** Whether spans are recorded in this process. */
export function tracingEnabled(): boolean {
  return sdk !== undefined;
}

/**
 * Runs `fn` inside a new span (its child spans and the logs it makes belong to it) and ends the
 * span when `fn` returns or its promise settles; a throw or rejection marks it failed. Without
 * tracing `fn` runs as it is and gets no span.
 */
export function inSpan<T>(name: string, options: SpanOptions, fn: (span: TraceSpan | undefined) => T): T {
  return sdk ? sdk.inSpan(name, options, fn) : fn(undefined);
}

/** Starts a span that the caller ends (one whose work spans callbacks); undefined without tracing. */
export function startSpan(name: string, options: SpanOptions): TraceSpan | undefined {
  return sdk?.startSpan(name, options);
}

/** Records a span that has already finished (a time measured elsewhere, e.g. how long a job waited). */
export function recordSpan(name: string, options: SpanOptions & { endTimeMs: number }): void {
  sdk?.recordSpan(name, options);
}

/** The active span as a W3C `traceparent`, or undefined (no tracing, no span, not sampled). */
export function activeTraceparent(): string | undefined {
  return sdk?.activeTraceparent();
}

/**
 * Opens an HTTP server span for one request and runs the rest of its handling inside it; the span
 * ends when the response finishes or the connection closes. `route` names the matched route
 * pattern then (never the raw path, which holds ids). A `traceparent` sent by the client is not
 * followed: callers would choose what is sampled and join their spans to traces of others.
 */
export function traceHttpRequest(
  req: IncomingMessage,
  res: ServerResponse,
  next: () => void,
  route: () => string | undefined,
): void {
  if (!sdk) {
    next();
    return;
  }
  sdk.traceHttpRequest(req, res, next, route);
}
