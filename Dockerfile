# cronpilot's image: the builder installs the locked dependencies and cronpilot itself (not
# editable: the migrations ship inside the installed package) into /app/.venv; the runtime stage
# gets that virtual environment alone and runs it as an unprivileged user.
#
# Build: docker build -t cronpilot .
# Run:   docker run --env-file .env -p 9100:9100 -v cronpilot-data:/data cronpilot
#
# Pinned to an exact Python patch release and Debian release. To pin the bytes as well, append
# the digest that `docker buildx imagetools inspect python:3.11.16-slim-bookworm` prints
# (…-bookworm@sha256:…); it could not be looked up where this file was written.
ARG PYTHON_IMAGE=python:3.11.16-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

# The same uv as CI (.ci/run), so the lock is read the same way.
RUN pip install --no-cache-dir uv==0.13.9

WORKDIR /src

# Dependencies first, in a layer of their own that only a change to the lock rebuilds.
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-install-project

COPY core ./core
COPY storage ./storage
COPY scheduler ./scheduler
COPY application ./application
COPY bot ./bot
COPY web ./web
COPY terminal ./terminal
COPY cronpilot ./cronpilot
COPY migrations ./migrations
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-editable


FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="cronpilot" \
      org.opencontainers.image.description="A self-hosted Telegram bot that runs LLM tasks on a schedule." \
      org.opencontainers.image.licenses="MIT"

# A fixed, high uid that belongs to no user on the host; /data is its working folder (the
# default SQLite file lands there), so mount a volume on it when not using PostgreSQL.
RUN groupadd --system --gid 10001 cronpilot \
    && useradd --system --no-log-init --uid 10001 --gid cronpilot \
        --home-dir /data --create-home --shell /usr/sbin/nologin cronpilot

COPY --from=builder /app/.venv /app/.venv

ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LOG_FORMAT=json \
    HTTP_PORT=8080 \
    HTTP_HOST=0.0.0.0

WORKDIR /data
USER 10001:10001

# 8080 (HTTP_PORT): /healthz, /metrics, the webhook (WEBHOOK_URL set), /api/v1 and /app/.
EXPOSE 8080

# slim has no curl: Python's urllib asks /healthz, and a 503 raises, which fails the check.
# With HTTP_PORT emptied there is nothing to ask, and the check passes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; p = os.environ.get('HTTP_PORT'); p and r.urlopen(f'http://127.0.0.1:{p}/healthz', timeout=4)"]

CMD ["cronpilot", "run"]
