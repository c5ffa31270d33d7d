# Humanic production image: migrate, then serve UI + API + webhooks on one port. The frontend is built here,
# with bun, by deploy/build.sh (the steps tests/test_image_build.py runs on the host); the image that runs has
# no Node, no bun, and downloads nothing when a container starts. It runs as the unprivileged user `humanic`
# (uid 10001), which may write only to /app/data (a volume) and /tmp. `compose.yaml` runs it with PostgreSQL,
# Redis and standalone workers (README "Deploying").
#
#   docker build -t humanic .                          (--build-arg PORT=8080 to serve on another port)
#   docker run -p 3000:3000 -v humanic-data:/app/data humanic
#   docker run ... humanic python -m humanic_app worker (a standalone background worker)
#
# Environment (the same list as README's settings table):
#   PORT                 port to serve on (default 3000, the PORT build argument). It is written into the built
#                        pages: over plain http, browse at that port; behind an https proxy any address works
#   HUMANIC_DATA_DIR     where the SQLite database lives (default /app/data: mount a volume there)
#   DATABASE_URL         postgresql+psycopg://user:pass@host:5432/humanic (default: SQLite in $HUMANIC_DATA_DIR)
#   REFLEX_REDIS_URL     redis://host:6379/0 — with it, Reflex runs several workers that share state
#   HUMANIC_PUBLIC_URL   the https:// address PostHog and recipients reach this app at
#   RESEND_API_KEY       send through your Resend account (wins over a key pasted in Settings → Sending); without
#                        either, mail stays in the local outbox
#   RESEND_API_URL       point the Resend SDK elsewhere (default: Resend's; the tests use a local fake)
#   RESEND_WEBHOOK_SECRET  your Resend webhook's signing secret (default: the one Humanic registered, if any)
#   HUMANIC_SECRET_KEY   encrypts secrets stored in the database (Settings → Sending); required on PostgreSQL to
#                        store a key there, the same on every machine (SQLite: generated into HUMANIC_DATA_DIR)
#   HUMANIC_DNS_NAMESERVERS  comma-separated ip or ip:port the DMARC check asks (default: the system's resolvers)
#   HUMANIC_SESSION_TTL_HOURS  how long a sign-in lasts (default 336)
#   HUMANIC_METRICS_TOKEN  a bearer token that may read /metrics (API keys always can)
#   HUMANIC_WORKERS      embedded (default): each web process runs its own background worker; external: none,
#                        run this image with `python -m humanic_app worker` as separate services instead
#   HUMANIC_TRUSTED_PROXIES  your reverse proxies' addresses/CIDRs (comma-separated): only their X-Forwarded-For
#                        names the client whose sign-in attempts are counted
#   HUMANIC_DB_TIMEOUT_SECONDS  how long the webhook and /healthz wait for the database before answering 503
#                        (default 1.5; README "While the database hangs")
#   HUMANIC_LOG_FORMAT   text (default) or json: one JSON object per log line

# Build: Node and npm (for bun and the frontend build) from Debian 13, whose Node is recent enough for Vite.
FROM python:3.11-slim-trixie AS build
# Debian's security updates replace package versions in its archive, so pinned versions would stop building;
# what the image runs is pinned elsewhere (requirements.txt, bun's version in the Makefile).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# The Python packages first, in a layer of their own: a change to the code does not reinstall them.
COPY requirements.txt ./
COPY deploy/build.sh deploy/
RUN deploy/build.sh python /app
COPY . .
ARG PORT=3000
RUN deploy/build.sh app /app \
    && PORT="${PORT}" deploy/build.sh frontend /app

# Run: the built directory only, owned by root and read-only to the user the app runs as.
FROM python:3.11-slim-trixie
ARG PORT=3000
# A fixed numeric id: the volume's owner, and what runAsNonRoot-style checks can verify without /etc/passwd.
RUN groupadd --system --gid 10001 humanic \
    && useradd --system --no-log-init --uid 10001 --gid humanic --home-dir /app/data \
        --shell /usr/sbin/nologin humanic \
    && install -d -o humanic -g humanic -m 0750 /app/data
COPY --from=build /app /app
WORKDIR /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    REFLEX_CHECK_LATEST_VERSION=0 \
    HUMANIC_DATA_DIR=/app/data \
    PORT=${PORT}
USER 10001:10001
VOLUME ["/app/data"]
EXPOSE ${PORT}
# The start period covers the migrations a new version applies before it serves.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 CMD ["python", "deploy/healthcheck.py"]
STOPSIGNAL SIGTERM
CMD ["deploy/start.sh"]
