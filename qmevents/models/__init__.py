"""SQLAlchemy models, one module per aggregate."""
from .event import Checkpoint, Event, EventKind, EventStatus, RegistrationMode, Session
from .org import ApiToken, Organisation, OrgKind, Role, StaffAssignment, User
from .reference import SHANGHAI_DISTRICTS, District, ensure_districts

__all__ = [
    "ApiToken", "Checkpoint", "District", "Event", "EventKind", "EventStatus", "OrgKind",
    "Organisation", "RegistrationMode", "Role", "SHANGHAI_DISTRICTS", "Session",
    "StaffAssignment", "User", "ensure_districts",
]
