"""Quality gates on loaded questions that go beyond the schema: test-wiseness, true/false premises,
which quotes a patient sees first (`show`), quotes that are fragments, and the sources' reliability
rules applied claim by claim. Pure functions over specs: each returns messages, and the loader files
them as errors or warnings against the question (or module) they concern.

Test-wiseness. A patient who does not know the medicine can still pass a question whose right choice
is the only one naming a doctor, nurse, pharmacist or help ("Ask your doctor" among "Read a book",
"Drink strong coffee"). `help_giveaway` finds such choice questions (single and multiple; true/false
choices name nobody); one is a warning, and more than `GIVEAWAY_SHARE_LIMIT` of a module's choice
questions is an error, because then "mastered" means "guessed well". The check prints the figure per
module.

Reliability rules are data in `sources/sources.yaml`: each source has a `trust` of `standard` or
`low`. A question lists the `claims` it makes (id -> sentence, for reviewers) and each citation says
which claims it `supports`. A claim supported by a low-trust source must also be supported by a
standard one, so no claim rests on a low-trust page alone (the question as a whole having another
source is not enough). Quotes shown to patients first follow the same rule: a shown low-trust quote
sits beside a shown standard one.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .readability import base_forms

if TYPE_CHECKING:  # the loader imports this module; its types are only needed for annotations
    from .loader import Citation, QuestionSpec, Source

TRUST_LEVELS = ("standard", "low")
LOW_TRUST = "low"

# Words by which a choice points to a professional or to help. "help" alone counts: "Get help now"
# points to help as plainly as "Call your doctor" does; so does "talk it over" (with whom is plain).
HELP_WORDS = re.compile(
    r"\b(doctors?|dentists?|nurses?|pharmacists?|prescribers?|clinicians?|GPs?|hospitals?|"
    r"ambulances?|emergency|help|care team|health ?care provider|medical (?:care|attention)|"
    r"talk (?:it )?over)\b|\{emergency_number\}",
    re.I,
)
# More than this share of a module's choice questions with a help giveaway is an error.
GIVEAWAY_SHARE_LIMIT = 0.25
CHOICE_TYPES = ("single", "multiple")

# A true/false statement should state one claim. A second sentence or a "so"/"because" clause makes
# the patient judge a premise and a conclusion at once ("You take it while pregnant. Your baby ...").
PREMISE_JOINS = re.compile(r",\s*so\b|\bbecause\b|\btherefore\b", re.I)
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")

# Quotes that say nothing on their own.
FRAGMENT_MIN_WORDS = 4
LIST_BULLET = re.compile(r"[ \t]*(?:[\u2022*\-]|\d+\.)[ \t]*")  # all that precedes a list item on its line
# Markdown a patient must never see in a shown quote (bold/italic markers, headings, code).
MARKDOWN = re.compile(r"\*|(?:^|\s)#+\s|`|__")
SHOWN_MAX = 2


def names_help(text: str) -> bool:
    return HELP_WORDS.search(text) is not None


def help_giveaway(question: QuestionSpec) -> bool:
    """True when a right choice names a doctor, nurse, pharmacist or help and no wrong choice does."""
    if question.type not in CHOICE_TYPES:
        return False
    right = any(names_help(c.text) for c in question.choices if c.correct)
    wrong = any(names_help(c.text) for c in question.choices if not c.correct)
    return right and not wrong


@dataclass(frozen=True)
class TestWiseness:
    """How many of a module's choice questions a test-wise guess ("pick the one naming a doctor or
    help") answers without knowing the medicine."""

    giveaways: tuple[str, ...]  # question ids
    choice_questions: int

    __test__ = False  # not a pytest test class, whatever its name

    @property
    def share(self) -> float:
        return len(self.giveaways) / self.choice_questions if self.choice_questions else 0.0

    @property
    def too_high(self) -> bool:
        return self.share > GIVEAWAY_SHARE_LIMIT

    def __str__(self) -> str:
        return f"{len(self.giveaways)}/{self.choice_questions} ({round(100 * self.share)}%)"


def measure_test_wiseness(questions: Iterable[QuestionSpec]) -> TestWiseness:
    choice = [q for q in questions if q.type in CHOICE_TYPES]
    return TestWiseness(tuple(q.id for q in choice if help_giveaway(q)), len(choice))


