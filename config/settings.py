"""Roster's one settings module.

Everything comes from the environment (or `.env` at the project root) through one `environ.Env`.
Production defaults are the safe ones; development conveniences only switch on with `DEBUG=True`.
`.env.example` documents every variable.
"""

import re
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import csp.constants
import dj_database_url
import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _refuse_to_start(reason):
    """Stop every entry point (manage.py, WSGI, ASGI) with one clear line instead of a traceback."""
    sys.stderr.write(f"Roster refuses to start: {reason}\n")
    # 3 is gunicorn's "worker failed to boot" code: the arbiter stops instead of respawning.
    raise SystemExit(3)


class _Env(environ.Env):
    """django-environ, strict: a value it cannot read refuses to start with one line naming the
    variable (never a traceback), and a boolean must be spelled as one: `SESSION_COOKIE_SECURE=ture`
    would otherwise silently read as False."""

    TRUE = ("true", "on", "ok", "y", "yes", "1")
    FALSE = ("false", "off", "no", "n", "0", "")

    def get_value(self, var, *args, **kwargs):
        try:
            return super().get_value(var, *args, **kwargs)
        except (ValueError, TypeError, ImproperlyConfigured) as exc:
            _refuse_to_start(f"{var} cannot be read: {exc}")

    def bool(self, var, default=environ.Env.NOTSET):
        value = self.get_value(var, cast=str, default=default)
        if isinstance(value, bool):
            return value
        if value.strip().lower() in self.TRUE:
            return True
        if value.strip().lower() in self.FALSE:
            return False
        _refuse_to_start(f"{var} must be True or False, not {value!r}.")

    def int(self, var, default=environ.Env.NOTSET, *, minimum=None, maximum=None):
        value = super().int(var, default=default)
        if minimum is not None and value < minimum:
            _refuse_to_start(f"{var} must be at least {minimum}, not {value}.")
        if maximum is not None and value > maximum:
            # A date this far ahead is past the calendar's end: every request using it would 500.
            _refuse_to_start(f"{var} must be at most {maximum}, not {value}.")
        return value

    def parsed_url(self, var, parse, *args, **kwargs):
        try:
            return parse(*args, **kwargs)
        except (ValueError, TypeError, KeyError, ImproperlyConfigured) as exc:
            # The exception names the scheme or the part at fault, never the URL's password.
            _refuse_to_start(f"{var} is not a URL Roster can use: {exc}")

    def cache_url(self, var, default=environ.Env.NOTSET, backend=None):
        return self.parsed_url(var, super().cache_url, var, default=default, backend=backend)

    def email_url(self, var, default=environ.Env.NOTSET, backend=None):
        return self.parsed_url(var, super().email_url, var, default=default, backend=backend)


env = _Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

# --- Secret key -------------------------------------------------------------------------------

SECRET_KEY_PLACEHOLDER = "change-me-to-a-random-string-of-at-least-50-characters"  # noqa: S105
DEVELOPMENT_SECRET_KEY = "django-insecure-roster-development-only-key-never-use-in-production"  # noqa: S105


def _check_secret_key(name, key):
    """With DEBUG off, a key anyone can know (the placeholder, the development key in this
    repository, any `django-insecure` key) or guess (short) would let them forge sessions and
    password reset links: refuse it, as SECRET_KEY or as one of its fallbacks alike."""
    if not key:
        _refuse_to_start(f"{name} is not set (DEBUG is off); set it in the environment or .env.")
    elif key == SECRET_KEY_PLACEHOLDER:
        _refuse_to_start(f"{name} is still the placeholder from .env.example; generate a real one.")
    elif key.startswith("django-insecure"):
        _refuse_to_start(f"{name} is a public development key; generate a real one.")
    elif len(key) < 50:
        _refuse_to_start(f"{name} is shorter than 50 characters; generate a longer one.")


SECRET_KEY = env.str("SECRET_KEY", default="")
# Old keys still accepted for sessions and emailed links while rotating (JWTs never use SECRET_KEY).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
if not DEBUG:
    _check_secret_key("SECRET_KEY", SECRET_KEY)
    for _fallback in SECRET_KEY_FALLBACKS:
        _check_secret_key("SECRET_KEY_FALLBACKS", _fallback)
