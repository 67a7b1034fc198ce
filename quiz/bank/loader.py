"""Reading and validating a question bank folder. Pure: no Flask, no database.

A bank folder holds one YAML file per module (`*.yaml`), `vocabulary.yaml` (words the readability check
counts as familiar), and `sources/` with the cited documents and `sources/sources.yaml` (their
metadata, including the regions of each document that are unrelated to the medicine and must never be
cited). `load_bank` either returns a fully valid `Bank` (with warnings and a readability table) or raises
`BankError` listing every error found, each naming the file, the question id and what is wrong, so an
author can fix a whole file in one pass.

Quality gates, besides the schema: citations found in their source and outside its unrelated and
disputed regions, and never a bare heading or fragment; readability of the patient-facing text
(`readability.py`: error above grade 8, warning above grade 6, per question and per module); structure
(no "all/none of the above", no negated question stems, a warning when the right choice is much longer
than the others, or when a true/false statement carries a premise); test-wiseness (a warning when the
right choice is the only one naming a doctor, nurse, pharmacist or help; an error when more than a
quarter of a module's choice questions do); the sources' reliability rules, claim by claim, and the
quotes a patient sees first (`gates.py`); lengths that fit the database columns; review (`reviewed_on`
and `reviewed_by_role`; a question without them is a draft, never served to patients).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ..question_types import QUESTION_TYPES
from . import gates, placeholders
from .citations import NormalisedText, find_quote
from .readability import Readability, as_passage, measure, measure_parts

if TYPE_CHECKING:
    from .meta import BankMeta

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MODULE_KEYS = {"id", "title", "summary", "critical", "order"}
QUESTION_KEYS = {
    "id", "key_point", "prompt", "type", "choices", "explanation", "citations",
    "reviewed_on", "reviewed_by_role", "claims",
}
CHOICE_KEYS = {"text", "correct", "feedback"}
# `show: true` marks the quotes a patient sees first (the rest are for staff and the curious);
# `supports` lists the ids of the question's `claims` that the quote backs.
CITATION_KEYS = {"source", "quote", "show", "supports"}
# `unrelated`: parts not about the medicine; `disputed`: parts the clinical brief marks as wrong or
# disputed. Neither may be cited; the source page marks both.
# `trust` (standard | low) is the reliability rule the gates enforce; `reliability` explains it.
SOURCE_KEYS = {"file", "title", "kind", "reliability", "trust", "unrelated", "disputed"}
REGION_KEYS = {"starts", "ends", "note"}
SOURCES_FOLDER = "sources"
SOURCES_METADATA = "sources.yaml"
VOCABULARY_FILE = "vocabulary.yaml"
# "All of the above" and its relatives let a patient answer without reading the choices.
BLANKET_CHOICE = re.compile(r"\b(all|none|both|neither) of (the|these)( above| answers| choices)?\b", re.I)
# A negated stem ("Which is NOT ...") is easy to misread when tired; ask the positive question.
NEGATED_STEM = re.compile(
    r"\b(not|never|no|none|except|without|cannot|isn't|aren't|doesn't|don't|won't|shouldn't|"
    r"can't|wouldn't|didn't|nor)\b|n['\u2019]t\b", re.I)
# The right choice this much longer than the longest wrong one gives the answer away.
GIVEAWAY_RATIO = 1.3
# NUL and other control characters (whitespace aside) are never meant, and some databases refuse them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
GIVEAWAY_MIN_CHARS = 12
# The longest text the database stores for each field (quiz/models.py; a unit test keeps them equal).
# Longer text would load here and then fail, or be cut, on PostgreSQL.
LENGTH_LIMITS = {"module id": 64, "module title": 200, "question id": 100, "reviewed_by_role": 200}


@dataclass(frozen=True)
class Problem:
    file: str
    question_id: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.question_id is None else f"{self.file}, question '{self.question_id}'"
        return f"{where}: {self.message}"


class BankError(Exception):
    """The bank is invalid; nothing was loaded."""

    def __init__(self, problems: list[Problem], warnings: list[Problem] | None = None):
        self.problems = problems
        self.warnings = warnings or []
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Choice:
    text: str
    correct: bool
    feedback: str | None = None


@dataclass(frozen=True)
class Citation:
    source: str
    quote: str
    start: int  # where the quote sits in the original source text
    end: int
    show: bool = False  # one of the quotes shown to patients by default
    supports: tuple[str, ...] = ()  # ids of the question's claims this quote backs


@dataclass(frozen=True)
class Claim:
    """One thing a question teaches, in a reviewer's words, so each citation can say what it backs."""

    id: str
    text: str


