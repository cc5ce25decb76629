"""The Telegram side of cronpilot: the only package that imports `telegram`."""
