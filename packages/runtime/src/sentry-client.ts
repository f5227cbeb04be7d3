import {
  createStackParser,
  createTransport,
  dedupeIntegration,
  eventFiltersIntegration,
  functionToStringIntegration,
  initAndBind,
  linkedErrorsIntegration,
  withScope,
  type BaseTransportOptions,
  type Transport,
} from '@sentry/core';
import { nodeStackLineParser, ServerRuntimeClient, type ServerRuntimeClientOptions } from '@sentry/core/server';
import type { Logger } from 'pino';
import type { ErrorReport, SentryOptions } from './sentry.js';

/**
 * Loaded by `initSentry` only when a DSN is configured: `@sentry/core` is error capture without
 * the OpenTelemetry tracing, bundler plugins and CLI that `@sentry/node` brings along.
 */
export interface SentryClient {
  capture(err: unknown, report: ErrorReport): void;
  flush(timeoutMs: number): Promise<void>;
}

const SEND_TIMEOUT_MS = 10_000;

/** Envelopes over the runtime's own fetch; the rate-limit headers go back to the SDK so it backs off. */
function fetchTransport(options: BaseTransportOptions): Transport {
  return createTransport(options, async ({ body }) => {
    const res = await fetch(options.url, {
      method: 'POST',
      headers: options.headers ?? {},
      body: typeof body === 'string' ? body : Buffer.from(body),
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
    await res.arrayBuffer();
    return {
      statusCode: res.status,
      headers: { 'x-sentry-rate-limits': res.headers.get('x-sentry-rate-limits'), 'retry-after': res.headers.get('retry-after') },
    };
  });
}

/** Stream URLs may carry ?access_token=: no query string leaves the process. */
function withoutQuery(url: string): string {
  return url.split('?')[0] ?? url;
}

/** Starts the client and reports crashes; returns the handle `sentry.ts` talks to. */
export function startSentryClient(options: SentryOptions & { dsn: string }): SentryClient {
  const clientOptions: ServerRuntimeClientOptions = {
    dsn: options.dsn,
    ...(options.environment ? { environment: options.environment } : {}),
    serverName: `jobstream-${options.service}`,
    platform: 'node',
    runtime: { name: 'node', version: process.version },
    initialScope: { tags: { service: options.service } },
    transport: fetchTransport,
    stackParser: createStackParser(nodeStackLineParser()),
    integrations: [eventFiltersIntegration(), functionToStringIntegration(), linkedErrorsIntegration(), dedupeIntegration()],
    beforeSend(event) {
      if (event.request) {
        delete event.request.query_string;
        if (event.request.url) event.request.url = withoutQuery(event.request.url);
      }
      return event;
    },
    beforeBreadcrumb(breadcrumb) {
      const url: unknown = breadcrumb.data?.url;
      if (typeof url === 'string' && breadcrumb.data) breadcrumb.data.url = withoutQuery(url);
      return breadcrumb;
    },
  };
  const client = initAndBind(ServerRuntimeClient, clientOptions);

  const capture = (err: unknown, report: ErrorReport): void => {
    withScope((scope) => {
      if (report.level) scope.setLevel(report.level);
      if (report.tags) scope.setTags(report.tags);
      for (const [name, context] of Object.entries(report.contexts ?? {})) scope.setContext(name, context);
      client.captureException(err, report.mechanism ? { mechanism: report.mechanism } : undefined, scope);
    });
  };
  const flush = async (timeoutMs: number): Promise<void> => {
    await client.flush(timeoutMs);
  };
  reportCrashes(options.logger, capture, flush);
  return { capture, flush };
}

/**
 * A crash is reported before the process exits as Node would have (code 1): an uncaught exception,
 * and an unhandled rejection, which Node's default (`--unhandled-rejections=throw`) makes one too.
 * Listening for these replaces Node's own exit, so the handler exits itself after the flush.
 */
function reportCrashes(logger: Logger, capture: SentryClient['capture'], flush: SentryClient['flush']): void {
  let crashing = false;
  const crash = (err: unknown, origin: 'uncaughtException' | 'unhandledRejection'): void => {
    logger.fatal({ err }, origin === 'uncaughtException' ? 'uncaught exception' : 'unhandled rejection');
    if (crashing) return;
    crashing = true;
    capture(err, { level: 'fatal', mechanism: { type: `auto.node.${origin}`, handled: false } });
    void flush(2_000).finally(() => process.exit(1));
  };
  process.on('uncaughtException', (err) => crash(err, 'uncaughtException'));
  process.on('unhandledRejection', (reason) => crash(reason, 'unhandledRejection'));
}
