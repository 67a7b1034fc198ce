"""The cited source documents, as a patient meets them from a feedback card: the cited passage with a
little context first (`excerpt`), the whole document folded away below it with the parts the clinical
brief marks as wrong or disputed labelled "The quiz does not teach this part" and the parts that are not
about the medicine folded away again, Markdown taken out (`quotes.plain_text`), and a link back to the
patient's question. Notes meant for staff (kind of source, how far to trust it, the questions that quote
it) sit in their own closed section.

Sources are read from the bank folder (`QUESTIONS_DIR/sources`), validated by the same loader as the
bank, and kept in memory for the life of the process: they change only with a deploy.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, request, url_for

from ..bank.citations import NormalisedText, find_quote
from ..bank.loader import ID_PATTERN, SOURCES_FOLDER, BankError, Source, load_sources
from ..extensions import db
from ..models import Module, QuestionVersion
from ..patient.service import served_questions
from .quotes import QuoteSource, plain_text

bp = Blueprint("sources", __name__)


@dataclass(frozen=True)
class CitationView:
    source: Source | None
    quote: str
    url: str | None


def sources() -> dict[str, tuple[Source, NormalisedText]]:
    cached = current_app.extensions.get("quiz_sources")
    if cached is None:
        problems: list = []
        found = load_sources(Path(current_app.config["QUESTIONS_DIR"]) / SOURCES_FOLDER, problems)
        if problems:
            raise BankError(problems)
        cached = {name: (source, NormalisedText.of(source.text)) for name, source in found.items()}
        current_app.extensions["quiz_sources"] = cached
    return cached


def citation_view(citation: dict, module_id: str | None = None) -> CitationView:
    """A stored citation ({source, quote}) with its source's metadata and a link to the passage (with
    the module to go back to, when the link is followed from a question card)."""
    entry = sources().get(citation["source"])
    if entry is None:  # a source removed after the patient answered: still show the quote
        return CitationView(None, citation["quote"], None)
    source, folded = entry
    span = find_quote(folded, citation["quote"])
    back = {"module": module_id} if module_id else {}
    url = url_for("sources.source_show", name=source.file, **back)
    if span is not None:
        url = url_for("sources.source_show", name=source.file, passage=f"{span[0]}-{span[1]}", **back,
                      _anchor="cited")
    return CitationView(source, citation["quote"], url)


def quote_source(citation: dict, module_id: str | None = None) -> QuoteSource:
    """What a patient's quote says about where it comes from: the title and the link, nothing else."""
    view = citation_view(citation, module_id)
    if view.source is None:
        return QuoteSource("a source that is no longer in use", None)
    return QuoteSource(view.source.title, view.url)


@dataclass(frozen=True)
class Segment:
    kind: str  # "text", "cited", "unrelated" or "disputed"
    text: str
    note: str = ""
    line_start: bool = True  # the piece begins a line of the document

    @property
    def plain(self) -> str:
        return plain_text(self.text, self.line_start)


def segments(source: Source, passage: tuple[int, int] | None, start: int = 0,
             end: int | None = None) -> list[Segment]:
    """The source text from `start` to `end`, cut at the cited passage and at the unrelated and
    disputed regions (none of which overlap a cited passage: such a citation is refused when the bank
    loads; unrelated and disputed regions are not expected to overlap each other, and where they do
    the earlier one wins)."""
    end = len(source.text) if end is None else end
    marks = [(_from_line_start(source.text, r.start), r.end, "unrelated", r.note) for r in source.unrelated]
    marks += [(_from_line_start(source.text, r.start), r.end, "disputed", r.note) for r in source.disputed]
    if passage is not None and source.unrelated_region_at(*passage) is None \
            and source.disputed_region_at(*passage) is None:
        marks.append((passage[0], passage[1], "cited", ""))
    result: list[Segment] = []
    at = start

    def cut(kind: str, upto: int, note: str = "") -> None:
        if upto > at:
            line_start = at == 0 or source.text[at - 1] == "\n"
            result.append(Segment(kind, source.text[at:upto], note, line_start))

    for mark_start, mark_end, kind, note in sorted(marks):
        mark_start, mark_end = max(mark_start, at), min(mark_end, end)
        if mark_end <= mark_start:
            continue
        cut("text", mark_start)
        at = mark_start
        cut(kind, mark_end, note)
        at = mark_end
    cut("text", end)
    return result


