"""Load benchmark: the app as deployed (gunicorn, production configuration, loopback), driven by wrk.

For SQLite and for PostgreSQL (skipped when unreachable), in one run:
  * the bare endpoint, `GET /healthz` (the same app, middleware and database ping, nothing else):
    requests/s and p50/p95/p99 at each connection count;
  * patients answering with htmx, one wrk connection per patient (bench/wrk/answer.lua): sign in,
    open each module, answer (one in four wrong on purpose), read the feedback, press Next. Answers/s
    counts the answer POSTs completed; the latencies are those of the answer POSTs alone (the Next
    POSTs and card GETs are timed and printed separately);
  * the ratios the issue sets targets for, at 64 connections: answers/s over bare requests/s (target
    >= 0.5) and answer p99 over bare p99 (target < 10);
  * the question page's full weight: HTML + CSS + JS as sent, raw and gzipped;
  * the database work of one answer and one Next (statements, commits, pool checkouts), counted
    in-process on the same database.
`--profile` adds a py-spy profile of the workers while patients answer (where the time goes).

The machine is shared and small: read the ratios, not the absolute figures. The last lines are, per
database, `RESULT <db> answer_vs_bare=<ratio> p99_ratio=<ratio> page_kb_gz=<kB>` for scripts.

    .venv/bin/python bench/bench_load.py [--duration 10] [--connections 16,64]
        [--databases sqlite,postgresql] [--workers N --threads N] [--profile] [--sqlite-synchronous NORMAL]
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from quiz.extensions import db  # noqa: E402
from quiz.models import Question  # noqa: E402
from tests.deploy.http import Browser, form_posting_to, forms  # noqa: E402
from tests.deploy.server import Deployment, PostgresUnavailable  # noqa: E402

WRK_SCRIPTS = ROOT / "bench" / "wrk"
CODES_PER_CONNECTION = 8  # ~45 answers each: enough for 30x today's answer rate
TARGET_CONNECTIONS = 64


# --- wrk ----------------------------------------------------------------------------------------------


def run_wrk(script: str, connections: int, duration: int, url: str, *args: str) -> dict[str, dict]:
    command = ["wrk", "-t", str(connections), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
               "-s", str(WRK_SCRIPTS / script), url]
    if args:
        command += ["--", *args]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"wrk failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    output = run.stdout
    found = {}
    for line in output.splitlines():
        if line.startswith("BENCH "):
            record = json.loads(line[len("BENCH "):])
            found[record.pop("kind")] = record
    if not found:
        raise RuntimeError(f"wrk printed no figures:\n{output}")
    return found


def per_second(record: dict) -> float:
    return record["requests"] / (record["duration_us"] / 1e6)


# --- the patients -------------------------------------------------------------------------------------


def answer_key(app) -> list[str]:
    """question id, right choices, a wrong choice (or nothing when the question cannot be missed)."""
    rows = []
    with app.app_context():
        for question in db.session.execute(db.select(Question)).scalars():
            flags = [c["correct"] for c in question.current_version.choices]
            right = [i for i, f in enumerate(flags) if f]
            wrong = [i for i, f in enumerate(flags) if not f][:1] or (right[:1] if len(right) > 1 else [])
            rows.append(f"{question.id}\t{','.join(map(str, right))}\t{','.join(map(str, wrong))}")
    return rows


def patient_folder(server, folder: Path, connections: int, modules: list[str], key: list[str]) -> Path:
    folder.mkdir(parents=True)
    (folder / "modules").write_text("\n".join(modules) + "\n")
    (folder / "key.tsv").write_text("\n".join(key) + "\n")
    made = server.new_assignments(connections * CODES_PER_CONNECTION, modules)
    for thread in range(connections):
        codes = [code for _, code in made[thread::connections]]
        (folder / f"{thread + 1}.codes").write_text("\n".join(codes) + "\n")
    return folder


# --- page weight and database work --------------------------------------------------------------------


def page_weight(server, module_id: str) -> dict[str, int]:
    (_, code), = server.new_assignments(1, [module_id])
    browser = server.browser()
    browser.sign_in(code)
    gz = {"Accept-Encoding": "gzip"}
    page = browser.get(f"/quiz/{module_id}")
    assert form_posting_to(page.text, "/answer"), "the page is not a question card"
    sizes = {"html": len(page.text.encode()), "html_gz": int(browser.get(f"/quiz/{module_id}", headers=gz)
                                                              .headers["Content-Length"])}
    assets = re.findall(r'<(?:link[^>]+href|script[^>]+src)="(/static/[^"]+)"', page.text)
    for kind, pattern in (("css", ".css"), ("js", ".js")):
        urls = [a for a in assets if a.split("?")[0].endswith(pattern)]
        sizes[kind] = sum(int(browser.get(u).headers["Content-Length"]) for u in urls)
        sizes[f"{kind}_gz"] = sum(int(browser.get(u, headers=gz).headers["Content-Length"]) for u in urls)
    sizes["total"] = sizes["html"] + sizes["css"] + sizes["js"]
    sizes["total_gz"] = sizes["html_gz"] + sizes["css_gz"] + sizes["js_gz"]
    return sizes


def database_work(server, module_id: str) -> dict[str, Counter]:
    """Statements, commits and pool checkouts of one answer POST and one Next POST (htmx), counted in
    this process on the server's database with its production configuration."""
    app = server.app
    (_, code), = server.new_assignments(1, [module_id])
    client = app.test_client()
    referer = {"Referer": "https://localhost/"}  # the test client speaks PREFERRED_URL_SCHEME (https)
    token = forms(client.get("/").text)[-1].fields["csrf_token"]
    client.post("/", data={"code": code, "csrf_token": token}, headers=referer)
    hx = {"HX-Request": "true", **referer}
    card = form_posting_to(client.get(f"/quiz/{module_id}", headers=hx).text, "/answer")
    counts: Counter = Counter()
    with app.app_context():
        engine = db.engine

    def statement(*_args):
        counts["statements"] += 1

    def commit(*_args):
        counts["commits"] += 1

    def checkout(*_args):
        counts["pool checkouts"] += 1

    listeners = [(engine, "before_cursor_execute", statement), (engine, "commit", commit),
                 (engine.pool, "checkout", checkout)]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    try:
        results = {}
        feedback = client.post(card.action, data={**card.fields, "choice": card.choices[0]}, headers=hx)
        results["answer"], counts = counts, Counter()
        nxt = form_posting_to(feedback.text, "/next")
        client.post(nxt.action, data=nxt.fields, headers=hx)
        results["next"] = counts
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)
    return results


