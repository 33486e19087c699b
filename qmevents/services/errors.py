"""Domain errors carry a message for people; blueprints turn them into a flash, a form error or
an API status."""
from __future__ import annotations


class DomainError(Exception):
    """A rule said no. `code` is the stable name the API returns."""

    code = "error"

    def __init__(self, message: str | None = None):
        super().__init__(str(message) if message is not None else self.code)
        self.message = message if message is not None else self.code


class ValidationFailed(DomainError):
    """Field-level problems: {field: message}. Field names follow the API's JSON paths
    (`title`, `sessions.0.ends_at`)."""

    code = "invalid"

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class NotFound(DomainError):
    """Unknown, or not yours: the two look the same so nothing leaks."""

    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class InvalidTransition(DomainError):
    """An event cannot move to that status from where it is."""

    code = "invalid_transition"


class RegistrationRefused(DomainError):
    """A registration was not taken; `code` is what the API returns in its 409."""


class SessionFull(RegistrationRefused):
    code = "full"

    def __init__(self, message: str, places_left: int = 0):
        super().__init__(message)
        self.places_left = places_left


class RegistrationClosed(RegistrationRefused):
    code = "closed"


class DuplicateRegistration(RegistrationRefused):
    code = "duplicate"
