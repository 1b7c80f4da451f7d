"""import_users' file readers against their baselines, side by side: rows per second.

    .venv/bin/python bench/import_readers.py                    # 10k, 100k and 1M rows
    .venv/bin/python bench/import_readers.py --sizes 1000,10000

For each size it writes the same users as an indented JSON array and as CSV, then reads them
with import_users' JSON reader (which also tracks each object's line for error messages),
import_users' CSV reader, and the ceiling for JSON, `json.load` (one call, no line numbers).
The JSON reader must stay linear: its time per row may not grow with the size (it grew with the
square of the rows before: 20k rows took 13 s, against 0.12 s since).
"""

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "True")


def users(count):
    return [
        {
            "email": f"user.{i}@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "is_active": True,
        }
        for i in range(count)
    ]


def timed(read, path):
    started = time.perf_counter()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = read(handle)
    return rows, time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="rows, comma list")
    args = parser.parse_args(argv)

    import django

    django.setup()
    from accounts.management.commands.import_users import _read_csv, _read_json

    readers = {
        "import_users JSON": lambda handle: sum(1 for _ in _read_json(handle)),
        "import_users CSV": lambda handle: sum(1 for _ in _read_csv(handle)),
        "json.load (ceiling)": lambda handle: len(json.load(handle)),
    }
    print(f"{'rows':>9}  " + "  ".join(f"{name:>22}" for name in readers))
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            data = users(size)
            paths = {"JSON": Path(folder, "u.json"), "CSV": Path(folder, "u.csv")}
            paths["JSON"].write_text(json.dumps(data, indent=2))
            with paths["CSV"].open("w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(data[0]))
                writer.writeheader()
                writer.writerows(data)
            cells = []
            for name, read in readers.items():
                path = paths["CSV" if "CSV" in name else "JSON"]
                rows, seconds = timed(read, path)
                assert rows == size, (name, rows)
                cells.append(f"{seconds:7.2f} s {size / seconds:>9,.0f}/s")
            print(f"{size:>9,}  " + "  ".join(f"{cell:>22}" for cell in cells))


if __name__ == "__main__":
    main()
