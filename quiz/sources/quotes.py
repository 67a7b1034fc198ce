"""How quotes from the sources read on a patient's screen: which ones they see, and without Markdown.

Which quotes (data, not guesswork): a question version's citations may carry `"show": true`, set by
the bank's authors and checked by `questions check`. A patient sees the marked ones. A version with none
marked (versions stored before the field existed, and questions nobody has marked yet) shows its first
citation: by the bank's convention a question lists its main support first. Whatever the data says,
a card never shows more than `MAX_PATIENT_QUOTES`; quotes that read the same once cleaned (the same
sentence cited from two sources, say) are merged into one quote with both sources named. Staff pages
show the full list (`quiz.sources.routes.citation_view`).

How they read: the sources are web pages saved as text, some written in Markdown. The checked quote
keeps the source's exact characters (`**Seizures:**`), but a patient reads plain words: `plain_text`
takes out emphasis markers, heading marks and horizontal rules, and turns list markers into bullets.
The source page applies the same cleaning to the document itself.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..bank.citations import normalise

MAX_PATIENT_QUOTES = 2

_HEADING = re.compile(r"^([ \t]*)#{1,6}[ \t]+", re.M)
_LIST_ITEM = re.compile(r"^([ \t]*)[*+-][ \t]+(?=\S|\Z)", re.M)
_RULE = re.compile(r"^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$", re.M)
_EMPHASIS = re.compile(r"\*+|(?<!\w)_{1,2}(?=\w)|(?<=\w)_{1,2}(?!\w)")
BULLET = "\u2022 "


def plain_text(text: str, line_start: bool = True) -> str:
    """`text` without Markdown markup. `line_start=False` says `text` begins in the middle of a line
    (a piece cut out of a document), so its first line cannot be a heading or a list item."""
    if not line_start:
        head, newline, rest = text.partition("\n")
        return _EMPHASIS.sub("", head) + newline + (plain_text(rest) if newline else "")
    text = _RULE.sub("", text)
    text = _HEADING.sub(r"\1", text)
    text = _LIST_ITEM.sub(lambda m: m.group(1) + BULLET, text)
    return _EMPHASIS.sub("", text)


def plain_quote(quote: str) -> str:
    """A quote as a patient reads it: no markup, no leading bullet, single spaces."""
    return " ".join(plain_text(quote).replace(BULLET, " ").split())


@dataclass(frozen=True)
class QuoteSource:
    title: str
    url: str | None


@dataclass(frozen=True)
class PatientQuote:
    text: str
    sources: tuple[QuoteSource, ...]


def shown_citations(citations: Sequence[dict]) -> list[dict]:
    """The citations a patient sees: those marked `show`, else the first one (see module docstring)."""
    marked = [c for c in citations if c.get("show") is True]
    return marked or list(citations[:1])


def patient_quotes(
    citations: Sequence[dict], describe: Callable[[dict], QuoteSource],
) -> list[PatientQuote]:
    """At most `MAX_PATIENT_QUOTES` cleaned quotes, duplicates merged; `describe` names a citation's
    source and links to its passage."""
    merged: dict[str, tuple[str, list[QuoteSource]]] = {}
    for citation in shown_citations(citations):
        text = plain_quote(citation["quote"])
        key = normalise(text).casefold()
        if key not in merged:
            if len(merged) == MAX_PATIENT_QUOTES:
                continue
            merged[key] = (text, [])
        source = describe(citation)
        if source not in merged[key][1]:
            merged[key][1].append(source)
    return [PatientQuote(text, tuple(sources)) for text, sources in merged.values()]
