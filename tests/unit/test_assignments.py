from collections import Counter
from datetime import timedelta

import pytest

from quiz.assignments import (
    CODE_ALPHABET, AssignmentError, code_for, create_assignment, find_assignment, format_code, hash_code,
    new_code, normalise_code, reissue_code,
)
from quiz.extensions import db
from quiz.models import Assignment, utcnow


def test_codes_avoid_look_alike_characters(ctx):
    for char in "01OIL" + "S5B8Z2" + "G6":
        assert char not in CODE_ALPHABET
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET) == 23
    for _ in range(50):
        code = new_code()
        assert len(code) == 10 and set(code) <= set(CODE_ALPHABET)


def test_codes_use_the_whole_alphabet_evenly(ctx):
    counts = Counter("".join(new_code() for _ in range(2300)))
    assert set(counts) == set(CODE_ALPHABET)
    # 23,000 characters, 1,000 expected per character: a wrong mapping (e.g. a modulo of a small
    # number) would skew some characters far beyond this.
    assert min(counts.values()) > 850 and max(counts.values()) < 1150


def test_code_typing_variants_are_one_code(ctx):
    assert normalise_code(" acdef-hjkmn ") == normalise_code("ACDEF HJKMN") == "ACDEFHJKMN"
    assert normalise_code("acdef\u2013hjkmn") == "ACDEFHJKMN"
    assert hash_code("acdef-hjkmn") == hash_code("ACDEFHJKMN")
    assert format_code("ACDEFHJKMN") == "ACDEF-HJKMN"
    assert format_code("ABCDEFGH") == "ABCD-EFGH"  # codes issued before migration 0003


def test_a_code_can_be_shown_again_but_only_while_it_is_current(app):
    with app.app_context():
        assignment, code = create_assignment("Bed 1", ["stopping-safely"], 14)
        db.session.commit()
        assert code_for(assignment) == code
        reissued = reissue_code(assignment, 14)
        assert reissued != code and code_for(assignment) == reissued
        assert find_assignment(code) is None and find_assignment(reissued) is assignment
        app.config["ACCESS_CODE_KEY"] = "a new key"  # ends every code: none can be shown any more
        assert code_for(assignment) is None and find_assignment(reissued) is None


def test_the_database_holds_no_code(ctx):
    assignment, code = create_assignment("Bed 1", ["stopping-safely"], 14)
    db.session.commit()
    row = db.session.execute(db.text("SELECT * FROM assignment")).mappings().one()
    assert not any(code in str(value) or format_code(code) in str(value) for value in row.values())


def test_codes_printed_before_the_new_alphabet_still_open_their_quiz(ctx):
    assignment, _ = create_assignment("Bed 1", ["stopping-safely"], 14)
    assignment.code_hash, assignment.code_nonce = hash_code("SAFE5678"), None  # as migration 0003 leaves it
    db.session.commit()
    assert find_assignment("safe-5678") is assignment
    assert code_for(assignment) is None


def test_only_the_hash_of_the_code_is_stored(ctx):
    assignment, code = create_assignment("Bed 1", ["stopping-safely"], 14)
    db.session.commit()
    assert assignment.code_hash == hash_code(code)
    assert code not in assignment.code_hash


def test_find_assignment_by_code(ctx):
    assignment, code = create_assignment("Bed 1", ["stopping-safely"], 14)
    db.session.commit()
    assert find_assignment(code.lower()) is assignment
    assert find_assignment(format_code(code)) is assignment


@pytest.mark.parametrize("raw", ["", "short", "ABCD-EFG0", "ABCDEFGHJ", "ABCD-EFGH", "ACDEF-HJKM0", "ACDEF-HJKMN", "ACDEF-HJKMNP"])
def test_unknown_or_malformed_codes_find_nothing(ctx, raw):
    assert find_assignment(raw) is None


def test_expired_and_revoked_codes_find_nothing(ctx):
    expired, expired_code = create_assignment("Bed 2", ["stopping-safely"], 1)
    revoked, revoked_code = create_assignment("Bed 3", ["stopping-safely"], 14)
    expired.expires_at = utcnow() - timedelta(seconds=1)
    revoked.revoked_at = utcnow()
    db.session.commit()
    assert find_assignment(expired_code) is None
    assert find_assignment(revoked_code) is None


@pytest.mark.parametrize(
    "label, modules, days, message",
    [
        ("  ", ["stopping-safely"], 14, "patient label is needed"),
        ("x" * 101, ["stopping-safely"], 14, "longer than 100"),
        ("Bed 4", [], 14, "at least one module"),
        ("Bed 4", ["nope"], 14, "unknown module(s): nope"),
        ("Bed 4", ["stopping-safely", "stopping-safely"], 14, "listed twice"),
        ("Bed 4", ["stopping-safely"], 0, "at least one day"),
        ("Bed 4", ["stopping-safely"], 91, "at most 90 days"),
    ],
)
def test_bad_assignments_are_refused(ctx, label, modules, days, message):
    with pytest.raises(AssignmentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        create_assignment(label, modules, days)


def test_a_code_already_in_use_cannot_be_reused(ctx):
    create_assignment("Bed 5", ["stopping-safely"], 14, code="CHECK34779")
    db.session.commit()
    with pytest.raises(AssignmentError, match="already in use"):
        create_assignment("Bed 6", ["stopping-safely"], 14, code="check-34779")
    with pytest.raises(AssignmentError, match="10 characters"):
        create_assignment("Bed 6", ["stopping-safely"], 14, code="SAFE-56789")  # S and 5 are not in the alphabet
    assert db.session.execute(db.select(db.func.count(Assignment.id))).scalar_one() == 1


def test_code_hashes_are_keyed(app):
    with app.app_context():
        first = hash_code("ABCD-EFGH")
        app.config["ACCESS_CODE_KEY"] = "another key"
        assert hash_code("ABCD-EFGH") != first


def test_a_failed_assignment_leaves_nothing_behind(ctx):
    create_assignment("Bed 8", ["stopping-safely"], 14)
    db.session.rollback()  # the caller owns the transaction: nothing was committed on its behalf
    assert db.session.execute(db.select(db.func.count(Assignment.id))).scalar_one() == 0
