"""The quality gates of the bank, each with a failing example: unrelated source regions, readability,
structure, review. (Schema and citation problems are in test_bank_loader.py.)"""
from __future__ import annotations

import datetime as dt

import pytest
import yaml

from quiz.bank import load_bank
from quiz.bank.readability import is_familiar, measure
from tests.bankfiles import module_file, problems_for, question, write

REVIEW = {"reviewed_on": "2026-11-01", "reviewed_by_role": "clinical educator"}


def reviewed(qid, **changes):
    return question(qid, **REVIEW, **changes)


def load_warnings(folder):
    return [str(w) for w in load_bank(folder).warnings]


# --- unrelated regions of sources ---------------------------------------------------------------

def set_regions(folder, source, regions):
    path = folder / "sources" / "sources.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in data["sources"]:
        if entry["file"] == source:
            entry["unrelated"] = regions
    write(folder / "sources", "sources.yaml", data)


def test_a_citation_into_an_unrelated_region_is_an_error(bank_dir):
    data = module_file(questions=[reviewed("q-one"), reviewed("q-two")])
    data["questions"][1]["citations"] = [
        {"source": "003_cc7d42d20a1fa13c.txt", "quote": "Lioresal: 7.4/10 for chronic spasticity relief"}]
    write(bank_dir, "stopping.yaml", data)
    problems = problems_for(bank_dir)
    assert any("question 'q-two'" in p and "not about the medicine (product ratings)" in p for p in problems)


def test_the_real_sources_mark_their_unrelated_parts(bank):
    assert bank.sources["000_74d3c6befc6a713e.txt"].unrelated
    assert bank.sources["003_cc7d42d20a1fa13c.txt"].unrelated
    footer = bank.sources["003_cc7d42d20a1fa13c.txt"]
    start = footer.text.index("download now")
    assert footer.unrelated_region_at(start, start + 5) is not None
    never_cited = [(c.source, c) for q in bank.questions for c in q.citations
                   if bank.sources[c.source].unrelated_region_at(c.start, c.end)]
    assert never_cited == []


def test_a_region_can_end_before_the_end_of_the_document(bank_dir):
    set_regions(bank_dir, "003_cc7d42d20a1fa13c.txt", [
        {"starts": "Patient Experiences and Ratings", "ends": "personal health conditions.", "note": "ratings"}])
    write(bank_dir, "stopping.yaml", module_file(questions=[reviewed("q-one"), reviewed("q-two")]))
    source = load_bank(bank_dir).sources["003_cc7d42d20a1fa13c.txt"]
    (region,) = source.unrelated
    assert source.text[region.start:region.end].startswith("Patient Experiences and Ratings")
    assert source.text[region.start:region.end].endswith("personal health conditions.")


@pytest.mark.parametrize("region, message", [
    ({"starts": "Text that is nowhere", "note": "x"}, "'starts' text not found"),
    ({"starts": "Patient Experiences", "ends": "Published on January", "note": "x"}, "'ends' text not found after"),
    ({"starts": "Patient Experiences"}, "'note' is missing"),
])
def test_bad_regions_are_refused(bank_dir, region, message):
    set_regions(bank_dir, "003_cc7d42d20a1fa13c.txt", [region])
    write(bank_dir, "stopping.yaml", module_file())
    assert any(message in p for p in problems_for(bank_dir))


# --- readability --------------------------------------------------------------------------------

def test_readability_of_plain_and_dense_text():
    plain = measure("Take it with food. Ask your doctor if you feel sleepy.")
    dense = measure("Consult your physician regarding appropriate dosage modifications.")
    assert plain.level == "ok" and plain.grade <= 6
    assert dense.level == "error" and dense.flesch_kincaid > 8
    assert "physician" in dense.hard_words


def test_dale_chall_counts_inflections_and_the_vocabulary_as_familiar():
    assert is_familiar("stopped", frozenset()) and is_familiar("doctors", frozenset())
    assert is_familiar("babies", frozenset()) and is_familiar("bigger", frozenset())
    assert not is_familiar("baclofen", frozenset())
    assert is_familiar("baclofen's", frozenset({"baclofen"}))
    assert not is_familiar("physician", frozenset())


def test_a_question_above_grade_8_is_an_error(bank_dir):
    dense = "Consult your physician regarding appropriate dosage modifications."
    write(bank_dir, "stopping.yaml", module_file(questions=[reviewed("q-one"), reviewed("q-two", explanation=dense)]))
    problems = problems_for(bank_dir)
    assert any("question 'q-two': reads above grade 8" in p and "(its explanation)" in p for p in problems)


def test_a_question_above_grade_6_is_a_warning(bank_dir):
    harder = "Keep taking it and talk with your doctor about any problems before stopping."
    assert measure(harder).level == "warning"
    write(bank_dir, "stopping.yaml", module_file(questions=[reviewed("q-one"), reviewed("q-two", explanation=harder)]))
    warnings = load_warnings(bank_dir)
    assert any("question 'q-two': reads above grade 6" in w for w in warnings), warnings