def true_false_premise(prompt: str, statement_of: Callable[[str], str]) -> str | None:
    """What makes a true/false statement carry a premise, or None."""
    statement = statement_of(prompt).strip()
    sentences = [s for s in SENTENCE_BREAK.split(statement) if s.strip()]
    if len(sentences) > 1:
        return f"it has {len(sentences)} sentences ({sentences[0]!r} is a premise to accept first)"
    join = PREMISE_JOINS.search(statement)
    if join:
        return f"'{join.group(0).strip(', ')}' joins a premise to the claim"
    return None


def quote_fragment(citation: Citation, source_text: str) -> str | None:
    """Why a quote says nothing on its own (a heading, a few words, a list item without its
    lead-in), or None."""
    quote = citation.quote.strip()
    if quote.endswith(":"):
        return "it is a heading or lead-in (ends with ':') and says nothing on its own"
    if len(quote.split()) < FRAGMENT_MIN_WORDS:
        return f"it is a fragment of {len(quote.split())} word(s); quote the sentence that makes the claim"
    line_before = source_text[source_text.rfind("\n", 0, citation.start) + 1:citation.start]
    if quote[-1] not in ".!?" and LIST_BULLET.fullmatch(line_before):
        return "it is a list item without its lead-in; quote the lead-in with it"
    return None


def shown_quote_problems(citation: Citation) -> list[str]:
    """A quote shown to patients first must read as a whole sentence, without Markdown markup."""
    quote = citation.quote.strip()
    found = []
    if not (quote[0].isupper() or quote[0].isdigit()) or quote[-1] not in ".!?":
        found.append("is not a whole sentence (it must start with a capital letter and end with . ! or ?)")
    if MARKDOWN.search(quote):
        found.append("contains Markdown markup (* # ` __), which patients would see as is")
    return found


def show_problems(question: QuestionSpec, sources: Mapping[str, Source]) -> list[str]:
    """Errors in the choice of quotes a patient sees first (served questions only: drafts are never
    shown, so they may be incomplete)."""
    shown = [c for c in question.citations if c.show]
    found = []
    if not shown:
        found.append("no quote is marked 'show: true'; mark the 1 or 2 clearest quotes a patient sees first")
    elif len(shown) > SHOWN_MAX:
        found.append(f"{len(shown)} quotes are marked 'show: true'; a patient sees at most {SHOWN_MAX} first")
    low = [c for c in shown if sources[c.source].trust == LOW_TRUST]
    if low and len(low) == len(shown):
        found.append(f"the shown quote from {low[0].source} (a low-trust source) must sit beside a shown "
                     "quote from a standard source")
    return found


def jargon_in(quote: str, jargon: frozenset[str]) -> list[str]:
    """The words of `quote` (or their inflections: "sedatives", "abruptly") listed as jargon."""
    found = []
    for word in re.findall(r"[A-Za-z][A-Za-z'\u2019-]*", quote):
        if any(form in jargon for form in base_forms(word)) and word.lower() not in found:
            found.append(word.lower())
    return found


def claim_problems(question: QuestionSpec, sources: Mapping[str, Source]) -> list[str]:
    """Errors in how a question's citations back its claims (see the module docstring)."""
    found = []
    claim_ids = [claim.id for claim in question.claims]
    if not claim_ids:
        low = sorted({c.source for c in question.citations if sources[c.source].trust == LOW_TRUST})
        if low:
            found.append(f"cites {', '.join(low)} (low trust) but lists no 'claims': say which claim each "
                         "citation 'supports', so the check can see that a standard source backs the same claim")
        return found
    backers: dict[str, list[Citation]] = {claim_id: [] for claim_id in claim_ids}
    for citation in question.citations:
        for claim_id in citation.supports:
            backers[claim_id].append(citation)
    for claim_id, citations in backers.items():
        if not citations:
            found.append(f"claim '{claim_id}' is supported by no citation")
        elif all(sources[c.source].trust == LOW_TRUST for c in citations):
            names = ", ".join(sorted({c.source for c in citations}))
            found.append(f"claim '{claim_id}' rests on a low-trust source alone ({names}); add a standard "
                         "source that says the same, or reword the claim to what one says")
    return found
