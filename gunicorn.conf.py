"""gunicorn's settings for the studio's web process, from the environment (gunicorn reads this file from the
working directory by itself: `gunicorn sorastudio.wsgi`).

Videos, posters and zips stream through the web process (see sorastudio/lib/storage.py), each response
holding a thread while it is sent, so the workers are threaded (gthread) with plenty of threads.
"""

import os
import re

from gunicorn.glogging import Logger

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104 - in a container
# gunicorn also reads WEB_CONCURRENCY itself; naming it here keeps the default in one place.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# A request may take this long without a byte of progress before its worker is restarted. Streams send
# something every chunk, so a long video download is not cut off by it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Restart each worker now and then, so a slow leak never grows without end; but not in front of the built-in
# simulator, which keeps its pending callbacks in the web process's timers: a restart would drop them, and
# the jobs would wait for the slow safety read instead.
simulated = os.environ.get("SORA_PROVIDER", "simulator").strip() in ("", "simulator")
max_requests = 0 if simulated else 2000
max_requests_jitter = 0 if simulated else 200
# Workers keep their temporary files in memory rather than on a disk that may be slow or read-only.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
# No control socket (gunicorn 25+ opens one in $HOME by default): nothing here uses it, a read-only container
# has no place for it, and two gunicorns of one user on one machine would fight over the same path.
control_socket_disable = True
# gunicorn has no limit on a request's body: the studio refuses one declaring more than REQUEST_MAX_MB itself
# (studio.middleware.RequestSizeMiddleware), before reading it; gunicorn skips the rest of it.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The path without its query string (%(U)s, not %(r)s or %(q)s), and with the signed tokens of the links
# the upstream fetches clips and reference images by (/clips/<token>, /references/<token>) and the secret of a
# client review link (/review/<secret>/) cut out: each is a bearer permission, which a log must not hand to
# whoever reads it.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
_SIGNED = re.compile(r"^/(clips|references|review)/[^/]+")


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = _SIGNED.sub(r"/\1/…", atoms["U"])
        atoms["r"] = atoms["q"] = "-"
        return atoms


logger_class = RedactingLogger
