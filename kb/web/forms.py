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

from kb.services.alerts import FREQUENCY_LABELS
from kb.services.story_input import EMAIL_PATTERN
from kb.services.users import MIN_PASSWORD_LENGTH


def strip(value):
    return value.strip() if isinstance(value, str) else value


def choices(mapping: dict, blank: str | None = None) -> list[SelectChoice]:
    items = [SelectChoice("", blank)] if blank is not None else []
    return items + [SelectChoice(value, label) for value, label in mapping.items()]


# Fields ------------------------------------------------------------------------

class GovDateField(Field):
    """A GOV.UK date input (day, month, year, all named after the field) that may be
    left empty. Its messages follow the GOV.UK date input pattern."""

    widget = GovDateInput()

    def __init__(self, label=None, validators=None, *, noun: str = "Date", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.noun = noun

    def process_formdata(self, valuelist):
        # Always three parts, so the widget can draw what was typed (even if a
        # POST left some out).
        parts = [str(v).strip() for v in (valuelist or [])][:3]
        self.raw_data = parts + [""] * (3 - len(parts))
        self.data = None
        day, month, year = self.raw_data
        if not (day or month or year):
            return
        missing = [name for name, value in zip(("day", "month", "year"), self.raw_data) if not value]
        if missing:
            raise ValueError(f"{self.noun} must include a {' and a '.join(missing)}")
        try:
            numbers = [int(day), int(month), int(year)]
        except ValueError:
            raise ValueError(f"{self.noun} must be a real date") from None
        if not 1000 <= numbers[2] <= 9999 or not 1 <= numbers[1] <= 12:
            raise ValueError(f"{self.noun} must be a real date")
        if not 1 <= numbers[0] <= calendar.monthrange(numbers[2], numbers[1])[1]:
            raise ValueError(f"{self.noun} must be a real date")
        self.data = date(numbers[2], numbers[1], numbers[0])

    def pre_validate(self, form):
        if self.data and self.data > date.today():
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
        return f"{field.id}-day"
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
