"""The back office, for organisers, door staff (looking) and the city's admins: events (views.py),
questions, registrants, applicants and invitations, the lottery, reports and the dashboard,
exports, the campaign summary (digest.py), the outbox, the door team and the organisation's members
(team.py). Each module adds its routes to `bp`
(blueprint.py, with the wrappers over services.access that the pages share)."""
from . import (  # noqa: F401  (their routes, on bp)
    applicants,
    digest,
    exports,
    hotline,
    lottery,
    messages,
    outbox,
    questions,
    registrants,
    reports,
    team,
    views,
)
from .blueprint import bp

__all__ = ["bp"]
