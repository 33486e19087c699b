"""JSON /api/v1 for door devices and integrations: tokens, events, registrations, applicants,
checkins, the door's ticket list (door_list.py), an event's door team and device pairing (team.py), the OpenAPI document (openapi/). Each module adds its routes to `bp` (blueprint.py)."""
from . import (  # noqa: F401  (their routes, on bp)
    applicants,
    checkins,
    door_list,
    registrations,
    team,
    views,
)
from .blueprint import bp

__all__ = ["bp"]
