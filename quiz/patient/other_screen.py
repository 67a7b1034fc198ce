"""A question answered on one screen, then posted again from another (an older tab, a second device).

The answer stored first stands (`service.submit_answer`); the patient is told plainly what happened
and shown where they are now, instead of silently moving on. Whether the post is this screen's own
answer sent again (a double click: nothing to say) is `grading.answered_elsewhere`."""
from __future__ import annotations

from collections.abc import Mapping

from ..grading import answered_elsewhere
from .service import ModuleState

ANSWERED_ELSEWHERE = "You already answered this question on another screen."
NOW_NEXT = "Here is the next one."
NOW_THAT_ANSWER = "Here is the answer you gave there."
NOW_WHERE = "Here is where you are now."


def answered_elsewhere_message(state: ModuleState, form: Mapping) -> str | None:
    """The message for a posted question form whose step already has an answer from another screen;
    None when the step has no answer yet, or the post is this screen's own answer sent again."""
    try:
        step = int(form.get("step", ""))
        posted = sorted(int(value) for value in form.getlist("choice"))
    except (TypeError, ValueError):
        return None
    if not 0 <= step < state.next_step:
        return None
    stored = state.answers[step]
    pending = state.pending_feedback
    if not answered_elsewhere(stored.question_id, stored.selected, pending is stored,
                              form.get("question_id", ""), posted):
        return None
    if pending is stored:
        return f"{ANSWERED_ELSEWHERE} {NOW_THAT_ANSWER}"
    if pending is None and state.next_question is not None:
        return f"{ANSWERED_ELSEWHERE} {NOW_NEXT}"
    return f"{ANSWERED_ELSEWHERE} {NOW_WHERE}"
