"""SQLAlchemy models, one module per aggregate."""
from .attendance import Admission, AdmissionKind, AuditEntry, DoorScan, ScanConflict, Tally
from .event import (
    Checkpoint,
    CheckpointDirection,
    Event,
    EventKind,
    EventSession,
    EventStatus,
    RegistrationMode,
)
from .notification import (
    Broadcast,
    Notification,
    NotificationChannel,
    NotificationKind,
    NotificationStatus,
    OneTimeCode,
    OneTimeCodePurpose,
)
from .org import (
    ApiToken,
    DoorDevice,
    Organisation,
    OrgKind,
    Role,
    SignInLink,
    StaffAssignment,
    User,
)
from .reference import SHANGHAI_DISTRICTS, District, ensure_districts
from .registration import (
    ENDED,
    HOLDS_PLACES,
    Answer,
    LotteryDraw,
    Question,
    QuestionKind,
    Registration,
    RegistrationStatus,
    SurveyResponse,
)
from .signin import SignIn

__all__ = [
    "ENDED", "HOLDS_PLACES", "Admission", "AdmissionKind", "Answer", "ApiToken", "AuditEntry",
    "Broadcast", "CheckpointDirection", "DoorDevice", "DoorScan", "ScanConflict", "SignInLink", "SurveyResponse",
    "Checkpoint", "District", "Event", "EventKind", "EventSession", "EventStatus", "LotteryDraw",
    "Notification", "NotificationChannel", "NotificationKind", "NotificationStatus", "OneTimeCode",
    "OneTimeCodePurpose", "OrgKind", "Organisation", "Question", "QuestionKind", "Registration",
    "RegistrationMode", "RegistrationStatus", "Role", "SHANGHAI_DISTRICTS", "SignIn",
    "StaffAssignment", "Tally", "User", "ensure_districts",
]
