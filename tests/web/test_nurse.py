"""The nurse workspace through the test client: assigning, the code sheet, changing an assignment,
the live list, the re-teaching detail, teach-back entries and the education record."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy.exc import DBAPIError

from quiz.assignments import code_for, find_assignment
from quiz.extensions import db
from quiz.models import Answer, Assignment, AuditEvent, TeachBack, utcnow
from tests.conftest import csrf_token
from tests.web.patient import HX, Patient, text
from tests.web.staff import form_token, sign_in


@pytest.fixture
def nurse(app, ward):
    client = app.test_client()
    assert sign_in(client, ward.nurse).status_code == 303
    return client


def plain(response) -> str:
    """The page's text as a reader sees it: no tags, single spaces."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(db.select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def assign(client, ward, label="Bed 12, J.S.", modules=("stopping-safely", "kidney-health"), **extra):
    path = f"/nurse/units/{ward.unit_id}/assign"
    data = {"label": label, "modules": list(modules), "valid_days": "14", "csrf_token": form_token(client, path), **extra}
    return client.post(path, data=data)


def assignment_id_of(response) -> int:
    return int(re.search(r"/nurse/assignments/(\d+)/code", response.headers["Location"]).group(1))


def shown_code(client, assignment_id) -> str:
    page = client.get(f"/nurse/assignments/{assignment_id}/code").text
    return re.search(r'<p class="access-code" id="access-code">([A-Z0-9-]+)</p>', page).group(1)


# --- assigning ------------------------------------------------------------------------------------

def test_the_assign_form_preselects_and_marks_the_critical_modules(app, nurse, ward, bank):
    page = nurse.get(f"/nurse/units/{ward.unit_id}/assign").text
    checked = set(re.findall(r'id="module-([a-z-]+)" value="[a-z-]+" checked', page))
    critical = {m.id for m in bank.modules if m.critical}
    optional = {m.id for m in bank.modules if not m.critical}
    assert critical and optional
    assert checked == critical
    assert page.count('<span class="tag">must learn</span>') == len(checked)
    for module_id in optional:  # optional modules are offered, not chosen
        assert f'id="module-{module_id}"' in page


def test_assigning_shows_the_code_link_and_qr_large(app, nurse, ward):
    response = assign(nurse, ward)
    assert response.status_code == 303
    assignment_id = assignment_id_of(response)
    page = nurse.get(response.headers["Location"])
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    code = shown_code(nurse, assignment_id)
    assert re.fullmatch(r"[A-Z0-9]{5}-[A-Z0-9]{5}", code)
    assert f"http://localhost/start/{code}" in page.text
    assert 'src="data:image/svg+xml' in page.text and 'alt="QR code that opens the quiz link on a phone"' in page.text
    with app.app_context():
        assignment = db.session.get(Assignment, assignment_id)
        assert find_assignment(code) is assignment
        assert assignment.patient.label == "Bed 12, J.S." and assignment.patient.unit_id == ward.unit_id
        assert [m.module_id for m in assignment.modules] == ["stopping-safely", "kidney-health"]
    assert actions(app)[-4:] == ["patient.create", "assignment.create", "assignment.code_view", "assignment.code_view"]


def test_the_print_sheet_has_code_qr_link_and_three_steps(app, nurse, ward):
    assignment_id = assignment_id_of(assign(nurse, ward))
    code = shown_code(nurse, assignment_id)
    page = nurse.get(f"/nurse/assignments/{assignment_id}/print")
    body = text(page)
    assert page.status_code == 200 and code in body and f"/start/{code}" in body
    assert 'src="data:image/svg+xml' in page.text
    assert len(re.findall(r"<li>", page.text.split('class="sheet-steps"')[1].split("</ol>")[0])) == 3


