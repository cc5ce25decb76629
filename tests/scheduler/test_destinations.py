"""DESTINATIONS_CONFIG and Apprise: the file is read and checked at start (one line when it is
wrong), its URLs are secrets, each destination is one `cronpilot check` line, and a result goes
out through Apprise (a JSON webhook on a local port here)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr

from core.errors import ConfigurationError
from core.logs import Redactor
from core.reasons import DestinationHttp
from core.settings import Settings, load_settings
from scheduler.destinations import (
    DestinationError,
    Destinations,
    UnknownDestinationError,
    check_destinations,
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.lower() in Settings.model_fields:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _config(tmp_path: Path, text: str, name: str = "destinations.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_yaml_and_json_files_are_read(tmp_path: Path) -> None:
    yaml_file = _config(tmp_path, "team-slack: slack://T1/B2/secrettoken123\nhook: json://h/x\n")
    settings = load_settings(_env_file=None, destinations_config=yaml_file)
    assert sorted(settings.destinations) == ["hook", "team-slack"]
    json_file = _config(tmp_path, json.dumps({"hook": "json://h/x"}), "d.json")
    assert list(load_settings(_env_file=None, destinations_config=json_file).destinations) == [
        "hook"
    ]
    # The URLs are secrets: never in the settings' repr, always redacted from logs.
    assert "secrettoken123" not in repr(settings)
    line = Redactor(settings.secret_values()).clean("posting to slack://T1/B2/secrettoken123")
    assert "secrettoken123" not in line


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("hook: [unclosed", "not valid YAML or JSON (line 1, column 16)"),
        ("- a list\n", "the file must map each destination's name to its Apprise URL"),
        ("Team Slack: json://h/x\n", "'Team Slack' is not a destination name"),
        ("hook: not a url\n", "hook: its value must be an Apprise URL such as json://host/path"),
    ],
)
def test_an_invalid_file_fails_at_start_with_one_line(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = _config(tmp_path, text)
    with pytest.raises(ConfigurationError) as raised:
        load_settings(_env_file=None, destinations_config=path)
    message = str(raised.value)
    assert len(message.splitlines()) == 1
    assert message.startswith(f"DESTINATIONS_CONFIG: {path}: {problem}")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"DESTINATIONS_CONFIG: .*nowhere.yaml: no such"):
        load_settings(_env_file=None, destinations_config=str(tmp_path / "nowhere.yaml"))


def test_each_destination_is_one_check_line_without_its_address() -> None:
    urls = {
        "hook": SecretStr("json://127.0.0.1:9/path"),
        "bad": SecretStr("nosuchservice://secret-part"),
    }
    bad, hook = check_destinations(urls)
    assert (hook.name, hook.ok, hook.detail) == ("destination hook", True, "json:// via Apprise")
    assert (bad.name, bad.ok) == ("destination bad", False)
    assert "secret-part" not in bad.detail
    with pytest.raises(ConfigurationError, match="DESTINATIONS_CONFIG: bad: Apprise cannot use"):
        Destinations(urls)


class Receiver:
    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received: list[dict[str, Any]] = []

    async def post(self, request: web.Request) -> web.Response:
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.received.append(json.loads(await request.text()))
        return web.Response(status=status, text="{}")


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, int]]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/hook", found.post)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield found, runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def test_a_json_webhook_receives_the_message_and_a_refusal_says_why(
    receiver: tuple[Receiver, int],
) -> None:
    found, port = receiver
    destinations = Destinations({"hook": SecretStr(f"json://127.0.0.1:{port}/hook")})
    assert destinations.names == ("hook",)
    await destinations.send("hook", "News", "the digest")
    [payload] = found.received
    assert (payload["title"], payload["message"]) == ("News", "the digest")

    found.statuses = [500]
    with pytest.raises(DestinationError) as refused:
        await destinations.send("hook", "News", "again")
    assert refused.value.why == DestinationHttp(status=500)
    assert refused.value.reason == "the service answered HTTP 500"
    assert str(port) not in str(refused.value)
    with pytest.raises(UnknownDestinationError):
        await destinations.send("elsewhere", "News", "x")
