"""A flood of strangers: 500 updates from 200 users not on ALLOWED_USERS, then an allowed user's
/start. How long until the allowed user is answered?

`cronpilot run` runs as its own process (production settings: the message rate limiter, PTB's
concurrent updates) against the fake Bot API with Telegram's flood limits, served from this
script with a fake model. The strangers' updates and then the allowed user's /start are queued
at once, as a burst arrives at a bot in a single getUpdates; the clock runs from then until the
fake receives the answer to /start. Target: ≤ 2 s. Also printed: how many strangers had been told
by then, and by the end of the run, and whether Telegram answered 429.

    uv run python benchmarks/stranger_flood.py [--strangers 200] [--updates 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from common import cronpilot_run

from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram, RateLimits

ALICE = 4242
TARGET_SECONDS = 2.0
FIRST_STRANGER = 900_000_000
# How long after the flood the refusals still being sent are counted.
SETTLE_SECONDS = 15.0


async def main(strangers: int, updates: int, rounds: int) -> int:
    async with (
        FakeTelegram(rate_limits=RateLimits()) as fake,
        FakeLLM() as llm,
        cronpilot_run(fake, llm, ALICE, {}),
    ):
        alice = fake.user(ALICE, "Alice")
        dm = fake.private_chat(alice)
        await fake.send_text(dm, alice, "/start")  # the first /start of a process is slower
        await fake.wait_for_message(dm, timeout=30)
        answers = []
        for round_ in range(rounds):
            people = [
                fake.user(FIRST_STRANGER + round_ * strangers + n, f"Stranger {n}")
                for n in range(strangers)
            ]
            chats = [fake.private_chat(person) for person in people]
            since = fake.checkpoint()
            limited = fake.rate_limited_count
            started = time.perf_counter()
            for n in range(updates):
                await fake.send_text(chats[n % strangers], people[n % strangers], "let me in")
            await fake.send_text(dm, alice, "/start")
            await fake.wait_for_message(dm, since=since, timeout=60)
            answered = time.perf_counter() - started
            told_then = sum(len(fake.messages(chat)) > 0 for chat in chats)
            await asyncio.sleep(SETTLE_SECONDS)
            told = sum(len(fake.messages(chat)) > 0 for chat in chats)
            more = [chat for chat in chats if len(fake.messages(chat)) > 1]
            print(
                f"round {round_ + 1}: /start answered after {answered:.2f} s; strangers told "
                f"by then {told_then}, {SETTLE_SECONDS:g} s later {told} of {strangers} "
                f"(told twice: {len(more)}); 429 answers: {fake.rate_limited_count - limited}"
            )
            answers.append(answered)
        print(
            f"/start during a flood of {updates} updates from {strangers} strangers: median "
            f"{statistics.median(answers):.2f} s, worst {max(answers):.2f} s "
            f"(target ≤ {TARGET_SECONDS:g} s)"
        )
        return 0 if max(answers) <= TARGET_SECONDS else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strangers", type=int, default=200)
    parser.add_argument("--updates", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.strangers, arguments.updates, arguments.rounds)))
