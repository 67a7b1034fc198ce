"""Scale benchmark (issue 7): the administrator dashboard and item analysis at 10k, 100k and 1M
answers, on SQLite and PostgreSQL, as a ratio to the start page timed in the same run.

One database per backend grows from 10k to 100k to 1M answers (`quiz.demo_data.generate`, the code
behind `flask --app wsgi demo generate`, with a new seed per step; assignments spread over the last
180 days). At each size the three pages are requested in-process through Flask's test client (server
time, no network), interleaved round by round so a busy machine slows all three alike, and the median
of each is kept. The pages run with their default filters (the last 12 weeks, all units, all modules).

Targets: at 1M answers both pages within 5x the start page; 1M/10k growth below 2. The last line is

    RESULT scale dashboard_1m_vs_start=<ratio> items_1m_vs_start=<ratio> dashboard_growth=<1M/10k> items_growth=<1M/10k>

taking, for each figure, the worse of the two databases (PostgreSQL is skipped when unreachable). The
growth figures compare each page's time relative to the start page at 1M and at 10k answers (the
start page reads no data, so this cancels the machine's load drifting between the sizes, which are
minutes apart); the raw growth of the page times is printed above it.

    .venv/bin/python bench/bench_scale.py [--sizes 10000,100000,1000000] [--rounds 40]
        [--databases sqlite,postgresql] [--pg-database bench_scale]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from quiz import create_app  # noqa: E402
from quiz.bank import load_bank, sync_bank  # noqa: E402
from quiz.demo_data import generate  # noqa: E402
from quiz.extensions import db  # noqa: E402
from quiz.models import Answer, StaffUser  # noqa: E402
from quiz.passwords import hash_password  # noqa: E402

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PAGES = {"start": "/", "dashboard": "/admin/reports/", "items": "/admin/reports/items"}
PASSWORD = "bench-scale-password"
ANSWERS_PER_PATIENT = 25  # first estimate; corrected from what each step produced


def postgres_database(name: str) -> str | None:
    """A fresh database `name` on the PostgreSQL server of TEST_POSTGRES_URL (None when unreachable)."""
    parts = urlsplit(POSTGRES_URL)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    try:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure means "not available here"
        print(f"PostgreSQL unavailable ({type(error).__name__}): skipped")
        return None
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_postgres_database(name: str) -> None:
    parts = urlsplit(POSTGRES_URL)
    engine = create_engine(urlunsplit(parts._replace(path="/postgres")), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def make_app(url: str):
    # Development configuration (demo data allowed, plain HTTP cookies for the test client); the pages,
    # queries and templates are those of production.
    return create_app({"QUIZ_ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-scale"})


def prepare(app) -> None:
    with app.app_context():
        upgrade(directory=str(ROOT / "quiz" / "migrations"))
        sync_bank(load_bank(ROOT / "questions"))
        db.session.add(StaffUser(username="bench-admin", display_name="Bench admin", role="admin",
                                 password_hash=hash_password(PASSWORD)))
        db.session.commit()


def answers(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count(Answer.id))).scalar_one()


def grow(app, target: int, seed: int) -> float:
    """Add synthetic patients until the database holds about `target` answers; returns seconds."""
    global ANSWERS_PER_PATIENT
    started = time.perf_counter()
    have = answers(app)
    while have < target * 0.98:
        patients = max(1, round((target - have) / ANSWERS_PER_PATIENT))
        with app.app_context():
            made = generate(patients, seed=seed)
            db.session.commit()
        ANSWERS_PER_PATIENT = made.answers / made.patients
        have += made.answers
        seed += 1000
    return time.perf_counter() - started


def measure(app, rounds: int) -> dict[str, float]:
    """Median server time of each page, in ms."""
    admin = app.test_client()
    token_page = admin.get("/staff/sign-in").get_data(as_text=True)
    token = token_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = admin.post("/staff/sign-in", data={"username": "bench-admin", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.status_code
    anonymous = app.test_client()
    clients = {"start": anonymous, "dashboard": admin, "items": admin}
    for name, path in PAGES.items():  # warm caches (bank, templates, connections)
        for _ in range(3):
            assert clients[name].get(path).status_code == 200, (name, path)
    times: dict[str, list[float]] = {name: [] for name in PAGES}
    for _ in range(rounds):
        for name, path in PAGES.items():
            started = time.perf_counter()
            clients[name].get(path)
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def run(kind: str, url: str, sizes: list[int], rounds: int) -> dict[int, dict[str, float]]:
    app = make_app(url)
    prepare(app)
    results: dict[int, dict[str, float]] = {}
    for step, size in enumerate(sizes):
        seconds = grow(app, size, seed=step + 1)
        count = answers(app)
        timing = measure(app, rounds)
        results[size] = timing | {"answers": count}
        print(f"  {kind:<10} {count:>9} answers (generated in {seconds:6.1f} s)  start {timing['start']:6.2f} ms  "
              f"dashboard {timing['dashboard']:7.2f} ms ({timing['dashboard'] / timing['start']:.2f}x)  "
              f"items {timing['items']:7.2f} ms ({timing['items'] / timing['start']:.2f}x)", flush=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--pg-database", default="bench_scale",
                        help="the database created (and dropped) on TEST_POSTGRES_URL's server")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"== scale: dashboard and item analysis vs the start page, {', '.join(f'{s:,}' for s in sizes)} answers ==")
    results: dict[str, dict[int, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for kind in args.databases.split(","):
            if kind == "sqlite":
                results[kind] = run(kind, f"sqlite:///{Path(folder) / 'scale.sqlite3'}", sizes, args.rounds)
            elif kind == "postgresql":
                url = postgres_database(args.pg_database)
                if url is None:
                    continue
                try:
                    results[kind] = run(kind, url, sizes, args.rounds)
                finally:
                    drop_postgres_database(args.pg_database)
    small, large = sizes[0], sizes[-1]

    def worst(figure) -> float:
        return max(figure(r) for r in results.values())

    dashboard_ratio = worst(lambda r: r[large]["dashboard"] / r[large]["start"])
    items_ratio = worst(lambda r: r[large]["items"] / r[large]["start"])
    # Growth is taken on the times relative to the start page measured in the same round: the start
    # page reads no data, so this cancels the machine's load drifting between sizes (minutes apart on a
    # shared machine); the raw growth is printed too.
    dashboard_growth = worst(lambda r: (r[large]["dashboard"] / r[large]["start"]) / (r[small]["dashboard"] / r[small]["start"]))
    items_growth = worst(lambda r: (r[large]["items"] / r[large]["start"]) / (r[small]["items"] / r[small]["start"]))
    for kind, r in results.items():
        print(f"  {kind}: raw {large:,}/{small:,} growth (not load-corrected): dashboard "
              f"{r[large]['dashboard'] / r[small]['dashboard']:.2f}, items {r[large]['items'] / r[small]['items']:.2f}, "
              f"start page {r[large]['start'] / r[small]['start']:.2f}")
    print(f"targets: at {large:,} answers both pages <= 5x the start page; {large:,}/{small:,} growth < 2 "
          f"(relative to the start page; worst of {', '.join(results)})")
    print(f"RESULT scale dashboard_1m_vs_start={dashboard_ratio:.2f} items_1m_vs_start={items_ratio:.2f} "
          f"dashboard_growth={dashboard_growth:.2f} items_growth={items_growth:.2f}")


if __name__ == "__main__":
    main()
