import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { setGlobalErrorHandler, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { SpanKindName, SpanOptions, TraceSpan, TracingConfig } from './tracing.js';

/**
 * Loaded by `startTracing` only when an endpoint is configured. The SDK's core parts and the
 * OTLP/HTTP exporter, without `sdk-node` and its auto-instrumentations: the few spans jobstream
 * makes are made here, where the job's trace context travels with it.
 */
export interface TracingSdk {
  inSpan<T>(name: string, options: SpanOptions, fn: (span: TraceSpan) => T): T;
  startSpan(name: string, options: SpanOptions): TraceSpan;
  recordSpan(name: string, options: SpanOptions & { endTimeMs: number }): void;
  activeTraceparent(): string | undefined;
  traceHttpRequest(req: IncomingMessage, res: ServerResponse, next: () => void, route: () => string | undefined): void;
  shutdown(): Promise<void>;
}

const KINDS: Record<SpanKindName, SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

/** Export failures are logged at most this often: a collector that is down would otherwise log every batch. */
const EXPORT_ERROR_LOG_INTERVAL_MS = 60_000;

const propagator = new W3CTraceContextPropagator();

/** The context a `traceparent` names, or undefined when it is missing or malformed. */
function contextOf(traceparent: string | undefined): Context | undefined {
  if (!traceparent) return undefined;
  const extracted = propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
  return trace.getSpanContext(extracted) ? extracted : undefined;
}

function traceparentOf(ctx: Context): string | undefined {
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, defaultTextMapSetter);
  return carrier.traceparent;
}

function linksOf(traceparents: (string | undefined)[] = []): Link[] {
  const links: Link[] = [];
  for (const traceparent of traceparents) {
    const spanContext = trace.getSpanContext(contextOf(traceparent) ?? ROOT_CONTEXT);
    if (spanContext) links.push({ context: spanContext });
  }
  return links;
}

function wrap(span: Span): TraceSpan {
  const { traceId, spanId } = span.spanContext();
  return {
    traceId,
    spanId,
    get traceparent() {
      return traceparentOf(trace.setSpan(ROOT_CONTEXT, span)) ?? '';
    },
    sampled: span.isRecording(),
    setAttributes: (attributes) => span.setAttributes(attributes),
    addEvent: (name, attributes) => span.addEvent(name, attributes),
    fail: (err) => {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    },
    end: (endTimeMs) => span.end(endTimeMs),
  };
}

/** The path of a request URL without its query: stream URLs may carry `?access_token=`. */
function pathOf(url: string | undefined): string {
  return (url ?? '/').split('?')[0] ?? '/';
}

/** Starts the tracer provider and the context manager; returns the handle `tracing.ts` talks to. */
export function startTracingSdk(config: TracingConfig, logger: Logger): TracingSdk {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  let lastErrorLogged = 0;
  setGlobalErrorHandler((err) => {
    if (Date.now() - lastErrorLogged < EXPORT_ERROR_LOG_INTERVAL_MS) return;
    lastErrorLogged = Date.now();
    logger.warn({ err }, 'tracing: spans could not be exported (logged once a minute)');
  });
  const exporter = new OTLPTraceExporter({ url: `${config.endpoint.replace(/\/+$/, '')}/v1/traces` });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: config.exportDelayMs })],
  });
  const tracer = provider.getTracer('jobstream');

  const start = (name: string, options: SpanOptions): { span: Span; ctx: Context } => {
    const parent = contextOf(options.parent) ?? context.active();
    const span = tracer.startSpan(
      name,
      {
        kind: KINDS[options.kind ?? 'internal'],
        ...(options.attributes ? { attributes: options.attributes } : {}),
        links: linksOf(options.links),
        ...(options.startTimeMs !== undefined ? { startTime: options.startTimeMs } : {}),
      },
      parent,
    );
    return { span, ctx: trace.setSpan(parent, span) };
  };

  return {
    inSpan(name, options, fn) {
      const { span, ctx } = start(name, options);
      const handle = wrap(span);
      const failed = (err: unknown): void => {
        if (options.isFailure?.(err) ?? true) handle.fail(err);
      };
      let result: ReturnType<typeof fn>;
      try {
        result = context.with(ctx, fn, undefined, handle);
      } catch (err) {
        failed(err);
        span.end();
        throw err;
      }
      if (result instanceof Promise) {
        return result.then(
          (value: unknown) => {
            span.end();
            return value;
          },
          (err: unknown) => {
            failed(err);
            span.end();
            throw err;
          },
        ) as typeof result;
      }
      span.end();
      return result;
    },

    startSpan(name, options) {
      return wrap(start(name, options).span);
    },

    recordSpan(name, options) {
      start(name, options).span.end(options.endTimeMs);
    },

    activeTraceparent() {
      const active = trace.getSpan(context.active());
      if (!active?.isRecording()) return undefined;
      return traceparentOf(context.active());
    },

    traceHttpRequest(req, res, next, route) {
      const method = req.method ?? 'GET';
      const span = tracer.startSpan(
        method,
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': pathOf(req.url), 'url.scheme': 'http' } },
        ROOT_CONTEXT,
      );
      const ctx = trace.setSpan(ROOT_CONTEXT, span);
      let ended = false;
      const end = (): void => {
        if (ended) return;
        ended = true;
        const pattern = route();
        if (pattern) {
          span.updateName(`${method} ${pattern}`);
          span.setAttribute('http.route', pattern);
        }
        span.setAttribute('http.response.status_code', res.statusCode);
        if (!res.writableFinished) span.setAttribute('jobstream.client_closed', true);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      };
      res.once('finish', end);
      res.once('close', end);
      // Listeners added later (the body parser's, a stream's close) run in the request's context.
      context.bind(ctx, req);
      context.bind(ctx, res);
      context.with(ctx, next);
    },

    async shutdown() {
      try {
        await provider.shutdown();
      } finally {
        contextManager.disable();
        context.disable();
      }
    },
  };
}
