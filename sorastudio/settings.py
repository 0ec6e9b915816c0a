"""Sora Studio settings: everything comes from the environment, with defaults that run offline.

Each helper below fails loudly (ImproperlyConfigured) on a value it cannot read, so a typo in a deployment
stops the process at start-up instead of surfacing later as odd behaviour.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

# Django's generic classes accept the type arguments django-stubs gives them (ModelAdmin[Generation]).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str, default: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None:
    """Comma-separated addresses or networks (``10.0.0.0/8``); None for ``*``, any address."""
    items = env_list(name, [default])
    if "*" in items:
        return None
    try:
        return [ipaddress.ip_network(item, strict=False) for item in items]
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must list addresses or networks, or be *: {exc}") from None


def env_rates(name: str, kinds: tuple[str, ...]) -> dict[str, float]:
    """`kind=rate,kind=rate`: each kind one of `kinds`, each rate a probability between 0 and 1."""
    rates: dict[str, float] = {}
    for item in env_list(name, []):
        kind, sep, raw = item.partition("=")
        kind = kind.strip()
        if not sep or kind not in kinds:
            raise ImproperlyConfigured(f"{name}: {item!r} is not kind=rate with a kind among {list(kinds)}")
        try:
            rate = float(raw)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: the rate of {kind} must be a number, not {raw!r}") from None
        if not 0.0 <= rate <= 1.0:
            raise ImproperlyConfigured(f"{name}: the rate of {kind} must be between 0 and 1, not {rate}")
        rates[kind] = rate
    return rates


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {sorted(choices)}, not {value!r}")
    return value


_RATE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def env_rate_limit(name: str, default: str = "") -> tuple[int, int] | None:
    """A rate such as ``30/10m`` (30 in any 10 minutes; units s, m, h, d) as (count, seconds); None when
    empty or ``off``."""
    raw = env_str(name, default) or default
    if raw.lower() in {"", "off"}:
        return None
    match = re.fullmatch(r"(\d+)\s*/\s*(\d*)\s*([smhd])", raw.lower())
    if not match or int(match[1]) < 1 or match[2] == "0":
        raise ImproperlyConfigured(
            f"{name} must look like 30/10m (a number, then a period in s, m, h or d), or off; not {raw!r}"
        )
    return int(match[1]), int(match[2] or 1) * _RATE_UNITS[match[3]]


# --- Core -------------------------------------------------------------------------------------------------

# Off unless asked for: Django's debug pages list the URLs and the settings to whoever meets an error.
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
# A studio answering to loopback names only is reachable from this machine alone (`make run`): it may keep
# its own generated secret key and be served over plain HTTP. Naming any other host makes it a deployment.
LOOPBACK_ONLY = all(host.strip("[]") in {"127.0.0.1", "localhost", "::1"} for host in ALLOWED_HOSTS)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def installation_secret_key(data_dir: Path) -> str:
    """This installation's own key, made once and kept in DATA_DIR (readable by its owner only), so that a
    local run needs no SECRET_KEY and its web and worker processes, which share DATA_DIR, agree on it."""
    path = data_dir / "secret_key"
    if not path.exists():
        try:
            _write_secret_key(path)
        except PermissionError:
            raise ImproperlyConfigured(
                f"SECRET_KEY is not set and {path} cannot be written: set one"
            ) from None
    key = path.read_text().strip()
    if len(key) < 50:
        raise ImproperlyConfigured(f"{path} holds no usable secret key: delete it to make a new one")
    return key


def _write_secret_key(path: Path) -> None:
    draft = path.with_name(f".secret_key.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_urlsafe(50))
    try:
        os.link(draft, path)  # fails if another process made it first: theirs is kept
    except FileExistsError:
        pass
    finally:
        draft.unlink()


SECRET_KEY = env_str("SECRET_KEY") or (installation_secret_key(DATA_DIR) if LOOPBACK_ONLY or DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set when ALLOWED_HOSTS names a host beyond this machine "
        "(only a studio on 127.0.0.1, localhost or [::1] makes its own, in DATA_DIR)"
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_q",
    "axes",
    "sorastudio.teams",
    "sorastudio.studio",
    "sorastudio.billing",
    "sorastudio.pipeline",
    "sorastudio.simulator",
]

MIDDLEWARE = [
    "sorastudio.lib.security.ContentSecurityPolicyMiddleware",
    "sorastudio.pipeline.middleware.HealthCheckMiddleware",
    # Before anything reads the body (CSRF's check reads the form).
    "sorastudio.studio.middleware.RequestSizeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (which answers static files itself) and before anything that reads the body.
    "sorastudio.studio.middleware.PageGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sorastudio.teams.middleware.HtmxLoginRedirectMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "sorastudio.teams.middleware.CurrentTeamMiddleware",
    # Last: it turns a login refused for too many failures into the lockout page (accounts.locked_out).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sorastudio.urls"
WSGI_APPLICATION = "sorastudio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sorastudio.studio.context_processors.studio",
            ],
        },
    },
]

# Each process keeps the HTML of the gallery's finished cards (studio_tags.gallery_card, about 4 KB each)
# and of its filters ({% cache %}): a fragment's key changes with anything it shows, so nothing needs to be
# shared between processes or cleared.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "template_fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "template_fragments",
        "TIMEOUT": 3600,
        "OPTIONS": {"MAX_ENTRIES": 3000},
    },
}

# --- Database ---------------------------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'studio.sqlite3'}"
try:
    _database = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0))
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL cannot be read: {exc}") from None
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # Without WAL, IMMEDIATE transactions and a long busy timeout, the web process and several queue
    # workers writing at once fail with "database is locked" instead of waiting their turn.
    _database["CONN_MAX_AGE"] = 0
    _database["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    _database["TEST"] = {"NAME": str(DATA_DIR / "test-studio.sqlite3")}
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "studio:index"
# Whether someone logged in who belongs to no team is given one of their own (as its admin), with no limits
# on the studio's upstream account. Off: they see "You are not in a team yet" until an admin invites them,
# so someone removed from their team cannot go on generating. The first account of an empty installation
# gets its own team either way.
PERSONAL_TEAMS = env_bool("PERSONAL_TEAMS", False)
LOGOUT_REDIRECT_URL = "login"

# Failed logins are counted per username and address (django-axes, in the database, so every web process
# agrees): after LOGIN_FAILURE_LIMIT of them that pair is refused, even with the right password, until
# LOGIN_LOCKOUT_MINUTES pass without another try. A login that succeeds clears the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("LOGIN_LOCKOUT", True)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Only failures are kept (and pruned once their cool-off is over): no log of every login's address and
# browser, which would grow without end and hold personal data nobody reads.
AXES_DISABLE_ACCESS_LOG = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_CLIENT_IP_CALLABLE = "sorastudio.teams.accounts.client_ip"
AXES_LOCKOUT_CALLABLE = "sorastudio.teams.accounts.locked_out"
# Proxies whose X-Forwarded-For is believed when they are the peer: the same variable gunicorn reads for
# X-Forwarded-Proto (gunicorn.conf.py). `*` believes whichever peer, but only its own last hop.
FORWARDED_ALLOW_IPS = env_networks("FORWARDED_ALLOW_IPS", "127.0.0.1")

# --- Internationalisation ---------------------------------------------------------------------------------

LANGUAGE_CODE = "en"
# The studio speaks English and Simplified Chinese (as the upstream vendor's own documents do); the browser's
# language picks one, and the switcher in the header overrides it.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "sorastudio" / "locale"]
# One way to write a day in each language, on every page (sorastudio/formats).
FORMAT_MODULE_PATH = ["sorastudio.formats"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files and media -------------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# WhiteNoise warns about a missing folder; a read-only image has its files collected already.
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = DATA_DIR / "media"
# Media is never served by URL: every video and poster goes through an authenticated view.
MEDIA_URL = "/media-not-public/"
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "sorastudio.lib.storage.StaticFiles"
        )
    },
}
# Until collectstatic has run (`make run` and the image run it) WhiteNoise serves the source folders.
WHITENOISE_USE_FINDERS = DEBUG or not (STATIC_ROOT / "staticfiles.json").exists()
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The largest request body the studio reads: the most one form may carry (4 reference images of 10 MB and a
# character clip of 50 MB, with its fields) and some room. A body declaring more is refused before a byte of
# it is read (studio.middleware.RequestSizeMiddleware: gunicorn sets no limit of its own); Django reads no
# more than the declared length, and nothing of a body that declares none. Django's own limit on a body's
# form fields is the same number.
REQUEST_MAX_MB = env_int("REQUEST_MAX_MB", 100, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_MB * 1024 * 1024

# Media on an S3-compatible store (AWS S3, MinIO, Ceph…) when a bucket is named; the local disk otherwise.
# Objects stay private (the bucket's own default; no ACL is sent, since buckets with ACLs disabled refuse
# one) and are never linked to directly: every read goes through the studio's views (see lib/storage.py).
S3_BUCKET = env_str("S3_BUCKET") or env_str("AWS_STORAGE_BUCKET_NAME")
AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL")
AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME")
AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID")
AWS_SECRET_ACCESS_KEY = env_str("AWS_SECRET_ACCESS_KEY")
AWS_S3_ADDRESSING_STYLE = env_choice("AWS_S3_ADDRESSING_STYLE", "auto", {"auto", "path", "virtual"})
AWS_LOCATION = env_str("AWS_LOCATION").strip("/")
if S3_BUCKET:
    if not (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY):
        raise ImproperlyConfigured("S3_BUCKET needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    if AWS_S3_ENDPOINT_URL and not re.match(r"https?://[^/]+", AWS_S3_ENDPOINT_URL):
        shown = re.sub(r"//[^/@]*@", "//…@", AWS_S3_ENDPOINT_URL)  # never echo a password written in it
        raise ImproperlyConfigured(
            f"AWS_S3_ENDPOINT_URL must be an http(s) address such as http://minio:9000, not {shown!r}"
        )
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": AWS_S3_ENDPOINT_URL or None,
            "region_name": AWS_S3_REGION_NAME or None,
            "access_key": AWS_ACCESS_KEY_ID,
            "secret_key": AWS_SECRET_ACCESS_KEY,
            "addressing_style": None if AWS_S3_ADDRESSING_STYLE == "auto" else AWS_S3_ADDRESSING_STYLE,
            "location": AWS_LOCATION,
            "default_acl": None,
            # Should anything ask for a URL, it is a signed one that expires in five minutes, never a
            # plain public link.
            "querystring_auth": True,
            "querystring_expire": 300,
            # Names are chosen by the studio; an upload never silently replaces another file.
            "file_overwrite": False,
            # django-storages' S3File reads a whole object into memory by default; past this it spools to
            # disk (the studio's own reads are streamed, see lib/storage.py).
            "max_memory_size": FILE_UPLOAD_MAX_MEMORY_SIZE,
        },
    }
elif AWS_S3_ENDPOINT_URL or env_str("AWS_S3_ADDRESSING_STYLE") or AWS_LOCATION:
    raise ImproperlyConfigured(
        "AWS_S3_ENDPOINT_URL, AWS_S3_ADDRESSING_STYLE or AWS_LOCATION is set but S3_BUCKET is not: "
        "name the bucket to keep media on S3, or remove them"
    )

# --- Security ---------------------------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
# Passwords inside URL-valued settings (DATABASE_URL, REDIS_URL…) are masked on Django's error report too,
# should it be shown (DEBUG) or mailed.
DEFAULT_EXCEPTION_REPORTER = "sorastudio.lib.security.SafeExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "sorastudio.lib.security.SafeReporterFilter"
CSRF_FAILURE_VIEW = "sorastudio.studio.views.csrf_failure"
CSRF_COOKIE_HTTPONLY = False  # htmx reads nothing from it: the token is put on <body> by the template
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Sent on every response by lib.security.ContentSecurityPolicyMiddleware (Django 5.2 has no CSP).
# Scripts and style sheets only from the studio's own files: no inline <script>, no event-handler attributes,
# no eval (htmx's eval and its injected indicator <style> are switched off in base.html). Style attributes
# stay allowed (`style-src-attr`): the comment marks under the player are placed with one. Media also from
# any https address, since a creator previews a character clip at the address they typed before sending it.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: https:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Behind a TLS proxy unless this is a development run or a studio on loopback only (`make run`), which a
# browser reaches over plain http://127.0.0.1 and whose cookies must therefore not be marked secure.
if env_bool("HTTPS", not (DEBUG or LOOPBACK_ONLY)):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers and the container health check ask over plain HTTP from inside, as do the queue
    # workers calling the built-in simulator at the web container's internal address (when it is mounted).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^simulator/"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 3600, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading binds the whole registered domain (and every subdomain) to HTTPS in browsers for good: a
    # decision for the domain's owner, not for one studio on it. Until it is taken, check --deploy's
    # reminder about it (W021) is silenced rather than left to drown real warnings.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# --- Providers --------------------------------------------------------------------------------------------

# "simulator" (offline, both APIs), or the real providers: acedata, sora2api, or both (comma-separated).
SORA_PROVIDER = env_str("SORA_PROVIDER", "simulator") or "simulator"
REAL_PROVIDERS = [] if SORA_PROVIDER == "simulator" else env_list("SORA_PROVIDER", [])
if set(REAL_PROVIDERS) - {"acedata", "sora2api"}:
    raise ImproperlyConfigured(
        "SORA_PROVIDER must be simulator, or acedata and/or sora2api (comma-separated), "
        f"not {SORA_PROVIDER!r}"
    )
ACEDATA_API_KEY = env_str("ACEDATA_API_KEY")
ACEDATA_BASE_URL = env_str("ACEDATA_BASE_URL", "https://api.acedata.cloud").rstrip("/")
SORA2API_API_KEY = env_str("SORA2API_API_KEY")
SORA2API_BASE_URL = env_str("SORA2API_BASE_URL", "https://api.sora2api.ai").rstrip("/")
SORA2API_PATH_PREFIX = "/" + env_str("SORA2API_PATH_PREFIX", "/api/v1/sora2").strip("/")
for _provider, _key in (("acedata", ACEDATA_API_KEY), ("sora2api", SORA2API_API_KEY)):
    if _provider in REAL_PROVIDERS and not _key:
        raise ImproperlyConfigured(f"SORA_PROVIDER={_provider} needs {_provider.upper()}_API_KEY")
# The address at which the upstream (or the simulator) can reach this studio; with it, jobs ask for callbacks.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL").rstrip("/")
# Where the studio reaches its own simulator. It is the studio's own address by default.
SIMULATOR_BASE_URL = env_str("SIMULATOR_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
SIMULATOR_SECONDS = env_float("SIMULATOR_SECONDS", 20.0, minimum=0.0)
# The simulator's endpoints take no real credentials, so they are only mounted when something uses them.
SIMULATOR_ENABLED = env_bool("SIMULATOR_ENABLED", SORA_PROVIDER == "simulator")
UPSTREAM_TIMEOUT = env_float("UPSTREAM_TIMEOUT", 30.0, minimum=1.0)
# The bearer the simulator accepts, and the one the studio's own clients send it. Unset, it is derived from
# SECRET_KEY: every process of one installation (web, workers, on any host) agrees on it without sharing a
# file, and no two installations share one. It changes with SECRET_KEY, as everything signed does.
SIMULATOR_API_KEY = (
    env_str("SIMULATOR_API_KEY")
    or hmac.new(SECRET_KEY.encode(), b"sorastudio simulator api key", hashlib.sha256).hexdigest()
)
# The simulator holds a web thread for its blocking and streaming answers only this many at once (per web
# process) and this long; beyond that it answers at once. A hold outlasts the client's own time-out a little.
SIMULATOR_MAX_HOLDS = env_int("SIMULATOR_MAX_HOLDS", 4, minimum=1)
SIMULATOR_HOLD_SECONDS = env_float("SIMULATOR_HOLD_SECONDS", UPSTREAM_TIMEOUT + 5, minimum=0.0)
# Videos the simulator encodes at once (per web process); further downloads of new renders wait for a hold
# slot, or are told to come back (503 with Retry-After), which clients retry.
SIMULATOR_MAX_RENDERS = env_int("SIMULATOR_MAX_RENDERS", 2, minimum=1)
# Fault injection for the soak test (sorastudio/simulator/faults.py): off unless named.
SIMULATOR_FAULT_KINDS = (
    "429",
    "500",
    "timeout",
    "malformed",
    "duplicate_callback",
    "late_callback",
    "forged_callback",
    "missing_callback",
    "expired_link",
)
SIMULATOR_FAULTS = env_rates("SIMULATOR_FAULTS", SIMULATOR_FAULT_KINDS)

# --- Pipeline ---------------------------------------------------------------------------------------------

POLL_INTERVAL = env_float("POLL_INTERVAL", 5.0, minimum=0.5)
POLL_BATCH_SIZE = env_int("POLL_BATCH_SIZE", 100, minimum=1)
# With callbacks (PUBLIC_BASE_URL set) a callback wakes the follower, and the regular status read is only a
# safety net for lost callbacks: jobs running for longer than this are read this often.
CALLBACK_POLL_INTERVAL = env_float("CALLBACK_POLL_INTERVAL", 120.0, minimum=1.0)
GENERATION_TIMEOUT = env_int("GENERATION_TIMEOUT", 30 * 60, minimum=60)
# How long a job may sit in `submitting` before its worker is taken for dead (see tasks.py).
SUBMIT_STALE_AFTER = env_int("SUBMIT_STALE_AFTER", 600, minimum=10)
SUBMIT_MAX_ATTEMPTS = env_int("SUBMIT_MAX_ATTEMPTS", 6, minimum=1)
ARCHIVE_MAX_ATTEMPTS = env_int("ARCHIVE_MAX_ATTEMPTS", 5, minimum=1)
# Jobs one person may ask for in a sliding window, across all their teams and every web process (counted
# from the database): three full submits of the form (20 jobs each) in ten minutes by default; "off" for none.
# The `generate` command, a local admin tool, is exempt.
SUBMIT_RATE_LIMIT = env_rate_limit("SUBMIT_RATE_LIMIT", "60/10m")

REDIS_URL = env_str("REDIS_URL")
Q_TIMEOUT = env_int("Q_TIMEOUT", 240, minimum=10)
Q_CLUSTER: dict[str, object] = {
    # The queue's name, and the prefix of its keys in Redis: two studios (or two test runs) sharing one
    # Redis need one each. django-q2 reads this variable too; naming the cluster after it keeps both agreed.
    "name": env_str("Q_CLUSTER_NAME") or "sorastudio",
    "workers": env_int("Q_WORKERS", 4, minimum=1),
    "timeout": Q_TIMEOUT,
    # A task whose worker died is handed out again after `retry` seconds; it must exceed `timeout`
    # or a slow but healthy task would run twice at once.
    "retry": Q_TIMEOUT + 60,
    "max_attempts": 3,
    "ack_failures": True,
    "save_limit": 500,
    "catch_up": False,
    "label": "Queue",
    "sync": env_bool("Q_SYNC", False),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
# A finished video's download (see sorastudio/upstream/downloads.py): a size cap, and a total time that ends
# the archive task before the queue's own time-out kills it.
DOWNLOAD_MAX_MB = env_int("DOWNLOAD_MAX_MB", 2048, minimum=1)
DOWNLOAD_TIMEOUT = env_float("DOWNLOAD_TIMEOUT", max(Q_TIMEOUT - 30, Q_TIMEOUT / 2), minimum=1.0)

# --- Email ----------------------------------------------------------------------------------------------
# Notifications are mailed only when an SMTP server is named; without one they stay in the studio's bell.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true: choose one.")
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Sora Studio <studio@localhost>")

# --- Logging ----------------------------------------------------------------------------------------------

LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"})
Q_LOG_LEVEL = env_choice("Q_LOG_LEVEL", "INFO" if DEBUG else "WARNING", {"DEBUG", "INFO", "WARNING", "ERROR"})
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"mask_credentials": {"()": "sorastudio.lib.security.MaskCredentials"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_credentials"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # httpx logs full request lines at INFO; keep them out so URLs with signatures stay out of logs.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # The queue's routine steps (INFO) only when asked for; its failures are WARNING and ERROR.
        "django-q": {"level": Q_LOG_LEVEL},
        # Its start-up banner and routine steps are INFO; repeated failures and lockouts are WARNING.
        "axes": {"level": "WARNING"},
    },
}
