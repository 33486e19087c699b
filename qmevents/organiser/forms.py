"""The organiser's event form: event fields, a list of sessions (场次) and the checkpoints, turned
into a services.events.EventDraft. The rules themselves live in services.events.validate; the form
only parses what was typed and puts the service's messages back next to the right field."""
from __future__ import annotations

from datetime import datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from .. import labels
from ..filters import localtime
from ..models import Event, Organisation
from ..services import events, listings
from ..services.registrations import questions as question_rules
from ..timeutil import from_local, to_local
from .checkpoint_text import checkpoint_line, checkpoint_lines, checkpoint_parts

# The first format is what the input shows; the others accept what a browser without a date
# picker (or a person typing) sends.
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
                    "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"]
BAD_DATETIME = _l("Enter a date and time, for example 2025-09-20 14:00.")
BAD_NUMBER = _l("Enter a whole number, for example 30.")


class WhenField(DateTimeLocalField):
    """A Shanghai wall-clock time; a year no event has (0001, 9999) would overflow the
    conversion to UTC, so it is refused as unreadable, with the message that says what to type."""

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not (listings.EARLIEST_YEAR <= self.data.year
                                          <= listings.LATEST_YEAR):
            self.data = None
            raise ValueError(BAD_DATETIME)


def _when(label) -> DateTimeLocalField:
    return WhenField(label, format=DATETIME_FORMATS, validators=[Optional()],
                     invalid_value_message=BAD_DATETIME)


class SessionForm(Form):
    """One row of the sessions list; a plain Form, the outer form carries the CSRF token."""

    id = HiddenField()
    label = StringField(_l("Name of the session (optional)"))
    starts_at = _when(_l("Starts"))
    ends_at = _when(_l("Ends"))
    capacity = IntegerField(_l("Places (people)"), validators=[Optional()],
                            invalid_value_message=BAD_NUMBER)
    registration_opens_at = _when(_l("Registration opens"))
    registration_closes_at = _when(_l("Registration closes"))
    safety_cap = IntegerField(_l("Safety cap of this session (people inside at once)"),
                              validators=[Optional()], invalid_value_message=BAD_NUMBER)
    address = StringField(_l("Address of this session (optional)"))
    location = StringField(_l("Map location (optional)"))
    remove = BooleanField(_l("Remove this session"))

    def is_blank(self) -> bool:
        """A new row nobody typed into: ignored on save rather than reported as errors."""
        typed = [f.raw_data[0] for f in self if f.name != self.remove.name and f.raw_data]
        return not self.id.data and not any(str(v).strip() for v in typed)