_LINE_LEAD = re.compile(r"[ \t]*(?:[*+\-\u2022]|\d+\.)?[ \t]*")


def _from_line_start(text: str, start: int) -> int:
    """A region shown as a box starts at the beginning of its line when only indentation or a list
    marker comes before it there, so no bullet is left behind outside the box."""
    line_start = text.rfind("\n", 0, start) + 1
    return line_start if _LINE_LEAD.fullmatch(text, line_start, start) else start


# The cited passage is shown with at least this much of its document around it, in whole lines.
EXCERPT_MIN_CHARS = 280
EXCERPT_MAX_EXTRA_LINES = 2


def excerpt(source: Source, passage: tuple[int, int]) -> tuple[int, int]:
    """Where the context shown around `passage` starts and ends: the whole lines it is on, plus up to
    two more lines before and after while the excerpt is short (a list item alone says little), never
    reaching into a part that is not about the medicine."""
    text = source.text
    lines: list[tuple[int, int]] = []
    at = 0
    for line in text.split("\n"):
        lines.append((at, at + len(line)))
        at += len(line) + 1
    starts = [start for start, _ in lines]
    first = bisect_right(starts, passage[0]) - 1
    last = bisect_right(starts, max(passage[1] - 1, passage[0])) - 1

    def usable(index: int) -> bool:
        start, end = lines[index]
        return bool(text[start:end].strip()) and source.unrelated_region_at(start, end) is None

    for _ in range(EXCERPT_MAX_EXTRA_LINES):
        if lines[last][1] - lines[first][0] >= EXCERPT_MIN_CHARS:
            break
        before = next((i for i in range(first - 1, -1, -1) if text[slice(*lines[i])].strip()), None)
        if before is not None and usable(before):
            first = before
        after = next((i for i in range(last + 1, len(lines)) if text[slice(*lines[i])].strip()), None)
        if after is not None and usable(after):
            last = after
    start, end = lines[first][0], lines[last][1]
    start += len(text[start:end]) - len(text[start:end].lstrip())
    return start, end


def citing_questions(name: str) -> list[tuple[Module, str]]:
    """(module, prompt) of every question patients can see whose current version quotes `name`."""
    found = [
        (question.module, question.current_version.prompt)
        for question in served_questions()
        if any(c["source"] == name for c in question.current_version.citations)
    ]
    return sorted(found, key=lambda pair: (pair[0].position, pair[0].id))


def cited_spans(name: str) -> set[tuple[int, int]]:
    """Where any stored question version, current or past, quotes the source `name`."""
    _, folded = sources()[name]
    spans = set()
    for citations in db.session.execute(db.select(QuestionVersion.citations)).scalars():
        for citation in citations:
            if citation["source"] == name:
                span = find_quote(folded, citation["quote"])
                if span is not None:
                    spans.add(span)
    return spans


def _passage(raw: str, name: str) -> tuple[int, int] | None:
    """The passage named in the link, if a question really quotes it: the page says "the part the quiz
    quotes", so it must not highlight whatever a crafted link asks for."""
    start_text, _, end_text = raw.partition("-")
    # ASCII digits only: str.isdigit() accepts '²', which int() refuses (a 500 on `passage=²-1`).
    if all(t.isascii() and t.isdigit() for t in (start_text, end_text)):
        span = (int(start_text), int(end_text))
        if span in cited_spans(name):
            return span
    return None


@bp.get("/sources/<name>")
def source_show(name: str):
    entry = sources().get(name)
    if entry is None:
        abort(404)
    source, _ = entry
    passage = _passage(request.args.get("passage", ""), name)
    module_id = request.args.get("module", "")
    back_url = (url_for("patient.module_card", module_id=module_id) if ID_PATTERN.match(module_id)
                else None)
    context = segments(source, passage, *excerpt(source, passage)) if passage else []
    return render_template(
        "sources/show.html", source=source, segments=segments(source, passage), excerpt=context,
        has_passage=any(p.kind == "cited" for p in context), citing=citing_questions(name),
        back_url=back_url,
    )
