import express, { Router, type Response } from 'express';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface DashboardRoutesOptions {
  /** The built dashboard (index.html and assets/). Default: `findDashboardDir()`. */
  dir?: string | undefined;
}

/** Vite names every bundled file `assets/<name>-<content hash>.<ext>`: a new build is a new URL. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html names the current assets, so it is revalidated on every load (ETag / Last-Modified make that a 304). */
const REVALIDATE = 'no-cache';
/** Unhashed files copied as they are (the favicon). */
const SHORT = 'public, max-age=3600';
/**
 * Powerful features the dashboard never uses, turned off for it and anything it could embed, so a
 * script that got in could not ask for them either. Desktop notifications are not among them (no
 * browser governs them by this header); the page asks for those itself.
 */
export const PERMISSIONS_POLICY =
  'accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), publickey-credentials-get=(), screen-wake-lock=(), serial=(), usb=(), xr-spatial-tracking=()';

/** Plain HTML, no script or style: the api's CSP allows neither inline. */
const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>jobstream: dashboard not built</title></head>
<body>
<h1>The dashboard is not built</h1>
<p>This api serves the web dashboard from <code>packages/dashboard/dist</code>, which does not exist yet.
Run <code>npm run build</code> (or <code>npm start</code>, which builds first) and reload.</p>
<p>The API itself works: <a href="./api/events/catalog">/api/events/catalog</a>.</p>
</body>
</html>
`;

/**
 * Where the built dashboard is: the first `packages/dashboard` folder found walking up from this
 * file (services/api/src/http in tests, services/api/dist/http when built, /app/... in the image),
 * plus `dist`. Falls back to where the repository layout puts it, so a missing build is reported
 * with the right path instead of a crash.
 */
export function findDashboardDir(from: string = __dirname): string {
  for (let current = from; ; current = dirname(current)) {
    if (existsSync(join(current, 'packages', 'dashboard'))) return join(current, 'packages', 'dashboard', 'dist');
    if (dirname(current) === current) break;
  }
  return resolve(from, '..', '..', '..', '..', 'packages', 'dashboard', 'dist');
}

/** The service worker that shows pushes: unhashed (its URL is its identity), so browsers must check it on every update. */
const SERVICE_WORKER = /[\\/]push-worker\.js$/;

function cacheHeaders(res: Response, path: string): void {
  if (SERVICE_WORKER.test(path)) res.setHeader('Cache-Control', REVALIDATE);
  else if (/[\\/]assets[\\/][^\\/]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+(\.map)?$/.test(path)) res.setHeader('Cache-Control', IMMUTABLE);
  else if (path.endsWith('.html')) res.setHeader('Cache-Control', REVALIDATE);
  else res.setHeader('Cache-Control', SHORT);
}

/** A file at the top of the build (`/favicon.svg`): one path segment with an extension, never an api path. */
const TOP_LEVEL_FILE = /^\/[A-Za-z0-9][\w.-]*\.[A-Za-z0-9]+$/;

/**
 * Serves the dashboard at `/`: index.html revalidated on every load, hashed assets cached for a
 * year, content types from the file names. Without a build, `/` answers a short 503 page that says
 * how to make one. Only the dashboard's own paths (`/`, `/index.html`, `/assets/...` and files at
 * the top of the build) look at the disk: every other request, `/api` above all, passes by without
 * a filesystem call. The folder is looked at per request, so building while the api runs is enough.
 */
export function dashboardRoutes(options: DashboardRoutesOptions = {}): Router {
  const dir = resolve(options.dir ?? findDashboardDir());
  const index = join(dir, 'index.html');
  const staticOptions = { index: false, redirect: false, fallthrough: true, dotfiles: 'ignore', setHeaders: cacheHeaders } as const;
  const router = Router();
  router.get(['/', '/index.html'], (_req, res, next) => {
    if (!existsSync(index)) {
      res.status(503).set({ 'Cache-Control': 'no-store', 'Retry-After': '30', 'Permissions-Policy': PERMISSIONS_POLICY }).type('html').send(NOT_BUILT_PAGE);
      return;
    }
    res.setHeader('Cache-Control', REVALIDATE);
    res.setHeader('Permissions-Policy', PERMISSIONS_POLICY);
    res.sendFile(index, (err) => {
      if (err && !res.headersSent) next(err);
    });
  });
  router.use('/assets', express.static(join(dir, 'assets'), staticOptions));
  const topLevelFiles = express.static(dir, staticOptions);
  router.use((req, res, next) => {
    if ((req.method === 'GET' || req.method === 'HEAD') && TOP_LEVEL_FILE.test(req.path)) topLevelFiles(req, res, next);
    else next();
  });
  return router;
}
