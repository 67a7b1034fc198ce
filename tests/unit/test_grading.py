import pytest

from quiz.grading import AnswerRecord, grade, module_progress

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

    def test_repeated_misses_rotate_through_the_key_points_questions(self):
        history = [("a1", True), ("b1", False), ("c1", True)]
        asked = []
        for _ in range(5):
            nxt = module_progress(QUESTIONS, answers(*history)).next_question_id
            asked.append(nxt)
            history.append((nxt, False))
        assert asked == ["b2", "b3", "b1", "b2", "b3"]  # unseen first, then the longest ago

    def test_never_repeats_the_question_just_answered_when_another_exists(self):
        progress = module_progress(
            QUESTIONS, answers(("a1", True), ("b1", True), ("c1", False), ("c2", False))
        )
        assert progress.next_question_id == "c1"

    def test_a_key_point_with_one_question_is_asked_again(self):
        single = [("x1", "X")]
        progress = module_progress(single, [AnswerRecord("x1", "X", False)])
        assert progress.next_question_id == "x1"

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
