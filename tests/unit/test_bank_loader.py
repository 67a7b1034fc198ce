"""Loading and validating bank folders: the real bank, and one failing example per kind of problem."""
from __future__ import annotations

import copy

import pytest
import yaml

from quiz.bank import load_bank
from tests.bankfiles import QUOTE, SOURCE, module_file, problems_for, question, write

def test_the_real_bank_loads(bank):
    assert len(bank.modules) >= 4
    assert {m.id for m in bank.modules} >= {
        "alcohol-and-sedatives", "stopping-safely", "driving-and-alertness", "kidney-health",
    }
    assert all(q.citations for q in bank.questions)
    assert len(bank.sources) == 5


def test_every_critical_key_point_of_the_real_bank_has_two_questions(bank):
    for module in bank.modules:
        if module.critical:
            points = [q.key_point for q in module.questions]
            assert all(points.count(p) >= 2 for p in points), module.id


def test_a_valid_minimal_bank_loads_with_citation_offsets(bank_dir):
    write(bank_dir, "stopping.yaml", module_file())
    bank = load_bank(bank_dir)
    citation = bank.questions[0].citations[0]
    assert bank.sources[SOURCE].text[citation.start:citation.end] == QUOTE


def test_modules_are_ordered_by_order_then_id(bank_dir):
    first = module_file("zeta", critical=False, questions=[question("z1")])
    first["module"]["order"] = 1
    second = module_file("alpha", critical=False, questions=[question("a1")])
    second["module"]["order"] = 2
    write(bank_dir, "a.yaml", second)
    write(bank_dir, "b.yaml", first)
    assert [m.id for m in load_bank(bank_dir).modules] == ["zeta", "alpha"]


def test_fingerprint_follows_content_only(bank_dir):
    write(bank_dir, "stopping.yaml", module_file())
    one = load_bank(bank_dir).questions[0]
    changed = module_file()
    changed["questions"][0]["explanation"] = "Do not stop suddenly. Ask your doctor."
    write(bank_dir, "stopping.yaml", changed)
    two = load_bank(bank_dir).questions[0]
    assert one.fingerprint != two.fingerprint
    write(bank_dir, "stopping.yaml", module_file())
    assert load_bank(bank_dir).questions[0].fingerprint == one.fingerprint


BAD_QUESTIONS = {
    "missing field": (lambda q: q.pop("explanation"), "'explanation' is missing"),
    "empty prompt": (lambda q: q.update(prompt="  "), "'prompt' must be non-empty text"),
    "unknown type": (lambda q: q.update(type="essay"), "'type' must be one of"),
    "unknown field": (lambda q: q.update(explanaton="typo"), "unknown field(s) explanaton"),
    "bad id": (lambda q: q.update(id="Stop Feel Better"), "'id' must be lowercase words"),
    "one choice": (lambda q: q["choices"].pop(), "at least two choices"),
    "no correct choice": (
        lambda q: q["choices"][0].update(correct=False), "exactly one correct choice, found 0"
    ),
    "two correct for single": (
        lambda q: q["choices"][1].update(correct=True), "exactly one correct choice, found 2"
    ),
    "correct not boolean": (
        lambda q: q["choices"][0].update(correct="yes"), "'correct' must be true or false"
    ),
    "duplicate choice text": (
        lambda q: q["choices"][1].update(text=q["choices"][0]["text"]), "two choices have the same text"
    ),
    "multiple without correct": (
        lambda q: (q.update(type="multiple"), q["choices"][0].update(correct=False)),
        "at least one correct choice",
    ),
    "true_false with other texts": (
        lambda q: q.update(type="true_false"), "exactly two choices, 'True' and 'False'"
    ),
    "no citations": (lambda q: q.update(citations=[]), "at least one source quote"),
    "unknown source": (
        lambda q: q["citations"][0].update(source="999_missing.txt"), "is not listed in sources/sources.yaml"
    ),
    "quote not in source": (
        lambda q: q["citations"][0].update(quote="Baclofen cures everything."), "quote not found in"
    ),
    "quote changed by one word": (
        lambda q: q["citations"][0].update(quote="Never stop baclofen quickly."), "quote not found in"
    ),
    "empty quote": (lambda q: q["citations"][0].update(quote=" "), "'quote' must be non-empty text"),
    "control character": (lambda q: q.update(prompt="Stop\x00 now?"), "contains an invisible control character"),
    "control character in quote": (
        lambda q: q["citations"][0].update(quote="Never\x07 stop"), "contains an invisible control character"
    ),
}


@pytest.mark.parametrize("kind", sorted(BAD_QUESTIONS))
def test_each_kind_of_bad_question_is_refused_naming_file_and_question(bank_dir, kind):
    spoil, expected = BAD_QUESTIONS[kind]
    data = module_file()
    spoil(data["questions"][1])
    write(bank_dir, "stopping.yaml", data)
    problems = problems_for(bank_dir)
    assert any(expected in p for p in problems), problems
    assert any(p.startswith("stopping.yaml") for p in problems)
    named = [p for p in problems if expected in p][0]
    if kind != "bad id":
        assert "question 'q-two'" in named


