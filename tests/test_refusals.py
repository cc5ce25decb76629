"""End to end, through every door: a group member (no admin), a stranger (not on ALLOWED_USERS)
and an admin of another group are refused every changing action on a team's things. Every kind
of button the bot makes (and the codes of buttons sent by earlier versions), every command and
a reply in words, over the fake Bot API; every route of the HTTP API over a real port, with an
API token and as the Mini App (initData). Nothing they try changes anything; what members may
read, they read.

One harness: the team (Alice owns it, Bob is a member, a stranger is in it too), Carol's own
group, and in the team a task with a posted result, an open request card and an open change
card, all made by Alice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest

from application.tokens import digest
from bot import callbacks
from bot.callbacks import (
    RESULT,
    ButtonData,
    CancelChange,
    CancelDraft,
    ChooseDraftModel,
    ConfirmChange,
    ConfirmDelete,
    ConfirmDraft,
    DeleteTask,
    EditDraft,
    KeepTask,
    ListPage,
    PauseTask,
    ReminderDone,
    ResumeTask,
    RetryTask,
    RunTask,
    SkipNext,
    SnoozeReminder,
    SwitchDraftMode,
    SwitchTaskMode,
    TaskHistory,
    ToggleTool,
    UndoSkip,
)
from storage import tokens
from storage.database import create_engine, create_sessionmaker
from storage.records import RunStatus, TaskState
from tests.bot_harness import (
    ALICE,
    BERLIN,
    BOB,
    CAROL,
    MALLORY,
    NOW,
    BotUnderTest,
    FakeClock,
    bot_settings,
    create_task,
)
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser
from tests.web.api_harness import init_data, port_client, token_for

pytestmark = pytest.mark.usefixtures("litellm_imported")

TEAM, OTHER = -1001234567890, -1009876543210
NOT_ADMIN = "Only this group's admins"
NOT_ALLOWED = "not allowed"


@dataclass
class Team:
    bot: BotUnderTest
    fake: FakeTelegram
    alice: FakeUser
    bob: FakeUser
    carol: FakeUser
    mallory: FakeUser
    team: FakeChat
    other: FakeChat
    task_id: int
    result: FakeMessage
    card: FakeMessage
    change: FakeMessage
    # Not on ALLOWED_USERS and in the team; each is told so once an hour, so each command
    # below is tried by another one.
    strangers: list[FakeUser]

    def data(self, kind: type[ButtonData]) -> str:
        """What a button of this kind on the team's things carries."""
        draft = ConfirmDraft.unpack(self.card.buttons[0].callback_data)
        proposal = ConfirmChange.unpack(self.change.buttons[0].callback_data)
        assert draft is not None
        assert proposal is not None
        made: dict[type[ButtonData], ButtonData] = {
            ConfirmDraft: ConfirmDraft(draft.draft_id),
            EditDraft: EditDraft(draft.draft_id),
            CancelDraft: CancelDraft(draft.draft_id),
            RunTask: RunTask(self.task_id),
            RetryTask: RetryTask(self.task_id),
            PauseTask: PauseTask(self.task_id, RESULT),
            ResumeTask: ResumeTask(self.task_id),
            DeleteTask: DeleteTask(self.task_id),
            ConfirmDelete: ConfirmDelete(self.task_id),
            KeepTask: KeepTask(self.task_id),
            TaskHistory: TaskHistory(self.task_id),
            ListPage: ListPage(0),
            ToggleTool: ToggleTool(self.task_id, 0),
            ConfirmChange: ConfirmChange(proposal.change_id),
            CancelChange: CancelChange(proposal.change_id),
            SwitchDraftMode: SwitchDraftMode(draft.draft_id),
            SwitchTaskMode: SwitchTaskMode(self.task_id),
            SkipNext: SkipNext(self.task_id),
            SnoozeReminder: SnoozeReminder(self.task_id, "1h"),
            ReminderDone: ReminderDone(self.task_id),
            UndoSkip: UndoSkip(self.task_id),
            ChooseDraftModel: ChooseDraftModel(draft.draft_id, 0),
        }
        return made[kind].pack()

    async def unchanged(self) -> None:
        """The team's task is as Alice made it, ran only once, and her card and change card
        are still open: she can still use them."""
        [task] = await self.bot.tasks_of(TEAM)
        assert (task.id, task.state, task.cron) == (self.task_id, TaskState.ACTIVE, "0 9 * * *")
        assert [run.status for run in await self.bot.history(TEAM, self.task_id)] == [
            RunStatus.SUCCEEDED
        ]
        assert await self.bot.tasks_of(OTHER) == []


