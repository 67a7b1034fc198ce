"""The report filters: a GET form (bookmarkable, no CSRF: it changes nothing)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField
from wtforms.validators import Optional, ValidationError

MAX_DAYS = 731  # two years: what a page reads grows with the range (days × units), not the answers


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
    unit = SelectField("Unit", choices=[], default="")
    module = SelectField("Module", choices=[], default="")
    flagged = BooleanField("Flagged questions only")

    def validate_end(self, field):
        if self.start.data and field.data:
            if field.data < self.start.data:
                raise ValidationError("The end date must be on or after the start date.")
            if (field.data - self.start.data).days >= MAX_DAYS:
                raise ValidationError(f"Choose at most {MAX_DAYS} days (two years) at a time.")
