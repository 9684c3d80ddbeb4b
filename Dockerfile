# pixserve on CPU: one image for web nodes and workers (the command picks the role).
#   docker build -t pixserve .
#   docker run -p 8000:8000 pixserve                                   # web + 1 worker, SQLite
#   docker run pixserve pixserve worker --concurrency 2                # a worker only
# See docs/deploy.md for PostgreSQL + S3 and GPU workers.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIXSERVE_DATA_DIR=/data

# OpenCV's headless wheel still wants these two shared libraries.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libglib2.0-0 libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
# The serving path only: no torch, no test tools; psycopg is a runtime dependency, boto3 the
# s3 extra.
RUN pip install ".[s3]" \
    && useradd --create-home --uid 10001 pixserve \
    && mkdir -p /data && chown pixserve /data

USER pixserve
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)" || exit 1
CMD ["pixserve", "serve", "--host", "0.0.0.0", "--port", "8000"]