@dataclass(frozen=True)
class QuestionSpec:
    id: str
    module_id: str
    position: int
    key_point: str
    prompt: str
    type: str
    choices: tuple[Choice, ...]
    explanation: str
    citations: tuple[Citation, ...]
    file: str
    reviewed_on: dt.date | None = None
    reviewed_by_role: str | None = None
    claims: tuple[Claim, ...] = ()

    @property
    def is_draft(self) -> bool:
        return self.reviewed_on is None

    def patient_parts(self) -> dict[str, str]:
        """Everything a patient reads for this question, by part (what readability measures), with
        typical values in place of placeholders."""
        typical = placeholders.typical_values()
        parts = {
            "prompt": self.prompt,
            "choices": as_passage([c.text for c in self.choices]),
            "feedback": as_passage([c.feedback for c in self.choices if c.feedback]),
            "explanation": self.explanation,
            "key point": self.key_point,
        }
        return {name: placeholders.fill(text, typical) for name, text in parts.items()}

    def patient_text(self) -> str:
        return as_passage(list(self.patient_parts().values()))

    def content(self) -> dict:
        """What a patient sees: the part of a question that a new version is made of. Claims and the
        claims each citation supports are evidence for reviewers and the gates, not content: they are
        checked on every load and never shown, so changing them makes no new version."""
        return {
            "key_point": self.key_point,
            "prompt": self.prompt,
            "type": self.type,
            "choices": [
                {"text": c.text, "correct": c.correct, "feedback": c.feedback} for c in self.choices
            ],
            "explanation": self.explanation,
            # `show` is written only when set, so adding the field changed no earlier fingerprint.
            "citations": [
                {"source": c.source, "quote": c.quote, **({"show": True} if c.show else {})}
                for c in self.citations
            ],
        }

    @property
    def fingerprint(self) -> str:
        canonical = json.dumps(self.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ModuleSpec:
    id: str
    title: str
    summary: str
    critical: bool
    order: int
    file: str
    questions: tuple[QuestionSpec, ...]


@dataclass(frozen=True)
class Region:
    """A part of a source that must not be cited: not about the medicine (other posts, ratings,
    footers), or marked wrong or disputed by the clinical brief."""

    start: int
    end: int
    note: str


@dataclass(frozen=True)
class Source:
    file: str
    title: str
    kind: str
    reliability: str
    text: str
    unrelated: tuple[Region, ...] = ()
    disputed: tuple[Region, ...] = ()
    trust: str = "standard"  # or "low": see gates.py for what the gates require of a low-trust source

    def unrelated_region_at(self, start: int, end: int) -> Region | None:
        return next((r for r in self.unrelated if start < r.end and r.start < end), None)

    def disputed_region_at(self, start: int, end: int) -> Region | None:
        return next((r for r in self.disputed if start < r.end and r.start < end), None)


@dataclass(frozen=True)
class Bank:
    modules: tuple[ModuleSpec, ...]
    sources: dict[str, Source] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()
    # Readability of each question (by question id) and each module (by module id).
    readability: dict[str, Readability] = field(default_factory=dict)
    # Per module id: the choice questions a test-wise guess answers without knowing the medicine.
    test_wiseness: dict[str, gates.TestWiseness] = field(default_factory=dict)
    # bank.yaml: the medicine's name and the urgent warning signs (quiz/bank/meta.py); None if absent.
    meta: BankMeta | None = None

    @property
    def questions(self) -> list[QuestionSpec]:
        return [q for m in self.modules for q in m.questions]

    @property
    def citation_count(self) -> int:
        return sum(len(q.citations) for q in self.questions)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys: a second `correct:` must not silently win."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "keys must be plain words", key_node.start_mark
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def _read_yaml(path: Path, problems: list[Problem], label: str):
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except UnicodeDecodeError:
        problems.append(Problem(label, None, "is not UTF-8 text"))
    except yaml.YAMLError as exc:
        problems.append(Problem(label, None, f"is not valid YAML: {' '.join(str(exc).split())}"))
    return None


class _Checker:
    """Collects problems (errors) and warnings for one file while reading its fields."""

    def __init__(self, label: str, problems: list[Problem], warnings: list[Problem] | None = None):
        self.label = label
        self.problems = problems
        self.warnings = warnings if warnings is not None else []
        self.question_id: str | None = None

    def problem(self, message: str) -> None:
        self.problems.append(Problem(self.label, self.question_id, message))

    def warn(self, message: str) -> None:
        self.warnings.append(Problem(self.label, self.question_id, message))

    def text(self, data: dict, key: str, where: str, required: bool = True,
             limit: str | None = None) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(f"{where}: '{key}' is missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{where}: '{key}' must be non-empty text")
            return None
        if CONTROL_CHARACTERS.search(value):
            self.problem(f"{where}: '{key}' contains an invisible control character")
            return None
        for message in placeholders.problems(value):
            self.problem(f"{where}: '{key}' has {message}")
        value = " ".join(value.split())
        if limit is not None:
            self.length(value, limit, f"{where}: '{key}'")
        return value

    def length(self, value: str, limit: str, what: str) -> None:
        if len(value) > LENGTH_LIMITS[limit]:
            self.problem(f"{what} is {len(value)} characters long; the database stores at most "
                         f"{LENGTH_LIMITS[limit]}")

    def flag(self, data: dict, key: str, where: str) -> bool | None:
        value = data.get(key)
        if not isinstance(value, bool):
            self.problem(f"{where}: '{key}' must be true or false")
            return None
        return value

    def keys(self, data: dict, allowed: set[str], where: str) -> None:
        unknown = sorted(str(k) for k in data if k not in allowed)
        if unknown:
            self.problem(
                f"{where}: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
            )


def load_sources(folder: Path, problems: list[Problem]) -> dict[str, Source]:
    label = f"{SOURCES_FOLDER}/{SOURCES_METADATA}"
    path = folder / SOURCES_METADATA
    if not path.is_file():
        problems.append(Problem(label, None, "is missing"))
        return {}
    data = _read_yaml(path, problems, label)
    if data is None:
        return {}
    check = _Checker(label, problems)
    entries = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        check.problem("must have a non-empty 'sources' list")
        return {}
    sources: dict[str, Source] = {}
    for number, entry in enumerate(entries, start=1):
        where = f"source #{number}"
        if not isinstance(entry, dict):
            check.problem(f"{where} must be a mapping")
            continue
        check.keys(entry, SOURCE_KEYS, where)
        name = check.text(entry, "file", where)
        title = check.text(entry, "title", where)
        kind = check.text(entry, "kind", where)
        reliability = check.text(entry, "reliability", where)
        trust = check.text(entry, "trust", where)
        if trust is not None and trust not in gates.TRUST_LEVELS:
            check.problem(f"{where}: 'trust' must be one of {', '.join(gates.TRUST_LEVELS)}, got {trust!r}")
            trust = None
        if name is None:
            continue
        if "/" in name or "\\" in name or name.startswith("."):
            check.problem(f"{where}: 'file' must be a plain file name, got {name!r}")
            continue
        if name in sources:
            check.problem(f"{where}: file {name} is listed twice")
            continue
        document = folder / name
        if not document.is_file():
            check.problem(f"{where}: file {name} does not exist in {SOURCES_FOLDER}/")
            continue
        try:
            text = document.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            check.problem(f"{where}: file {name} is not UTF-8 text")
            continue
        unrelated = _load_regions(entry.get("unrelated"), text, f"{where} ({name})", check, "unrelated")
        disputed = _load_regions(entry.get("disputed"), text, f"{where} ({name})", check, "disputed")
        if unrelated is not None and disputed is not None:
            _check_regions_apart(unrelated, disputed, text, f"{where} ({name})", check)
        if None not in (title, kind, reliability, trust, unrelated, disputed):
            sources[name] = Source(name, title, kind, reliability, text, unrelated, disputed, trust)
    return sources


def _check_regions_apart(unrelated: tuple[Region, ...], disputed: tuple[Region, ...], text: str, where: str,
                         check: _Checker) -> None:
    """Regions must not overlap: the source page cuts the text at them, one kind of mark per part."""
    regions = sorted([(r, "unrelated") for r in unrelated] + [(r, "disputed") for r in disputed],
                     key=lambda pair: pair[0].start)
    for (first, first_kind), (second, second_kind) in zip(regions, regions[1:]):
        if second.start < first.end:
            check.problem(f"{where}: the {second_kind} region {text[second.start:second.start + 40]!r} "
                          f"overlaps the {first_kind} region {text[first.start:first.start + 40]!r}")


def _load_regions(raw, text: str, where: str, check: _Checker, kind: str) -> tuple[Region, ...] | None:
    """`unrelated:` or `disputed:` regions, each from the first occurrence of `starts` through the end
    of `ends` (the rest of the document when `ends` is absent)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        check.problem(f"{where}: '{kind}' must be a list of regions")
        return None
    folded = NormalisedText.of(text)
    regions: list[Region] = []
    ok = True
    for number, entry in enumerate(raw, start=1):
        rwhere = f"{where}, {kind} region #{number}"
        if not isinstance(entry, dict):
            check.problem(f"{rwhere} must be a mapping with 'starts' and 'note'")
            ok = False
            continue
        check.keys(entry, REGION_KEYS, rwhere)
        starts = check.text(entry, "starts", rwhere)
        note = check.text(entry, "note", rwhere)
        ends = check.text(entry, "ends", rwhere, required=False)
        if starts is None or note is None:
            ok = False
            continue
        if ends is None and kind == "disputed":
            # A wrong claim is a passage, not the rest of a page: refuse a region that would silently
            # swallow everything after it.
            check.problem(f"{rwhere}: 'ends' is missing (a disputed region ends where the passage ends)")
            ok = False
            continue
        first = find_quote(folded, starts)
        if first is None:
            check.problem(f"{rwhere}: 'starts' text not found in the source: {starts[:60]!r}")
            ok = False
            continue
        end = len(text)
        if ends is not None:
            rest = find_quote(NormalisedText.of(text[first[0]:]), ends)
            if rest is None:
                check.problem(f"{rwhere}: 'ends' text not found after 'starts': {ends[:60]!r}")
                ok = False
                continue
            end = first[0] + rest[1]
        regions.append(Region(first[0], end, note))
    return tuple(sorted(regions, key=lambda r: r.start)) if ok else None


def _load_module_file(
    path: Path, sources: dict[str, Source], folded: dict[str, NormalisedText], problems: list[Problem],
    warnings: list[Problem],
) -> ModuleSpec | None:
    label = path.name
    data = _read_yaml(path, problems, label)
    if data is None:
        if not any(p.file == label for p in problems):
            problems.append(Problem(label, None, "is empty"))
        return None
    check = _Checker(label, problems, warnings)
    if not isinstance(data, dict):
        check.problem("must be a mapping with 'module' and 'questions'")
        return None
    check.keys(data, {"module", "questions"}, "top level")
    module = data.get("module")
    if not isinstance(module, dict):
        check.problem("'module' is missing or is not a mapping")
        return None
    check.keys(module, MODULE_KEYS, "module")
    module_id = check.text(module, "id", "module", limit="module id")
    if module_id is not None and not ID_PATTERN.match(module_id):
        check.problem(f"module: id {module_id!r} must be lowercase words joined by hyphens")
    title = check.text(module, "title", "module", limit="module title")
    summary = check.text(module, "summary", "module")
    critical = check.flag(module, "critical", "module")
    order = module.get("order", 1000)
    if not isinstance(order, int) or isinstance(order, bool):
        check.problem("module: 'order' must be a whole number")
        order = 1000

    entries = data.get("questions")
    if not isinstance(entries, list) or not entries:
        check.problem("'questions' must be a non-empty list")
        return None
    questions: list[QuestionSpec] = []
    for position, entry in enumerate(entries, start=1):
        check.question_id = None
        if not isinstance(entry, dict):
            check.problem(f"question #{position} must be a mapping")
            continue
        question = _load_question(entry, position, module_id or "", label, check, sources, folded)
        if question is not None:
            questions.append(question)
    check.question_id = None
    if None in (module_id, title, summary, critical):
        return None
    return ModuleSpec(module_id, title, summary, critical, order, label, tuple(questions))


def _load_question(
    entry: dict, position: int, module_id: str, label: str, check: _Checker,
    sources: dict[str, Source], folded: dict[str, NormalisedText],
) -> QuestionSpec | None:
    where = f"question #{position}"
    qid = entry.get("id")
    if not isinstance(qid, str) or not ID_PATTERN.match(qid):
        check.problem(f"{where}: 'id' must be lowercase words joined by hyphens, got {qid!r}")
        return None
    check.question_id = qid
    before = len(check.problems)
    check.length(qid, "question id", "question: 'id'")
    check.keys(entry, QUESTION_KEYS, "question")
    key_point = check.text(entry, "key_point", "question")
    prompt = check.text(entry, "prompt", "question")
    explanation = check.text(entry, "explanation", "question")
    qtype_name = entry.get("type")
    qtype = QUESTION_TYPES.get(qtype_name) if isinstance(qtype_name, str) else None
    if qtype is None:
        check.problem(f"question: 'type' must be one of {', '.join(QUESTION_TYPES)}, got {qtype_name!r}")

    choices: list[Choice] = []
    raw_choices = entry.get("choices")
    if not isinstance(raw_choices, list) or len(raw_choices) < 2:
        check.problem("question: 'choices' must be a list of at least two choices")
    else:
        for number, raw in enumerate(raw_choices, start=1):
            cwhere = f"choice #{number}"
            if not isinstance(raw, dict):
                check.problem(f"{cwhere} must be a mapping with 'text' and 'correct'")
                continue
            check.keys(raw, CHOICE_KEYS, cwhere)
            text = check.text(raw, "text", cwhere)
            correct = check.flag(raw, "correct", cwhere)
            feedback = check.text(raw, "feedback", cwhere, required=False)
            if text is not None and correct is not None:
                choices.append(Choice(text, correct, feedback))
        texts = [c.text.lower() for c in choices]
        if len(set(texts)) != len(texts):
            check.problem("question: two choices have the same text")
        if qtype is not None and len(choices) == len(raw_choices):
            for message in qtype.choice_problems([c.correct for c in choices], [c.text for c in choices]):
                check.problem(message)

    claims = _claims(entry.get("claims"), check)
    claim_ids = {claim.id for claim in claims}
    citations: list[Citation] = []
    raw_citations = entry.get("citations")
    if not isinstance(raw_citations, list) or not raw_citations:
        check.problem("question: 'citations' must list at least one source quote")
    else:
        for number, raw in enumerate(raw_citations, start=1):
            cwhere = f"citation #{number}"
            if not isinstance(raw, dict):
                check.problem(f"{cwhere} must be a mapping with 'source' and 'quote'")
                continue
            check.keys(raw, CITATION_KEYS, cwhere)
            source = check.text(raw, "source", cwhere)
            show = check.flag(raw, "show", cwhere) if "show" in raw else False
            supports = _supports(raw, claim_ids, cwhere, check)
            quote = raw.get("quote")
            if not isinstance(quote, str) or not quote.strip():
                check.problem(f"{cwhere}: 'quote' must be non-empty text")
                continue
            if CONTROL_CHARACTERS.search(quote):
                check.problem(f"{cwhere}: 'quote' contains an invisible control character")
                continue
            if source is None:
                continue
            if source not in sources:
                check.problem(f"{cwhere}: source {source!r} is not listed in {SOURCES_FOLDER}/{SOURCES_METADATA}")
                continue
            span = find_quote(folded[source], quote)
            if span is None:
                check.problem(f"{cwhere}: quote not found in {source}: {quote.strip()[:80]!r}")
                continue
            region = sources[source].unrelated_region_at(*span)
            if region is not None:
                check.problem(
                    f"{cwhere}: quote is in a part of {source} that is not about the medicine "
                    f"({region.note}): {quote.strip()[:60]!r}"
                )
                continue
            region = sources[source].disputed_region_at(*span)
            if region is not None:
                check.problem(
                    f"{cwhere}: quote is in a part of {source} that the clinical brief marks as wrong "
                    f"or disputed ({region.note}): {quote.strip()[:60]!r}"
                )
                continue
            citation = Citation(source, quote.strip(), *span, show=bool(show), supports=supports or ())
            fragment = gates.quote_fragment(citation, sources[source].text)
            if fragment:
                check.problem(f"{cwhere}: {citation.quote[:60]!r} {fragment}")
            for message in gates.shown_quote_problems(citation) if show else ():
                check.problem(f"{cwhere}: the quote shown to patients {message}: {citation.quote[:60]!r}")
            if show is not None and supports is not None:
                citations.append(citation)

    reviewed_on, reviewed_by_role = _review(entry, check)
    if prompt is not None:
        _check_structure(prompt, choices, check)

    if len(check.problems) != before:
        return None
    question = QuestionSpec(
        id=qid, module_id=module_id, position=position, key_point=key_point, prompt=prompt,
        type=qtype.name, choices=tuple(choices), explanation=explanation,
        citations=tuple(citations), file=label,
        reviewed_on=reviewed_on, reviewed_by_role=reviewed_by_role, claims=claims,
    )
    _check_question_gates(question, sources, check)
    return None if len(check.problems) != before else question


def _claims(raw, check: _Checker) -> tuple[Claim, ...]:
    """`claims:` maps a short id to the sentence a reviewer checks against the sources."""
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        check.problem("question: 'claims' must map claim ids to what the question claims")
        return ()
    claims = []
    for claim_id, text in raw.items():
        if not isinstance(claim_id, str) or not ID_PATTERN.match(claim_id):
            check.problem(f"question: claim id {claim_id!r} must be lowercase words joined by hyphens")
        elif not isinstance(text, str) or not text.strip():
            check.problem(f"question: claim '{claim_id}' must be a sentence saying what is claimed")
        else:
            claims.append(Claim(claim_id, " ".join(text.split())))
    return tuple(claims)


def _supports(raw: dict, claim_ids: set[str], where: str, check: _Checker) -> tuple[str, ...] | None:
    """`supports: [claim-id, ...]`: required when the question lists claims, refused when it does not."""
    supports = raw.get("supports")
    if supports is None:
        if claim_ids:
            check.problem(f"{where}: 'supports' is missing: list the claims this quote backs "
                          f"({', '.join(sorted(claim_ids))})")
            return None
        return ()
    if not claim_ids:
        check.problem(f"{where}: 'supports' names claims, but the question lists no 'claims'")
        return None
    if not isinstance(supports, list) or not supports or not all(isinstance(s, str) for s in supports):
        check.problem(f"{where}: 'supports' must be a list of claim ids")
        return None
    unknown = [s for s in supports if s not in claim_ids]
    if unknown:
        check.problem(f"{where}: 'supports' names unknown claim(s) {', '.join(unknown)} "
                      f"(the question's claims: {', '.join(sorted(claim_ids))})")
        return None
    return tuple(dict.fromkeys(supports))


def _check_question_gates(question: QuestionSpec, sources: dict[str, Source], check: _Checker) -> None:
    """The gates that need the whole question: claims and trust, shown quotes, test-wiseness."""
    for message in gates.claim_problems(question, sources):
        check.problem(f"question: {message}")
    if not question.is_draft:
        for message in gates.show_problems(question, sources):
            check.problem(f"question: {message}")
    if question.type == "true_false":
        premise = gates.true_false_premise(question.prompt, question_stem)
        if premise:
            check.warn(f"the true/false statement carries a premise: {premise}; state one claim")
    if gates.help_giveaway(question):
        check.warn("the right choice is the only one naming a doctor, nurse, pharmacist or help: a "
                   "test-wise guess gets it right; let a wrong choice name one too")


def _review(entry: dict, check: _Checker) -> tuple[dt.date | None, str | None]:
    """`reviewed_on` (a date, not in the future) and `reviewed_by_role` go together; without them the
    question is a draft."""
    raw_date = entry.get("reviewed_on")
    role = check.text(entry, "reviewed_by_role", "question", required=False, limit="reviewed_by_role")
    if raw_date is None and role is None:
        check.warn("draft: no 'reviewed_on' / 'reviewed_by_role', so it is never shown to patients")
        return None, None
    if isinstance(raw_date, str):
        try:
            raw_date = dt.date.fromisoformat(raw_date.strip())
        except ValueError:
            pass
    if isinstance(raw_date, dt.datetime) or not isinstance(raw_date, dt.date):
        check.problem("question: 'reviewed_on' must be a date written YYYY-MM-DD")
        return None, None
    if raw_date > dt.date.today():
        check.problem(f"question: 'reviewed_on' {raw_date} is in the future")
        return None, None
    if role is None:
        check.problem("question: 'reviewed_by_role' is missing (who reviewed it, e.g. 'clinical educator')")
        return None, None
    return raw_date, role


def question_stem(prompt: str) -> str:
    """The part of a prompt that asks: a true/false statement, or the sentence(s) ending in '?'.
    Scenario sentences before it may say "You cannot sleep"; the question itself must be positive."""
    if prompt.lower().startswith("true or false:"):
        return prompt.split(":", 1)[1]
    asked = [s for s in re.split(r"(?<=[.?!])\s+", prompt) if s.endswith("?")]
    return " ".join(asked) or prompt


def _check_structure(prompt: str, choices: list[Choice], check: _Checker) -> None:
    negation = NEGATED_STEM.search(question_stem(prompt))
    if negation:
        check.problem(f"question: the prompt is negated ({negation.group(0)!r}); ask the positive question")
    for number, choice in enumerate(choices, start=1):
        if BLANKET_CHOICE.search(choice.text):
            check.problem(f"choice #{number}: '{choice.text}' — no 'all/none of the above' choices")
    typical = placeholders.typical_values()  # "{emergency_number}" reads as "911"
    right = [len(placeholders.fill(c.text, typical)) for c in choices if c.correct]
    wrong = [len(placeholders.fill(c.text, typical)) for c in choices if not c.correct]
    if not right or not wrong or len(choices) < 3:
        return
    if len(right) == 1:  # one right answer: it must not stand out from the longest wrong one
        right_size, wrong_size, what = right[0], max(wrong), "the longest wrong one"
    else:  # several right answers: compare the typical lengths
        right_size, wrong_size, what = sum(right) // len(right), sum(wrong) // len(wrong), "the wrong ones on average"
    if right_size > GIVEAWAY_RATIO * wrong_size and right_size - wrong_size >= GIVEAWAY_MIN_CHARS:
        check.warn(f"the right choice ({right_size} characters) is much longer than {what} "
                   f"({wrong_size}): a giveaway")


def load_bank(folder: str | Path) -> Bank:
    """Read and validate every module file in `folder`; raise `BankError` on any problem."""
    from .meta import META_FILE, meta_readability, read_meta  # meta.py builds on this module's checks

    folder = Path(folder)
    problems: list[Problem] = []
    if not folder.is_dir():
        raise BankError([Problem(str(folder), None, "question folder does not exist")])
    warnings: list[Problem] = []
    sources = load_sources(folder / SOURCES_FOLDER, problems)
    vocabulary = load_vocabulary(folder, problems)
    folded = {name: NormalisedText.of(source.text) for name, source in sources.items()}
    files = [p for p in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
             if p.name not in (VOCABULARY_FILE, META_FILE)]
    if not files:
        problems.append(Problem(str(folder), None, "contains no module files (*.yaml)"))
    modules = [m for m in (_load_module_file(p, sources, folded, problems, warnings) for p in files) if m]
    problems.extend(_bank_wide_problems(modules, warnings))
    readability = _readability_gate(modules, vocabulary.familiar, problems, warnings)
    test_wiseness = _test_wiseness_gate(modules, problems)
    _shown_jargon_gate(modules, vocabulary.jargon, warnings)
    meta = read_meta(folder, sources, folded, problems, warnings)
    meta_readability(meta, vocabulary.familiar, problems, warnings)
    if problems:
        raise BankError(problems, warnings)
    modules.sort(key=lambda m: (m.order, m.id))
    return Bank(tuple(modules), sources, tuple(warnings), readability, test_wiseness, meta)


def _test_wiseness_gate(modules: list[ModuleSpec], problems: list[Problem]) -> dict[str, gates.TestWiseness]:
    table = {}
    for module in modules:
        figure = table[module.id] = gates.measure_test_wiseness(module.questions)
        if figure.too_high:
            problems.append(Problem(
                module.file, None,
                f"module '{module.id}': in {figure} of its choice questions the right choice is the only "
                f"one naming a doctor, nurse, pharmacist or help (at most "
                f"{round(100 * gates.GIVEAWAY_SHARE_LIMIT)}% allowed): {', '.join(figure.giveaways)}"))
    return table


def _shown_jargon_gate(modules: list[ModuleSpec], jargon: frozenset[str], warnings: list[Problem]) -> None:
    """Warn when a quote shown to patients first brings back a word the questions avoid."""
    for module in modules:
        for question in module.questions:
            for citation in (c for c in question.citations if c.show):
                found = gates.jargon_in(citation.quote, jargon)
                if found:
                    warnings.append(Problem(
                        module.file, question.id,
                        f"a quote shown to patients uses words the questions avoid ({', '.join(found)}; "
                        f"see {VOCABULARY_FILE}): {citation.quote[:60]!r}; is there a plainer one?"))


@dataclass(frozen=True)
class Vocabulary:
    familiar: frozenset[str] = frozenset()  # counted as familiar by Dale-Chall
    jargon: frozenset[str] = frozenset()  # source words the questions avoid


def load_vocabulary(folder: Path, problems: list[Problem]) -> Vocabulary:
    """`familiar_words`: words the Dale-Chall measure counts as familiar (proper names and terms the
    bank explains), each with why; `jargon` (optional): words of the sources the questions avoid, each
    with the plain words used instead."""
    path = folder / VOCABULARY_FILE
    if not path.is_file():
        return Vocabulary()
    data = _read_yaml(path, problems, VOCABULARY_FILE)
    if data is None:
        return Vocabulary()
    lists = {}
    for key, required, meaning in (("familiar_words", True, "why patients know it"),
                                   ("jargon", False, "the plain words the bank uses instead")):
        entries = data.get(key) if isinstance(data, dict) else None
        if entries is None and not required:
            lists[key] = frozenset()
            continue
        if not isinstance(entries, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in entries.items()
        ):
            problems.append(Problem(VOCABULARY_FILE, None, f"'{key}' must map each word to {meaning}"))
            lists[key] = frozenset()
            continue
        lists[key] = frozenset(word.lower() for word in entries)
    return Vocabulary(lists["familiar_words"], lists["jargon"])


def _readability_gate(
    modules: list[ModuleSpec], vocabulary: frozenset[str], problems: list[Problem], warnings: list[Problem]
) -> dict[str, Readability]:
    table: dict[str, Readability] = {}
    for module in modules:
        for question in module.questions:
            table[question.id] = measure_parts(question.patient_parts(), vocabulary)
        table[module.id] = measure(" ".join(q.patient_text() for q in module.questions), vocabulary)
        for key, question_id in [(q.id, q.id) for q in module.questions] + [(module.id, None)]:
            score = table[key]
            if score.level == "ok":
                continue
            part = f" (its {score.hardest_part})" if score.hardest_part else ""
            message = (
                f"reads above grade {8 if score.level == 'error' else 6}: Flesch-Kincaid "
                f"{score.flesch_kincaid}{part}, Dale-Chall {score.dale_chall} (grade {score.dale_chall_grade})"
                + (f"; hard words: {', '.join(score.hard_words[:8])}" if score.hard_words else "")
            )
            where = "" if question_id else f"module '{module.id}' as a whole "
            target = problems if score.level == "error" else warnings
            target.append(Problem(module.file, question_id, where + message))
    return table


def _bank_wide_problems(modules: list[ModuleSpec], warnings: list[Problem]) -> list[Problem]:
    problems: list[Problem] = []
    module_files: dict[str, str] = {}
    question_files: dict[str, str] = {}
    for module in modules:
        if module.id in module_files:
            problems.append(Problem(module.file, None, f"module id '{module.id}' is also used in {module_files[module.id]}"))
        module_files.setdefault(module.id, module.file)
        for question in module.questions:
            if question.id in question_files:
                problems.append(Problem(module.file, question.id, f"question id is also used in {question_files[question.id]}"))
            question_files.setdefault(question.id, module.file)
        if module.critical:
            # Re-teaching re-checks a missed key point with a different question, so every key point
            # of a module that must be mastered needs a second question. This also catches a key point
            # sentence mistyped in one question (it would form a group of one).
            groups: dict[str, list[str]] = defaultdict(list)
            for question in module.questions:
                groups[question.key_point].append(question.id)
            reviewed = {q.id for q in module.questions if not q.is_draft}
            for key_point, ids in groups.items():
                if len(ids) < 2:
                    problems.append(Problem(
                        module.file, ids[0],
                        "in a critical module every key point needs at least two questions; "
                        f"no other question has the key point {key_point[:60]!r}",
                    ))
                elif not any(i in reviewed for i in ids):
                    warnings.append(Problem(
                        module.file, ids[0],
                        "no question on this key point is reviewed, so patients are not taught it: "
                        f"{key_point[:60]!r}",
                    ))
                elif len([i for i in ids if i in reviewed]) == 1:
                    warnings.append(Problem(
                        module.file, next(i for i in ids if i in reviewed),
                        "the only reviewed question on its key point: a patient who misses it is "
                        "re-checked with the same question until another one is reviewed",
                    ))
    return problems
