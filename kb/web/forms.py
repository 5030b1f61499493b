"""WTForms forms shared by the pages, and the account forms. The story form is
in ``story_form``. Every form's CSRF token is checked by CSRFProtect before
any view runs (``BaseForm``).
"""
from __future__ import annotations

import calendar
from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovPasswordInput,
    GovRadioInput,
    GovTextArea,
    GovTextInput,
)
from wtforms.fields import BooleanField, Field, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from kb import dates
from kb.services.alerts import FREQUENCY_LABELS
from kb.services.story_input import EMAIL_PATTERN
from kb.services.users import MIN_PASSWORD_LENGTH


def strip(value):
    return value.strip() if isinstance(value, str) else value


def choices(mapping: dict, blank: str | None = None) -> list[SelectChoice]:
    items = [SelectChoice("", blank)] if blank is not None else []
    return items + [SelectChoice(value, label) for value, label in mapping.items()]


# Fields ------------------------------------------------------------------------

class _PartialDateInput(GovDateInput):
    """GOV.UK's date input, with the error colour on the parts that are wrong only."""

    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        wrong = getattr(field, "wrong_parts", None) or ("day", "month", "year")
        for item, part in zip(params["items"], ("day", "month", "year")):
            if part not in wrong:
                item["classes"] = item["classes"].replace("govuk-input--error", "").strip()
        return params


def _wrong_parts(day: str, month: str, year: str) -> tuple[str, ...]:
    """Which of a date's parts (all given as text, day and month perhaps empty) are not a real date."""
    wrong = tuple(name for name, value in (("day", day), ("month", month), ("year", year))
                  if value and not value.isdigit())
    if wrong:
        return wrong
    if len(year) != 4 or int(year) < 1000:
        return ("year",)
    if month and not 1 <= int(month) <= 12:
        return ("month",)
    if day and not 1 <= int(day) <= calendar.monthrange(int(year), int(month))[1]:
        return ("day",)
    return ()


