"""Roster's benchmark: Roster against its own baselines, side by side in one run, on PostgreSQL.

    .venv/bin/python bench/run.py                      # 10k, 100k and 1M users (about 40 minutes)
    .venv/bin/python bench/run.py --sizes 10000,100000 --duration 10s
    .venv/bin/python bench/run.py --smoke              # 2,000 users, 3 s per run: proves it works

For each size: a fresh database `<name>_<size>` (`--reuse` keeps one already seeded at that size),
migrate, `manage.py seed_users`, one staff account, VACUUM ANALYZE; then gunicorn with
deploy/gunicorn.conf.py and DJANGO_SETTINGS_MODULE=bench.settings (Roster plus the baselines of
bench/baselines.py), and `wrk` against every scenario, one after another. It prints one table
(req/s, p50, p99, Roster's ratio to the raw ceiling and to the naive DRF baseline), the checks of
issue 6's targets, the Argon2 cost, the search's query plan and the workers' memory, and writes the
same as Markdown to bench/results/<timestamp>.md.

Exit status: 1 when the harness could not measure something (a scenario answered an error, a
step failed); 0 otherwise, even when a target fails, unless `--strict`.
"""

import argparse
import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import redis
from psycopg2 import sql

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
GUNICORN_CONF = REPO / "deploy" / "gunicorn.conf.py"
SEED_COMMAND = REPO / "accounts" / "management" / "commands" / "seed_users.py"
HOST = "127.0.0.1"
STAFF_EMAIL = "bench-staff@example.com"
# The throttles stay on (their cost is part of Roster's), with limits no run can reach.
THROTTLE_RATES = "anon=1000000000/1s,user=1000000000/1s,login=1000000000/1s"

LIST = "/api/v1/users/?page_size=50"
NAIVE = "/bench/naive/users/"
RAW = "/bench/raw/users/"
# Below this many users PostgreSQL rightly prefers scanning the whole table to any index.
INDEX_CHECKED_FROM = 100_000
# Issue 6 sets the ratios to the naive baseline at a million users.
NAIVE_CHECKED_FROM = 1_000_000
# Fewer completed requests than this in a run: run it longer, and count by Little's law.
MIN_REQUESTS = 20
TOKEN = "/api/v1/auth/token/"  # noqa: S105 - a path


def log(message):
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


class HarnessError(Exception):
    """Something the benchmark needs did not work: the run cannot be trusted."""


# --- Command line -------------------------------------------------------------------------------


def seconds(text):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(s|m)?", text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 15s or 2m")
    return float(match[1]) * (60 if match[2] == "m" else 1)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,1000000", help="users, comma list")
    parser.add_argument("--duration", type=seconds, default=15.0, help="each wrk run (15s)")
    parser.add_argument("--warmup", type=seconds, default=2.0, help="unmeasured run before each")
    parser.add_argument("--connections", type=int, default=16, help="wrk -c (16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t (2)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every scenario this many times, interleaved; "
        "the table shows the medians (use 3 on a busy machine)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/roster_bench"
        ),
        help="PostgreSQL URL; each size gets its own database <name>_<size>",
    )
    parser.add_argument(
        "--cache-url",
        default=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13"),
        help="Redis for the throttle counts: a database of its own, flushed before and after",
    )
    parser.add_argument("--reuse", action="store_true", help="keep a database seeded before")
    parser.add_argument("--keep", action="store_true", help="leave the databases afterwards")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    parser.add_argument("--smoke", action="store_true", help="2,000 users, 3 s runs (CI)")
    parser.add_argument(
        "--signing",
        action="store_true",
        help="only the JWT signing cost: ES256 and EdDSA against HS256 (bench/signing.py)",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.duration, args.warmup = "2000", 3.0, 1.0
    args.sizes = [int(size) for size in args.sizes.split(",")]
    if min(args.sizes) < 200:
        parser.error("--sizes: at least 200 users, so a deep page exists")
    args.threads = max(1, min(args.threads, args.connections))
    return args


# --- Database -----------------------------------------------------------------------------------


def database_url(base, size):
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{size}"))


def _connect(url, dbname=None):
    parts = urlsplit(url)
    connection = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname=dbname or parts.path.lstrip("/"),
        connect_timeout=5,
    )
    connection.autocommit = True
    return connection


