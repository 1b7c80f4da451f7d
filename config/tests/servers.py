"""Real servers for the live tests: a private PostgreSQL and Redis, gunicorn app servers, nginx.

Everything runs on 127.0.0.1 on free ports, in one temporary folder, and is stopped at the end.
The PostgreSQL and Redis here are private to the test run, so a test may stop and start them
without touching the shared ones on 5432 and 6379. The app servers are started exactly as
deploy/RUNBOOK.md says: `gunicorn -c deploy/gunicorn.conf.py config.wsgi` with DEBUG=False.
"""

import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pytest
import redis

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
NGINX = "/usr/sbin/nginx"
HOST = "127.0.0.1"

live = [
    pytest.mark.live,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="live tests run once, in the PostgreSQL pass (DATABASE_URL=postgres://...); "
        "they start their own PostgreSQL, Redis, gunicorn and nginx",
    ),
]


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_until(check, *, timeout, what):
    """Poll `check()` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            result = check()
            if result:
                return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)


def _stop_process(process, sig=signal.SIGTERM, timeout=30):
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


# --- HTTP ---------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes
    seconds: float

    def json(self):
        return json.loads(self.body)


def call(port, method, path, body=None, *, token=None, headers=None, source=None, timeout=15):
    """One HTTP request on a fresh connection to 127.0.0.1:`port`, from `source` when given."""
    head = {"Accept": "application/json", **(headers or {})}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        head["Content-Type"] = "application/json"
    if token:
        head["Authorization"] = f"Bearer {token}"
    connection = http.client.HTTPConnection(
        HOST, port, timeout=timeout, source_address=(source, 0) if source else None
    )
    started = time.monotonic()
    try:
        connection.request(method, path, body=payload, headers=head)
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    headers = {name.lower(): value for name, value in response.getheaders()}
    return Reply(response.status, headers, data, time.monotonic() - started)


PASSWORD = "a-Long-enough-passw0rd"


def register_and_login(port):
    """A new user, registered and logged in through the server on `port`: (email, tokens)."""
    email = f"live-{secrets.token_hex(6)}@example.com"
    credentials = {"email": email, "password": PASSWORD}
    assert call(port, "POST", "/api/v1/auth/register/", credentials).status == 201
    reply = call(port, "POST", "/api/v1/auth/token/", credentials)
    assert reply.status == 200
    return email, reply.json()


# --- PostgreSQL and Redis -----------------------------------------------------------------------


def _postgres_bin():
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        pytest.fail("PostgreSQL server binaries not found under /usr/lib/postgresql")
    return found[-1].parent


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (trust auth, no fsync) that tests may stop and start."""

    def __init__(self, root):
        self.bin = _postgres_bin()
        self.dir = root / "postgres"
        self.port = free_port()
        self.log = root / "postgres.log"
        self.dir.mkdir()
        self._as_owner = []
        if os.geteuid() == 0:  # initdb refuses to run as root: the cluster belongs to postgres
            shutil.chown(self.dir, "postgres")
            self.log.touch()
            shutil.chown(self.log, "postgres")
            self._as_owner = ["runuser", "-u", "postgres", "--"]
        self._pg("initdb", "-D", self.dir, "-A", "trust", "-U", "postgres", "--no-sync")

    def _pg(self, program, *args):
        command = [*self._as_owner, self.bin / program, *args]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self):
        options = f"-p {self.port} -k {self.dir} -c listen_addresses={HOST} -c fsync=off"
        self._pg("pg_ctl", "-D", self.dir, "-o", options, "-l", self.log, "-w", "start")

    def stop(self):
        self._pg("pg_ctl", "-D", self.dir, "-m", "fast", "-w", "stop")

    def is_running(self):
        status = subprocess.run(
            [*self._as_owner, self.bin / "pg_ctl", "-D", self.dir, "status"],
            capture_output=True,
            check=False,
        )
        return status.returncode == 0

    def url(self, database):
        return f"postgres://postgres@{HOST}:{self.port}/{database}"

    @contextlib.contextmanager
    def connect(self, database="postgres"):
        connection = psycopg2.connect(host=HOST, port=self.port, user="postgres", dbname=database)
        connection.autocommit = True
        try:
            yield connection
        finally:
            connection.close()

    def query(self, database, sql, params=()):
        with self.connect(database) as connection, connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else cursor.rowcount

    def create_database(self, name, template="template1"):
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


