"""The ready-for-discharge rule and the nurse's status, on hand-made progress (no database)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from quiz.grading import AnswerRecord, module_progress
from quiz.readiness import ModuleResult, TeachBackEntry, latest_entries, readiness, teach_back_positions

# A module with two key points (two questions each) and an optional one with one key point.
STOP = [("s1", "Never stop suddenly."), ("s2", "Never stop suddenly."), ("s3", "Ask before you change a dose."),
        ("s4", "Ask before you change a dose.")]
DOSES = [("d1", "Take a missed dose when you remember."), ("d2", "Take a missed dose when you remember.")]
NEVER = "Never stop suddenly."


def module(answers, *, critical=True, questions=STOP, module_id="stopping", title="Stopping", taught=None):
    records = [AnswerRecord(q, dict(questions)[q], ok) for q, ok in answers]
    return ModuleResult(module_id, title, critical, module_progress(questions, records, taught))


def entry(id, response, key_point=NEVER, supersedes=None, module_id="stopping"):
    return TeachBackEntry(id, module_id, key_point, response, supersedes)


def test_nothing_answered_is_not_started():
    result = readiness([module([])], [])
    assert result.status == "not_started" and not result.ready
    assert result.reasons == ("Stopping: not finished (0 of 2 key points learned)",)


def test_all_right_first_time_is_ready_without_any_teach_back():
    result = readiness([module([("s1", True), ("s3", True)])], [])
    assert result.ready and result.status == "ready" and result.reasons == () and result.missed == ()


def test_some_right_answers_is_in_progress():
    result = readiness([module([("s1", True)])], [])
    assert result.status == "in_progress"
    assert result.short_reason == "1 required module not finished"


def test_a_critical_miss_needs_re_teach_even_after_the_patient_relearned_it():
    result = readiness([module([("s1", False), ("s3", True), ("s2", True)])], [])
    assert result.status == "needs_reteach"
    (missed,) = result.missed
    assert missed.key_point == NEVER and missed.mastered and missed.misses == 1 and not missed.missed_twice
    assert result.reasons == (f"{NEVER} (missed, no teach-back yet)",)
    assert result.short_reason == "1 key point to re-teach"


@pytest.mark.parametrize("response", ["verbalizes", "demonstrates"])
def test_understanding_shown_on_teach_back_makes_the_patient_ready(response):
    result = readiness([module([("s1", False), ("s3", True), ("s2", True)])], [entry(1, response)])
    assert result.ready, result.reasons


@pytest.mark.parametrize("response", ["needs_reinforcement", "no_evidence", "refused"])
def test_other_responses_keep_the_patient_not_ready(response):
    result = readiness([module([("s1", False), ("s3", True), ("s2", True)])], [entry(1, response)])
    assert result.status == "needs_reteach"
    assert "latest teach-back" in result.reasons[0]


MISSED_TWICE = [("s1", False), ("s3", True), ("s2", False)]  # NEVER missed at steps 0 and 2: parked


def test_missed_twice_is_parked_and_needs_re_teach():
    result = readiness([module(MISSED_TWICE)], [])
    (missed,) = result.missed
    assert missed.missed_twice and missed.parked and not missed.mastered and not missed.recheck_due
    assert result.status == "needs_reteach"
    assert result.reasons[0] == f"{NEVER} (missed twice, no teach-back yet)"
    assert result.short_reason == "1 key point to re-teach; 1 required module not finished"


def test_a_teach_back_from_before_the_second_miss_does_not_undo_the_parking():
    """Understanding was charted after the first miss, then the patient missed it again."""
    result = readiness([module(MISSED_TWICE, taught={NEVER: 1})], [entry(1, "verbalizes")])
    (missed,) = result.missed
    assert missed.understood and missed.parked and missed.needs_teach_back
    assert result.status == "needs_reteach"
    assert result.reasons[0] == f"{NEVER} (missed again after the latest teach-back; re-teach it)"


def test_after_the_teach_back_the_patient_is_in_progress_until_the_re_check():
    result = readiness([module(MISSED_TWICE, taught={NEVER: 3})], [entry(1, "verbalizes")])
    (missed,) = result.missed
    assert missed.recheck_due and not missed.parked and not missed.needs_teach_back
    assert result.status == "in_progress"
    assert result.reasons == (
        f"{NEVER} (teach-back recorded; the patient has one re-check question to answer)",
        "Stopping: not finished (1 of 2 key points learned)",
    )
    assert result.short_reason == "1 re-check question to answer; 1 required module not finished"


def test_a_missed_re_check_needs_re_teach_again_and_a_right_one_makes_the_patient_ready():
    wrong = readiness([module([*MISSED_TWICE, ("s1", False)], taught={NEVER: 3})], [entry(1, "verbalizes")])
    (missed,) = wrong.missed
    assert missed.parked and missed.rechecks == (False,) and missed.recheck_result is False
    assert wrong.status == "needs_reteach"
    assert wrong.reasons[0] == f"{NEVER} (the re-check question after the teach-back was not right; re-teach it)"
    right = readiness([module([*MISSED_TWICE, ("s1", True)], taught={NEVER: 3})], [entry(1, "verbalizes")])
    assert right.ready and right.missed[0].recheck_result is True


def test_teach_back_positions_count_the_answers_before_the_teaching():
    at = [datetime(2026, 12, 1, 10, minute, tzinfo=timezone.utc) for minute in (0, 5, 10)]
    taught = datetime(2026, 12, 1, 10, 7, tzinfo=timezone.utc)
    entries = [TeachBackEntry(1, "stopping", NEVER, "verbalizes", None, taught)]
    assert teach_back_positions(entries, {"stopping": at}) == {"stopping": {NEVER: 2}}
    # Only a latest entry showing understanding gives a re-check.
    refused = [*entries, TeachBackEntry(2, "stopping", NEVER, "refused", None, at[2] + timedelta(minutes=1))]
    assert teach_back_positions(refused, {"stopping": at}) == {}
    # A correction keeps the time of the teaching it corrects: no second re-check for fixing the chart.
    corrected = [*entries, TeachBackEntry(2, "stopping", NEVER, "demonstrates", 1, at[2] + timedelta(hours=1))]
    assert teach_back_positions(corrected, {"stopping": at}) == {"stopping": {NEVER: 2}}
    # Modules without answers given here are left out.
    assert teach_back_positions(entries, {}) == {}


def test_the_latest_entry_counts():
    answers = [("s1", False), ("s3", True), ("s2", True)]
    assert readiness([module(answers)], [entry(1, "verbalizes"), entry(2, "needs_reinforcement")]).status == "needs_reteach"
    assert readiness([module(answers)], [entry(1, "needs_reinforcement"), entry(2, "verbalizes")]).ready


def test_a_correction_supersedes_the_entry_it_corrects_and_both_are_kept():
    entries = [entry(1, "verbalizes"), entry(2, "refused", supersedes=1)]
    assert latest_entries(entries)[("stopping", NEVER)].id == 2
    assert readiness([module([("s1", False), ("s3", True), ("s2", True)])], entries).status == "needs_reteach"
    corrected_back = entries + [entry(3, "demonstrates", supersedes=2)]
    assert readiness([module([("s1", False), ("s3", True), ("s2", True)])], corrected_back).ready


def test_teach_back_on_another_key_point_or_module_does_not_count():
    answers = [("s1", False), ("s3", True), ("s2", True)]
    other_point = entry(1, "verbalizes", key_point="Ask before you change a dose.")
    other_module = entry(2, "verbalizes", module_id="doses")
    assert readiness([module(answers)], [other_point, other_module]).status == "needs_reteach"


def test_optional_modules_do_not_hold_back_discharge_when_a_critical_one_is_assigned():
    stopping = module([("s1", True), ("s3", True)])
    doses = module([("d1", False)], critical=False, questions=DOSES, module_id="doses", title="Doses")
    result = readiness([stopping, doses], [])
    assert result.ready
    assert [m.counts for m in result.missed] == [False]  # shown to the nurse, but not required


def test_with_no_critical_module_every_module_counts():
    doses = module([("d1", False), ("d2", True)], critical=False, questions=DOSES, module_id="doses", title="Doses")
    assert readiness([doses], []).status == "needs_reteach"
    key_point = DOSES[0][1]
    assert readiness([doses], [entry(1, "demonstrates", key_point=key_point, module_id="doses")]).ready
    assert readiness([module([], critical=False, questions=DOSES, module_id="doses")], []).status == "not_started"


def test_no_modules_is_never_ready():
    result = readiness([], [])
    assert not result.ready and result.reasons == ("No modules assigned",)


def test_every_unfinished_module_and_every_key_point_is_a_reason():
    kidney = module([("k1", False)], questions=[("k1", "Tell your doctor about kidney problems."),
                                                ("k2", "Tell your doctor about kidney problems.")],
                    module_id="kidney", title="Kidneys")
    result = readiness([module([("s1", False)]), kidney], [])
    assert result.status == "needs_reteach"
    assert len(result.teach_back_needed) == 2 and len(result.unfinished) == 2
    assert result.short_reason == "2 key points to re-teach; 2 required modules not finished"


def test_the_nurse_list_serves_the_same_questions_as_the_patient_pages(app):
    """The list reads served questions as plain rows; the rule must stay the patient pages' rule."""
    from collections import defaultdict

    from quiz.extensions import db
    from quiz.models import QuestionVersion
    from quiz.nurse.service import served_key_points
    from quiz.patient.service import served_questions

    with app.app_context():
        version = db.session.execute(db.select(QuestionVersion)).scalars().first()
        version.reviewed_on = None  # one draft: neither may serve it
        db.session.commit()
        expected = defaultdict(list)
        for question in served_questions():
            expected[question.module_id].append((question.id, question.current_version.key_point))
        assert served_key_points() == expected
        assert version.question_id not in {q for pairs in expected.values() for q, _ in pairs}