@pytest.mark.parametrize("data, message", [
    ({"label": ""}, "Enter a label the ward knows the patient by"),
    ({"modules": []}, "Choose at least one module."),
    ({"valid_days": "0"}, "Enter a number of days from 1 to 90."),
    ({"valid_days": "lots"}, "Enter a number of days from 1 to 90."),
    ({"modules": ["no-such-module"]}, "not a valid choice"),
])
def test_a_bad_assignment_is_refused_next_to_the_field_and_nothing_is_stored(app, nurse, ward, data, message):
    path = f"/nurse/units/{ward.unit_id}/assign"
    payload = {"label": "Bed 1", "modules": ["stopping-safely"], "valid_days": "14",
               "csrf_token": form_token(nurse, path), **data}
    response = nurse.post(path, data=payload)
    assert response.status_code == 422
    assert message in text(response) and 'class="error-message"' in response.text
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Assignment.id))).scalar_one() == 2  # the ward's two


def test_a_record_number_is_unique_on_a_unit(app, nurse, ward):
    assert assign(nurse, ward, external_ref="MRN-1").status_code == 303
    response = assign(nurse, ward, label="Bed 13", external_ref="MRN-1")
    assert response.status_code == 422 and "record number MRN-1 is already on this unit" in text(response)


# --- changing an assignment -------------------------------------------------------------------------

def patient_with_answer(app, code, correct=False, module="stopping-safely"):
    patient = Patient(app.test_client(), module_id=module)
    assert patient.start(code).status_code == 303
    patient.answer(correct=correct)
    return patient


def test_reissue_stops_the_old_code_at_once_and_keeps_progress(app, nurse, ward):
    patient = patient_with_answer(app, ward.code)
    page = nurse.get(f"/nurse/assignments/{ward.assignment_id}/reissue")
    assert "The old code stops working at once" in text(page)
    response = nurse.post(f"/nurse/assignments/{ward.assignment_id}/reissue", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303 and response.headers["Location"].endswith("/code")
    new_code = shown_code(nurse, ward.assignment_id)
    assert new_code != ward.code
    # The patient's open session ended with the old code; the old code opens nothing.
    assert patient.card().status_code == 303
    assert Patient(app.test_client()).start(ward.code).status_code == 422
    again = Patient(app.test_client())
    assert again.start(new_code).status_code == 303
    assert "Not quite" in text(again.card())  # right where the patient was
    assert "assignment.reissue" in actions(app)


def test_revoke_ends_the_code_and_the_patients_session(app, nurse, ward):
    patient = patient_with_answer(app, ward.code)
    token = form_token(nurse, f"/nurse/assignments/{ward.assignment_id}/revoke")
    response = nurse.post(f"/nurse/assignments/{ward.assignment_id}/revoke", data={"csrf_token": token})
    assert response.status_code == 303
    assert patient.card().status_code == 303
    assert Patient(app.test_client()).start(ward.code).status_code == 422
    detail = text(nurse.get(f"/nurse/assignments/{ward.assignment_id}"))
    assert "The code was revoked" in detail and "Bed 3" in detail
    list_page = text(nurse.get(f"/nurse/units/{ward.unit_id}"))
    assert "Patients whose code has ended (1)" in list_page
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Answer.id))).scalar_one() == 1


def test_the_expiry_can_be_changed_and_an_expired_code_works_again(app, nurse, ward):
    with app.app_context():
        db.session.get(Assignment, ward.assignment_id).expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert Patient(app.test_client()).start(ward.code).status_code == 422
    token = form_token(nurse, f"/nurse/assignments/{ward.assignment_id}")
    bad = nurse.post(f"/nurse/assignments/{ward.assignment_id}/expiry", data={"csrf_token": token, "valid_days": "500"})
    assert bad.status_code == 422 and "Enter a number of days from 1 to 90." in text(bad)
    response = nurse.post(f"/nurse/assignments/{ward.assignment_id}/expiry", data={"csrf_token": token, "valid_days": "3"})
    assert response.status_code == 303
    assert Patient(app.test_client()).start(ward.code).status_code == 303
    with app.app_context():
        expires = db.session.get(Assignment, ward.assignment_id).expires_at
        assert timedelta(days=2, hours=23) < expires - utcnow() <= timedelta(days=3)
        event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "assignment.expiry")).scalar_one()
        assert event.assignment_id == ward.assignment_id and event.unit_id == ward.unit_id
        assert set(event.detail) == {"from", "to"}


