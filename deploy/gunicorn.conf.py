"""gunicorn settings for IMS Cadence (`gunicorn -c deploy/gunicorn.conf.py wsgi:app`).

- Logs: gunicorn's own lines leave in the app's format (JSON, or console on a terminal), and
  gunicorn's access log stays off: the app writes one access line per request with the route
  template instead of the raw query string (which would print patients' record numbers).
- Metrics: with PROMETHEUS_MULTIPROC_DIR set (it must be set in the environment before
  gunicorn starts, so every worker inherits it), the master empties that directory of
  metric files before the first worker forks, and a dead worker's live gauges are dropped.
"""

import sys
from pathlib import Path

from gunicorn import glogging
from prometheus_client import multiprocess

from config import Settings
from scheduler import log_setup

_settings = Settings.from_env()
accesslog = None  # the app's access line replaces gunicorn's


class CadenceLogger(glogging.Logger):
    """gunicorn's logger, rendering through the app's one root handler."""

    def setup(self, cfg):  # type: ignore[no-untyped-def]
        super().setup(cfg)
        errorlog = cfg.errorlog
        stream = sys.stderr if errorlog in (None, "-") else open(errorlog, "a", buffering=1)  # noqa: SIM115
        log_setup.configure(_settings.log_level, _settings.log_format, stream)
        self._access_log_enabled = False

    def access(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        return None  # never: it would print the query string


logger_class = CadenceLogger


def on_starting(server):  # type: ignore[no-untyped-def]
    directory = _settings.prometheus_multiproc_dir
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):  # only prometheus_client's files, nothing else
            stale.unlink()


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    if _settings.prometheus_multiproc_dir:
        multiprocess.mark_process_dead(worker.pid, _settings.prometheus_multiproc_dir)
