"""Readability of patient-facing text, measured with textstat (pinned to 0.7.8, which works offline).

Two formulas, both reported as a US school grade:

* Flesch-Kincaid grade, straight from textstat. For a question it is measured on each part a patient
  reads (the prompt, the choices together, the feedback together, the explanation, the key point) and
  the worst part counts, so one dense sentence cannot hide among plain ones. Parts under
  `FK_MIN_WORDS` words are not graded on their own, where the formula means nothing ("Alcohol." alone
  scores grade 20, "Never stop suddenly." 9.2); they still count in the Dale-Chall passage.
* Dale-Chall, computed from textstat's own Dale-Chall word list, word and sentence counts, but applying
  two rules of the Dale-Chall method that textstat documents it leaves out: regular inflections of a
  familiar word (-s, -es, -ed, -ing, -er, -est, -ly ...) are familiar, and proper names are familiar.
  The bank's `vocabulary.yaml` lists the proper names (the medicine's name) and the few terms the
  questions teach and explain; without these rules every sentence naming the medicine, or saying
  "problems" or "doses", counts as hard, and the score no longer tells plain text from dense text.
  The raw score maps to grade bands as the method defines them (5.0-5.9: grades 5-6, 6.0-6.9: 7-8 ...).
  Dale-Chall is a passage measure, so it is taken over all of a question's parts together.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import textstat

WARN_ABOVE_GRADE = 6
ERROR_ABOVE_GRADE = 8
FK_MIN_WORDS = 6

_SUFFIXES = (
    ("ies", "y"), ("ied", "y"), ("ier", "y"), ("iest", "y"), ("ily", "y"),
    ("es", ""), ("s", ""), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"),
    ("er", ""), ("er", "e"), ("est", ""), ("est", "e"), ("ly", ""),
)
# Dale-Chall raw score -> the highest grade of its band.
_DALE_CHALL_BANDS = ((5.0, 4), (6.0, 6), (7.0, 8), (8.0, 10), (9.0, 12), (10.0, 15))


@dataclass(frozen=True)
class Readability:
    flesch_kincaid: float
    dale_chall: float          # the raw Dale-Chall score
    dale_chall_grade: int      # the top of its grade band
    hard_words: tuple[str, ...]
    hardest_part: str = ""     # which part gave the Flesch-Kincaid grade, when parts were measured

    @property
    def grade(self) -> float:
        """The worse of the two grades: what the gates compare."""
        return max(self.flesch_kincaid, self.dale_chall_grade)

    @property
    def level(self) -> str:
        if self.grade > ERROR_ABOVE_GRADE:
            return "error"
        if self.grade > WARN_ABOVE_GRADE:
            return "warning"
        return "ok"


def as_passage(parts: list[str]) -> str:
    """Join texts as sentences: a choice without end punctuation is still a sentence of its own."""
    cleaned = [" ".join(p.split()) for p in parts if p and p.strip()]
    return " ".join(p if p[-1] in ".?!:" else p + "." for p in cleaned)


@lru_cache(maxsize=4096)
def _is_easy(word: str) -> bool:
    return textstat.is_easy_word(word)


def base_forms(word: str):
    """The word and the base words it may be a regular inflection of (lowercase)."""
    word = word.lower().strip("'\u2019")
    word = re.sub(r"['\u2019]s$", "", word)
    yield word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[: -len(suffix)] + replacement
            yield stem
            if len(stem) > 2 and stem[-1] == stem[-2]:  # stopped -> stop, bigger -> big
                yield stem[:-1]


def is_familiar(word: str, vocabulary: frozenset[str]) -> bool:
    return any(form in vocabulary or _is_easy(form) for form in base_forms(word))


def measure_parts(parts: dict[str, str], vocabulary: frozenset[str] = frozenset()) -> Readability:
    """Flesch-Kincaid of the worst part, Dale-Chall of all parts together."""
    passage = as_passage(list(parts.values()))
    overall = measure(passage, vocabulary)
    graded = {name: textstat.flesch_kincaid_grade(text) for name, text in parts.items()
              if textstat.lexicon_count(text) >= FK_MIN_WORDS}
    if not graded:
        return overall
    worst = max(graded, key=graded.get)
    return Readability(round(graded[worst], 1), overall.dale_chall, overall.dale_chall_grade,
                       overall.hard_words, worst)


def measure(text: str, vocabulary: frozenset[str] = frozenset()) -> Readability:
    words = max(1, textstat.lexicon_count(text))
    sentences = max(1, textstat.sentence_count(text))
    hard = [w for w in textstat.difficult_words_list(text, unique=False) if not is_familiar(w, vocabulary)]
    percent_hard = 100 * len(hard) / words
    raw = 0.1579 * percent_hard + 0.0496 * words / sentences + (3.6365 if percent_hard > 5 else 0)
    band = next((grade for limit, grade in _DALE_CHALL_BANDS if raw < limit), 16)
    return Readability(
        flesch_kincaid=round(textstat.flesch_kincaid_grade(text), 1),
        dale_chall=round(raw, 2),
        dale_chall_grade=band,
        hard_words=tuple(sorted({w.lower() for w in hard})),
    )