elif not SECRET_KEY:
    SECRET_KEY = DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    _refuse_to_start("ALLOWED_HOSTS is not set (DEBUG is off); give a comma list of host names.")
for _host in ALLOWED_HOSTS:
    if "/" in _host or not _host.strip():
        # `https://roster.example.com` never matches a Host header: every request would answer 400.
        _refuse_to_start(f"ALLOWED_HOSTS holds {_host!r}; give host names only, no scheme or path.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
for _origin in CSRF_TRUSTED_ORIGINS:
    # Django checks this only in `manage.py check`, which gunicorn never runs.
    if urlsplit(_origin).scheme not in ("http", "https") or not urlsplit(_origin).netloc:
        _refuse_to_start(
            f"CSRF_TRUSTED_ORIGINS holds {_origin!r}; give origins with their scheme, "
            "https://roster.example.com."
        )

# --- Applications -----------------------------------------------------------------------------

INSTALLED_APPS = [
    "accounts.apps.RosterAdminConfig",  # django.contrib.admin with a throttled login
    # Before django.contrib.auth: its `changepassword` command is Roster's (through the services).
    "accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "accounts.mfa",
    "accounts.usersessions",
    "accounts.signing",
    "accounts.audit",  # issue 15: security events
    "accounts.emailchange",  # issue 15: the email change flow
    "accounts.webhooks",  # issue 15: signed deliveries of security events
    "users_api",
    # Background work (issue 11): the task queue's table and Roster's tasks.
    "django_tasks",
    "django_tasks_db",
    "accounts.background",
]

MIDDLEWARE = [
    "config.request_id.RequestIdMiddleware",  # first: every response and log line has the id
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Signs out a browser whose session was ended elsewhere (accounts.usersessions).
    "accounts.usersessions.browser.SessionCheckMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Hardening: a Content-Security-Policy on every response, no-store on the API's personal data.
    "csp.middleware.CSPMiddleware",
    "config.middleware.NoStoreAPIMiddleware",
    # Django's 405 as a problem for JSON clients, like every other error.
    "config.middleware.NotAllowedProblemMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------

DATABASES = {
    "default": env.parsed_url(
        "DATABASE_URL",
        dj_database_url.parse,
        env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env.int("CONN_MAX_AGE", default=600, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An unreachable database must answer 503 within seconds, never hang a worker: connecting
    # gives up after 3 s, and a connection whose server stopped acknowledging dies after 10 s.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"connect_timeout": 3, "tcp_user_timeout": 10_000, "keepalives": 1}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (throttle counts live here, shared by every app process when it is Redis) ----------

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # A dead Redis must fail fast so throttling can degrade instead of hanging requests.
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    )

# --- Email --------------------------------------------------------------------------------------

vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
if EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend":  # noqa: F821
    # filemail:///var/mail/roster names an absolute folder; django-environ drops the leading slash.
    EMAIL_FILE_PATH = "/" + EMAIL_FILE_PATH.lstrip("/")  # noqa: F821
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Roster <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")
_site = urlsplit(SITE_URL)
if _site.scheme not in ("http", "https") or not _site.hostname:
    _refuse_to_start(f"SITE_URL {SITE_URL!r} is not an absolute http or https URL.")
# A slow or silent mail server fails a send after this many seconds (the worker retries it).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10, minimum=1)

# --- Background work (accounts/background) --------------------------------------------------------

# Tasks are rows of the database queue, written in the transaction of the change that causes them
# and run by `manage.py db_worker`. TASKS_IN_PROCESS runs each task at once inside the process
# instead (no worker, no retries): the default with DEBUG on SQLite, so `make run` needs no more.
TASKS_IN_PROCESS = env.bool(
    "TASKS_IN_PROCESS",
    default=DEBUG and DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3",
)
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"
        if TASKS_IN_PROCESS
        else "django_tasks_db.DatabaseBackend",
    }
}

# --- Authentication -----------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBackend"]
# Email is unique ignoring case through a functional unique index, which this check cannot see.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
LOGIN_URL = "/api-auth/login/"
LOGIN_REDIRECT_URL = "/api/v1/users/me/"

# Argon2id at RFC 9106's "low memory" profile (t=3, m=64 MiB, p=4): about 115 ms per hash on this
# 2-core machine (bench/run.py). PBKDF2 stays listed: older hashes verify and upgrade on login.
PASSWORD_HASHERS = [
    "accounts.hashers.RosterArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.passwords.MaximumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Reset and verification links expire after a day; both are single-use by construction.
PASSWORD_RESET_TIMEOUT = env.int(
    "PASSWORD_RESET_TIMEOUT", default=60 * 60 * 24, minimum=1, maximum=365 * 86400
)
# Webhook endpoints on private, loopback or link-local addresses are refused unless this is on.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=False)
# How long the old address's "this was not me" link of an email change works.
EMAIL_CHANGE_REVERT_DAYS = env.int("EMAIL_CHANGE_REVERT_DAYS", default=14, minimum=1, maximum=365)

# --- Security -----------------------------------------------------------------------------------

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# The refresh token's cookie (`"refresh_in_cookie": true` at login) is Secure like the session's.
REFRESH_COOKIE_SECURE = env.bool("REFRESH_COOKIE_SECURE", default=SESSION_COOKIE_SECURE)
if not DEBUG and SECURE_SSL_REDIRECT:
    # An https site whose session, CSRF or refresh-token cookie lacks Secure hands it to anyone on
    # the network who makes the browser request one http:// URL (Django's deploy check only warns,
    # and gunicorn never runs it; the refresh cookie it does not know at all).
    for _name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "REFRESH_COOKIE_SECURE"):
        if not vars()[_name]:
            _refuse_to_start(f"{_name} is off while SECURE_SSL_REDIRECT is on; the site is https.")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# SITE_URL is where every emailed link points (password reset, verification, email change). A site
# served over https (SECURE_SSL_REDIRECT) with an http SITE_URL mails links whose first request,
# token in the path, crosses the network in clear before the redirect; a host ALLOWED_HOSTS does
# not list makes every link answer 400.
if not DEBUG and env.str("SITE_URL", default=""):
    if SECURE_SSL_REDIRECT and _site.scheme != "https":
        _refuse_to_start(
            f"SITE_URL {SITE_URL!r} is http while SECURE_SSL_REDIRECT is on; use https:// "
            "(emailed links carry tokens)."
        )
    from django.http.request import validate_host

    if not validate_host(_site.hostname, ALLOWED_HOSTS):
        _refuse_to_start(f"SITE_URL's host {_site.hostname!r} is not in ALLOWED_HOSTS.")

# Content-Security-Policy (django-csp) on every response: scripts only from Roster itself or with
# this response's nonce; no framing, no plugins, no <base>, forms post only to Roster. Styles may be
# inline: the admin, the browsable API, Swagger UI and ReDoc all set style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.constants.SELF],
        "script-src": [csp.constants.SELF, csp.constants.NONCE],
        "style-src": [csp.constants.SELF, csp.constants.UNSAFE_INLINE],
        "img-src": [csp.constants.SELF, "data:"],
        "font-src": [csp.constants.SELF, "data:"],
        "connect-src": [csp.constants.SELF],
        "object-src": [csp.constants.NONE],
        "base-uri": [csp.constants.NONE],
        "form-action": [csp.constants.SELF],
        "frame-ancestors": [csp.constants.NONE],
    }
}
# Cross-Origin-Opener-Policy on every response, the docs included (SecurityMiddleware sends it).
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# How many reverse proxies sit in front; the throttles take the client IP from the socket when 0.
NUM_PROXIES = env.int("NUM_PROXIES", default=0, minimum=0)
# X-Forwarded-Proto is only as trustworthy as the proxy that sets it: with none declared, any client
# could send `X-Forwarded-Proto: https` over plain http and be served as if on https (no redirect).
if NUM_PROXIES == 0 and hasattr(sys.modules[__name__], "SECURE_PROXY_SSL_HEADER"):
    _refuse_to_start(
        "SECURE_PROXY_SSL_HEADER trusts a proxy's X-Forwarded-Proto, but NUM_PROXIES is 0; "
        "set NUM_PROXIES to the proxies in front."
    )

