"""Which quotes a patient sees (data: `show`), merged and cleaned of Markdown; the source page's cut."""
from __future__ import annotations

import pytest

from quiz.bank.loader import Region, Source
from quiz.sources.quotes import MAX_PATIENT_QUOTES, QuoteSource, patient_quotes, plain_quote, plain_text, \
    shown_citations
from quiz.sources.routes import excerpt, segments


def cite(quote, source="a.txt", show=None):
    return {"source": source, "quote": quote, **({"show": show} if show is not None else {})}


def describe(citation):
    return QuoteSource(citation["source"].upper(), f"/sources/{citation['source']}")


def test_marked_quotes_are_the_ones_shown():
    citations = [cite("First."), cite("Second.", show=True), cite("Third."), cite("Fourth.", show=True)]
    assert [c["quote"] for c in shown_citations(citations)] == ["Second.", "Fourth."]


def test_without_marks_the_first_quote_is_shown():
    citations = [cite("First."), cite("Second."), cite("Third.", show=False)]
    assert [c["quote"] for c in shown_citations(citations)] == ["First."]
    assert shown_citations([]) == []


def test_never_more_than_two_even_if_the_data_marks_more():
    citations = [cite(f"Quote {n}.", show=True) for n in range(5)]
    quotes = patient_quotes(citations, describe)
    assert len(quotes) == MAX_PATIENT_QUOTES == 2
    assert [q.text for q in quotes] == ["Quote 0.", "Quote 1."]


def test_duplicates_are_merged_with_both_sources_named():
    citations = [
        cite("Never stop **suddenly**.", "a.txt", show=True),
        cite("Never stop suddenly.", "b.txt", show=True),  # the same words once cleaned
        cite("Never stop  suddenly.", "a.txt", show=True),  # the same source again: named once
        cite("Ask your doctor.", "c.txt", show=True),
    ]
    quotes = patient_quotes(citations, describe)
    assert [q.text for q in quotes] == ["Never stop suddenly.", "Ask your doctor."]
    assert [s.title for s in quotes[0].sources] == ["A.TXT", "B.TXT"]


def test_a_duplicate_beyond_the_limit_still_adds_its_source():
    citations = [cite("One.", "a.txt", show=True), cite("Two.", show=True), cite("Three.", show=True),
                 cite("One.", "b.txt", show=True)]
    quotes = patient_quotes(citations, describe)
    assert [q.text for q in quotes] == ["One.", "Two."]
    assert [s.title for s in quotes[0].sources] == ["A.TXT", "B.TXT"]


@pytest.mark.parametrize("raw, plain", [
    ("**Seizures:**  Sudden, uncontrolled electrical activity in the brain.",
     "Seizures: Sudden, uncontrolled electrical activity in the brain."),
    ("Can I drink alcohol while taking Baclofen?**  No.", "Can I drink alcohol while taking Baclofen? No."),
    ("# Baclofen", "Baclofen"),
    ("## Side effects *may* vary", "Side effects may vary"),
    ("* **Drowsiness:** This is a very common side effect", "Drowsiness: This is a very common side effect"),
    ("- a list item", "a list item"),
    ("__Note:__ take with food", "Note: take with food"),
    ("Plain words stay as they are: 5 mg, kidney_disease.", "Plain words stay as they are: 5 mg, kidney_disease."),
])
def test_quotes_read_without_markup(raw, plain):
    assert plain_quote(raw) == plain


def test_documents_keep_their_lines_and_get_real_bullets():
    text = "---\nlayout: default\n---\n# Title\n\n* **One:** first\n* Two\n  - nested\nA 3 * 4 product"
    assert plain_text(text) == "\nlayout: default\n\nTitle\n\n\u2022 One: first\n\u2022 Two\n  \u2022 nested\nA 3  4 product"


def test_a_piece_cut_mid_line_is_not_taken_for_a_list_item():
    assert plain_text("* not a bullet here", line_start=False) == " not a bullet here"
    assert plain_text("end of line\n* bullet", line_start=False) == "end of line\n\u2022 bullet"


SOURCE_TEXT = (
    "Intro line about the medicine.\n\n"
    "Less common but serious side effects may include:\n\n"
    "  * Severe drowsiness or trouble breathing\n"
    "  * Confusion or hallucinations\n\n"
    "A wrong claim sits here.\n"
    "Footer with other posts."
)


def source(disputed=(), unrelated=()):
    return Source("s.txt", "S", "kind", "note", SOURCE_TEXT, tuple(unrelated), tuple(disputed))


def span(text):
    start = SOURCE_TEXT.index(text)
    return start, start + len(text)


def test_an_excerpt_gives_a_short_passage_its_lines_around_it():
    passage = span("Confusion or hallucinations")
    start, end = excerpt(source(), passage)
    shown = SOURCE_TEXT[start:end]
    assert shown.startswith("Less common but serious") and "Confusion or hallucinations" in shown
    assert start <= passage[0] and passage[1] <= end


def test_an_excerpt_does_not_reach_into_an_unrelated_part():
    footer = Region(*span("Footer with other posts."), "other posts")
    start, end = excerpt(source(unrelated=[footer]), span("A wrong claim sits here."))
    assert "Footer" not in SOURCE_TEXT[start:end]


def test_segments_mark_the_passage_and_the_disputed_part_and_lose_nothing():
    wrong = Region(*span("A wrong claim sits here."), "wrong: see the brief")
    doc = source(disputed=[wrong])
    parts = segments(doc, span("Confusion or hallucinations"))
    assert "".join(p.text for p in parts) == SOURCE_TEXT
    assert [(p.kind, p.text) for p in parts if p.kind != "text"] == [
        ("cited", "Confusion or hallucinations"), ("disputed", "A wrong claim sits here.")]
    inner = segments(doc, span("Confusion or hallucinations"), *span("trouble breathing\n  * Confusion"))
    assert "".join(p.text for p in inner) == "trouble breathing\n  * Confusion"
    assert [p.kind for p in inner] == ["text", "cited"]
    assert inner[0].line_start is False and inner[0].plain == "trouble breathing\n  \u2022 "


def test_a_passage_inside_a_disputed_part_is_never_highlighted():
    wrong = Region(*span("A wrong claim sits here."), "wrong")
    parts = segments(source(disputed=[wrong]), span("wrong claim"))
    assert "cited" not in [p.kind for p in parts]
