"""bank.yaml: the medicine's name and the urgent "get help now" signs, checked like question citations."""
from __future__ import annotations

import pytest
import yaml

from quiz.bank import load_bank
from tests.bankfiles import QUOTE, SOURCE, module_file, problems_for, write

SIGN = {"sign": "It is hard to breathe",
        "citations": [{"source": "003_cc7d42d20a1fa13c.txt", "quote": "Severe drowsiness or trouble breathing"}]}


def meta_file(**changes):
    data = {"medicine": "baclofen", "get_help_now": [SIGN]}
    data.update(changes)
    return data


@pytest.fixture
def folder(bank_dir):
    write(bank_dir, "stopping.yaml", module_file())
    return bank_dir


def test_the_real_bank_names_its_medicine_and_signs(bank):
    assert bank.meta is not None
    assert bank.meta.medicine == "baclofen"
    assert 3 <= len(bank.meta.get_help_now) <= 8
    for sign in bank.meta.get_help_now:
        assert sign.citations, sign.text
        for citation in sign.citations:
            assert citation.quote and citation.end > citation.start


def test_a_valid_file_is_read_and_is_not_taken_for_a_module(folder):
    write(folder, "bank.yaml", meta_file())
    bank = load_bank(folder)
    assert [m.id for m in bank.modules] == ["stopping"]
    sign, = bank.meta.get_help_now
    assert sign.text == "It is hard to breathe"
    assert sign.citations[0].source == "003_cc7d42d20a1fa13c.txt"
    assert not any(w.file == "bank.yaml" for w in bank.warnings)


def test_a_missing_file_is_a_warning_not_an_error(folder):
    bank = load_bank(folder)
    assert bank.meta is None
    assert any(w.file == "bank.yaml" and "is missing" in w.message for w in bank.warnings)


@pytest.mark.parametrize("content, message", [
    ("medicine: [baclofen", "is not valid YAML"),
    ("", "is empty"),
    ("- just a list", "must be a mapping"),
    (meta_file(colour="blue"), "unknown field(s) colour"),
    (meta_file(medicine=None), "'medicine' is missing"),
    (meta_file(medicine="x" * 61), "at most 60 characters"),
    (meta_file(get_help_now=[]), "'get_help_now' must be a non-empty list"),
    (meta_file(get_help_now=[SIGN] * 2), "is listed twice"),
    (meta_file(get_help_now=[dict(SIGN, sign=f"Sign number {n}") for n in range(9)]), "keep it to 8 or fewer"),
    (meta_file(get_help_now=[dict(SIGN, sign="You feel that it is very hard to breathe in and out when "
                                             "you walk up the stairs")]), "a sign is a short phrase"),
    (meta_file(get_help_now=[{"sign": "It is hard to breathe"}]), "'citations' must list at least one"),
    (meta_file(get_help_now=[dict(SIGN, citations=[{"source": SOURCE, "quote": "Breathe deeply always."}])]),
     "quote not found in 003_cc7d42d20a1fa13c.txt"),
    (meta_file(get_help_now=[dict(SIGN, citations=[{"source": "nope.txt", "quote": QUOTE}])]),
     "source 'nope.txt' is not listed"),
    (meta_file(get_help_now=[dict(SIGN, citations=[{"source": SOURCE, "quote": QUOTE, "show": True}])]),
     "unknown field(s) show"),
    (meta_file(get_help_now=[dict(SIGN, citations=[{"source": SOURCE, "quote": "Lioresal: 7.4/10"}])]),
     "must not be cited (product ratings)"),
    (meta_file(get_help_now=[dict(SIGN, sign="Call {ambulance} now")]), "unknown placeholder {ambulance}"),
])
def test_bad_files_are_refused_with_a_clear_message(folder, content, message):
    write(folder, "bank.yaml", content)
    problems = problems_for(folder)
    assert any(p.startswith("bank.yaml") and message in p for p in problems), problems


def test_a_quote_in_a_disputed_region_is_refused(folder):
    path = folder / "sources" / "sources.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = next(e for e in data["sources"] if e["file"] == SOURCE)
    entry["disputed"] = [{"starts": "Severe drowsiness", "ends": "trouble breathing", "note": "test region"}]
    write(folder / "sources", "sources.yaml", data)
    write(folder, "bank.yaml", meta_file())
    assert any("bank.yaml" in p and "(test region)" in p for p in problems_for(folder))


def test_signs_that_read_above_grade_eight_are_refused(folder):
    hard = dict(SIGN, sign="Unexplained neuromuscular hyperexcitability, obtundation, hyperthermia")
    write(folder, "bank.yaml", meta_file(get_help_now=[hard]))
    assert any("bank.yaml" in p and "read above grade 8" in p for p in problems_for(folder))

