"""The Mini App in a real headless Chromium against the real bot's HTTP server.

Debian's chromium with the playwright package (`.ci/run` installs it); Telegram's own script is
blocked, as the machine has no internet, so the page reads initData from the launch URL's
fragment exactly as Telegram passes it (`#tgWebAppData=…`).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, Locator, Page, Route, async_playwright

from storage.records import RunStatus, TaskMode, TaskState
from tests.bot.targets_harness import bot_with_destinations
from tests.bot_harness import ALICE, NOW, BotUnderTest, FakeClock, bot_settings, create_task
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser
from tests.web.api_harness import init_data

CHROMIUM = Path("/usr/bin/chromium")
EXECUTABLE = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
THEME = {"bg_color": "#17212b", "text_color": "#f5f5f5", "button_color": "#5288c1"}

pytestmark = [
    pytest.mark.usefixtures("litellm_imported"),
    pytest.mark.skipif(
        EXECUTABLE is None,
        reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does)",
    ),
]


@pytest.fixture
async def bot(fake: FakeTelegram, llm: FakeLLM, pg_url: str) -> AsyncIterator[BotUnderTest]:
    settings = bot_settings(fake, llm, pg_url, http_port=0)
    under_test = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=EXECUTABLE, args=FLAGS)
        try:
            yield launched
        finally:
            await launched.close()


async def open_app(browser: Browser, bot: BotUnderTest, signed: str) -> Page:
    assert bot.runtime is not None
    assert bot.runtime.http is not None
    # A phone-sized screen.
    page = await browser.new_page(viewport={"width": 390, "height": 760})
    page.set_default_timeout(15_000)
    await page.route("https://telegram.org/**", lambda route: route.abort())
    fragment = f"tgWebAppData={quote(signed)}&tgWebAppThemeParams={quote(json.dumps(THEME))}"
    await page.goto(f"http://127.0.0.1:{bot.runtime.http.port}/app/#{fragment}")
    return page


@dataclass(frozen=True)
class Opened:
    """The Mini App as Alice opened it on a task of her private chat."""

    alice: FakeUser
    dm: FakeChat
    task_id: int
    page: Page
    # The task's item in the list, shown.
    task: Locator


async def open_on_task(
    bot: BotUnderTest,
    fake: FakeTelegram,
    browser: Browser,
    request: str,
    *,
    shown: str = "",
    language: str = "en",
) -> Opened:
    """Alice makes a task from `request` in her private chat and opens the Mini App, signed in
    five minutes ago, in `language`; it returns once the task's item (with the attributes
    `shown`, e.g. `[data-mode="reminder"]`) is in the list."""
    alice = fake.user(ALICE, "Alice")
    dm = fake.private_chat(alice)
    task_id = await create_task(fake, dm, alice, request)
    signed = init_data(
        alice, fake.token, auth_date=bot.clock.now() - timedelta(minutes=5), language=language
    )
    page = await open_app(browser, bot, signed)
    task = page.locator(f'li.task[data-id="{task_id}"]{shown}')
    await task.wait_for()
    return Opened(alice, dm, task_id, page, task)


async def test_the_mini_app_lists_tasks_and_pauses_one(
    bot: BotUnderTest, fake: FakeTelegram, browser: Browser
) -> None:
    opened = await open_on_task(bot, fake, browser, "every weekday at 9am summarize Hacker News")
    page, task_id, task = opened.page, opened.task_id, opened.task
    assert "Summarize Hacker News" in await task.locator(".task-name").inner_text()
    assert await task.get_attribute("data-state") == "active"
    assert "Next:" in await task.locator(".task-next").inner_text()
    # The Telegram theme is applied.
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(23, 33, 43)"
    # Nothing is wider than the phone.
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390

    await task.get_by_role("button", name="Pause").click()
    await page.locator(f'li.task[data-id="{task_id}"][data-state="paused"]').wait_for()
    assert "is paused" in await page.locator("#status").inner_text()
    assert [t.state for t in await bot.tasks_of(ALICE)] == [TaskState.PAUSED]
    resume = page.locator(f'li.task[data-id="{task_id}"]').get_by_role("button", name="Resume")
    assert await resume.is_visible()


async def test_the_mini_app_shows_and_switches_a_reminder(
    bot: BotUnderTest, fake: FakeTelegram, browser: Browser
) -> None:
    opened = await open_on_task(
        bot, fake, browser, "remind me to drink water every 2 hours", shown='[data-mode="reminder"]'
    )
    page, task_id, task = opened.page, opened.task_id, opened.task
    assert "Reminder" in await task.locator(".task-mode").inner_text()
    await task.get_by_role("button", name="Let the AI do it").click()
    await page.locator(f'li.task[data-id="{task_id}"][data-mode="ai"]').wait_for()
    assert "is an AI task now" in await page.locator("#status").inner_text()
    assert [t.mode for t in await bot.tasks_of(ALICE)] == [TaskMode.AI]


async def test_a_task_in_a_fixed_offset_zone_shows_its_runs_at_that_offset(
    bot: BotUnderTest, fake: FakeTelegram, browser: Browser
) -> None:
    opened = await open_on_task(bot, fake, browser, "every day at 6:30pm UTC+2 check the shop")
    task = opened.task
    assert "(UTC+02:00)" in await task.locator(".task-when").inner_text()
    assert "06:30 PM" in await task.locator(".task-next").inner_text()


async def test_the_mini_app_creates_a_task_from_a_previewed_request(
    bot: BotUnderTest, fake: FakeTelegram, browser: Browser
) -> None:
    alice = fake.user(ALICE, "Alice")
    await fake.send_text(fake.private_chat(alice), alice, "/start")
    await fake.wait_for_message(fake.private_chat(alice))
    signed = init_data(alice, fake.token, auth_date=bot.clock.now())
    page = await open_app(browser, bot, signed)
    await page.locator("#empty").wait_for()
    await page.locator("#request").fill("every day at 7 read the weather for Berlin")
    preview = page.locator("#preview")
    await preview.get_by_text("Read the weather for Berlin", exact=False).wait_for()
    assert "(0 7 * * *), Europe/Berlin" in await preview.inner_text()
    await page.get_by_role("button", name="Confirm").click()
    await page.locator("#status").get_by_text("Scheduled as task").wait_for()
    tasks = await bot.tasks_of(ALICE)
    assert [(t.cron, t.prompt) for t in tasks] == [("0 7 * * *", "Read the weather for Berlin")]
    await page.locator(f'li.task[data-id="{tasks[0].id}"]').wait_for()


async def test_forged_or_stale_init_data_shows_nothing(
    bot: BotUnderTest, fake: FakeTelegram, browser: Browser
) -> None:
    alice = fake.user(ALICE, "Alice")
    dm = fake.private_chat(alice)
    await create_task(fake, dm, alice, "every weekday at 9am summarize Hacker News")
    forged = init_data(
        alice, "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", auth_date=bot.clock.now()
    )
    stale = init_data(alice, fake.token, auth_date=bot.clock.now() - timedelta(hours=30))
    for signed, reason in ((forged, "not signed"), (stale, "older than 24 hours")):
        page = await open_app(browser, bot, signed)
        await page.locator("#status.bad").get_by_text(reason, exact=False).wait_for()
        assert await page.locator("li.task").count() == 0
        await page.close()


async def test_the_api_docs_work_without_internet(bot: BotUnderTest, browser: Browser) -> None:
    assert bot.runtime is not None
    assert bot.runtime.http is not None
    base = f"http://127.0.0.1:{bot.runtime.http.port}"
    page = await browser.new_page()
    page.set_default_timeout(15_000)
    off_site: list[str] = []

    async def only_this_server(route: Route) -> None:
        if route.request.url.startswith(base):
            await route.continue_()
        else:
            off_site.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_this_server)
    await page.goto(f"{base}/api/v1/docs")
    # Swagger UI drew the operations from /api/v1/openapi.json.
    await page.get_by_text("/tasks/{task_id}/run").first.wait_for()
    assert await page.locator(".opblock").count() >= 8
    assert off_site == []
    await page.close()


@pytest.fixture
async def bot_with_hook(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, tmp_path: Path
) -> AsyncIterator[BotUnderTest]:
    hook = {"hook": "json://127.0.0.1:9/secret-path"}
    async with bot_with_destinations(fake, llm, pg_url, tmp_path, hook, http_port=0) as bot:
        yield bot


async def test_the_mini_app_shows_and_edits_where_a_task_posts(
    bot_with_hook: BotUnderTest, fake: FakeTelegram, browser: Browser
) -> None:
    bot = bot_with_hook
    opened = await open_on_task(bot, fake, browser, "every weekday at 9am summarize Hacker News")
    page, task_id, task = opened.page, opened.task_id, opened.task
    assert await task.locator(".task-targets").inner_text() == "Posts to: here"

    await task.get_by_role("button", name="Targets").click()
    field = task.locator(".targets-input")
    assert await field.input_value() == "here"
    assert "a destination: hook" in await task.locator(".targets-help").inner_text()
    await field.fill("here nowhere")
    await task.get_by_role("button", name="Save").click()
    await page.locator("#status.bad").get_by_text("nowhere").wait_for()
    await field.fill("here hook")
    await task.get_by_role("button", name="Save").click()
    await page.locator("#status").get_by_text("posts to here · hook").wait_for()
    shown = page.locator(f'li.task[data-id="{task_id}"] .task-targets')
    assert await shown.inner_text() == "Posts to: here · hook"
    assert "secret-path" not in await page.content()
    [stored] = await bot.tasks_of(ALICE)
    assert [target.label for target in stored.destinations] == ["chat", "hook"]


MODELS = "fast=openai/gpt-4o-mini,smart=openai/gpt-4o"


@pytest.fixture
async def bot_with_choices(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str
) -> AsyncIterator[BotUnderTest]:
    settings = bot_settings(
        fake,
        llm,
        pg_url,
        http_port=0,
        models=MODELS,
        # Two tools to choose from: web fetch, and a search (never reached here).
        search_provider="searxng",
        search_api_base="http://127.0.0.1:9",
    )
    under_test = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


async def test_the_mini_app_sets_a_tasks_model_tools_and_cap(
    bot_with_choices: BotUnderTest, fake: FakeTelegram, browser: Browser
) -> None:
    bot = bot_with_choices
    opened = await open_on_task(bot, fake, browser, "every weekday at 9am summarize Hacker News")
    page, task_id, task = opened.page, opened.task_id, opened.task
    assert await task.locator(".task-setup").inner_text() == (
        "Model: default (openai/gpt-4o-mini) · Tools: web fetch, web search · No monthly cap"
    )

    await task.get_by_role("button", name="Model, tools, cap").click()
    form = task.locator(".setup-edit")
    await form.wait_for()
    # gpt-4o-mini's price for a typical run (3,000 + 500 tokens) × 21 weekdays.
    estimate = await form.locator(".setup-estimate").inner_text()
    assert estimate == "💵 Cost: ≈ $0.00075 a run, ≈ $0.016 a month (estimate)"
    # Nothing is wider than the phone with the form open.
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    model = form.get_by_label("Model")
    assert await model.input_value() == "default"
    await model.select_option("smart")
    search = form.get_by_label("web search")
    assert await search.is_checked()
    await search.uncheck()
    # A cap that is no amount is refused in the page, and nothing is sent.
    cap = form.get_by_label("Monthly cap in dollars")
    await cap.fill("lots")
    await form.get_by_role("button", name="Save").click()
    await page.locator("#status.bad").get_by_text("amount in dollars").wait_for()
    [stored] = await bot.tasks_of(ALICE)
    assert (stored.model, stored.tools, stored.monthly_cap_usd) == (None, None, None)
    # Past the most a task may have: the server's reason is shown.
    await cap.fill("5000")
    await form.get_by_role("button", name="Save").click()
    await page.locator("#status.bad").get_by_text("between $0 and $1000").wait_for()

    await cap.fill("0,50")
    await form.get_by_role("button", name="Save").click()
    await page.locator("#status:not(.bad)").get_by_text(f"Task #{task_id} is saved.").wait_for()
    [stored] = await bot.tasks_of(ALICE)
    assert (stored.model, stored.tools, stored.monthly_cap_usd) == ("smart", ("web_fetch",), 0.5)
    shown = page.locator(f'li.task[data-id="{task_id}"] .task-setup')
    assert await shown.inner_text() == "Model: smart · Tools: web fetch · Monthly cap: $0.50"
    # The estimate follows the model: gpt-4o costs more.
    assert "≈ $0.013 a run, ≈ $0.26 a month" in await page.locator("#status").inner_text()

    # Back to the default model, with every tool and no cap.
    task = page.locator(f'li.task[data-id="{task_id}"]')
    await task.get_by_role("button", name="Model, tools, cap").click()
    form = task.locator(".setup-edit")
    await form.wait_for()
    assert await form.get_by_label("Model").input_value() == "smart"
    assert await form.get_by_label("Monthly cap in dollars").input_value() == "0.5"
    await form.get_by_label("Model").select_option("default")
    await form.get_by_label("web search").check()
    await form.get_by_label("Monthly cap in dollars").fill("")
    await form.get_by_role("button", name="Save").click()
    await (
        page.locator(f'li.task[data-id="{task_id}"] .task-setup')
        .get_by_text(
            "Model: default (openai/gpt-4o-mini) · Tools: web fetch, web search · No monthly cap"
        )
        .wait_for()
    )
    [stored] = await bot.tasks_of(ALICE)
    assert (stored.model, stored.tools, stored.monthly_cap_usd) == (None, None, None)


async def test_the_mini_app_skips_the_next_run_and_takes_it_back(
    bot: BotUnderTest, fake: FakeTelegram, browser: Browser
) -> None:
    opened = await open_on_task(
        bot, fake, browser, "every day at 8 summarize the news", shown='[data-skipped="no"]'
    )
    page, task_id, task = opened.page, opened.task_id, opened.task
    assert not await task.locator(".task-skipped").is_visible()

    await task.get_by_role("button", name="Skip next").click()
    skipped = page.locator(f'li.task[data-id="{task_id}"][data-skipped="yes"]')
    await skipped.wait_for()
    assert "is skipped" in await page.locator("#status").inner_text()
    assert (
        await skipped.locator(".task-skipped").inner_text()
        == "Next run skipped: Fri, Nov 27, 08:00 AM"
    )
    runs = await bot.history(ALICE, task_id)
    assert [(run.status, run.scheduled_for.isoformat()) for run in runs] == [
        (RunStatus.SKIPPED, "2026-11-27T07:00:00+00:00")
    ]

    await skipped.get_by_role("button", name="Undo skip").click()
    await page.locator(f'li.task[data-id="{task_id}"][data-skipped="no"]').wait_for()
    assert "after all" in await page.locator("#status").inner_text()
    assert await bot.history(ALICE, task_id) == []

    # Skipped again, the run does not happen when its time comes.
    await (
        page.locator(f'li.task[data-id="{task_id}"]')
        .get_by_role("button", name="Skip next")
        .click()
    )
    await page.locator(f'li.task[data-id="{task_id}"][data-skipped="yes"]').wait_for()
    assert await bot.fire_due(NOW.replace(day=27, hour=7)) == []
    assert [run.status for run in await bot.history(ALICE, task_id)] == [RunStatus.SKIPPED]


async def test_the_mini_app_speaks_the_persons_language(
    bot: BotUnderTest, fake: FakeTelegram, browser: Browser
) -> None:
    opened = await open_on_task(
        bot, fake, browser, "every day at 8 summarize the news", language="de"
    )
    page, task_id, task = opened.page, opened.task_id, opened.task
    alice, dm = opened.alice, opened.dm
    assert await page.locator("html").get_attribute("lang") == "de"
    assert await page.locator("#create-title").inner_text() == "Neue Aufgabe"
    assert await task.locator(".task-when").inner_text() == "Um 08:00 (Europe/Berlin)"
    assert "Modell: Standard (openai/gpt-4o-mini)" in await task.locator(".task-setup").inner_text()
    await task.get_by_role("button", name="Nächsten überspringen").click()
    skipped = page.locator(f'li.task[data-id="{task_id}"][data-skipped="yes"]')
    await skipped.wait_for()
    assert (await skipped.locator(".task-skipped").inner_text()).startswith(
        "Nächster Lauf übersprungen: Fr., 27. Nov., 08:00"
    )
    await skipped.get_by_role("button", name="Modell, Werkzeuge, Grenze").click()
    await skipped.locator(".setup-edit").wait_for()
    assert "Kosten" in await skipped.locator(".setup-estimate").inner_text()
    # A refusal comes in German too.
    await skipped.locator(".setup-cap").fill("5000")
    await skipped.get_by_role("button", name="Speichern").click()
    await page.locator("#status.bad").get_by_text("Monatsgrenze muss zwischen").wait_for()
    # A chat's own /language wins over the person's.
    await fake.send_text(dm, alice, "/language fr")
    await fake.wait_for_message(dm, lambda m: "Français" in m.text or "français" in m.text)
    await page.reload()
    await page.locator(f'li.task[data-id="{task_id}"]').wait_for()
    assert await page.locator("#create-title").inner_text() == "Nouvelle tâche"
