"""Admin forms. Unit choices are filled in per request (the database decides what exists)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..staff_accounts import DISPLAY_NAME_MAX, UNIT_NAME_MAX, USERNAME_MAX

ROLE_CHOICES = [SelectChoice("nurse", "Nurse: sees the patients of their units"),
                SelectChoice("admin", "Administrator: sees every unit and these admin pages")]


class UnitsField(SelectMultipleField):
    """Checkboxes, one per unit (rendered by the template)."""


class StaffEditForm(FlaskForm):
    display_name = StringField("Name on records", validators=[Optional(), Length(max=DISPLAY_NAME_MAX)],
                               render_kw={"autocomplete": "off"})
    role = RadioField("Role", choices=ROLE_CHOICES, validators=[InputRequired(message="Choose a role.")])
    units = UnitsField("Units", coerce=int)


class StaffCreateForm(StaffEditForm):
    username = StringField(
        "Username", validators=[DataRequired(message="Enter a username."), Length(max=USERNAME_MAX)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})


class ConfirmForm(FlaskForm):
    """Disable, enable, reset password: the confirmation button."""


class UnitForm(FlaskForm):
    name = StringField("Unit name", validators=[DataRequired(message="Enter the unit's name."),
                                                Length(max=UNIT_NAME_MAX)], render_kw={"autocomplete": "off"})


class AuditFilterForm(FlaskForm):
    """The audit log's filters: a GET form (bookmarkable, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    user = StringField("Staff username", validators=[Optional(), Length(max=USERNAME_MAX)],
                       render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})
    patient = StringField("Patient label or record number", validators=[Optional(), Length(max=100)],
                          render_kw={"autocomplete": "off"})
    action = SelectField("Action", validators=[Optional()])
    date_from = DateField("From (date)", validators=[Optional()],
                          render_kw={"type": "date"})
    date_to = DateField("To (date, included)", validators=[Optional()],
                        render_kw={"type": "date"})

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")
