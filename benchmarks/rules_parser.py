"""How long the rules parser takes per phrase: p50, p95, p99 and max over many repetitions.

Run with `uv run python benchmarks/rules_parser.py [repetitions]`. The phrases are the corpora
of tests/scheduler/parsing/ (phrases.jsonl and phrases_families.jsonl); the target is p50 <= 1 ms.
It also prints how the rules do on the requests written elsewhere: phrases_held_out.jsonl and
phrases_outside.jsonl (schedule phrases from public sources): how many of those with a clear
schedule are understood (target: at least 90%) and how many are read wrongly (target: none).
Prints figures only.
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
from tests.scheduler.parsing.test_rules_outside import OUTSIDE
from tests.scheduler.parsing.test_rules_properties import HELD_OUT, score_held_out


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
        f"p95 {_percentile(timings, 0.95) * 1000:.3f} ms  "
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
    for label, path in (("held-out", HELD_OUT), ("outside", OUTSIDE)):
        score = score_held_out(path)
        share = score.understood / score.clear
        print(
            f"{label:<9} {score.clear:>4} requests with a clear schedule: understood "
            f"{score.understood} ({share:.1%}, target >= 90%), wrong {len(score.wrong)} "
            f"(target 0), declined {len(score.declined)}"
        )
        for text in score.wrong:
            print(f"          wrong: {text!r}")


if __name__ == "__main__":
    main()
