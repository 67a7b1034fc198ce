"""The source viewer: metadata, the cited passage highlighted, unrelated parts marked as not used, and
the questions that quote the source."""
from __future__ import annotations

from quiz.sources.routes import segments
from tests.web.patient import text

SOURCE = "003_cc7d42d20a1fa13c.txt"


def test_unrelated_parts_are_marked_as_not_used(client, bank):
    body = text(client.get(f"/sources/{SOURCE}"))
    assert body.count('<details class="unrelated">') == len(bank.sources[SOURCE].unrelated)
    assert "Left out: product ratings. It is not about this medicine." in body
    assert "Lioresal: 7.4/10" in body.split("Left out: product ratings")[1]


def test_the_questions_that_quote_a_source_are_listed(client, bank):
    body = text(client.get(f"/sources/{SOURCE}"))
    citing = [q for q in bank.questions if not q.is_draft and any(c.source == SOURCE for c in q.citations)]
    assert citing
    for question in citing:
        assert question.prompt in body
    for draft in (q for q in bank.questions if q.is_draft):
        assert draft.prompt not in body


def test_a_cited_passage_and_the_unrelated_regions_cut_the_text_without_loss(bank):
    source = bank.sources[SOURCE]
    citation = next(c for q in bank.questions for c in q.citations if c.source == SOURCE)
    parts = segments(source, (citation.start, citation.end))
    assert "".join(p.text for p in parts) == source.text
    assert [p.kind for p in parts].count("cited") == 1
    assert [p.kind for p in parts].count("unrelated") == len(source.unrelated)


def test_a_passage_pointing_into_an_unrelated_region_is_not_highlighted(bank):
    source = bank.sources[SOURCE]
    region = source.unrelated[0]
    parts = segments(source, (region.start + 1, region.start + 5))
    assert "cited" not in [p.kind for p in parts]


def test_a_feedback_card_links_each_quote_to_its_passage(client, assignment_code, bank):
    from tests.web.patient import Patient

    patient = Patient(client)
    patient.start(assignment_code)
    patient.answer(correct=True)
    card = patient.card().get_data(as_text=True)
    import re

    links = re.findall(r'href="(/sources/[^"]+)"', card)
    assert links
    for link in links:
        page = client.get(link.replace("&amp;", "&").split("#")[0])
        assert page.status_code == 200 and '<mark id="cited"' in page.text


def test_a_crafted_passage_that_no_question_quotes_is_not_highlighted(client, bank):
    source = bank.sources[SOURCE]
    start = source.text.index("Baclofen is one of several options")
    response = client.get(f"/sources/{SOURCE}?passage={start}-{start + 30}")
    assert response.status_code == 200 and "<mark" not in response.text
    start = source.text.index("Most people tolerate baclofen well")
    response = client.get(f"/sources/{SOURCE}?passage={start}-{start + 20}")
    assert "<mark" not in response.text
