"""Fixtures the HTTP API's tests share with the bot's: the targets' webhook
(tests/bot/targets_harness.py)."""

from tests.bot.targets_harness import receiver

__all__ = ["receiver"]
