"""The summary tables kept up to date answer by answer equal a from-scratch recomputation from the raw
answers, after random sequences of answers, teach-back entries, module changes and assignments made on
different days and units (Hypothesis drives the real service functions the pages call)."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quiz import stats
from quiz.assignments import create_assignment, set_modules
from quiz.extensions import db
from quiz.models import Assignment, Module, StaffUser, StatItem, Unit
from quiz.nurse.service import assignment_detail, record_teach_back
from quiz.patient.service import acknowledge, module_state, submit_answer
from quiz.reports.service import Filters, items, summary
from quiz.stats.contribution import expand
from quiz.stats.store import recompute, stored_tables, without_zero_rows

MODULES = ["stopping-safely", "kidney-health", "driving-and-alertness"]

action = st.one_of(
    st.tuples(st.just("answer"), st.integers(0, 3), st.integers(0, 2), st.integers(0, 2 ** 16)),
    st.tuples(st.just("teach_back"), st.integers(0, 3), st.sampled_from(["verbalizes", "needs_reinforcement"])),
    st.tuples(st.just("modules"), st.integers(0, 3), st.sets(st.sampled_from(MODULES), min_size=1)),
)


def _choose(version, seed: int) -> list[int]:
    """A selection drawn from the seed: often the right one, otherwise some other valid selection."""
    count = len(version.choices)
    if seed % 3 == 0:
        return [i for i, c in enumerate(version.choices) if c["correct"]]
    if version.type == "multiple":
        picked = [i for i in range(count) if seed >> i & 1]
        return picked or [seed % count]
    return [seed % count]


def _play(steps, nurse, assignments) -> None:
    for step in steps:
        assignment = db.session.get(Assignment, assignments[step[1]])
        if step[0] == "answer":
            links = assignment.modules
            module = links[step[2] % len(links)].module
            state = module_state(assignment, module)
            if state.pending_feedback is not None:
                acknowledge(assignment, module, state.pending_feedback.id)
                state = module_state(assignment, module)
            question = state.next_question
            if question is None:
                continue
            version = question.current_version
            submit_answer(assignment, module, state.next_step, question.id, version.id, _choose(version, step[3]))
        elif step[0] == "teach_back":
            detail = assignment_detail(assignment)
            points = [k for m in detail.modules for k in m.key_points]
            if points:
                latest = points[0].latest_entry
                record_teach_back(assignment, detail, ref=points[0].ref, learner="patient", method="teach_back",
                                  response=step[2], note=None, by=nurse,
                                  supersedes_id=latest.id if latest and step[2] == "verbalizes" else None)
                db.session.commit()
        else:
            set_modules(assignment, sorted(step[2]))
            db.session.commit()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(steps=st.lists(action, min_size=1, max_size=40), days_back=st.lists(st.integers(0, 20), min_size=4, max_size=4),
       range_start=st.integers(0, 25), range_days=st.integers(0, 25))
def test_incremental_tables_equal_a_recomputation(app, steps, days_back, range_start, range_days):
    with app.app_context():
        units = [db.session.execute(db.select(Unit).where(Unit.name == name)).scalar_one_or_none() or Unit(name=name)
                 for name in ("Ward A", "Ward B")]
        db.session.add_all(units)
        nurse = db.session.execute(db.select(StaffUser).where(StaffUser.username == "hyp")).scalar_one_or_none()
        if nurse is None:
            nurse = StaffUser(username="hyp", display_name="H", role="nurse", password_hash="x", units=units)
            db.session.add(nurse)
        assignments = []
        for i, back in enumerate(days_back):
            assignment, _ = create_assignment(f"Bed {i}", MODULES[: 1 + i % 3], 14, unit=units[i % 2])
            # Made on another day: the refresh must move its share from today's row to that day's.
            assignment.created_at -= timedelta(days=back, hours=i)
            stats.refresh_assignment(assignment.id)
            assignments.append(assignment.id)
        db.session.commit()
        _play(steps, nurse, assignments)
        expected, _ = recompute()
        assert stored_tables() == without_zero_rows(expand(expected))
        # A report over any date range (weekly rows plus the days at its ends) adds up to the days in it.
        start = date.today() - timedelta(days=range_start)
        end = start + timedelta(days=range_days)
        made = sum(row["made"] for (period, day, unit), row in expected.get("assignment", {}).items()
                   if start <= day <= end)
        first_tries = sum(row["n"] for (period, day, unit, *_), row in expected.get("item", {}).items()
                          if start <= day <= end)
        filters = Filters(start, end)
        assert summary(filters)[0] == made
        assert sum(row.sums.n for row in items(filters)) == first_tries
        db.session.rollback()


def test_rebuild_equals_the_incremental_tables(app):
    with app.app_context():
        assignment, _ = create_assignment("Bed 1", ["stopping-safely"], 14)
        db.session.commit()
        module = db.session.get(Module, "stopping-safely")
        for seed in range(30):
            state = module_state(assignment, module)
            if state.pending_feedback is not None:
                acknowledge(assignment, module, state.pending_feedback.id)
                continue
            if state.next_question is None:
                break
            version = state.next_question.current_version
            submit_answer(assignment, module, state.next_step, state.next_question.id, version.id, _choose(version, seed))
        before = stored_tables()
        assert before["item"], "a first pass was completed, so there are item statistics"
        # Damage the tables, then recover them.
        db.session.execute(db.delete(StatItem))
        db.session.commit()
        assert "item" not in stored_tables()
        stats.rebuild()
        db.session.commit()
        assert stored_tables() == before