class PrivateRedis:
    """A redis-server that keeps nothing on disk, on its own port."""

    def __init__(self, root):
        self.port = free_port()
        self.dir = root
        self.log = root / "redis.log"
        self.process = None

    def start(self):
        command = ["redis-server", "--port", str(self.port), "--bind", HOST, "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.dir)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(
            lambda: redis.Redis(host=HOST, port=self.port).ping(), timeout=10, what="redis ping"
        )

    def stop(self):
        _stop_process(self.process)

    def url(self, db):
        return f"redis://{HOST}:{self.port}/{db}"


# --- Roster's app servers and nginx -------------------------------------------------------------


def roster_environment(*, database_url, cache_url, email_dir, secret_key, **extra):
    """The environment of a production app server, less TLS (the tests speak plain http)."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "DEBUG": "False",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": f"{HOST},localhost",
        "SECURE_SSL_REDIRECT": "False",
        "SESSION_COOKIE_SECURE": "False",
        "CSRF_COOKIE_SECURE": "False",
        "DATABASE_URL": database_url,
        "CACHE_URL": cache_url,
        "EMAIL_URL": f"filemail://{email_dir}",
        "SITE_URL": "http://localhost",
        "LOG_LEVEL": "INFO",
        **extra,
    }


class AppServer:
    """One gunicorn (the arbiter and its workers) serving Roster with deploy/gunicorn.conf.py."""

    def __init__(self, root, name, environment):
        self.name = name
        self.port = free_port()
        self.log = root / f"{name}.log"
        self.environment = {**environment, "GUNICORN_BIND": f"{HOST}:{self.port}"}
        self.process = None

    def start(self):
        command = [sys.executable, "-m", "gunicorn", "-c", DEPLOY / "gunicorn.conf.py"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "config.wsgi"],
                cwd=REPO,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(self._serves, timeout=30, what=f"{self.name} serving /healthz")
        except TimeoutError:
            self.stop()
            pytest.fail(f"{self.name} did not start:\n{self.log_text()[-3000:]}")

    def _serves(self):
        if self.process.poll() is not None:
            raise TimeoutError  # exited: stop waiting at once
        return call(self.port, "GET", "/healthz", timeout=2).status == 200

    def stop(self):
        if self.process is not None:
            _stop_process(self.process)

    def worker_pids(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def log_text(self):
        return self.log.read_text(errors="replace")

    def manage(self, *arguments):
        """Run `manage.py` with this server's environment, as an operator on its host would."""
        command = [sys.executable, "manage.py", *arguments]
        return subprocess.run(
            command, cwd=REPO, env=self.environment, capture_output=True, text=True, timeout=120
        )


def worker_rss_kib(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)[1])


