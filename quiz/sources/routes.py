"""The cited source documents: each is readable in full, with the cited passage highlighted.

Sources are read from the bank folder (`QUESTIONS_DIR/sources`), validated by the same loader as the
bank, and kept in memory for the life of the process: they change only with a deploy.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, render_template, request, url_for

from ..bank.citations import NormalisedText, find_quote
from ..bank.loader import SOURCES_FOLDER, BankError, Source, load_sources

bp = Blueprint("sources", __name__)


@dataclass(frozen=True)
class CitationView:
    source: Source | None
    quote: str
    url: str | None


def sources() -> dict[str, tuple[Source, NormalisedText]]:
    cached = current_app.extensions.get("quiz_sources")
    if cached is None:
        from pathlib import Path

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


@bp.get("/sources/<name>")
def source_show(name: str):
    entry = sources().get(name)
    if entry is None:
        abort(404)
    source, _ = entry
    before, passage, after = source.text, "", ""
    raw = request.args.get("passage", "")
    start_text, _, end_text = raw.partition("-")
    if start_text.isdigit() and end_text.isdigit():
        start, end = int(start_text), int(end_text)
        if 0 <= start < end <= len(source.text):
            before, passage, after = source.text[:start], source.text[start:end], source.text[end:]
    return render_template("sources/show.html", source=source, before=before, passage=passage,
                           after=after)
