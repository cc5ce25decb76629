"""Creating tasks: a request becomes a confirmation card; Confirm, Edit and Cancel act on it
(one handler each, registered in routes.py)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from telegram import Chat, ForceReply, Message, MessageEntity, Update
from telegram.constants import MessageEntityType, ParseMode
from telegram.error import BadRequest

from application.errors import (
    DraftExpiredError,
    DraftNotFoundError,
    NoModelError,
    ParseBudgetSpentError,
    QuotaExceededError,
)
from application.permissions import RefusedError
from application.records import Card
from bot import media, problems, render, shapes
from bot.callbacks import CancelDraft, ConfirmDraft, EditDraft
from bot.context import Context, use_cases
from bot.handlers import conversations
from bot.handlers.common import (
    Press,
    actor,
    chat_translator,
    chat_zone,
    current_chat,
    reply,
    task_number,
    topic,
)
from bot.handlers.setup import setup_lines
from bot.render import Screen
from core.errors import CronpilotError, NotUnderstoodError, ScheduleError
from scheduler.documents import DocumentText, Picture
from scheduler.engine import TaskNotFoundError
from scheduler.parsing.llm_parser import ParserUnavailableError
from scheduler.parsing.request import PicturesNotSeenError
from storage.records import Chat as ChatRecord


def without_mention(text: str, entities: Sequence[MessageEntity], username: str | None) -> str:
    """`text` (a message's text or caption, with its entities) with the bot's @mention taken
    out."""
    if not username:
        return text
    encoded = text.encode("utf-16-le")
    for entity in reversed(entities):
        if entity.type != MessageEntityType.MENTION:
            continue
        start, end = entity.offset * 2, (entity.offset + entity.length) * 2
        if encoded[start:end].decode("utf-16-le").lower() == f"@{username.lower()}":
            encoded = encoded[:start] + encoded[end:]
    return " ".join(encoded.decode("utf-16-le").split())


def mentions(text: str, username: str | None) -> bool:
    """Whether `text` names the bot."""
    return bool(username) and f"@{(username or '').lower()}" in text.lower()


async def text_message(update: Update, context: Context) -> None:
    """Plain text: a task request in private chats, or in groups when addressed to the bot."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    username = context.bot.username
    await take_words(
        update,
        context,
        message.text,
        without_mention(message.text, message.entities, username),
        mentioned=mentions(message.text, username),
    )


async def take_words(
    update: Update,
    context: Context,
    text: str,
    addressed: str,
    *,
    mentioned: bool,
    heard: str | None = None,
    attachment: DocumentText | Picture | None = None,
) -> None:
    """Words someone sent, typed (`text` as written, `addressed` without the bot's mention) or
    `heard` in a recording, perhaps with a document (`attachment`): the answer to an Edit, a
    reply about a task, or a request (in a private chat, or in a group when `mentioned` or
    replying to the bot)."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    replied = message.reply_to_message
    if replied is not None and replied.from_user and replied.from_user.id == context.bot.id:
        draft_id = await use_cases(context).drafts.answering_edit_prompt(
            actor(update), chat.id, replied.message_id
        )
        if draft_id is not None:
            await _replace_draft(
                update, context, draft_id, text, heard=heard, attachment=attachment
            )
            return
        if await conversations.reply_about_task(
            update, context, replied, addressed, attachment=attachment
        ):
            return
        if chat.type != Chat.PRIVATE:
            await _request(update, context, addressed, heard=heard, attachment=attachment)
            return
    if chat.type == Chat.PRIVATE:
        await _request(update, context, text, heard=heard, attachment=attachment)
        return
    if mentioned:
        await _request(update, context, addressed, heard=heard, attachment=attachment)


async def new_command(update: Update, context: Context) -> None:
    text = " ".join(context.args or [])
    if not text:
        _ = chat_translator(update, await current_chat(update, context))
        await reply(
            update,
            _(
                "Write the task after /new, for example:\n{example}",
                example=escape(_(render.EXAMPLES[0])),
            ),
        )
        return
    await _request(update, context, text)


async def edit_command(update: Update, context: Context) -> None:
    task_id = task_number(context)
    text = " ".join((context.args or [])[1:])
    if task_id is None or not text:
        _ = chat_translator(update, await current_chat(update, context))
        await reply(update, _("Usage: /edit N new text, for example /edit 3 every monday at 8 …"))
        return
    await _request(update, context, text, task_id=task_id)


async def _request(
    update: Update,
    context: Context,
    text: str,
    *,
    task_id: int | None = None,
    heard: str | None = None,
    attachment: DocumentText | Picture | None = None,
) -> None:
    chat = await current_chat(update, context)
    if task_id is None:
        # After Edit, the next request is the correction, replied to the prompt or not.
        editing = await use_cases(context).edits.awaiting_correction(actor(update), chat.id)
        if editing is not None:
            await _replace_draft(update, context, editing, text, heard=heard, attachment=attachment)
            return
    card = await _draft(update, context, chat, text, task_id=task_id, attachment=attachment)
    if card is not None:
        await _show_card(update, context, chat, card, heard=heard)


async def _draft(
    update: Update,
    context: Context,
    chat: ChatRecord,
    text: str,
    *,
    task_id: int | None,
    attachment: DocumentText | Picture | None = None,
    carry_from: str | None = None,
) -> Card | None:
    _ = chat_translator(update, chat)
    try:
        return await use_cases(context).drafts.create(
            actor(update),
            chat.id,
            text,
            task_id=task_id,
            attachment=attachment,
            carry_from=carry_from,
            thread_id=topic(update),
        )
    except ParseBudgetSpentError as error:
        problem = render.sentence(problems.worded(_, error))
        await reply(update, _("💸 {problem}", problem=escape(problem)))
    except ParserUnavailableError as error:
        problem = render.sentence(problems.worded(_, error))
        await reply(update, _("⏳ {problem}", problem=escape(problem)))
    except PicturesNotSeenError as error:
        await reply(update, media.refused(_, render.sentence(problems.worded(_, error))))
    except NotUnderstoodError as error:
        await reply(update, render.not_understood(_, problems.worded(_, error), str(error)))
    except (ScheduleError, QuotaExceededError, TaskNotFoundError, RefusedError) as error:
        await reply(update, problems.reply(_, error, chat_zone(chat, context)))
    except NoModelError as error:
        await reply(update, problems.reply(_, error, chat_zone(chat, context), sign="🤖"))
    return None


async def _show_card(
    update: Update, context: Context, chat: ChatRecord, card: Card, *, heard: str | None = None
) -> None:
    _ = chat_translator(update, chat)
    screen = shapes.card(_, card, chat_zone(chat, context))
    if card.attachments:
        screen = Screen(f"{screen.text}\n\n{media.attached(_, card.attachments)}", screen.keyboard)
    if heard is not None:
        # What was heard, above the card, so a mishearing is caught before Confirm.
        screen = Screen(f"{media.heard(_, heard)}\n\n{screen.text}", screen.keyboard)
    sent = await reply(update, screen)
    if sent is not None:
        await use_cases(context).drafts.attach_card(actor(update), card.draft_id, sent.message_id)


async def _replace_draft(
    update: Update,
    context: Context,
    draft_id: str,
    text: str,
    *,
    heard: str | None = None,
    attachment: DocumentText | Picture | None = None,
) -> None:
    """The corrected request after Edit: a new card, the old one marked as replaced."""
    chat = await current_chat(update, context)
    _ = chat_translator(update, chat)
    cases = use_cases(context)
    try:
        old = await cases.drafts.get(actor(update), draft_id)
    except (DraftNotFoundError, RefusedError) as error:
        await reply(update, problems.reply(_, error, chat_zone(chat, context), sign="⌛"))
        return
    card = await _draft(
        update,
        context,
        chat,
        text,
        task_id=old.task_id,
        attachment=attachment,
        carry_from=draft_id,
    )
    if card is None:
        return  # the correction was not understood; the old card stays open
    await _show_card(update, context, chat, card, heard=heard)
    try:
        await cases.drafts.cancel(actor(update), draft_id)
    except DraftNotFoundError:
        return
    if old.message_id is not None:
        await _edit_quietly(context, chat.id, old.message_id, render.replaced(_, old))


async def cancel_command(update: Update, context: Context) -> None:
    chat = await current_chat(update, context)
    _ = chat_translator(update, chat)
    try:
        dropped = await use_cases(context).drafts.cancel_open(actor(update), chat.id)
    except RefusedError as error:
        await reply(update, problems.reply(_, error, chat_zone(chat, context)))
        return
    for card in dropped:
        if card.message_id is not None:
            await _edit_quietly(context, chat.id, card.message_id, render.cancelled(_, card))
    if dropped:
        await reply(
            update,
            _.plural(
                "✖️ Cancelled {count} open request.",
                "✖️ Cancelled {count} open requests.",
                len(dropped),
            ),
        )
    else:
        await reply(update, _("There is nothing to cancel."))


async def confirm_draft(update: Update, context: Context, data: ConfirmDraft) -> None:
    """Confirm on a card: the card becomes "Scheduled — task #N"."""
    async with _CardPress(update, context) as press:
        task = await press.use_cases.drafts.confirm(press.actor, data.draft_id)
        _ = press.words
        await press.query.answer(_("Scheduled as task #{number}", number=task.id))
        setup = setup_lines(press.words, task, press.use_cases)
        screen = shapes.scheduled(press.words, task, press.zone, setup=setup)
        await press.query.edit_message_text(
            screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard
        )


async def cancel_draft(update: Update, context: Context, data: CancelDraft) -> None:
    """Cancel on a card: the card says so."""
    async with _CardPress(update, context) as press:
        card = await press.use_cases.drafts.cancel(press.actor, data.draft_id)
        _ = press.words
        await press.query.answer(_("Cancelled"))
        await press.query.edit_message_text(
            render.cancelled(press.words, card), parse_mode=ParseMode.HTML
        )


async def edit_draft(update: Update, context: Context, data: EditDraft) -> None:
    """Edit on a card: the presser's next request replaces it, whether it replies to the
    prompt or not."""
    async with _CardPress(update, context) as press:
        await press.use_cases.edits.start(press.actor, data.draft_id)
        query = press.query
        prompt = await context.bot.send_message(
            press.chat.id,
            render.edit_prompt(press.words),
            reply_markup=ForceReply(
                selective=True, input_field_placeholder=render.edit_placeholder(press.words)
            ),
            reply_to_message_id=query.message.message_id if query.message else None,
        )
        # A reply to this prompt finds its draft through the prompt's message id.
        await press.use_cases.drafts.attach_edit_prompt(
            press.actor, data.draft_id, prompt.message_id
        )
        # Answered once the prompt is known: from then on a reply to it finds the draft.
        await query.answer()


class _CardPress(Press):
    """A press on a card: a request no longer open is said so (an expired card loses its
    buttons)."""

    async def answer_problem(self, error: CronpilotError) -> bool:
        _, query = self.words, self.query
        if isinstance(error, DraftExpiredError):
            await query.answer(problems.alert(_, error, self.zone), show_alert=True)
            await _drop_buttons(query.message)
        elif isinstance(error, DraftNotFoundError):
            # Already confirmed or cancelled (a second press, perhaps before the first one's
            # edit arrived): harmless, and the card stays as the first press left it.
            await query.answer(render.already_handled(_), show_alert=True)
        elif isinstance(
            error,
            (ScheduleError, QuotaExceededError, TaskNotFoundError, RefusedError, NoModelError),
        ):
            await query.answer(problems.alert(_, error, self.zone), show_alert=True)
        else:
            return False
        return True


async def _drop_buttons(message: object) -> None:
    if isinstance(message, Message):
        try:
            await message.edit_reply_markup(reply_markup=None)
        except BadRequest:
            return  # already without buttons


async def _edit_quietly(context: Context, chat_id: int, message_id: int, text: str) -> None:
    try:
        await context.bot.edit_message_text(
            text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML
        )
    except BadRequest:
        return  # deleted meanwhile, or already says so
