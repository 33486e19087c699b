"""The citizens' forms: the filter of the event list (a GET form, so no CSRF token), the
registration for a session and the satisfaction survey after the event."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget, NumberInput

from .. import labels
from ..models import District, Event, Question, QuestionKind
from ..services.identity import MAX_NAME
from ..services.listings import ListingFilter
from ..services.registrations.questions import MAX_TEXT_ANSWER
from ..services.survey import MAX_COMMENT


class ShanghaiDateField(DateField):
    """An <input type="date"> read as a day in Shanghai, with a message that says what to type."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            day = datetime.strptime(valuelist[0].strip(), "%Y-%m-%d").date()
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a date like 2025-09-15.")) from None
        self.data = day  # which years make sense is the service's rule (ListingFilter.errors)


class EventFilterForm(FlaskForm):
    """District, kind and dates. Choice checks live in services.listings.ListingFilter, so the
    selects accept any value here and the service's message is shown next to the field."""

    class Meta:
        csrf = False

    district = SelectField(_l("District"), validate_choice=False)
    kind = SelectField(_l("Kind of event"), validate_choice=False)
    date_from = ShanghaiDateField(_l("From"), validators=[Optional()])
    date_to = ShanghaiDateField(_l("Until"), validators=[Optional()])

    def __init__(self, *args, districts: list[District], locale: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.district.choices = [("", _l("All districts"))] + [
            (d.name, d.label(locale)) for d in districts
        ]
        self.kind.choices = [("", _l("All kinds"))] + labels.choices(labels.KIND)

    def listing_filter(self) -> ListingFilter:
        """What the visitor chose, as the service reads it; fields that did not parse are None."""
        return ListingFilter(
            district=(self.district.data or "").strip() or None,
            kind=(self.kind.data or "").strip() or None,
            date_from=self.date_from.data if isinstance(self.date_from.data, date) else None,
            date_to=self.date_to.data if isinstance(self.date_to.data, date) else None,
        )

    def is_filtered(self) -> bool:
        return any(f.raw_data and f.raw_data[0].strip() for f in self)

    def add_errors(self, errors: dict[str, str]) -> None:
        """Show a service's {field: message} next to the matching field."""
        for name, message in errors.items():
            target = self._fields.get(name) or self.date_to
            if message not in target.errors:
                target.errors = [*target.errors, message]


# --- registering for a session (public.register) --------------------------------------------

# More options than this are a drop-down; fewer are radio buttons, all visible at once.
MAX_RADIO_CHOICES = 6


class RegistrationForm(FlaskForm):
    """Who is coming, how many, and the event's own questions (fields `q_<question id>`).

    No validators here on purpose: every rule is services.registrations.register's, and its message
    is put next to the field by `add_errors`. The fields only carry what was typed back to the
    page."""

    name = StringField(_l("Your name"), render_kw={
        "autocomplete": "name", "maxlength": MAX_NAME, "required": True})
    phone = TelField(_l("Mobile number"), render_kw={
        "inputmode": "numeric", "autocomplete": "tel", "maxlength": 20, "required": True})
    # Shown when the event verifies phones: the code "获取验证码" sent
    # (services.registrations.phone_codes).
    phone_code = StringField(_l("Code from the text message"), render_kw={
        "inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6,
        "pattern": "[0-9０-９]{6}"})
    party_size = SelectField(_l("Number of people"), validate_choice=False)
    consent = BooleanField(_l("I have read the privacy notice and agree to it."),
                           render_kw={"required": True})

    questions: list[tuple[Question, Field]]
    problems: list[str]  # errors that belong to no field

    @classmethod
    def for_event(cls, event: Event, **kwargs) -> RegistrationForm:
        """The form for one event: a field per question, party sizes up to the event's maximum."""
        fields = {f"q_{q.id}": _question_field(q) for q in event.questions}
        form = type("EventRegistrationForm", (cls,), fields)(**kwargs)
        form.party_size.choices = [
            (str(n), ngettext("%(num)d person", "%(num)d people", n))
            for n in range(1, event.max_party_size + 1)
        ]
        form.questions = [(q, form[f"q_{q.id}"]) for q in event.questions]
        for question, f in form.questions:  # set here, not in the field: WTForms 3.1 to 3.3 alike
            if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
                drop_down = type(f) is SelectField  # a drop-down starts with no choice made
                f.choices = [("", _l("Choose…"))] * drop_down + [(c, c) for c in question.choices]
        form.problems = []
        return form

    def answers(self) -> dict[str, object]:
        """{question id: what was sent}: a list for multiple choice, else the text as typed."""
        given: dict[str, object] = {}
        for question, f in self.questions:
            raw = [v for v in (f.raw_data or []) if isinstance(v, str)]
            given[str(question.id)] = raw if question.kind == QuestionKind.MULTIPLE else (
                raw[0] if raw else "")
        return given

    def add_errors(self, errors: dict[str, str]) -> None:
        """The service's {field: message} next to the fields: `answers.7` is field `q_7`."""
        for key, message in errors.items():
            name = "q_" + key.partition(".")[2] if key.startswith("answers.") else key
            target = self._fields.get(name) if name != "csrf_token" else None
            if target is None:
                self.problems.append(message)
            elif message not in target.errors:
                target.errors = [*target.errors, message]


def _question_field(question: Question) -> Field:
    """The input that suits the question's kind; `required` lets the phone say so before sending."""
    label, required = question.label, question.required
    attrs = {"required": True} if required else {}
    if question.kind == QuestionKind.SINGLE:
        if len(question.choices) <= MAX_RADIO_CHOICES:
            return RadioField(label, validate_choice=False, render_kw=attrs)
        return SelectField(label, validate_choice=False, render_kw=attrs)
    if question.kind == QuestionKind.MULTIPLE:  # checkboxes: `required` would demand them all
        return SelectMultipleField(label, validate_choice=False,
                                   widget=ListWidget(prefix_label=False),
                                   option_widget=CheckboxInput())
    if question.kind == QuestionKind.NUMBER:
        return StringField(label, widget=NumberInput(step="any"),
                           render_kw={**attrs, "inputmode": "decimal"})
    if question.kind == QuestionKind.ID_CARD:
        # Not inputmode="numeric": the last character may be X, which number pads lack.
        return StringField(label, render_kw={
            **attrs, "autocomplete": "off", "inputmode": "text", "autocapitalize": "characters",
            "spellcheck": "false", "maxlength": 24})
    return StringField(label, render_kw={**attrs, "maxlength": MAX_TEXT_ANSWER})


# --- the satisfaction survey after the event (public.ticket_survey) --------------------------

# What the come-again radio buttons send, as services.survey stores it.
COME_AGAIN = {"yes": True, "no": False}


class SurveyForm(FlaskForm):
    """Stars, come again, a comment. No validators, like RegistrationForm: services.survey's
    rules, its messages put next to the fields by `add_errors`. The stars are radio buttons the
    template draws as stars (templates/public/survey.html)."""

    stars = RadioField(_l("How satisfied were you with the event?"), validate_choice=False)
    come_again = RadioField(_l("Would you come again?"), validate_choice=False)
    comment = TextAreaField(_l("Anything you would like to tell the organiser? (optional)"),
                            render_kw={"maxlength": MAX_COMMENT, "rows": 4})

    problems: list[str]  # errors that belong to no field

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Set here, not in the fields: WTForms 3.1 to 3.3 alike (as RegistrationForm.for_event).
        self.stars.choices = [(str(n), str(n)) for n in range(1, 6)]
        self.come_again.choices = [("yes", _l("Yes, I would")), ("no", _l("No, I would not"))]
        self.problems = []

    def come_again_value(self) -> object:
        """True, False, None when not answered; anything else as sent, for the service to refuse."""
        raw = self.come_again.data
        return COME_AGAIN.get(raw, raw) if raw not in (None, "", "None") else None

    def add_errors(self, errors: dict[str, str]) -> None:
        """The service's {field: message} next to the fields."""
        for name, message in errors.items():
            target = self._fields.get(name) if name != "csrf_token" else None
            if target is None:
                self.problems.append(message)
            elif message not in target.errors:
                target.errors = [*target.errors, message]