def seeded_users(url):
    """Rows in the users table, or None when the database or the table is missing."""
    try:
        connection = _connect(url)
    except psycopg2.OperationalError:
        return None
    with contextlib.closing(connection), connection.cursor() as cursor:
        try:
            cursor.execute("SELECT count(*) FROM accounts_user")
        except psycopg2.Error:
            return None
        return cursor.fetchone()[0]


def recreate_database(url, *, drop_only=False):
    name = urlsplit(url).path.lstrip("/")
    connection = _connect(url, dbname="postgres")
    with contextlib.closing(connection), connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if not drop_only:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def vacuum_analyze(url):
    with contextlib.closing(_connect(url)) as connection, connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('accounts_user'))")
        return cursor.fetchone()[0]


# --- Django and gunicorn processes --------------------------------------------------------------


def django_env(url, secret_key, cache_url):
    """Production settings (DEBUG off) over plain http on 127.0.0.1, throttles out of reach."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=str(REPO),
        DATABASE_URL=url,
        DEBUG="False",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="False",
        SESSION_COOKIE_SECURE="False",
        CSRF_COOKIE_SECURE="False",
        THROTTLE_RATES=THROTTLE_RATES,
        CACHE_URL=cache_url,
        ACCESS_TOKEN_LIFETIME="1h",  # noqa: S106 - a lifetime, not a password
        EMAIL_URL="consolemail://",
        LOG_LEVEL="WARNING",
    )
    return env


def run_python(env, *arguments, what):
    """Run `python <arguments>` in the project; its last stdout line, parsed as JSON if it is."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, *arguments], cwd=REPO, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise HarnessError(f"{what} failed:\n{result.stdout[-2000:]}{result.stderr[-4000:]}")
    log(f"{what}: {time.monotonic() - started:.1f} s")
    lines = result.stdout.strip().splitlines()
    with contextlib.suppress(IndexError, ValueError):
        return json.loads(lines[-1])
    return None


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def request(port, method, path, *, token=None, body=None, timeout=120):
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        body = json.dumps(body)
        headers["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    try:
        return response.status, json.loads(data or b"null")
    except ValueError:
        return response.status, data[:200]


class Gunicorn:
    """Roster under gunicorn as deployed (deploy/gunicorn.conf.py), on a free local port."""

    def __init__(self, env, log_path):
        self.env, self.log_path, self.port, self.process = env, log_path, free_port(), None

    def __enter__(self):
        command = [str(Path(sys.executable).with_name("gunicorn"))]
        if GUNICORN_CONF.is_file():
            command += ["-c", str(GUNICORN_CONF)]
        else:
            command += ["--workers", "2"]
        command += ["--bind", f"{HOST}:{self.port}", "config.wsgi"]
        self.log_file = open(self.log_path, "w")
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"gunicorn exited at start; see {self.log_path}")
            with contextlib.suppress(OSError):
                if request(self.port, "GET", "/healthz", timeout=2)[0] == 200:
                    return self
            time.sleep(0.2)
        raise HarnessError(f"gunicorn did not answer /healthz within 60 s; see {self.log_path}")

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.log_file.close()

    def _workers(self):
        master = self.process.pid
        return Path(f"/proc/{master}/task/{master}/children").read_text().split()

    def _cpu_ticks(self):
        ticks = 0
        for pid in self._workers():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])  # utime + stime
        return ticks

    def wait_idle(self, database, timeout=120):
        """Wait until the requests a finished wrk left in flight are done: workers quiet and no
        query of this database running, so one scenario's leftovers do not slow the next."""
        connection = _connect(database)
        name = urlsplit(database).path.lstrip("/")
        deadline = time.monotonic() + timeout
        ticks = self._cpu_ticks()
        with contextlib.closing(connection), connection.cursor() as cursor:
            while time.monotonic() < deadline:
                time.sleep(0.25)
                now = self._cpu_ticks()
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                    "AND state = 'active' AND pid <> pg_backend_pid()",
                    [name],
                )
                if now - ticks <= 3 and cursor.fetchone()[0] == 0:
                    return
                ticks = now
        log("the server did not go idle; measuring anyway")

    def workers_rss_mib(self):
        """Resident memory of each worker process, in MiB (from /proc)."""
        sizes = []
        for pid in self._workers():
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{pid}/status").read_text()
                sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status)[1]) / 1024)
        return sizes


