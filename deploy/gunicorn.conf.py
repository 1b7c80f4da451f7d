"""gunicorn settings for one Roster app server: `gunicorn -c deploy/gunicorn.conf.py config.wsgi`.

Every app server is identical and stateless: PostgreSQL holds the data, Redis the throttle counts,
so scaling out is starting this on another host and adding it to nginx's upstream. The knobs an
operator turns are environment variables, so one file serves every host.
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

# Private address only: nginx is the one way in (NUM_PROXIES=1 trusts its X-Forwarded-For).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Chosen by measurement (bench/gunicorn_shapes.sh, README "Performance"): GET users/me/ alone is
# about as fast with 2 sync workers as with 2 gthread workers x 4 threads (~1,150 req/s here), but
# beside nonstop logins sync workers fall to ~27 req/s (each Argon2 hash holds a whole worker)
# while gthread keeps ~150 req/s with a p99 of ~120 ms: argon2-cffi releases the GIL, so the other
# threads go on serving. 4 workers x 2 threads served less alone. Each thread keeps its own
# persistent database connection, so PostgreSQL's max_connections must exceed
# (app servers x workers x threads) + admin sessions.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", 4))

# A worker silent this long is killed and replaced; Roster answers 503 within ~3 s when PostgreSQL
# is down (connect_timeout), so this only catches real hangs.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
# nginx opens a fresh connection per request (no upstream keepalive), so idle ones can go fast.
keepalive = 2

# Recycling workers is off by default: the soak test shows memory stays flat without it.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 0))
max_requests_jitter = max_requests // 10

# Bodies over 1 MB are refused by nginx; these bound what reaches Python if someone bypasses it.
limit_request_line = 8190
limit_request_fields = 100

# Logs to stderr, collected by systemd/journald (or the test's log file).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms'


class RosterLogger(Logger):
    """gunicorn's logger, writing the path of an emailed link (password reset, verification,
    email change) without its token: whoever reads the access log must not get a usable link."""

    def atoms(self, resp, req, environ, request_time):
        # Imported here: gunicorn puts the project on sys.path after reading this file.
        from accounts.logsafe import redact_link_tokens

        atoms = super().atoms(resp, req, environ, request_time)
        return {
            name: redact_link_tokens(value) if isinstance(value, str) else value
            for name, value in atoms.items()
        }


logger_class = RosterLogger
proc_name = "roster"
