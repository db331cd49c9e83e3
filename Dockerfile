# The lineage API (stateless): run as many replicas as the load needs in
# front of one Neo4j (or a Neo4j cluster). See docker-compose.yml.
# The explorer page and GraphiQL are built with npm in a stage of their own.
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./
RUN npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LINEAGE_API_WEB_DIST=/app/web/dist

WORKDIR /app
COPY pyproject.toml README.md ./
COPY lineage ./lineage
COPY api ./api
COPY schema ./schema
COPY --from=web /web/dist ./web/dist
RUN pip install . && useradd --create-home --uid 10001 lineage
USER lineage

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"
CMD ["lineage", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
