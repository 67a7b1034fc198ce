"""The feedback card (result, every choice marked, why, remember, the way on, sources on request) and
where the patient is ("Question N of about M", "N of M topics done", suggested order, Next topic)."""
from __future__ import annotations

import re

import pytest

from quiz.assignments import create_assignment
from quiz.extensions import db
from tests.conftest import csrf_token
from tests.web.patient import Patient, text


def assign(app, module_ids, label="Bed 3"):
    with app.app_context():
        _, code = create_assignment(label, list(module_ids), 14)
        db.session.commit()
    return code


def first_multiple(bank):
    """A module whose first question is 'choose all' with several right answers (shape, not name)."""
    for module in bank.modules:
        served = [q for q in module.questions if not q.is_draft]
        if served and served[0].type == "multiple" and sum(c.correct for c in served[0].choices) >= 2:
            return module
    pytest.skip("no module starts with a choose-all question that has several right answers")


def marks(page: str) -> list[tuple[set[str], str, str]]:
    """(classes, choice text, status sentence) of each marked choice on a feedback card."""
    found = re.findall(
        r'<li class="mark ([^"]+)" data-read>.*?<span class="mark-text">(.*?)</span>\s*'
        r'<span class="mark-status">(.*?)</span>', page, re.S)
    return [(set(classes.split()), choice, status) for classes, choice, status in found]


def test_a_partly_right_choose_all_answer_marks_every_choice_in_words(app, client, bank):
    module = first_multiple(bank)
    patient = Patient(client, module.id)
    patient.start(assign(app, [module.id]))
    page = patient.card().text
    _, question = patient.question_on(page)
    right = [i for i, flag in enumerate(question.flags) if flag]
    wrong = [i for i, flag in enumerate(question.flags) if not flag]
    chosen = right[:1] + wrong[:1]
    patient.post_answer(page, choice=[str(i) for i in chosen])
    card = text(patient.card())
    assert "Not quite" in card
    assert f"You missed {len(right) - 1} of the {len(right)} right answers." in card
    assert "1 of your choices is not right." in card
    expected = {
        (True, True): "You chose this. It is right.", (True, False): "You chose this. It is not right.",
        (False, True): "You did not choose this. It is right.",
        (False, False): "You did not choose this. It is not right.",
    }
    shown = marks(card)
    assert len(shown) == len(question.flags)
    for index, (classes, _, status) in enumerate(shown):
        picked, correct = index in chosen, question.flags[index]
        assert status == expected[(picked, correct)]
        assert {"mark-chosen" if picked else "mark-not-chosen", "mark-right" if correct else "mark-wrong"} <= classes


def test_a_right_answer_marks_the_choices_too(client, assignment_code):
    patient = Patient(client)
    patient.start(assignment_code)
    _, question = patient.answer(correct=True)
    shown = marks(text(patient.card()))
    assert [status.startswith("You chose this") for _, _, status in shown] == list(question.flags)
    assert "You missed" not in text(patient.card())


def test_feedback_comes_first_and_sources_wait_behind_one_closed_disclosure(client, assignment_code):
    patient = Patient(client)
    patient.start(assignment_code)
    _, question = patient.answer(correct=False)
    card = text(patient.card())
    at = card.index('<h2 id="card-title"')
    for marker in ("Not quite", 'class="marked-choices"', ">Why<", question.explanation, ">Remember<",
                   question.key_point, "Next question", "Where this comes from", "<blockquote>"):
        assert marker in card[at:], f"{marker!r} is not after the parts that should come before it"
        at = card.index(marker, at)
    assert "<details open" not in card and card.count("<blockquote>") <= 2
    # No notes meant for staff beside the quotes, no Markdown markup.
    assert "consumer web page" not in card and "How far to trust it" not in card
    assert "**" not in card and "reliability" not in card


def test_the_ask_your_nurse_message_sits_right_under_the_result(client, assignment_code):
    patient = Patient(client)
    patient.start(assignment_code)
    first_key_point = None
    for _ in range(12):  # miss the first key point every time it comes round
        page = patient.card().text
        _, question = patient.question_on(page)
        first_key_point = first_key_point or question.key_point
        patient.answer(correct=question.key_point != first_key_point, page=page)
        card = text(patient.card())
        if "Ask your nurse to go over it with you" in card:
            assert card.index("Ask your nurse") < card.index('class="marked-choices"') < card.index(">Why<")
            return
        patient.next()
    raise AssertionError("the nurse message never showed")


