import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

/**
 * The dashboard the api serves at `/`. Everything is bundled (the machines it runs on may have no
 * internet), scripts and styles are files (the api's Content-Security-Policy allows no inline
 * script), and asset names carry a content hash so the api can cache them for a year.
 */
export default defineConfig({
  // Relative asset URLs: the page keeps working when a proxy serves the api under a path prefix.
  base: './',
  plugins: [preact({ devtoolsInProd: false, prefreshEnabled: false })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No inline modulepreload polyfill or data: URLs: everything is a file of the same origin.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    // No source maps: the api serves everything in dist, and maps would publish the sources.
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev -w @jobstream/dashboard` against an api on :3000 (npm start).
    proxy: { '/api': { target: 'http://127.0.0.1:3000', changeOrigin: false } },
  },
});
