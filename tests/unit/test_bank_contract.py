"""Bank fields that pages rely on: quotes marked `show`, `disputed` source regions, and deployment
placeholders such as `{emergency_number}` (filled in on every page)."""
from __future__ import annotations

import yaml
from markupsafe import Markup

from quiz.bank import load_bank
from quiz.bank import placeholders
from tests.bankfiles import QUOTE, SOURCE, module_file, problems_for, question, write
from tests.conftest import make_app


def test_show_is_read_and_only_written_into_the_content_when_set(bank_dir):
    plain = question("q-one")
    shown = question("q-two", citations=[{"source": SOURCE, "quote": QUOTE, "show": True}])
    write(bank_dir, "stopping.yaml", module_file(questions=[plain, shown]))
    first, second = load_bank(bank_dir).questions
    assert first.citations[0].show is False and second.citations[0].show is True
    assert first.content()["citations"] == [{"source": SOURCE, "quote": QUOTE}]
    assert second.content()["citations"] == [{"source": SOURCE, "quote": QUOTE, "show": True}]


def test_show_false_leaves_the_fingerprint_as_it_was(bank_dir):
    explicit = question("q-one", citations=[{"source": SOURCE, "quote": QUOTE, "show": False}])
    write(bank_dir, "stopping.yaml", module_file(questions=[explicit, question("q-two")]))
    before = load_bank(bank_dir).questions[0].fingerprint
    write(bank_dir, "stopping.yaml", module_file(questions=[question("q-one"), question("q-two")]))
    assert load_bank(bank_dir).questions[0].fingerprint == before


def test_show_must_be_true_or_false(bank_dir):
    bad = question("q-two", citations=[{"source": SOURCE, "quote": QUOTE, "show": "yes"}])
    write(bank_dir, "stopping.yaml", module_file(questions=[question("q-one"), bad]))
    assert any("question 'q-two'" in p and "'show' must be true or false" in p for p in problems_for(bank_dir))


def _mark_disputed(folder, source, regions):
    path = folder / "sources" / "sources.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in data["sources"]:
        if entry["file"] == source:
            entry["disputed"] = regions
    write(folder / "sources", "sources.yaml", data)


def test_a_citation_into_a_disputed_region_is_an_error(bank_dir):
    _mark_disputed(bank_dir, SOURCE, [{"starts": QUOTE, "ends": QUOTE, "note": "test region"}])
    write(bank_dir, "stopping.yaml", module_file())
    problems = problems_for(bank_dir)
    assert any("question 'q-one'" in p and "wrong or disputed (test region)" in p for p in problems)


def test_disputed_regions_are_loaded_beside_unrelated_ones(bank_dir):
    _mark_disputed(bank_dir, SOURCE, [{"starts": "Initial Dose:", "ends": "three times a day", "note": "n"}])
    write(bank_dir, "stopping.yaml", module_file())
    source = load_bank(bank_dir).sources[SOURCE]
    region, = source.disputed
    assert source.text[region.start:].startswith("Initial Dose:")
    assert source.disputed_region_at(region.start, region.start + 1) is region


def test_placeholders_are_checked():
    assert placeholders.problems("Call {emergency_number} now.") == []
    assert "unknown placeholder {ambulance}" in placeholders.problems("Call {ambulance}.")[0]
    assert placeholders.problems("Call {emergency number}.")  # a brace that is no placeholder
    assert placeholders.problems("a } alone")


def test_unknown_placeholder_in_bank_text_is_an_error(bank_dir):
    write(bank_dir, "stopping.yaml", module_file(questions=[
        question("q-one", explanation="Call {ambulance_number} right away."), question("q-two")]))
    assert any("question 'q-one'" in p and "unknown placeholder {ambulance_number}" in p
               for p in problems_for(bank_dir))


def test_readability_reads_a_typical_value_and_the_fingerprint_keeps_the_placeholder(bank_dir):
    text = "Call {emergency_number} right away."
    write(bank_dir, "stopping.yaml", module_file(questions=[question("q-one", explanation=text),
                                                           question("q-two")]))
    spec = load_bank(bank_dir).questions[0]
    assert spec.patient_parts()["explanation"] == "Call 911 right away."
    assert spec.content()["explanation"] == text


def test_pages_show_the_deployments_number_in_place_of_the_placeholder():
    app = make_app(EMERGENCY_NUMBER="999")
    with app.app_context():
        render = app.jinja_env.from_string("{{ text }}|{{ html }}").render
        assert render(text="Call {emergency_number}.", html=Markup("<b>{emergency_number}</b>")) == \
            "Call 999.|<b>{emergency_number}</b>"
