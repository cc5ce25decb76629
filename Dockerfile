# Minimal image for now: installs cronpilot from the lock and runs the bot.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    LOG_FORMAT=json

WORKDIR /app
RUN pip install --no-cache-dir uv==0.13.9
COPY pyproject.toml uv.lock README.md ./
COPY cronpilot ./cronpilot
COPY bot ./bot
COPY scheduler ./scheduler
COPY storage ./storage
COPY migrations ./migrations
RUN uv sync --locked --no-dev --no-editable

CMD ["/app/.venv/bin/cronpilot", "run"]
