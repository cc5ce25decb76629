"""The operator's destinations outside Telegram (DESTINATIONS_CONFIG): each name stands for an
Apprise URL, and a result goes there through Apprise's async notify (email, Slack, Discord,
Matrix, ntfy, Teams, a JSON webhook …). The URLs hold the services' secrets: they are never
written anywhere; a failure is told by the destination's name and what went wrong (an HTTP
status, a lost connection), never by its address."""

from __future__ import annotations

import re
from collections.abc import Mapping

import apprise
from pydantic import SecretStr

from core.checks import CheckResult
from core.errors import ConfigurationError, CronpilotError
from core.logs import get_logger
from core.reasons import (
    DestinationHttp,
    DestinationRefused,
    DestinationUnknown,
    DestinationUnreachable,
    Reason,
)

log = get_logger(__name__)

# What of Apprise's own log lines is safe to repeat: an HTTP status.
_STATUS = re.compile(r"\b(?:HTTP|error|status)\D{0,12}([1-5]\d\d)\b", re.IGNORECASE)
_CONNECTION = re.compile(r"connection|timed? ?out|resolve|refused|unreachable", re.IGNORECASE)


class DestinationError(CronpilotError):
    """A destination did not take a message; `why` says why without its address (`reason` is
    its English)."""

    def __init__(self, name: str, why: Reason) -> None:
        super().__init__(f"{name}: {why}")
        self.name = name
        self.why = why
        self.reason = why.message()


class UnknownDestinationError(DestinationError):
    def __init__(self, name: str) -> None:
        super().__init__(name, DestinationUnknown())


class Destinations:
    """The configured destinations by name; `send` posts one message to one of them."""

    def __init__(self, urls: Mapping[str, SecretStr]) -> None:
        """Raise ConfigurationError (one line, naming the destination) for a URL Apprise
        cannot use."""
        self._urls = dict(urls)
        for result in check_destinations(urls):
            if not result.ok:
                raise ConfigurationError(f"DESTINATIONS_CONFIG: {result.detail}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._urls))

    def __contains__(self, name: object) -> bool:
        return name in self._urls

    async def send(self, name: str, title: str, body: str) -> None:
        """Post `body` under `title`; raise DestinationError saying why it was not taken."""
        url = self._urls.get(name)
        if url is None:
            raise UnknownDestinationError(name)
        notifier = apprise.Apprise()
        notifier.add(url.get_secret_value())
        result = await notifier.async_notify(body=body, title=title)
        if result.status == apprise.AppriseResultStatus.SUCCESS:
            return
        reason = _reason(" ".join(entry.message for entry in result.logs()))
        log.warning("destination.refused", destination=name, reason=reason.code, error=str(reason))
        raise DestinationError(name, reason)


def check_destinations(urls: Mapping[str, SecretStr]) -> list[CheckResult]:
    """`cronpilot check`: one line per destination, by its name and kind (never its address):
    ✓ when Apprise can use its URL, ✗ saying why not."""
    results = []
    for name, url in sorted(urls.items()):
        scheme = url.get_secret_value().partition("://")[0]
        if apprise.Apprise().add(url.get_secret_value()):
            results.append(CheckResult(f"destination {name}", True, f"{scheme}:// via Apprise"))
        else:
            results.append(
                CheckResult(
                    f"destination {name}",
                    False,
                    f"{name}: Apprise cannot use its URL ({scheme}://, or a part it needs is "
                    "missing)",
                    "fix the URL in DESTINATIONS_CONFIG (see Apprise's list of services)",
                )
            )
    return results


def _reason(logged: str) -> Reason:
    status = _STATUS.search(logged)
    if status is not None:
        return DestinationHttp(status=int(status.group(1)))
    if _CONNECTION.search(logged):
        return DestinationUnreachable()
    return DestinationRefused()