# --- wrk ----------------------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str  # what is compared, e.g. "list"
    who: str  # roster, naive, raw or bare
    path: str
    method: str = "GET"
    body: dict | None = None
    authenticated: bool = True
    connections: int | None = None
    min_seconds: float = 0  # a login takes a large part of a second: short runs see none finish


@dataclass
class Measurement:
    """One scenario at one size: the median over the rounds of each wrk run's numbers."""

    scenario: Scenario
    size: int
    samples: list = field(default_factory=list)  # (req/s, p50 ms, p99 ms) per round
    errors: list = field(default_factory=list)
    notes: set = field(default_factory=set)
    seconds: float = 0  # longer than --duration for a scenario too slow to measure in it

    def _median(self, index):
        return statistics.median(sample[index] for sample in self.samples) if self.samples else 0

    @property
    def rps(self):
        return self._median(0)

    @property
    def p50(self):
        return self._median(1)

    @property
    def p99(self):
        return self._median(2)


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass
class WrkRun:
    rps: float
    p50: float  # milliseconds
    p99: float
    average: float
    count: int
    errors: list


def parse_wrk(output):
    """What one wrk run reports: req/s, latencies in ms, completed requests, errors."""

    def milliseconds(number, unit):
        return float(number) * _UNIT_MS[unit]

    def latency(percent):
        match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
        return milliseconds(*match.groups()) if match else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    count = re.search(r"(\d+) requests in", output)
    average = re.search(r"^\s*Latency\s+([\d.]+)(us|ms|s|m)\s", output, re.MULTILINE)
    errors = []
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if bad:
        errors.append(f"{bad[1]} error responses")
    sockets = re.search(r"Socket errors: (.*)", output)
    if sockets:
        errors.append(f"socket errors: {sockets[1].strip()}")
    if not rps or not count:
        raise HarnessError(f"unreadable wrk output:\n{output}")
    if int(count[1]) == 0:
        errors.append("no request completed within the run")
    return WrkRun(
        rps=float(rps[1]),
        p50=latency(50),
        p99=latency(99),
        average=milliseconds(*average.groups()) if average else float("nan"),
        count=int(count[1]),
        errors=errors,
    )


def wrk(port, scenario, token, *, seconds, connections, threads, script_dir):
    """One wrk run of `scenario`. When few requests finished, wrk's req/s (completed requests
    over the duration) misses the ones still in flight; Little's law (connections over mean
    latency) does not, so it replaces it then."""
    connections = scenario.connections or connections
    command = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds), scenario.min_seconds)}s",
        "--timeout",
        "30s",
        "--latency",
        "-H",
        "Accept: application/json",
    ]
    if scenario.authenticated:
        command += ["-H", f"Authorization: Bearer {token}"]
    if scenario.method != "GET":
        script = Path(script_dir) / "post.lua"
        script.write_text(
            f"wrk.method = {json.dumps(scenario.method)}\n"
            f"wrk.body = {json.dumps(json.dumps(scenario.body))}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        command += ["-s", str(script)]
    command.append(f"http://{HOST}:{port}{scenario.path}")
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + scenario.min_seconds + 120
    )
    if result.returncode != 0:
        raise HarnessError(f"wrk failed: {result.stderr}")
    run = parse_wrk(result.stdout)
    if 0 < run.count < MIN_REQUESTS:
        run.rps = connections * 1000 / run.average
    return run


# --- One size -----------------------------------------------------------------------------------


