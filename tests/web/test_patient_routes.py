"""Every patient route through the Flask test client, as a full page and as an htmx fragment."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from quiz.extensions import db
from quiz.models import Answer, Assignment, utcnow
from tests.conftest import csrf_token
from tests.web.patient import HX, Patient, answers_stored, text

CODE_PROBLEM = "We could not open a quiz with that code."


def is_fragment(response) -> bool:
    body = response.get_data(as_text=True)
    return "<html" not in body and 'id="card"' in body


def is_page(response) -> bool:
    body = response.get_data(as_text=True)
    return body.lstrip().startswith("<!doctype html>") and 'id="card"' in body


# --- start page and codes -------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_start_page(client, headers):
    response = client.get("/", headers=headers)
    assert response.status_code == 200
    assert (is_fragment if headers else is_page)(response)
    assert "Enter the code from your nurse" in text(response)
    assert "HX-Request" in response.headers["Vary"]


def test_right_code_opens_the_quiz_with_303(client, assignment_code):
    response = Patient(client).start(assignment_code.lower())
    assert response.status_code == 303 and response.headers["Location"] == "/quiz"


@pytest.mark.parametrize("code", ["", "NOPE", "ABCD-EFGH", "ABCD-EFGH-" * 30])
def test_wrong_code_gets_a_clear_message_and_422(client, code):
    response = Patient(client).start(code)
    assert response.status_code == 422
    body = text(response)
    assert any(m in body for m in (CODE_PROBLEM, "Enter the code your nurse gave you.",
                                   "cannot be longer than 40 characters"))
    assert 'aria-invalid="true"' in body


def test_expired_revoked_and_unknown_codes_look_the_same(client, app):
    from quiz.assignments import create_assignment

    with app.app_context():
        expired, expired_code = create_assignment("Bed 1", ["stopping-safely"], 1)
        revoked, revoked_code = create_assignment("Bed 2", ["stopping-safely"], 1)
        expired.expires_at = utcnow() - timedelta(minutes=1)
        revoked.revoked_at = utcnow()
        db.session.commit()
    bodies = set()
    for code in (expired_code, revoked_code, "ZZZZ-ZZZZ"):
        response = Patient(client).start(code)
        assert response.status_code == 422
        bodies.add(text(response).replace(csrf_token(response.text), "").replace(code, "CODE"))
    assert len(bodies) == 1  # no hint which codes exist


def test_start_link_fills_the_code_in_and_start_opens_the_quiz(client, assignment_code):
    link = f"/start/{assignment_code[:4]}-{assignment_code[4:]}"
    page = client.get(link)
    assert page.status_code == 200
    assert f'value="{assignment_code[:4]}-{assignment_code[4:]}"' in page.text
    assert "Your code is filled in below" in text(page)
    assert client.get("/quiz").status_code == 303  # the GET alone signed nothing in
    response = client.post("/", data={"code": f"{assignment_code[:4]}-{assignment_code[4:]}",
                                      "csrf_token": csrf_token(page.text)})
    assert response.status_code == 303 and response.headers["Location"] == "/quiz"


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_bad_start_link_says_so_after_start_without_crashing(client, headers):
    page = client.get("/start/ZZZZ-ZZZZ", headers=headers)
    assert page.status_code == 200
    response = client.post("/", data={"code": "ZZZZ-ZZZZ", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 422
    assert CODE_PROBLEM in text(response)


def test_an_overlong_link_is_cut_to_the_field_length(client):
    response = client.get("/start/" + "A" * 500)
    assert response.status_code == 200
    assert re.search(r'id="code"[^>]* value="(A+)"', response.text).group(1) == "A" * 40


def test_post_without_csrf_token_is_refused_with_a_clear_page(client, assignment_code):
    response = client.post("/", data={"code": assignment_code})
    assert response.status_code == 400
    assert "Nothing you answered before is lost" in text(response)


# --- pages that need a code ----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/quiz", "/quiz/stopping-safely", "/summary"])
def test_pages_need_a_code(client, path):
    response = client.get(path)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "Please enter your code to carry on" in text(client.get("/"))


def test_htmx_request_without_a_code_is_told_to_navigate(client):
    response = client.get("/quiz", headers=HX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/"


def test_revoked_code_ends_the_session_with_a_message(app, client, assignment_code):
    Patient(client).start(assignment_code)
    with app.app_context():
        db.session.execute(db.select(Assignment)).scalar_one().revoked_at = utcnow()
        db.session.commit()
    response = client.get("/quiz", follow_redirects=True)
    assert "This quiz code has ended" in text(response)
    assert client.get("/quiz").status_code == 303


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_overview_lists_the_assigned_modules(client, assignment_code, headers):
    Patient(client).start(assignment_code)
    response = client.get("/quiz", headers=headers)
    assert response.status_code == 200
    assert (is_fragment if headers else is_page)(response)
    body = text(response)
    assert "How to stop safely" in body or "Stopping" in body
    assert "Kidney" in body
    assert "Alcohol" not in body  # not assigned
    assert response.headers["Cache-Control"] == "no-store"


def test_unassigned_module_is_not_found(client, assignment_code):
    Patient(client).start(assignment_code)
    assert client.get("/quiz/alcohol-and-sedatives").status_code == 404
    assert client.get("/quiz/no-such-module").status_code == 404


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_question_card(client, assignment_code, htmx):
    patient = Patient(client, htmx=htmx)
    patient.start(assignment_code)
    response = patient.card()
    assert response.status_code == 200
    assert (is_fragment if htmx else is_page)(response)
    step, question = patient.question_on(response.text)
    assert step == 0
    assert question.prompt in text(response)
    assert 'hx-post="/quiz/stopping-safely/answer"' in response.text
    assert 'action="/quiz/stopping-safely/answer"' in response.text  # works without JS too


def test_plain_answer_redirects_to_the_feedback_card(client, assignment_code):
    patient = Patient(client)
    patient.start(assignment_code)
    response, question = patient.answer(correct=False)
    assert response.status_code == 303 and response.headers["Location"] == "/quiz/stopping-safely"
    card = text(patient.card())
    assert "Not quite" in card
    assert question.explanation in card and question.key_point in card
    # Sources on request: one closed disclosure with the quotes the bank marks `show` (one or two).
    assert card.count("<details") == 1 and '<details class="sources">' in card
    assert card.count("<blockquote>") == len(question.shown) and 1 <= len(question.shown) <= 2
    assert all(quote in card for quote in question.shown)
    assert "/sources/" in card and "module=stopping-safely" in card


def test_htmx_answer_returns_the_feedback_card_itself(client, assignment_code):
    patient = Patient(client, htmx=True)
    patient.start(assignment_code)
    response, question = patient.answer(correct=True)
    assert response.status_code == 200 and is_fragment(response)
    assert "That's right" in text(response)
    assert 'data-announce="Correct.' in response.text


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_answer_without_a_choice_gets_422_next_to_the_choices(client, assignment_code, htmx):
    patient = Patient(client, htmx=htmx)
    patient.start(assignment_code)
    response = patient.post_answer(patient.card().text)
    assert response.status_code == 422
    assert "Choose an answer." in text(response) or "Choose at least one answer." in text(response)
    assert 'aria-describedby="choice-help choice-error"' in response.text
    assert answers_stored(client.application) == 0


def test_answer_with_an_invented_choice_is_refused(client, assignment_code):
    patient = Patient(client)
    patient.start(assignment_code)
    response = patient.post_answer(patient.card().text, choice="99")
    assert response.status_code == 422
    assert answers_stored(client.application) == 0


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_same_answer_posted_twice_is_stored_once(client, assignment_code, htmx):
    patient = Patient(client, htmx=htmx)
    patient.start(assignment_code)
    page = patient.card().text
    first, question = patient.answer(correct=False, page=page)
    second, _ = patient.answer(correct=True, page=page)  # a double click / replay of the same card
    assert answers_stored(client.application) == 1
    with client.application.app_context():
        assert db.session.execute(db.select(Answer)).scalar_one().correct is False  # first one stands
    assert "Not quite" in text(patient.card())


def test_refresh_shows_the_same_feedback_card(client, assignment_code):
    patient = Patient(client)
    patient.start(assignment_code)
    patient.answer(correct=True)

    def without_tokens(response):  # CSRF tokens are timestamped: they differ from second to second
        return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", text(response))

    first = without_tokens(patient.card())
    assert "That's right" in first
    assert without_tokens(patient.card()) == first


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_next_moves_on_and_repeating_it_skips_nothing(client, assignment_code, htmx):
    patient = Patient(client, htmx=htmx)
    patient.start(assignment_code)
    patient.answer(correct=True)
    feedback = patient.card().text
    response = patient.next(page=feedback)
    if htmx:
        assert response.status_code == 200 and is_fragment(response)
    else:
        assert response.status_code == 303
    step, _ = patient.question_on(patient.card().text)
    assert step == 1
    patient.next(page=feedback)  # the same "Next" again (double click, back button)
    step_again, _ = patient.question_on(patient.card().text)
    assert step_again == 1


def test_an_old_question_form_after_moving_on_changes_nothing(client, assignment_code):
    patient = Patient(client)
    patient.start(assignment_code)
    old_page = patient.card().text
    patient.answer(correct=True, page=old_page)
    patient.next()
    patient.answer(correct=True, page=old_page)  # back button to the first card, submitted again
    assert answers_stored(client.application) == 1
    step, _ = patient.question_on(patient.card().text)
    assert step == 1


def test_a_forged_step_is_treated_as_stale(client, assignment_code):
    patient = Patient(client)
    patient.start(assignment_code)
    patient.post_answer(patient.card().text, step=5, choice="0")
    assert "That answer was already saved" in text(patient.card())
    assert answers_stored(client.application) == 0


def complete_module(patient: Patient, miss_first: bool = True) -> list[tuple[str, bool]]:
    """Answer until the module is complete; miss the first question. Returns (question id, correct)."""
    asked = []
    for index in range(40):
        page = patient.card()
        if "You have finished this topic" in text(page):
            return asked
        correct = not (miss_first and index == 0)
        _, question = patient.answer(correct=correct, page=page.text)
        asked.append((question, correct))
        patient.next()
    raise AssertionError("module never completed")


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_missed_key_point_is_re_checked_with_a_different_question(client, assignment_code, htmx):
    patient = Patient(client, htmx=htmx)
    patient.start(assignment_code)
    asked = complete_module(patient)
    first = asked[0][0]
    retry = [q for q, _ in asked[1:] if q.key_point == first.key_point]
    assert retry and retry[0].id != first.id
    assert asked[-1][0] == retry[0]  # it came back after the other key points, at the end


def test_completion_and_summary(client, assignment_code):
    patient = Patient(client)
    patient.start(assignment_code)
    asked = complete_module(patient)
    card = text(patient.card())
    assert "You have finished this topic" in card
    summary = client.get("/summary")
    assert summary.status_code == 200 and is_page(summary)
    body = text(summary)
    key_points = {q.key_point for q, _ in asked}
    first_tries = len(key_points)
    assert f"{first_tries - 1} of {first_tries}" in body
    for point in key_points:
        assert point in body
    assert "Started" not in body.split("Kidney")[0]  # stopping-safely is finished
    assert "Not started" in body  # kidney-health is not
    assert "data-print" in body and "What to remember" in body


def test_summary_as_htmx_fragment(client, assignment_code):
    Patient(client).start(assignment_code)
    response = client.get("/summary", headers=HX)
    assert response.status_code == 200 and is_fragment(response)


def test_leave_signs_out_but_keeps_progress(client, assignment_code):
    patient = Patient(client)
    patient.start(assignment_code)
    patient.answer(correct=True)
    page = client.get("/quiz").text
    response = client.post("/leave", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "Your answers are saved" in text(client.get("/"))
    assert client.get("/quiz").status_code == 303
    patient.start(assignment_code)
    assert "That's right" in text(patient.card())  # back exactly where the patient was


def test_leave_with_htmx_navigates(client, assignment_code):
    Patient(client).start(assignment_code)
    page = client.get("/quiz").text
    response = client.post("/leave", data={"csrf_token": csrf_token(page)}, headers=HX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/"


def test_progress_resumes_in_a_new_browser(app, assignment_code):
    first = Patient(app.test_client())
    first.start(assignment_code)
    first.answer(correct=False)
    first.next()
    second = Patient(app.test_client())  # new browser: no cookie
    second.start(assignment_code)
    step, _ = second.question_on(second.card().text)
    assert step == 1
    assert "Question 2 of about" in text(second.card())


def test_concurrent_answers_for_the_same_step_store_one(app, assignment_code):
    """Two requests that both passed the 'not answered yet' check: the database keeps one."""
    from quiz.patient.service import module_state, submit_answer

    with app.app_context():
        assignment = db.session.execute(db.select(Assignment)).scalar_one()
        module = assignment.modules[0].module
        question = module_state(assignment, module).next_question
        # Another request's insert for step 0 lands after this request read the state:
        with app.app_context():
            db.session.add(Answer(assignment_id=assignment.id, module_id=module.id, step=0,
                                  question_id=question.id, question_version_id=question.current_version.id,
                                  selected=[0], correct=False))
            db.session.commit()
        stored, created = submit_answer(assignment, module, 0, question.id, question.current_version.id, [1])
        assert created is False and stored.selected == [0]
    assert answers_stored(app) == 1


def test_answer_keeps_the_version_the_patient_saw(app, client, assignment_code, tmp_path):
    import shutil

    from quiz.bank import load_bank, sync_bank
    from tests.conftest import QUESTIONS_DIR

    patient = Patient(client)
    patient.start(assignment_code)
    _, question = patient.answer(correct=True)
    shutil.copytree(QUESTIONS_DIR, tmp_path / "bank")
    path = tmp_path / "bank" / "stopping-safely.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(question.prompt, question.prompt + " Think first."),
                    encoding="utf-8")
    with app.app_context():
        assert sync_bank(load_bank(tmp_path / "bank")).questions_changed == [question.id]
        db.session.commit()
        answer = db.session.execute(db.select(Answer)).scalar_one()
        assert answer.version.prompt == question.prompt
        assert len(answer.version.question.versions) == 2
    card = text(patient.card())
    assert question.prompt in card and question.prompt + " Think first." not in card


# --- sources ---------------------------------------------------------------------------------

def test_source_page_highlights_the_cited_passage(client, bank):
    citation = bank.questions[0].citations[0]
    response = client.get(f"/sources/{citation.source}?passage={citation.start}-{citation.end}")
    assert response.status_code == 200
    body = text(response)
    assert f'<mark id="cited" tabindex="-1">{bank.sources[citation.source].text[citation.start:citation.end]}</mark>' in body
    assert bank.sources[citation.source].reliability in body


@pytest.mark.parametrize("passage", ["", "abc", "10-5", "0-999999", "-1-4"])
def test_source_page_ignores_a_bad_passage(client, passage):
    response = client.get(f"/sources/000_74d3c6befc6a713e.txt?passage={passage}")
    assert response.status_code == 200 and "<mark" not in response.text


@pytest.mark.parametrize("name", ["nope.txt", "sources.yaml", "..%2Fconftest.py"])
def test_unknown_source_is_not_found(client, name):
    assert client.get(f"/sources/{name}").status_code == 404


def test_unknown_page_gets_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and "We could not find that page" in text(response)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_an_answer_to_a_question_edited_meanwhile_is_not_graded(app, client, assignment_code, tmp_path, htmx):
    """The bank is reloaded while the patient reads a card: the posted choice positions refer to the
    old words, so nothing is stored and the patient sees the new words with a message."""
    import shutil

    import yaml

    from quiz.bank import load_bank, sync_bank
    from tests.conftest import QUESTIONS_DIR

    patient = Patient(client, htmx=htmx)
    patient.start(assignment_code)
    page = patient.card().text
    _, question = patient.question_on(page)
    shutil.copytree(QUESTIONS_DIR, tmp_path / "bank")
    path = tmp_path / "bank" / "stopping-safely.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edited = next(q for q in data["questions"] if q["id"] == question.id)
    edited["choices"].reverse()
    edited["reviewed_on"] = "2026-11-21"  # a fresh review, so the new words are served
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with app.app_context():
        sync_bank(load_bank(tmp_path / "bank"))
        db.session.commit()
    response = patient.post_answer(page, choice=patient.choices(question, correct=True))
    assert answers_stored(app) == 0
    card = text(patient.card()) if not htmx else text(response)
    assert "This question was just updated" in card
