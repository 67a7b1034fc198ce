"""Storing a bank: one transaction, idempotent, versions instead of edits, retirement instead of delete."""
from __future__ import annotations

import shutil

import pytest

from quiz.bank import BankError, load_bank, sync_bank
from quiz.extensions import db
from quiz.models import Module, Question, QuestionVersion
from tests.conftest import QUESTIONS_DIR, make_app
from tests.bankfiles import module_file, question, write


@pytest.fixture
def empty_app():
    app = make_app()
    with app.app_context():
        db.create_all()
        yield app
        db.session.close()
        db.drop_all()


@pytest.fixture
def folder(tmp_path):
    shutil.copytree(QUESTIONS_DIR / "sources", tmp_path / "sources")
    write(tmp_path, "stopping.yaml", module_file())
    return tmp_path


def load(folder):
    report = sync_bank(load_bank(folder))
    db.session.commit()
    return report


def count(model):
    return db.session.execute(db.select(db.func.count()).select_from(model)).scalar_one()


def test_first_load_adds_everything(empty_app, folder):
    report = load(folder)
    assert report.modules_added == ["stopping"]
    assert report.questions_added == ["q-one", "q-two"]
    assert (count(Module), count(Question), count(QuestionVersion)) == (1, 2, 2)


def test_loading_the_same_bank_twice_changes_nothing(empty_app, folder):
    load(folder)
    report = load(folder)
    assert not report.changed
    assert (count(Module), count(Question), count(QuestionVersion)) == (1, 2, 2)


def test_editing_a_question_adds_a_version_and_keeps_the_old_one(empty_app, folder):
    load(folder)
    old = db.session.get(Question, "q-one").current_version
    data = module_file()
    data["questions"][0]["prompt"] = "You feel much better. What now?"
    write(folder, "stopping.yaml", data)
    report = load(folder)
    assert report.questions_changed == ["q-one"]
    question = db.session.get(Question, "q-one")
    assert [v.prompt for v in question.versions] == [old.prompt, "You feel much better. What now?"]
    assert question.current_version.prompt == "You feel much better. What now?"


def test_removing_a_question_retires_it_and_restoring_brings_it_back(empty_app, folder):
    load(folder)
    write(folder, "stopping.yaml", module_file(critical=False, questions=[question("q-one")]))
    report = load(folder)
    assert report.questions_retired == ["q-two"]
    assert db.session.get(Question, "q-two").retired_at is not None
    write(folder, "stopping.yaml", module_file())
    report = load(folder)
    assert report.questions_restored == ["q-two"]
    assert db.session.get(Question, "q-two").retired_at is None
    assert count(QuestionVersion) == 2


def test_removing_a_module_retires_it(empty_app, folder):
    load(folder)
    (folder / "stopping.yaml").unlink()
    write(folder, "other.yaml", module_file("other", questions=[question("o1"), question("o2")]))
    report = load(folder)
    assert report.modules_retired == ["stopping"]
    assert db.session.get(Module, "stopping").retired_at is not None


def test_an_invalid_bank_leaves_the_last_good_bank_in_place(empty_app, folder):
    load(folder)
    data = module_file()
    data["questions"][0]["prompt"] = "A new prompt"
    data["questions"][1]["citations"][0]["quote"] = "Invented quote."
    write(folder, "stopping.yaml", data)
    with pytest.raises(BankError):
        load(folder)
    assert db.session.get(Question, "q-one").current_version.prompt == "You feel better. What should you do?"
    assert count(QuestionVersion) == 2


def test_the_real_bank_syncs_idempotently(empty_app):
    first = load(QUESTIONS_DIR)
    assert len(first.questions_added) == len(load_bank(QUESTIONS_DIR).questions)
    assert not load(QUESTIONS_DIR).changed


# --- reviews belong to the content they reviewed ------------------------------------------------

REVIEW = {"reviewed_on": "2026-11-01", "reviewed_by_role": "clinical educator"}


def reviewed_file(prompt="You feel better. What should you do?", review=REVIEW):
    return module_file(questions=[question("q-one", prompt=prompt, **review), question("q-two", **REVIEW)])


def current(question_id):
    return db.session.get(Question, question_id).current_version


def test_a_review_is_stored_with_the_version(empty_app, folder):
    write(folder, "stopping.yaml", reviewed_file())
    load(folder)
    version = current("q-one")
    assert not version.is_draft and version.reviewed_by_role == "clinical educator"


def test_content_changed_under_an_old_review_becomes_a_draft(empty_app, folder):
    write(folder, "stopping.yaml", reviewed_file())
    load(folder)
    write(folder, "stopping.yaml", reviewed_file(prompt="You feel much better. What now?"))
    report = load(folder)
    assert report.changed_since_review == ["q-one"]
    assert current("q-one").is_draft
    assert not db.session.get(Question, "q-one").versions[0].is_draft  # the old version keeps its review


def test_a_renewed_review_of_changed_content_is_recorded(empty_app, folder):
    write(folder, "stopping.yaml", reviewed_file())
    load(folder)
    renewed = {"reviewed_on": "2026-11-20", "reviewed_by_role": "pharmacist"}
    write(folder, "stopping.yaml", reviewed_file(prompt="You feel much better. What now?", review=renewed))
    report = load(folder)
    assert report.changed_since_review == []
    assert str(current("q-one").reviewed_on) == "2026-11-20"


def test_reviewing_unchanged_content_updates_its_version(empty_app, folder):
    load(folder)  # module_file() questions are drafts
    assert current("q-one").is_draft
    write(folder, "stopping.yaml", reviewed_file())
    report = load(folder)
    assert set(report.reviews_recorded) == {"q-one", "q-two"} and not report.questions_changed
    assert not current("q-one").is_draft
    assert count(QuestionVersion) == 2
    assert not load(folder).changed


def test_reloading_an_edit_under_an_old_review_keeps_it_a_draft(empty_app, folder):
    write(folder, "stopping.yaml", reviewed_file())
    load(folder)
    write(folder, "stopping.yaml", reviewed_file(prompt="You feel much better. What now?"))
    load(folder)
    report = load(folder)  # the same files again must not move the old review onto the new words
    assert current("q-one").is_draft
    assert "q-one" not in report.reviews_recorded


def test_a_second_edit_under_an_old_review_is_still_a_draft(empty_app, folder):
    write(folder, "stopping.yaml", reviewed_file())
    load(folder)
    write(folder, "stopping.yaml", reviewed_file(prompt="You feel much better. What now?"))
    load(folder)
    write(folder, "stopping.yaml", reviewed_file(prompt="You feel a lot better. What now?"))
    load(folder)
    assert current("q-one").is_draft


def test_reverting_to_the_reviewed_words_serves_them_again(empty_app, folder):
    write(folder, "stopping.yaml", reviewed_file())
    load(folder)
    write(folder, "stopping.yaml", reviewed_file(prompt="You feel much better. What now?"))
    load(folder)
    write(folder, "stopping.yaml", reviewed_file())
    load(folder)
    assert not current("q-one").is_draft
    assert count(QuestionVersion) == 3
