"""Composition root: settings from the environment -> the WSGI app."""

from api import create_app
from config import Settings

app = create_app(Settings.from_env())
