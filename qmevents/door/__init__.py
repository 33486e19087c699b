"""Door staff: the scanner page and its no-JavaScript answer page (views.py), the texts of the
scan's answers (answers.py)."""
from . import views  # noqa: F401  (its routes, on bp)
from .blueprint import bp

__all__ = ["bp"]
