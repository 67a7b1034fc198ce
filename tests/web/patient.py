"""A test-client patient: reads the current card and answers it right or wrong."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

from quiz.bank import placeholders
from quiz.extensions import db
from quiz.models import Answer, Question
from tests.conftest import csrf_token

HX = {"HX-Request": "true"}


@dataclass(frozen=True)
class Seen:
    """What the test needs of a question on a card (plain data, usable outside an app context)."""

    id: str
    prompt: str
    key_point: str
    explanation: str
    quotes: tuple[str, ...]
    flags: tuple[bool, ...]
    shown: tuple[str, ...] = ()  # the quotes marked `show` (what the card shows), duplicates merged


def seen(app, question_id: str) -> Seen:
    """The question as the patient reads it: bank placeholders ({emergency_number}) filled in."""
    values = placeholders.values_from_config(app.config)
    with app.app_context():
        version = db.session.get(Question, question_id).current_version
        return Seen(question_id, *(placeholders.fill(t, values) for t in (
                        version.prompt, version.key_point, version.explanation)),
                    tuple(c["quote"] for c in version.citations),
                    tuple(c["correct"] for c in version.choices),
                    tuple(dict.fromkeys(c["quote"] for c in version.citations if c.get("show"))))


def answers_stored(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(Answer.id))).scalar_one()


class Patient:
    def __init__(self, client, module_id: str = "stopping-safely", htmx: bool = False):
        self.client = client
        self.app = client.application
        self.module_id = module_id
        self.headers = HX if htmx else {}

    def start(self, code: str):
        token = csrf_token(self.client.get("/").text)
        return self.client.post("/", data={"code": code, "csrf_token": token})

    @property
    def url(self) -> str:
        return f"/quiz/{self.module_id}"

    def card(self):
        return self.client.get(self.url, headers=self.headers)

    def question_on(self, page: str) -> tuple[int, Seen]:
        step = int(re.search(r'name="step" value="(\d+)"', page).group(1))
        qid = re.search(r'name="question_id" type="hidden" value="([^"]+)"', page).group(1)
        return step, seen(self.app, qid)

    @staticmethod
    def choices(question: Seen, correct: bool) -> list[str]:
        if correct:
            return [str(i) for i, flag in enumerate(question.flags) if flag]
        return [str(question.flags.index(False))]

    @staticmethod
    def card_fields(page: str) -> dict:
        """The hidden fields of the question card's form (what a browser would post back)."""
        return {
            "step": re.search(r'name="step" value="(\d+)"', page).group(1),
            "question_id": re.search(r'name="question_id" type="hidden" value="([^"]+)"', page).group(1),
            "version_id": re.search(r'name="version_id" value="(\d+)"', page).group(1),
            "csrf_token": csrf_token(page),
        }

    def post_answer(self, page: str, **changes):
        data = {**self.card_fields(page), **changes}
        return self.client.post(f"{self.url}/answer", data=data, headers=self.headers)

    def answer(self, correct: bool, page: str | None = None):
        page = page or self.card().text
        _, question = self.question_on(page)
        return self.post_answer(page, choice=self.choices(question, correct)), question

    def next(self, page: str | None = None):
        page = page or self.card().text
        answer_id = re.search(r'name="answer_id" required type="hidden" value="(\d+)"', page).group(1)
        data = {"answer_id": answer_id, "csrf_token": csrf_token(page)}
        return self.client.post(f"{self.url}/next", data=data, headers=self.headers)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))