def test_removing_and_adding_modules_never_loses_answers(app, nurse, ward):
    patient_with_answer(app, ward.code, correct=True)
    path = f"/nurse/assignments/{ward.assignment_id}/modules"
    page = nurse.get(path)
    assert "has answers: they are kept if you remove it" in text(page)
    token = csrf_token(page.text)
    assert nurse.post(path, data={"csrf_token": token, "modules": ["kidney-health"]}).status_code == 303
    patient = Patient(app.test_client())
    patient.start(ward.code)
    assert patient.card().status_code == 404  # stopping-safely is no longer assigned
    assert nurse.post(path, data={"csrf_token": token, "modules": []}).status_code == 422
    response = nurse.post(path, data={"csrf_token": token, "modules": ["stopping-safely", "kidney-health", "warning-signs"]})
    assert response.status_code == 303
    assert "That's right" in text(patient.card())  # the earlier answer is back
    with app.app_context():
        assignment = db.session.get(Assignment, ward.assignment_id)
        assert [m.module_id for m in assignment.modules] == ["stopping-safely", "kidney-health", "warning-signs"]
        details = [e.detail for e in db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "assignment.modules")).scalars()]
    assert details == [{"added": [], "removed": ["stopping-safely"]},
                       {"added": ["stopping-safely", "warning-signs"], "removed": []}]


# --- the live list ----------------------------------------------------------------------------------

def list_marker(page: str) -> str:
    return re.search(r'data-version="([0-9a-f]+)"', page).group(1)


def test_the_live_list_answers_204_until_something_changes(app, nurse, ward):
    page = nurse.get(f"/nurse/units/{ward.unit_id}")
    assert page.status_code == 200 and "<html" in page.text
    assert "Bed 3" in page.text and "Bed 4" not in page.text  # another unit's patient is not listed
    marker = list_marker(page.text)
    poll = f"/nurse/units/{ward.unit_id}?v={marker}"
    assert re.search(r'hx-get="/nurse/units/\d+\?v=' + marker + '" hx-trigger="every 5s"', page.text)
    nothing = nurse.get(poll, headers=HX)
    assert nothing.status_code == 204 and nothing.data == b""
    patient_with_answer(app, ward.code, correct=False)
    changed = nurse.get(poll, headers=HX)
    assert changed.status_code == 200 and "<html" not in changed.text and 'id="patient-list"' in changed.text
    assert "HX-Request" in changed.headers["Vary"]
    assert "Needs re-teach" in changed.text and "1 key point to re-teach" in changed.text
    assert list_marker(changed.text) != marker
    assert nurse.get(f"/nurse/units/{ward.unit_id}?v={list_marker(changed.text)}", headers=HX).status_code == 204


def test_the_list_marker_follows_staff_changes_and_teach_back(app, nurse, ward):
    from quiz.nurse.service import list_version

    with app.app_context():
        before = list_version(ward.unit_id)
    assign(nurse, ward, label="Bed 20")
    with app.app_context():
        after_assign = list_version(ward.unit_id)
        other_unit = list_version(ward.other_unit_id)
    assert after_assign != before
    assign(nurse, ward, label="Bed 21")
    with app.app_context():
        assert list_version(ward.other_unit_id) == other_unit  # another unit's list did not change


def test_patients_are_listed_as_a_ward_reads_them(app, nurse, ward):
    for label in ("Bed 10", "Bed 2", "bed 1"):
        assign(nurse, ward, label=label)
    page = text(nurse.get(f"/nurse/units/{ward.unit_id}"))
    order = [page.index(label) for label in ("bed 1", "Bed 2", "Bed 3", "Bed 10")]
    assert order == sorted(order)


# --- detail, teach-back, readiness, record ---------------------------------------------------------

