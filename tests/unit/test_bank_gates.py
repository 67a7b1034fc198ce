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
        {"text": "Ask a doctor.", "correct": False},
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


# --- test-wiseness: the right choice as the only one naming a doctor, nurse, pharmacist or help -----

def with_third_choice(qid, third, **changes):
    return reviewed(qid, choices=[
        {"text": "Keep taking it and ask your doctor.", "correct": True},
        {"text": "Stop it today.", "correct": False},
        {"text": third, "correct": False},
    ], **changes)


def giveaway(qid, **changes):
    """A question whose right choice is the only one naming a doctor: a test-wise guess gets it."""
    return with_third_choice(qid, "Read a book.", **changes)


def fair(qid, **changes):
    """The same question with a wrong choice that names the doctor too."""
    return with_third_choice(qid, "Stop it, then tell your doctor.", **changes)


def true_false(qid, prompt="True or false: You can stop it on your own.", **changes):
    return reviewed(qid, type="true_false", prompt=prompt, choices=[
        {"text": "True", "correct": False}, {"text": "False", "correct": True}], **changes)


def test_a_right_choice_alone_in_naming_help_is_a_warning(bank_dir):
    write(bank_dir, "stopping.yaml", module_file(questions=[
        giveaway("q-one"), fair("q-two"), fair("q-three"), fair("q-four")]))
    bank = load_bank(bank_dir)  # 1 of 4 is 25%: allowed
    warned = [str(w) for w in bank.warnings if "only one naming a doctor" in str(w)]
    assert len(warned) == 1 and "question 'q-one'" in warned[0]
    figure = bank.test_wiseness["stopping"]
    assert figure.giveaways == ("q-one",) and figure.choice_questions == 4 and str(figure) == "1/4 (25%)"


def test_more_than_a_quarter_of_a_modules_choice_questions_is_an_error(bank_dir):
    write(bank_dir, "stopping.yaml", module_file(questions=[
        giveaway("q-one"), fair("q-two"), fair("q-three"), giveaway("q-four", key_point=question("x")["key_point"])]))
    problems = problems_for(bank_dir)
    assert any("module 'stopping': in 2/4 (50%) of its choice questions" in p and "q-one, q-four" in p
               for p in problems), problems


@pytest.mark.parametrize("right, wrong", [
    ("Get medical help right away.", "Rest and wait."),
    ("Call {emergency_number} now.", "Rest and wait."),
    ("Tell your pharmacist first.", "Say nothing."),
    ("Little is known, so talk it over.", "It is sure to be safe."),
    ("Ask the nurse before you go home.", "Wait until next week."),
])
def test_each_way_of_naming_help_counts(bank_dir, right, wrong):
    q = reviewed("q-two", choices=[{"text": right, "correct": True}, {"text": wrong, "correct": False},
                                   {"text": "Do nothing.", "correct": False}])
    write(bank_dir, "stopping.yaml", module_file(questions=[fair("q-one"), q, fair("q-three"), fair("q-four")]))
    assert load_bank(bank_dir).test_wiseness["stopping"].giveaways == ("q-two",)


def test_a_multiple_answer_question_can_give_the_answer_away_too(bank_dir):
    multi = reviewed("q-two", type="multiple", prompt="Which are good steps? Choose all that apply.", choices=[
        {"text": "Tell your doctor your plans.", "correct": True},
        {"text": "Ask about the risks.", "correct": True},
        {"text": "Stop it on your own.", "correct": False},
    ])
    write(bank_dir, "stopping.yaml", module_file(questions=[fair("q-one"), multi, fair("q-three"), fair("q-four")]))
    assert load_bank(bank_dir).test_wiseness["stopping"].giveaways == ("q-two",)


def test_true_false_questions_are_not_choice_questions_for_the_figure(bank_dir):
    write(bank_dir, "stopping.yaml", module_file(questions=[
        giveaway("q-one"), fair("q-two"), fair("q-three"), fair("q-four"), true_false("q-five"), true_false("q-six")]))
    assert str(load_bank(bank_dir).test_wiseness["stopping"]) == "1/4 (25%)"


