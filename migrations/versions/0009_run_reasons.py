"""Why a run or a follow-up ended is a code and its facts (`reason_code`, `reason_facts`), no
longer an English sentence in `error`.

The sentences every earlier version wrote are read once, here, into their code and facts
(`SENTENCES`, a frozen copy: later rewordings in core/reasons.py do not change what this
revision reads). Text that is none of them (a provider's or a tool's words, a change the model
proposed that could not be used) is kept whole as an `other` reason, or `change_unusable` for
a follow-up's refused proposal. The first versions added the provider's own words after an LLM
failure's sentence ("…: <detail>"): they are kept as the fact `detail`, which no door shows,
so the downgrade gives every row back its text.

Revision ID: 0009_run_reasons
Revises: 0008_followup_parts
Create Date: 2026-11-29
"""

import re
from collections.abc import Iterator, Sequence
from string import Formatter
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_run_reasons"
down_revision: str | None = "0008_followup_parts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACTS = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
)
BATCH = 1000
TABLES = ("runs", "followups")

# The failures of the model's provider; the first versions added ": <the provider's words>".
PROVIDER_SENTENCES = (
    ("model_timeout", "the model did not answer within {seconds} s"),
    ("unreadable_answer", "the model's answer could not be read"),
    ("no_choices", "the model sent an answer with no choices"),
    ("bad_api_base", "the LLM API base is not a valid http(s) URL"),
    ("no_connection", "could not connect to the LLM provider"),
    ("client_failed", "the LLM client failed ({kind})"),
    ("rate_limited", "the LLM provider is rate limiting"),
    ("no_key", "no usable API key for model {model}"),
    ("call_failed", "the LLM call for model {model} failed"),
    ("key_rejected", "the LLM provider rejected the API key (HTTP {status})"),
    ("rate_limited_http", "the LLM provider is rate limiting (HTTP {status})"),
    ("provider_failed", "the LLM provider failed (HTTP {status})"),
    ("too_long", "the conversation is too long for model {model}"),
    ("content_policy", "the LLM provider's content policy refused it"),
    ("access_refused", "the LLM provider refused access (HTTP {status})"),
    ("model_not_found", "model {model} or its API was not found (HTTP {status})"),
    ("request_refused", "the LLM provider refused the request (HTTP {status})"),
)
SENTENCES = (
    *PROVIDER_SENTENCES,
    ("internal_error", "internal error (see the bot's log)"),
    ("run_timeout", "no answer within {seconds} s"),
    ("empty_answer", "the model gave an empty answer"),
    ("endless_tools", "the model kept calling tools after {steps} steps"),
    ("budget_reached", "monthly budget reached"),
    ("previous_run_going", "the previous run was still going"),
    ("bot_was_down", "the bot was not running at this time"),
    (
        "bot_was_down_longer",
        "the bot was not running at this time; later missed occurrences were not recorded one "
        "by one",
    ),
    ("folded_into_catch_up", "folded into the catch-up run that followed"),
    ("bot_stopped", "the bot stopped while this run was going"),
    ("bot_shut_down", "the bot was shut down before this run finished"),
    ("answer_interrupted", "the bot stopped before it could answer"),
)
# What a follow-up recorded when the change the model proposed could not be used.
CHANGE_SENTENCES = (
    "the proposal would change nothing",
    "the proposal could not be read ({kind})",
    "the new schedule '{schedule}' could not be read: {problem}",
    "the new schedule {schedule} could not be read: {error}",
)
# The type of each fact, and the text it was written as.
NUMBERS = {"seconds": float, "steps": int, "count": int, "status": int}
PATTERNS = {"seconds": r"[0-9][0-9.e+]*", "steps": r"\d+", "count": r"\d+", "status": r"\d+"}


def _pattern(sentence: str, *, detail: bool = False) -> re.Pattern[str]:
    parts = []
    for literal, name, _spec, _conversion in Formatter().parse(sentence):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(f"(?P<{name}>{PATTERNS.get(name, '.+?')})")
    if detail:
        parts.append(r"(?:: (?P<detail>.+))?")
    return re.compile("".join(parts), re.DOTALL)


READERS = [
    (code, _pattern(sentence, detail=(code, sentence) in PROVIDER_SENTENCES))
    for code, sentence in SENTENCES
]
CHANGE_READERS = [_pattern(sentence) for sentence in CHANGE_SENTENCES]


def reason_of(text: str, *, followup: bool) -> tuple[str, dict[str, Any]]:
    """The code and facts of a sentence an earlier version recorded."""
    for code, pattern in READERS:
        found = pattern.fullmatch(text)
        if found is not None:
            facts = {
                name: NUMBERS.get(name, str)(value)
                for name, value in found.groupdict().items()
                if value is not None
            }
            return code, facts
    if followup and any(pattern.fullmatch(text) for pattern in CHANGE_READERS):
        return "change_unusable", {"problem": text}
    return "other", {"text": text}


def sentence_of(code: str, facts: Any) -> str:
    """The sentence an earlier version would have recorded for this code and facts."""
    facts = facts if isinstance(facts, dict) else {}
    # Text kept whole: a follow-up recorded the problem with a proposed change alone.
    for kept in ("text", "problem"):
        if code in ("other", "change_unusable") and isinstance(facts.get(kept), str):
            return str(facts[kept])
    sentence = dict(SENTENCES).get(code)
    if sentence is None:
        return code
    values = {
        name: f"{value:g}" if isinstance(value, float) else str(value)
        for name, value in facts.items()
    }
    try:
        text = sentence.format(**values)
    except (KeyError, IndexError):
        return code
    return f"{text}: {values['detail']}" if "detail" in values else text


def _rows(table: sa.TableClause, column: sa.ColumnClause[Any]) -> Iterator[list[Any]]:
    """The rows where `column` is set, a batch at a time, in id order."""
    bind = op.get_bind()
    last = 0
    while True:
        batch = bind.execute(
            sa.select(table)
            .where(column.is_not(None), table.c.id > last)
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        yield list(batch)
        last = batch[-1].id


def _table(name: str) -> sa.TableClause:
    return sa.table(
        name,
        sa.column("id", sa.BigInteger),
        sa.column("error", sa.Text),
        sa.column("reason_code", sa.String),
        sa.column("reason_facts", FACTS),
    )


def upgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column("reason_code", sa.String(length=32), nullable=True))
            batch.add_column(sa.Column("reason_facts", FACTS, nullable=True))
        table = _table(name)
        write = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("row_id"))
            .values(
                reason_code=sa.bindparam("code"),
                reason_facts=sa.bindparam("facts", type_=FACTS),
            )
        )
        for rows in _rows(table, table.c.error):
            changes = []
            for row in rows:
                code, facts = reason_of(row.error, followup=name == "followups")
                changes.append({"row_id": row.id, "code": code, "facts": facts})
            op.get_bind().execute(write, changes)
        with op.batch_alter_table(name) as batch:
            batch.drop_column("error")


def downgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column("error", sa.Text(), nullable=True))
        table = _table(name)
        write = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("row_id"))
            .values(error=sa.bindparam("text"))
        )
        for rows in _rows(table, table.c.reason_code):
            changes = [
                {"row_id": row.id, "text": sentence_of(row.reason_code, row.reason_facts)}
                for row in rows
            ]
            op.get_bind().execute(write, changes)
        with op.batch_alter_table(name) as batch:
            batch.drop_column("reason_facts")
            batch.drop_column("reason_code")