def test_all_problems_are_reported_in_one_pass(bank_dir):
    data = module_file()
    data["questions"][0].pop("prompt")
    data["questions"][1]["citations"][0]["quote"] = "Not in the source."
    write(bank_dir, "stopping.yaml", data)
    problems = problems_for(bank_dir)
    assert any("'q-one'" in p and "'prompt' is missing" in p for p in problems)
    assert any("'q-two'" in p and "quote not found" in p for p in problems)


def test_invalid_yaml_is_refused_with_its_line(bank_dir):
    write(bank_dir, "broken.yaml", "module: {id: x\nquestions: [")
    (problem,) = problems_for(bank_dir)
    assert problem.startswith("broken.yaml: is not valid YAML") and "line" in problem


def test_duplicate_yaml_keys_are_refused(bank_dir):
    write(bank_dir, "dup.yaml", "module: {id: a, id: b, title: t, summary: s, critical: false}\nquestions: []\n")
    assert any("duplicate key 'id'" in p for p in problems_for(bank_dir))


def test_file_that_is_not_a_mapping_is_refused(bank_dir):
    write(bank_dir, "list.yaml", "- just\n- a list\n")
    assert problems_for(bank_dir) == ["list.yaml: must be a mapping with 'module' and 'questions'"]


def test_empty_file_is_refused(bank_dir):
    write(bank_dir, "empty.yaml", "")
    assert problems_for(bank_dir) == ["empty.yaml: is empty"]


def test_module_fields_are_checked(bank_dir):
    data = module_file()
    data["module"]["critical"] = "yes"
    data["module"].pop("title")
    data["module"]["order"] = "first"
    write(bank_dir, "stopping.yaml", data)
    problems = problems_for(bank_dir)
    assert "stopping.yaml: module: 'critical' must be true or false" in problems
    assert "stopping.yaml: module: 'title' is missing" in problems
    assert "stopping.yaml: module: 'order' must be a whole number" in problems


def test_module_without_questions_is_refused(bank_dir):
    write(bank_dir, "stopping.yaml", module_file(questions=[]))
    assert "stopping.yaml: 'questions' must be a non-empty list" in problems_for(bank_dir)


def test_question_ids_must_be_unique_across_the_bank(bank_dir):
    write(bank_dir, "a.yaml", module_file("first"))
    write(bank_dir, "b.yaml", module_file("second"))
    problems = problems_for(bank_dir)
    assert "b.yaml, question 'q-one': question id is also used in a.yaml" in problems


def test_module_ids_must_be_unique(bank_dir):
    write(bank_dir, "a.yaml", module_file("same", questions=[question("x1"), question("x2")]))
    write(bank_dir, "b.yaml", module_file("same", questions=[question("y1"), question("y2")]))
    assert "b.yaml: module id 'same' is also used in a.yaml" in problems_for(bank_dir)


def test_critical_key_point_with_one_question_is_refused(bank_dir):
    data = module_file(questions=[question("q-one"), question("q-two", key_point="Never stop it all at once. Ask your doctor first")])
    write(bank_dir, "stopping.yaml", data)
    problems = problems_for(bank_dir)
    assert sum("needs at least two questions" in p for p in problems) == 2


def test_optional_module_may_teach_a_key_point_once(bank_dir):
    write(bank_dir, "stopping.yaml", module_file(critical=False, questions=[question("only")]))
    assert len(load_bank(bank_dir).questions) == 1


def test_folder_without_modules_is_refused(bank_dir):
    assert any("contains no module files" in p for p in problems_for(bank_dir))


def test_missing_folder_is_refused(tmp_path):
    assert any("does not exist" in p for p in problems_for(tmp_path / "nope"))


def test_sources_metadata_problems_are_reported(bank_dir):
    metadata = yaml.safe_load((bank_dir / "sources" / "sources.yaml").read_text(encoding="utf-8"))
    broken = copy.deepcopy(metadata)
    broken["sources"][0].pop("reliability")
    broken["sources"].append({"file": "../etc/passwd", "title": "t", "kind": "k", "reliability": "r"})
    broken["sources"].append({"file": "missing.txt", "title": "t", "kind": "k", "reliability": "r"})
    write(bank_dir / "sources", "sources.yaml", broken)
    write(bank_dir, "stopping.yaml", module_file())
    problems = problems_for(bank_dir)
    assert any("'reliability' is missing" in p for p in problems)
    assert any("must be a plain file name" in p for p in problems)
    assert any("missing.txt does not exist" in p for p in problems)


def test_missing_sources_metadata_is_refused(bank_dir):
    (bank_dir / "sources" / "sources.yaml").unlink()
    write(bank_dir, "stopping.yaml", module_file())
    assert "sources/sources.yaml: is missing" in problems_for(bank_dir)


def test_non_utf8_module_file_is_refused(bank_dir):
    (bank_dir / "latin.yaml").write_bytes("module: {title: 'caf\xe9'}".encode("latin-1"))
    assert "latin.yaml: is not UTF-8 text" in problems_for(bank_dir)


@pytest.mark.parametrize("key", ["? [a, b]\n: 1", "? {a: 1}\n: 1"])
def test_unhashable_yaml_keys_are_reported_not_raised(bank_dir, key):
    write(bank_dir, "odd.yaml", f"module:\n  {key.replace(chr(10), chr(10) + '  ')}\nquestions: []\n")
    (problem,) = problems_for(bank_dir)
    assert problem.startswith("odd.yaml: is not valid YAML") and "keys must be plain words" in problem
