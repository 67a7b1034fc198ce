"""The cited source documents: each is readable in full, with the cited passage highlighted, the parts
that are not about the medicine marked as not used, and the list of questions that quote it.

Sources are read from the bank folder (`QUESTIONS_DIR/sources`), validated by the same loader as the
bank, and kept in memory for the life of the process: they change only with a deploy.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, request, url_for

from ..bank.citations import NormalisedText, find_quote
from ..bank.loader import SOURCES_FOLDER, BankError, Source, load_sources
from ..extensions import db
from ..models import Module, QuestionVersion
from ..patient.service import served_questions

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


def citation_view(citation: dict) -> CitationView:
    """A stored citation ({source, quote}) with its source's metadata and a link to the passage."""
    entry = sources().get(citation["source"])
    if entry is None:  # a source removed after the patient answered: still show the quote
        return CitationView(None, citation["quote"], None)
    source, folded = entry
    span = find_quote(folded, citation["quote"])
    url = url_for("sources.source_show", name=source.file)
    if span is not None:
        url = url_for("sources.source_show", name=source.file, passage=f"{span[0]}-{span[1]}",
                      _anchor="cited")
    return CitationView(source, citation["quote"], url)


@dataclass(frozen=True)
class Segment:
    kind: str  # "text", "cited" or "unrelated"
    text: str
    note: str = ""


def segments(source: Source, passage: tuple[int, int] | None) -> list[Segment]:
    """The source text cut at the cited passage and the unrelated regions (which never overlap: a
    citation into an unrelated region is refused when the bank loads)."""
    marks = [(r.start, r.end, "unrelated", r.note) for r in source.unrelated]
    if passage is not None and source.unrelated_region_at(*passage) is None:
        marks.append((passage[0], passage[1], "cited", ""))
    result: list[Segment] = []
    at = 0
    for start, end, kind, note in sorted(marks):
        if start > at:
            result.append(Segment("text", source.text[at:start]))
        result.append(Segment(kind, source.text[start:end], note))
        at = end
    if at < len(source.text):
        result.append(Segment("text", source.text[at:]))
    return result


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
    if start_text.isdigit() and end_text.isdigit():
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
    parts = segments(source, _passage(request.args.get("passage", ""), name))
    return render_template(
        "sources/show.html", source=source, segments=parts,
        has_passage=any(p.kind == "cited" for p in parts), citing=citing_questions(name),
    )
