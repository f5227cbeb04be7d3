import type { ApiServer } from '@jobstream/api';
import {
  apiDocumentFiles,
  apiRoutes,
  asyncApiDocument,
  errorStatus,
  jobResultsSchema,
  jobSnapshotSchema,
  jobStreamEventNames,
  jobTypes,
  notificationStreamEventNames,
  openApiDocument,
  openApiPath,
  withJobResults,
} from '@jobstream/contracts';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Parser } from '@asyncapi/parser';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { join } from 'node:path';
import { routesOf } from '../test-support/express-routes';
import { http } from '../test-support/http';
import { cleanupPrefix, startApi, testEnv, testRedisUrl } from '../test-support/services';

/** The dashboard's page, served at `/` by the api too: a web app, not part of the api's documents. */
const DASHBOARD_PAGES = ['GET /', 'GET /index.html'];

const documentedRoutes = (): string[] => apiRoutes().map((route) => `${route.method.toUpperCase()} ${route.path}`).sort();

/** The errors (severity 0) @asyncapi/parser reports for `doc`. */
async function asyncApiErrors(doc: unknown): Promise<string[]> {
  const { diagnostics } = await new Parser().parse(JSON.stringify(doc));
  return diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('.')}: ${d.message}`);
}

describe('the api documents (OpenAPI, AsyncAPI and the reference page)', () => {
  it('has committed docs/openapi.json, docs/asyncapi.json and docs/api-reference.html exactly as they are generated', async () => {
    const stale: string[] = [];
    for (const [name, generated] of Object.entries(apiDocumentFiles())) {
      const committed = await readFile(join(__dirname, '..', 'docs', name), 'utf8').catch(() => '');
      if (committed !== generated) stale.push(`docs/${name} differs from what the contracts generate: run \`npm run docs:generate\` and commit it`);
    }
    expect(stale).toEqual([]);
  });

  it('generates a document that swagger-parser validates as OpenAPI 3.1', async () => {
    const doc = structuredClone(openApiDocument());
    await expect(SwaggerParser.validate(doc as never)).resolves.toMatchObject({ openapi: '3.1.0' });
  });

  it('has a validator that refuses a document with a dangling reference or an answer without a description', async () => {
    const dangling = structuredClone(openApiDocument());
    dangling.components.schemas = {};
    await expect(SwaggerParser.validate(dangling as never)).rejects.toThrow(/ApiError/);
    const undescribed = structuredClone(openApiDocument()) as unknown as { paths: Record<string, Record<string, { responses: Record<string, { description?: string }> }>> };
    delete undescribed.paths['/api/jobs/{id}']?.get?.responses['200']?.description;
    await expect(SwaggerParser.validate(undescribed as never)).rejects.toThrow(/description/);
  });

  it('describes each job type’s payload in the body of POST /api/jobs', () => {
    const body = openApiDocument().paths['/api/jobs']?.post?.requestBody?.content['application/json']?.schema as { oneOf: { properties: { type: { const: string } } }[] };
    expect(body.oneOf.map((shape) => shape.properties.type.const).sort()).toEqual(['demo.work', 'flashcards.generate']);
  });

  it('describes the result of each job type that declares a result schema, and leaves the others open', () => {
    const results = jobResultsSchema({ 'cards.make': { result: z.object({ cards: z.array(z.string()) }) }, 'demo.free': {} });
    const snapshot = z.toJSONSchema(withJobResults(jobSnapshotSchema, results));
    expect(snapshot.properties?.result).toMatchObject({ title: 'cards.make result', required: ['cards'] });
    expect(jobResultsSchema({ 'demo.free': {} })).toBeUndefined();
    // The job types of the contract each declare one: a job's result is one of theirs.
    const described = JSON.stringify(z.toJSONSchema(withJobResults(jobSnapshotSchema)).properties?.result);
    for (const type of Object.keys(jobTypes)) expect(described).toContain(`"title":"${type} result"`);
  });

  it('lists every refusal of a route under the status the api answers it with, its code one of the stable codes', () => {
    const cancel = openApiDocument().paths['/api/jobs/{id}/cancel']?.post?.responses ?? {};
    const codes = (status: string) => (cancel[status]?.content?.['application/json']?.schema as { allOf: { properties?: { code: { enum: string[] } } }[] }).allOf[1]?.properties?.code.enum;
    expect(Object.keys(cancel).sort()).toEqual(['202', '400', '401', '404', '409', '413', '415', '429', '500', '503']);
    expect(codes('429')).toEqual(['RATE_LIMITED']);
    expect(codes('400')).toEqual(['INVALID_JOB_ID', 'INVALID_JSON', 'VALIDATION_FAILED']);
    expect(codes('404')).toEqual(['JOB_NOT_FOUND']);
    expect(codes('409')).toEqual(['JOB_ALREADY_FINISHED']);
    expect(codes('401')).toEqual(['AUTH_REQUIRED', 'GATEWAY_UNTRUSTED', 'INVALID_TOKEN', 'TOKEN_EXPIRED']);
  });

  it("gives each error code the status of docs/api.md's error table", async () => {
    const table = await readFile(join(__dirname, '..', 'docs', 'api.md'), 'utf8');
    // The table's rows, and the sentence under it about the one code that is always a bug.
    const rows = [...table.matchAll(/^\| (\d{3}) \| `([A-Z_]+)` \|/gm), ...table.matchAll(/^A `(\d{3}) ([A-Z_]+)` is always a bug/gm)];
    const documented = rows.map(([, status, code]) => `${code} ${status}`);
    expect([...new Set(documented)].sort()).toEqual(Object.entries(errorStatus).map(([code, status]) => `${code} ${status}`).sort());
  });

  it('generates an AsyncAPI 3 document of both streams that @asyncapi/parser parses without an error', async () => {
    const doc = asyncApiDocument() as { channels: Record<string, { messages: Record<string, unknown> }> };
    expect(await asyncApiErrors(doc)).toEqual([]);
    expect(Object.keys(doc.channels.jobEvents?.messages ?? {})).toEqual(jobStreamEventNames);
    expect(Object.keys(doc.channels.notificationStream?.messages ?? {})).toEqual(notificationStreamEventNames);
  });

  it('has an AsyncAPI parser that reports an operation on a channel that does not exist', async () => {
    const broken = structuredClone(asyncApiDocument()) as { operations: Record<string, { channel: { $ref: string } }> };
    const follow = broken.operations.followJob;
    if (!follow) throw new Error('no followJob operation');
    follow.channel = { $ref: '#/channels/noSuchChannel' };
    expect(await asyncApiErrors(broken)).not.toEqual([]);
  });

  describe('against a running api', () => {
    let env: Record<string, string>;
    let api: ApiServer & { url: string };

    beforeAll(async () => {
      env = testEnv();
      api = await startApi(env);
    });

    afterAll(async () => {
      await api.close();
      await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
    });

    it('documents every route the api serves, and serves every route it documents', () => {
      const served = routesOf(api.app).filter((route) => !DASHBOARD_PAGES.includes(route));
      expect(served).toEqual(documentedRoutes());
    });

    it('serves the OpenAPI document at /api/openapi.json to a caller without credentials', async () => {
      const res = await http('GET', `${api.url}/api/openapi.json`, undefined, { authorization: '' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    });

    it('serves the reference page at /api/docs, listing every route, with no script and no inline style under the CSP', async () => {
      const res = await fetch(`${api.url}/api/docs`);
      const page = await res.text();
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const missing = apiRoutes()
        .map((route) => `<code>${route.method.toUpperCase()} ${openApiPath(route.path)}</code>`)
        .filter((title) => !page.includes(title));
      expect(missing).toEqual([]);
      expect(page).toContain('href="/api/openapi.json"');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(page).not.toMatch(/<script|<style|\sstyle=|\son[a-z]+=/i);
    });

    it('refuses other methods on the document routes like any route it does not serve, and ignores query parameters', async () => {
      const anonymous = { authorization: '' };
      expect((await http('POST', `${api.url}/api/openapi.json`, {}, anonymous)).body.code).toBe('AUTH_REQUIRED');
      expect((await http('DELETE', `${api.url}/api/docs`)).body.code).toBe('NOT_FOUND');
      const hostile = await http('GET', `${api.url}/api/openapi.json?${'a=1&'.repeat(500)}%ff=%00`, undefined, anonymous);
      expect(hostile.status).toBe(200);
      expect(hostile.body.openapi).toBe('3.1.0');
      const traversal = await http('GET', `${api.url}/api/docs/..%2fme`, undefined, anonymous);
      expect([traversal.status, traversal.body.code]).toEqual([401, 'AUTH_REQUIRED']);
    });
  });
});
