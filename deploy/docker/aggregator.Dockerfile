# syntax=docker/dockerfile:1.7
# The RLSA aggregator service. Build from the repository root:
#   docker build -f deploy/docker/aggregator.Dockerfile -t rlsa-aggregator:0.1.0 .
# Settings come from RLSA_* environment variables (one per `rlsa aggregator` flag), a mounted
# --config file and mounted TLS/tokens files; state lives in the volume /var/lib/rlsa.
ARG NODE_IMAGE=node:20-slim

# --- manifests: only package.json files and the lock, so that `npm ci` below is cached until they change.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json ! -path './apps/cli/bin/*' -delete \
 && find . -type d -empty -delete

# --- build: production dependencies; better-sqlite3 compiles its addon here when no prebuilt binary fits.
FROM ${NODE_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# The lock file was written by npm 11, whose "allowScripts" (root package.json) decides which install scripts run.
RUN npm install -g npm@11 && npm --version
WORKDIR /app
COPY --from=manifests /src/ ./
# tfjs-node (libtensorflow, hundreds of MB) is an optional dependency for trainers; the aggregator never trains.
RUN npm ci --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/@tensorflow/tfjs-node \
 && npm cache clean --force
COPY . .
# Fail the build, not the first start, if the native addon or the TypeScript runtime is broken.
RUN node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()" \
 && node apps/cli/bin/rlsa.mjs aggregator --help > /dev/null

# --- runtime: no compiler, no dev dependencies, not root.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
RUN groupadd --system --gid 10001 rlsa \
 && useradd --system --uid 10001 --gid rlsa --home-dir /var/lib/rlsa --shell /usr/sbin/nologin rlsa \
 && mkdir -p /var/lib/rlsa /etc/rlsa \
 && chown rlsa:rlsa /var/lib/rlsa && chmod 0700 /var/lib/rlsa
WORKDIR /app
COPY --from=build /app /app
ENV RLSA_DATA_DIR=/var/lib/rlsa \
    RLSA_HOST=0.0.0.0 \
    RLSA_PORT=50051 \
    RLSA_HEALTH_PORT=8081 \
    RLSA_METRICS_PORT=9464 \
    RLSA_LOG_LEVEL=info
USER 10001:10001
VOLUME ["/var/lib/rlsa"]
# 50051 gRPC (TLS/mTLS), 8081 gRPC health only (plaintext, for probes), 9464 Prometheus metrics (HTTP).
EXPOSE 50051 8081 9464
HEALTHCHECK --interval=30s --timeout=6s --start-period=60s --retries=3 \
  CMD ["node", "/app/deploy/docker/healthcheck.mjs", "aggregator"]
# SIGTERM drains in-flight commits; node runs as PID 1 and handles it itself.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/apps/cli/bin/rlsa.mjs"]
CMD ["aggregator"]