class EventForm(FlaskForm):
    organisation = SelectField(_l("Organisation"), coerce=int)  # admins only; removed otherwise
    title = StringField(_l("Title"))
    kind = SelectField(_l("Kind of event"), validate_choice=False)
    district = SelectField(_l("District"), validate_choice=False)
    venue = StringField(_l("Venue"))
    address = StringField(_l("Address"))
    host = StringField(_l("Host and organiser (主办/承办单位)"))
    description = TextAreaField(_l("Description"))
    max_party_size = IntegerField(_l("Largest party per registration"), default=4,
                                  validators=[Optional()], invalid_value_message=BAD_NUMBER)
    registration_mode = SelectField(_l("How places are given out"), validate_choice=False)
    sessions = FieldList(FormField(SessionForm), min_entries=1,
                         max_entries=events.MAX_SESSIONS)
    checkpoints = TextAreaField(_l("Checkpoints"))
    tallies = TextAreaField(_l("Service tallies"))
    allow_reentry = BooleanField(_l("Allow re-entry at the entrance"))
    series_pass = BooleanField(_l("Offer a series pass (one registration for several sessions)"))
    safety_cap = IntegerField(_l("Safety cap (people inside at once)"), validators=[Optional()],
                              invalid_value_message=BAD_NUMBER)
    admission_opens_minutes = IntegerField(
        _l("The door admits tickets from (minutes before the start)"),
        default=events.DEFAULT_ADMISSION_OPENS_MINUTES, validators=[Optional()],
        invalid_value_message=BAD_NUMBER)
    verify_phone = BooleanField(_l("Registrants confirm their phone with a text message code"),
                                default=True)
    send_reminders = BooleanField(_l("Remind registrants by text message the day before"),
                                  default=True)

    def __init__(self, *args, organisations: list[Organisation] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        locale = str(get_locale() or "zh_CN")
        self.kind.choices = labels.choices(labels.KIND)
        self.registration_mode.choices = labels.choices(labels.MODE)
        self.district.choices = [("", _l("Choose a district"))] + [
            (d.name, d.label(locale)) for d in listings.districts()
        ]
        if organisations is None:
            del self.organisation
        else:
            self.organisation.choices = [(o.id, o.name) for o in organisations]
        self.general_errors: list[str] = []  # for the sessions list as a whole

    def validate(self, extra_validators=None) -> bool:
        """What could not be read; rows ticked for removal or left blank do not count."""
        super().validate(extra_validators)
        ignored = {id(row) for row in self._ignored_rows()}
        for entry in self.sessions:
            if id(entry.form) in ignored:
                for f in entry.form:
                    f.errors = []
        return not self.has_errors()

    def has_errors(self) -> bool:
        rows = [entry.form for entry in self.sessions]
        return bool(
            self.general_errors
            or any(f.errors for f in self if f.name != self.sessions.name)
            or any(f.errors for row in rows for f in row)
        )

    def _ignored_rows(self) -> list[SessionForm]:
        return [entry.form for entry in self.sessions
                if entry.form.remove.data or entry.form.is_blank()]

    def add_session_row(self) -> None:
        if len(self.sessions) < events.MAX_SESSIONS:
            self.sessions.append_entry()

    def kept_rows(self) -> list[SessionForm]:
        """The rows that become sessions: not ticked for removal, not left blank."""
        ignored = {id(row) for row in self._ignored_rows()}
        return [entry.form for entry in self.sessions if id(entry.form) not in ignored]

    def to_draft(self) -> tuple[events.EventDraft, list[SessionForm]]:
        """The draft for the service, and which row each of its sessions came from."""
        rows = self.kept_rows()
        checkpoints = [checkpoint_parts(line) for line in checkpoint_lines(self.checkpoints.data)]
        draft = events.EventDraft(
            title=self.title.data or "",
            kind=self.kind.data or "",
            district=self.district.data or "",
            venue=self.venue.data or "",
            address=self.address.data or "",
            description=self.description.data or "",
            host=self.host.data or "",
            max_party_size=self.max_party_size.data,
            registration_mode=self.registration_mode.data or "",
            sessions=[_session_draft(row) for row in rows],
            checkpoints=[c.name for c in checkpoints],
            checkpoint_directions=[c.direction for c in checkpoints],
            checkpoint_addresses=[c.address for c in checkpoints],
            checkpoint_hours=[c.hours for c in checkpoints],
            tallies=checkpoint_lines(self.tallies.data),
            allow_reentry=bool(self.allow_reentry.data),
            verify_phone=bool(self.verify_phone.data),
            send_reminders=bool(self.send_reminders.data),
            series_pass=bool(self.series_pass.data),
            admission_opens_minutes=self.admission_opens_minutes.data,
            safety_cap=self.safety_cap.data,
        )
        return draft, rows

    def show_errors(self, errors: dict[str, str], rows: list[SessionForm]) -> None:
        """Put the service's {path: message} next to the fields they are about. A field that
        already says it could not be read keeps only that message."""
        for path, message in errors.items():
            target = self._field_for(path, rows)
            if target is None:
                self.general_errors.append(message)
            elif not target.errors:
                target.errors = [*target.errors, message]

    def _field_for(self, path: str, rows: list[SessionForm]):
        parts = path.split(".")
        if parts[0] == "sessions" and len(parts) == 3 and parts[1].isdigit():
            index = int(parts[1])
            if index < len(rows) and parts[2] in rows[index]:
                return rows[index][parts[2]]
            return None
        if len(parts) == 1 and parts[0] != "sessions" and parts[0] in self:
            return self[parts[0]]
        return None


def _session_draft(row: SessionForm) -> events.SessionDraft:
    return events.SessionDraft(
        id=_row_id(str(row.id.data or "").strip()),
        label=row.label.data or "",
        starts_at=_utc(row.starts_at.data),
        ends_at=_utc(row.ends_at.data),
        capacity=row.capacity.data,
        registration_opens_at=_utc(row.registration_opens_at.data),
        registration_closes_at=_utc(row.registration_closes_at.data),
        safety_cap=row.safety_cap.data,
        address=row.address.data or "",
        location=row.location.data or "",
    )


def _row_id(raw: str) -> int | None:
    """An id from a hidden field or a link: None when empty, -1 (matches nothing, so the service
    says what is wrong) when it is not a plain number of an id's size, e.g. "²" or 99…9."""
    if not raw:
        return None
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else -1


def _utc(local: datetime | None) -> datetime | None:
    """A time typed on the form is Shanghai wall-clock time."""
    return from_local(local) if local is not None else None


def _local(stored: datetime | None) -> datetime | None:
    return to_local(stored).replace(tzinfo=None) if stored is not None else None


def data_from_event(event: Event) -> dict:
    """What the edit form starts with: the stored event, times in Shanghai."""
    return {
        **event.plain_fields(),
        "sessions": [
            {
                "id": str(s.id),
                "label": s.label,
                "starts_at": _local(s.starts_at),
                "ends_at": _local(s.ends_at),
                "capacity": s.capacity,
                "registration_opens_at": _local(s.registration_opens_at),
                "registration_closes_at": _local(s.registration_closes_at),
                "safety_cap": s.safety_cap,
                "address": s.address,
                "location": s.location,
            }
            for s in event.sessions
        ],
        "checkpoints": "\n".join(checkpoint_line(c.name, c.direction.value, c.address, c.hours)
                                 for c in event.checkpoints),
        "tallies": "\n".join(t.name for t in event.tallies),
    }


# --- the event's own questions, and the registrants' filter (organiser/questions.py,
# --- organiser/registrants.py). The rules live in services.registrations: questions.py and
# --- registrants.py.


class QuestionForm(Form):
    """One row of the questions list; the outer form carries the CSRF token."""

    id = HiddenField()
    label = StringField(_l("Question"))
    kind = SelectField(_l("Kind of answer"), default="text", validate_choice=False)
    required = BooleanField(_l("An answer is required"), default=True)
    show_at_door = BooleanField(_l("Show the answer at the door"), default=False)
    options = TextAreaField(_l("Options, one per line"))
    remove = BooleanField(_l("Remove this question"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = labels.choices(labels.QUESTION_KIND)

    def is_blank(self) -> bool:
        """A new row nobody typed into: ignored on save, not reported as errors."""
        return not self.id.data and not (self.label.data or "").strip() \
            and not (self.options.data or "").strip()


class QuestionsForm(FlaskForm):
    questions = FieldList(FormField(QuestionForm), min_entries=1,
                          max_entries=question_rules.MAX_QUESTIONS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.general_errors: list[str] = []  # about the list as a whole

    def has_errors(self) -> bool:
        return bool(self.general_errors or any(
            f.errors for entry in self.questions for f in entry.form))

    def add_question_row(self, required: bool) -> None:
        if len(self.questions) < question_rules.MAX_QUESTIONS:
            self.questions.append_entry()
            self.questions[-1].form.required.data = required

    def new_rows_required(self, required: bool) -> None:
        """Once people have registered, a new question starts optional (the rule's default)."""
        for entry in self.questions:
            if not entry.form.id.data:
                entry.form.required.data = required

    def kept_rows(self) -> list[QuestionForm]:
        return [entry.form for entry in self.questions
                if not entry.form.remove.data and not entry.form.is_blank()]

    def to_drafts(self) -> tuple[list[question_rules.QuestionDraft], list[QuestionForm]]:
        """The drafts for the service, and the row each came from."""
        rows = self.kept_rows()
        return [_question_draft(row) for row in rows], rows

    def show_errors(self, errors: dict[str, str], rows: list[QuestionForm]) -> None:
        for path, message in errors.items():
            parts = path.split(".")
            target = None
            if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(rows):
                row = rows[int(parts[1])]
                target = row[parts[2]] if parts[2] in row else None
            if target is None:
                self.general_errors.append(message)
            else:
                target.errors = [*target.errors, message]


def option_lines(text: str | None) -> list[str]:
    """One option per line; blank lines are skipped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _question_draft(row: QuestionForm) -> question_rules.QuestionDraft:
    raw = str(row.id.data or "").strip()
    return question_rules.QuestionDraft(
        id=_row_id(raw),
        label=row.label.data or "",
        kind=row.kind.data or "",
        required=bool(row.required.data),
        options=option_lines(row.options.data), show_at_door=bool(row.show_at_door.data),
    )


def data_from_questions(event: Event) -> dict:
    return {"questions": [
        {"id": str(q.id), "label": q.label, "kind": q.kind.value, "required": q.required,
         "options": "\n".join(q.choices), "show_at_door": q.show_at_door}
        for q in event.questions
    ]}


class RegistrantFilterForm(FlaskForm):
    """Session, status and search, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    session = SelectField(_l("Session"), validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False)
    search = StringField(_l("Name, or the phone's last 4 digits"))

    def __init__(self, *args, event: Event, **kwargs):
        super().__init__(*args, **kwargs)
        self.session.choices = [("", _l("All sessions"))] + [
            (str(s.id), f"{localtime(s.starts_at)} {s.label}".strip()) for s in event.sessions
        ]
        self.status.choices = [("", _l("All statuses"))] + labels.choices(
            labels.REGISTRATION_STATUS)

    def session_id(self) -> int | None:
        raw = (self.session.data or "").strip()
        return _row_id(raw)

    def is_filtered(self) -> bool:
        return any((f.data or "").strip() for f in self)

    def add_errors(self, errors: dict[str, str]) -> None:
        fields = {"session_id": self.session, "status": self.status, "search": self.search}
        for name, message in errors.items():
            target = fields.get(name, self.search)
            target.errors = [*target.errors, message]
