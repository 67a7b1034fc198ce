"""`flask --app wsgi stats rebuild`: the summary tables again from the raw answers, in one transaction."""
from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from ..extensions import db
from .store import rebuild


@click.group(cls=AppGroup)
def stats():
    """The administrator reports' summary tables."""


@stats.command("rebuild")
def stats_rebuild():
    """Recompute every summary from the raw answers (recovery; readers see the old figures until the
    one transaction commits)."""
    started = time.perf_counter()
    try:
        total = rebuild()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    made = sum(r["made"] for key, r in total.get("assignment", {}).items() if key[0] == "d")
    answered = sum(r["n"] for key, r in total.get("item", {}).items() if key[0] == "d")
    click.echo(f"Statistics rebuilt from {made} assignments ({answered} first tries) in "
               f"{time.perf_counter() - started:.1f} s.")
