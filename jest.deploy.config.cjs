/**
 * `npm run test:deploy`: the deploy files checked with the tools that read them (test/deploy):
 * nginx runs deploy/nginx/nginx.conf in front of a real api, promtool checks the Prometheus rules
 * and the Grafana queries, `kubectl kustomize` renders the Kubernetes overlays. Needs those three
 * on the PATH (.ci/run installs them) and `npm run build`; Redis as for `npm test`.
 */
const base = require('./jest.config.cjs');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/deploy'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