def test_question_n_of_about_m_counts_from_the_state_the_page_has(client, assignment_code, app):
    patient = Patient(client)
    patient.start(assignment_code)
    with app.app_context():
        from quiz.models import Question

        key_points = len({q.current_version.key_point for q in db.session.execute(
            db.select(Question).where(Question.module_id == "stopping-safely")).scalars()
            if not q.current_version.is_draft})
    assert f"Question 1 of about {key_points}" in text(patient.card())
    patient.answer(correct=False)
    assert f"Question 1 of about {key_points + 1}" in text(patient.card())  # a miss adds a re-check
    patient.next()
    assert f"Question 2 of about {key_points + 1}" in text(patient.card())
    patient.answer(correct=True)
    assert f"Question 2 of about {key_points + 1}" in text(patient.card())


def test_topics_page_says_how_many_are_done_and_offers_critical_topics_first(app, client, bank):
    optional = next(m for m in bank.modules if not m.critical)
    critical = next(m for m in bank.modules if m.critical)
    patient = Patient(client, critical.id)
    patient.start(assign(app, [optional.id, critical.id]))  # the nurse listed the optional one first
    body = text(client.get("/quiz"))
    assert "0 of 2 topics done" in body
    assert body.index(f'id="module-{critical.id}"') < body.index(f'id="module-{optional.id}"')
    first_button = re.search(r'<a class="button([^"]*)"[^>]*aria-describedby="module-([^"]+)"', body)
    assert first_button.groups() == (" button-primary", critical.id)  # one clear place to start
    assert "Must learn before you go home" in body

    from tests.web.test_patient_routes import complete_module

    complete_module(patient, miss_first=False)
    body = text(client.get("/quiz"))
    assert "1 of 2 topics done" in body
    item = body[body.index(f'id="module-{critical.id}"'):body.index(f'id="module-{optional.id}"')]
    assert "Done" in item and "Must learn before you go home" not in item and "Look again" in item


def test_the_end_of_a_topic_offers_the_next_topic_then_the_results(app, client, bank):
    first, second = [m for m in bank.modules if m.critical][:2]
    patient = Patient(client, first.id)
    patient.start(assign(app, [first.id, second.id]))
    from tests.web.test_patient_routes import complete_module

    complete_module(patient, miss_first=False)
    card = text(patient.card())
    assert f"Next topic: {second.title}" in card and f'href="/quiz/{second.id}"' in card
    assert "1 of 2 topics done" in card
    complete_module(Patient(client, second.id), miss_first=False)
    card = text(Patient(client, second.id).card())
    assert "Next topic" not in card and "See my results" in card and "2 of 2 topics done" in card


def test_stop_for_now_asks_first_on_a_page_of_its_own(client, assignment_code):
    patient = Patient(client)
    patient.start(assignment_code)
    card = text(patient.card())
    assert 'href="/leave?back=/quiz/stopping-safely"' in card
    assert 'action="/leave"' not in card  # no one-tap sign-out beside the question
    page = client.get("/leave?back=/quiz/stopping-safely")
    assert page.status_code == 200 and "Stop for now?" in text(page)
    assert 'action="/leave"' in page.text and 'href="/quiz/stopping-safely">No, go back' in page.text
    assert client.get("/quiz").status_code == 200  # the GET changed nothing
    response = client.post("/leave", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303 and client.get("/quiz").status_code == 303


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_the_way_back_from_stop_for_now_stays_on_this_site(client, assignment_code, back):
    Patient(client).start(assignment_code)
    page = client.get("/leave", query_string={"back": back})
    assert 'href="/quiz">No, go back' in page.text


def test_no_markdown_characters_on_any_patient_page(app, client, bank):
    """Every page a patient meets: topics, summary, the leave page, a question and its feedback card,
    the sources it links to, and every source document in full (the documents are Markdown: bold, headings
    and lists must all read as plain text). The bank's shown quotes carry no Markdown (a bank gate);
    quotes that do are stripped too (tests/unit/test_patient_quotes.py)."""
    assert any("**" in source.text for source in bank.sources.values())
    module = bank.modules[0]
    patient = Patient(client, module.id)
    patient.start(assign(app, [m.id for m in bank.modules]))
    pages = [client.get(path) for path in ("/quiz", "/summary", "/leave", f"/quiz/{module.id}")]
    patient.answer(correct=True)
    card = patient.card()
    pages.append(card)
    links = re.findall(r'href="(/sources/[^"]+)"', card.text)
    assert links
    pages += [client.get(href.replace("&amp;", "&")) for href in links]
    assert '<mark id="cited"' in pages[-1].text
    pages += [client.get(f"/sources/{name}") for name in bank.sources]  # every document, in full
    for response in pages:
        assert response.status_code == 200, response.request.path
        visible = re.sub(r"<[^>]+>", " ", re.split(r"<body[^>]*>", text(response))[1])
        assert "*" not in visible and "#" not in visible, response.request.path
