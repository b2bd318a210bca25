# syntax=docker/dockerfile:1
# Build stage: dev dependencies, TypeScript compile.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
# The image runs the gateway and the tenants CLI only: the WeChat sandbox and the dev stack
# (src/sandbox, src/devstack) are compiled here but never copied into the runtime stage. A lint
# rule keeps production code from importing them, so nothing in the image can need them.
RUN npm run build && rm -rf dist/src/sandbox dist/src/devstack

# Runtime stage: production dependencies and compiled code only, as a non-root user.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
# The tenants CLI: `docker compose exec gateway node dist/scripts/tenants.js list`
COPY --from=build /app/dist/scripts/tenants.js /app/dist/scripts/tenants.js.map ./dist/scripts/
COPY tenants ./tenants
# The push spool (SPOOL_DIR): written by the gateway, mounted as a volume by docker-compose.
RUN mkdir -p /app/spool && chown node:node /app/spool
ENV SPOOL_DIR=/app/spool
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "require('http').get('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
# The same command as `npm start` (its flags: src/devstack/node-flags.ts); node runs as PID 1 directly
# so SIGTERM reaches the graceful shutdown.
CMD ["node", "--min-semi-space-size=64", "--max-semi-space-size=64", "dist/src/main.js"]
