"""Every statistic against hand-computed examples: nobody answered, all correct, one patient, ties,
a question edited mid-way (two versions), and the flags' thresholds."""
from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta, timezone

import pytest

from quiz.readiness import TeachBackEntry
from quiz.stats.contribution import (
    AnswerFact, ModuleFacts, add_into, contribution, difference, expand, from_json, to_json,
)
from quiz.stats.figures import (
    BUCKET_RATIO, ItemSums, bucket_of, bucket_value, choice_shares, discrimination, facility, flags,
    mean_tries_to_mastery, median_from_histogram,
)


def test_nobody_answered():
    sums = ItemSums()
    assert facility(sums) is None
    assert discrimination(sums) is None
    assert mean_tries_to_mastery(sums) is None
    assert choice_shares(sums, 3) == [None, None, None]
    assert flags(sums, [True, False, False]) == []
    assert median_from_histogram({}) is None


def test_hand_computed_discrimination():
    # x = 1, 1, 0, 0 and rest scores y = 3, 2, 1, 2: cov = 0.25, var x = 0.25, var y = 0.5.
    sums = ItemSums.of([(1, 3), (1, 2), (0, 1), (0, 2)])
    assert (sums.n, sums.sum_x, sums.sum_y, sums.sum_xy, sums.sum_xx, sums.sum_yy) == (4, 2, 8, 5, 2, 18)
    assert facility(sums) == 0.5
    assert discrimination(sums) == pytest.approx(0.25 / math.sqrt(0.25 * 0.5))  # 0.7071


def test_negative_discrimination():
    sums = ItemSums.of([(1, 0), (1, 1), (0, 3), (0, 2)])
    assert discrimination(sums) < 0


def test_all_correct_has_no_discrimination_and_is_flagged_easy_at_30():
    few = ItemSums.of([(1, y % 4) for y in range(10)])
    assert facility(few) == 1.0 and discrimination(few) is None
    assert flags(few, [True, False]) == []  # under 30 answers: no facility or discrimination flag
    many = ItemSums.of([(1, y % 4) for y in range(30)], choices=[(0,)] * 30)
    codes = [f.code for f in flags(many, [True, False])]
    assert codes == ["easy", "discrimination"]
    assert "cannot be computed" in flags(many, [True, False])[1].reason


def test_one_patient():
    sums = ItemSums.of([(0, 2)], choices=[(1,)], tries=[3])
    assert facility(sums) == 0.0
    assert discrimination(sums) is None
    assert mean_tries_to_mastery(sums) == 3.0
    assert choice_shares(sums, 3) == [0.0, 1.0, 0.0]


def test_ties_in_the_rest_score_give_no_discrimination():
    sums = ItemSums.of([(1, 2), (0, 2), (1, 2)])
    assert discrimination(sums) is None


def test_facility_thresholds():
    hard = ItemSums.of([(1 if i < 17 else 0, i % 5) for i in range(50)])  # 34 %
    assert "hard" in [f.code for f in flags(hard, [True, False])]
    edge = ItemSums.of([(1 if i < 35 else 0, i % 5) for i in range(100)])  # exactly 35 %: not under
    assert "hard" not in [f.code for f in flags(edge, [True, False])]
    almost = ItemSums.of([(1 if i < 9 else 0, i % 5) for i in range(29)])  # 31 % but only 29 answers
    assert "hard" not in [f.code for f in flags(almost, [True, False])]