def test_the_real_bank_reads_at_grade_8_or_below(bank):
    for key, score in bank.readability.items():
        assert score.grade <= 8, (key, score)


def test_a_malformed_vocabulary_file_is_refused(bank_dir):
    write(bank_dir, "vocabulary.yaml", {"familiar_words": ["baclofen"]})
    write(bank_dir, "stopping.yaml", module_file())
    assert any("vocabulary.yaml" in p and "familiar_words" in p for p in problems_for(bank_dir))


# --- structure ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["All of the above", "None of these", "Both of the above"])
def test_blanket_choices_are_refused(bank_dir, text):
    data = module_file(questions=[reviewed("q-one"), reviewed("q-two")])
    data["questions"][1]["choices"].append({"text": text, "correct": False})
    write(bank_dir, "stopping.yaml", data)
    assert any("no 'all/none of the above' choices" in p for p in problems_for(bank_dir))


@pytest.mark.parametrize("prompt", [
    "Which of these is NOT a sign of withdrawal?",
    "Which of these should you never do?",
    "What can't you do while taking it?",
])
def test_negated_question_stems_are_refused(bank_dir, prompt):
    write(bank_dir, "stopping.yaml", module_file(questions=[reviewed("q-one"), reviewed("q-two", prompt=prompt)]))
    assert any("question 'q-two': question: the prompt is negated" in p for p in problems_for(bank_dir))


def test_a_true_false_statement_with_negation_is_refused(bank_dir):
    tf = reviewed("q-two", type="true_false", prompt="True or false: You should not stop suddenly.",
                  choices=[{"text": "True", "correct": True}, {"text": "False", "correct": False}])
    write(bank_dir, "stopping.yaml", module_file(questions=[reviewed("q-one"), tf]))
    assert any("the prompt is negated ('not')" in p for p in problems_for(bank_dir))


def test_negation_in_a_scenario_before_the_question_is_fine(bank_dir):
    scenario = "You cannot sleep. A friend offers you a pill. What should you do?"
    write(bank_dir, "stopping.yaml", module_file(questions=[reviewed("q-one"), reviewed("q-two", prompt=scenario)]))
    assert load_bank(bank_dir).questions[1].prompt == scenario


def test_a_much_longer_right_choice_is_a_warning(bank_dir):
    giveaway = reviewed("q-two", choices=[
        {"text": "Keep taking it every day and call your doctor to talk about a plan.", "correct": True},
        {"text": "Stop it today.", "correct": False},
        {"text": "Take half.", "correct": False},
    ])
    write(bank_dir, "stopping.yaml", module_file(questions=[reviewed("q-one"), giveaway]))
    assert any("question 'q-two': the right choice" in w and "a giveaway" in w for w in load_warnings(bank_dir))


# --- review -------------------------------------------------------------------------------------

def test_a_question_without_review_is_a_draft_warning(bank_dir):
    write(bank_dir, "stopping.yaml", module_file(questions=[reviewed("q-one"), question("q-two")]))
    bank = load_bank(bank_dir)
    assert [q.is_draft for q in bank.questions] == [False, True]
    assert bank.questions[0].reviewed_on == dt.date(2026, 11, 1)
    assert any("question 'q-two': draft" in str(w) for w in bank.warnings)


@pytest.mark.parametrize("review, message", [
    ({"reviewed_on": "last week", "reviewed_by_role": "nurse"}, "must be a date written YYYY-MM-DD"),
    ({"reviewed_on": "2999-01-01", "reviewed_by_role": "nurse"}, "is in the future"),
    ({"reviewed_on": "2026-11-01"}, "'reviewed_by_role' is missing"),
    ({"reviewed_by_role": "nurse"}, "must be a date"),
])
def test_bad_review_fields_are_refused(bank_dir, review, message):
    write(bank_dir, "stopping.yaml", module_file(questions=[reviewed("q-one"), question("q-two", **review)]))
    assert any("question 'q-two'" in p and message in p for p in problems_for(bank_dir))


def test_the_real_bank_has_reviewed_questions(bank):
    assert sum(not q.is_draft for q in bank.questions) >= len(bank.questions) * 0.9


def test_a_critical_key_point_with_no_reviewed_question_is_a_warning(bank_dir):
    other = "Take it at the same times each day. Ask your doctor how."
    write(bank_dir, "stopping.yaml", module_file(questions=[
        reviewed("q-one"), reviewed("q-two"), question("q-three", key_point=other), question("q-four", key_point=other)]))
    warnings = load_warnings(bank_dir)
    assert any("question 'q-three'" in w and "patients are not taught it" in w for w in warnings), warnings


def test_a_critical_key_point_with_one_reviewed_question_is_a_warning(bank_dir):
    write(bank_dir, "stopping.yaml", module_file(questions=[reviewed("q-one"), question("q-two")]))
    assert any("question 'q-one'" in w and "the only reviewed question" in w for w in load_warnings(bank_dir))
