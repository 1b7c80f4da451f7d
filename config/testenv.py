"""pytest plugin (`-p config.testenv` in pytest.ini), loaded before Django reads its settings.

The test suite runs with production defaults except what a test server over plain http needs.
A developer's `.env` may point elsewhere; these only fill in what is not set.
"""

import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "False")
os.environ.setdefault("SESSION_COOKIE_SECURE", "False")
os.environ.setdefault("CSRF_COOKIE_SECURE", "False")
