"""End-to-end fixtures: the real app served over HTTP to Debian's headless Chromium.

* `live_server` (session): the app on a free port in a background thread, on a FILE SQLite database
  (the server threads and the test thread share it), CSRF on, with the question bank loaded from a copy
  of questions/ taken at the start of the run (so bank edits made meanwhile cannot change it mid-run).
* `new_code` (per test): a fresh assignment for the given module ids; every test gets its own patient.
* `patient` (per test): wraps a Playwright page in the steps a patient takes (enter the code, open a
  topic, answer right or wrong, go on) and knows the right answers from the loaded bank.
* `axe_check`: runs axe-core on the current page state and fails with every violation listed.

Set E2E_SHOTS=/some/dir to have the accessibility tests save screenshots there (never into the repo), and
E2E_QUESTIONS_DIR=/some/bank to run on another question bank folder than questions/.
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from werkzeug.serving import WSGIRequestHandler, make_server

from quiz import create_app
from quiz.assignments import create_assignment, format_code
from quiz.bank import BankError, load_bank, placeholders, sync_bank
from quiz.extensions import db
from quiz.models import Answer, Module, Question, StaffUser, TeachBack
from quiz.passwords import hash_password

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# E2E_QUESTIONS_DIR runs the browser tests on another bank folder (default: the project's questions/).
QUESTIONS_DIR = Path(os.environ.get("E2E_QUESTIONS_DIR") or PROJECT_ROOT / "questions")
AXE_JS = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]

expect.set_options(timeout=10_000)

# Figures the browser tests measure (Next-button position, PDF pages, font sizes ...), printed at the
# end of the run so that `make test` shows them.
FIGURES: list[str] = []


@pytest.fixture(scope="session")
def report_figure():
    """report_figure("what: value") adds a line to the figures printed after the test run."""
    return FIGURES.append


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("measured in the browser tests")
        for line in FIGURES:
            terminalreporter.write_line(line)


# ---------------------------------------------------------------------------------------------------
# Browser


def _missing(message: str):
    """Skip on a developer's machine; fail in CI, where a skip would hide a missing install step."""
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        _missing(f"end-to-end tests need Debian's Chromium at {CHROMIUM} (make chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(live_server):
    """pytest-playwright gives every context this base URL, so tests can `page.goto("/quiz")`."""
    return live_server.url


@pytest.fixture
def context(new_context):
    ctx = new_context()
    ctx.set_default_timeout(10_000)
    return ctx


# ---------------------------------------------------------------------------------------------------
# The bank as the tests see it (read once from the database the server uses)


def squash(text: str) -> str:
    return " ".join((text or "").split())


@dataclass(frozen=True)
class QuestionInfo:
    id: str
    module_id: str
    key_point: str
    type: str
    prompt: str
    choices: tuple[dict, ...]

    @property
    def correct(self) -> list[int]:
        return [i for i, c in enumerate(self.choices) if c["correct"]]

    @property
    def wrong(self) -> list[int] | None:
        """A selection that is graded wrong, or None if the question cannot be answered wrong."""
        incorrect = [i for i, c in enumerate(self.choices) if not c["correct"]]
        if incorrect:
            return [incorrect[0]]
        if self.type == "multiple" and len(self.correct) > 1:
            return self.correct[:1]  # a strict subset of the right answers
        return None


@dataclass(frozen=True)
class ModuleInfo:
    id: str
    title: str
    questions: tuple[QuestionInfo, ...]

    @property
    def key_points(self) -> list[str]:
        seen: list[str] = []
        for q in self.questions:
            if q.key_point not in seen:
                seen.append(q.key_point)
        return seen

    def questions_on(self, key_point: str) -> list[QuestionInfo]:
        return [q for q in self.questions if q.key_point == key_point]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # keep the test output readable
        pass


class LiveServer:
    def __init__(self, app, url: str, modules: dict[str, ModuleInfo]):
        self.app = app
        self.url = url
        self.modules = modules
        self.by_prompt: dict[str, list[QuestionInfo]] = {}
        for module in modules.values():
            for q in module.questions:
                self.by_prompt.setdefault(squash(q.prompt), []).append(q)
        self.assignment_ids: dict[str, int] = {}
        self._count = 0
        self._lock = threading.Lock()

    def new_assignment(self, module_ids: list[str]) -> str:
        with self._lock, self.app.app_context():
            self._count += 1
            assignment, code = create_assignment(f"e2e patient {self._count}", list(module_ids), 14)
            db.session.commit()
            formatted = format_code(code)
            self.assignment_ids[formatted] = assignment.id
            return formatted

    def answers(self, code: str, module_id: str | None = None) -> list[dict]:
        """The answers stored for this code, oldest first (read fresh from the database)."""
        with self.app.app_context():
            query = db.select(Answer).where(Answer.assignment_id == self.assignment_ids[code])
            if module_id:
                query = query.where(Answer.module_id == module_id)
            rows = db.session.execute(query.order_by(Answer.module_id, Answer.step)).scalars()
            return [
                {"step": a.step, "module_id": a.module_id, "question_id": a.question_id,
                 "selected": list(a.selected), "correct": a.correct,
                 "acknowledged": a.acknowledged_at is not None}
                for a in rows
            ]

    def teach_back(self, code: str, module_id: str, key_point: str) -> None:
        """What the nurse's "Record teach-back" form stores for a response showing understanding (the
        nurse pages have browser tests of their own): a key point the quiz parked gets one re-check."""
        with self._lock, self.app.app_context():
            nurse = db.session.execute(db.select(StaffUser).filter_by(username="e2e-teach-back")).scalar_one_or_none()
            if nurse is None:
                nurse = StaffUser(username="e2e-teach-back", display_name="E2E Teach-back", role="nurse",
                                  password_hash=hash_password("not used by the browser tests"))
                db.session.add(nurse)
            db.session.add(TeachBack(assignment_id=self.assignment_ids[code], module_id=module_id,
                                     key_point=key_point, learner="patient", method="teach_back",
                                     response="verbalizes", recorded_by=nurse))
            db.session.commit()

    def question(self, prompt: str, module_id: str | None = None) -> QuestionInfo:
        found = [q for q in self.by_prompt.get(squash(prompt), [])
                 if module_id is None or q.module_id == module_id]
        assert found, f"the card shows a prompt that is not in the bank: {prompt!r}"
        assert len(found) == 1, f"several questions have the prompt {prompt!r}: {[q.id for q in found]}"
        return found[0]

    # Modules chosen by shape, not by name, so that content edits do not break the tests.
    def module_with_retry(self) -> ModuleInfo:
        """The smallest module (>= 2 key points) whose first key point has another question to re-ask."""
        fits = [m for m in self.modules.values()
                if len(m.key_points) >= 2 and len(m.questions_on(m.key_points[0])) >= 2
                and m.questions[0].wrong is not None]
        assert fits, "no module can show a re-asked key point"
        return min(fits, key=lambda m: (len(m.key_points), m.id))

    def smallest_module(self) -> ModuleInfo:
        """The module with the fewest key points, at least two (tests move from one to the next)."""
        fits = [m for m in self.modules.values() if len(m.key_points) >= 2]
        assert fits, "no module has two key points"
        return min(fits, key=lambda m: (len(m.key_points), len(m.questions), m.id))


@contextmanager
def running_server(workdir: Path, questions: Path, **config):
    """The app with the bank in `questions` loaded into a fresh file SQLite database in `workdir`,
    served on a free port in a background thread."""
    app = create_app({
        "QUIZ_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'e2e.sqlite3'}",
        "QUESTIONS_DIR": str(questions),
        **config,
    })
    assert app.config.get("WTF_CSRF_ENABLED", True), "the browser tests post real forms with CSRF on"
    with app.app_context():
        db.create_all()
        try:
            bank = load_bank(questions)
        except BankError as error:
            pytest.fail(f"the question bank in {questions} does not load, so the app cannot run:\n{error}",
                        pytrace=False)
        sync_bank(bank)
        db.session.commit()
        modules = {}
        shown = placeholders.values_from_config(app.config)
        for module in db.session.execute(
            db.select(Module).where(Module.retired_at.is_(None)).order_by(Module.position)
        ).scalars():
            infos = []
            for q in db.session.execute(
                db.select(Question).where(Question.module_id == module.id, Question.retired_at.is_(None))
                .order_by(Question.position)
            ).scalars():
                v = q.current_version
                # As the pages show them: bank placeholders ({emergency_number}) filled in.
                infos.append(QuestionInfo(q.id, module.id, placeholders.fill(v.key_point, shown), v.type,
                                          placeholders.fill(v.prompt, shown),
                                          tuple(dict(c) for c in v.choices)))
            modules[module.id] = ModuleInfo(module.id, module.title, tuple(infos))
        db.session.remove()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.port}", modules)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("e2e")
    questions = workdir / "questions"
    shutil.copytree(QUESTIONS_DIR, questions)
    with running_server(workdir, questions) as server:
        yield server


