"""`cronpilot chat`: the bot's conversation in a terminal, over the same application layer.

Type a request and see the card as text; `yes` confirms it, `no` cancels it, `/remind` and `/ai`
switch it between a reminder and an AI task, `/model NAME` picks its model (as the card's button
does in Telegram), any other text replaces it (Edit). Commands as in
Telegram: /tasks, /task N, /run N (runs it now and shows the result), /pause N, /resume N,
/delete N, /history N, /skip N (and /skip N undo), /help, /quit. The terminal shows the
conversation only: `cronpilot chat` sends its log to a file (--log-file) or nowhere. The
conversation is one local private chat (id 0) in the configured database, and the operator at
the terminal is the actor in it (`Actor.operator`): the same use cases as the bot's, the same
table of rights.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TextIO

from application import UseCases
from application.errors import (
    DraftNotFoundError,
    NoModelError,
    QuotaExceededError,
    TaskStateError,
    UnknownModelError,
)
from application.permissions import Actor
from core.errors import NotUnderstoodError, ScheduleError, WordedError
from scheduler.engine import Engine, TaskBusyError, TaskNotFoundError
from storage.records import Chat, TaskMode
from terminal import text

LOCAL_CHAT_ID = 0
# Who acts here: the operator, in the local chat.
ACTOR = Actor.operator(chat_id=LOCAL_CHAT_ID)
YES = frozenset({"yes", "y", "confirm", "/confirm"})
NO = frozenset({"no", "n", "cancel", "/cancel"})
QUIT = frozenset({"/quit", "/exit", "quit", "exit"})
TASK_COMMANDS = frozenset({"/task", "/run", "/pause", "/resume", "/delete", "/history", "/skip"})
# While a card waits: what its task will do.
SWITCHES = {"/remind": TaskMode.REMINDER, "/ai": TaskMode.AI}

HELP = """Write what to do and when, for example:
  every weekday at 9am summarize the top Hacker News stories
  remind me to drink water every 2 hours
I show what I understood; yes confirms it, no cancels it, any other text replaces it;
/remind or /ai makes it a reminder (posted as written, no model) or an AI task;
/model NAME runs it on another model (one of MODELS, or default).
  /tasks            this chat's tasks
  /task N           show task N
  /run N            run task N now and show its result
  /pause N, /resume N, /delete N
  /history N        the last runs of task N
  /skip N           skip the next run of task N (/skip N undo brings it back)
  /help, /quit
