"""Hostile requests against a running bot: how much does each one raise the process's memory?

`cronpilot run` runs as its own process with HTTP_PORT and a webhook (WEBHOOK_URL on that port),
against the fake Bot API and a fake model served from this script. Each request below is sent
on a raw socket (tests/web/raw_http.py), which keeps sending the announced body until the server
answers; before it, the process's peak RSS is reset (/proc/PID/clear_refs), after it the peak
(VmHWM) is read: the rise is the peak minus the RSS before. Target: no request raises it by more
than 32 MB, with or without credentials, and the 400,000-key body is refused (413 or 422).

Then forged addresses: the bot trusts 127.0.0.1 as its reverse proxy (FORWARDED_ALLOW_IPS), and
a client connecting from 127.0.0.2 is someone else. That client's wrong tokens, each naming
another X-Forwarded-For, must not escape the failed sign-in limit (ten, then 429); guesses sent
through the proxy by 198.51.100.7 but claiming 203.0.113.9 must lock out 198.51.100.7, and
203.0.113.9 must still sign in.

    uv run python benchmarks/hostile_http.py
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from common import cronpilot_run

from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram
from tests.web.raw_http import pieces, request

ALICE = 4242
MB = 1024 * 1024
TARGET_MB = 32.0
WEBHOOK_SECRET = "benchmark-webhook-secret"
PROXY, CLIENT = "127.0.0.1", "127.0.0.2"


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    headers: Callable[[str], dict[str, str]]
    length: int
    chunked: bool
    body: Callable[[], Iterable[bytes]]


def many_keys(count: int) -> bytes:
    return b'{"chat_id": 1, ' + b", ".join(b'"k%d": 0' % i for i in range(count)) + b"}"


def cases(keys_body: bytes) -> list[Case]:
    within = many_keys(10_000)  # as many keys as fit the API's 128 KB
    deep = b'{"chat_id": 1, "text": ' + b"[" * 60_000 + b"]" * 60_000 + b"}"

    def nobody(_token: str) -> dict[str, str]:
        return {"Content-Type": "application/json"}

    def bearer(token: str) -> dict[str, str]:
        return {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def webhook(_token: str) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
        }

    def big() -> Iterable[bytes]:
        return pieces(64 * MB)

    def keys() -> Iterable[bytes]:
        return [keys_body]

    def keys_within() -> Iterable[bytes]:
        return [within]

    def deep_within() -> Iterable[bytes]:
        return [deep]

    found = []
    for who, headers in (("no credentials", nobody), ("a valid token", bearer)):
        found += [
            Case(f"64 MB, Content-Length, {who}", "/api/v1/tasks", headers, 64 * MB, False, big),
            Case(f"64 MB, chunked, {who}", "/api/v1/tasks", headers, 64 * MB, True, big),
            Case(f"400,000 keys, {who}", "/api/v1/tasks", headers, len(keys_body), False, keys),
        ]
    return [
        *found,
        Case(
            "10,000 keys in 128 KB, a valid token",
            "/api/v1/tasks",
            bearer,
            len(within),
            False,
            keys_within,
        ),
        Case(
            "60,000 levels in 120 KB, a valid token",
            "/api/v1/tasks",
            bearer,
            len(deep),
            False,
            deep_within,
        ),
        Case("64 MB to the webhook, with its secret", "/telegram", webhook, 64 * MB, False, big),
        Case("64 MB chunked to the webhook, its secret", "/telegram", webhook, 64 * MB, True, big),
        Case("64 MB to /healthz", "/healthz", nobody, 64 * MB, False, big),
    ]


def rss_kb(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    assert found is not None, field
    return int(found.group(1))


def reset_peak(pid: int) -> None:
    """Start VmHWM afresh from the current RSS (Linux: clear_refs 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


async def main(rounds: int) -> int:
    settings = {
        "WEBHOOK_URL": "http://127.0.0.1:{port}/telegram",
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "FORWARDED_ALLOW_IPS": PROXY,
    }
    async with (
        FakeTelegram() as fake,
        FakeLLM() as llm,
        cronpilot_run(fake, llm, ALICE, settings) as bot,
    ):
        alice = fake.user(ALICE, "Alice")
        dm = fake.private_chat(alice)
        await fake.send_text(dm, alice, "/token")
        answer = await fake.wait_for_message(dm, lambda m: "cp_" in m.text, timeout=30)
        found = re.search(r"\b(cp_[A-Za-z0-9_-]{40,})\b", answer.text)
        assert found is not None, answer.text
        token = found.group(1)
        keys_body = many_keys(400_000)
        print(
            f"cronpilot run, pid {bot.pid}, HTTP on {bot.port}; RSS "
            f"{rss_kb(bot.pid, 'VmRSS') / 1024:.0f} MB; the key body is "
            f"{len(keys_body) / MB:.1f} MB"
        )
        print(f"{'request':<48} {'status':>6} {'sent MB':>8} {'rise MB':>8} {'seconds':>8}")
        worst = 0.0
        for _ in range(rounds):
            for case in cases(keys_body):
                before = rss_kb(bot.pid, "VmRSS")
                reset_peak(bot.pid)
                started = time.perf_counter()
                try:
                    sent_back = await request(
                        bot.port,
                        "POST",
                        case.path,
                        headers=case.headers(token),
                        length=case.length,
                        chunked=case.chunked,
                        body=case.body(),
                        timeout=120,
                    )
                    status, sent = str(sent_back.status), sent_back.sent
                except ConnectionError as error:
                    status, sent = f"reset ({error})", 0
                seconds = time.perf_counter() - started
                await asyncio.sleep(0.3)  # let whatever the request started finish
                rise = (rss_kb(bot.pid, "VmHWM") - before) / 1024
                worst = max(worst, rise)
                print(f"{case.name:<48} {status:>6} {sent / MB:>8.1f} {rise:>8.1f} {seconds:>8.2f}")
        print(f"largest rise: {worst:.1f} MB (target ≤ {TARGET_MB:g} MB)")
        forged_ok = await forged_addresses(bot.port, token)
        return 0 if worst <= TARGET_MB and forged_ok else 1


async def sign_in(port: int, token: str, source: str, forwarded: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    answer = await request(port, "GET", "/api/v1/chats", headers=headers, source=source)
    return answer.status


async def forged_addresses(port: int, token: str) -> bool:
    direct = [
        await sign_in(port, f"guess-{n}", CLIENT, f"192.0.2.{n}, 198.51.100.{n}") for n in range(30)
    ]
    print(
        f"30 wrong tokens from {CLIENT}, each forging another X-Forwarded-For: "
        f"{direct.count(401)} × 401, then {direct.count(429)} × 429"
    )
    named = await sign_in(port, token, PROXY, "203.0.113.9")
    print(f"then 203.0.113.9 (which those named) through the proxy, a good token: {named}")
    proxied = [
        await sign_in(port, f"guess-{n}", PROXY, "203.0.113.9, 198.51.100.7") for n in range(12)
    ]
    print(
        f"12 wrong tokens through the proxy from 198.51.100.7, claiming 203.0.113.9: "
        f"{proxied.count(401)} × 401, then {proxied.count(429)} × 429"
    )
    after = await sign_in(port, token, PROXY, "203.0.113.9")
    locked = await sign_in(port, token, PROXY, "198.51.100.7")
    print(f"then 203.0.113.9 with a good token: {after}; 198.51.100.7 with a good token: {locked}")
    return (
        direct == [401] * 10 + [429] * 20
        and named == 200
        and proxied == [401] * 10 + [429] * 2
        and after == 200
        and locked == 429
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="send every request this often")
    sys.exit(asyncio.run(main(parser.parse_args().rounds)))
