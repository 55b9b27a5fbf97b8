# syntax=docker/dockerfile:1.7
# An RLSA trainer node (one party). Build from the repository root:
#   docker build -f deploy/docker/trainer.Dockerfile -t rlsa-trainer:0.1.0 .
# Settings come from RLSA_* environment variables (one per `rlsa trainer` flag), a mounted --config
# file, the party's mounted client certificate and token; data sets are mounted read-only (e.g. at /data).
ARG NODE_IMAGE=node:20-slim

# --- manifests: only package.json files and the lock, so that `npm ci` below is cached until they change.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json ! -path './apps/cli/bin/*' -delete \
 && find . -type d -empty -delete

# --- build: production dependencies (better-sqlite3 compiles here; tfjs-node fetches libtensorflow if it can,
#     and is left out by npm if it cannot: the node then trains on the wasm backend).
FROM ${NODE_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN npm install -g npm@11 && npm --version
WORKDIR /app
COPY --from=manifests /src/ ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force
COPY . .
RUN node apps/cli/bin/rlsa.mjs trainer --help > /dev/null

# --- runtime: no compiler, no dev dependencies, not root.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
RUN groupadd --system --gid 10001 rlsa \
 && useradd --system --uid 10001 --gid rlsa --home-dir /home/rlsa --create-home --shell /usr/sbin/nologin rlsa
WORKDIR /app
COPY --from=build /app /app
ENV RLSA_BACKEND=auto \
    RLSA_LOG_LEVEL=info
USER 10001:10001
HEALTHCHECK --interval=60s --timeout=6s --start-period=30s --retries=3 \
  CMD ["node", "/app/deploy/docker/healthcheck.mjs", "trainer"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/apps/cli/bin/rlsa.mjs"]
CMD ["trainer"]
