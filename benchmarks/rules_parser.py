"""How long the rules parser takes per phrase: p50, p99 and max over many repetitions.

Run with `uv run python benchmarks/rules_parser.py [repetitions]`. The phrases are the corpus
of tests/scheduler/parsing/ (phrases.jsonl); the target is p50 <= 1 ms. It also prints how many
of the held-out requests (phrases_held_out.jsonl, never tuned on) are understood correctly,
read wrongly (target: none) and declined (target: at least 95% correct). Prints figures only.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.errors import NotUnderstoodError
from scheduler.parsing.rules import parse_rules
from tests.scheduler.parsing.test_rules import NEGATIVE_PHRASES, NOW, POSITIVE_CASES, TZ
from tests.scheduler.parsing.test_rules_properties import score_held_out


def _time_once(text: str) -> float:
    start = time.perf_counter()
    with contextlib.suppress(NotUnderstoodError):
        parse_rules(text, now=NOW, timezone=TZ)
    return time.perf_counter() - start


def _percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


def _report(label: str, phrases: list[str], repetitions: int) -> None:
    timings: list[float] = []
    slowest = ("", 0.0)
    for _ in range(repetitions):
        for text in phrases:
            elapsed = _time_once(text)
            timings.append(elapsed)
            if elapsed > slowest[1]:
                slowest = (text, elapsed)
    timings.sort()
    print(
        f"{label:<9} {len(phrases):>4} phrases x {repetitions} runs: "
        f"p50 {_percentile(timings, 0.50) * 1000:.3f} ms  "
        f"p99 {_percentile(timings, 0.99) * 1000:.3f} ms  "
        f"max {timings[-1] * 1000:.3f} ms  "
        f"mean {statistics.fmean(timings) * 1000:.3f} ms"
    )
    print(f"          slowest: {slowest[0][:70]!r}")


def main() -> None:
    repetitions = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    positives = [case.text for case in POSITIVE_CASES]
    # Warm up: compiled patterns and the zone tables are built on first use.
    for text in positives + NEGATIVE_PHRASES:
        _time_once(text)
    _report("positive", positives, repetitions)
    _report("negative", NEGATIVE_PHRASES, repetitions)
    _report("all", positives + NEGATIVE_PHRASES, repetitions)
    long_texts = ["every day at 9 " + "lorem ipsum dolor " * 220, "x" * 4_000, "time " * 800]
    _report("4k chars", long_texts, max(1, repetitions // 10))
    right, wrong, declined, wrongly = score_held_out()
    total = right + wrong + declined
    print(
        f"held-out  {total:>4} requests: understood correctly {right} ({right / total:.1%}, "
        f"target >= 95%), wrong {wrong} (target 0), declined {declined}"
    )
    for text in wrongly:
        print(f"          wrong: {text!r}")


if __name__ == "__main__":
    main()