@pytest.fixture
def new_code(live_server):
    """new_code(["module-id", ...]) -> a fresh access code like ABCD-EFGH."""
    return live_server.new_assignment


# ---------------------------------------------------------------------------------------------------
# A patient driving the pages


class Patient:
    """The steps a patient takes, on one page. Works with JavaScript on (htmx swaps) or off (posts)."""

    def __init__(self, page: Page, server: LiveServer):
        self.page = page
        self.server = server
        self.next_labels: list[str] = []  # the text of every "Next question" / "Finish this topic" pressed

    @property
    def card(self):
        return self.page.locator("#card")

    def start(self, code: str) -> None:
        self.page.goto("/")
        self.page.get_by_label("Enter the code from your nurse").fill(code)
        self.page.get_by_role("button", name="Start").click()
        expect(self.page.get_by_role("heading", level=1, name="Your topics")).to_be_visible()

    def begin(self, module: ModuleInfo) -> str:
        """A fresh assignment of `module`: start with its code and open the module. Returns the code."""
        code = self.server.new_assignment([module.id])
        self.start(code)
        self.open_module(module.id)
        return code

    def module_item(self, module_id: str):
        return self.page.locator("li.module-item").filter(has=self.page.locator(f"#module-{module_id}"))

    def open_module(self, module_id: str) -> None:
        """From the topics page, follow the module's Start / Carry on / Look again link."""
        self.page.locator(f'a[aria-describedby="module-{module_id}"]').click()
        expect(self.page).to_have_url(f"{self.server.url}/quiz/{module_id}")
        expect(self.card).to_have_count(1)

    def kind(self) -> str:
        """Which card is showing: question, feedback or complete."""
        expect(self.card).to_have_count(1)
        classes = self.card.get_attribute("class").split()
        kinds = [c.removeprefix("card-") for c in classes if c in ("card-question", "card-feedback", "card-complete")]
        assert len(kinds) == 1, f"unexpected card classes {classes}"
        return kinds[0]

    def question(self) -> QuestionInfo:
        title = self.page.locator("#card form.question-form legend #card-title")
        expect(title).to_have_count(1)
        module_id = self.page.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        return self.server.question(title.inner_text(), module_id if module_id in self.server.modules else None)

    def choose(self, indices: list[int]) -> None:
        for i in indices:
            self.page.locator(f'#card label[for="choice-{i}"]').click()
        for i in indices:
            expect(self.page.locator(f"#card #choice-{i}")).to_be_checked()

    def submit(self) -> None:
        self.page.get_by_role("button", name="Check my answer").click()

    def answer(self, correct: bool) -> QuestionInfo:
        """Answer the question on the card right or wrong; returns it once its feedback card shows."""
        q = self.question()
        selection = q.correct if correct else q.wrong
        assert selection is not None, f"{q.id} cannot be answered wrong"
        self.choose(selection)
        self.submit()
        self.expect_feedback(correct)
        return q

    def expect_feedback(self, correct: bool) -> None:
        expect(self.page.locator("#card.card-feedback")).to_have_count(1)
        # The heading also holds an aria-hidden icon (✓ or !): compare what a screen reader says.
        expect(self.page.locator("#card-title")).to_have_accessible_name(
            "That's right" if correct else "Not quite"
        )

    def feedback_prompt(self) -> str:
        text = squash(self.page.locator("#card .asked").inner_text())
        return text.removeprefix("The question:").strip()

    def next(self) -> None:
        """Press "Next question" / "Finish this topic" and wait for the next card."""
        button = self.page.locator("#card form.next-form button[type=submit]")
        self.next_labels.append(button.inner_text().strip())
        button.click()
        expect(self.page.locator("#card.card-feedback")).to_have_count(0)
        expect(self.card).to_have_count(1)

    def progress_label(self) -> str:
        """What the card says about where the patient is: "Question 2 of about 5"."""
        return squash(self.page.locator("#card .counter").inner_text())

    def stop_for_now(self) -> None:
        """The quiet "Stop for now" link, then the confirmation page's button."""
        self.page.get_by_role("link", name="Stop for now").click()
        expect(self.page.get_by_role("heading", level=1, name="Stop for now?")).to_be_visible()
        self.page.get_by_role("button", name="Yes, stop for now").click()
        expect(self.page.get_by_role("heading", level=1, name="Welcome")).to_be_visible()

    def finish(self, first_wrong: bool = False, limit: int = 40) -> list[tuple[QuestionInfo, bool]]:
        """Answer until the module is complete (right every time, optionally wrong first)."""
        history: list[tuple[QuestionInfo, bool]] = []
        for _ in range(limit):
            kind = self.kind()
            if kind == "complete":
                expect(self.page.locator("#card-title")).to_have_accessible_name("You have finished this topic")
                return history
            if kind == "feedback":
                self.next()
                continue
            correct = not (first_wrong and not history)
            history.append((self.answer(correct), correct))
        raise AssertionError(f"module not finished after {limit} cards: {[q.id for q, _ in history]}")