def test_discrimination_threshold():
    # Rest score unrelated to the item: r = 0 < 0.2, flagged with 40 answers.
    sums = ItemSums.of([(i % 2, (i // 2) % 2) for i in range(40)])
    assert discrimination(sums) == pytest.approx(0.0)
    assert [f.code for f in flags(sums, [True, False])] == ["discrimination"]
    good = ItemSums.of([(i % 2, i % 2 * 3 + (i // 2) % 2) for i in range(40)])
    assert discrimination(good) > 0.2
    assert flags(good, [True, False]) == []


def test_a_wrong_choice_picked_more_than_the_right_one_is_flagged_at_any_count():
    sums = ItemSums.of([(1, 0)] * 3 + [(0, 0)] * 5, choices=[(0,)] * 3 + [(2,)] * 5)
    found = flags(sums, [True, False, False], ["Right", "Wrong one", "Wrong two"])
    assert [f.code for f in found] == ["distractor"]
    assert '"Wrong two"' in found[0].reason and "(5)" in found[0].reason and "(3)" in found[0].reason
    tie = ItemSums.of([(1, 0)] * 3 + [(0, 0)] * 3, choices=[(0,)] * 3 + [(1,)] * 3)
    assert flags(tie, [True, False]) == []  # a tie is not "more often"


def test_multiple_answer_shares_can_add_up_past_one():
    sums = ItemSums.of([(1, 1), (0, 0)], choices=[(0, 2), (0,)])
    assert choice_shares(sums, 3) == [1.0, 0.0, 0.5]


def test_sums_add_across_days_and_units():
    a = ItemSums.of([(1, 3), (1, 2)], choices=[(0,), (0,)], tries=[1, 1])
    b = ItemSums.of([(0, 1), (0, 2)], choices=[(1,), (2,)], tries=[2])
    total = ItemSums()
    total.add(a)
    total.add(b)
    assert total == ItemSums.of([(1, 3), (1, 2), (0, 1), (0, 2)], choices=[(0,), (0,), (1,), (2,)], tries=[1, 1, 2])


def test_buckets_and_median_precision():
    assert bucket_of(0) == 0 and bucket_of(0.5) == 0 and bucket_of(1.0) == 0 and bucket_of(1.1) == 1
    for b in (0, 5, 50, 120):
        assert bucket_of(bucket_value(b)) == b
    rng = random.Random(7)
    for _ in range(50):
        values = [rng.lognormvariate(6, 1.5) for _ in range(rng.randint(1, 200))]
        histogram: dict[int, int] = {}
        for v in values:
            histogram[bucket_of(v)] = histogram.get(bucket_of(v), 0) + 1
        ordered = sorted(values)
        true = (ordered[(len(ordered) - 1) // 2] + ordered[len(ordered) // 2]) / 2
        assert abs(median_from_histogram(histogram) / true - 1) <= BUCKET_RATIO - 1


def test_median_of_two_is_the_middle_of_their_buckets():
    assert median_from_histogram({10: 1, 12: 1}) == pytest.approx((bucket_value(10) + bucket_value(12)) / 2)
    assert median_from_histogram({10: 2, 12: 1}) == pytest.approx(bucket_value(10))


# --- What one assignment contributes ------------------------------------------------------------------

T0 = datetime(2026, 11, 4, 9, 0, tzinfo=timezone.utc)
DAY = date(2026, 11, 4)  # a Wednesday
WEEK = date(2026, 11, 2)  # its Monday: the weekly rows' date


def fact(question, version, key_point, correct, selected, minutes):
    return AnswerFact(question, version, key_point, correct, tuple(selected), T0 + timedelta(minutes=minutes))


QUESTIONS = (("q1", "kp1"), ("q2", "kp2"), ("q3", "kp1"))


def test_one_patient_one_module_by_hand():
    # kp1 missed (q1, choice 2), kp2 right (q2), kp1 right on the re-check (q3): complete at minute 30.
    answers = (fact("q1", 11, "kp1", False, [2], 10), fact("q2", 12, "kp2", True, [0], 20),
               fact("q3", 13, "kp1", True, [1], 30))
    out = contribution(DAY, 5, T0, [ModuleFacts("m", "M", True, QUESTIONS, answers)], [])
    assert out["module"][("d", DAY, 5, "m")] == dict(assigned=1, started=1, first_pass=1, completed=1, ft_correct=1, ft_total=2)
    # First tries: q1 (x=0, rest 1) and q2 (x=1, rest 0); q3 was a re-check, not a first try.
    assert out["item"][("d", DAY, 5, 11)] == dict(n=1, sum_x=0, sum_y=1, sum_xy=0, sum_xx=0, sum_yy=1, mastered=1, tries=2)
    assert out["item"][("d", DAY, 5, 12)] == dict(n=1, sum_x=1, sum_y=0, sum_xy=0, sum_xx=1, sum_yy=0, mastered=1, tries=1)
    # In the tables, the weekly rows hold the same sums, dated by the Monday, and so do the all-units
    # rows (unit 0).
    tables = expand(out)
    assert all(tables[t][("w", WEEK) + k[2:]] == row for t in out for k, row in out[t].items())
    assert all(tables[t][k[:2] + (0,) + k[3:]] == row for t in out for k, row in out[t].items())
    assert ("d", DAY, 5, 13) not in out["item"]
    assert out["choice"] == {("d", DAY, 5, 11, 2): {"n": 1}, ("d", DAY, 5, 12, 0): {"n": 1}}
    # Missed and not taught back: completed, not ready.
    assert out["assignment"][("d", DAY, 5)] == dict(made=1, started=1, completed=1, ready=0)
    assert out["completion"] == {("d", DAY, 5, bucket_of(30)): {"n": 1}}
    ready = contribution(DAY, 5, T0, [ModuleFacts("m", "M", True, QUESTIONS, answers)],
                         [TeachBackEntry(1, "m", "kp1", "verbalizes")])
    assert ready["assignment"][("d", DAY, 5)]["ready"] == 1


def test_nothing_is_counted_before_the_first_pass_completes():
    answers = (fact("q1", 11, "kp1", False, [2], 10),)
    out = contribution(DAY, 5, T0, [ModuleFacts("m", "M", True, QUESTIONS, answers)], [])
    assert out["module"][("d", DAY, 5, "m")] == dict(assigned=1, started=1, first_pass=0, completed=0, ft_correct=0, ft_total=0)
    assert "item" not in out and "choice" not in out and "completion" not in out
    untouched = contribution(DAY, 5, T0, [ModuleFacts("m", "M", True, QUESTIONS, ())], [])
    assert untouched["assignment"][("d", DAY, 5)] == dict(made=1, started=0, completed=0, ready=0)


def test_a_question_edited_mid_way_counts_per_version():
    # Patient A saw version 21 of q1, patient B version 22 (same key point): two rows, never mixed.
    a = contribution(DAY, 5, T0, [ModuleFacts("m", "M", True, QUESTIONS[:2], (
        fact("q1", 21, "kp1", True, [0], 1), fact("q2", 12, "kp2", True, [0], 2)))], [])
    b = contribution(DAY, 5, T0, [ModuleFacts("m", "M", True, QUESTIONS[:2], (
        fact("q1", 22, "kp1", False, [1], 1), fact("q2", 12, "kp2", True, [0], 2), fact("q1", 22, "kp1", True, [0], 3)))], [])
    total: dict = {}
    add_into(total, a)
    add_into(total, b)
    assert total["item"][("d", DAY, 5, 21)]["n"] == 1 and total["item"][("d", DAY, 5, 21)]["sum_x"] == 1
    assert total["item"][("d", DAY, 5, 22)]["n"] == 1 and total["item"][("d", DAY, 5, 22)]["sum_x"] == 0
    assert expand(total)["item"][("w", WEEK, 0, 12)]["n"] == 2 and total["item"][("d", DAY, 5, 12)]["sum_y"] == 1


def test_difference_and_json_round_trip():
    before = contribution(DAY, 5, T0, [ModuleFacts("m", "M", True, QUESTIONS, ())], [])
    after = contribution(DAY, 5, T0, [ModuleFacts("m", "M", True, QUESTIONS, (
        fact("q1", 11, "kp1", True, [0], 1), fact("q2", 12, "kp2", True, [0], 2)))], [])
    assert from_json(to_json(after)) == after
    delta = difference(after, before)
    assert delta["assignment"] == {("d", DAY, 5): dict(made=0, started=1, completed=1, ready=1)}
    assert difference(after, after) == {}


def test_a_range_reads_whole_weeks_and_the_days_at_its_ends():
    from quiz.reports.service import Filters

    p = Filters(date(2026, 11, 4), date(2026, 11, 24)).params()  # Wednesday to Tuesday three weeks on
    assert (p["week_from"], p["week_to"]) == (date(2026, 11, 9), date(2026, 11, 16))
    assert (p["head_from"], p["head_to"]) == (date(2026, 11, 4), date(2026, 11, 8))
    assert (p["tail_from"], p["tail_to"]) == (date(2026, 11, 23), date(2026, 11, 24))
    aligned = Filters(date(2026, 11, 2), date(2026, 11, 15)).params()  # Monday to Sunday: weeks only
    assert (aligned["week_from"], aligned["week_to"]) == (date(2026, 11, 2), date(2026, 11, 9))
    assert aligned["head_from"] > aligned["head_to"] and aligned["tail_from"] > aligned["tail_to"]
    short = Filters(date(2026, 11, 4), date(2026, 11, 10)).params()  # no whole week inside: days only
    assert short["week_from"] > short["week_to"] and short["tail_from"] > short["tail_to"]
    assert (short["head_from"], short["head_to"]) == (date(2026, 11, 4), date(2026, 11, 10))
    one_day = Filters(date(2026, 11, 2), date(2026, 11, 2)).params()  # a Monday alone: its day only
    assert one_day["week_from"] > one_day["week_to"] and one_day["tail_from"] > one_day["tail_to"]
