"""The settings that shape a task's runs: the models a chat may choose from (MODELS), which one
takes over when another fails for a reason that heals (MODEL_FALLBACKS), and the waits before
a failed run tries again (RUN_RETRY_DELAYS). Each is read from one line of text here, so a
mistake fails at start with the setting's name and what is wrong."""

from __future__ import annotations

import re
from collections.abc import Mapping

# A model's name in MODELS: what people type after /model, short enough for a button's data.
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,23}")
_DELAY = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h)?")
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
DEFAULT_RETRY_DELAYS = (300.0, 900.0, 1800.0)
MAX_RETRY_DELAY_SECONDS = 86_400.0
MAX_RETRIES = 10


def parse_models(text: str) -> dict[str, str]:
    """`fast=openai/gpt-4o-mini,smart=anthropic/claude-sonnet-4-5` → {name: LiteLLM model}."""
    models: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, equals, model = (piece.strip() for piece in item.partition("="))
        name = name.lower()
        if not equals or not model:
            raise ValueError(f"'{item}' is not name=provider/model")
        if not _NAME.fullmatch(name):
            raise ValueError(
                f"'{name}' is not a model name (a letter, then up to 23 letters, digits, _ or -)"
            )
        if name in models:
            raise ValueError(f"'{name}' is named twice")
        if any(character.isspace() for character in model):
            raise ValueError(f"'{model}' is not a model (it holds a space)")
        models[name] = model
    return models


def parse_fallbacks(text: str) -> dict[str, tuple[str, ...]]:
    """`smart>fast,fast>smart` → {model: the models that take over, in order}; a chain
    `smart>fast>local` means fast first, then local."""
    fallbacks: dict[str, list[str]] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        names = [name.strip().lower() for name in item.split(">")]
        if len(names) < 2 or not all(names):
            raise ValueError(f"'{item}' is not model>fallback")
        if len(set(names)) != len(names):
            raise ValueError(f"'{item}' names a model twice")
        chain = fallbacks.setdefault(names[0], [])
        chain.extend(name for name in names[1:] if name not in chain)
    return {name: tuple(chain) for name, chain in fallbacks.items()}


def check_fallbacks(fallbacks: Mapping[str, tuple[str, ...]], models: Mapping[str, str]) -> None:
    """Every model a fallback names must be one of MODELS."""
    unknown = sorted(
        {name for source, chain in fallbacks.items() for name in (source, *chain)} - set(models)
    )
    if unknown:
        raise ValueError(
            f"{', '.join(unknown)}: not named in MODELS"
            + (f" (which names {', '.join(models)})" if models else " (which is empty)")
        )


def parse_retry_delays(text: str) -> tuple[float, ...]:
    """`5m,15m,30m` → seconds; `off` (or nothing) → no retries. Units: s, m, h (s if none)."""
    if text.strip().lower() in ("", "off", "none", "0"):
        return ()
    delays = []
    for item in (part.strip().lower() for part in text.split(",")):
        match = _DELAY.fullmatch(item)
        if match is None:
            raise ValueError(f"'{item}' is not a delay such as 30s, 5m or 1h")
        seconds = float(match[1]) * _UNIT_SECONDS[match[2]]
        if not 1 <= seconds <= MAX_RETRY_DELAY_SECONDS:
            raise ValueError(f"'{item}' is not between 1 second and 24 hours")
        delays.append(seconds)
    if len(delays) > MAX_RETRIES:
        raise ValueError(f"at most {MAX_RETRIES} delays, not {len(delays)}")
    return tuple(delays)