def deep_page(size):
    return max(2, size // 50 // 2)  # the middle of the table


def roster_deep_path(port, token, size):
    """Where a client paging deep into Roster lands: the `next` link of `?page=<deep>`, which
    Roster turns into a keyset cursor past its first pages (or `?page=` itself if it does not)."""
    path = f"{LIST}&page={deep_page(size) - 1}"
    status, body = request(port, "GET", path, token=token)
    if status != 200:
        raise HarnessError(f"{path} answered {status}: {body}")
    parts = urlsplit(body.get("next") or "")
    if "cursor=" in parts.query:
        return f"{parts.path}?{parts.query}", "cursor"
    return f"{LIST}&page={deep_page(size)}", "page"


def scenarios(size, probe, password, deep_path):
    term, detail = probe["search_term"], probe["detail_id"]
    deep = deep_page(size)
    login = {"email": STAFF_EMAIL, "password": password}
    return [
        Scenario("list", "roster", LIST),
        Scenario("list", "naive", f"{NAIVE}?page_size=50"),
        Scenario("list", "raw", RAW),
        Scenario("search", "roster", f"/api/v1/users/?search={term}"),
        Scenario("search", "naive", f"{NAIVE}?search={term}"),
        Scenario("deep page", "roster", deep_path),
        Scenario("deep page", "naive", f"{NAIVE}?page_size=50&page={deep}"),
        Scenario("detail", "roster", f"/api/v1/users/{detail}/"),
        Scenario("detail", "naive", f"{NAIVE}{detail}/"),
        Scenario("detail", "raw", f"{RAW}{detail}/"),
        Scenario("me", "roster", "/api/v1/users/me/"),
        Scenario("me", "raw", f"{RAW}me/"),
        Scenario("bare JSON", "bare", "/bench/bare/", authenticated=False),
        Scenario("login", "roster", TOKEN, "POST", login, authenticated=False, min_seconds=5),
        Scenario(
            "login, 1 connection",
            "roster",
            TOKEN,
            "POST",
            login,
            authenticated=False,
            connections=1,
            min_seconds=5,
        ),
    ]


def staff_args(password):
    return ["--email", STAFF_EMAIL, "--password", password]


def prepare(args, url, size, env, password):
    started = time.monotonic()
    reused = args.reuse and seeded_users(url) == size + 1
    if reused:
        log(f"{size:,} users: reusing database {urlsplit(url).path.lstrip('/')}")
    else:
        recreate_database(url)
    run_python(env, "manage.py", "migrate", "--noinput", what="migrate")
    if not reused:
        if not SEED_COMMAND.is_file():
            raise HarnessError("accounts/management/commands/seed_users.py is missing")
        seed = ["manage.py", "seed_users", "--count", str(size), "--batch-size", "5000"]
        run_python(env, *seed, what=f"seed_users --count {size}")
    run_python(env, "-m", "bench.tasks", "staff", *staff_args(password), what="staff account")
    table_size = vacuum_analyze(url)
    return {"reused": reused, "seconds": time.monotonic() - started, "table": table_size}


def measure_size(args, size, secret_key, stamp, script_dir):
    url = database_url(args.database_url, size)
    env = django_env(url, secret_key, args.cache_url)
    password = secrets.token_urlsafe(24)
    log(f"=== {size:,} users ===")
    setup = prepare(args, url, size, env, password)
    probe = run_python(
        env, "-m", "bench.tasks", "probe", "--staff-email", STAFF_EMAIL, what="probe"
    )
    load_before = os.getloadavg()[0]
    with Gunicorn(env, RESULTS / f"{stamp}-gunicorn-{size}.log") as server:
        login = {"email": STAFF_EMAIL, "password": password}
        status, body = request(server.port, "POST", TOKEN, body=login)
        if status != 200:
            raise HarnessError(f"staff login answered {status}: {body}")
        token = body["access"]
        deep_path, deep_kind = roster_deep_path(server.port, token, size)
        measurements = [
            Measurement(scenario, size) for scenario in scenarios(size, probe, password, deep_path)
        ]
        options = {
            "connections": args.connections,
            "threads": args.threads,
            "script_dir": script_dir,
        }
        for measurement in measurements:
            scenario = measurement.scenario
            status, body = request(
                server.port,
                scenario.method,
                scenario.path,
                token=token if scenario.authenticated else None,
                body=scenario.body,
            )
            if status != 200:
                measurement.errors.append(f"HTTP {status}: {str(body)[:200]}")
                log(f"{scenario.who} {scenario.name}: HTTP {status}, not measured")
        slow_seconds = min(60, max(20, 4 * args.duration))
        for round_number in range(1, args.rounds + 1):
            for measurement in measurements:
                scenario = measurement.scenario
                if measurement.errors and not measurement.samples:
                    continue
                if args.warmup and round_number == 1:
                    wrk(server.port, scenario, token, seconds=args.warmup, **options)
                    server.wait_idle(url)
                seconds = measurement.seconds or args.duration
                run = wrk(server.port, scenario, token, seconds=seconds, **options)
                server.wait_idle(url)
                if run.count < MIN_REQUESTS and seconds < slow_seconds:
                    log(f"{scenario.who} {scenario.name}: {run.count} requests, again for longer")
                    measurement.seconds = seconds = slow_seconds
                    run = wrk(server.port, scenario, token, seconds=seconds, **options)
                    server.wait_idle(url)
                if 0 < run.count < MIN_REQUESTS:
                    measurement.notes.add(f"req/s by Little's law ({run.count} requests)")
                measurement.samples.append((run.rps, run.p50, run.p99))
                measurement.errors += run.errors
                log(
                    f"round {round_number}: {scenario.who:>6} {scenario.name:<20} "
                    f"{run.rps:9.1f} req/s  p50 {run.p50:8.2f} ms  p99 {run.p99:8.2f} ms"
                    f"  ({run.count} requests in {seconds:g} s)"
                    + (f"  ({'; '.join(run.errors)})" if run.errors else "")
                )
        rss = server.workers_rss_mib()
    load = (load_before, os.getloadavg()[0])
    hashing = run_python(
        env, "-m", "bench.tasks", "hashing", *staff_args(password), what="Argon2 and login timing"
    )
    second_factor = run_python(
        env,
        "-m",
        "bench.tasks",
        "second-factor",
        *staff_args(password),
        what="second-factor login timing",
    )
    inspect_urls = {
        "list, page_size=1": "/api/v1/users/?page_size=1",
        "list, page_size=100": "/api/v1/users/?page_size=100",
        "search": f"/api/v1/users/?search={probe['search_term']}",
        "deep page": deep_path,
        "detail": f"/api/v1/users/{probe['detail_id']}/",
        "me": "/api/v1/users/me/",
    }
    inspected = run_python(
        env,
        "-m",
        "bench.tasks",
        "inspect",
        "--token",
        token,
        "--urls",
        json.dumps(inspect_urls),
        "--search-url",
        inspect_urls["search"],
        what="query counts and EXPLAIN",
    )
    if not args.keep:
        recreate_database(url, drop_only=True)
    return {
        "size": size,
        "setup": setup,
        "probe": probe,
        "deep": deep_kind,
        "measurements": measurements,
        "rss": rss,
        "load": load,
        "hashing": hashing,
        "second_factor": second_factor,
        "inspect": inspected,
    }


# --- Report -------------------------------------------------------------------------------------


def find(run, name, who):
    for measurement in run["measurements"]:
        if measurement.scenario.name == name and measurement.scenario.who == who:
            return measurement if measurement.rps and not measurement.errors else None
    return None


def ratio(run, name, other):
    roster, base = find(run, name, "roster"), find(run, name, other)
    return roster.rps / base.rps if roster and base else None


def fmt_ratio(value):
    return "" if value is None else f"{value:.3g}x"


def table_rows(runs):
    rows = []
    for run in runs:
        for measurement in run["measurements"]:
            scenario = measurement.scenario
            roster = scenario.who == "roster"
            measured = bool(measurement.rps)
            rows.append(
                [
                    f"{run['size']:,}",
                    scenario.name,
                    scenario.who,
                    f"{measurement.rps:,.1f}" if measured else "-",
                    f"{measurement.p50:.2f}" if measured else "-",
                    f"{measurement.p99:.2f}" if measured else "-",
                    fmt_ratio(ratio(run, scenario.name, "raw")) if roster else "",
                    fmt_ratio(ratio(run, scenario.name, "naive")) if roster else "",
                    "; ".join([*measurement.errors, *sorted(measurement.notes)]),
                ]
            )
    return rows


HEADER = ["users", "scenario", "server", "req/s", "p50 ms", "p99 ms", "/raw", "/naive", "notes"]


def checks(runs):
    """Issue 6's targets, one row per target and size: (target, users, measured, verdict)."""
    out = []

    def check(target, run, value, passed, shown, *, from_size=0):
        verdict = "n/a" if value is None else ("PASS" if passed(value) else "FAIL")
        if verdict == "FAIL" and run["size"] < from_size:
            verdict = "n/a"  # the naive baseline is only slow on a large table
        out.append([target, f"{run['size']:,}", "-" if value is None else shown(value), verdict])

    for run in runs:
        times = fmt_ratio
        check("list >= 0.5x raw", run, ratio(run, "list", "raw"), lambda v: v >= 0.5, times)
        naive_list, naive_search = ratio(run, "list", "naive"), ratio(run, "search", "naive")
        at_scale = {"from_size": NAIVE_CHECKED_FROM}
        check("list >= 20x naive", run, naive_list, lambda v: v >= 20, times, **at_scale)
        check("search >= 10x naive", run, naive_search, lambda v: v >= 10, times, **at_scale)
        inspected = run["inspect"]
        used, present = inspected["trigram_indexes_used"], inspected["trigram_indexes"]
        out.append(
            [
                "search plan uses a trigram GIN index",
                f"{run['size']:,}",
                ", ".join(used) or f"not used (trigram indexes: {', '.join(present) or 'none'})",
                "PASS" if used else ("FAIL" if run["size"] >= INDEX_CHECKED_FROM else "n/a"),
            ]
        )
        check("detail >= 0.65x raw", run, ratio(run, "detail", "raw"), lambda v: v >= 0.65, times)
        check("me >= 0.65x raw", run, ratio(run, "me", "raw"), lambda v: v >= 0.65, times)
        first, deep = find(run, "list", "roster"), find(run, "deep page", "roster")
        check(
            "deep page within 1.5x of the first",
            run,
            first.rps / deep.rps if first and deep else None,
            lambda v: v <= 1.5,
            lambda v: f"first/deep = {v:.2f}",
        )
        counts = {name: found["queries"] for name, found in inspected["queries"].items()}
        check(
            "list queries do not grow with page_size",
            run,
            counts,
            lambda v: v["list, page_size=1"] == v["list, page_size=100"],
            lambda v: ", ".join(f"{name}: {count}" for name, count in v.items()),
        )
    if len(runs) > 1:
        small, large = runs[0], runs[-1]
        small_list, large_list = find(small, "list", "roster"), find(large, "list", "roster")
        value = small_list.rps / large_list.rps if small_list and large_list else None
        out.append(
            [
                "list at the largest size within 1.3x of the smallest",
                f"{small['size']:,} vs {large['size']:,}",
                "-" if value is None else f"{value:.2f}",
                "n/a" if value is None else ("PASS" if value <= 1.3 else "FAIL"),
            ]
        )
    return out


def notes(runs):
    lines = [f"Password hashing: {runs[0]['hashing']['hasher']}."]
    for run in runs:
        login, hashing = find(run, "login, 1 connection", "roster"), run["hashing"]
        lines.append(
            f"{run['size']:,} users: one Argon2 hash {hashing['make_ms']:.0f} ms, one check "
            f"{hashing['check_ms']:.0f} ms, one whole login {hashing['login_ms']:.0f} ms (medians, "
            f"interleaved in one process): the endpoint adds "
            f"{hashing['login_ms'] - hashing['check_ms']:.0f} ms to the password check"
            + (f"; over HTTP, one connection: p50 {login.p50:.0f} ms." if login else ".")
        )
    for run in runs:
        extra, hashing = run["second_factor"], run["hashing"]
        lines.append(
            f"{run['size']:,} users, second factors (medians): the password step of an account "
            f"with TOTP {extra['password_step_ms']:.0f} ms (a login without one: "
            f"{hashing['login_ms']:.0f} ms), then auth/mfa/verify/ with a TOTP code "
            f"{extra['totp_verify_ms']:.1f} ms; a passwordless passkey login (options + "
            f"assertion) {extra['passkey_login_ms']:.1f} ms."
        )
    for run in runs:
        setup, probe, rss = run["setup"], run["probe"], run["rss"]
        lines.append(
            f"{run['size']:,} users: table {setup['table']}; setup "
            f"{'reused' if setup['reused'] else 'created and seeded'} in {setup['seconds']:.0f} s; "
            f"search term {probe['search_term']!r} matches {probe['search_matches']} users; "
            f"worker RSS after the runs: " + ", ".join(f"{value:.0f} MiB" for value in rss)
        )
    return lines


def text_table(header, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    line = "  ".join("{:<%d}" % width for width in widths)  # noqa: UP031
    return "\n".join(line.format(*row).rstrip() for row in [header, *rows])


def markdown_table(header, rows):
    def cells(row):
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |"

    return "\n".join([cells(header), cells(["---"] * len(header)), *map(cells, rows)])


def machine(url):
    workers = "deploy/gunicorn.conf.py" if GUNICORN_CONF.is_file() else "gunicorn -w 2"
    connection = _connect(url, dbname="postgres")
    with contextlib.closing(connection), connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return f"{os.cpu_count()} cores, PostgreSQL {version}, {workers}, wrk on the same machine"


def report(args, runs, stamp):
    rows, target_rows = table_rows(runs), checks(runs)
    check_header = ["target", "users", "measured", "verdict"]
    header_line = (
        f"Roster benchmark {stamp}: {machine(args.database_url)}; wrk -t{args.threads} "
        f"-c{args.connections} -d{args.duration:g}s per row, after a {args.warmup:g}s warm-up."
    )
    print()
    print(header_line)
    print(text_table(HEADER, rows))
    print()
    print(text_table(check_header, target_rows))
    print()
    for line in notes(runs):
        print(line)
    markdown = [
        f"# {header_line}",
        "",
        markdown_table(HEADER, rows),
        "",
        markdown_table(check_header, target_rows),
        "",
        *(f"- {line}" for line in notes(runs)),
        "",
    ]
    for run in runs:
        for plan in run["inspect"]["search_plans"]:
            markdown += [
                f"Search plan at {run['size']:,} users:",
                "",
                "```",
                plan["sql"],
                "",
                plan["plan"],
                "```",
                "",
            ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{stamp}.md"
    path.write_text("\n".join(markdown))
    print(f"\nMarkdown: {path.relative_to(REPO)}")
    return target_rows


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    if args.signing:
        sys.path.insert(0, str(REPO))
        from bench import signing

        return signing.main()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(parents=True, exist_ok=True)
    secret_key = secrets.token_urlsafe(64)
    cache = redis.Redis.from_url(args.cache_url)
    cache.flushdb()
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory() as script_dir:
            runs = [measure_size(args, size, secret_key, stamp, script_dir) for size in args.sizes]
        target_rows = report(args, runs, stamp)
    except HarnessError as error:
        log(f"benchmark failed: {error}")
        return 1
    finally:
        cache.flushdb()
    log(f"total {time.monotonic() - started:.0f} s")
    failed_steps = [m for run in runs for m in run["measurements"] if m.errors or not m.rps]
    if failed_steps:
        log(f"{len(failed_steps)} scenario(s) did not measure cleanly: see the errors column")
        return 1
    if args.strict and any(row[-1] == "FAIL" for row in target_rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
