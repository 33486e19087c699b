"""Door staff: the scanner page and its no-JavaScript answer page (views.py), the texts of the
scan's answers (answers.py), a phone's pairing as a door device (pairing.py)."""
from . import app, pairing, views  # noqa: F401  (their routes, on bp)
from .blueprint import bp

__all__ = ["bp"]
