"""Signing in and out for organisers, staff and admins, and changing one's password (views.py);
throttle.py: one budget of failed sign-ins per account and per address."""
from . import views  # noqa: F401  (its routes, on bp)
from .blueprint import bp

__all__ = ["bp"]
