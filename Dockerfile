# safety-gateway container image. Build: docker build -t safety-gateway .
# Runbook (sizing, compose, Kubernetes, alerts): deploy/README.md. test/deploy/dockerfile.test.ts
# checks this file against the config schema, the CLI and .dockerignore.
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: compile TypeScript to dist/ ---------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# .npmrc skips onnxruntime-node's CUDA download (its CPU binaries ship in the npm package).
# --ignore-scripts: the root `prepare` would build before the sources are here; the only other
# install scripts are onnxruntime-node's (a no-op with that .npmrc) and protobufjs' version notice.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY gateway ./gateway
COPY guards ./guards
COPY engine ./engine
COPY policies ./policies
COPY test/bench ./test/bench
COPY test/support ./test/support
RUN npm run build

# --- production dependencies only ---------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime ------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# Listening beyond loopback needs API keys (SAFETY_KEYS_FILE or SAFETY_API_KEYS): without them the
# gateway refuses to start, by design. The port is the config default (8080; PORT changes it, and the
# health check follows PORT). The audit directory is a volume in compose and Kubernetes.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    SAFETY_AUDIT_DIR=/var/lib/safety-gateway/audit
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY policies/default.yaml policies/policy.schema.json ./policies/
COPY policies/examples ./policies/examples
# The bundled guard models (ONNX + tokenizer + model cards): the default policy runs offline.
COPY guards/models ./guards/models
# uid 1000 is the image's `node` user; numeric, so Kubernetes' runAsNonRoot can verify it. The audit
# directory is created here owned by it, so a fresh named volume mounted there inherits the owner.
RUN mkdir -p /var/lib/safety-gateway/audit && chown -R 1000:1000 /var/lib/safety-gateway
USER 1000:1000
EXPOSE 8080
# Ready = policy and guards loaded, engine reachable, audit log writable. Node's fetch: the slim
# image has no curl. Exec form throughout: no shell between Docker and the process.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and gets SIGTERM itself; `serve` then stops accepting, drains in-flight
# requests and streams (shutdown_grace_s, 30 s by default) and exits. Give it a longer stop timeout.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/bin/safety-gateway.js"]
CMD ["serve"]
