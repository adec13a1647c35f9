"""Composition root: settings from the environment -> logging, then the WSGI app."""

from app_factory import build_app
from config import Settings
from scheduler import log_setup

settings = Settings.from_env()
if not log_setup.configured():  # under gunicorn the master did (deploy/gunicorn.conf.py)
    log_setup.configure(settings.log_level, settings.log_format)
app = build_app(settings)
