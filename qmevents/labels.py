"""Names people read for the domain's enum values, in their language. One place for all of them:
forms, templates, exports and the API's descriptions use these."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .models import (
    EventKind,
    EventStatus,
    NotificationChannel,
    NotificationKind,
    NotificationStatus,
    QuestionKind,
    RegistrationMode,
    RegistrationStatus,
    Role,
)

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

QUESTION_KIND = {
    QuestionKind.TEXT: _l("Text"),
    QuestionKind.SINGLE: _l("Single choice"),
    QuestionKind.MULTIPLE: _l("Multiple choice"),
    QuestionKind.NUMBER: _l("Number"),
    QuestionKind.ID_CARD: _l("ID-card number (居民身份证)"),
}

NOTIFICATION_KIND = {
    NotificationKind.REGISTRATION_CONFIRMED: _l("Registration confirmed"),
    NotificationKind.REGISTRATION_CANCELLED: _l("Registration cancelled"),
    NotificationKind.ONE_TIME_CODE: _l("One-time code"),
    NotificationKind.REGISTRATION_CODE: _l("Code to register"),
    NotificationKind.WAITLIST_PROMOTED: _l("Promoted from the waiting list"),
    NotificationKind.OFFER_EXPIRED: _l("Offered place expired"),
    NotificationKind.APPLICATION_ADMITTED: _l("Application admitted"),
    NotificationKind.APPLICATION_DECLINED: _l("Application declined"),
    NotificationKind.INVITATION: _l("Invitation"),
    NotificationKind.LOTTERY_WON: _l("Selected in the lottery"),
    NotificationKind.LOTTERY_WAITLISTED: _l("Ranked on the waiting list"),
}

CHANNEL = {
    NotificationChannel.SMS: _l("Text message"),
    NotificationChannel.EMAIL: _l("E-mail"),
}

NOTIFICATION_STATUS = {
    NotificationStatus.PENDING: _l("Waiting to be retried"),
    NotificationStatus.SENT: _l("Sent"),
    NotificationStatus.FAILED: _l("Failed"),
}

# Badge colours (site.css .badge-ok/-warn/-bad) for statuses people should notice.
NOTIFICATION_TONE = {
    NotificationStatus.PENDING: "warn",
    NotificationStatus.SENT: "ok",
    NotificationStatus.FAILED: "bad",
}

ROLE = {
    Role.ADMIN: _l("City administrator"),
    Role.ORGANISER: _l("Organiser"),
    Role.STAFF: _l("Door staff"),
}


def choices(labels: dict) -> list[tuple[str, object]]:
    """WTForms choices from one of the dicts above."""
    return [(key.value, label) for key, label in labels.items()]


# --- the audit log (templates/organiser/audit.html): actions, and the names of their details.
# Unknown actions show as stored; a module that records a new action adds its label here.
AUDIT_ACTION = {
    "admitted": _l("Application admitted"),
    "declined": _l("Application declined"),
    "invited": _l("Invited"),
    "promoted": _l("Promoted from the waiting list"),
    "drew": _l("Lottery drawn"),
    "admission_undone": _l("Admission at the door undone"),
    "registration_cancelled": _l("Registration cancelled by the organiser"),
    "admission_override": _l("Admitted at the door out of hours (override)"),
}

AUDIT_DETAIL = {
    "session_id": _l("Session"),
    "party_size": _l("People"),
    "people": _l("People"),
    "message": _l("Message"),
    "inside": _l("People already inside"),
    "freed": _l("Places freed"),
    "overridden": _l("Door's answer overridden"),
    # the lottery's draw
    "seed": _l("Published seed"),
    "algorithm": _l("Method"),
    "capacity": _l("Places"),
    "applications": _l("Applications"),
    "winners": _l("Drawn"),
    "waiting": _l("Ranked on the waiting list"),
}

# --- the waiting list (services.registrations.waitlist): its audit actions and its messages in the
# --- outbox.
AUDIT_ACTION.update({
    "offer_confirmed": _l("Offered place confirmed"),
    "offer_expired": _l("Offered place not confirmed in time: passed on"),
})
AUDIT_DETAIL.update({
    "offer_expires_at": _l("Deadline to confirm"),
    "status": _l("Status"),
})

# --- a citizen's own change (services.registrations.amend): fewer people or another session.
AUDIT_ACTION.update({
    "registration_changed": _l("Changed by the registrant"),
})
AUDIT_DETAIL.update({
    "people_from": _l("People before"),
    "people_to": _l("People now"),
    "session_from": _l("Session before"),
    "session_to": _l("Session now"),
})
# Who acted, when it was not a staff member (the detail's "by"; None: the system).
AUDIT_BY = {
    "holder": _l("The registrant"),
}

# --- exports (services.exports): the audit entry every download writes.
AUDIT_ACTION.update({
    "export": _l("Exported"),
})
AUDIT_DETAIL.update({
    "what": _l("What"),
    "format": _l("Format"),
    "masked": _l("Phone and ID numbers masked"),
    "purpose": _l("Purpose"),
    "rows": _l("Rows"),
})

# --- the personal data purge (services.purge): its audit entry, one per event.
AUDIT_ACTION.update({
    "purge": _l("Personal data removed"),
})
AUDIT_DETAIL.update({
    "days": _l("Days after the event"),
    "registrations": _l("Registrations anonymised"),
    "answers": _l("Answers deleted"),
    "admissions": _l("Walk-ins anonymised"),
    "messages": _l("Messages deleted"),
})
