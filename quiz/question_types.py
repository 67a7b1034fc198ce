"""The question types a bank may use, in one registry: how a type's choices must look (checked when the
bank loads) and how a patient's selection is graded. A new type is a new class in `QUESTION_TYPES`."""
from __future__ import annotations

from collections.abc import Sequence


class QuestionType:
    name: str = ""
    multiple_selection = False  # True: checkboxes; False: radio buttons
    instruction = "Choose one answer."

    def choice_problems(self, correct_flags: Sequence[bool], texts: Sequence[str]) -> list[str]:
        return []

    def is_correct(self, correct_flags: Sequence[bool], selected: Sequence[int]) -> bool:
        chosen = set(selected)
        return chosen == {i for i, flag in enumerate(correct_flags) if flag}


class SingleChoice(QuestionType):
    name = "single"

    def choice_problems(self, correct_flags, texts):
        count = sum(bool(flag) for flag in correct_flags)
        if count != 1:
            return [f"a '{self.name}' question needs exactly one correct choice, found {count}"]
        return []


class TrueFalse(SingleChoice):
    name = "true_false"

    def choice_problems(self, correct_flags, texts):
        problems = super().choice_problems(correct_flags, texts)
        if sorted(t.strip().lower() for t in texts) != ["false", "true"]:
            problems.append("a 'true_false' question has exactly two choices, 'True' and 'False'")
        return problems


class MultipleChoice(QuestionType):
    name = "multiple"
    multiple_selection = True
    instruction = "Choose all answers that are right."

    def choice_problems(self, correct_flags, texts):
        if not any(correct_flags):
            return ["a 'multiple' question needs at least one correct choice"]
        return []


QUESTION_TYPES: dict[str, QuestionType] = {
    qtype.name: qtype for qtype in (SingleChoice(), TrueFalse(), MultipleChoice())
}