class Nginx:
    """Debian's nginx in the foreground, on deploy/nginx/roster.conf.template rendered for us."""

    def __init__(self, root, app_servers):
        self.dir = root / "nginx"
        self.dir.mkdir()
        self.port = free_port()
        site = (DEPLOY / "nginx" / "roster.conf.template").read_text()
        upstreams = " ".join(f"server {HOST}:{server.port};" for server in app_servers)
        for name, value in {
            "ROSTER_LISTEN": f"{HOST}:{self.port}",
            "ROSTER_SERVER_NAME": "localhost",
            "ROSTER_APP_SERVERS": upstreams,
            "ROSTER_ACCESS_LOG": str(self.dir / "access.log"),
        }.items():
            site = site.replace("${" + name + "}", value)
        (self.dir / "roster.conf").write_text(site)
        temp_paths = "\n".join(
            f"    {kind}_temp_path {self.dir}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (self.dir / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {self.dir}/nginx.pid;\n"
            f"error_log {self.dir}/error.log warn;\n"
            "events { worker_connections 1024; }\n"
            f"http {{\n{temp_paths}\n"
            f"    include {self.dir}/roster.conf;\n}}\n"
        )
        self.process = None

    def start(self):
        command = [
            NGINX,
            "-e",
            self.dir / "error.log",
            "-p",
            self.dir,
            "-c",
            self.dir / "nginx.conf",
        ]
        self.process = subprocess.Popen(command, stderr=subprocess.PIPE)
        wait_until(
            lambda: call(self.port, "GET", "/healthz", timeout=2).status == 200,
            timeout=15,
            what="nginx proxying /healthz",
        )

    def stop(self):
        if self.process is not None:
            _stop_process(self.process, signal.SIGQUIT)


# --- A whole deployment -------------------------------------------------------------------------


@dataclass
class Deployment:
    """N app servers sharing one database and one Redis database, optionally behind nginx."""

    postgres: PrivatePostgres
    redis: PrivateRedis
    database: str
    email_dir: Path
    app_servers: list = field(default_factory=list)
    nginx: Nginx | None = None

    def query(self, sql, params=()):
        return self.postgres.query(self.database, sql, params)

    def run_tasks(self):
        """Run every due task (emails) with the production worker, as a drained queue would."""
        done = self.app_servers[0].manage(
            "db_worker", "--batch", "--no-startup-delay", "--no-reload"
        )
        done.check_returncode()

    def emails_to(self, address):
        """The bodies of every email written to `address` so far."""
        return [
            text
            for path in sorted(self.email_dir.glob("*.log"))
            for text in path.read_text().split("-" * 79)
            if f"To: {address}" in text
        ]


class LiveServers:
    """The session's private PostgreSQL and Redis, and a factory of deployments on them."""

    TEMPLATE = "roster_migrated"

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="roster-live-"))
        self.root.chmod(0o755)
        self.secret_key = secrets.token_urlsafe(64)
        self.postgres = PrivatePostgres(self.root)
        self.redis = PrivateRedis(self.root)
        self._redis_databases = iter(range(16))

    def start(self):
        self.postgres.start()
        self.redis.start()
        self.postgres.create_database(self.TEMPLATE)
        migrate = AppServer(self.root, "migrate", self.environment(self.TEMPLATE, 0))
        migrate.manage("migrate", "--noinput").check_returncode()

    def stop(self):
        with contextlib.suppress(Exception):
            self.redis.stop()
        with contextlib.suppress(Exception):
            if self.postgres.is_running():
                self.postgres.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def environment(self, database, redis_db, email_dir=None, **extra):
        return roster_environment(
            database_url=self.postgres.url(database),
            cache_url=self.redis.url(redis_db),
            email_dir=email_dir or self.root,
            secret_key=self.secret_key,
            **extra,
        )

    @contextlib.contextmanager
    def deployment(self, name, *, app_servers=2, nginx=False, **extra):
        """A fresh migrated database and Redis database, `app_servers` gunicorns, maybe nginx."""
        self.postgres.create_database(name, template=self.TEMPLATE)
        email_dir = self.root / f"mail-{name}"
        email_dir.mkdir()
        environment = self.environment(name, next(self._redis_databases), email_dir, **extra)
        deployment = Deployment(self.postgres, self.redis, name, email_dir)
        try:
            for number in range(app_servers):
                server = AppServer(self.root, f"{name}-app{number + 1}", environment)
                deployment.app_servers.append(server)
                server.start()
            if nginx:
                deployment.nginx = Nginx(self.root, deployment.app_servers)
                deployment.nginx.start()
            yield deployment
        finally:
            if deployment.nginx:
                deployment.nginx.stop()
            for server in deployment.app_servers:
                server.stop()