@pytest.fixture
async def team(fake: FakeTelegram, llm: FakeLLM, pg_url: str) -> AsyncIterator[Team]:
    settings = bot_settings(fake, llm, pg_url, http_port=0)
    bot = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await bot.start()
    try:
        alice, bob = fake.user(ALICE, "Alice"), fake.user(BOB, "Bob")
        carol, mallory = fake.user(CAROL, "Carol"), fake.user(MALLORY, "Mallory")
        strangers = [fake.user(MALLORY + n, f"Stranger {n}") for n in range(1, 22)]
        team = fake.group(TEAM, "Team", owner=alice, members=[bob, mallory, *strangers])
        other = fake.group(OTHER, "Other", owner=carol)
        task_id = await create_task(fake, team, alice, "/new every day at 9 read the news")
        # A result (Run again, Pause), and Alice's reply to it: a change card.
        llm.reply_text("Calm day.")
        await bot.fire_due(datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN))
        result = await fake.wait_for_message(team, lambda m: "Calm day." in m.text)
        await fake.send_text(team, alice, "every day at 7am", reply_to=result)
        change = await fake.wait_for_message(team, lambda m: ConfirmChange.matches(_first(m)))
        # An open request card (Confirm, Edit, Cancel).
        await fake.send_text(team, alice, "/new every monday at 8 plan the week")
        card = await fake.wait_for_message(team, lambda m: ConfirmDraft.matches(_first(m)))
        await fake.send_text(other, carol, "/tasks")  # the bot learns about Carol's group
        await fake.wait_for_message(other)
        yield Team(
            bot,
            fake,
            alice,
            bob,
            carol,
            mallory,
            team,
            other,
            task_id,
            result,
            card,
            change,
            strangers,
        )
    finally:
        await bot.stop()


def _first(message: FakeMessage) -> str | None:
    return message.buttons[0].callback_data if message.buttons else None


# Buttons that read: a member may press them.
READING = {TaskHistory, ListPage}
# What buttons already sent in chats carry and no new button does (bot/callbacks.py aliases).
OLD_CODES = ["ta:{task}"]


async def test_the_bot_refuses_them_every_button_and_every_changing_command(team: Team) -> None:
    fake, wrong = team.fake, []
    listing = await _commands(team, wrong)
    presses = [(kind.__name__, team.data(kind), kind in READING) for kind in callbacks.kinds()]
    presses += [(code, code.format(task=team.task_id), False) for code in OLD_CODES]
    carols = _message_in(team, team.other)
    for name, data, reading in presses:
        # The stranger and the member on the team's messages; the admin of another group
        # forges the button in her own group.
        for who, chat, on, refusal in (
            (team.mallory, team.team, team.result, NOT_ALLOWED),
            (team.bob, team.team, listing, None if reading else NOT_ADMIN),
            (team.carol, team.other, carols, ""),
        ):
            if who is team.carol and name == "ListPage":
                continue  # a page of her own group's list: nothing of the team's
            since = fake.checkpoint()
            answer = await fake.wait_for_callback_answer(await fake.press_data(chat, who, on, data))
            text = answer.text or ""
            if refusal is None:
                if answer.show_alert:
                    wrong.append(f"{who.first_name} could not read with {name}: {text}")
                elif name == "TaskHistory":
                    await fake.wait_for_message(chat, since=since)  # the history, below
            elif not answer.show_alert or refusal not in text:
                wrong.append(f"{who.first_name} pressed {name}: {text!r}")
    assert wrong == []
    await team.unchanged()
    # Alice's own buttons still work: nothing was used up by the refused presses.
    since = fake.checkpoint()
    await fake.press(team.team, team.alice, team.change, "Cancel")
    await fake.wait_for_message(
        team.team, lambda m: m.message_id == team.change.message_id, since=since
    )
    await fake.press(team.team, team.alice, team.card, "Confirm")
    await fake.wait_for_message(team.team, lambda m: "Scheduled" in m.text, since=since)


