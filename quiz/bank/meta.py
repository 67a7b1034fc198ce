"""Bank-level data: `bank.yaml` beside the module files. Pure: no Flask, no database.

A module file teaches one topic; `bank.yaml` holds what belongs to the medicine as a whole and is shown
on the patient's summary and printed take-home sheet:

```yaml
medicine: baclofen            # the medicine's name as it reads inside a sentence
get_help_now:                 # urgent warning signs, shown in the summary's "When to get help now" box
  - sign: "It is hard to breathe"
    citations:
      - {source: 000_74d3c6befc6a713e.txt, quote: "trouble breathing, or very high fever, seek medical care right away"}
```

Each sign is a short plain phrase completing "Call <emergency number> or get medical help right away
if:", backed like a question's explanation by verbatim quotes that are checked against their source
(found, and outside the source's unrelated and disputed regions). The engine stays drug-agnostic: the
medicine's name and its warning signs are data, never code or template text.

`read_meta` checks structure and quotes (what pages need at run time); `meta_readability` applies the
bank's readability gates to the signs (what `questions check` adds). A bank without `bank.yaml` still
loads, with a warning: its summary then shows a general "get help now" line without signs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .citations import NormalisedText, find_quote
from .loader import CONTROL_CHARACTERS, SOURCES_FOLDER, SOURCES_METADATA, Citation, Problem, Source, \
    _Checker, _read_yaml
from .readability import Readability, as_passage, measure

META_FILE = "bank.yaml"
META_KEYS = {"medicine", "get_help_now"}
SIGN_KEYS = {"sign", "citations"}
CITATION_KEYS = {"source", "quote"}
MEDICINE_MAX_CHARS = 60
# A sign is read at a glance in an emergency and printed in a narrow box: a phrase, not a paragraph.
SIGN_MAX_WORDS = 12
SIGN_MAX_SIGNS = 8


@dataclass(frozen=True)
class WarningSign:
    """One urgent warning sign, e.g. "It is hard to breathe", and the quotes that back it."""

    text: str
    citations: tuple[Citation, ...]


@dataclass(frozen=True)
class BankMeta:
    medicine: str
    get_help_now: tuple[WarningSign, ...]

    def signs_text(self) -> str:
        return as_passage([sign.text for sign in self.get_help_now])


def read_meta(
    folder: Path, sources: dict[str, Source], folded: dict[str, NormalisedText],
    problems: list[Problem], warnings: list[Problem],
) -> BankMeta | None:
    """Read and check `folder/bank.yaml`. Problems go to `problems` (the bank is refused), a missing
    file to `warnings`; returns None unless the file is present and valid."""
    path = folder / META_FILE
    if not path.is_file():
        warnings.append(Problem(META_FILE, None, "is missing: the summary shows no medicine name and "
                                                 "no list of warning signs that need help now"))
        return None
    before = len(problems)
    data = _read_yaml(path, problems, META_FILE)
    if data is None:
        if len(problems) == before:
            problems.append(Problem(META_FILE, None, "is empty"))
        return None
    check = _Checker(META_FILE, problems, warnings)
    if not isinstance(data, dict):
        check.problem("must be a mapping with 'medicine' and 'get_help_now'")
        return None
    check.keys(data, META_KEYS, "top level")
    medicine = check.text(data, "medicine", "top level")
    if medicine is not None and len(medicine) > MEDICINE_MAX_CHARS:
        check.problem(f"top level: 'medicine' is the medicine's name, at most {MEDICINE_MAX_CHARS} characters")
    signs = _read_signs(data.get("get_help_now"), check, sources, folded)
    if len(problems) != before or medicine is None or signs is None:
        return None
    return BankMeta(medicine, signs)


def _read_signs(raw, check: _Checker, sources, folded) -> tuple[WarningSign, ...] | None:
    if not isinstance(raw, list) or not raw:
        check.problem("'get_help_now' must be a non-empty list of signs, each with 'sign' and 'citations'")
        return None
    if len(raw) > SIGN_MAX_SIGNS:
        check.problem(f"'get_help_now' lists {len(raw)} signs; keep it to {SIGN_MAX_SIGNS} or fewer so "
                      "the box stays short enough to read in a hurry")
    signs: list[WarningSign] = []
    seen: set[str] = set()
    for number, entry in enumerate(raw, start=1):
        where = f"sign #{number}"
        if not isinstance(entry, dict):
            check.problem(f"{where} must be a mapping with 'sign' and 'citations'")
            continue
        check.keys(entry, SIGN_KEYS, where)
        text = check.text(entry, "sign", where)
        if text is not None:
            words = len(text.split())
            if words > SIGN_MAX_WORDS:
                check.problem(f"{where}: '{text[:40]}...' has {words} words; a sign is a short phrase "
                              f"of at most {SIGN_MAX_WORDS}")
            if text.lower() in seen:
                check.problem(f"{where}: '{text}' is listed twice")
            seen.add(text.lower())
        citations = _read_citations(entry.get("citations"), where, check, sources, folded)
        if text is not None and citations:
            signs.append(WarningSign(text, citations))
    return tuple(signs)


def _read_citations(raw, where: str, check: _Checker, sources, folded) -> tuple[Citation, ...]:
    """The sign's quotes, each found verbatim (after the documented folding) in a listed source and
    outside the parts of it that must not be cited."""
    if not isinstance(raw, list) or not raw:
        check.problem(f"{where}: 'citations' must list at least one source quote")
        return ()
    found: list[Citation] = []
    for number, entry in enumerate(raw, start=1):
        cwhere = f"{where}, citation #{number}"
        if not isinstance(entry, dict):
            check.problem(f"{cwhere} must be a mapping with 'source' and 'quote'")
            continue
        check.keys(entry, CITATION_KEYS, cwhere)
        name = check.text(entry, "source", cwhere)
        quote = entry.get("quote")
        if not isinstance(quote, str) or not quote.strip() or CONTROL_CHARACTERS.search(quote):
            check.problem(f"{cwhere}: 'quote' must be non-empty text without control characters")
            continue
        if name is None:
            continue
        if name not in sources:
            check.problem(f"{cwhere}: source {name!r} is not listed in {SOURCES_FOLDER}/{SOURCES_METADATA}")
            continue
        span = find_quote(folded[name], quote)
        if span is None:
            check.problem(f"{cwhere}: quote not found in {name}: {quote.strip()[:80]!r}")
            continue
        source = sources[name]
        region = source.unrelated_region_at(*span) or source.disputed_region_at(*span)
        if region is not None:
            check.problem(f"{cwhere}: quote is in a part of {name} that must not be cited "
                          f"({region.note}): {quote.strip()[:60]!r}")
            continue
        found.append(Citation(name, quote.strip(), *span))
    return tuple(found)


def meta_readability(
    meta: BankMeta | None, vocabulary: frozenset[str], problems: list[Problem], warnings: list[Problem],
) -> Readability | None:
    """The signs read as one passage, under the same gates as questions (error above grade 8, warning
    above grade 6)."""
    if meta is None:
        return None
    score = measure(meta.signs_text(), vocabulary)
    if score.level != "ok":
        target = problems if score.level == "error" else warnings
        hard = f"; hard words: {', '.join(score.hard_words[:8])}" if score.hard_words else ""
        target.append(Problem(META_FILE, None, (
            f"the get-help signs read above grade {8 if score.level == 'error' else 6}: Flesch-Kincaid "
            f"{score.flesch_kincaid}, Dale-Chall {score.dale_chall} (grade {score.dale_chall_grade}){hard}")))
    return score
