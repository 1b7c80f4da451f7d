"""What the signing algorithm costs: ES256 and EdDSA (Roster's choices) against HS256 (before).

    .venv/bin/python -m bench.signing          # or: .venv/bin/python bench/run.py --signing

In one process, on an in-memory SQLite database, algorithms interleaved round by round:
- PyJWT alone: sign and verify one access token's claims (microseconds, median);
- Roster's paths: issuing a token pair (login's JWT part), a refresh (rotate_refresh_token),
  `GET users/me/` and a whole `POST auth/token/` with the configured Argon2 hasher (ms, median);
- the keyring: one lookup from the process cache against one read from the database.
HS256 runs through SimpleJWT's own backend keyed with SECRET_KEY, as Roster did before.
"""

import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ALGORITHMS = ("HS256", "ES256", "EdDSA")


def _setup():
    sys.path.insert(0, str(REPO))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="False",
        SECRET_KEY="bench-" + "s" * 60,
        ALLOWED_HOSTS="testserver",
        DATABASE_URL="sqlite://:memory:",
        SECURE_SSL_REDIRECT="False",
        THROTTLE_RATES="anon=1000000000/1s,user=1000000000/1s,login=1000000000/1s",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()
    from django.db import connection

    connection.creation.create_test_db(verbosity=0)


def median_us(function, rounds):
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1e6)
    return statistics.median(samples)


def _raw_costs(claims, sign_key, verify_key, algorithm, settings, rounds):
    import jwt

    token = jwt.encode(claims, sign_key, algorithm=algorithm)
    expected = {"audience": settings.JWT_AUDIENCE, "issuer": settings.JWT_ISSUER}
    return {
        "sign": median_us(lambda: jwt.encode(claims, sign_key, algorithm=algorithm), rounds),
        "verify": median_us(
            lambda: jwt.decode(token, verify_key, algorithms=[algorithm], **expected), rounds
        ),
    }


def measure(rounds=200, logins=8):
    _setup()
    import jwt
    from django.conf import settings
    from django.test import Client
    from rest_framework_simplejwt.backends import TokenBackend
    from rest_framework_simplejwt.tokens import Token

    from accounts.models import User
    from accounts.signing import crypto, services
    from accounts.signing.backends import SigningKeyTokenBackend
    from accounts.signing.keyring import keyring
    from accounts.signing.models import SigningKey
    from accounts.tokens import issue_token_pair, rotate_refresh_token

    password = "a-Long-enough-passw0rd"  # noqa: S105
    user = User.objects.create_user(email="bench@example.com", password=password)
    roster_backend = SigningKeyTokenBackend()
    hs256_backend = TokenBackend(
        "HS256", settings.SECRET_KEY, audience=settings.JWT_AUDIENCE, issuer=settings.JWT_ISSUER
    )
    keys = {}
    for algorithm in ("ES256", "EdDSA"):
        key = services.create_key(algorithm=algorithm)
        keys[algorithm] = key.kid

    def use(algorithm):
        if algorithm == "HS256":
            Token._token_backend = hs256_backend
            return
        Token._token_backend = roster_backend
        SigningKey.objects.update(is_signing=False)
        SigningKey.objects.filter(kid=keys[algorithm]).update(is_signing=True)
        keyring.clear()

    claims = jwt.decode(issue_token_pair(user)["access"], options={"verify_signature": False})
    raw = {}
    for algorithm in ALGORITHMS:
        if algorithm == "HS256":
            sign_key = verify_key = settings.SECRET_KEY
        else:
            row = SigningKey.objects.get(kid=keys[algorithm])
            sign_key = crypto.load_private_key(crypto.decrypt(row.private_key_encrypted))
            verify_key = crypto.load_public_key(row.public_jwk)
        raw[algorithm] = _raw_costs(claims, sign_key, verify_key, algorithm, settings, rounds)

    client = Client()
    samples = {
        algorithm: {"pair": [], "refresh": [], "me": [], "login": []} for algorithm in ALGORITHMS
    }
    for number in range(rounds):
        for algorithm in ALGORITHMS:
            use(algorithm)
            tokens = issue_token_pair(user)
            started = time.perf_counter()
            tokens = issue_token_pair(user)
            samples[algorithm]["pair"].append(time.perf_counter() - started)
            started = time.perf_counter()
            tokens = rotate_refresh_token(tokens["refresh"])
            samples[algorithm]["refresh"].append(time.perf_counter() - started)
            auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access']}"}
            started = time.perf_counter()
            response = client.get("/api/v1/users/me/", **auth)
            samples[algorithm]["me"].append(time.perf_counter() - started)
            assert response.status_code == 200, response.content
            if number < logins:
                body = {"email": user.email, "password": password}
                started = time.perf_counter()
                response = client.post("/api/v1/auth/token/", body, content_type="application/json")
                samples[algorithm]["login"].append(time.perf_counter() - started)
                assert response.status_code == 200, response.content
    paths = {
        algorithm: {name: statistics.median(values) * 1000 for name, values in kinds.items()}
        for algorithm, kinds in samples.items()
    }

    use("ES256")
    keyring.signing_key()
    cached = median_us(keyring.signing_key, rounds)

    def reload():
        keyring.clear()
        keyring.signing_key()

    uncached = median_us(reload, rounds)
    return raw, paths, {"cached": cached, "from the database": uncached}


def report(raw, paths, keyring_costs):
    lines = ["JWT signing cost (medians; HS256 is what Roster used before)", ""]
    lines.append(
        f"{'':<10}{'sign µs':>10}{'verify µs':>11}{'pair ms':>10}{'refresh ms':>12}"
        f"{'me ms':>9}{'login ms':>10}"
    )
    for algorithm in ALGORITHMS:
        r, p = raw[algorithm], paths[algorithm]
        lines.append(
            f"{algorithm:<10}{r['sign']:>10.1f}{r['verify']:>11.1f}{p['pair']:>10.2f}"
            f"{p['refresh']:>12.2f}{p['me']:>9.2f}{p['login']:>10.1f}"
        )
    lines.append("")
    lines.append(
        "Keyring: the signing key from the process cache "
        f"{keyring_costs['cached']:.1f} µs, re-read from the database "
        f"{keyring_costs['from the database']:.0f} µs (once per SIGNING_KEYS_CACHE_SECONDS)."
    )
    return "\n".join(lines)


def main():
    print(report(*measure()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
