"""Administrator reports (`/admin/reports/...`): the dashboard, the item analysis, a question's page,
and every table as CSV with the current filters.

Access is decided in one place, `require_admin`: signed-out visitors are sent to sign in; a signed-in
nurse gets 403 (the pages exist, they are for administrators). Views only translate HTTP to calls of
`service` and the results to templates; every figure comes from the summary tables (quiz.stats).
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, render_template, request, session, url_for
from flask_login import current_user

from ..auth.routes import idle_message
from ..htmx import is_htmx, redirect_after
from ..stats.figures import BUCKET_RATIO
from . import service
from .charts import bar_chart, column_chart
from ..csvexport import csv_response
from .forms import FilterForm

bp = Blueprint("reports", __name__, url_prefix="/admin/reports")


@bp.before_request
def require_admin():
    """The one access check of this blueprint (see the module docstring)."""
    if not current_user.is_authenticated:
        if getattr(session, "lapsed_kind", None) == "staff":
            flash(idle_message(), "info")
        else:
            flash("Please sign in to see the reports.", "info")
        next_url = request.full_path.rstrip("?") if request.method == "GET" and not is_htmx() else None
        return redirect_after(url_for("auth.sign_in", next=next_url))
    if not current_user.is_admin:
        return render_template("error.html", title="For administrators only",
                               message="Only administrators can open the reports. Ask an administrator "
                                       "if you need these figures."), 403
    return None


@bp.after_request
def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _filters() -> tuple[FilterForm, service.Filters, bool]:
    """The filters from the query string; invalid ones fall back to the defaults (and the form says
    why, next to the field)."""
    units, modules = service.units(), service.modules()
    form = FilterForm(formdata=request.args)
    form.unit.choices = [("", "All units")] + [(u.id, u.title) for u in units]
    form.module.choices = [("", "All modules")] + [(m.id, m.title) for m in modules]
    default = service.default_filters()
    if not request.args:
        form.start.data, form.end.data = default.start, default.end
        form.unit.data = form.module.data = ""
        return form, default, True
    if not form.validate():
        return form, default, False
    start = form.start.data or default.start
    end = form.end.data or (max(default.end, start))
    filters = service.Filters(start, end, int(form.unit.data) if form.unit.data else None, form.module.data or None)
    form.start.data, form.end.data = filters.start, filters.end
    return form, filters, True


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


@bp.app_template_filter("pct")
def pct_filter(value: float | None) -> str:
    return _pct(value)


@bp.app_template_filter("duration")
def duration(minutes: float | None) -> str:
    if minutes is None:
        return "–"
    if minutes < 90:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


@bp.get("/")
def dashboard():
    form, filters, valid = _filters()
    board = service.dashboard(filters)
    modules_chart = bar_chart(
        [(m.title, [(m.first_try_score, _pct(m.first_try_score)), (m.mastery_rate, _pct(m.mastery_rate))])
         for m in board.modules],
        ("First-try score", "Mastery rate"))
    weeks_chart = column_chart([(f"{w.week:%d %b}", w.made, w.completed) for w in board.weeks],
                               ("Assignments made", "Of which completed"))
    return render_template("reports/dashboard.html", form=form, board=board, filters=filters,
                           modules_chart=modules_chart, weeks_chart=weeks_chart,
                           precision=f"{(BUCKET_RATIO ** 0.5 - 1):.0%}"), (200 if valid else 422)


@bp.get("/items")
def items():
    form, filters, valid = _filters()
    rows = service.items(filters, flagged_only=bool(form.flagged.data))
    return render_template("reports/items.html", form=form, filters=filters, rows=rows,
                           flagged_only=bool(form.flagged.data)), (200 if valid else 422)


@bp.get("/questions/<question_id>")
def question(question_id: str):
    form, filters, valid = _filters()
    report = service.question_report(question_id, filters)
    if report is None:
        abort(404)
    from ..sources.routes import citation_view

    citations = [citation_view(c) for c in report.full(report.current).citations]
    return render_template("reports/question.html", form=form, filters=filters, report=report,
                           citations=citations), (200 if valid else 422)


# --- CSV --------------------------------------------------------------------------------------------------

def _fmt(value: float | None, digits: int = 3):
    return "" if value is None else round(value, digits)


def _item_csv_rows(rows):
    for r in rows:
        yield [r.version.module_id, r.question_id, r.number, "yes" if r.current else "no",
               r.version.key_point, r.version.prompt, r.sums.n, _fmt(r.facility), _fmt(r.discrimination),
               _fmt(r.mean_tries, 2), " | ".join(f"{c.text}: {_pct(c.share)}" for c in r.choices),
               " | ".join(f.reason for f in r.flags)]


ITEM_HEADER = ["module", "question", "version", "current", "key point", "prompt", "first tries", "facility",
               "discrimination", "mean tries to mastery", "choices (share of first tries)", "flags"]


@bp.get("/csv/<table>")
def table_csv(table: str):
    form, filters, valid = _filters()
    if not valid:
        abort(422)
    suffix = f"{filters.start}_{filters.end}"
    if table == "summary":
        b = service.dashboard(filters)
        return csv_response(f"summary_{suffix}.csv", ["figure", "value"], [
            ["assignments made", b.made], ["started", b.started], ["completed", b.completed],
            ["ready for discharge", b.ready], ["completion rate", _fmt(b.completion_rate)],
            ["median time to completion (minutes)", _fmt(b.median_minutes, 0)]])
    if table == "modules":
        rows = service.dashboard(filters).modules
        return csv_response(f"modules_{suffix}.csv", ["module", "assigned", "started", "first pass done", "completed",
                                                      "first-try score", "mastery rate"],
                            [[m.title, m.assigned, m.started, m.first_pass, m.completed, _fmt(m.first_try_score),
                              _fmt(m.mastery_rate)] for m in rows])
    if table == "missed":
        return csv_response(f"missed_key_points_{suffix}.csv", ["module", "key point", "first tries", "missed",
                                                                "share missed"],
                            [[r.module_title, r.key_point, r.first_tries, r.misses, _fmt(r.miss_share)]
                             for r in service.most_missed(filters)])
    if table == "weeks":
        return csv_response(f"weeks_{suffix}.csv", ["week starting", "assignments made", "completed",
                                                    "first-try score"],
                            [[w.week.isoformat(), w.made, w.completed, _fmt(w.first_try_score)]
                             for w in service.weekly(filters)])
    if table == "items":
        return csv_response(f"item_analysis_{suffix}.csv", ITEM_HEADER,
                            _item_csv_rows(service.items(filters, flagged_only=bool(form.flagged.data))))
    abort(404)


@bp.get("/questions/<question_id>/csv")
def question_csv(question_id: str):
    form, filters, valid = _filters()
    if not valid:
        abort(422)
    report = service.question_report(question_id, filters)
    if report is None:
        abort(404)
    return csv_response(f"question_{question_id}_{filters.start}_{filters.end}.csv", ITEM_HEADER,
                        _item_csv_rows(report.rows))
