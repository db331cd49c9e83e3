# The lineage API (stateless): run as many replicas as the load needs in
# front of one Neo4j (or a Neo4j cluster). See docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY lineage ./lineage
COPY api ./api
COPY schema ./schema
RUN pip install . && useradd --create-home --uid 10001 lineage
USER lineage

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"
CMD ["lineage", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
