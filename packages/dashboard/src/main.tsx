import { render } from 'preact';
import { App } from './app.js';

/**
 * The api this page talks to is the one that served it: same origin, and the same path prefix
 * when a proxy mounts the api under one (`https://example.com/jobstream/` → `/jobstream/api/...`).
 */
function apiBaseUrl(location: Location): string {
  return `${location.origin}${location.pathname.replace(/\/[^/]*$/, '')}`;
}

const root = document.getElementById('app');
if (root) render(<App baseUrl={apiBaseUrl(window.location)} />, root);