# --- Internationalisation, static files ---------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Django REST framework, SimpleJWT, drf-spectacular ------------------------------------------


MAX_DURATION = timedelta(days=365)


def _duration(name, default):
    """Read `30s`, `5m`, `12h` or `1d` from the variable `name` into a timedelta: more than zero
    (a zero lifetime or window makes every token or login stale at once) and at most a year (a
    lifetime past the calendar's end would fail every login with a 500)."""
    value = env.str(name, default=default)
    match = re.fullmatch(r"\s*(\d{1,9})\s*([smhd])\s*", value)
    if not match:
        _refuse_to_start(f"{name} {value!r} is not a number followed by s, m, h or d.")
    number, unit = int(match[1]), match[2]
    duration = timedelta(seconds=number * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit])
    if not timedelta(0) < duration <= MAX_DURATION:
        _refuse_to_start(f"{name} {value!r} must be more than 0 and at most 365d.")
    return duration


DEFAULT_THROTTLE_RATES = {
    "anon": "1000/hour",
    "user": "10000/hour",
    "login": "60/minute",
    "login_failures": "10/15m",
    "register": "20/hour",
    "register_email": "5/hour",
    "password_reset": "10/hour",
    "password_reset_email": "3/hour",
    "email_resend": "5/hour",
    "email_change": "5/hour",
    "email_change_email": "3/hour",
}
THROTTLE_RATES = {**DEFAULT_THROTTLE_RATES, **env.dict("THROTTLE_RATES", default={})}


