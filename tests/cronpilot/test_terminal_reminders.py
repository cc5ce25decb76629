"""`cronpilot chat` and `cronpilot check` with no model (LLM_MODEL=none, no key at all): a
reminder bot whose terminal shows the conversation only. Real processes, a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from tests.cronpilot.process import run_cronpilot


def environment(tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cronpilot.db'}",
        "LLM_MODEL": "none",
        "DEFAULT_TIMEZONE": "Europe/Berlin",
    }


async def test_a_reminder_runs_in_the_terminal_without_any_model_or_key(tmp_path: Path) -> None:
    conversation = "\n".join(
        [
            "remind me to drink water every 2 hours",
            "/ai",
            "yes",
            "/run 1",
            "every day at 9 summarize the news",
            "/skip 1",
            "/task 1",
            "/skip 1 undo",
            "/quit",
        ]
    )
    log = tmp_path / "chat.log"
    chat = await run_cronpilot(
        tmp_path,
        environment(tmp_path),
        "chat",
        "--log-file",
        str(log),
        stdin=conversation + "\n",
    )
    assert chat.status == 0, chat.output
    said = chat.stdout
    assert "no model is set up (LLM_MODEL is empty or none)" in said
    assert "Kind:      reminder: posted as written" in said
    assert "No AI model is set up on this bot" in said  # /ai: refused, the card stays
    assert "✅ Scheduled — task #1" in said
    assert "⏰ Reminder: Drink water  (task #1)" in said
    assert "Missing credentials" not in said
    assert "The next run of task #1" in said
    assert "is skipped" in said
    assert "after all" in said
    # The conversation only: no log line in it, and none on stderr either.
    for marker in ("[info", "[warning", "run.finished", "scheduler."):
        assert marker not in said
        assert marker not in chat.stderr
    # The log went to the file asked for.
    assert "run.finished" in log.read_text(encoding="utf-8")


async def test_check_says_no_model_means_reminders_only(tmp_path: Path) -> None:
    checked = await run_cronpilot(tmp_path, environment(tmp_path), "check")
    [model] = [line for line in checked.lines if line.startswith(("✓ llm", "✗ llm", "! llm"))]
    assert model.startswith("✓ llm: no model: reminders only")
    assert not any("parser model" in line for line in checked.lines)