def _message_in(team: Team, chat: FakeChat) -> FakeMessage:
    """A message of the bot's in the chat, to press forged data on."""
    return [m for m in team.fake.messages(chat) if m.sender.id == team.fake.bot.id][-1]


async def _commands(team: Team, wrong: list[str]) -> FakeMessage:
    """Every changing command (and a request by mention, and a change asked for in words) by
    the member and by strangers, the admin of another group naming the team's task in her own
    group, and what the member may read; returns the member's /tasks listing."""
    fake, number = team.fake, team.task_id
    changing = [
        f"/run {number}",
        f"/pause {number}",
        f"/resume {number}",
        f"/delete {number}",
        f"/skip {number}",
        f"/edit {number} every day at 7 read the papers",
        "/new every day at 7 water the plants",
        f"@{fake.bot.username} every day at 7 water the plants",
        "/timezone Europe/Paris",
        "/language de",
        "/cancel",
        f"/model {number} default",
        f"/tools {number} -web_fetch",
        f"/budget {number} 0.50",
        f"/trigger {number}",
        f"/after {number} {number}",
        f"/quiet {number} changed",
    ]
    strangers = iter(team.strangers)
    for text in changing:
        await _expect(team, team.team, team.bob, text, NOT_ADMIN, wrong)
        await _expect(team, team.team, next(strangers), text, NOT_ALLOWED, wrong)
    await _expect(team, team.team, team.bob, "every day at 6am", NOT_ADMIN, wrong, team.result)
    after = f"run this after #{number}"
    await _expect(team, team.team, team.bob, after, NOT_ADMIN, wrong, team.result)
    for text in [*changing[:5], *changing[-3:], f"/task {number}", f"/history {number}"]:
        await _expect(team, team.other, team.carol, text, f"no task #{number}", wrong)
    for text in (f"/task {number}", f"/history {number}", "/usage"):
        await _expect(team, team.team, team.bob, text, None, wrong)
    return await _expect(team, team.team, team.bob, "/tasks", None, wrong)


async def _expect(
    team: Team,
    chat: FakeChat,
    who: FakeUser,
    text: str,
    refusal: str | None,
    wrong: list[str],
    reply_to: FakeMessage | None = None,
) -> FakeMessage:
    await team.fake.send_text(chat, who, text, reply_to=reply_to)
    answer = await team.fake.wait_for_message(chat)
    if refusal is None:
        ok = NOT_ADMIN not in answer.text and NOT_ALLOWED not in answer.text
    else:
        ok = refusal in answer.text
    if not ok:
        wrong.append(f"{who.first_name} wrote {text!r}: {answer.text!r}")
    return answer


# --- the HTTP API and the Mini App ----------------------------------------------------------------

Request = Callable[[httpx.AsyncClient, Team], Awaitable[httpx.Response]]

