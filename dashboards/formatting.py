"""Numbers formatted for people: money with currency, percentages, days, counts; and text
from the data shown as the literal characters it holds. Figures round half up
(``models.value.numbers.half_up``), as every export and reason does."""

from __future__ import annotations

import html
import math
import re
from decimal import Decimal

from models.value.numbers import half_up

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF "}
_SUFFIXES = ((1e9, "bn"), (1e6, "M"), (1e3, "k"))


def _is_unknown(value) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def money(value: Decimal | float | int | None, currency: str, *, compact: bool = False) -> str:
    """``€1,234,567`` or, compact, ``€1.2M``; unknown is an en dash, never zero."""
    if _is_unknown(value):
        return "–"
    amount = float(value)
    symbol = _SYMBOLS.get(currency, f"{currency} ")
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if compact:
        for threshold, suffix in _SUFFIXES:
            if amount >= threshold:
                return f"{sign}{symbol}{half_up(amount / threshold, 1):.1f}{suffix}"
    return f"{sign}{symbol}{half_up(amount):,.0f}"


def percent(value: Decimal | float | None, *, digits: int = 1, signed: bool = False) -> str:
    """A ratio (0.125) as ``12.5%``; ``signed`` adds ``+`` for changes."""
    if _is_unknown(value):
        return "–"
    number = half_up(float(value) * 100, digits)
    return f"{number:+.{digits}f}%" if signed else f"{number:.{digits}f}%"


def days(value: Decimal | float | None) -> str:
    if _is_unknown(value):
        return "–"
    return f"{half_up(float(value)):,.0f} days"


def count(value: int | None) -> str:
    return "–" if _is_unknown(value) else f"{int(value):,}"


_MARKDOWN_SPECIAL = set("\\`*_{}[]()<>#+-.!|~$:&")


# GFM links bare addresses (``http://``, ``www.``, ``name@host``) after escapes are read, so
# a backslash cannot stop it: an invisible word joiner inside each one does.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)
_WORD_JOINER = "\u2060"


def literal(text: object) -> str:
    """``text`` for a Markdown string (captions, warnings): every character that Markdown
    or HTML would read (``*``, ``[``, ``<``, ``!``, ...) backslash-escaped, and a word
    joiner (invisible) inside ``://``, ``www.`` and before ``@`` so no bare address is
    linked: a name from the data shows as the characters it holds and creates no link,
    image or markup."""
    joined = _AUTOLINK.sub(_WORD_JOINER, str(text))
    return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in joined)


def plain_for_plotly(text: object) -> str | None:
    """``text`` for a Plotly label (title, tick, hover, annotation, node): HTML-escaped, so
    a name holding ``<b>``, ``<a href=...>`` or ``<br>`` shows those characters; Plotly
    turns the entities back into the characters it draws. ``None`` stays ``None``."""
    return None if text is None else html.escape(str(text), quote=False)
