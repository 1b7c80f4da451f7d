from django.contrib.auth.hashers import Argon2PasswordHasher


class RosterArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id at RFC 9106's second recommended ("low memory") profile.

    t=3 passes over m=64 MiB with p=4 lanes: strong against GPU cracking, yet a login costs tens of
    milliseconds, so a 2-core box still serves the rest of the API while logins are throttled.
    """

    time_cost = 3
    memory_cost = 65536
    parallelism = 4