def request_costs(server, module_id: str, key: list[str], patients: int = 6) -> dict[str, float]:
    """The app's own work per request, in this process (one thread, no load, no wrk): the median CPU
    time of the bare GET, a card GET, an answer POST and a Next POST, through the test client against
    the server's database. It bounds what the server can do: with the cores full, answers/s over
    bare req/s cannot exceed bare / (answer + Next + the card GETs and sign-ins between them)."""
    app = server.app
    referer = {"Referer": "https://localhost/"}
    hx = {"HX-Request": "true", **referer}
    samples: dict[str, list[float]] = {"bare": [], "card": [], "answer": [], "next": []}

    def timed(kind, call):
        started = time.thread_time()
        reply = call()
        samples[kind].append(time.thread_time() - started)
        return reply

    choices = {}
    for row in key:
        question_id, right, wrong = row.split("\t")
        choices[question_id] = (right.split(","), wrong.split(",") if wrong else right.split(","))
    answered = 0
    bare = app.test_client()
    for _ in range(20):
        bare.get("/healthz")  # warm up
    for _, code in server.new_assignments(patients, [module_id]):
        client = app.test_client()
        token = forms(client.get("/").text)[-1].fields["csrf_token"]
        client.post("/", data={"code": code, "csrf_token": token}, headers=referer)
        page = timed("card", lambda: client.get(f"/quiz/{module_id}", headers=hx)).text
        while (card := form_posting_to(page, "/answer")) is not None:
            for _ in range(2):
                timed("bare", lambda: bare.get("/healthz"))
            answered += 1  # one in four wrong, as the load does
            picked = choices[card.fields["question_id"]][answered % 4 == 0]
            page = timed("answer", lambda: client.post(
                card.action, data={**card.fields, "choice": picked}, headers=hx)).text
            nxt = form_posting_to(page, "/next")
            page = timed("next", lambda: client.post(nxt.action, data=nxt.fields, headers=hx)).text
    return {kind: sorted(values)[len(values) // 2] * 1000 for kind, values in samples.items() if values}


# --- profile ------------------------------------------------------------------------------------------


def _frame_name(frame: str) -> str:
    """"function (/abs/path/site-packages/pkg/mod.py:123)" -> "function (pkg/mod.py)"."""
    function, _, where = frame.rpartition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for prefix in ("site-packages/", str(ROOT) + "/", "lib/python3."):
        if prefix in path:
            path = path.split(prefix, 1)[1]
    if path.startswith(("1", "2", "3", "4", "5", "6", "7", "8", "9")) and "/" in path:
        path = path.split("/", 1)[1]  # the standard library: "11/threading.py" -> "threading.py"
    return f"{function} ({path})"


def profile(server, folder: Path, connections: int, duration: int, url: str) -> list[str]:
    """py-spy samples every worker while patients answer; returns a readable summary."""
    raw = folder / "profile.txt"
    spy = subprocess.Popen(
        [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(server.process.pid), "--subprocesses",
         "--duration", str(duration), "--rate", "200", "--format", "raw", "--output", str(raw), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(1)
    run_wrk("answer.lua", connections, duration, url, str(folder))
    spy.wait(timeout=duration + 30)
    if not raw.exists():
        return [f"py-spy failed: {spy.stderr.read().strip()}"]
    inclusive, own, total = Counter(), Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [_frame_name(f) for f in stack.split(";") if f.endswith(")")]
        if not any("flask/app.py" in f for f in frames):
            continue  # a thread waiting for work, not serving a request
        samples = int(count)
        total += samples
        for name in set(frames):
            inclusive[name] += samples
        own[frames[-1]] += samples
    if not total:
        return ["py-spy recorded no busy worker thread"]
    lines = [f"py-spy, {total} samples of worker threads serving requests ({connections} patients, "
             f"{duration} s; waiting on the database counts). Raw stacks: {raw}",
             "  inclusive, the app's own functions (a function and everything it calls):"]
    lines += [f"    {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common()
              if name.split("(")[-1].startswith("quiz/")][:20]
    lines += ["  inclusive, libraries:"]
    lines += [f"    {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(200)
              if not name.split("(")[-1].startswith(("quiz/", "flask/app.py", "werkzeug/", "gunicorn/",
                                                       "threading.py", "concurrent/"))][:15]
    lines += ["  own time (the innermost frame):"]
    lines += [f"    {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(12)]
    return lines


# --- the run ------------------------------------------------------------------------------------------


def bench_database(deployment, kind: str, args, workdir: Path) -> dict | None:
    try:
        env = {"SQLITE_SYNCHRONOUS": args.sqlite_synchronous} if args.sqlite_synchronous else {}
        server = deployment.server(kind, workers=args.workers, threads=args.threads, name=f"bench-{kind}", env=env)
    except PostgresUnavailable as error:
        print(f"{kind}: skipped ({error})")
        return None
    with server:
        modules = server.ready_modules()
        key = answer_key(server.app)
        print(f"\n== {kind}: gunicorn {server.url} ({args.workers or 'default'} workers, "
              f"{args.threads or 'default'} threads), {len(modules)} modules ==")
        result = {"page": page_weight(server, modules[0]), "work": database_work(server, modules[0]),
                  "costs": request_costs(server, modules[0], key), "runs": {}}
        run_wrk("bare.lua", 16, 2, f"{server.url}/healthz")  # warm up every worker
        for connections in args.connections:
            bare = run_wrk("bare.lua", connections, args.duration, f"{server.url}/healthz")["bare"]
            folder = patient_folder(server, workdir / f"{kind}-{connections}", connections, modules, key)
            answering = run_wrk("answer.lua", connections, args.duration, server.url + "/", str(folder))
            result["runs"][connections] = {"bare": bare, **answering}
            errors = answering["errors"]
            print(f"  {connections:>3} connections: bare {per_second(bare):7.0f} req/s, "
                  f"answers {per_second(answering['answer']):6.1f}/s; errors {errors}")
        if args.profile:
            folder = patient_folder(server, workdir / f"{kind}-profile", 16, modules, key)
            result["profile"] = profile(server, folder, 16, args.duration, server.url + "/")
        return result


def report(kind: str, result: dict) -> str:
    print(f"\n{kind}")
    print(f"  {'connections':>11}  {'what':<22} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for connections, run in result["runs"].items():
        for name, label in (("bare", "bare GET /healthz"), ("answer", "answer POST (htmx)"),
                            ("next", "next POST (htmx)"), ("card", "card GET (htmx)")):
            record = run[name]
            print(f"  {connections:>11}  {label:<22} {per_second(record):>8.1f} {record['p50'] / 1000:>8.1f} "
                  f"{record['p95'] / 1000:>8.1f} {record['p99'] / 1000:>8.1f}")
        ratio = per_second(run["answer"]) / per_second(run["bare"])
        print(f"  {connections:>11}  answers/s over bare req/s {ratio:.3f}, "
              f"answer p99 over bare p99 {run['answer']['p99'] / max(run['bare']['p99'], 1):.1f}")
        if run["errors"]["out_of_codes"]:
            print("  !! the patients ran out of codes: raise CODES_PER_CONNECTION, this run is not valid")
    page = result["page"]
    print(f"  question page weight: HTML {page['html'] / 1000:.1f} kB ({page['html_gz'] / 1000:.1f} gzipped), "
          f"CSS {page['css'] / 1000:.1f} kB ({page['css_gz'] / 1000:.1f}), JS {page['js'] / 1000:.1f} kB "
          f"({page['js_gz'] / 1000:.1f}); total {page['total'] / 1000:.1f} kB raw, "
          f"{page['total_gz'] / 1000:.1f} kB gzipped")
    for name, counts in result["work"].items():
        print(f"  database work of one {name} POST: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    costs = result["costs"]
    print("  the app's CPU time per request, in-process, one at a time (median): " + ", ".join(
        f"{kind} {ms:.2f} ms ({ms / costs['bare']:.1f}x bare)" for kind, ms in costs.items()))
    pair = costs["answer"] + costs["next"]
    print(f"  one answered question (answer + Next) costs {pair / costs['bare']:.1f}x a bare request: with the "
          f"CPU as the limit, answers/s over bare req/s is at most {costs['bare'] / pair:.2f}")
    for line in result.get("profile", []):
        print(f"  {line}")
    target = result["runs"].get(TARGET_CONNECTIONS) or list(result["runs"].values())[-1]
    return (f"RESULT {kind} answer_vs_bare={per_second(target['answer']) / per_second(target['bare']):.3f} "
            f"p99_ratio={target['answer']['p99'] / max(target['bare']['p99'], 1):.2f} "
            f"page_kb_gz={page['total_gz'] / 1000:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--connections", default=f"16,{TARGET_CONNECTIONS}",
                        type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--databases", default="sqlite,postgresql", type=lambda s: s.split(","))
    parser.add_argument("--workers", type=int, default=None, help="default: gunicorn.conf.py's")
    parser.add_argument("--threads", type=int, default=None, help="default: gunicorn.conf.py's")
    parser.add_argument("--profile", action="store_true", help="also profile the answer path with py-spy")
    parser.add_argument("--sqlite-synchronous", choices=["FULL", "NORMAL"], default=None,
                        help="SQLITE_SYNCHRONOUS for the server (default: the app's, FULL)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: run `make wrk` (Debian's package), or `make bench`.")

    with tempfile.TemporaryDirectory(prefix="quiz-bench-") as folder:
        workdir = Path(folder)
        deployment = Deployment(workdir)
        try:
            results = {kind: bench_database(deployment, kind, args, workdir) for kind in args.databases}
        finally:
            deployment.close()
        lines = [report(kind, result) for kind, result in results.items() if result]
        if args.profile:
            keep = ROOT / "instance" / "bench"
            keep.mkdir(parents=True, exist_ok=True)
            for raw in workdir.glob("*/profile.txt"):
                shutil.copy(raw, keep / f"profile-{raw.parent.name}.txt")
            print(f"\nraw py-spy stacks kept in {keep}")
    print()
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
