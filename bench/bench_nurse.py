"""Benchmark: the server cost of the nurse's live patient list. Prints figures; asserts nothing.

One unit of 40 patients (each with 2 to 4 modules, answers with misses, some teach-back), in a
hospital of 2,000 more patients on other units, served by the app in-process (Flask test client, file
SQLite). Every figure is the median server time of one request and its ratio to the start page
measured in the same run (the baseline), plus the SQL statements the request runs:

* "poll, nothing changed": what every open list costs every NURSE_POLL_SECONDS (204, no body);
* "poll, something changed": the list block alone, after a patient answered;
* the full list page, and one patient's detail page.

    .venv/bin/python bench/bench_nurse.py [--patients 40] [--hospital 2000] [--repeat 200]
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.bench_patient import timed  # noqa: E402
from quiz import create_app  # noqa: E402
from quiz.assignments import create_assignment  # noqa: E402
from quiz.bank import load_bank, sync_bank  # noqa: E402
from quiz.extensions import db  # noqa: E402
from quiz.models import Answer, Question, StaffUser, TeachBack, Unit  # noqa: E402
from quiz.passwords import hash_password  # noqa: E402

MODULES = ["stopping-safely", "kidney-health", "warning-signs", "alcohol-and-sedatives", "taking-your-doses"]
PASSWORD = "bench nurse password"


def fill_unit(unit: Unit, patients: int, rng: random.Random, nurse: StaffUser | None, label: str) -> list[int]:
    questions = {
        m: [(q.id, q.current_version.id, q.current_version.key_point) for q in db.session.execute(
            db.select(Question).where(Question.module_id == m).order_by(Question.position)).scalars()]
        for m in MODULES
    }
    ids = []
    for number in range(patients):
        modules = rng.sample(MODULES, rng.randint(2, 4))
        assignment, _ = create_assignment(f"{label} {number + 1}", modules, 14, unit=unit)
        ids.append(assignment.id)
        for module_id in modules:
            answered = rng.randint(0, len(questions[module_id]))
            for step, (question_id, version_id, key_point) in enumerate(questions[module_id][:answered]):
                correct = rng.random() > 0.25
                db.session.add(Answer(assignment_id=assignment.id, module_id=module_id, step=step,
                                      question_id=question_id, question_version_id=version_id, selected=[0],
                                      correct=correct))
                if not correct and nurse is not None and rng.random() < 0.5:
                    db.session.add(TeachBack(assignment_id=assignment.id, module_id=module_id, key_point=key_point,
                                             learner="patient", method="teach_back", response="verbalizes",
                                             recorded_by=nurse))
        if number % 200 == 0:
            db.session.commit()
    db.session.commit()
    return ids


def token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


class StatementCounter:
    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args, **kwargs):
        self.count += 1

    def of(self, fn) -> int:
        before = self.count
        fn()
        return self.count - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=40, help="patients on the nurse's unit")
    parser.add_argument("--hospital", type=int, default=2000, help="patients on other units")
    parser.add_argument("--repeat", type=int, default=200, help="requests per figure")
    parser.add_argument("--profile", action="store_true", help="print a profile of the changed-list request")
    args = parser.parse_args()
    rng = random.Random(6)

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"QUIZ_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3",
                          "PASSWORD_HASH_PROFILE": "CHEAPEST"})
        with app.app_context():
            db.create_all()
            sync_bank(load_bank(ROOT / "questions"))
            ward, elsewhere = Unit(name="Bench ward"), Unit(name="Rest of the hospital")
            nurse = StaffUser(username="bench", display_name="Bench", role="nurse", units=[ward],
                              password_hash=hash_password(PASSWORD))
            db.session.add_all([ward, elsewhere, nurse])
            db.session.commit()
            start = time.perf_counter()
            ward_ids = fill_unit(ward, args.patients, rng, nurse, "Bed")
            fill_unit(elsewhere, args.hospital, rng, None, "Other")
            answers = db.session.execute(db.select(db.func.count(Answer.id))).scalar_one()
            unit_id = ward.id
            counter = StatementCounter(db.engine)
        print(f"Data: {args.patients} patients on the unit, {args.hospital} on other units, {answers} answers "
              f"(filled in {time.perf_counter() - start:.1f} s)")

        client = app.test_client()
        page = client.get("/staff/sign-in").text
        client.post("/staff/sign-in", data={"username": "bench", "password": PASSWORD, "csrf_token": token(page)})
        list_url = f"/nurse/units/{unit_id}"
        full = client.get(list_url)
        assert full.status_code == 200 and f"Patients with a working code ({args.patients})" in full.text
        marker = re.search(r'data-version="([0-9a-f]+)"', full.text).group(1)
        hx = {"HX-Request": "true"}
        assert client.get(f"{list_url}?v={marker}", headers=hx).status_code == 204
        assert client.get(f"{list_url}?v=stale", headers=hx).status_code == 200

        anonymous = app.test_client()
        anonymous.get("/")
        requests = {
            "start page (baseline)": lambda: anonymous.get("/"),
            "poll, nothing changed (204)": lambda: client.get(f"{list_url}?v={marker}", headers=hx),
            "poll, something changed (list block)": lambda: client.get(f"{list_url}?v=stale", headers=hx),
            "full list page": lambda: client.get(list_url),
            "one patient's detail": lambda: client.get(f"/nurse/assignments/{ward_ids[0]}"),
        }
        results = {name: timed(fn, args.repeat) for name, fn in requests.items()}
        statements = {name: counter.of(fn) for name, fn in requests.items()}
        if args.profile:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.runcall(lambda: [requests["poll, something changed (list block)"]() for _ in range(20)])
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)

    base = results["start page (baseline)"]
    print()
    print(f"{'request (median of ' + str(args.repeat) + ')':<40} {'time':>9} {'x start page':>13} {'SQL':>5}")
    for name, value in results.items():
        print(f"{name:<40} {value:>7.2f}ms {value / base:>13.2f} {statements[name]:>5}")
    changed = results["poll, something changed (list block)"]
    nothing = results["poll, nothing changed (204)"]
    print()
    print(f"RESULT nurse_list poll_unchanged_vs_start={nothing / base:.2f} poll_changed_vs_start={changed / base:.2f} "
          f"unit_patients={args.patients}")


if __name__ == "__main__":
    main()
