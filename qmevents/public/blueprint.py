"""The citizens' blueprint: no sign-in, Chinese first, a phone's screen first."""
from flask import Blueprint

bp = Blueprint("public", __name__)
