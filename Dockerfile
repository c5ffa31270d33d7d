# Humanic production image: migrate, then serve UI + API + webhooks on one port.
#
# Environment:
#   PORT                 port to serve on (default 3000)
#   DATABASE_URL         postgresql+psycopg://user:pass@host:5432/humanic (default: SQLite in $HUMANIC_DATA_DIR)
#   REFLEX_REDIS_URL     redis://host:6379/0 — with it, Reflex runs several workers that share state
#   HUMANIC_DATA_DIR     where the SQLite database lives (default /app/data; mount a volume there)
#   HUMANIC_PUBLIC_URL   the https:// address PostHog and recipients reach this app at
#   RESEND_API_KEY       send through your Resend account (wins over a key pasted in Settings → Sending); without
#                        either, mail stays in the local outbox
#   RESEND_WEBHOOK_SECRET  your Resend webhook's signing secret (default: the one Humanic registered, if any)
#   HUMANIC_SECRET_KEY   encrypts secrets stored in the database (Settings → Sending); required on PostgreSQL to
#                        store a key there, the same on every machine (SQLite: generated into HUMANIC_DATA_DIR)
#   HUMANIC_SESSION_TTL_HOURS  how long a sign-in lasts (default 336)
#   HUMANIC_TRUSTED_PROXIES  your reverse proxies' addresses/CIDRs (comma-separated): only their X-Forwarded-For
#                        names the client whose sign-in attempts are counted
#   HUMANIC_WORKERS      embedded (default): each web process runs its own background worker; external: none,
#                        run this image with `python -m humanic_app worker` as separate services instead
#   HUMANIC_DB_TIMEOUT_SECONDS  how long the webhook and /healthz wait for the database before answering 503
#                        (default 1.5; README "While the database hangs")
FROM python:3.11-slim

RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm unzip curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
ENV PYTHONUNBUFFERED=1 \
    REFLEX_USE_SYSTEM_BUN=1 \
    REFLEX_DIR=/app/.reflex \
    REFLEX_CHECK_LATEST_VERSION=0 \
    PATH=/app/.tools/node_modules/.bin:$PATH \
    HUMANIC_DATA_DIR=/app/data \
    PORT=3000

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt && npm install --prefix .tools --no-fund --no-audit bun@1.4.5

COPY . .
VOLUME ["/app/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s CMD curl -fsS http://127.0.0.1:${PORT}/healthz || exit 1
STOPSIGNAL SIGTERM
CMD ["sh", "-c", "python -m humanic_app migrate && exec reflex run --env prod --frontend-port ${PORT} --backend-port ${PORT}"]
