"""Every statistic the administrator pages show, as pure functions of sufficient statistics (counts and
sums), so a page reads a few summary rows and never scans answers.

Item analysis follows Moodle's quiz statistics, on first tries: for one question version, x is the
patient's first-try score on it (0 or 1) and y the rest of that patient's first-try score in the
module (the other key points' first tries). Facility is mean(x); discrimination is the Pearson
correlation of x and y, computed from n, Σx, Σy, Σxy, Σx², Σy²:

    r = (nΣxy − ΣxΣy) / √((nΣx² − (Σx)²)(nΣy² − (Σy)²))

It is undefined (None) when either varies not at all (everyone right, or every rest score equal).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

# Flag thresholds (issue 7).
MIN_ANSWERS_FOR_FLAGS = 30
FACILITY_LOW = 0.35
FACILITY_HIGH = 0.95
DISCRIMINATION_LOW = 0.2

# Times from assignment to completion are kept as a histogram of minutes in buckets growing by 10%:
# bucket b holds [R^b, R^(b+1)) minutes, so a median read from it is within a factor √R (±4.9%) of the
# true one, whatever the number of patients. 0 to 1 minute goes to bucket 0.
BUCKET_RATIO = 1.1


@dataclass
class ItemSums:
    """Sufficient statistics of one question version's first tries (any set of days and units: they
    add). `choices[i]` counts first tries that selected choice i; `mastered`/`tries` count the key
    points first asked with this version that were later mastered, and the answers that took."""

    n: int = 0
    sum_x: int = 0
    sum_y: int = 0
    sum_xy: int = 0
    sum_xx: int = 0
    sum_yy: int = 0
    mastered: int = 0
    tries: int = 0
    choices: dict[int, int] = field(default_factory=dict)

    def add(self, other: ItemSums) -> None:
        for name in ("n", "sum_x", "sum_y", "sum_xy", "sum_xx", "sum_yy", "mastered", "tries"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for choice, count in other.choices.items():
            self.choices[choice] = self.choices.get(choice, 0) + count

    @classmethod
    def of(cls, pairs, choices=(), tries=()) -> ItemSums:
        """From raw first tries: `pairs` of (x, y), `choices` the selected indices of each first try,
        `tries` the answers each mastered key point took. For tests and hand-computed examples."""
        sums = cls()
        for x, y in pairs:
            sums.n += 1
            sums.sum_x += x
            sums.sum_y += y
            sums.sum_xy += x * y
            sums.sum_xx += x * x
            sums.sum_yy += y * y
        for selected in choices:
            for choice in selected:
                sums.choices[choice] = sums.choices.get(choice, 0) + 1
        for count in tries:
            sums.mastered += 1
            sums.tries += count
        return sums


def facility(sums: ItemSums) -> float | None:
    """Share of first tries answered right; None when nobody answered."""
    return sums.sum_x / sums.n if sums.n else None


def discrimination(sums: ItemSums) -> float | None:
    """Correlation of the item's first-try score with the rest of the module's first-try score."""
    n = sums.n
    if n < 2:
        return None
    var_x = n * sums.sum_xx - sums.sum_x ** 2
    var_y = n * sums.sum_yy - sums.sum_y ** 2
    if var_x <= 0 or var_y <= 0:
        return None
    r = (n * sums.sum_xy - sums.sum_x * sums.sum_y) / math.sqrt(var_x * var_y)
    return max(-1.0, min(1.0, r))  # rounding can step past ±1 by an ulp


def choice_shares(sums: ItemSums, choice_count: int) -> list[float | None]:
    """Share of first tries that selected each choice (a multiple-answer try selects several, so the
    shares of such a question can add up to more than 1)."""
    return [sums.choices.get(i, 0) / sums.n if sums.n else None for i in range(choice_count)]


def mean_tries_to_mastery(sums: ItemSums) -> float | None:
    return sums.tries / sums.mastered if sums.mastered else None


@dataclass(frozen=True)
class Flag:
    code: str
    reason: str


def flags(sums: ItemSums, correct: list[bool], choice_texts: list[str] | None = None) -> list[Flag]:
    """The issue's flags for one version, each with its reason in words an educator reads."""
    found: list[Flag] = []
    fac = facility(sums)
    if sums.n >= MIN_ANSWERS_FOR_FLAGS and fac is not None:
        if fac < FACILITY_LOW:
            found.append(Flag("hard", f"Only {fac:.0%} right on the first try (under {FACILITY_LOW:.0%}, "
                                      f"{sums.n} answers): the question or its teaching may be confusing."))
        elif fac > FACILITY_HIGH:
            found.append(Flag("easy", f"{fac:.0%} right on the first try (over {FACILITY_HIGH:.0%}, "
                                      f"{sums.n} answers): it may not test anything."))
        disc = discrimination(sums)
        if disc is None or disc < DISCRIMINATION_LOW:
            shown = "cannot be computed" if disc is None else f"is {disc:.2f}"
            found.append(Flag("discrimination", f"Discrimination {shown} (under {DISCRIMINATION_LOW}, "
                                                f"{sums.n} answers): patients who know the rest of the "
                                                "module do no better on it."))
    if sums.n and any(correct):
        right = max(sums.choices.get(i, 0) for i, ok in enumerate(correct) if ok)
        for i, ok in enumerate(correct):
            picked = sums.choices.get(i, 0)
            if not ok and picked > right:
                label = f'"{choice_texts[i]}"' if choice_texts else f"Choice {i + 1}"
                found.append(Flag("distractor", f"Wrong choice {label} was picked more often ({picked}) "
                                                f"than the right one ({right})."))
    return found


def bucket_of(minutes: float) -> int:
    if minutes < 1:
        return 0
    return int(math.floor(math.log(minutes) / math.log(BUCKET_RATIO) + 1e-9))


def bucket_value(bucket: int) -> float:
    """The geometric middle of a bucket, in minutes."""
    return BUCKET_RATIO ** (bucket + 0.5)


def median_from_histogram(counts: dict[int, int]) -> float | None:
    """The median, in minutes, of values kept as bucket counts (see BUCKET_RATIO for its precision).
    With an even count it is the middle of the two middle values' buckets."""
    total = sum(c for c in counts.values() if c > 0)
    if not total:
        return None
    ranks = [(total - 1) // 2, total // 2]
    values = []
    seen = 0
    for bucket in sorted(b for b, c in counts.items() if c > 0):
        seen += counts[bucket]
        while ranks and ranks[0] < seen:
            ranks.pop(0)
            values.append(bucket_value(bucket))
    return sum(values) / 2


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
