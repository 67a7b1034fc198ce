"""What the statistics hook costs the answer path (issue 7): patients answer whole modules through the
service the answer POST calls (`quiz.patient.service.submit_answer`), with the hook as shipped and with
it replaced by a no-op, alternating patient by patient on the same database; prints the median time of
one answer each way, and of the answers that were events (a module's first answer, first pass done,
module complete) alone.

    .venv/bin/python bench/bench_answer_hook.py [--patients 40] [--database sqlite:///...]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quiz import create_app, stats  # noqa: E402
from quiz.assignments import create_assignment, ready_module_ids  # noqa: E402
from quiz.bank import load_bank, sync_bank  # noqa: E402
from quiz.extensions import db  # noqa: E402
from quiz.models import Module  # noqa: E402
from quiz.patient import service  # noqa: E402


def answer_all(assignment, modules, rng_seed: int) -> list[tuple[float, bool]]:
    """(seconds, was an event) per answer; every third first try wrong."""
    times = []
    for module in modules:
        count = 0
        while True:
            state = service.module_state(assignment, module)
            if state.pending_feedback is not None:
                service.acknowledge(assignment, module, state.pending_feedback.id)
                continue
            question = state.next_question
            if question is None:
                break
            version = question.current_version
            right = [i for i, c in enumerate(version.choices) if c["correct"]]
            wrong = [i for i, c in enumerate(version.choices) if not c["correct"]][:1]
            selected = wrong if (count + rng_seed) % 3 == 0 and not state.progress.in_review else right
            before = len(state.answers)
            started = time.perf_counter()
            service.submit_answer(assignment, module, state.next_step, question.id, version.id, selected)
            elapsed = time.perf_counter() - started
            after = service.module_state(assignment, module).progress
            event = before == 0 or after.complete or (after.in_review and not state.progress.in_review)
            times.append((elapsed, event))
            count += 1
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'hook.sqlite3'}"
        app = create_app({"QUIZ_ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            db.create_all()
            sync_bank(load_bank(ROOT / "questions"))
            db.session.commit()
            module_ids = ready_module_ids()
            modules = [db.session.get(Module, m) for m in module_ids]
            shipped = stats.answer_recorded
            results: dict[str, list[tuple[float, bool]]] = {"with hook": [], "without": []}
            for patient in range(args.patients):
                hooked = patient % 2 == 0
                service.stats.answer_recorded = shipped if hooked else (lambda *args: None)
                assignment, _ = create_assignment(f"Bench {patient}", module_ids, 14)
                db.session.commit()
                results["with hook" if hooked else "without"] += answer_all(assignment, modules, patient)
            service.stats.answer_recorded = shipped
    print("== the statistics hook on the answer path (submit_answer, in-process) ==")
    for name, rows in results.items():
        every = statistics.median(t for t, _ in rows) * 1000
        events = [t for t, e in rows if e]
        print(f"  {name:<10} {len(rows):>5} answers: median {every:6.2f} ms; events ({len(events)}) median "
              f"{statistics.median(events) * 1000:6.2f} ms")
    ratio = statistics.median(t for t, _ in results["with hook"]) / statistics.median(t for t, _ in results["without"])
    event_ratio = (statistics.median(t for t, e in results["with hook"] if e)
                   / statistics.median(t for t, e in results["without"] if e))
    print(f"RESULT answer_hook median_ratio={ratio:.2f} event_ratio={event_ratio:.2f}")


if __name__ == "__main__":
    main()
