import express from 'express';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dashboardRoutes, findDashboardDir } from './dashboard';

/** An app with only the dashboard router and a JSON 404 after it, like the api's. */
async function serve(dir: string): Promise<{ url: string; server: Server }> {
  const app = express();
  app.use(dashboardRoutes({ dir }));
  app.use((_req, res) => {
    res.status(404).json({ code: 'NOT_FOUND' });
  });
  const server = createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('dashboard routes', () => {
  let dir: string;
  let url: string;
  let server: Server;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dashboard-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>jobstream</title><script type="module" src="./assets/index-AbCd1234.js"></script>');
    writeFileSync(join(dir, 'assets', 'index-AbCd1234.js'), 'console.log(1)');
    writeFileSync(join(dir, 'assets', 'index-Ef56GhIj.css'), 'body{}');
    writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    // Files the dashboard never serves: were the build a fallthrough in front of the api, these would shadow it.
    mkdirSync(join(dir, 'api', 'jobs', 'j1'), { recursive: true });
    writeFileSync(join(dir, 'api', 'jobs', 'j1', 'events'), 'from the disk');
    mkdirSync(join(dir, 'other'));
    writeFileSync(join(dir, 'other', 'page.html'), 'from the disk');
    ({ url, server } = await serve(dir));
  });

  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at / with revalidation on every load', async () => {
    const res = await fetch(`${url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toContain('<title>jobstream</title>');
  });

  it('answers a revalidation of index.html with 304 when it did not change', async () => {
    const first = await fetch(`${url}/`);
    const lastModified = first.headers.get('last-modified');
    expect(lastModified).not.toBeNull();
    // node:http, not fetch: fetch turns a conditional request into `Cache-Control: no-cache`, which bypasses freshness.
    const status = await new Promise<number | undefined>((done, fail) => {
      get(`${url}/`, { headers: { 'If-Modified-Since': lastModified ?? '', 'If-None-Match': first.headers.get('etag') ?? '' } }, (res) => {
        res.resume();
        done(res.statusCode);
      }).on('error', fail);
    });
    expect(status).toBe(304);
  });

  it('caches hashed assets for a year as immutable, with their content types', async () => {
    const js = await fetch(`${url}/assets/index-AbCd1234.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const css = await fetch(`${url}/assets/index-Ef56GhIj.css`);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('caches unhashed files for an hour only', async () => {
    const res = await fetch(`${url}/favicon.svg`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
  });

  it('lets unknown paths fall through to the api', async () => {
    const res = await fetch(`${url}/assets/missing-12345678.js`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: 'NOT_FOUND' });
  });

  it('serves only its own paths: an api path or a nested file outside assets never reaches the disk', async () => {
    for (const path of ['/api/jobs/j1/events', '/other/page.html']) {
      const res = await fetch(`${url}${path}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ code: 'NOT_FOUND' });
    }
  });

  it('answers / with a 503 page that says to run npm run build when the dashboard is not built', async () => {
    const missing = await serve(join(dir, 'not-built'));
    try {
      const res = await fetch(`${missing.url}/`);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const page = await res.text();
      expect(page).toContain('npm run build');
      expect(page).not.toMatch(/<script|<style|style=/);
      expect((await fetch(`${missing.url}/assets/index-AbCd1234.js`)).status).toBe(404);
    } finally {
      missing.server.close();
    }
  });

  it('finds the built dashboard from the api source and build folders', () => {
    const root = resolve(__dirname, '..', '..', '..', '..');
    const expected = join(root, 'packages', 'dashboard', 'dist');
    expect(findDashboardDir(__dirname)).toBe(expected);
    expect(findDashboardDir(join(root, 'services', 'api', 'dist', 'http'))).toBe(expected);
  });
});