class GovDateField(Field):
    """A GOV.UK date input (day, month, year, all named after the field) that may be
    left empty, or given a year only, or a month and a year: its data is a
    ``kb.dates.PartialDate`` (or None). Its messages follow the GOV.UK date
    input pattern, and what was typed is shown again as it was typed."""

    widget = _PartialDateInput()

    def __init__(self, label=None, validators=None, *, noun: str = "Date", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.noun = noun
        self.wrong_parts: tuple[str, ...] = ()

    def process_data(self, value):
        self.data = dates.parse(value)
        # The parts to show (the widget reads what was typed from raw_data).
        self.raw_data = list(self.data.parts()) if self.data else None

    def process_formdata(self, valuelist):
        # Always three parts, so the widget can draw what was typed (even if a
        # POST left some out).
        parts = [str(v).strip() for v in (valuelist or [])][:3]
        self.raw_data = parts + [""] * (3 - len(parts))
        self.data = None
        day, month, year = self.raw_data
        if not (day or month or year):
            return
        if not year or (day and not month):
            self.wrong_parts = tuple(name for name, value in (("month", month), ("year", year)) if not value)
            raise ValueError(f"{self.noun} must include a {' and a '.join(self.wrong_parts)}")
        self.wrong_parts = _wrong_parts(day, month, year)
        if self.wrong_parts == ("year",):
            raise ValueError(f"The year of the {self.noun.lower()} must include 4 numbers")
        if self.wrong_parts:
            raise ValueError(f"{self.noun} must be a real date")
        self.data = dates.from_parts(int(year), int(month) if month else None, int(day) if day else None)

    def pre_validate(self, form):
        if self.data and self.data.day > date.today():
            self.wrong_parts = tuple(name for name, value in zip(("day", "month", "year"), self.raw_data) if value)
            raise ValidationError(f"{self.noun} must be today or in the past")

    def _value(self):
        return ""


class BaseForm(FlaskForm):
    """A form whose CSRF token is checked by CSRFProtect before any view runs (every
    POST of the app), so that a stale token can be answered by the view's own
    error handler with the form shown again, nothing lost."""

    class Meta:
        csrf = False


def error_anchor(field) -> str:
    """The id of the element an error summary link should move to."""
    if isinstance(field, GovDateField):
        return f"{field.id}-{(field.wrong_parts or ('day',))[0]}"
    return field.id


# Accounts ------------------------------------------------------------------------

EMAIL_MESSAGE = "Enter an email address in the correct format, like name@example.org"


def email_field(description: str):
    """A new email address, checked for its shape and length."""
    return StringField("Email address", filters=[strip], widget=GovTextInput(), description=description,
                       validators=[DataRequired("Enter your email address"),
                                   Regexp(EMAIL_PATTERN, message=EMAIL_MESSAGE),
                                   Length(max=320, message="Email address must be 320 characters or fewer")])


class SignInForm(BaseForm):
    email = StringField("Email address", filters=[strip], widget=GovTextInput(),
                        validators=[DataRequired("Enter your email address")])
    password = StringField("Password", widget=GovPasswordInput(),
                           validators=[DataRequired("Enter your password")])
    remember = BooleanField("Keep me signed in on this device for 30 days", widget=GovCheckboxInput())


class RegisterForm(BaseForm):
    email = email_field("We will only use it to sign you in.")
    display_name = StringField("Your name", filters=[strip], widget=GovTextInput(),
                               description="Shown to curators with the stories you submit.",
                               validators=[DataRequired("Enter your name"),
                                           Length(max=200, message="Your name must be 200 characters or fewer")])
    password = StringField("Create a password", widget=GovPasswordInput(),
                           description=f"At least {MIN_PASSWORD_LENGTH} characters. Three random words work well.",
                           validators=[DataRequired("Create a password")])


class ChangePasswordForm(BaseForm):
    current_password = StringField("Current password", widget=GovPasswordInput(),
                                   validators=[DataRequired("Enter your current password")])
    new_password = StringField("New password", widget=GovPasswordInput(),
                               description=f"At least {MIN_PASSWORD_LENGTH} characters. Three random words work well.",
                               validators=[DataRequired("Enter a new password")])
    confirm_password = StringField("Confirm new password", widget=GovPasswordInput(),
                                   validators=[DataRequired("Confirm your new password"),
                                               EqualTo("new_password", "The passwords do not match")])


class PasswordResetRequestForm(BaseForm):
    email = email_field("The address you registered with.")


class PasswordResetForm(BaseForm):
    """The change-password form without the current password (the emailed link stands for it)."""

    new_password = ChangePasswordForm.new_password
    confirm_password = ChangePasswordForm.confirm_password


class RegistrationDomainsForm(BaseForm):
    domains = TextAreaField("Email domains allowed to register", filters=[strip], widget=GovTextArea(),
                            description="Separated by commas or on separate lines, for example *.gov.uk, *.nhs.uk, "
                                        "*.police.uk. *.gov.uk allows any address under gov.uk. Leave empty to let "
                                        "anyone register.",
                            validators=[Length(max=5000, message="The list must be 5,000 characters or fewer")])


class SavedSearchForm(BaseForm):
    name = StringField("Name", filters=[strip], widget=GovTextInput(),
                       description="So you can tell your saved searches apart.",
                       validators=[DataRequired("Enter a name for the search"),
                                   Length(max=200, message="The name must be 200 characters or fewer")])
    frequency = RadioField("How often do you want emails about new stories?", widget=GovRadioInput(),
                           choices=choices(FREQUENCY_LABELS), default="weekly",
                           validators=[DataRequired("Choose how often to get emails")])


class EmailPreferencesForm(BaseForm):
    kinds = SelectMultipleField("Send me an email when", widget=GovCheckboxesInput(), choices=[])

    @classmethod
    def for_kinds(cls, kinds, chosen):
        """The form offering ``kinds`` (``preferences.Kind``), ``chosen`` ticked."""
        form = cls(data={"kinds": list(chosen)})
        form.kinds.choices = [SelectChoice(kind.name, kind.label) for kind in kinds]
        return form


class AccountForm(BaseForm):
    display_name = StringField("Your name", filters=[strip], widget=GovTextInput(),
                               validators=[DataRequired("Enter your name"),
                                           Length(max=200, message="Your name must be 200 characters or fewer")])


def first_errors(form) -> list[dict]:
    """Error summary items for a simple form (no lists of fields)."""
    return [{"text": field.errors[0], "href": f"#{error_anchor(field)}"} for field in form if field.errors]
