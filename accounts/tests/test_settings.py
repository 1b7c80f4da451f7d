"""The settings module as an operator meets it: through real processes with a clean environment."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import dj_database_url
import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = secrets.token_urlsafe(64)


def manage(*args, **env):
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "key",
    [
        None,
        "too-short-key",
        "change-me-to-a-random-string-of-at-least-50-characters",
    ],
    ids=["missing", "short", "placeholder"],
)
def test_debug_off_refuses_a_weak_secret_key_with_one_line(key):
    env = {"DEBUG": "False", "ALLOWED_HOSTS": "example.com"}
    if key is not None:
        env["SECRET_KEY"] = key

    result = manage("check", **env)

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SECRET_KEY" in lines[0]
    assert "Traceback" not in result.stderr


def test_wsgi_entry_point_refuses_a_missing_secret_key_too():
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DEBUG": "False", "ALLOWED_HOSTS": "example.com"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "SECRET_KEY" in result.stderr


def test_makemigrations_check_runs_on_a_bare_checkout_without_a_key():
    result = manage("makemigrations", "--check", "--dry-run")

    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_debug_on_allows_the_development_key():
    result = manage("check", DEBUG="True")

    assert result.returncode == 0, result.stderr


def test_deploy_check_is_clean_with_only_debug_key_and_hosts():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="False",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="roster.example.com",
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_sqlite_in_the_project_is_the_default_database():
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['ENGINE'], d['NAME'])",
        DEBUG="True",
    )

    assert result.returncode == 0, result.stderr
    engine, name = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert name == str(ROOT / "db.sqlite3")


def test_database_url_selects_postgresql_with_a_connect_timeout():
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['ENGINE'], d['NAME'], d['HOST'], d['PORT'], d['CONN_MAX_AGE'], "
        "d['CONN_HEALTH_CHECKS'], d['OPTIONS']['connect_timeout'])",
        DEBUG="True",
        DATABASE_URL="postgres://roster:pw@db.internal:5433/rosterdb",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "rosterdb",
        "db.internal",
        "5433",
        "600",
        "True",
        "3",
    ]


def test_dj_database_url_reads_credentials_from_the_url():
    parsed = dj_database_url.parse("postgres://roster:s3cret@localhost:5432/roster")

    assert (parsed["USER"], parsed["PASSWORD"], parsed["NAME"]) == ("roster", "s3cret", "roster")


@pytest.mark.parametrize("rate", ["10/0m", "ten/minute", "10", "10/fortnight"])
def test_a_throttle_rate_the_throttles_cannot_read_refuses_to_start_with_one_line(rate):
    result = manage("check", DEBUG="True", THROTTLE_RATES=f"login={rate}")

    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"Roster refuses to start: THROTTLE_RATES login: {parse_rate_error(rate)}"
    ]


def parse_rate_error(rate):
    from accounts.ratelimit import parse_rate

    with pytest.raises(ValueError) as caught:
        parse_rate(rate)
    return str(caught.value)


def test_throttle_rates_from_the_environment_merge_over_the_defaults():
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings; r = settings.THROTTLE_RATES;"
        " print(r['login'], r['register'], r['login_failures'])",
        DEBUG="True",
        THROTTLE_RATES="login=100/hour,register=7/hour",
    )

    assert result.stdout.split() == ["100/hour", "7/hour", "10/15m"]


def test_filemail_url_writes_to_an_absolute_folder(tmp_path):
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings; print(settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH)",
        DEBUG="True",
        EMAIL_URL=f"filemail://{tmp_path}",
    )

    assert result.stdout.split() == [
        "django.core.mail.backends.filebased.EmailBackend",
        str(tmp_path),
    ]


PRODUCTION = {"DEBUG": "False", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "roster.example.com"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NUM_PROXIES", "abc"),
        ("NUM_PROXIES", "-1"),
        ("CONN_MAX_AGE", "ten"),
        ("SECURE_HSTS_SECONDS", "x"),
        ("PASSWORD_RESET_TIMEOUT", "-5"),
        ("EMAIL_TIMEOUT", "0"),
        # Dates this far ahead overflow: every email change would answer 500.
        ("PASSWORD_RESET_TIMEOUT", "999999999999"),
        ("EMAIL_CHANGE_REVERT_DAYS", "99999999"),
        ("JWKS_MAX_AGE", "999999999999"),
        ("DATABASE_URL", "garbage"),
        ("DATABASE_URL", "postgres://roster:s3cret@db:port/roster"),
        ("CACHE_URL", "rediss-typo://cache:6379/0"),
        ("EMAIL_URL", "smtp-tls://user:s3cret@mail:587"),
        ("THROTTLE_RATES", "login"),
        ("THROTTLE_RATES", "logins=5/hour"),
        ("ACCESS_TOKEN_LIFETIME", "0m"),
        ("REFRESH_TOKEN_LIFETIME", "99999999999999d"),
        ("REFRESH_TOKEN_LIFETIME", "3000000d"),
        ("REAUTH_WINDOW", "0s"),
        ("LOG_LEVEL", "LOUD"),
        ("LOG_FORMAT", "xml"),
        ("ALLOWED_HOSTS", "https://roster.example.com"),
        ("CSRF_TRUSTED_ORIGINS", "roster.example.com"),
        # A misspelt boolean read as False would silently switch a protection off.
        ("SESSION_COOKIE_SECURE", "ture"),
        ("SECURE_SSL_REDIRECT", "Yes please"),
        ("DEBUG", "maybe"),
    ],
)
def test_a_value_roster_cannot_use_refuses_to_start_with_one_line_naming_it(name, value):
    result = manage("check", **{**PRODUCTION, name: value})

    assert result.returncode == 3, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Roster refuses to start: {name} "), lines[0]
    assert "s3cret" not in lines[0]


@pytest.mark.parametrize(
    ("name", "value"),
    [("SECURE_HSTS_PRELOAD", "off"), ("SECURE_HSTS_PRELOAD", "0"), ("LOG_LEVEL", "warning")],
)
def test_ordinary_spellings_still_start(name, value):
    result = manage("check", **{**PRODUCTION, name: value})

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"SITE_URL": "http://roster.example.com"},
            "SITE_URL 'http://roster.example.com' is http while SECURE_SSL_REDIRECT is on",
        ),
        ({"SITE_URL": "https://elsewhere.example.net"}, "SITE_URL's host 'elsewhere.example.net'"),
        ({"SITE_URL": "roster.example.com"}, "SITE_URL 'roster.example.com' is not an absolute"),
        ({"SITE_URL": "javascript://roster.example.com"}, "SITE_URL 'javascript:"),
        (
            {"SITE_URL": "https://roster.example.com", "WEBAUTHN_RP_ID": "example.net"},
            "WEBAUTHN_RP_ID 'example.net' is not SITE_URL's host",
        ),
        (
            {
                "SITE_URL": "https://roster.example.com",
                "WEBAUTHN_ORIGINS": "https://roster.example.com,https://evilexample.com",
            },
            "WEBAUTHN_ORIGINS holds 'https://evilexample.com'",
        ),
        (
            {"SITE_URL": "https://roster.example.com", "WEBAUTHN_ORIGINS": "roster.example.com"},
            "WEBAUTHN_ORIGINS holds 'roster.example.com'",
        ),
    ],
)
def test_a_site_url_that_would_mail_broken_or_cleartext_links_refuses_to_start(env, message):
    result = manage("check", **{**PRODUCTION, **env})

    assert result.returncode == 3, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Roster refuses to start: {message}"), lines[0]


def test_a_parent_domain_relying_party_and_its_subdomain_origins_start():
    result = manage(
        "check",
        **PRODUCTION,
        SITE_URL="https://roster.example.com",
        WEBAUTHN_RP_ID="example.com",
        WEBAUTHN_ORIGINS="https://roster.example.com,https://login.example.com",
    )

    assert result.returncode == 0, result.stderr


def test_plain_http_site_url_starts_when_the_site_is_plain_http():
    result = manage(
        "check", **PRODUCTION, SITE_URL="http://roster.example.com", SECURE_SSL_REDIRECT="False"
    )

    assert result.returncode == 0, result.stderr


def test_blank_issuer_audience_and_webauthn_lines_mean_the_site_url_defaults():
    # .env.example ships `JWT_ISSUER=` and `JWT_AUDIENCE=` blank: copied as they are, tokens must
    # not carry an empty `iss`/`aud` nor the discovery document an empty issuer.
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; "
        "print(s.JWT_ISSUER, s.JWT_AUDIENCE, s.WEBAUTHN_RP_ID, s.WEBAUTHN_ORIGINS)",
        **PRODUCTION,
        SITE_URL="https://roster.example.com",
        JWT_ISSUER="",
        JWT_AUDIENCE="",
        WEBAUTHN_RP_ID="",
        WEBAUTHN_ORIGINS="",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "https://roster.example.com",
        "https://roster.example.com",
        "roster.example.com",
        "['https://roster.example.com']",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        # Public in this repository: anyone could sign a session or a password reset link.
        (
            {"SECRET_KEY": "django-insecure-roster-development-only-key-never-use-in-production"},
            "SECRET_KEY is a public development key",
        ),
        ({"SECRET_KEY_FALLBACKS": "old"}, "SECRET_KEY_FALLBACKS is shorter than 50 characters"),
        (
            {
                "SECRET_KEY_FALLBACKS": f"{STRONG_KEY}x,"
                "change-me-to-a-random-string-of-at-least-50-characters"
            },
            "SECRET_KEY_FALLBACKS is still the placeholder",
        ),
        ({"MFA_ENCRYPTION_KEY": "secret"}, "MFA_ENCRYPTION_KEY holds a key shorter than 32"),
    ],
)
def test_a_key_anyone_could_know_or_guess_refuses_to_start(env, message):
    result = manage("check", **{**PRODUCTION, **env})

    assert result.returncode == 3, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Roster refuses to start: {message}"), lines[0]


def test_strong_fallbacks_and_mfa_keys_start():
    result = manage(
        "check",
        **PRODUCTION,
        SECRET_KEY_FALLBACKS=secrets.token_urlsafe(64),
        MFA_ENCRYPTION_KEY=f"{secrets.token_urlsafe(32)},{secrets.token_urlsafe(32)}",
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "name", ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "REFRESH_COOKIE_SECURE"]
)
def test_an_https_site_with_a_cookie_not_secure_refuses_to_start(name):
    result = manage("check", **PRODUCTION, **{name: "False"})

    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        f"Roster refuses to start: {name} is off while SECURE_SSL_REDIRECT is on; "
        "the site is https."
    ]


def test_a_plain_http_test_site_may_drop_secure_cookies():
    result = manage(
        "check",
        **PRODUCTION,
        SECURE_SSL_REDIRECT="False",
        SESSION_COOKIE_SECURE="False",
        CSRF_COOKIE_SECURE="False",
    )

    assert result.returncode == 0, result.stderr


def test_trusting_x_forwarded_proto_without_a_declared_proxy_refuses_to_start():
    result = manage("check", **PRODUCTION, SECURE_PROXY_SSL_HEADER="True")

    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "Roster refuses to start: SECURE_PROXY_SSL_HEADER trusts a proxy's X-Forwarded-Proto, "
        "but NUM_PROXIES is 0; set NUM_PROXIES to the proxies in front."
    ]


def test_the_production_example_proxy_settings_start():
    result = manage("check", **PRODUCTION, SECURE_PROXY_SSL_HEADER="True", NUM_PROXIES="1")

    assert result.returncode == 0, result.stderr


def environment_of(command, path):
    result = subprocess.run(
        [*command, str(path)],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.stderr == ""
    return dict(item.split("=", 1) for item in result.stdout.split("\0") if "=" in item)


@pytest.mark.parametrize("example", [".env.example", "deploy/env.production.example"])
def test_the_example_environments_source_in_a_shell_as_django_environ_reads_them(example):
    # RUNBOOK: `set -a; . /etc/roster/env; set +a`. A value the shell cannot parse (an unquoted
    # `Roster <no-reply@...>`) stopped the sourcing there: every later line (NUM_PROXIES,
    # SECURE_PROXY_SSL_HEADER, GUNICORN_BIND, ...) silently fell back to its default.
    path = ROOT / example
    names = [
        line.split("=", 1)[0]
        for line in path.read_text().splitlines()
        if line and not line.startswith("#")
    ]

    sourced = environment_of(["bash", "-c", 'set -a; . "$0"; set +a; env -0'], path)
    read = environment_of(
        [
            sys.executable,
            "-c",
            "import environ, os, sys; environ.Env.read_env(sys.argv[1]); "
            "print('\\0'.join(f'{k}={v}' for k, v in os.environ.items()), end='')",
        ],
        path,
    )

    assert {name: sourced.get(name) for name in names} == {name: read[name] for name in names}


@pytest.mark.parametrize("example", [".env.example", "deploy/env.production.example"])
def test_the_example_environments_start_once_their_placeholder_keys_are_replaced(example):
    from cryptography.fernet import Fernet

    values = environment_of(["bash", "-c", 'set -a; . "$0"; set +a; env -0'], ROOT / example)
    values.pop("PATH", None)
    values.pop("PWD", None)
    values.pop("SHLVL", None)
    values.pop("_", None)

    result = manage(
        "check",
        **{
            **values,
            "SECRET_KEY": STRONG_KEY,
            "JWT_KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        },
    )

    assert result.returncode == 0, result.stderr
