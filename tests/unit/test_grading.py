import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quiz.grading import ASK_NURSE_AFTER_MISSES, AnswerRecord, grade, module_progress

QUESTIONS = [  # (question id, key point) in bank order: three key points, two or three questions each
    ("a1", "A"), ("a2", "A"),
    ("b1", "B"), ("b2", "B"), ("b3", "B"),
    ("c1", "C"), ("c2", "C"),
]
KEY = {q: k for q, k in QUESTIONS}


def answers(*pairs):
    return [AnswerRecord(q, KEY.get(q, "gone"), correct) for q, correct in pairs]


class TestGrade:
    def test_single_choice(self):
        assert grade("single", [False, True, False], [1]) is True
        assert grade("single", [False, True, False], [0]) is False

    def test_single_choice_takes_exactly_one(self):
        with pytest.raises(ValueError):
            grade("single", [False, True], [0, 1])
        with pytest.raises(ValueError):
            grade("true_false", [True, False], [])

    def test_multiple_choice_needs_exactly_the_correct_set(self):
        flags = [True, False, True, False]
        assert grade("multiple", flags, [0, 2]) is True
        assert grade("multiple", flags, [2, 0]) is True
        assert grade("multiple", flags, [0]) is False          # missing one
        assert grade("multiple", flags, [0, 1, 2]) is False    # one too many
        assert grade("multiple", flags, []) is False

    def test_out_of_range_selection_is_refused(self):
        with pytest.raises(ValueError):
            grade("single", [True, False], [2])
        with pytest.raises(ValueError):
            grade("multiple", [True, False], [-1])


class TestMastery:
    def test_first_pass_asks_the_first_question_of_each_key_point_in_order(self):
        assert module_progress(QUESTIONS, []).next_question_id == "a1"
        assert module_progress(QUESTIONS, answers(("a1", True))).next_question_id == "b1"
        assert module_progress(QUESTIONS, answers(("a1", True), ("b1", True))).next_question_id == "c1"

    def test_all_right_first_time_completes_the_module(self):
        progress = module_progress(QUESTIONS, answers(("a1", True), ("b1", True), ("c1", True)))
        assert progress.complete and progress.next_question_id is None
        assert (progress.first_try_correct, progress.first_try_total) == (3, 3)
        assert not any(k.relearned for k in progress.key_points)

    def test_a_miss_comes_back_after_the_first_pass_as_a_different_question(self):
        progress = module_progress(QUESTIONS, answers(("a1", False)))
        assert progress.next_question_id == "b1"  # later, not straight away
        progress = module_progress(QUESTIONS, answers(("a1", False), ("b1", True), ("c1", True)))
        assert progress.next_question_id == "a2"
        assert progress.in_review and not progress.complete

    def test_re_learning_masters_the_key_point_but_only_the_first_try_scores(self):
        progress = module_progress(
            QUESTIONS, answers(("a1", False), ("b1", True), ("c1", True), ("a2", True))
        )
        assert progress.complete
        assert (progress.first_try_correct, progress.first_try_total) == (2, 3)
        a = progress.key_points[0]
        assert a.relearned and a.mastered and a.first_try_correct is False and a.misses == 1


    def test_never_repeats_the_question_just_answered_when_another_exists(self):
        progress = module_progress(  # C parked, then re-taught: its re-check is not the question just missed
            QUESTIONS, answers(("a1", True), ("b1", True), ("c1", False), ("c2", False)), taught={"C": 4}
        )
        assert progress.next_question_id == "c1"

    def test_a_key_point_with_one_question_is_asked_again(self):
        single = [("x1", "X")]
        progress = module_progress(single, [AnswerRecord("x1", "X", False)])
        assert progress.next_question_id == "x1"
        parked = module_progress(single, [AnswerRecord("x1", "X", False)] * 2)
        assert parked.next_question_id is None and parked.finished

    def test_misses_take_turns_oldest_first(self):
        progress = module_progress(
            QUESTIONS, answers(("a1", False), ("b1", False), ("c1", True))
        )
        assert progress.next_question_id == "a2"
        progress = module_progress(
            QUESTIONS, answers(("a1", False), ("b1", False), ("c1", True), ("a2", False))
        )
        assert progress.next_question_id == "b2"

    def test_answers_on_retired_questions_count_for_their_key_point(self):
        progress = module_progress(QUESTIONS, [AnswerRecord("old-a", "A", True)])
        assert progress.key_points[0].mastered
        assert progress.next_question_id == "b1"

    def test_an_answer_counts_for_the_key_point_the_patient_saw(self):
        """q-a1 was answered while it taught A; the bank has since moved it to B."""
        moved = [("a1", "B"), ("a2", "A"), ("b1", "B")]
        progress = module_progress(moved, [AnswerRecord("a1", "A", False)])
        a, b = progress.key_points[1], progress.key_points[0]
        assert (a.key_point, a.misses, b.attempted) == ("A", 1, False)

    def test_answers_on_key_points_no_longer_taught_are_ignored(self):
        progress = module_progress(QUESTIONS, [AnswerRecord("old-z", "Z", False)])
        assert progress.first_try_total == 0 and progress.next_question_id == "a1"

    def test_empty_module_is_not_complete(self):
        progress = module_progress([], [])
        assert not progress.complete and progress.next_question_id is None