def _check_rates(rates):
    """A rate the throttles cannot read would answer 500 to every request it limits: refuse it."""
    from accounts.ratelimit import parse_rate  # reads no setting at import

    for scope, rate in rates.items():
        if scope not in DEFAULT_THROTTLE_RATES:
            # A misspelt scope (`logins=5/hour`) would leave the real one at its default, silently.
            _refuse_to_start(
                f"THROTTLE_RATES {scope}: no such scope; the scopes are "
                f"{', '.join(DEFAULT_THROTTLE_RATES)}."
            )
        try:
            parse_rate(rate)
        except (TypeError, ValueError) as exc:
            _refuse_to_start(f"THROTTLE_RATES {scope}: {exc}")


_check_rates(THROTTLE_RATES)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # JWT first: its `WWW-Authenticate: Bearer` makes unauthenticated requests answer 401.
        # SimpleJWT's, refusing a token whose session (`sid`) has ended.
        "users_api.authentication.SessionJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # JSON in, and only JSON: one body type per operation for generated clients (the browsable
    # API's raw-data form sends JSON too; README "Generated clients"), bounded in depth, size,
    # strings and numbers (users_api/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["users_api.parsers.StrictJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "users_api.throttles.AnonThrottle",
        "users_api.throttles.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    "NUM_PROXIES": NUM_PROXIES,
    # OPTIONS describes only what the caller may send (the policy's read-only fields).
    "DEFAULT_METADATA_CLASS": "users_api.metadata.PolicyMetadata",
    "DEFAULT_PAGINATION_CLASS": "users_api.pagination.UserPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "users_api.schema.RosterAutoSchema",
    "EXCEPTION_HANDLER": "config.exceptions.problem_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": _duration("ACCESS_TOKEN_LIFETIME", "5m"),
    "REFRESH_TOKEN_LIFETIME": _duration("REFRESH_TOKEN_LIFETIME", "1d"),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Signed by accounts.signing's keys (ES256/EdDSA, with kid), never by SECRET_KEY.
    "ALGORITHM": "ES256",
    "SIGNING_KEY": None,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # Tokens carry a digest of the password hash: a password change or reset kills them all.
    "CHECK_REVOKE_TOKEN": True,
}

# --- Signing keys and JWKS (accounts.signing) ---------------------------------------------------

# Tokens name their issuer and audience; services verifying them check both.
# Blank (as .env.example ships them) means the default, never an empty `iss` or `aud`.
JWT_ISSUER = env.str("JWT_ISSUER", default="") or SITE_URL
JWT_AUDIENCE = env.str("JWT_AUDIENCE", default="") or SITE_URL
# Algorithm of keys created without --algorithm (the first one included): ES256 or EdDSA.
JWT_SIGNING_ALGORITHM = env.str("JWT_SIGNING_ALGORITHM", default="ES256")
if JWT_SIGNING_ALGORITHM not in ("ES256", "EdDSA"):
    _refuse_to_start("JWT_SIGNING_ALGORITHM must be ES256 or EdDSA.")
