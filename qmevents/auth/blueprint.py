"""The auth blueprint: every route module of the package adds its routes to `bp`."""
from flask import Blueprint

bp = Blueprint("auth", __name__)
