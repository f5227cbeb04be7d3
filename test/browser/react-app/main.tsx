import { createClient } from '@jobstream/client';
import { JobstreamProvider } from '@jobstream/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { FixtureApp } from './fixture-app';

// The page is served on the api's origin; the test puts the user's token in the fragment.
const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
const client = createClient({
  baseUrl: location.origin,
  token,
  // Patient enough to ride out an api restart by reconnecting alone, and quick to come back.
  stream: { retryBaseMs: 100, maxRetryDelayMs: 1_000, failuresBeforePolling: 50 },
});

const root = document.getElementById('root');
if (!root) throw new Error('the fixture page has no #root');
// StrictMode mounts every component twice in development: the hooks must still open one stream.
createRoot(root).render(
  <StrictMode>
    <JobstreamProvider client={client}>
      <FixtureApp />
    </JobstreamProvider>
  </StrictMode>,
);