# Fernet keys encrypting the private keys in the database (comma list: the first encrypts, all
# decrypt). Unset: derived from SECRET_KEY and SECRET_KEY_FALLBACKS (README, "Signing keys").
JWT_KEY_ENCRYPTION_KEYS = env.list("JWT_KEY_ENCRYPTION_KEYS", default=[])
for _key in JWT_KEY_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        _refuse_to_start(
            "JWT_KEY_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes); see .env.example."
        )
# Cache-Control max-age of /.well-known/jwks.json; a new key is published this long (plus the key
# cache) before it signs.
JWKS_MAX_AGE = env.int("JWKS_MAX_AGE", default=300, minimum=0, maximum=7 * 86400)
# How long each process keeps the keys it read from the database.
SIGNING_KEYS_CACHE_SECONDS = env.int(
    "SIGNING_KEYS_CACHE_SECONDS", default=5, minimum=0, maximum=7 * 86400
)

SPECTACULAR_SETTINGS = {
    "TITLE": "Roster API",
    "DESCRIPTION": "Users and authentication: registration, JWT login, verification, password "
    "flows and user administration. Every error is RFC 9457 problem details.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Enum components named for generated clients (drf-spectacular would say `KindEnum`).
    "ENUM_NAME_OVERRIDES": {
        "SessionKindEnum": "accounts.usersessions.models.UserSession.Kind",
        "SecurityEventTypeEnum": "accounts.audit.models.EventType",  # issue 15
    },
}

# --- Second factors and passkeys (accounts.mfa, accounts.reauth) -------------------------------

# Sensitive changes need a login or reauthentication this recent (DESIGN.md, "recent auth").
REAUTH_WINDOW = _duration("REAUTH_WINDOW", "10m")
# Keys encrypting TOTP secrets at rest (comma list: the first encrypts, all decrypt). Unset, they
# are derived from SECRET_KEY and SECRET_KEY_FALLBACKS (accounts/mfa/crypto.py).
MFA_ENCRYPTION_KEY = env.list("MFA_ENCRYPTION_KEY", default=[])
# Stretched with HKDF, not with a slow hash: a short one could be guessed from a database dump.
if any(len(_key) < 32 for _key in MFA_ENCRYPTION_KEY):
    _refuse_to_start("MFA_ENCRYPTION_KEY holds a key shorter than 32 characters; generate one.")
# WebAuthn: the relying party id (the site's domain) and the origins passkeys may be used from.
WEBAUTHN_RP_ID = env.str("WEBAUTHN_RP_ID", default="") or _site.hostname
WEBAUTHN_RP_NAME = env.str("WEBAUTHN_RP_NAME", default="Roster")
WEBAUTHN_ORIGINS = env.list("WEBAUTHN_ORIGINS", default=[]) or [SITE_URL]


def _within(host, domain):
    return host == domain or host.endswith(f".{domain}")


# Browsers only use a passkey on an origin inside its relying party's domain: any other pairing
# fails every passkey registration and login, which would otherwise surface only then.
if not DEBUG:
    if not _within(_site.hostname, WEBAUTHN_RP_ID):
        _refuse_to_start(
            f"WEBAUTHN_RP_ID {WEBAUTHN_RP_ID!r} is not SITE_URL's host {_site.hostname!r} "
            "nor a domain above it."
        )
    for _origin in WEBAUTHN_ORIGINS:
        _parts = urlsplit(_origin)
        if _parts.scheme not in ("http", "https") or not _within(
            _parts.hostname or "", WEBAUTHN_RP_ID
        ):
            _refuse_to_start(
                f"WEBAUTHN_ORIGINS holds {_origin!r}, not an origin within WEBAUTHN_RP_ID "
                f"{WEBAUTHN_RP_ID!r}."
            )

# --- Logging: to stderr, never a secret ---------------------------------------------------------

# LOG_FORMAT=json: one JSON object per line (production's default), with the request id.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in ("plain", "json"):
    _refuse_to_start(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    _refuse_to_start(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}."
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "config.request_id.RequestIdFilter"},
        # An emailed link's token never reaches a log line (a reader could use the link).
        "link_tokens": {"()": "config.log_filters.RedactLinkTokensFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id", "link_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
