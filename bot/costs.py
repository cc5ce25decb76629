"""What a task will cost, in the chat's words: the card's estimate line."""

from __future__ import annotations

from html import escape

from babel.numbers import format_decimal

from application.estimates import rounded
from application.records import Estimate
from bot.i18n import Translator


def cost_estimate(_: Translator, estimate: Estimate) -> str:
    """ "💵 ≈ $0.002 a run, ≈ $0.06 a month", free for a reminder, or that the cost is
    unknown."""
    if estimate.free:
        return _("💵 <b>Cost:</b> free: a reminder asks no AI model.")
    if estimate.loading:
        return _("💵 <b>Cost:</b> the price list is still loading; /task shows the estimate.")
    per_month = estimate.per_month_usd
    if estimate.per_run_usd is None or per_month is None:
        return _("💵 Cost unknown: no price for {model}.", model=escape(estimate.model))
    return _(
        "💵 <b>Cost:</b> ≈ {per_run} a run, ≈ {per_month} a month (estimate)",
        per_run=approximate_dollars(_, estimate.per_run_usd),
        per_month=approximate_dollars(_, per_month),
    )


def approximate_dollars(_: Translator, amount: float) -> str:
    """An amount rounded to two significant digits: "$0.0023", "$0.06", "$14"."""
    shown, places = rounded(amount)
    return "$" + format_decimal(
        shown, "#,##0." + "#" * places if places else "#,##0", locale=_.locale
    )
