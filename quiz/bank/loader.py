"""Reading and validating a question bank folder. Pure: no Flask, no database.

A bank folder holds one YAML file per module (`*.yaml`) and `sources/` with the cited documents and
`sources/sources.yaml` (their metadata). `load_bank` either returns a fully valid `Bank` or raises
`BankError` listing every problem found, each naming the file, the question id and what is wrong, so an
author can fix a whole file in one pass.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..question_types import QUESTION_TYPES
from .citations import NormalisedText, find_quote

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MODULE_KEYS = {"id", "title", "summary", "critical", "order"}
QUESTION_KEYS = {
    "id", "key_point", "prompt", "type", "choices", "explanation", "citations",
    "reviewed_on", "reviewed_by_role",
}
CHOICE_KEYS = {"text", "correct", "feedback"}
CITATION_KEYS = {"source", "quote"}
SOURCE_KEYS = {"file", "title", "kind", "reliability"}
SOURCES_FOLDER = "sources"
SOURCES_METADATA = "sources.yaml"


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

    def __init__(self, problems: list[Problem]):
        self.problems = problems
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

    def content(self) -> dict:
        """What a patient sees: the part of a question that a new version is made of."""
        return {
            "key_point": self.key_point,
            "prompt": self.prompt,
            "type": self.type,
            "choices": [
                {"text": c.text, "correct": c.correct, "feedback": c.feedback} for c in self.choices
            ],
            "explanation": self.explanation,
            "citations": [{"source": c.source, "quote": c.quote} for c in self.citations],
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
class Source:
    file: str
    title: str
    kind: str
    reliability: str
    text: str


@dataclass(frozen=True)
class Bank:
    modules: tuple[ModuleSpec, ...]
    sources: dict[str, Source] = field(default_factory=dict)

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
    """Collects problems for one file while reading its fields."""

    def __init__(self, label: str, problems: list[Problem]):
        self.label = label
        self.problems = problems
        self.question_id: str | None = None

    def problem(self, message: str) -> None:
        self.problems.append(Problem(self.label, self.question_id, message))

    def text(self, data: dict, key: str, where: str, required: bool = True) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(f"{where}: '{key}' is missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{where}: '{key}' must be non-empty text")
            return None
        return " ".join(value.split())

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
        if None not in (title, kind, reliability):
            sources[name] = Source(name, title, kind, reliability, text)
    return sources


def _load_module_file(
    path: Path, sources: dict[str, Source], folded: dict[str, NormalisedText], problems: list[Problem]
) -> ModuleSpec | None:
    label = path.name
    data = _read_yaml(path, problems, label)
    if data is None:
        if not any(p.file == label for p in problems):
            problems.append(Problem(label, None, "is empty"))
        return None
    check = _Checker(label, problems)
    if not isinstance(data, dict):
        check.problem("must be a mapping with 'module' and 'questions'")
        return None
    check.keys(data, {"module", "questions"}, "top level")
    module = data.get("module")
    if not isinstance(module, dict):
        check.problem("'module' is missing or is not a mapping")
        return None
    check.keys(module, MODULE_KEYS, "module")
    module_id = check.text(module, "id", "module")
    if module_id is not None and not ID_PATTERN.match(module_id):
        check.problem(f"module: id {module_id!r} must be lowercase words joined by hyphens")
    title = check.text(module, "title", "module")
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
            quote = raw.get("quote")
            if not isinstance(quote, str) or not quote.strip():
                check.problem(f"{cwhere}: 'quote' must be non-empty text")
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
            citations.append(Citation(source, quote.strip(), *span))

    if len(check.problems) != before:
        return None
    return QuestionSpec(
        id=qid, module_id=module_id, position=position, key_point=key_point, prompt=prompt,
        type=qtype.name, choices=tuple(choices), explanation=explanation,
        citations=tuple(citations), file=label,
    )


def load_bank(folder: str | Path) -> Bank:
    """Read and validate every module file in `folder`; raise `BankError` on any problem."""
    folder = Path(folder)
    problems: list[Problem] = []
    if not folder.is_dir():
        raise BankError([Problem(str(folder), None, "question folder does not exist")])
    sources = load_sources(folder / SOURCES_FOLDER, problems)
    folded = {name: NormalisedText.of(source.text) for name, source in sources.items()}
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        problems.append(Problem(str(folder), None, "contains no module files (*.yaml)"))
    modules = [m for m in (_load_module_file(p, sources, folded, problems) for p in files) if m]
    problems.extend(_bank_wide_problems(modules))
    if problems:
        raise BankError(problems)
    modules.sort(key=lambda m: (m.order, m.id))
    return Bank(tuple(modules), sources)


def _bank_wide_problems(modules: list[ModuleSpec]) -> list[Problem]:
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
            for key_point, ids in groups.items():
                if len(ids) < 2:
                    problems.append(Problem(
                        module.file, ids[0],
                        "in a critical module every key point needs at least two questions; "
                        f"no other question has the key point {key_point[:60]!r}",
                    ))
    return problems
