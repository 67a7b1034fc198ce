"""Benchmark: how long the patient's requests and the bank load take, and whether they stay flat as
the database grows. Prints figures; asserts nothing (speed goals live here, not in unit tests).

Every figure is also given as a ratio against a baseline measured in the same run on the same machine
(the start page, which touches no quiz tables), so runs on different machines compare.

    .venv/bin/python bench/bench_patient.py [--patients 2000] [--repeat 200]
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quiz import create_app  # noqa: E402
from quiz.assignments import create_assignment  # noqa: E402
from quiz.bank import load_bank, sync_bank  # noqa: E402
from quiz.extensions import db  # noqa: E402
from quiz.models import Answer, Question  # noqa: E402

MODULES = ["alcohol-and-sedatives", "stopping-safely", "driving-and-alertness", "kidney-health"]


def timed(fn, repeat: int) -> float:
    """Median wall time of `fn` in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def fill(app, patients: int) -> None:
    """Add `patients` assignments, each with answers on one module (about a third of them wrong)."""
    with app.app_context():
        questions = {
            m: [(q.id, q.current_version.id) for q in db.session.execute(
                db.select(Question).where(Question.module_id == m).order_by(Question.position)).scalars()]
            for m in MODULES
        }
        for number in range(patients):
            assignment, _ = create_assignment(f"Bench {number}", MODULES, 14)
            module_id = MODULES[number % len(MODULES)]
            for step, (question_id, version_id) in enumerate(questions[module_id]):
                db.session.add(Answer(assignment_id=assignment.id, module_id=module_id, step=step,
                                      question_id=question_id, question_version_id=version_id,
                                      selected=[0], correct=step % 3 != 0))
            if number % 500 == 0:
                db.session.commit()
        db.session.commit()


def measure_requests(app, repeat: int) -> dict[str, float]:
    with app.app_context():
        _, code = create_assignment("Bench patient", MODULES, 14)
        db.session.commit()
    client = app.test_client()
    client.post("/", data={"code": code, "csrf_token": token(client.get("/").text)})
    results = {
        "start page (baseline)": timed(lambda: client.get("/"), repeat),
        "topics overview": timed(lambda: client.get("/quiz"), repeat),
        "question card": timed(lambda: client.get("/quiz/stopping-safely"), repeat),
        "question card (htmx)": timed(
            lambda: client.get("/quiz/stopping-safely", headers={"HX-Request": "true"}), repeat),
        "summary": timed(lambda: client.get("/summary"), repeat),
    }

    def answer_and_next():
        page = client.get("/quiz/kidney-health").text
        if "You have finished this topic" in page:
            return
        step = re.search(r'name="step" value="(\d+)"', page).group(1)
        version_id = re.search(r'name="version_id" value="(\d+)"', page).group(1)
        qid = re.search(r'name="question_id" type="hidden" value="([^"]+)"', page).group(1)
        with app.app_context():
            flags = [c["correct"] for c in db.session.get(Question, qid).current_version.choices]
        right = [str(i) for i, f in enumerate(flags) if f]
        feedback = client.post("/quiz/kidney-health/answer", data={
            "step": step, "question_id": qid, "version_id": version_id, "choice": right,
            "csrf_token": token(page)},
            headers={"HX-Request": "true"}).text
        answer_id = re.search(r'name="answer_id" required type="hidden" value="(\d+)"', feedback).group(1)
        client.post("/quiz/kidney-health/next", data={"answer_id": answer_id, "csrf_token": token(page)},
                    headers={"HX-Request": "true"})

    results["answer + next (htmx, 4 requests)"] = timed(answer_and_next, 3)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000, help="assignments in the large database")
    parser.add_argument("--repeat", type=int, default=200, help="requests per figure")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        bank = load_bank(ROOT / "questions")
        load_ms = (time.perf_counter() - start) * 1000
        print(f"Bank: {len(bank.modules)} modules, {len(bank.questions)} questions, "
              f"{bank.citation_count} citations validated in {load_ms:.1f} ms")

        app = create_app({"QUIZ_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3"})
        with app.app_context():
            db.create_all()
            start = time.perf_counter()
            sync_bank(bank)
            db.session.commit()
            first_sync = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            unchanged = sync_bank(bank)
            db.session.commit()
            second_sync = (time.perf_counter() - start) * 1000
        print(f"Bank sync: first {first_sync:.1f} ms, unchanged reload {second_sync:.1f} ms "
              f"(changed anything: {unchanged.changed})")

        small = measure_requests(app, args.repeat)
        start = time.perf_counter()
        fill(app, args.patients)
        with app.app_context():
            answers = db.session.execute(db.select(db.func.count(Answer.id))).scalar_one()
        print(f"Filled the database: {args.patients} more assignments, {answers} answers "
              f"in {time.perf_counter() - start:.1f} s")
        large = measure_requests(app, args.repeat)

    baseline_small = small["start page (baseline)"]
    baseline_large = large["start page (baseline)"]
    print()
    print(f"{'request (median of runs)':<36} {'small DB':>10} {'x base':>7} {'large DB':>10} {'x base':>7} {'large/small':>12}")
    for name in small:
        print(f"{name:<36} {small[name]:>8.2f}ms {small[name] / baseline_small:>7.2f} "
              f"{large[name]:>8.2f}ms {large[name] / baseline_large:>7.2f} {large[name] / small[name]:>12.2f}")


if __name__ == "__main__":
    main()
