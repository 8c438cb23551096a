# syntax=docker/dockerfile:1
# Herald's container image (docs/production.md): build, pack the `herald` package, then install
# that tarball alone, with its production dependencies only, into a slim image that runs as `node`.
#   docker build -t herald .
#   docker run --rm -p 8080:8080 -e HERALD_JWT_SECRET="$(openssl rand -hex 32)" herald
# test/integration/container-recipe.test.ts reads this file and runs its steps without a container
# engine (the same commands, ENV, CMD and HEALTHCHECK): keep each instruction on one line.
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
RUN npm run build
RUN mkdir -p /pack && npm pack --workspace herald --pack-destination /pack && mv /pack/herald-*.tgz /pack/herald.tgz

FROM node:${NODE_VERSION}-bookworm-slim
WORKDIR /opt/herald
COPY --from=build /pack/herald.tgz /tmp/herald.tgz
RUN --mount=type=cache,target=/root/.npm npm install --omit=dev --no-audit --no-fund --no-save --prefix /opt/herald /tmp/herald.tgz && rm /tmp/herald.tgz
# One worker per container (docs/production.md): scale with replicas and a shared bus.
ENV NODE_ENV=production HERALD_PORT=8080 HERALD_WORKERS=1 HERALD_LOG_FORMAT=json
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HERALD_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Herald drains and stops on SIGTERM (HERALD_SHUTDOWN_TIMEOUT, 5s), within Docker's 10 s grace.
STOPSIGNAL SIGTERM
CMD ["node", "/opt/herald/node_modules/herald/bin/herald.js"]
