# syntax=docker/dockerfile:1
# The gateway's image; the same image runs the sandbox alone (see deploy/README-section.md).
# Node 26 is the active LTS; the code also runs on Node 20 and later.

# Build stage: compile TypeScript with the full toolchain.
FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY schema ./schema
COPY resolvers ./resolvers
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies and the compiled output only, as the unprivileged user.
# No secret is set here: every setting comes from the environment at run time.
FROM node:26-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Dependencies' install scripts are not needed at run time; skipping them keeps them out of the image.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Files stay owned by root: the `node` user (uid 1000) can read the app but not change it.
USER node
EXPOSE 4000
# /healthz answers while the process serves HTTP; readiness (/readyz) is the orchestrator's business.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form, no npm wrapper: node receives SIGTERM itself and drains. Run with `docker run --init`
# (compose: `init: true`) so a minimal init forwards signals and reaps zombies.
CMD ["node", "dist/src/main.js"]