@pytest.fixture
def patient(live_server):
    """patient(page) -> a Patient driving that page."""
    return lambda page: Patient(page, live_server)


# ---------------------------------------------------------------------------------------------------
# axe-core


def _format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} [{v.get('impact')}]: {v['help']} ({v.get('helpUrl', '')})")
        for node in v["nodes"]:
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    at {node['target']}: {summary}")
            lines.append(f"       {node.get('html', '')[:200]}")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def axe_source():
    if not AXE_JS.exists():
        _missing(f"axe-core is missing at {AXE_JS} (npm ci)")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture
def axe_check(axe_source):
    """axe_check(page, "what this state is") runs axe-core with its default rules and asserts no violations.

    axe is evaluated through the DevTools protocol (page.evaluate), which the page's CSP does not govern,
    so the page keeps its real Content-Security-Policy during the check.
    """
    shots = os.environ.get("E2E_SHOTS")

    def check(page: Page, state: str) -> None:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(axe_source + "\n;undefined")
        result = page.evaluate(
            "async () => await axe.run(document, {resultTypes: ['violations']})"
        )
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            name = "".join(c if c.isalnum() else "-" for c in state.lower()).strip("-")
            page.screenshot(path=str(Path(shots) / f"{name}.png"), full_page=True)
        violations = result["violations"]
        # Reflow (WCAG 1.4.10): nothing may make the page scroll sideways, whatever the viewport.
        overflow = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert overflow[0] <= overflow[1], f"{state}: the page scrolls sideways ({overflow[0]}px > {overflow[1]}px)"
        assert not violations, (
            f"axe found {len(violations)} violation(s) on {state} ({page.url}):\n"
            + _format_violations(violations)
        )

    return check