class TestWhereAmI:
    """What the patient pages say: "question N of about M" and what the summary lists for the nurse."""

    def test_questions_left_counts_each_key_point_not_yet_learned(self):
        assert module_progress(QUESTIONS, []).questions_left == 3
        progress = module_progress(QUESTIONS, answers(("a1", True), ("b1", False)))
        assert progress.questions_left == 2  # B missed (it comes back) and C not asked yet
        done = module_progress(QUESTIONS, answers(("a1", True), ("b1", True), ("c1", True)))
        assert done.questions_left == 0 and done.complete

    def test_a_key_point_missed_twice_needs_the_nurse_once_missed_learned_on_retry(self):
        progress = module_progress(QUESTIONS, answers(
            ("a1", False), ("b1", False), ("c1", True), ("a2", True), ("b2", False), ("b3", True)))
        a, b, c = progress.key_points
        assert (a.learned_on_retry, a.needs_nurse) == (True, False)
        assert (b.learned_on_retry, b.needs_nurse) == (False, True)
        assert (c.learned_on_retry, c.needs_nurse) == (False, False)

    def test_missed_twice_and_not_learned_yet_still_needs_the_nurse(self):
        progress = module_progress(QUESTIONS, answers(("a1", False), ("b1", True), ("c1", True), ("a2", False)))
        assert progress.key_points[0].needs_nurse and not progress.key_points[0].mastered


class TestParkedForTheNurse:
    """After ASK_NURSE_AFTER_MISSES misses a key point is parked: not asked again until the nurse's
    teach-back, then asked once."""

    HISTORY = [("a1", True), ("b1", False), ("c1", True), ("b2", False)]  # B missed twice, at steps 1 and 3

    def test_a_key_point_missed_twice_is_parked_and_the_module_ends(self):
        progress = module_progress(QUESTIONS, answers(*self.HISTORY))
        a, b, c = progress.key_points
        assert progress.next_question_id is None
        assert progress.finished and not progress.complete
        assert b.parked and b.waiting_for_nurse and b.needs_nurse and not b.askable
        assert progress.parked == (b,) and progress.questions_left == 0 and not progress.recheck_due
        assert not progress.in_review

    def test_misses_below_the_limit_change_nothing(self):
        once = module_progress(QUESTIONS, answers(("a1", True), ("b1", False), ("c1", True)))
        assert once.next_question_id == "b2" and not once.finished and not once.parked
        assert once.questions_left == 1

    def test_a_teach_back_after_parking_gives_one_re_check_on_an_unseen_question(self):
        progress = module_progress(QUESTIONS, answers(*self.HISTORY), taught={"B": 4})
        b = progress.key_points[1]
        assert b.recheck_due and not b.parked and b.waiting_for_nurse
        assert progress.next_question_id == "b3" and progress.next_is_recheck and progress.recheck_due
        assert not progress.finished and progress.questions_left == 1

    def test_the_re_check_is_asked_once_then_parked_again_if_missed(self):
        history = [*self.HISTORY, ("b3", False)]
        progress = module_progress(QUESTIONS, answers(*history), taught={"B": 4})
        b = progress.key_points[1]
        assert progress.next_question_id is None and b.parked and b.rechecks == (False,)
        # A new teach-back, recorded after the missed re-check, gives one more (not the one just missed).
        again = module_progress(QUESTIONS, answers(*history), taught={"B": 5})
        assert again.next_question_id == "b1"  # every question seen: the longest ago

    def test_a_right_re_check_masters_the_key_point(self):
        progress = module_progress(QUESTIONS, answers(*self.HISTORY, ("b3", True)), taught={"B": 4})
        b = progress.key_points[1]
        assert progress.complete and progress.finished and b.mastered and not b.waiting_for_nurse
        assert b.rechecks == (True,) and b.needs_nurse and not b.learned_on_retry

    def test_a_teach_back_before_the_second_miss_gives_no_re_check(self):
        progress = module_progress(QUESTIONS, answers(*self.HISTORY), taught={"B": 2})
        assert progress.key_points[1].parked and progress.next_question_id is None

    def test_a_re_check_waits_for_the_first_pass(self):
        history = [("a1", False), ("a2", False)]  # A parked during the first pass
        parked = module_progress(QUESTIONS, answers(*history))
        assert parked.next_question_id == "b1" and parked.parked and not parked.recheck_due
        progress = module_progress(QUESTIONS, answers(*history), taught={"A": 2})  # re-taught at once
        assert progress.next_question_id == "b1" and progress.recheck_due and not progress.next_is_recheck


