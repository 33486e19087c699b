"""What gunicorn and `flask --app wsgi` load."""
from qmevents import create_app

app = create_app()
