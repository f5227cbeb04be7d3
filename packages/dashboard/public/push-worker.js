// The dashboard's service worker: shows the pushes jobstream sends (a job's outcome, a notification
// addressed to the user) while no page of the dashboard is open, and opens the dashboard on a
// click. Served from the dashboard's own origin at its top (`/push-worker.js`) so that its scope
// covers the whole dashboard. It fetches nothing: the push carries all it shows.
/// <reference lib="webworker" />

const DEFAULT_TITLE = 'jobstream';

/** A field of the push as text, at most `max` characters; bidi controls taken out (the notification is plain text). */
function text(value, max) {
  if (typeof value !== 'string') return '';
  return value.replace(/[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g, '').slice(0, max);
}

/** The link to open: only a path of this dashboard, never another origin a push might name. */
function sameOriginUrl(value) {
  const scope = self.registration.scope;
  try {
    const url = new URL(typeof value === 'string' ? value : './', scope);
    return url.origin === self.location.origin ? url.href : scope;
  } catch {
    return scope;
  }
}

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    // Not JSON: still show something, a push the user cannot see is what browsers punish.
  }
  const title = text(data.title, 120) || DEFAULT_TITLE;
  event.waitUntil(
    self.registration.showNotification(title, {
      body: text(data.body, 400),
      tag: text(data.tag, 128) || undefined,
      icon: './favicon.svg',
      data: { url: sameOriginUrl(data.url), jobId: typeof data.jobId === 'string' ? data.jobId : undefined },
    }),
  );
});

/**
 * What a click on a notification does: bring a dashboard tab to the push's link, focusing it, or
 * open one there when none is open. A tab this worker does not control cannot be navigated from
 * here (`navigate` rejects): then a new one opens at the link, so the click always lands on it.
 */
async function openFromNotification(data) {
  const url = sameOriginUrl(data && data.url);
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const dashboards = windows.filter((client) => new URL(client.url).origin === self.location.origin);
  const there = dashboards.find((client) => client.url === url);
  if (there) return there.focus();
  const open = dashboards[0];
  if (open) {
    const focused = await open.focus().catch(() => open);
    const moved = await focused.navigate(url).catch(() => null);
    if (moved) return moved;
  }
  return self.clients.openWindow(url);
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(openFromNotification(event.notification.data));
});

// A new version takes over at once: it only shows notifications, there is no cache to keep consistent.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
