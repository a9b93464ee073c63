# The floor for make bench's container figures: a bare node:http server on the same base image as
# the services, so the difference is our code. Build context: bench/ (the root's .dockerignore drops it).
ARG NODE_IMAGE=node:22-slim
FROM ${NODE_IMAGE}
ENV NODE_ENV=production PORT=8080
WORKDIR /app
COPY floor.mjs /app/floor.mjs
USER node
CMD ["node", "/app/floor.mjs"]
