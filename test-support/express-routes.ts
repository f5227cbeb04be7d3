import type { Express } from 'express';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
}

/**
 * `METHOD /path` of every route the Express app serves, read from its router stack (router 2.x
 * keeps a mounted router's path in `rawPath`), so a route added without being listed where a test
 * expects it fails that test. The stream routes are among them: the stream front door serves their
 * GETs, Express their HEADs.
 */
export function routesOf(express: Express): string[] {
  const app = express as unknown as { router: { stack: Layer[] } };
  const found: string[] = [];
  const walk = (stack: Layer[], prefix: string): void => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        const methods = Object.keys(layer.route.methods).filter((method) => method !== '_all');
        for (const method of methods) for (const path of paths) found.push(`${method.toUpperCase()} ${prefix}${path}`);
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack, prefix + (typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : ''));
      }
    }
  };
  walk(app.router.stack, '');
  return [...new Set(found)].sort();
}
