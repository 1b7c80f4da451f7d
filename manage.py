#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if sys.argv[1:2] == ["makemigrations"]:
        # It only compares models with migrations: no key is used, no host is served, so it runs
        # on a bare checkout. Every other command refuses a missing SECRET_KEY with DEBUG off.
        os.environ.setdefault("DEBUG", "True")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
