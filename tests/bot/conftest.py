"""Fixtures the bot's end-to-end tests share: the targets' webhook, Alice and Bob, their group
and their channel (tests/bot/targets_harness.py). A module's own fixture of the same name wins."""

from tests.bot.targets_harness import alice, bob, group, news, receiver

__all__ = ["alice", "bob", "group", "news", "receiver"]