def finish_with_a_miss(app, code, module="stopping-safely"):
    """Miss the first question of the module, then answer right until it is complete."""
    patient = Patient(app.test_client(), module_id=module)
    patient.start(code)
    _, missed = patient.answer(correct=False)
    patient.next()
    for _ in range(30):
        page = patient.card().text
        if "You have finished this topic" in text(patient.card()):
            return missed
        patient.answer(correct=True, page=page)
        patient.next()
    raise AssertionError("module not finished")


def teach_back(client, assignment_id, kp, response="verbalizes", **extra):
    path = f"/nurse/assignments/{assignment_id}"
    data = {"csrf_token": form_token(client, path), "ref": kp, "learner": "patient", "method": "teach_back",
            "response": response, "note": "", **extra}
    return client.post(f"{path}/teach-back", data=data)


def test_the_detail_shows_each_miss_as_the_patient_saw_it(app, nurse, ward):
    patient = Patient(app.test_client())
    patient.start(ward.code)
    _, question = patient.answer(correct=False)
    page = nurse.get(f"/nurse/assignments/{ward.assignment_id}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    body = plain(page)
    assert question.key_point in body and question.prompt in body and question.explanation in body
    with app.app_context():
        answer = db.session.execute(db.select(Answer)).scalar_one()
        chosen = answer.version.choices[answer.selected[0]]["text"]
        right = [c["text"] for c in answer.version.choices if c["correct"]]
        fingerprint = answer.version.fingerprint[:8]
    assert f"They chose: {chosen}" in body and f"Right answer: {'; '.join(right)}" in body
    assert f"question version {fingerprint}" in body
    assert "Missed once" in body and "Not ready for discharge" in body
    assert "results_view" in actions(app)[-1]


def test_a_point_missed_twice_is_highlighted(app, nurse, ward):
    patient = Patient(app.test_client())
    patient.start(ward.code)
    patient.answer(correct=False)
    patient.next()
    for _ in range(20):  # right on everything else until the missed key point comes back, then miss it
        page = patient.card().text
        _, question = patient.question_on(page)
        with app.app_context():
            answered = db.session.execute(db.select(Answer).order_by(Answer.step)).scalars().all()
            again = question.key_point == answered[0].version.key_point
        patient.answer(correct=not again, page=page)
        patient.next()
        if again:
            break
    page = nurse.get(f"/nurse/assignments/{ward.assignment_id}").text
    assert 'class="key-point-review missed-twice"' in page and "Missed 2 times" in page
    assert "missed twice, no teach-back yet" in text(nurse.get(f"/nurse/assignments/{ward.assignment_id}"))


def test_teach_back_makes_the_patient_ready_and_corrections_keep_both(app, nurse, ward):
    token = form_token(nurse, f"/nurse/assignments/{ward.assignment_id}/modules")
    nurse.post(f"/nurse/assignments/{ward.assignment_id}/modules", data={"csrf_token": token, "modules": ["stopping-safely"]})
    missed = finish_with_a_miss(app, ward.code)
    page = nurse.get(f"/nurse/assignments/{ward.assignment_id}").text
    assert "Not ready for discharge" in page
    ref = re.search(r'<article id="kp-([0-9a-f]{16})"', page).group(1)

    response = teach_back(nurse, ward.assignment_id, ref, response="needs_reinforcement", note="Unsure about fever")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"#kp-{ref}")
    assert "Not ready for discharge" in text(nurse.get(f"/nurse/assignments/{ward.assignment_id}"))
    teach_back(nurse, ward.assignment_id, ref, response="verbalizes")
    detail = text(nurse.get(f"/nurse/assignments/{ward.assignment_id}"))
    assert "Ready for discharge" in detail and "Unsure about fever" in detail
    assert "Ready" in text(nurse.get(f"/nurse/units/{ward.unit_id}"))

    with app.app_context():
        latest = db.session.execute(db.select(TeachBack).order_by(TeachBack.id.desc())).scalars().first()
        first_id = latest.id - 1
    # Only the latest entry can be corrected; the correction supersedes it and both are kept.
    stale = teach_back(nurse, ward.assignment_id, ref, response="refused", supersedes_id=str(first_id))
    assert stale.status_code == 422 and "Only the latest entry of a key point can be corrected" in text(stale)
    form = nurse.get(f"/nurse/assignments/{ward.assignment_id}?correct={latest.id}").text
    assert "You are correcting the latest entry" in form
    assert teach_back(nurse, ward.assignment_id, ref, response="refused", supersedes_id=str(latest.id)).status_code == 303
    detail_page = nurse.get(f"/nurse/assignments/{ward.assignment_id}").text
    assert "Not ready for discharge" in detail_page and 'class="superseded"' in detail_page
    with app.app_context():
        entries = db.session.execute(db.select(TeachBack).order_by(TeachBack.id)).scalars().all()
        assert [(e.response, e.supersedes_id) for e in entries] == [
            ("needs_reinforcement", None), ("verbalizes", None), ("refused", latest.id)]
        assert all(e.key_point == missed.key_point for e in entries)
    assert actions(app).count("teach_back.record") == 2 and actions(app).count("teach_back.correct") == 1


