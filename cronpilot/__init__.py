"""cronpilot: a self-hosted Telegram bot that runs LLM tasks on a schedule.

This package holds what every layer shares: settings, the error root, the command line.
"""

__version__ = "0.1.0"
