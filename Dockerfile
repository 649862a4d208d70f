# Roundtable's image: the web application, the Celery worker and beat all run from it
# (compose.yaml chooses the command). Build with `docker build -t roundtable .`.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    ROUNDTABLE_HOME=/app

WORKDIR /app

# Badges and place cards: WeasyPrint needs Pango, and Noto covers the six languages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-core fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

# The package is installed into site-packages; its sources are not needed afterwards.
COPY pyproject.toml README.md ./
COPY src/ src/
COPY workers/ workers/
RUN pip install . && rm -rf src workers

# The files Roundtable reads beside the package (roundtable.paths looks for them in ROUNDTABLE_HOME).
COPY alembic.ini ./
COPY migrations/ migrations/
COPY templates/ templates/
COPY examples/ examples/

# A user without privileges; var/ is where the embedded defaults (SQLite, file outbox,
# generated secret key) write when no database, mail server or secret is configured.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home roundtable \
    && mkdir -p var \
    && chown roundtable:roundtable var
USER 10001:10001

EXPOSE 8000

# python:3.11-slim has no curl; urlopen raises (exit 1) on a refused connection or an HTTP error.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["roundtable", "serve", "--host", "0.0.0.0", "--port", "8000"]
