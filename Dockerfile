# The lineage API (stateless): run as many replicas as the load needs in
# front of one Neo4j (or a Neo4j cluster). See docker-compose.yml.
#
# Built from the same wheel a user installs: the web stage builds the
# explorer and GraphiQL (npm, Vite), the build stage builds the wheel (which
# carries those pages and the schema), and the image installs that wheel
# alone, with no source tree beside it.
FROM node:20-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./
RUN npm run build

FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY lineage ./lineage
COPY api ./api
COPY schema ./schema
# The package's links (lineage/_schema, api/static) resolve inside /src.
COPY --from=web /src/web/dist ./web/dist
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /dist

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=wheel /dist /dist
RUN pip install /dist/remix_lineage-*.whl && rm -rf /dist \
    && useradd --create-home --uid 10001 lineage
USER lineage
WORKDIR /home/lineage

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"
CMD ["lineage", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
