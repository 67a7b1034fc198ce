from datetime import timedelta

import pytest

from quiz.assignments import (
    CODE_ALPHABET, AssignmentError, create_assignment, find_assignment, format_code, hash_code,
    new_code, normalise_code,
)
from quiz.extensions import db
from quiz.models import Assignment, utcnow


def test_codes_avoid_look_alike_characters():
    for char in "01OIL":
        assert char not in CODE_ALPHABET
    code = new_code()
    assert len(code) == 8 and set(code) <= set(CODE_ALPHABET)


def test_code_typing_variants_are_one_code(ctx):
    assert normalise_code(" abcd-efgh ") == normalise_code("ABCD EFGH") == "ABCDEFGH"
    assert normalise_code("abcd\u2013efgh") == "ABCDEFGH"
    assert hash_code("abcd-efgh") == hash_code("ABCDEFGH")
    assert format_code("ABCDEFGH") == "ABCD-EFGH"


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


@pytest.mark.parametrize("raw", ["", "short", "ABCD-EFG0", "ABCDEFGHJ", "ABCD-EFGH"])
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
    ],
)
def test_bad_assignments_are_refused(ctx, label, modules, days, message):
    with pytest.raises(AssignmentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        create_assignment(label, modules, days)


def test_a_code_already_in_use_cannot_be_reused(ctx):
    create_assignment("Bed 5", ["stopping-safely"], 14, code="SAFE5678")
    db.session.commit()
    with pytest.raises(AssignmentError, match="already in use"):
        create_assignment("Bed 6", ["stopping-safely"], 14, code="safe-5678")
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
