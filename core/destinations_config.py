"""The DESTINATIONS_CONFIG file: the operator's destinations outside Telegram, each a name people
pick and the Apprise URL it stands for (`{"team-slack": "slack://…", "hook": "json://host/path"}`),
in YAML or JSON (JSON is YAML too). Users name destinations and never see or type the URLs,
which hold the services' secrets: they stay out of logs, the model, /task and the API."""

from __future__ import annotations

import re
from typing import Any

from pydantic import SecretStr

from core.config_files import config_error, read_config_file
from core.errors import ConfigurationError

# How a destination is named where people type it (/target 3 here team-slack).
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
# scheme://… : Apprise's URLs all have one.
URL = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$", re.IGNORECASE)


def load_destinations(path: str) -> dict[str, SecretStr]:
    """Read and check the file; raise ConfigurationError with one line saying what is wrong
    (naming the destination, never its URL)."""
    # PyYAML is imported only when there is a file to read, not by every start.
    import yaml

    text = read_config_file("DESTINATIONS_CONFIG", path)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise _invalid(path, f"not valid YAML or JSON{where}") from None
    return parse_destinations(document, path)


def parse_destinations(document: Any, path: str) -> dict[str, SecretStr]:
    if not isinstance(document, dict) or not document:
        raise _invalid(path, "the file must map each destination's name to its Apprise URL")
    found: dict[str, SecretStr] = {}
    for name, url in document.items():
        if not isinstance(name, str) or not NAME.match(name):
            raise _invalid(
                path,
                f"{str(name)[:40]!r} is not a destination name: use lowercase letters, digits, "
                "-, _ or ., at most 40",
            )
        if not isinstance(url, str) or not URL.match(url.strip()):
            raise _invalid(
                path, f"{name}: its value must be an Apprise URL such as json://host/path"
            )
        found[name] = SecretStr(url.strip())
    return found


def _invalid(path: str, problem: str) -> ConfigurationError:
    return config_error("DESTINATIONS_CONFIG", path, problem)
