"""The deployment files say what docs/operations.md promises (Docker cannot run here, so the
files themselves are checked; CI also lints the Dockerfile with hadolint)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_dockerfile_installs_from_the_lock_and_runs_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, flags=re.MULTILINE)) == 2  # multi-stage
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11\.\d+-slim-bookworm", text, re.MULTILINE)
    assert "uv sync --locked --no-dev --no-editable" in text
    uv_in_ci = re.search(r"^UV_VERSION=(\S+)$", (ROOT / ".ci/run").read_text(), re.MULTILINE)
    assert uv_in_ci is not None
    assert f"uv=={uv_in_ci.group(1)}" in text  # the same uv as CI reads the same lock
    user = re.search(r"^USER (\S+)$", text, re.MULTILINE)
    assert user is not None
    assert not user.group(1).startswith(("root", "0"))
    assert "HEALTHCHECK" in text
    assert "/healthz" in text
    assert text.rstrip().endswith('CMD ["cronpilot", "run"]')


def test_compose_runs_the_bot_after_a_healthy_postgres() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    db, bot = compose["services"]["db"], compose["services"]["bot"]
    assert db["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in db["volumes"])
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["env_file"] == ".env"
    assert "postgresql+asyncpg://" in bot["environment"]["DATABASE_URL"]
    assert bot["build"] == "."


def test_dockerignore_keeps_secrets_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored
    assert "*.db" in ignored


def test_searxng_is_an_optional_compose_profile_that_answers_json() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    searxng = compose["services"]["searxng"]
    assert searxng["profiles"] == ["search"]  # not started by a plain `docker compose up`
    assert "profiles" not in compose["services"]["bot"]
    [mount] = searxng["volumes"]
    source = mount.split(":")[0]
    settings = yaml.safe_load((ROOT / source).read_text())
    assert "json" in settings["search"]["formats"]  # SearXNG refuses format=json otherwise
    operations = (ROOT / "docs/operations.md").read_text()
    assert "docker compose --profile search up -d" in operations
    assert "SEARCH_API_BASE=http://searxng:8080" in operations
