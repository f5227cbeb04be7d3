# syntax=docker/dockerfile:1
# One image recipe for every service; pick one with --target:
#   docker build --target api -t jobstream-api .
#   docker build --target worker -t jobstream-worker .
#   docker build --target metrics -t jobstream-metrics .
# The runtime images share every layer but the last, so building all of them costs one.

FROM node:24-bookworm-slim AS base
WORKDIR /app
ENV TURBO_TELEMETRY_DISABLED=1 \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

# Only the package manifests, in their folders: the `npm ci` layers below are then reused
# until a dependency changes, not rebuilt on every source edit.
FROM base AS manifests
COPY . /src
RUN mkdir /out \
 && cd /src \
 && cp package.json package-lock.json .npmrc /out/ \
 && for manifest in packages/*/package.json services/*/package.json; do \
      mkdir -p "/out/$(dirname "$manifest")" && cp "$manifest" "/out/$manifest"; \
    done

FROM base AS build
COPY --from=manifests /out/ ./
RUN npm ci
COPY . .
RUN npm run build \
 && mkdir /out \
 && for dist in packages/*/dist services/*/dist; do \
      mkdir -p "/out/$(dirname "$dist")" && cp -r "$dist" "/out/$dist"; \
    done

# Production dependencies of every workspace. The root has only devDependencies, so this is
# the workspaces' dependencies plus the links to the workspace packages themselves.
FROM base AS prod-deps
COPY --from=manifests /out/ ./
RUN npm ci --omit=dev && npm cache clean --force

FROM base AS runtime
ENV NODE_ENV=production
COPY --from=prod-deps /app/ ./
COPY --from=build /out/ ./
USER node

FROM runtime AS api
ENV PORT=3000
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself, so the graceful shutdown runs.
CMD ["node", "services/api/dist/main.js"]

# No HEALTHCHECK for the worker: its only HTTP endpoint is GET /metrics (WORKER_METRICS_PORT),
# which it deliberately runs without when the port is taken or set to 0, so probing it would
# mark a working worker unhealthy. A crash exits the process; the restart policy handles that.
FROM runtime AS worker
EXPOSE 9101
CMD ["node", "services/worker/dist/main.js"]

FROM runtime AS metrics
EXPOSE 9102
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.METRICS_PORT || 9102) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "services/metrics/dist/main.js"]
