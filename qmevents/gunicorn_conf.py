"""gunicorn settings for production: `gunicorn -c python:qmevents.gunicorn_conf wsgi:app`.

Behind nginx on the same host (docs/DEPLOYMENT.md). Every value can be changed from the
environment, so one file serves every server:

  QMEVENTS_BIND          where to listen                     127.0.0.1:8000
  WEB_CONCURRENCY        worker processes                    2 × CPU cores + 1
  QMEVENTS_THREADS       threads per worker (>1: gthread)    1 (sync workers)
  QMEVENTS_TIMEOUT       seconds before a stuck worker dies  60
  FORWARDED_ALLOW_IPS    proxies trusted for X-Forwarded-*   127.0.0.1,::1
  QMEVENTS_LOG_LEVEL     gunicorn's and the app's log level  info

Decisions:
- **sync workers**: nginx buffers slow phones' uploads and downloads, so a worker is only busy
  while it works: a short transaction on PostgreSQL. One request per process means one
  database connection per worker, which makes PostgreSQL's `max_connections` easy to size
  (servers × workers, plus the notifier's thread), and the CPU-heavy parts (argon2 sign-in,
  QR and PDF drawing) would not run in parallel in threads anyway (the GIL). Set
  QMEVENTS_THREADS=4 for gthread if measurements ever favour it.
- **timeout 60 s**: the slowest honest request is a large PDF or Excel export; nginx's
  `proxy_read_timeout` must be at least as long.
- **no preload**: each worker imports the app itself, so `kill -HUP` (systemctl reload) starts
  workers on newly deployed code without dropping a request, and no database or Redis connection
  is ever shared across a fork. The cost is a second or two at start and some memory.
- **access log off**: the app writes one JSON line per request on `qmevents.request` (with the
  request id, the user, the duration and no personal data), to stdout; gunicorn's own messages
  and the app's errors go to stderr, each line tagged with the request id.
- **max_requests**: workers are replaced now and then (with jitter, never all at once), so a slow
  leak cannot grow for weeks.
- **limits shared by the workers**: with QMEVENTS_ENV=production, more than one worker and rate
  limits counted in memory (no REDIS_URL), each worker checks it at boot (`post_worker_init`,
  where both the app's config and the final worker count are known) and stops gunicorn with the
  reason: each worker would count alone (qmevents.security.check_shared_limits).
"""
from __future__ import annotations

import multiprocessing
import os
import sys


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("QMEVENTS_BIND", "127.0.0.1:8000")
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
threads = _int("QMEVENTS_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("QMEVENTS_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
preload_app = False
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Heartbeats on a RAM disk where there is one (containers mount /tmp on overlayfs, which stalls).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Managed by systemd signals; no control socket shared by two gunicorns of one user.
control_socket_disable = True

accesslog = None
errorlog = "-"
loglevel = os.environ.get("QMEVENTS_LOG_LEVEL", "info")
_level = loglevel.upper()

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "qmevents.requestlog.RequestIdFilter"},
                "no_codes": {"()": "qmevents.requestlog.RedactingFilter"}},
    "formatters": {
        "json_line": {"format": "%(message)s"},
        "text": {"format": "%(asctime)s [%(process)d] %(levelname)s %(name)s "
                           "[%(request_id)s] %(message)s"},
    },
    "handlers": {
        "requests": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                     "formatter": "json_line"},
        "errors": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                   "formatter": "text", "filters": ["request_id", "no_codes"]},
    },
    "loggers": {
        "qmevents.request": {"handlers": ["requests"], "level": "INFO", "propagate": False},
        "qmevents": {"handlers": ["errors"], "level": _level, "propagate": False},
        "gunicorn.error": {"handlers": ["errors"], "level": _level, "propagate": False},
        "flask_limiter": {"handlers": ["errors"], "level": "WARNING", "propagate": False},
    },
    "root": {"handlers": ["errors"], "level": "WARNING"},
}


def post_worker_init(worker) -> None:
    """Stop the whole server, saying why, when the app's rate limits would be counted by each
    worker alone (gunicorn halts when a worker exits with WORKER_BOOT_ERROR, 3, while booting)."""
    from qmevents.security import UnsafeProductionConfig, check_shared_limits

    config = getattr(worker.wsgi, "config", None)
    if config is None:
        return
    try:
        check_shared_limits(config, worker.cfg.workers)
    except UnsafeProductionConfig as refused:
        worker.log.error("%s", refused)
        sys.exit(3)
