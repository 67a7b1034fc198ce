"""Finding a cited quote in its source document.

Normalisation (applied to both the quote and the source before comparing, and nothing else):
  * every run of whitespace, including non-breaking and other Unicode spaces and line breaks, becomes
    one ordinary space, and leading/trailing whitespace of the quote is ignored;
  * typographic single quotes and primes (‘ ’ ‚ ‛ ′) become ', typographic double quotes (“ ” „ ‟ ″)
    become ";
  * typographic hyphens and dashes (‐ ‑ ‒ – — ― −) become -.
Case, letters, digits and all other punctuation (including Markdown asterisks) must match exactly.
The match is located in the original text so that a viewer can highlight exactly what was cited.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_FOLD = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-",
    }
)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class NormalisedText:
    """A folded copy of a text plus, for each folded character, its offset in the original."""

    text: str
    offsets: tuple[int, ...]

    @classmethod
    def of(cls, original: str) -> NormalisedText:
        chars: list[str] = []
        offsets: list[int] = []
        in_space = False
        for index, char in enumerate(original.translate(_FOLD)):
            if char.isspace():
                if not in_space:
                    chars.append(" ")
                    offsets.append(index)
                in_space = True
                continue
            in_space = False
            chars.append(char)
            offsets.append(index)
        return cls("".join(chars), tuple(offsets))


def normalise(text: str) -> str:
    """The folded form of `text` (see module docstring); surrounding whitespace removed."""
    return _SPACE.sub(" ", text.translate(_FOLD)).strip()


def find_quote(source: str | NormalisedText, quote: str) -> tuple[int, int] | None:
    """Return the (start, end) offsets of `quote` in the original source text, or None.

    An empty quote never matches: a citation must cite something.
    """
    needle = normalise(quote)
    if not needle:
        return None
    folded = source if isinstance(source, NormalisedText) else NormalisedText.of(source)
    at = folded.text.find(needle)
    if at < 0:
        return None
    return folded.offsets[at], folded.offsets[at + len(needle) - 1] + 1
