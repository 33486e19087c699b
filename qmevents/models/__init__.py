"""SQLAlchemy models, one module per aggregate."""
from .event import Checkpoint, Event, EventKind, EventStatus, RegistrationMode, Session
from .notification import (
    Notification,
    NotificationChannel,
    NotificationKind,
    NotificationStatus,
    OneTimeCode,
    OneTimeCodePurpose,
)
from .org import ApiToken, Organisation, OrgKind, Role, StaffAssignment, User
from .reference import SHANGHAI_DISTRICTS, District, ensure_districts
from .registration import (
    HOLDS_PLACES,
    Answer,
    Question,
    QuestionKind,
    Registration,
    RegistrationStatus,
)

__all__ = [
    "HOLDS_PLACES", "Answer", "Question", "QuestionKind", "Registration", "RegistrationStatus",
    "ApiToken", "Checkpoint", "District", "Event", "EventKind", "EventStatus", "OrgKind",
    "Organisation", "RegistrationMode", "Role", "SHANGHAI_DISTRICTS", "Session",
    "StaffAssignment", "User", "ensure_districts",
    "Notification", "NotificationChannel", "NotificationKind", "NotificationStatus",
    "OneTimeCode", "OneTimeCodePurpose",
]
