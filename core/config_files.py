"""What the settings that name a file of their own (MCP_CONFIG, DESTINATIONS_CONFIG) share:
reading the file, and the one-line error that names the setting, the file and the problem."""

from __future__ import annotations

from pathlib import Path

from core.errors import ConfigurationError


def config_error(setting: str, path: str, problem: str) -> ConfigurationError:
    return ConfigurationError(f"{setting}: {path}: {problem}")


def read_config_file(setting: str, path: str) -> str:
    """The file's text (UTF-8; `~` expanded); a ConfigurationError saying why it cannot be read."""
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except FileNotFoundError:
        raise config_error(setting, path, "no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise config_error(setting, path, f"cannot be read ({type(error).__name__})") from None
