"""Names people read for the domain's enum values, in their language. One place for all of them:
forms, templates, exports and the API's descriptions use these."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .models import EventKind, EventStatus, RegistrationMode, RegistrationStatus, Role

KIND = {
    EventKind.OPEN_DAY: _l("Enterprise open day"),
    EventKind.FAMILY_TOUR: _l("Family discovery tour"),
    EventKind.CONSULTATION: _l("Consultation fair"),
    EventKind.LECTURE: _l("Lecture"),
    EventKind.FORUM: _l("Forum"),
    EventKind.DEBATE: _l("Debate"),
    EventKind.OTHER: _l("Other activity"),
}

STATUS = {
    EventStatus.DRAFT: _l("Draft"),
    EventStatus.PUBLISHED: _l("Published"),
    EventStatus.CANCELLED: _l("Cancelled"),
}

MODE = {
    RegistrationMode.FCFS: _l("First come, first served"),
    RegistrationMode.WAITLIST: _l("First come, with a waiting list"),
    RegistrationMode.APPROVAL: _l("By application and approval"),
    RegistrationMode.LOTTERY: _l("By lottery"),
}

REGISTRATION_STATUS = {
    RegistrationStatus.CONFIRMED: _l("Confirmed"),
    RegistrationStatus.WAITLISTED: _l("On the waiting list"),
    RegistrationStatus.OFFERED: _l("Place offered: please confirm"),
    RegistrationStatus.APPLIED: _l("Applied: awaiting a decision"),
    RegistrationStatus.DECLINED: _l("Not approved"),
    RegistrationStatus.NOT_SELECTED: _l("Not drawn in the lottery"),
    RegistrationStatus.CANCELLED: _l("Cancelled"),
}

ROLE = {
    Role.ADMIN: _l("City administrator"),
    Role.ORGANISER: _l("Organiser"),
    Role.STAFF: _l("Door staff"),
}


def choices(labels: dict) -> list[tuple[str, object]]:
    """WTForms choices from one of the dicts above."""
    return [(key.value, label) for key, label in labels.items()]
