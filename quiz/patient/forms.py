"""Patient forms. The answer form is built for the question on the card, so WTForms checks that the
posted choices are ones the question offers."""
from __future__ import annotations

from functools import lru_cache

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..question_types import QUESTION_TYPES


class StartForm(FlaskForm):
    code = StringField(
        "Your code",
        validators=[DataRequired(message="Enter the code your nurse gave you."), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


# Steps and ids are INTEGER columns: a number outside them is refused here, before it reaches a query
# (where it failed: an index error for a negative step, an overflow for an id above 2**31 - 1).
IN_COLUMN = NumberRange(min=0, max=2**31 - 1)


class AnswerFormBase(FlaskForm):
    step = IntegerField(validators=[InputRequired(), IN_COLUMN])
    question_id = HiddenField(validators=[DataRequired()])
    # The exact version on the card: choices are posted by position, so they only mean something
    # against the words the patient saw.
    version_id = IntegerField(validators=[InputRequired(), IN_COLUMN])

    def selected(self) -> list[int]:
        data = self.choice.data
        values = data if isinstance(data, list) else [data]
        return sorted(int(v) for v in values)


def answer_form_for(version, **kwargs) -> AnswerFormBase:
    """An answer form whose `choice` field offers this question version's choices."""
    return _answer_form_class(version.type, tuple(c["text"] for c in version.choices))(**kwargs)


@lru_cache(maxsize=1024)
def _answer_form_class(question_type: str, texts: tuple[str, ...]) -> type[AnswerFormBase]:
    """One form class per question wording, made once per process: building a WTForms class (its
    metaclass binds every field) costs more than the rest of reading the answer."""
    qtype = QUESTION_TYPES[question_type]
    options = [SelectChoice(str(i), text) for i, text in enumerate(texts)]
    if qtype.multiple_selection:
        field = SelectMultipleField(
            choices=options, validators=[DataRequired(message="Choose at least one answer.")]
        )
    else:
        field = RadioField(choices=options, validators=[InputRequired(message="Choose an answer.")])
    return type("AnswerForm", (AnswerFormBase,), {"choice": field})


class NextForm(FlaskForm):
    answer_id = IntegerField(validators=[InputRequired(), IN_COLUMN])


class LeaveForm(FlaskForm):
    """Ends the browser's session (a shared bedside tablet); progress stays with the code."""