# --- properties: whatever the patient answers, the quiz never loops -----------------------------------

BANKS = st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=5).map(
    lambda sizes: [(f"q{k}-{i}", f"K{k}") for k, size in enumerate(sizes) for i in range(size)])


@given(questions=BANKS, data=st.data())
@settings(max_examples=150, deadline=None)
def test_the_next_question_is_never_a_parked_or_learned_key_point(questions, data):
    """Any stored history (even one the rules would not have asked: older rules, bank edits) and any
    teach-back facts."""
    key_points = sorted({k for _, k in questions})
    ids = [q for q, _ in questions] + ["retired"]
    history = data.draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from([*key_points, "gone"]),
                                           st.booleans()), max_size=25))
    records = [AnswerRecord(*row) for row in history]
    taught = data.draw(st.dictionaries(st.sampled_from(key_points), st.integers(0, len(records) + 1)))
    progress = module_progress(questions, records, taught)
    if progress.next_question_id is None:
        assert progress.finished
        return
    point = next(k for k in progress.key_points if progress.next_question_id in k.question_ids)
    assert not point.parked and not point.mastered and point.askable
    assert not progress.finished


@given(questions=BANKS, data=st.data())
@settings(max_examples=150, deadline=None)
def test_a_module_always_ends_after_a_bounded_number_of_answers(questions, data):
    """Following the rules with any answers, and a nurse who sometimes re-teaches a parked key point:
    the module ends, after at most key points x ASK_NURSE_AFTER_MISSES answers plus one per teach-back."""
    key_points = {k for _, k in questions}
    records: list[AnswerRecord] = []
    taught: dict[str, int] = {}
    teach_backs = 0
    bound = len(key_points) * ASK_NURSE_AFTER_MISSES
    while True:
        progress = module_progress(questions, records, taught)
        parked = [k.key_point for k in progress.key_points if k.parked]
        if parked and teach_backs < 3 and data.draw(st.booleans(), label="nurse re-teaches"):
            taught[data.draw(st.sampled_from(parked))] = len(records)  # recorded after every answer so far
            teach_backs += 1
            continue
        asked = progress.next_question_id
        if asked is None:
            break
        assert len(records) < bound + teach_backs, "the quiz asked more than the rules allow"
        point = next(k for k in progress.key_points if asked in k.question_ids)
        assert not point.parked
        records.append(AnswerRecord(asked, point.key_point, data.draw(st.booleans(), label="right")))
    assert progress.finished
    assert all(k.mastered or k.parked for k in progress.key_points)
    assert all(k.misses <= ASK_NURSE_AFTER_MISSES + teach_backs for k in progress.key_points)
