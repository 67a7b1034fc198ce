"""The source viewer: metadata, the cited passage highlighted, unrelated parts marked as not used, and
the questions that quote the source."""
from __future__ import annotations

import re

import pytest

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


def _cited(bank, source=SOURCE):
    return next(c for q in bank.questions if not q.is_draft for c in q.citations if c.source == source)


def test_the_passage_comes_first_with_a_little_context_and_the_rest_folded(client, bank):
    citation = _cited(bank)
    body = text(client.get(f"/sources/{SOURCE}?passage={citation.start}-{citation.end}&module=stopping-safely"))
    excerpt = body[body.index('class="source-text excerpt"'):body.index('<details class="whole-text">')]
    assert '<mark id="cited" tabindex="-1">' in excerpt
    assert len(re.sub(r"<[^>]+>", "", excerpt)) < 1500  # a little context, not the page
    assert body.count('id="cited"') == 1  # the whole text repeats the highlight without the id
    assert '<a href="/quiz/stopping-safely"><span aria-hidden="true">&larr; </span>Back to my question</a>' in \
        client.get(f"/sources/{SOURCE}?passage={citation.start}-{citation.end}&module=stopping-safely").text
    # Staff notes sit in their own closed section.
    about = body[body.index('<details class="about-source">'):]
    assert bank.sources[SOURCE].reliability in about and "How far to trust it" not in body[:body.index(about)]


@pytest.mark.parametrize("module", ["", "../../evil", "Stopping Safely", "a/b"])
def test_without_a_sensible_module_the_way_back_is_the_quiz(client, module):
    body = client.get(f"/sources/{SOURCE}", query_string={"module": module}).text
    assert "Back to my question" not in body and 'href="/quiz"' in body


def test_parts_the_brief_marks_as_disputed_are_labelled_on_the_source_page(tmp_path, bank):
    import shutil

    import yaml

    from tests.conftest import QUESTIONS_DIR, make_app

    shutil.copytree(QUESTIONS_DIR, tmp_path / "bank")
    path = tmp_path / "bank" / "sources" / "sources.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = next(e for e in data["sources"] if e["file"] == SOURCE)
    entry["disputed"] = [{"starts": "Can be used in certain cases of Parkinson", "ends": "stroke-related spasticity.",
                          "note": "uses: the brief says not to teach them"}]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    app = make_app(QUESTIONS_DIR=str(tmp_path / "bank"))
    from quiz.extensions import db

    with app.app_context():
        db.create_all()
    body = text(app.test_client().get(f"/sources/{SOURCE}"))
    assert body.count('<span class="disputed"><span class="region-label">The quiz does not teach this part.</span>') == 1
    marked = body.split("The quiz does not teach this part.</span>")[1].split("</span>")[0]
    assert "Parkinson" in marked and "stroke-related spasticity." in marked
    with app.app_context():
        db.drop_all()
