"""The commands people type: the README's work as printed, and a configuration problem is one clear
line and a non-zero exit for `flask`, gunicorn and `import wsgi` alike, never a traceback."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.server import NOT_INHERITED, NOT_INHERITED_PREFIXES, PROJECT_ROOT


def clean_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(NOT_INHERITED_PREFIXES) and k not in NOT_INHERITED}
    env.update(settings)
    return env


def run(command: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def readme_commands() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def fresh_clone(folder: Path) -> Path:
    """What a clone of this checkout would hold: the tracked files and the new ones not ignored (so
    nothing git-ignored, no instance/, no .env, no static/vendor), as they are in the working tree,
    with this checkout's virtual environment linked in (as `make setup` would have made one)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=PROJECT_ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = PROJECT_ROOT / name
        if source.is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    (folder / ".venv").symlink_to(PROJECT_ROOT / ".venv")
    return folder


def test_the_readme_commands_work_as_printed_on_a_fresh_clone(tmp_path):
    """The block under "Commands", run line by line in a shell from a fresh copy of the project (only
    the database is redirected, so nothing is written into a developer's own instance/)."""
    if not (PROJECT_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    script = readme_commands()
    assert "flask --app wsgi db upgrade" in script and "QUIZ_ENV=development" in script
    clone = fresh_clone(tmp_path / "clone")
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'readme.sqlite3'}", PORT="5000")
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=clone, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, f"{script}\n{result.stdout}\n{result.stderr}"
    assert "Question bank OK" in result.stdout
    assert re.search(r"access code: \w{5}-\w{5}\b", result.stdout)
    assert "Created the demo assignment." in result.stdout
    assert not (clone / "instance").exists() or not any((clone / "instance").iterdir())


SECRET = "x" * 32


ENTRIES = {
    "flask": [sys.executable, "-m", "flask", "--app", "wsgi", "questions", "check"],
    "gunicorn": [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", "127.0.0.1:0"],
    "import wsgi": [sys.executable, "-c", "import wsgi"],
    # `make serve` runs the gunicorn settings file first: gunicorn itself reads WEB_CONCURRENCY with a
    # bare int() before any settings file, and a typo there would otherwise be its traceback.
    "make serve's check": [sys.executable, "gunicorn.conf.py"],
}
NO_SECRET = ({}, "SECRET_KEY must be set in production")


# Every way in, with the commonest mistake; every kind of mistake, through the commonest way in.
@pytest.mark.parametrize("entry, settings, message", [
    *[(entry, *NO_SECRET) for entry in ENTRIES],
    ("flask", {"QUIZ_ENV": "staging"}, "QUIZ_ENV must be production, development or testing"),
    ("flask", {"SECRET_KEY": SECRET, "SESSION_HOURS": "twelve"}, "SESSION_HOURS must be a whole number"),
    ("flask", {"SECRET_KEY": SECRET, "DATABASE_URL": "mysql://quiz:hunter2@db/quiz"},
     "needs a driver that is not installed"),
    ("gunicorn", {"SECRET_KEY": SECRET, "DATABASE_URL": "sqlite:////no/such/folder/q.sqlite3"},
     "folder that does not exist"),
    ("make serve's check", {"SECRET_KEY": SECRET, "WEB_CONCURRENCY": "four"},
     "WEB_CONCURRENCY must be a whole number"),
])
def test_configuration_problems_are_one_line(entry, settings, message):
    result = run(ENTRIES[entry], clean_env(**settings), timeout=60)
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], lines
    assert "hunter2" not in lines[0]


def test_an_unreachable_database_is_one_line():
    env = clean_env(SECRET_KEY=SECRET, DATABASE_URL="postgresql://quiz:hunter2@127.0.0.1:9/quiz")
    result = run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], env)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()
             and "alembic.runtime.migration" not in line]
    assert result.returncode != 0 and len(lines) == 1, lines
    assert lines[0].startswith("Cannot use the database:") and "hunter2" not in lines[0]


def test_a_database_without_tables_says_to_migrate(tmp_path):
    env = clean_env(SECRET_KEY=SECRET, DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    result = run([sys.executable, "-m", "flask", "--app", "wsgi", "questions", "load"], env)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "The database has no tables yet (no such table: module): run `flask --app wsgi db upgrade` first."
    ]
