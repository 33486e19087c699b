"""The door blueprint: every route module of the package adds its routes to `bp`."""
from flask import Blueprint

bp = Blueprint("door", __name__)