def test_the_real_bank_gives_no_answer_away(bank):
    assert all(figure.giveaways == () for figure in bank.test_wiseness.values()), bank.test_wiseness
    assert set(bank.test_wiseness) == {m.id for m in bank.modules}


def test_the_check_prints_the_figure_per_module(runner, bank):
    result = runner.invoke(args=["questions", "check", "--no-table"])
    assert result.exit_code == 0, result.output
    for module in bank.modules:
        line = next(line for line in result.output.splitlines() if line.strip().startswith(module.id + " "))
        assert f"test-wise {bank.test_wiseness[module.id]}" in line


# --- true/false statements that carry a premise -----------------------------------------------------

@pytest.mark.parametrize("prompt, reason", [
    ("True or false: You take baclofen while pregnant. Your baby could have withdrawal.", "it has 2 sentences"),
    ("True or false: Your spasms are gone, so it is safe to stop.", "'so' joins a premise"),
    ("True or false: You must stop slowly because your body is used to it.", "'because' joins a premise"),
])
def test_a_true_false_statement_with_a_premise_is_a_warning(bank_dir, prompt, reason):
    write(bank_dir, "stopping.yaml", module_file(questions=[reviewed("q-one"), true_false("q-two", prompt=prompt)]))
    warnings = load_warnings(bank_dir)
    assert any("question 'q-two': the true/false statement carries a premise" in w and reason in w
               for w in warnings), warnings


@pytest.mark.parametrize("prompt", [
    "True or false: If you stop baclofen suddenly, your spasms will stay gone.",
    "True or false: Once your spasms are gone, you can stop it on your own.",
])
def test_one_claim_even_a_conditional_one_is_fine(bank_dir, prompt):
    write(bank_dir, "stopping.yaml", module_file(questions=[reviewed("q-one"), true_false("q-two", prompt=prompt)]))
    assert not any("premise" in w for w in load_warnings(bank_dir))


def test_the_real_bank_has_no_premise_in_its_true_false_statements(bank):
    assert not [w for w in bank.warnings if "premise" in w.message]


# --- lengths that fit the database columns ----------------------------------------------------------

@pytest.mark.parametrize("where, change, message", [
    ("module", lambda d: d["module"].update(id="m" * 65), "module: 'id' is 65 characters long; the database stores at most 64"),
    ("module", lambda d: d["module"].update(title="T" * 201), "module: 'title' is 201 characters long; the database stores at most 200"),
    ("question", lambda d: d["questions"][1].update(id="q" * 101), "question: 'id' is 101 characters long; the database stores at most 100"),
    ("question", lambda d: d["questions"][1].update(reviewed_by_role="r" * 201),
     "'reviewed_by_role' is 201 characters long; the database stores at most 200"),
])
def test_text_longer_than_its_database_column_is_refused(bank_dir, where, change, message):
    data = module_file(questions=[reviewed("q-one"), reviewed("q-two")])
    change(data)
    write(bank_dir, "stopping.yaml", data)
    problems = problems_for(bank_dir)
    assert any(message in p for p in problems), problems


def test_text_exactly_as_long_as_its_column_loads(bank_dir):
    longest = question("q" * 100, reviewed_on="2026-11-01", reviewed_by_role="r" * 200)
    data = module_file("m" * 64, questions=[reviewed("q-one"), longest])
    data["module"]["title"] = "T" * 200
    write(bank_dir, "stopping.yaml", data)
    assert load_bank(bank_dir).modules[0].id == "m" * 64


def test_the_length_limits_are_the_database_columns():
    from quiz.bank.loader import LENGTH_LIMITS
    from quiz.models import Module, Question, QuestionVersion
    from quiz.question_types import QUESTION_TYPES

    columns = {"module id": Module.__table__.c.id, "module title": Module.__table__.c.title,
               "question id": Question.__table__.c.id,
               "reviewed_by_role": QuestionVersion.__table__.c.reviewed_by_role}
    assert {name: column.type.length for name, column in columns.items()} == LENGTH_LIMITS
    # Question types come from the registry, never from the bank: each name fits its column.
    assert all(len(name) <= QuestionVersion.__table__.c.type.type.length for name in QUESTION_TYPES)
