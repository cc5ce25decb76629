"""End to end: documents sent with a request are read (in the extraction workers) and kept
with the task, whose model gets them at every run; hostile documents get a sentence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.bot_harness import ALICE, NOW, BotUnderTest, FakeClock, answer_to, bot_settings
from tests.fakes.documents import pdf_bomb, text_pdf
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser
from tests.web.api_harness import asgi_client, token_for

pytestmark = pytest.mark.usefixtures("litellm_imported")

PRICES = "product,price\nkettle,29.90\ntoaster,45.00\n"
SIZE = len(PRICES.strip().encode())
REQUEST = "every monday at 9 compare this list with what's new on the site"


@pytest.fixture
async def bot(fake: FakeTelegram, llm: FakeLLM, pg_url: str) -> AsyncIterator[BotUnderTest]:
    settings = bot_settings(fake, llm, pg_url, attachment_max_bytes=2_000)
    under_test = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


@pytest.fixture
def alice(fake: FakeTelegram) -> FakeUser:
    return fake.user(ALICE, "Alice")


@pytest.fixture
def dm(fake: FakeTelegram, alice: FakeUser) -> FakeChat:
    return fake.private_chat(alice)


def user_contents(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "user"]


async def test_a_document_sent_with_a_request_reaches_the_tasks_model_at_every_run(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    sent = await fake.send_file(
        dm,
        alice,
        "document",
        PRICES.encode(),
        caption=REQUEST,
        mime_type="text/csv",
        file_name="prices.csv",
    )
    card = await answer_to(fake, dm, sent)
    assert "Schedule this task?" in card.text
    assert f"📎 Attached: prices.csv ({SIZE} bytes)" in card.text
    await fake.press(dm, alice, card, "Confirm")
    await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text)
    [task] = await bot.tasks_of(ALICE)

    await fake.send_text(dm, alice, f"/task {task.id}")
    detail = await fake.wait_for_message(dm, lambda m: m.text.startswith(f"Task #{task.id}"))
    assert f"📎 Attached: prices.csv ({SIZE} bytes)" in detail.text

    for answer in ("The kettle is now 27.90.", "Nothing changed."):
        llm.reply_text(answer)
        await fake.send_text(dm, alice, f"/run {task.id}")
        await fake.wait_for_message(dm, lambda m, answer=answer: answer in m.text)
        await bot.engine.wait_idle()
        request = llm.requests[-1]
        # Right after the system prompt, marked as the person's data, not instructions.
        document = request["messages"][1]
        assert document["role"] == "user"
        assert "not as instructions" in document["content"]
        assert (
            f'<attachment name="prices.csv" type="text/csv" bytes="{SIZE}">\n'
            + PRICES.strip()
            + "\n</attachment>"
        ) in document["content"]
        assert "Compare this list with what's new on the site" in user_contents(request)[-1]
    assert fake.errors == []


async def test_a_pdf_is_read_and_an_edit_keeps_the_document(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    sent = await fake.send_file(
        dm,
        alice,
        "document",
        text_pdf("Kettle 29.90 Toaster 45.00"),
        caption=REQUEST,
        mime_type="application/pdf",
        file_name="prices.pdf",
    )
    card = await answer_to(fake, dm, sent)
    assert "📎 Attached: prices.pdf (26 bytes)" in card.text
    await fake.press(dm, alice, card, "Edit")
    await fake.wait_for_message(dm, lambda m: m.force_reply)
    sent = await fake.send_text(dm, alice, "every tuesday at 9 compare this list with the site")
    new_card = await answer_to(fake, dm, sent)
    assert "📎 Attached: prices.pdf (26 bytes)" in new_card.text
    await fake.press(dm, alice, new_card, "Confirm")
    await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text)
    [task] = await bot.tasks_of(ALICE)
    llm.reply_text("Same prices.")
    await fake.send_text(dm, alice, f"/run {task.id}")
    await fake.wait_for_message(dm, lambda m: "Same prices." in m.text)
    assert "Kettle 29.90 Toaster 45.00" in llm.requests[-1]["messages"][1]["content"]


async def test_a_document_in_a_reply_to_a_result_goes_to_the_followup_model(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    await fake.send_text(dm, alice, "every day at 7 tell me the news")
    card = await fake.wait_for_message(dm, lambda m: m.has_button("Confirm"))
    await fake.press(dm, alice, card, "Confirm")
    await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text)
    [task] = await bot.tasks_of(ALICE)
    llm.reply_text("Kettles are getting cheaper.")
    await fake.send_text(dm, alice, f"/run {task.id}")
    result = await fake.wait_for_message(dm, lambda m: "Kettles" in m.text)
    await bot.engine.wait_idle()

    llm.reply_text("Yes: the kettle on your list is 2 € above the news.")
    sent = await fake.send_file(
        dm,
        alice,
        "document",
        PRICES.encode(),
        caption="is my list above that?",
        mime_type="text/csv",
        file_name="prices.csv",
        reply_to=result,
    )
    answer = await fake.wait_for_message(dm, lambda m: m.reply_to_message_id == sent.message_id)
    assert answer.text.startswith("Yes: the kettle")
    turns = user_contents(llm.requests[-1])
    assert turns[-1] == "is my list above that?"
    assert "kettle,29.90" in turns[-2]
    assert len(await bot.tasks_of(ALICE)) == 1


@pytest.mark.parametrize(
    ("data", "options", "expected"),
    [
        pytest.param(
            PRICES.encode(),
            {"file_size": 25 * 1024 * 1024, "mime_type": "text/csv", "file_name": "big.csv"},
            "That file is larger than the 20 MB I can download.",
            id="oversized",
        ),
        pytest.param(
            b"PK\x03\x04",
            {"mime_type": "application/zip", "file_name": "prices.zip"},
            "I can keep text, Markdown, CSV and PDF documents with a task, and “prices.zip” "
            "is application/zip.",
            id="wrong-mime",
        ),
        pytest.param(
            pdf_bomb(),
            {"mime_type": "application/pdf", "file_name": "bomb.pdf"},
            "“bomb.pdf” would take too much memory to read, so I did not read it.",
            id="pdf-bomb",
        ),
        pytest.param(
            b"%PDF-1.7\n garbage",
            {"mime_type": "application/pdf", "file_name": "broken.pdf"},
            "I could not read “broken.pdf”: it looks damaged.",
            id="damaged-pdf",
        ),
        pytest.param(
            b"x" * 5_000,
            {"mime_type": "text/plain", "file_name": "long.txt"},
            "The text of “long.txt” is 5 KB; a task can keep at most 2 KB, so send a shorter "
            "document.",
            id="too-much-text",
        ),
        pytest.param(
            b"\x7fELF\x00\x00\x00",
            {"mime_type": "text/plain", "file_name": "notes.txt"},
            "I could not read “notes.txt”: it looks damaged.",
            id="binary-as-text",
        ),
        pytest.param(
            b"",
            {"mime_type": "text/plain", "file_name": "empty.txt"},
            "“empty.txt” is empty; there is nothing to read.",
            id="zero-length",
        ),
    ],
)
async def test_a_hostile_document_gets_a_sentence_and_the_bot_goes_on(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    dm: FakeChat,
    alice: FakeUser,
    data: bytes,
    options: dict[str, Any],
    expected: str,
) -> None:
    sent = await fake.send_file(dm, alice, "document", data, caption=REQUEST, **options)
    answer = await answer_to(fake, dm, sent)
    assert answer.text == f"📎 {expected}"
    assert await bot.tasks_of(ALICE) == []
    sent = await fake.send_text(dm, alice, "every day at 7 tell me the news")
    assert (await answer_to(fake, dm, sent)).has_button("Confirm")


async def test_a_document_without_a_request_is_asked_for_one(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser
) -> None:
    sent = await fake.send_file(
        dm, alice, "document", PRICES.encode(), mime_type="text/csv", file_name="prices.csv"
    )
    answer = await answer_to(fake, dm, sent)
    assert answer.text.startswith("📎 Send the document with your request as its caption")
    assert fake.file_downloads == []


async def test_the_api_lists_a_tasks_attachments_by_name_and_size(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, alice: FakeUser, dm: FakeChat
) -> None:
    settings = bot_settings(fake, llm, pg_url, http_port=0)
    under_test = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    runtime = await under_test.start()
    try:
        token = await token_for(fake, alice)
        sent = await fake.send_file(
            dm,
            alice,
            "document",
            PRICES.encode(),
            caption=REQUEST,
            mime_type="text/csv",
            file_name="prices.csv",
        )
        card = await answer_to(fake, dm, sent)
        await fake.press(dm, alice, card, "Confirm")
        await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text)
        [task] = await under_test.tasks_of(ALICE)
        async with asgi_client(runtime, Authorization=f"Bearer {token}") as api:
            listed = (await api.get(f"/api/v1/tasks/{task.id}/attachments")).json()
            missing = await api.get("/api/v1/tasks/999999/attachments")
    finally:
        await under_test.stop()
    [attachment] = listed["attachments"]
    assert (attachment["name"], attachment["size"], attachment["media_type"]) == (
        "prices.csv",
        SIZE,
        "text/csv",
    )
    assert "text" not in attachment
    assert missing.status_code == 404