Scheduled runs happen while `cronpilot run` is running; here, /run N runs a task at once."""

# This chat runs tasks only when asked: the scheduler lives in `cronpilot run`, which delivers
# through Telegram, and a second scheduler here would also run (and print) every Telegram
# chat's tasks.
SCHEDULE_NOTE = (
    "Note: this terminal does not run tasks on their schedule (that is `cronpilot run`, with "
    "Telegram); /run {number} runs it now."
)

NO_MODEL_NOTE = (
    "Note: no model is set up (LLM_MODEL is empty or none): I read requests with my rules and "
    "post reminders; a task that needs a model is refused."
)

PARSER_OFF_NOTE = (
    "Note: PARSER_MODEL=off, so requests are read by the rules parser only. Running a task "
    "still needs a model: LLM_MODEL with its key (LLM_API_KEY or the provider's own variable)."
)


class TerminalChat:
    def __init__(
        self,
        use_cases: UseCases,
        engine: Engine,
        *,
        source: TextIO,
        out: TextIO,
        parser_off: bool,
        has_model: bool = True,
    ) -> None:
        self._use_cases = use_cases
        self._engine = engine
        self._source = source
        self._out = out
        self._parser_off = parser_off
        self._has_model = has_model
        self._draft_id: str | None = None

    def say(self, message: str) -> None:
        print(message, file=self._out, flush=True)

    async def run(self) -> int:
        chat = await self._use_cases.chats.see(LOCAL_CHAT_ID, type="private", title="terminal")
        self.say("cronpilot chat: talk to the bot here, without Telegram. /help shows how.")
        if not self._has_model:
            self.say(NO_MODEL_NOTE)
        elif self._parser_off:
            self.say(PARSER_OFF_NOTE)
        while True:
            self._out.write("you> ")
            self._out.flush()
            line = await asyncio.to_thread(self._source.readline)
            if not line:  # end of input
                self.say("")
                break
            words = line.strip()
            if not words:
                continue
            if words.lower() in QUIT:
                break
            await self._handle(chat, words)
            chat = await self._use_cases.chats.see(LOCAL_CHAT_ID, type="private", title="terminal")
        self.say("bye")
        return 0

    async def _handle(self, chat: Chat, words: str) -> None:
        lowered = words.lower()
        if self._draft_id is not None and lowered in YES:
            await self._confirm()
        elif lowered in NO:
            await self._cancel()
        elif lowered in YES:
            self.say("There is no request waiting for a yes. Write one first.")
        elif lowered in SWITCHES:
            await self._switch(SWITCHES[lowered])
        elif lowered.split()[0] == "/model":
            await self._choose_model(words.split()[1:])
        elif lowered in ("/help", "/start", "help"):
            self.say(HELP)
        elif lowered == "/tasks":
            await self._list(chat)
        elif lowered.split()[0] in TASK_COMMANDS:
            await self._task_command(chat, words)
        elif words.startswith("/"):
            self.say(f"I don't know the command {words.split()[0]}. /help lists what I can do.")
        else:
            await self._request(chat, words)

    async def _request(self, chat: Chat, words: str) -> None:
        drafts = self._use_cases.drafts
        try:
            card = await drafts.create(ACTOR, chat.id, words)
        except NotUnderstoodError as error:
            self.say(f"🤔 {_sentence(str(error))}")
            return
        except ScheduleError as error:
            self.say(f"❌ That schedule can't be used: {_sentence(str(error), capital=False)}")
            return
        except QuotaExceededError as error:
            self.say(f"❌ {_sentence(text.problem(error))}")
            return
        except NoModelError as error:
            self.say(f"🤖 {_sentence(str(error))}")
            return
        if self._draft_id is not None:
            # A new request while a card waits is its correction: one live card at a time.
            with contextlib.suppress(DraftNotFoundError):
                await drafts.cancel(ACTOR, self._draft_id)
        self._draft_id = card.draft_id
        self.say(text.card(card, self._use_cases.chats.zone_of(chat)))

    async def _confirm(self) -> None:
        assert self._draft_id is not None
        draft_id, self._draft_id = self._draft_id, None
        try:
            task = await self._use_cases.drafts.confirm(ACTOR, draft_id)
        except (DraftNotFoundError, ScheduleError, QuotaExceededError) as error:
            self.say(f"❌ {_sentence(text.problem(error))}")
            return
        next_run = text.when(task.next_run_at, task.timezone)
        self.say(f"✅ Scheduled — task #{task.id}. Next run {next_run}.")
        self.say(SCHEDULE_NOTE.format(number=task.id))

    async def _switch(self, mode: TaskMode) -> None:
        if self._draft_id is None:
            self.say("There is no request waiting. Write one first.")
            return
        drafts = self._use_cases.drafts
        try:
            card = await drafts.get(ACTOR, self._draft_id)
            if card.mode is not mode:
                card = await drafts.switch_mode(ACTOR, self._draft_id)
        except (DraftNotFoundError, NoModelError) as error:
            self.say(f"❌ {_sentence(text.problem(error))}")
            return
        chat = await self._use_cases.chats.see(LOCAL_CHAT_ID, type="private", title="terminal")
        self.say(text.card(card, self._use_cases.chats.zone_of(chat)))

    async def _choose_model(self, words: list[str]) -> None:
        """/model NAME while a card waits: its task runs on that model."""
        if self._draft_id is None:
            self.say("There is no request waiting. Write one first.")
            return
        names = ", ".join(self._use_cases.setup.models.names) or "none"
        if len(words) != 1:
            self.say(f"Usage: /model NAME, where NAME is one of MODELS ({names}) or default.")
            return
        try:
            card = await self._use_cases.drafts.set_model(ACTOR, self._draft_id, words[0])
        except (DraftNotFoundError, UnknownModelError) as error:
            self.say(f"❌ {_sentence(text.problem(error))}")
            return
        chat = await self._use_cases.chats.see(LOCAL_CHAT_ID, type="private", title="terminal")
        self.say(text.card(card, self._use_cases.chats.zone_of(chat)))

    async def _cancel(self) -> None:
        if self._draft_id is None:
            self.say("There is nothing to cancel.")
            return
        draft_id, self._draft_id = self._draft_id, None
        with contextlib.suppress(DraftNotFoundError):
            await self._use_cases.drafts.cancel(ACTOR, draft_id)
        self.say("✖️ Cancelled.")

    async def _list(self, chat: Chat) -> None:
        page = await self._use_cases.tasks.list(ACTOR, chat.id)
        if not page.tasks:
            self.say("You have no tasks here yet. Write one, or /help for examples.")
            return
        zone = self._use_cases.chats.zone_of(chat)
        self.say("\n".join(text.task_line(task, zone) for task in page.tasks))

    async def _task_command(self, chat: Chat, words: str) -> None:
        command, _, rest = words.partition(" ")
        command = command.lower()
        number = (rest.split() or [""])[0].lstrip("#")
        if not (number.isascii() and number.isdigit() and len(number) <= 18):
            self.say(f"Usage: {command} N, where N is the task's number from /tasks.")
            return
        task_id = int(number)
        zone = self._use_cases.chats.zone_of(chat)
        try:
            if command == "/task":
                task = await self._use_cases.tasks.get(ACTOR, task_id)
                setup = self._use_cases.setup
                estimate = await setup.estimate(ACTOR, task_id)
                self.say(
                    text.task_detail(task, zone, model=setup.models.of(task), estimate=estimate)
                )
            elif command == "/run":
                await self._use_cases.runs.run_now(ACTOR, task_id)
                await self._engine.wait_idle()
            elif command == "/pause":
                await self._use_cases.tasks.pause(ACTOR, task_id)
                self.say(f"⏸ Task #{task_id} is paused. /resume {task_id} to restart it.")
            elif command == "/resume":
                task = await self._use_cases.tasks.resume(ACTOR, task_id)
                self.say(
                    f"▶️ Task #{task_id} is active again; next run "
                    f"{text.when(task.next_run_at, zone)}."
                )
            elif command == "/skip":
                self.say(await self._skip(task_id, rest.split()[1:], zone))
            elif command == "/delete":
                task = await self._use_cases.tasks.delete(ACTOR, task_id)
                self.say(f"🗑 Deleted task #{task_id} {task.name}.")
            else:
                found = await self._use_cases.runs.history(ACTOR, task_id)
                lines = [text.run_line(run, zone) for run in found]
                self.say("\n".join(lines) if lines else f"Task #{task_id} has not run yet.")
        except (TaskNotFoundError, TaskStateError, TaskBusyError, WordedError) as error:
            self.say(f"❌ {_sentence(text.problem(error))}")

    async def _skip(self, task_id: int, rest: list[str], zone: str) -> str:
        shapes = self._use_cases.shapes
        if rest and rest != ["undo"]:
            return "Usage: /skip N, or /skip N undo."
        if rest:
            state = await shapes.undo_skip(ACTOR, task_id)
            return f"↩️ Task #{task_id} runs at {text.when(state.task.next_run_at, zone)} after all."
        state = await shapes.skip_next(ACTOR, task_id)
        return (
            f"⏭ The next run of task #{task_id} ({text.when(state.skipped_for, zone)}) is "
            f"skipped. /skip {task_id} undo brings it back."
        )


def _sentence(reason: str, *, capital: bool = True) -> str:
    reason = " ".join(reason.split())
    if capital and reason:
        reason = reason[0].upper() + reason[1:]
    return reason if reason.endswith((".", "!", "?", "…")) else reason + "."
