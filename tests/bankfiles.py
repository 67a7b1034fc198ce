"""Building small bank folders for tests: a question, a module file, writing it, reading the problems."""
from __future__ import annotations

import pytest
import yaml

from quiz.bank import BankError, load_bank

QUOTE = "Never stop baclofen suddenly."
SOURCE = "003_cc7d42d20a1fa13c.txt"


def question(qid, key_point="Never stop it all at once. Ask your doctor first.", **changes):
    data = {
        "id": qid,
        "key_point": key_point,
        "prompt": "You feel better. What should you do?",
        "type": "single",
        "choices": [
            {"text": "Keep taking it and ask your doctor.", "correct": True},
            # A wrong choice names the doctor too, so the right one is not given away (test-wiseness gate).
            {"text": "Stop it today, then tell your doctor.", "correct": False,
             "feedback": "Stopping suddenly is not safe."},
        ],
        "explanation": "Do not stop suddenly.",
        # Shown to patients first: a served (reviewed) question needs one or two such quotes.
        "citations": [{"source": SOURCE, "quote": QUOTE, "show": True}],
    }
    data.update(changes)
    return data


def module_file(module_id="stopping", critical=True, questions=None):
    return {
        "module": {"id": module_id, "title": "Stopping", "summary": "How to stop.", "critical": critical},
        "questions": questions if questions is not None else [question("q-one"), question("q-two")],
    }


def write(folder, name, data):
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    (folder / name).write_text(text, encoding="utf-8")


def problems_for(folder):
    with pytest.raises(BankError) as caught:
        load_bank(folder)
    return [str(p) for p in caught.value.problems]
