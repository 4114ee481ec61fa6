# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the full toolchain.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY schema ./schema
COPY resolvers ./resolvers
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies and the compiled output only, as the unprivileged user.
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Run with `docker run --init` so signals reach node and zombies are reaped.
CMD ["node", "dist/src/main.js"]
