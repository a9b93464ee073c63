# Both services' image, built from the repository root (one lockfile for the workspace):
#   docker build --build-arg SERVICE=agent .        (or SERVICE=mcp-server)
# NODE_IMAGE: a Node 22 or later image (default node:22-slim, which follows Node 22's newest release;
# node:24-slim and node:26-slim work too; scripts/base-image.sh provides a local stand-in offline).
ARG NODE_IMAGE=node:22-slim

FROM ${NODE_IMAGE} AS build
# The two stages that are not shipped carry this label: the legacy builder leaves them as untagged
# images (the build stage ~700 MB with node_modules), and the container suite removes its own.
LABEL cloud-run-mcp-agent.stage=build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
COPY mcp-server/package.json mcp-server/
COPY agent/package.json agent/
# Install scripts are not needed: esbuild's binary comes as an optional dependency.
RUN npm ci --ignore-scripts --no-audit --no-fund
# Declared after the install, so that both services share its layer.
ARG SERVICE
RUN test "$SERVICE" = agent || test "$SERVICE" = mcp-server \
 || { echo "SERVICE: set --build-arg SERVICE=agent or SERVICE=mcp-server" >&2; exit 1; }
COPY scripts/bundle.mjs scripts/
COPY common common
COPY ${SERVICE}/src ${SERVICE}/src
RUN cd ${SERVICE} && node ../scripts/bundle.mjs .

# Runtime: the one bundled file, no node_modules, no npm cache, a non-root user.
# `docker build --target bundle` stops here (make bench measures this stage against the final one).
FROM ${NODE_IMAGE} AS bundle
ARG SERVICE
# A container is reached from outside it (Cloud Run, compose): listen on every interface; a
# bare `node` run keeps the loopback default.
ENV NODE_ENV=production PORT=8080 HOST=0.0.0.0
WORKDIR /app
# One name for either service: CMD's exec form expands no build argument.
COPY --from=build /src/${SERVICE}/dist/${SERVICE}.mjs /app/main.mjs
USER node
EXPOSE 8080
CMD ["node", "/app/main.mjs"]

# V8's compiled code for the bundle (Node's compile cache), made by loading the bundle once with this
# very node binary, as the user that runs it (Node keys the cache by version, V8 flags and uid).
# Node writes its files 0600: made readable by all and writable by none (COPY may give them to root).
FROM bundle AS compile-cache
LABEL cloud-run-mcp-agent.stage=compile-cache
RUN NODE_COMPILE_CACHE=/tmp/compile-cache PORT=0 HOST=127.0.0.1 \
      node --input-type=module -e "await import('/app/main.mjs'); process.exit(0)" >/dev/null \
 && node -e "const fs = require('node:fs'), d = '/tmp/compile-cache'; for (const f of fs.readdirSync(d, { recursive: true })) fs.chmodSync(d + '/' + f, fs.statSync(d + '/' + f).isDirectory() ? 0o555 : 0o444); fs.chmodSync(d, 0o555)"

# Shipped: the bundle and its compile cache, so a cold start deserializes the bundle's compiled
# top-level code instead of parsing it (functions first called later are compiled then, as without a
# cache). Read-only at run time: when the cache does not match (another Node, another uid, or V8
# flags such as NODE_OPTIONS=--max-old-space-size), Node cannot write it, says so only under
# NODE_DEBUG_NATIVE=COMPILE_CACHE, and compiles as if there were no cache.
FROM bundle
# Outside /app, which holds only the bundle.
COPY --from=compile-cache /tmp/compile-cache /var/cache/node-compile
ENV NODE_COMPILE_CACHE=/var/cache/node-compile
