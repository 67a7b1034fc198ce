"""Nurse workspace forms. Module choices are filled in per request (the bank decides what exists)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectChoice, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..assignments import EXTERNAL_REF_MAX, LABEL_MAX, MAX_VALID_DAYS
from ..models import LEARNERS, METHODS, RESPONSES

DAYS_MESSAGE = f"Enter a number of days from 1 to {MAX_VALID_DAYS}."


def _days_field(label: str):
    return IntegerField(label, validators=[InputRequired(message=DAYS_MESSAGE),
                                           NumberRange(min=1, max=MAX_VALID_DAYS, message=DAYS_MESSAGE)],
                        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_VALID_DAYS})


def _choices(labels: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class ModulesField(SelectMultipleField):
    """Checkboxes, rendered by the template (each with its critical mark)."""


class AssignForm(FlaskForm):
    label = StringField(
        "Patient label",
        validators=[DataRequired(message="Enter a label the ward knows the patient by, for example a bed and initials."),
                    Length(max=LABEL_MAX)],
        render_kw={"autocomplete": "off"},
    )
    external_ref = StringField("Hospital record number (optional)", validators=[Optional(), Length(max=EXTERNAL_REF_MAX)],
                               render_kw={"autocomplete": "off", "spellcheck": "false"})
    modules = ModulesField("Modules", validators=[DataRequired(message="Choose at least one module.")])
    valid_days = _days_field("Code valid for (days)")


class ModulesForm(FlaskForm):
    modules = ModulesField("Modules", validators=[DataRequired(message="Choose at least one module.")])


class ExpiryForm(FlaskForm):
    valid_days = _days_field("Code valid for (days from now)")


class ConfirmForm(FlaskForm):
    """Reissue and revoke: the confirmation page's button."""


class TeachBackForm(FlaskForm):
    ref = HiddenField(validators=[DataRequired()])
    supersedes_id = IntegerField(validators=[Optional()])
    learner = RadioField("Learner", choices=_choices(LEARNERS),
                         validators=[InputRequired(message="Choose who was taught.")])
    method = RadioField("Method", choices=_choices(METHODS),
                        validators=[InputRequired(message="Choose how it was taught.")])
    response = RadioField("Response", choices=_choices(RESPONSES),
                          validators=[InputRequired(message="Choose the response.")])
    note = TextAreaField("Note (optional)", validators=[Optional(), Length(max=500)])
