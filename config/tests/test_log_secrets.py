"""Log lines as production writes them (the console handler's filter and JSON formatter) never hold
an emailed link's token: a log reader could use a reset link the user has not used yet."""

import io
import logging
import runpy
from pathlib import Path

import pytest
from django.test import Client

from accounts.links import email_verification_tokens, encode_uid, password_reset_tokens
from accounts.tests.factories import UserFactory
from config.tests.servers import Nginx, call, free_port, live

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def console():
    """What the settings' console handler writes, as text."""
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    stream = io.StringIO()
    old = handler.setStream(stream)
    yield stream
    handler.setStream(old)


def test_a_rejected_new_password_on_a_reset_link_does_not_log_the_token(console):
    user = UserFactory()
    token = password_reset_tokens.make_token(user)
    url = f"/accounts/password/reset/{encode_uid(user)}/{token}/"

    # Too short: the form answers 400, which Django logs ("Bad Request: <path>"), the link still
    # valid: whoever reads the log could set the password.
    response = Client().post(url, {"new_password1": "short", "new_password2": "short"})

    assert response.status_code == 400
    assert password_reset_tokens.check_token(user, token)
    written = console.getvalue()
    assert "Bad Request" in written
    assert token not in written


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/password/reset/{uid}/{token}/",
        "/accounts/email/verify/{uid}/{token}/",
        "/accounts/email/change/confirm/{token}/",
        "/accounts/email/change/revert/{token}/",
    ],
)
def test_any_link_path_in_any_log_line_is_written_without_its_token(console, path):
    user = UserFactory(email_verified=False)
    token = email_verification_tokens.make_token(user)
    logged = path.format(uid=encode_uid(user), token=token)

    logging.getLogger("django.request").warning("Bad Request: %s", logged)
    logging.getLogger("roster.test").warning("seen %s", logged)

    written = console.getvalue()
    assert written.count("seen") == 1
    assert token not in written


def test_gunicorn_access_log_line_has_no_link_token():
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    cfg = Config()
    logger = conf["logger_class"](cfg)
    token = "dj3ykg-1534f0753fd6696350d83d033c1f9920"
    path = f"/accounts/password/reset/NjJiZjU1/{token}/"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.0",
        "HTTP_REFERER": f"https://roster.example.com{path}",
    }
    resp = SimpleNamespace(status="200 OK", sent=10, headers=[])
    headers = [("X-FORWARDED-FOR", "203.0.113.9"), ("REFERER", environ["HTTP_REFERER"])]

    atoms = logger.atoms_wrapper_class(logger.atoms(resp, headers, environ, timedelta(0)))
    line = conf["access_log_format"] % atoms

    assert "GET /accounts/password/reset/NjJiZjU1/[redacted]/ HTTP/1.0" in line
    assert "203.0.113.9" in line
    assert not any(token in str(value) for value in atoms.values())


@live[0]
@live[1]  # the PostgreSQL pass, like every test starting nginx
def test_nginx_access_log_line_has_no_link_token(tmp_path):
    """The shipped nginx site, in front of a stub app server: its access log line for a reset link
    (and for a stylesheet that page loads, whose Referer is the link) holds no token."""
    import http.server
    import threading

    class Stub(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    stub = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Stub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    nginx = Nginx(tmp_path, [type("App", (), {"port": stub.server_address[1]})])
    token = "dj3ykg-1534f0753fd6696350d83d033c1f9920"
    link = f"/accounts/password/reset/NjJiZjU1/{token}/"
    try:
        nginx.start()
        assert call(nginx.port, "GET", link).status == 200
        referer = f"http://localhost{link}"
        assert call(nginx.port, "GET", "/static/x.css", headers={"Referer": referer}).status == 200
    finally:
        nginx.stop()
        stub.shutdown()

    written = (tmp_path / "nginx" / "access.log").read_text()
    assert '"GET /accounts/password/reset/NjJiZjU1/[redacted]/ HTTP/1.1" 200' in written
    assert '"http://localhost/accounts/password/reset/NjJiZjU1/[redacted]/"' in written
    assert token not in written
