"""Whether a request is a reminder (its words are posted as they are, no model needed) or asks
for work (the model runs it), and a reminder's words.

A reminder asks only to be reminded of something the person will do: "remind me to drink
water", "at 5pm remind me to call mum", "every friday: timesheet!". A request whose text needs
information or work stays an AI task: "remind me of the weather", "remind me to stretch and
tell me the top news", "summarize HN". The reading is deliberately cautious: a request that
does not say "remind" is a reminder only when it is a short note with no word of work in it,
and the card always says which it is, with one button to switch.
"""

from __future__ import annotations

import re
from typing import Final

from storage.records import TaskMode

# "Remind me to …", in the languages the bot speaks, and the other ways of saying it.
_REMINDER_LEAD: Final = re.compile(
    r"^\s*(?:"
    r"(?:please\s+)?remind\s+(?:me|us|everyone|the\s+team|all)\b(?:\s*(?:to|that|about|of|:|,|-))?"
    r"|reminder\s*(?::|-|to\b)"
    r"|(?:don'?t|do\s+not)\s+forget\s+(?:to\b)?"
    r"|remember\s+to\b"
    r"|time\s+to\b"
    r"|erinnere?\s+(?:mich|uns)\b(?:\s+(?:daran,?\s*)?(?:zu|an|dass)\b)?"
    r"|recu[ée]rda(?:me|nos)\b(?:\s+(?:que|de)\b)?"
    r"|rappelle[- ]?(?:moi|nous)\b(?:\s+(?:de|d'|que|qu')\b)?"
    r"|(?:lembra|lembre)[- ]?(?:me|nos)\b(?:\s+(?:de|que)\b)?"
    r"|me\s+lembr[ea]\b(?:\s+(?:de|que)\b)?"
    r"|напомн(?:и|ите)\b(?:\s+(?:мне|нам))?(?:\s*,?\s*(?:что|чтобы|о|об|про)\b)?"
    r")\s*[:,\-]?\s*",
    re.IGNORECASE,
)

# Words that ask for information or for something the model makes: with one of them the
# request is an AI task even when it says "remind me" ("remind me of the weather").
_ASKS: Final = re.compile(
    r"\b(?:"
    r"tell\s+(?:me|us)|give\s+(?:me|us)|send\s+(?:me|us)|show\s+(?:me|us)|let\s+(?:me|us)\s+know"
    r"|summari[sz]e|summary|summaries|digest|briefing|news|headlines?|weather|forecast"
    r"|prices?|stocks?|exchange\s+rates?|scores?|translate|joke|jokes|quote|poem|trending"
    r"|what'?s|what\s+is|what\s+are|how\s+is|how\s+are|why|whether"
    r"|wetter|nachrichten|tiempo|noticias|m[ée]t[ée]o|nouvelles|actualit[ée]s|not[íi]cias|clima"
    r"|погод\w*|новост\w*|курс\w*"
    r")\b",
    re.IGNORECASE,
)
# Words of work the model would do: a short note without "remind" that has one ("top stories",
# "write a haiku") is an AI task; after "remind me to" they are the person's own work ("remind
# me to write the report"). What people write in their to-do lists ("submit the report", "review
# the draft", "check the oven") stays a reminder.
_WORK: Final = re.compile(
    r"\b(?:search|look\s+up|find|fetch|(?:write|draft|compose)\s+(?:a|an|me|us|some|\d+)"
    r"|generate|suggest|recommend|explain|analy[sz]e|compare|monitor|latest|top|ideas|tips"
    r"|story|stories|facts|traffic|what|which|who|how)\b",
    re.IGNORECASE,
)
# Verbs that start a request for work when a short note starts with them ("list the open
# issues", "say hi"): a note that is a reminder starts with what the person will do.
_WORK_VERB_START: Final = re.compile(
    r"^\s*(?:check\s+(?:https?:|if|whether|for)|list|scan|collect|gather|say|greet|quiz|ask"
    r"|tell|give|show|report|write|draft|compose)\b",
    re.IGNORECASE,
)
_URL: Final = re.compile(r"https?://|www\.", re.IGNORECASE)
# A short note without "remind" ("Timesheet!", "stand up and stretch") is a reminder.
NOTE_WORDS = 6


def task_mode(prompt: str) -> TaskMode:
    """What a request's runs should do: post it as a reminder, or have the model work on it."""
    text = prompt.strip()
    if not text or _URL.search(text) or _ASKS.search(text) or text.endswith("?"):
        return TaskMode.AI
    if _REMINDER_LEAD.match(text):
        return TaskMode.REMINDER
    short = len(text.split()) <= NOTE_WORDS
    if short and not _WORK.search(text) and not _WORK_VERB_START.match(text):
        return TaskMode.REMINDER
    return TaskMode.AI


def reminder_words(prompt: str) -> str:
    """What a reminder posts: the request without its "remind me to", first letter capital
    ("Remind me to drink water" → "Drink water"); the whole prompt if that leaves nothing."""
    text = prompt.strip()
    lead = _REMINDER_LEAD.match(text)
    words = text[lead.end() :].strip() if lead else text
    if not words:
        return text
    return words[:1].upper() + words[1:]