@pytest.mark.parametrize("change", [{"response": ""}, {"learner": "neighbour"}, {"ref": "0" * 16}])
def test_a_bad_teach_back_entry_is_refused_with_a_message(app, nurse, ward, change):
    Patient(app.test_client()).start(ward.code)
    patient_with_answer(app, ward.code)
    page = nurse.get(f"/nurse/assignments/{ward.assignment_id}").text
    ref = re.search(r'<article id="kp-([0-9a-f]{16})"', page).group(1)
    response = teach_back(nurse, ward.assignment_id, ref, **change)
    assert response.status_code == 422 and "error-message" in response.text
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(TeachBack.id))).scalar_one() == 0


def test_the_database_refuses_to_rewrite_teach_back_or_audit(app, nurse, ward):
    patient_with_answer(app, ward.code)
    ref = re.search(r'<article id="kp-([0-9a-f]{16})"', nurse.get(f"/nurse/assignments/{ward.assignment_id}").text).group(1)
    teach_back(nurse, ward.assignment_id, ref)
    with app.app_context():
        for statement in ("UPDATE teach_back SET response = 'refused'", "DELETE FROM teach_back",
                          "UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(db.text(statement))
            db.session.rollback()


def test_the_education_record_has_everything_the_chart_needs(app, nurse, ward):
    token = form_token(nurse, f"/nurse/assignments/{ward.assignment_id}/modules")
    nurse.post(f"/nurse/assignments/{ward.assignment_id}/modules", data={"csrf_token": token, "modules": ["stopping-safely"]})
    missed = finish_with_a_miss(app, ward.code)
    page = nurse.get(f"/nurse/assignments/{ward.assignment_id}").text
    ref = re.search(r'<article id="kp-([0-9a-f]{16})"', page).group(1)
    teach_back(nurse, ward.assignment_id, ref, response="demonstrates", note="Showed the dosing chart")
    record = nurse.get(f"/nurse/assignments/{ward.assignment_id}/record")
    body = plain(record)
    for expected in ("Patient education record", "Bed 3", "Ward A", "baclofen", "How to stop safely",
                     missed.key_point, "Nina:", "patient, teach-back, demonstrates understanding",
                     "Showed the dosing chart", "Ready.", "Printed by Nina (nina)"):
        assert expected in body, expected
    assert re.search(r"<td>[0-9a-f]{8}</td>", record.text)  # the content version
    assert actions(app)[-1] == "record.view"


def test_codes_given_before_codes_could_be_shown_again_offer_a_reissue(app, nurse, ward):
    with app.app_context():
        assignment = db.session.get(Assignment, ward.assignment_id)
        assignment.code_nonce = None
        db.session.commit()
        assert code_for(assignment) is None
    page = text(nurse.get(f"/nurse/assignments/{ward.assignment_id}/code"))
    assert "reissue a new one" in page
    assert nurse.get(f"/nurse/assignments/{ward.assignment_id}/print").status_code == 303
