"""Roster's own settings with the benchmark's URL map added: nothing else changes behaviour."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
