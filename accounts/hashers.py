from django.contrib.auth.hashers import Argon2PasswordHasher


class RosterArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id at RFC 9106's second recommended ("low memory") profile.

    t=3 passes over m=64 MiB with p=4 lanes: strong against GPU cracking, yet a login costs about
    115 ms of one core here; argon2-cffi releases the GIL meanwhile, so a gthread worker's other
    threads go on serving, and the login throttles bound how many hashes a client can ask for.
    """

    time_cost = 3
    memory_cost = 65536
    parallelism = 4
