"""JSON /api/v1 for door devices and integrations: tokens, events, registrations, applicants,
checkins, an event's door team and device pairing (team.py), the OpenAPI document (openapi/). Each module adds its routes to `bp` (blueprint.py)."""
from . import applicants, checkins, registrations, team, views  # noqa: F401  (their routes, on bp)
from .blueprint import bp

__all__ = ["bp"]