# Every route: what it does to the team's things (read, change, or the caller's own token).
ROUTES: list[tuple[str, str, Request]] = [
    ("GET /chats", "read", lambda api, t: api.get("/api/v1/chats")),
    ("GET /tasks", "read", lambda api, t: api.get("/api/v1/tasks", params={"chat_id": TEAM})),
    (
        "POST /tasks",
        "change",
        lambda api, t: api.post(
            "/api/v1/tasks", json={"chat_id": TEAM, "text": "every day at 7 x"}
        ),
    ),
    (
        "POST /tasks (prompt and cron)",
        "change",
        lambda api, t: api.post(
            "/api/v1/tasks", json={"chat_id": TEAM, "prompt": "x", "cron": "0 7 * * *"}
        ),
    ),
    ("GET /tasks/{id}", "read", lambda api, t: api.get(f"/api/v1/tasks/{t.task_id}")),
    (
        "PATCH /tasks/{id} state",
        "change",
        lambda api, t: api.patch(f"/api/v1/tasks/{t.task_id}", json={"state": "paused"}),
    ),
    (
        "PATCH /tasks/{id} prompt",
        "change",
        lambda api, t: api.patch(f"/api/v1/tasks/{t.task_id}", json={"prompt": "x"}),
    ),
    (
        "PATCH /tasks/{id} schedule",
        "change",
        lambda api, t: api.patch(f"/api/v1/tasks/{t.task_id}", json={"schedule": "every day at 7"}),
    ),
    (
        "PATCH /tasks/{id} mode",
        "change",
        lambda api, t: api.patch(f"/api/v1/tasks/{t.task_id}", json={"mode": "reminder"}),
    ),
    ("POST /tasks/{id}/skip", "change", lambda api, t: api.post(f"/api/v1/tasks/{t.task_id}/skip")),
    (
        "DELETE /tasks/{id}/skip",
        "change",
        lambda api, t: api.delete(f"/api/v1/tasks/{t.task_id}/skip"),
    ),
    (
        "PATCH /tasks/{id} targets",
        "change",
        lambda api, t: api.patch(f"/api/v1/tasks/{t.task_id}", json={"targets": ["here"]}),
    ),
    (
        "POST /tasks with targets",
        "change",
        lambda api, t: api.post(
            "/api/v1/tasks",
            json={"chat_id": TEAM, "text": "every day at 7 x", "targets": ["here"]},
        ),
    ),
    ("DELETE /tasks/{id}", "change", lambda api, t: api.delete(f"/api/v1/tasks/{t.task_id}")),
    ("POST /tasks/{id}/run", "change", lambda api, t: api.post(f"/api/v1/tasks/{t.task_id}/run")),
    ("GET /tasks/{id}/runs", "read", lambda api, t: api.get(f"/api/v1/tasks/{t.task_id}/runs")),
    (
        "GET /tasks/{id}/followups",
        "read",
        lambda api, t: api.get(f"/api/v1/tasks/{t.task_id}/followups"),
    ),
    (
        "POST /parse",
        "read",
        lambda api, t: api.post(
            "/api/v1/parse", json={"text": "every day at 9 x", "chat_id": TEAM}
        ),
    ),
    ("GET /usage", "read", lambda api, t: api.get("/api/v1/usage", params={"chat_id": TEAM})),
    # Last: it withdraws the caller's own token.
    ("DELETE /token", "own", lambda api, t: api.delete("/api/v1/token")),
]
# What each of them gets: (reading, changing, their own token).
STATUSES = {
    "member": (200, 403, 204),
    "admin of another group": (404, 404, 204),
    "stranger": (403, 403, 403),
}


@pytest.mark.parametrize("door", ["api", "miniapp"])
async def test_the_api_and_the_mini_app_refuse_them_every_changing_route(
    team: Team, pg_url: str, door: str
) -> None:
    credentials = {
        "member": await _credentials(team, team.bob, door, pg_url),
        "admin of another group": await _credentials(team, team.carol, door, pg_url),
        "stranger": await _credentials(team, team.mallory, door, pg_url),
    }
    assert team.bot.runtime is not None
    wrong = []
    for who, authorization in credentials.items():
        reading, changing, own = STATUSES[who]
        async with port_client(team.bot.runtime, Authorization=authorization) as api:
            for name, does, request in ROUTES:
                expected = {"read": reading, "change": changing, "own": own}[does]
                response = await request(api, team)
                if name == "GET /chats" and response.status_code == 200:
                    listed = {c["id"]: c["can_manage"] for c in response.json()["chats"]}
                    seen = {"member": {TEAM: False}, "admin of another group": {}}[who]
                    if {k: v for k, v in listed.items() if k == TEAM} != seen:
                        wrong.append(f"{who} {name}: {listed}")
                    continue
                if response.status_code != expected:
                    wrong.append(f"{who} {name}: {response.status_code} {response.text}")
    assert wrong == []
    await team.unchanged()


async def _credentials(team: Team, user: FakeUser, door: str, pg_url: str) -> str:
    if door == "miniapp":
        assert team.bot.runtime is not None
        return "tma " + init_data(
            user, team.bot.settings.require_bot_token().get_secret_value(), auth_date=NOW
        )
    if user is not team.mallory:
        return "Bearer " + await token_for(team.fake, user)
    # A token handed out while the stranger was still on ALLOWED_USERS.
    token = "cp_" + "s" * 43
    database = create_engine(pg_url, pool_size=1)
    try:
        async with create_sessionmaker(database)() as session, session.begin():
            await tokens.replace(session, MALLORY, digest(token), now=NOW)
    finally:
        await database.dispose()
    return "Bearer " + token
