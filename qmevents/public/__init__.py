"""What citizens see: the listing and an event (views.py), registering (register.py), the ticket
pages (tickets.py), finding one's tickets by phone (find.py), the lottery's published draws
(lottery.py). Each module adds its routes to `bp` (blueprint.py)."""
from . import find, lottery, register, tickets, views  # noqa: F401  (their routes, on bp)
from .blueprint import bp

__all__ = ["bp"]
